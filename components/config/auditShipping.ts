/**
 * Audit shipping keys (seed §3: "Ship audit logs to an immutable store"). Owned by the audit
 * shipping area (components/audit); see section.ts for the contract.
 *
 * Each node's rotated audit files are copied by an rclone shipper container into a write-once
 * archive on the stack's cloud (the same kind of store as the backups, its own bucket and writer),
 * within `auditShipMaxDelayMinutes` of the line being written. On `local` the archive is a
 * protected Docker volume, which is NOT write-once.
 */
import { createHash } from "node:crypto";
import type { BackupConfig } from "./backup";
import type { CoreConfig } from "./core";
import { boolean, integer, text } from "./fields";
import { key, section, type BuildContext, type SectionValues } from "./section";
import { ARCHIVE_RETENTION_DAYS, archiveRetentionReason } from "../../policies/lib/limits";

export interface AuditShippingConfig {
    auditShipping: {
        /** false only off prod: rotated files then stay on the audit volume until auditRetentionDays. */
        enabled: boolean;
        /** Upper bound, in minutes, from an audit line being written to it being in the archive. */
        maxDelayMinutes: number;
        /** Days each shipped file stays write-once in the archive (then the lifecycle deletes it). */
        retentionDays: number;
        /** Bucket (aws, gcp) or storage account (azure); undefined: auto-named (never on azure). */
        bucketName?: string;
    };
}

/** Bounds of auditShipMaxDelayMinutes; prod may not go above PROD_MAX_DELAY_MINUTES. */
export const SHIP_DELAY_MINUTES = { min: 2, max: 1440, prodMax: 15, def: 5 } as const;

/**
 * The default storage-account name of the audit archive on azure: like the backup account's
 * (azureStorageAccountName in backup.ts), 16 readable characters and 8 hex of a hash, with `audit`
 * in the hashed input so the two accounts never collide.
 */
export function azureAuditAccountName(clusterName: string, stack: string, resourceGroup: string): string {
    const prefix = `${clusterName}${stack}`
        .toLowerCase()
        .replace(/[^a-z0-9]/g, "")
        .slice(0, 16);
    const hash = createHash("sha256")
        .update(`audit/${resourceGroup}/${clusterName}/${stack}`)
        .digest("hex")
        .slice(0, 8);
    return `${prefix}${hash}`;
}

const S3_OR_GCS_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const AZURE_ACCOUNT = /^[a-z0-9]{3,24}$/;

const auditShippingKeys = {
    auditShipping: key(boolean(true), {
        type: "boolean",
        description:
            "Ship every rotated audit file to a write-once archive on the stack's cloud (S3 Object Lock, locked GCS retention, Azure immutability; local: a protected Docker volume, not write-once) with its own rclone shipper per node. Must be true on prod.",
        default: "true",
    }),
    auditShipMaxDelayMinutes: key(
        integer({ def: SHIP_DELAY_MINUTES.def, min: SHIP_DELAY_MINUTES.min, max: SHIP_DELAY_MINUTES.max }),
        {
            type: "integer",
            description:
                "Upper bound in minutes from an audit line being written to it being in the archive: the audit file is rotated every half of it when not empty and the shipper checks every fifth (at most every minute). At most 15 on prod.",
            default: String(SHIP_DELAY_MINUTES.def),
        },
    ),
    auditArchiveRetentionDays: key(integer({ min: ARCHIVE_RETENTION_DAYS.min, max: ARCHIVE_RETENTION_DAYS.max }), {
        type: "integer",
        description:
            "Days each shipped audit file stays write-once in the archive (lock mode: backupLockMode); the archive's lifecycle deletes it afterwards. prod needs at least 90.",
        default: "365 on prod, 30 elsewhere",
    }),
    auditArchiveBucketName: key(
        text({
            pattern: S3_OR_GCS_BUCKET,
            describe: "3-63 characters of a-z, 0-9 and -, starting and ending with a letter or digit",
        }),
        {
            type: "string",
            description:
                "Name of the audit archive bucket (aws, gcp) or storage account (azure: 3-24 of a-z and 0-9, globally unique); unset: aws and gcp let Pulumi add a random suffix, azure derives a valid name.",
            default: "auto-named (azure: like backupBucketName's, with a different hash)",
        },
    ),
};

type AuditShippingValues = SectionValues<typeof auditShippingKeys>;

export const auditShippingSection = section(auditShippingKeys, buildAuditShipping);

function buildAuditShipping(
    v: AuditShippingValues,
    ctx: BuildContext,
    prior: CoreConfig & BackupConfig,
): AuditShippingConfig {
    const { auditShipping: enabled, auditShipMaxDelayMinutes: maxDelayMinutes } = v;
    if (ctx.prod && !enabled)
        ctx.issue(
            "auditShipping",
            "must be true on the prod stack: seed §3 asks for audit logs in an immutable store, and the policy pack refuses a prod stack without an audit shipper",
        );
    if (ctx.prod && maxDelayMinutes > SHIP_DELAY_MINUTES.prodMax)
        ctx.issue(
            "auditShipMaxDelayMinutes",
            `must be at most ${SHIP_DELAY_MINUTES.prodMax} on the prod stack: an audit line must leave the node within minutes`,
        );
    const retentionDays = v.auditArchiveRetentionDays ?? (ctx.prod ? 365 : 30);
    if (ctx.prod && retentionDays < ARCHIVE_RETENTION_DAYS.prodMin)
        ctx.issue("auditArchiveRetentionDays", archiveRetentionReason());

    const loc = prior.backup.location;
    const bucketName = v.auditArchiveBucketName;
    if (bucketName !== undefined) checkArchiveBucketName(bucketName, ctx, prior, enabled);
    const name =
        bucketName ??
        (loc.cloud === "azure" ? azureAuditAccountName(prior.clusterName, ctx.stack, loc.resourceGroup) : undefined);

    return { auditShipping: { enabled, maxDelayMinutes, retentionDays, bucketName: name } };
}

/** The archive's own bucket: valid for the cloud, not the backup bucket, and only when shipping is on. */
function checkArchiveBucketName(bucketName: string, ctx: BuildContext, prior: BackupConfig, enabled: boolean): void {
    const loc = prior.backup.location;
    if (loc.cloud === "azure" && !AZURE_ACCOUNT.test(bucketName))
        ctx.issue("auditArchiveBucketName", "must be 3-24 characters of a-z and 0-9 on azure (a storage account name)");
    if (loc.cloud === "local")
        ctx.issue(
            "auditArchiveBucketName",
            "is not used when cloud is local (a Docker volume per node holds the archive)",
        );
    if (bucketName === prior.backup.bucketName)
        ctx.issue(
            "auditArchiveBucketName",
            "must differ from backupBucketName: the archive has its own bucket, retention and writer",
        );
    if (!enabled) ctx.issue("auditArchiveBucketName", "is only used when auditShipping is true (it is false)");
}
