/**
 * gcp: a Cloud Storage bucket under Bucket Lock (a retention policy, locked with COMPLIANCE),
 * uniform bucket-level access, public access prevention enforced and lifecycle deletion once
 * retention has passed. The writer is a service account that can create and list objects on this
 * bucket only.
 *
 * No Object Versioning: Cloud Storage refuses versioning on a bucket with a retention policy
 * ("Object versioning cannot be enabled on a bucket with a retention policy"). The retention
 * policy is the stronger guarantee: an object can be neither deleted nor replaced before its age
 * exceeds the period, by anyone; soft delete keeps deleted objects 7 more days.
 */
import { baseName } from "../naming";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as storage from "@pulumi/gcp/storage";
import { UPLOADER_SECRET_FILES, type UploadTarget } from "./uploaderConfig";
import { GCP_WRITER_ROLES } from "./iam";
import type { BackupDelivery, StoreArgs } from "./types";

/**
 * A service-account id (6-30 characters of a-z, 0-9, -; starts with a letter) derived from the
 * cluster and stack names: service-account ids are unique per project, and prod and staging may
 * share one. When `<clusterName>-<stack>` is too long it is cut and a short hash of both keeps it
 * distinct per stack.
 */
export function writerAccountId(clusterName: string, stack: string, suffix = "-backup"): string {
    const room = 30 - suffix.length;
    let head = baseName(clusterName, stack)
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .replace(/^[^a-z]+/, "");
    if (head.length > room) {
        const hash = createHash("sha256").update(`${clusterName}/${stack}`).digest("hex").slice(0, 6);
        head = `${head.slice(0, room - hash.length - 1).replace(/-+$/, "")}-${hash}`;
    }
    return `${head || "vault"}${suffix}`;
}

export function createGcpBackup(name: string, parent: pulumi.Resource, args: StoreArgs<"gcp">): BackupDelivery {
    const loc = args.location;
    const b = args.store;
    const { project, location } = loc;
    const child = { parent };
    const locked = b.lockMode === "COMPLIANCE";

    const bucket = new storage.Bucket(
        `${name}-bucket`,
        {
            name: b.bucketName,
            project,
            location,
            storageClass: "STANDARD",
            uniformBucketLevelAccess: true,
            publicAccessPrevention: "enforced",
            versioning: { enabled: false },
            // A locked policy can never be shortened or removed, and the bucket cannot be deleted
            // until every object has aged past it.
            retentionPolicy: { retentionPeriod: String(b.retentionDays * 86400), isLocked: locked },
            softDeletePolicy: { retentionDurationSeconds: 7 * 86400 },
            lifecycleRules: [{ action: { type: "Delete" }, condition: { age: b.retentionDays + 1 } }],
            forceDestroy: false,
        },
        { parent, protect: true, retainOnDelete: true },
    );

    const writer = new serviceaccount.Account(
        `${name}-writer`,
        {
            project,
            accountId: writerAccountId(args.owner.clusterName, args.owner.stack, b.accountSuffix),
            displayName: `${args.owner.clusterName} ${args.owner.stack} ${b.writerLabel} (create and list only)`,
        },
        child,
    );
    for (const role of GCP_WRITER_ROLES) {
        new storage.BucketIAMMember(
            `${name}-writer-${role.split(".").pop()!.toLowerCase()}`,
            { bucket: bucket.name, role, member: writer.member },
            child,
        );
    }
    const key = new serviceaccount.Key(`${name}-writer-key`, { serviceAccountId: writer.name }, child);

    const target: pulumi.Output<UploadTarget> = bucket.name.apply((n) => ({
        kind: "gcp" as const,
        bucket: n,
    }));
    return {
        bucketName: bucket.name,
        url: pulumi.interpolate`gs://${bucket.name}`,
        writerIdentity: writer.email,
        upload: {
            target,
            files: [
                {
                    path: UPLOADER_SECRET_FILES.gcpCredentials,
                    content: pulumi.secret(key.privateKey.apply((k) => Buffer.from(k, "base64").toString("utf8"))),
                },
            ],
        },
        volumes: [],
        pendingSteps: pulumi.output([]),
    };
}
