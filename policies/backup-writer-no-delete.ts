import type { ResourceValidationPolicy } from "@pulumi/policy";
import { arr, obj, str } from "./lib/common";
import { AZURE_ROLES, ROLE_ASSIGNMENT, ROLE_DEFINITION, roleGuid } from "./lib/azure";
import { IAM_POLICY_TYPES, actionMatches, parseDocument } from "./lib/iam";
import { GCS_IAM } from "./lib/backup";

/** S3 actions that remove or shorten the life of a snapshot, or loosen the bucket's protection. */
export const S3_DESTRUCTIVE = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:BypassGovernanceRetention",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
];
const GCS_WRITER_ROLES = [
    "roles/storage.objectCreator",
    "roles/storage.objectViewer",
    "roles/storage.legacyBucketReader",
    "roles/storage.legacyObjectReader",
    "roles/storage.bucketViewer",
];
const AZURE_DELETING_ROLES = [
    AZURE_ROLES.storageBlobDataOwner,
    AZURE_ROLES.storageBlobDataContributor,
    AZURE_ROLES.storageAccountContributor,
] as string[];

/**
 * The snapshot writer adds snapshots; it may never delete, overwrite versions or weaken retention.
 *
 * One-field changes that would undo the same protection, each covered here: a delete, lifecycle,
 * retention or lock action added, by name or by wildcard (`s3:Delete*`, `s3:*`, `*`); a GCS role
 * beyond creator/viewer (`objectAdmin`, `admin`); an Azure role or custom role that deletes blobs.
 * NotAction (everything but…) is refused by `aws-iam-policy-no-wildcards`.
 */
export const backupWriterNoDelete: ResourceValidationPolicy = {
    name: "backup-writer-no-delete",
    description:
        "No identity is allowed to delete backups or weaken their protection: no IAM Allow of s3 delete/lifecycle/retention-bypass actions, no GCS bucket role beyond objectCreator/viewer, no Azure role or custom role that can delete blobs.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["backup", "least-privilege", "seed-6"],
    remediationSteps:
        "AWS: grant the writer only s3:PutObject (and s3:ListBucket/GetObject if the agent needs them). GCP: roles/storage.objectCreator. Azure: a custom role with blobs/write and blobs/add/action only.",
    validateResource: (args, report) => {
        if (IAM_POLICY_TYPES.includes(args.type)) {
            for (const s of parseDocument(args.props.policy) ?? []) {
                if (s.effect !== "Allow") continue;
                const hits = S3_DESTRUCTIVE.filter((d) => s.actions.some((a) => actionMatches(a, d)));
                if (hits.length > 0)
                    report(
                        `Statement ${s.sid ?? ""} allows ${hits.join(", ")}; the backup writer may add snapshots but never delete them or weaken their lock.`.replace(
                            "Statement  ",
                            "A statement ",
                        ),
                    );
            }
        } else if (GCS_IAM.includes(args.type)) {
            const role = str(args.props.role) ?? "";
            if (!GCS_WRITER_ROLES.includes(role))
                report(`Bucket role ${role} can delete or overwrite objects; grant roles/storage.objectCreator.`);
        } else if (args.type === ROLE_ASSIGNMENT) {
            const guid = roleGuid(str(args.props.roleDefinitionId) ?? "");
            if (AZURE_DELETING_ROLES.includes(guid))
                report(
                    `Role assignment grants a storage role (${guid}) that can delete blobs; use a custom role without delete.`,
                );
        } else if (args.type === ROLE_DEFINITION) {
            const actions = arr(args.props.permissions).flatMap((p) =>
                [...arr(obj(p)?.actions), ...arr(obj(p)?.dataActions)].map(String),
            );
            const bad = actions.filter((a) => /storage/i.test(a) && (/delete/i.test(a) || a.endsWith("*")));
            if (bad.length > 0) report(`Custom role grants ${bad.join(", ")}; the backup writer may not delete.`);
        }
    },
};
