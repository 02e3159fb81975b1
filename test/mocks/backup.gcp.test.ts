/**
 * BackupBucket on gcp under Pulumi mocks.
 * Proves: the exact bucket security inputs (Bucket Lock retention locked on COMPLIANCE, uniform
 * access, public access prevention, lifecycle, no versioning since GCS refuses it beside a retention
 * policy) and that the writer holds exactly create + list roles on this bucket, no delete.
 * Does not prove: that GCP accepts the inputs (a real project does).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { setupMocks, settle, valueOf, type MockRun } from "../helpers/mocks";
import { loadConfig } from "../../components/config";
import { planPlatform } from "../../components/plan";

const raw = {
    "bonito-vault:cloud": "gcp",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    // The bucket alone: no entry point (staging would otherwise need a load balancer's keys).
    "bonito-vault:entryPoint": "none",
    "bonito-vault:gcpProject": "bonito-prod-1",
    "bonito-vault:backupGcpLocation": "EU",
    "bonito-vault:backupBucketName": "bonito-snaps",
    "bonito-vault:backupLockMode": "COMPLIANCE",
    "bonito-vault:backupRetentionDays": "30",
};
let run: MockRun;
let keySecret: boolean;
let files: string[];
let target: unknown;

before(async () => {
    run = setupMocks("staging", raw);
    const { BackupBucket } = await import("../../components/backup/backupBucket");
    const bucket = new BackupBucket("backup", {
        ...planPlatform(loadConfig("staging", raw)).backup,
        target: undefined,
    });
    await settle(bucket);
    const upload = bucket.delivery.upload!;
    keySecret = await pulumi.isSecret(upload.files[0].content);
    files = upload.files.map((f) => f.path);
    target = await valueOf(upload.target);
});

describe("gcp backup bucket", () => {
    it("bucket: locked 30-day retention, uniform access, public access prevented, lifecycle", () => {
        const [b] = run.ofType("gcp:storage/bucket:Bucket");
        assert.deepStrictEqual(b.inputs, {
            name: "bonito-snaps",
            project: "bonito-prod-1",
            location: "EU",
            storageClass: "STANDARD",
            uniformBucketLevelAccess: true,
            publicAccessPrevention: "enforced",
            versioning: { enabled: false },
            retentionPolicy: { retentionPeriod: "2592000", isLocked: true },
            softDeletePolicy: { retentionDurationSeconds: 604800 },
            lifecycleRules: [{ action: { type: "Delete" }, condition: { age: 31 } }],
            forceDestroy: false,
        });
    });

    it("writer: objectCreator + legacyBucketReader on this bucket only; no delete role", () => {
        const members = run.ofType("gcp:storage/bucketIAMMember:BucketIAMMember").map((m) => m.inputs);
        assert.deepStrictEqual(members, [
            {
                bucket: "bonito-snaps",
                role: "roles/storage.objectCreator",
                member: "serviceAccount:bonito-vault-staging-backup@mock-project.iam.gserviceaccount.com",
            },
            {
                bucket: "bonito-snaps",
                role: "roles/storage.legacyBucketReader",
                member: "serviceAccount:bonito-vault-staging-backup@mock-project.iam.gserviceaccount.com",
            },
        ]);
        for (const m of members)
            assert.ok(!/admin|owner|objectUser|legacyBucketWriter|legacyBucketOwner/i.test(m.role as string));
        assert.equal(run.ofType("gcp:projects/iAMMember:IAMMember").length, 0, "no project-wide grant");
    });

    it("service account and its key; key content is secret and reaches the uploader as a file", () => {
        assert.deepStrictEqual(run.ofType("gcp:serviceaccount/account:Account")[0].inputs, {
            project: "bonito-prod-1",
            accountId: "bonito-vault-staging-backup",
            displayName: "bonito-vault staging snapshot writer (create and list only)",
        });
        assert.equal(keySecret, true);
        assert.deepStrictEqual(files, ["/etc/rclone/secrets/gcp-credentials.json"]);
        assert.deepStrictEqual(target, { kind: "gcp", bucket: "bonito-snaps" });
    });

    it("prod and staging in one project get different writer service accounts, each a valid id", async () => {
        const { writerAccountId } = await import("../../components/backup/gcp");
        const VALID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
        for (const cluster of ["bonito-vault", "a-cluster-name-long-enough-to-be-cut"]) {
            const ids = ["prod", "staging", "staging-eu-west"].map((stack) => writerAccountId(cluster, stack));
            for (const id of ids) assert.match(id, VALID);
            assert.equal(new Set(ids).size, ids.length, ids.join(", "));
        }
        assert.equal(writerAccountId("bonito-vault", "prod"), "bonito-vault-prod-backup");
    });
});
