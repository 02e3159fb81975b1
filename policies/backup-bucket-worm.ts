import type { StackValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, isProdStack, obj, seconds, str } from "./lib/common";
import { BACKUP_RETENTION_DAYS, backupRetentionReason } from "./lib/limits";
import {
    AZ_ACCOUNT,
    AZ_IMMUTABILITY,
    GCS_BUCKET,
    S3_OBJECT_LOCK,
    azureContainersOf,
    azureSide,
    containerName,
    s3Buckets,
    s3Side,
} from "./lib/backup";

function awsRetentionDays(rule: unknown): { mode?: string; days: number } | undefined {
    const dr = obj(obj(Array.isArray(rule) ? rule[0] : rule)?.defaultRetention);
    if (!dr) return undefined;
    const days = Number(dr.days ?? 0) + 365 * Number(dr.years ?? 0);
    return { mode: str(dr.mode), days };
}

/**
 * An attacker or a mistake that can delete the backups can delete the company: snapshots are
 * write-once for a retention period (Object Lock / retention policy / immutability).
 *
 * One-field changes that would undo the same protection, each covered here: Object Lock off on the
 * bucket, its configuration removed, mode GOVERNANCE on prod (bypassable), retention shortened
 * (days/years); GCS retention removed, shortened or unlocked on prod; Azure immutability policy
 * removed or shortened.
 */
export const backupBucketWorm: StackValidationPolicy = {
    name: "backup-bucket-worm",
    description:
        "Every backup bucket is write-once for a default retention: S3 Object Lock with a default retention (COMPLIANCE on prod), a GCS retention policy (locked on prod), an Azure container immutability policy; at least 30 days on prod, 1 day elsewhere.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["backup", "worm", "seed-6"],
    configSchema: {
        properties: {
            ...PROD_SCHEMA.properties,
            prodMinRetentionDays: {
                type: "integer",
                default: BACKUP_RETENTION_DAYS.prodMin,
                description: "Minimum retention on prod stacks, in days.",
            },
        },
    },
    remediationSteps:
        "AWS: objectLockEnabled: true on the bucket and a BucketObjectLockConfiguration with rule.defaultRetention { mode, days }. GCP: retentionPolicy { retentionPeriod, isLocked }. Azure: a BlobContainerImmutabilityPolicy or immutableStorageWithVersioning on the container.",
    validateStack: (args, report) => {
        const prod = isProdStack(args);
        const min = prod
            ? (args.getConfig<{ prodMinRetentionDays?: number }>().prodMinRetentionDays ??
              BACKUP_RETENTION_DAYS.prodMin)
            : BACKUP_RETENTION_DAYS.min;
        const tooShort = (what: string, days: number, urn: string) => {
            if (days < min)
                report(
                    `${what} retains snapshots for ${days} day(s); the minimum here is ${min}` +
                        (prod ? `: backupRetentionDays ${backupRetentionReason()}.` : "."),
                    urn,
                );
        };
        for (const b of s3Buckets(args)) {
            const inlineLock = obj(b.props.objectLockConfiguration);
            const enabled = b.props.objectLockEnabled === true || str(inlineLock?.objectLockEnabled) === "Enabled";
            if (!enabled)
                report(
                    `S3 bucket ${b.name} does not enable Object Lock; set objectLockEnabled: true (only possible at creation).`,
                    b.urn,
                );
            const rules = [
                ...s3Side(args, b, S3_OBJECT_LOCK).map((l) => awsRetentionDays(l.props.rule)),
                awsRetentionDays(inlineLock?.rule),
            ].filter((x): x is { mode?: string; days: number } => x !== undefined);
            if (rules.length === 0) {
                report(
                    `S3 bucket ${b.name} has no default Object Lock retention; declare a BucketObjectLockConfiguration with rule.defaultRetention.`,
                    b.urn,
                );
                continue;
            }
            for (const r of rules) {
                tooShort(`S3 bucket ${b.name}`, r.days, b.urn);
                if (prod && r.mode !== "COMPLIANCE")
                    report(
                        `S3 bucket ${b.name} uses Object Lock mode ${r.mode ?? "unset"} on prod; use COMPLIANCE.`,
                        b.urn,
                    );
            }
        }
        for (const b of args.resources.filter((r) => r.type === GCS_BUCKET)) {
            const rp = obj(b.props.retentionPolicy);
            const s = seconds(rp?.retentionPeriod);
            if (!rp || s === undefined || s <= 0)
                report(`GCS bucket ${b.name} has no retention policy; set retentionPolicy.retentionPeriod.`, b.urn);
            else {
                tooShort(`GCS bucket ${b.name}`, Math.floor(s / 86400), b.urn);
                if (prod && rp.isLocked !== true)
                    report(`GCS bucket ${b.name}'s retention policy is not locked on prod; set isLocked: true.`, b.urn);
            }
        }
        for (const a of args.resources.filter((r) => r.type === AZ_ACCOUNT)) {
            const policies = azureSide(args, a, [AZ_IMMUTABILITY]);
            const containers = azureContainersOf(args, a);
            if (containers.length === 0 && obj(a.props.immutableStorageWithVersioning)?.enabled !== true)
                report(`Storage account ${a.name} declares no container with an immutability policy.`, a.urn);
            for (const c of containers) {
                const p = policies.find((x) => str(x.props.containerName) === containerName(c));
                const versioned = obj(c.props.immutableStorageWithVersioning)?.enabled === true;
                if (!p && !versioned)
                    report(
                        `Blob container ${containerName(c)} has no immutability policy; declare a BlobContainerImmutabilityPolicy.`,
                        c.urn,
                    );
                if (p)
                    tooShort(
                        `Blob container ${containerName(c)}`,
                        Number(p.props.immutabilityPeriodSinceCreationInDays ?? 0),
                        p.urn,
                    );
            }
        }
    },
};
