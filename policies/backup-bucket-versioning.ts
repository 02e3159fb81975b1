import type { StackValidationPolicy } from "@pulumi/policy";
import { obj, str } from "./lib/common";
import { AZ_ACCOUNT, AZ_BLOB_SERVICE, GCS_BUCKET, S3_VERSIONING, azureSide, s3Buckets, s3Side } from "./lib/backup";

/**
 * Seed §6: snapshots go to versioned storage, so an overwrite never loses the previous snapshot.
 *
 * One-field changes that would undo the same protection, each covered here: S3 versioning
 * `Suspended` (or any status but `Enabled`) or its resource removed; GCS versioning off without a
 * retention policy; Azure `isVersioningEnabled` false or removed.
 */
export const backupBucketVersioning: StackValidationPolicy = {
    name: "backup-bucket-versioning",
    description:
        "Every backup bucket keeps versions: S3 versioning Enabled, GCS versioning enabled (or a retention policy, which GCS does not allow beside versioning), Azure blob versioning on.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["backup", "seed-6"],
    remediationSteps:
        'AWS: a BucketVersioning with versioningConfiguration.status "Enabled". GCP: versioning: { enabled: true }, or a retentionPolicy (GCS refuses both together). Azure: BlobServiceProperties isVersioningEnabled: true.',
    validateStack: (args, report) => {
        for (const b of s3Buckets(args)) {
            const inline =
                str(obj(b.props.versioning)?.enabled) === "true" || obj(b.props.versioning)?.enabled === true;
            const side = s3Side(args, b, S3_VERSIONING).some(
                (v) => str(obj(v.props.versioningConfiguration)?.status) === "Enabled",
            );
            if (!inline && !side)
                report(
                    `S3 bucket ${b.name} has no versioning; declare a BucketVersioning with status "Enabled".`,
                    b.urn,
                );
        }
        // GCS refuses object versioning on a bucket with a retention policy; the policy itself then
        // forbids delete and replace for the retention period, which is what versions protect here.
        for (const b of args.resources.filter((r) => r.type === GCS_BUCKET)) {
            const retention = Number(obj(b.props.retentionPolicy)?.retentionPeriod ?? 0);
            if (obj(b.props.versioning)?.enabled !== true && !(retention > 0))
                report(
                    `GCS bucket ${b.name} has neither versioning nor a retention policy; set versioning: { enabled: true } or a retentionPolicy.`,
                    b.urn,
                );
        }
        for (const a of args.resources.filter((r) => r.type === AZ_ACCOUNT)) {
            const on = azureSide(args, a, [AZ_BLOB_SERVICE]).some((s) => s.props.isVersioningEnabled === true);
            if (!on)
                report(
                    `Storage account ${a.name} has no blob versioning; declare BlobServiceProperties with isVersioningEnabled: true.`,
                    a.urn,
                );
        }
    },
};
