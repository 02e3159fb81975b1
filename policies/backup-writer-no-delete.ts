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
    // Changing the bucket itself: encryption, ACLs and ownership, replication, CORS-free copies out.
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutBucketOwnershipControls",
    "s3:PutReplicationConfiguration",
    "s3:PutBucketLogging",
    "s3:PutIntelligentTieringConfiguration",
    // The bucket key: disabling or scheduling its deletion, or rewriting its policy, shreds every object.
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:PutKeyPolicy",
];

/** GCS permissions that change or empty a bucket (custom roles, at any level). */
const GCS_BUCKET_CHANGING =
    /^storage\.(buckets\.(update|delete|setIamPolicy|create)|objects\.(delete|setIamPolicy)|managedFolders\.(delete|setIamPolicy))$|^storage\.\*$|^\*$/;
/** Project-level roles that reach every bucket of the project. */
const GCP_PROJECT_IAM = ["gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding"];
const GCP_BUCKET_ADMIN_ROLES =
    /^roles\/(owner|editor|storage\.(admin|objectAdmin|objectUser|legacyBucketOwner|legacyBucketWriter|legacyObjectOwner))$/;
const GCP_CUSTOM_ROLES = ["gcp:projects/iAMCustomRole:IAMCustomRole", "gcp:organizations/iAMCustomRole:IAMCustomRole"];
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
    AZURE_ROLES.owner,
    AZURE_ROLES.contributor,
] as string[];
/** Azure control-plane actions that change a storage account, its containers or their immutability. */
const AZURE_STORE_CHANGING =
    /^(\*|Microsoft\.Storage\/\*|Microsoft\.Storage\/storageAccounts\/(\*|write|delete|blobServices\/(\*|write|containers\/(\*|write|delete|immutabilityPolicies\/.*|setLegalHold\/action|clearLegalHold\/action))|managementPolicies\/(\*|write|delete)|encryptionScopes\/(\*|write)|listKeys\/action|regenerateKey\/action))$/i;

/**
 * The snapshot writer (and the audit archive's writer) adds objects; it may never delete, overwrite
 * versions, weaken retention or change the bucket itself (encryption, policy, lifecycle, versioning,
 * Object Lock, ACLs, ownership, replication, its KMS key), on any cloud.
 *
 * One-field changes that would undo the same protection, each covered here: a delete, lifecycle,
 * retention or lock action added, by name or by wildcard (`s3:Delete*`, `s3:*`, `*`); a GCS role
 * beyond creator/viewer (`objectAdmin`, `admin`), or a project role or custom role that updates or
 * empties buckets (`storage.buckets.update`, `roles/storage.admin`, `roles/editor`); an Azure role
 * (Owner, Contributor, Storage Account Contributor) or custom role that deletes blobs or writes the
 * account, its containers, immutability or management policies.
 * NotAction (everything but…) is refused by `aws-iam-policy-no-wildcards`.
 */
export const backupWriterNoDelete: ResourceValidationPolicy = {
    name: "backup-writer-no-delete",
    description:
        "No identity may delete backups or audit logs or change their bucket: no IAM Allow of s3 delete, lifecycle, retention, lock, versioning, encryption, policy, ACL, ownership or replication actions (nor disabling or deleting the bucket key); no GCS bucket role beyond objectCreator/viewer, no project or custom role that updates or empties buckets; no Azure role or custom role that deletes blobs or writes the account, containers or immutability.",
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
        } else if (GCP_PROJECT_IAM.includes(args.type)) {
            const role = str(args.props.role) ?? "";
            if (GCP_BUCKET_ADMIN_ROLES.test(role))
                report(
                    `Project role ${role} reaches every bucket of the project, the backup and audit buckets included, and may change or empty them; grant roles/storage.objectCreator on the bucket instead.`,
                );
        } else if (GCP_CUSTOM_ROLES.includes(args.type)) {
            const bad = arr(args.props.permissions)
                .map(String)
                .filter((p) => GCS_BUCKET_CHANGING.test(p));
            if (bad.length > 0)
                report(
                    `Custom role grants ${bad.join(", ")}, which change or empty buckets; a store writer creates objects only.`,
                );
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
            const bad = actions.filter(
                (a) => (/storage/i.test(a) && (/delete/i.test(a) || a.endsWith("*"))) || AZURE_STORE_CHANGING.test(a),
            );
            if (bad.length > 0)
                report(
                    `Custom role grants ${bad.join(", ")}; a store writer may not delete blobs or change the account, its containers or their immutability.`,
                );
        }
    },
};
