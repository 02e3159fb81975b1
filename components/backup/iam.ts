/**
 * Pure access documents for the backup buckets: what the snapshot writer may do, and what the
 * bucket refuses. Plain data in, plain JSON out, so tests compare them whole and a reviewer reads
 * them without running Pulumi.
 */
import type { IamPolicy } from "../iam";

/** S3 bucket policy: every request over plain HTTP is denied, whoever sends it. */
export function tlsOnlyBucketPolicy(bucketArn: string): IamPolicy {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [bucketArn, `${bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    };
}

/**
 * The snapshot writer's IAM policy. No delete and no read of snapshot contents:
 * - `s3:PutObject` adds snapshots (it also authorises the multipart calls the agent's uploader
 *   makes). A PUT to an existing key only adds a version; Object Lock keeps the old one.
 * - `s3:ListBucket`: the agent lists its own snapshots at start to find the last upload time
 *   (vault-raft-snapshot-agent internal/agent/storage/controller.go, ensureLastUploadTime).
 * - `kms:GenerateDataKey` and `kms:Decrypt` on the bucket key only: SSE-KMS needs the first for
 *   every upload and the second for multipart uploads (AWS: "Multipart upload and permissions").
 */
export function awsWriterPolicy(bucketArn: string, kmsKeyArn: string): IamPolicy {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "AddSnapshots", Effect: "Allow", Action: ["s3:PutObject"], Resource: `${bucketArn}/*` },
            { Sid: "ListSnapshots", Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn },
            {
                Sid: "EncryptSnapshots",
                Effect: "Allow",
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: kmsKeyArn,
            },
        ],
    };
}

/** Every allowed action of a policy that could remove or rewrite data or its protection. */
export function destructiveActions(policy: IamPolicy): string[] {
    const risky = /delete|bypass|putobjectretention|putobjectlegalhold|putbucket|putlifecycle|\*$/i;
    return policy.Statement.filter((s) => s.Effect === "Allow")
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
        .filter((a) => risky.test(a));
}

/**
 * GCS writer roles, bound on the backup bucket only.
 * - roles/storage.objectCreator: storage.objects.create (+ multipart upload create/abort/listParts).
 *   Replacing an existing object would also need storage.objects.delete, which it lacks.
 * - roles/storage.legacyBucketReader: storage.buckets.get and storage.objects.list, for the
 *   agent's start-up listing. Neither role holds storage.objects.delete or storage.objects.get.
 */
export const GCP_WRITER_ROLES = ["roles/storage.objectCreator", "roles/storage.legacyBucketReader"] as const;

/** Azure container name for snapshots. */
export const AZURE_CONTAINER = "snapshots";
