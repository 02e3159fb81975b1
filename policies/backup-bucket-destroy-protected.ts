import type { ResourceValidationPolicy } from "@pulumi/policy";
import { obj, truthy } from "./lib/common";
import { AZ_ACCOUNT, AZ_BLOB_SERVICE, AZ_CONTAINER, AZ_IMMUTABILITY, GCS_BUCKET, S3_BUCKETS } from "./lib/backup";

const SEVEN_DAYS = 7 * 86400;
const PROTECTED = [...S3_BUCKETS, GCS_BUCKET, AZ_ACCOUNT, AZ_CONTAINER, AZ_IMMUTABILITY];

/**
 * The backups must outlive the stack: no `pulumi destroy` (or a replacement after a renamed
 * property) may empty or delete the bucket, and the cloud's soft delete stays on as a last net.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `forceDestroy: true` (or `"true"`) on an S3 or GCS bucket: destroy empties it first;
 * - `protect` removed from the bucket, the Azure storage account, blob container or its
 *   immutability policy (an unlocked policy is deleted with it);
 * - GCS `softDeletePolicy.retentionDurationSeconds` set to 0 (off) or below 7 days;
 * - Azure `deleteRetentionPolicy` / `containerDeleteRetentionPolicy` disabled or removed, or kept
 *   for fewer than 7 days.
 */
export const backupBucketDestroyProtected: ResourceValidationPolicy = {
    name: "backup-bucket-destroy-protected",
    description:
        "Backup buckets, storage accounts, containers and immutability policies are declared with protect; S3 and GCS buckets do not set forceDestroy; GCS soft delete and Azure blob and container soft delete stay on for at least 7 days.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["backup", "durability", "seed-6"],
    remediationSteps:
        "Declare the bucket (account, container, immutability policy) with `{ protect: true, retainOnDelete: true }` and `forceDestroy: false`; keep GCS softDeletePolicy and Azure deleteRetentionPolicy/containerDeleteRetentionPolicy enabled for at least 7 days.",
    validateResource: (args, report) => {
        const p = args.props;
        if (PROTECTED.includes(args.type) && !args.opts.protect)
            report(
                "This backup resource is not protected, so pulumi destroy deletes it; declare it with protect: true.",
            );
        if ([...S3_BUCKETS, GCS_BUCKET].includes(args.type) && truthy(p.forceDestroy))
            report("The bucket sets forceDestroy, so pulumi destroy empties it first; set forceDestroy: false.");
        if (args.type === GCS_BUCKET) {
            const soft = obj(p.softDeletePolicy)?.retentionDurationSeconds;
            if (soft !== undefined && Number(soft) < SEVEN_DAYS)
                report(
                    `The bucket keeps deleted objects for ${String(soft)}s; set softDeletePolicy.retentionDurationSeconds to at least ${SEVEN_DAYS}.`,
                );
        }
        if (args.type === AZ_BLOB_SERVICE)
            for (const key of ["deleteRetentionPolicy", "containerDeleteRetentionPolicy"]) {
                const r = obj(p[key]);
                if (r?.enabled !== true || Number(r.days ?? 0) < 7)
                    report(
                        `Blob soft delete ${key} is off or shorter than 7 days; set { enabled: true, days: 7 } or more.`,
                    );
            }
    },
};
