import type { StackValidationPolicy } from "@pulumi/policy";
import { arr, explicitlyFalse, obj, str } from "./lib/common";
import { AZ_ACCOUNT, GCS_BUCKET, s3Buckets, s3Side } from "./lib/backup";
import { AWS_KMS_KEY, keyIds } from "./lib/kms";

export const S3_SSE = [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];
const AZURE_KEY_SOURCES = ["Microsoft.Storage", "Microsoft.Keyvault"];

/**
 * Snapshots at rest are encrypted with the stack's own KMS key, so reading them needs a grant on
 * that key as well as on the bucket (and the key's deletion guards bound how long they live).
 *
 * One-field changes that would undo the same protection, each covered here:
 * - S3 `sseAlgorithm` changed to `AES256` (S3-managed keys: anyone with s3:GetObject reads them);
 * - S3 `kmsMasterKeyId` removed (the AWS-managed aws/s3 key, which every principal of the account
 *   may use through S3), or pointed at a key the stack does not declare (another account's key,
 *   whose owner then decides who reads the backups);
 * - the SSE configuration resource removed, or a second rule without KMS;
 * - GCS `encryption.defaultKmsKeyName` emptied when a CMEK is declared;
 * - Azure `encryption.services.blob.enabled: false`, or a key source other than Microsoft.Storage /
 *   Microsoft.Keyvault.
 */
export const backupBucketKmsEncryption: StackValidationPolicy = {
    name: "backup-bucket-kms-encryption",
    description:
        "S3 backup buckets encrypt by default with aws:kms and a named KMS key (never AES256 or the AWS-managed key); a GCS CMEK, when declared, names its key; Azure storage encryption stays on for blobs.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["backup", "encryption", "seed-6"],
    remediationSteps:
        'AWS: a BucketServerSideEncryptionConfiguration with applyServerSideEncryptionByDefault { sseAlgorithm: "aws:kms", kmsMasterKeyId: <backup key ARN> }. GCP: encryption.defaultKmsKeyName set. Azure: leave encryption.services.blob enabled.',
    validateStack: (args, report) => {
        // The keys this stack declares (ARN, key id, id): snapshots are encrypted with one of them.
        const declared = new Set(args.resources.filter((r) => r.type === AWS_KMS_KEY).flatMap(keyIds));
        for (const b of s3Buckets(args)) {
            // A configuration resource overrides the bucket's own (read-back) setting.
            const side = s3Side(args, b, S3_SSE);
            const rules = (
                side.length > 0
                    ? side.flatMap((c) => arr(c.props.rules))
                    : [obj(b.props.serverSideEncryptionConfiguration)?.rule].flat().filter((r) => r !== undefined)
            ).map((r) => obj(obj(r)?.applyServerSideEncryptionByDefault) ?? {});
            if (rules.length === 0)
                report(
                    `S3 bucket ${b.name} has no default encryption with its KMS key; declare a BucketServerSideEncryptionConfiguration with sseAlgorithm "aws:kms" and kmsMasterKeyId.`,
                    b.urn,
                );
            for (const r of rules) {
                const alg = str(r.sseAlgorithm) ?? "unset";
                if (!KMS_ALGORITHMS.includes(alg))
                    report(
                        `S3 bucket ${b.name} encrypts with ${alg}; use sseAlgorithm "aws:kms" with the backup key.`,
                        b.urn,
                    );
                else if (!str(r.kmsMasterKeyId))
                    report(
                        `S3 bucket ${b.name} encrypts with the AWS-managed aws/s3 key; set kmsMasterKeyId to the backup key.`,
                        b.urn,
                    );
                else if (declared.size > 0 && !declared.has(str(r.kmsMasterKeyId)!))
                    report(
                        `S3 bucket ${b.name} encrypts with ${str(r.kmsMasterKeyId)}, a key this stack does not declare; use the stack's backup key.`,
                        b.urn,
                    );
            }
        }
        for (const b of args.resources.filter((r) => r.type === GCS_BUCKET)) {
            const enc = obj(b.props.encryption);
            if (enc && !str(enc.defaultKmsKeyName))
                report(
                    `GCS bucket ${b.name} declares encryption without a key; set encryption.defaultKmsKeyName.`,
                    b.urn,
                );
        }
        for (const a of args.resources.filter((r) => r.type === AZ_ACCOUNT)) {
            const enc = obj(a.props.encryption);
            if (!enc) continue;
            const source = str(enc.keySource);
            if (source !== undefined && !AZURE_KEY_SOURCES.includes(source))
                report(
                    `Storage account ${a.name} has encryption keySource ${source}; use Microsoft.Storage or Microsoft.Keyvault.`,
                    a.urn,
                );
            if (explicitlyFalse(obj(obj(enc.services)?.blob)?.enabled))
                report(
                    `Storage account ${a.name} turns blob encryption off; remove encryption.services.blob.enabled: false.`,
                    a.urn,
                );
        }
    },
};
