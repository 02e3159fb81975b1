/**
 * Backup keys. Owned by the backup area; see section.ts for the contract.
 *
 * One retention number drives every cloud: S3 Object Lock default retention, the GCS bucket
 * retention policy, the Azure container's time-based immutability period and the lifecycle rules
 * that delete what has aged out (the snapshot agent itself never deletes: its writer cannot).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { PINNED_IMAGE, type CoreConfig } from "./core";
import { integer, oneOf, text, type OptionalField } from "./fields";
import { key, section, type BuildContext, type Cloud, type SectionValues } from "./section";
import type { UnsealConfig } from "./unseal";
import { BACKUP_RETENTION_DAYS, backupRetentionReason } from "../../policies/lib/limits";

export type BackupLockMode = "COMPLIANCE" | "GOVERNANCE";

export type BackupLocation =
    | { cloud: "aws"; region: string }
    | { cloud: "gcp"; project: string; location: string }
    | { cloud: "azure"; resourceGroup: string; location: string }
    | { cloud: "local" };

export interface BackupConfig {
    backup: {
        /** Days every snapshot stays write-once (and then is deleted by the bucket's lifecycle). */
        retentionDays: number;
        /** Interval between snapshots, as the agent reads it (Go duration: `1h`, `24h`, `1h30m`). */
        schedule: string;
        scheduleSeconds: number;
        /** COMPLIANCE: nobody can shorten retention (S3 COMPLIANCE, GCS locked policy, Azure locked policy). */
        lockMode: BackupLockMode;
        /** Bucket (aws, gcp) or storage-account (azure) name; undefined: auto-named (never on azure). */
        bucketName?: string;
        agentImage: string;
        agentMemoryMb: number;
        /** The rclone image of the uploader that moves snapshots into the bucket (aws, gcp, azure). */
        uploaderImage: string;
        /** Where the bucket lives, reusing the unseal area's location keys. */
        location: BackupLocation;
    };
}

/** The snapshot agent's image, pinned; see components/backup/agentConfig.ts for the format it reads. */
export const DEFAULT_AGENT_IMAGE = "ghcr.io/argelbargel/vault-raft-snapshot-agent:v0.12.0";

/**
 * The uploader's image (rclone, Docker Hub tags without a `v`: rclone's release workflow tags
 * `type=semver,pattern={{version}}`), pinned; see components/backup/uploaderConfig.ts.
 */
export const DEFAULT_UPLOADER_IMAGE = "rclone/rclone:1.76.0";

const SCHEDULE = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const MIN_SCHEDULE_SECONDS = 300;

/** Seconds of a schedule such as `1h`, `30m` or `1h30m`; undefined when it is not one. */
export function scheduleSeconds(s: string): number | undefined {
    const m = SCHEDULE.exec(s);
    if (!m || s === "") return undefined;
    const [h, min, sec] = [m[1], m[2], m[3]].map((x) => Number(x ?? 0));
    return h * 3600 + min * 60 + sec;
}

/**
 * A snapshot interval. The agent schedules by interval (Go `time.ParseDuration`), not by cron, so a
 * cron expression is refused with a sentence saying so instead of being silently misread.
 */
function schedule(): OptionalField<string> {
    return z
        .string()
        .optional()
        .transform((raw: string | undefined, ctx): string | undefined => {
            if (raw === undefined) return undefined;
            const v = raw.trim();
            if (/\s|\*/.test(v)) {
                ctx.addIssue({
                    code: "custom",
                    message:
                        "must be an interval such as 1h or 24h: the snapshot agent schedules by interval and does not read cron expressions",
                });
                return z.NEVER;
            }
            const secs = scheduleSeconds(v);
            if (secs === undefined || secs === 0) {
                ctx.addIssue({
                    code: "custom",
                    message: "must be an interval in hours, minutes and seconds such as 30m, 1h, 24h or 1h30m",
                });
                return z.NEVER;
            }
            return v;
        })
        .optional();
}

const S3_OR_GCS_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const AZURE_ACCOUNT = /^[a-z0-9]{3,24}$/;

/**
 * The default storage-account name on azure: 3-24 of a-z and 0-9, the same on every run, different
 * per stack and resource group. azure-native's autoname (logical name + random hex, unfiltered)
 * would be `bonito-vault-backup-account<hex>`: hyphens and over 24 characters, which Azure refuses
 * (pulumi-azure-native#3665, #4294). Readable prefix (cluster and stack, letters and digits, at
 * most 16) plus 8 hex of a hash of resource group, cluster and stack, for global uniqueness.
 */
export function azureStorageAccountName(clusterName: string, stack: string, resourceGroup: string): string {
    const prefix = `${clusterName}${stack}`
        .toLowerCase()
        .replace(/[^a-z0-9]/g, "")
        .slice(0, 16);
    const hash = createHash("sha256").update(`${resourceGroup}/${clusterName}/${stack}`).digest("hex").slice(0, 8);
    return `${prefix}${hash}`;
}
const GCS_LOCATION = /^[A-Za-z0-9-]{2,40}$/;

const backupKeys = {
    backupRetentionDays: key(integer({ min: BACKUP_RETENTION_DAYS.min, max: BACKUP_RETENTION_DAYS.max }), {
        type: "integer",
        description:
            "Days each Raft snapshot stays write-once in the backup bucket; the bucket's lifecycle deletes it afterwards. prod needs at least 30.",
        default: "30 on prod, 7 elsewhere",
    }),
    backupSchedule: key(schedule(), {
        type: "string",
        description:
            "Interval between Raft snapshots (30m, 1h, 24h, 1h30m; at least 5m). The agent runs on an interval, so cron expressions are refused.",
        default: "1h on prod, 24h elsewhere",
    }),
    backupLockMode: key(oneOf(["COMPLIANCE", "GOVERNANCE"]), {
        type: "string",
        description:
            "COMPLIANCE: nobody can shorten a snapshot's retention (S3 COMPLIANCE, locked GCS retention policy, locked Azure immutability policy). GOVERNANCE (not on prod): a privileged identity can.",
        default: "COMPLIANCE on prod, GOVERNANCE elsewhere",
    }),
    backupBucketName: key(
        text({
            pattern: /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
            describe: "3-63 characters of a-z, 0-9 and -, starting and ending with a letter or digit",
        }),
        {
            type: "string",
            description:
                "Name of the backup bucket (aws, gcp) or storage account (azure: 3-24 of a-z and 0-9, globally unique); unset: aws and gcp let Pulumi add a random suffix, azure derives a valid name.",
            default:
                "auto-named (azure: <clusterName><stack>, letters and digits, cut to 16, + 8 hex of a hash of resource group, cluster and stack)",
        },
    ),
    backupAgentImage: key(
        text({
            def: DEFAULT_AGENT_IMAGE,
            pattern: PINNED_IMAGE,
            describe: "an image pinned by digest or exact version tag (repo:v0.12.0)",
        }),
        {
            type: "string",
            description:
                "Snapshot agent image (Argelbargel/vault-raft-snapshot-agent), pinned by digest or exact version tag.",
            default: DEFAULT_AGENT_IMAGE,
        },
    ),
    backupAgentMemoryMb: key(integer({ def: 256, min: 64, max: 16384 }), {
        type: "integer",
        description: "Memory limit of the snapshot agent container in MiB (a snapshot passes through it).",
        default: "256",
    }),
    backupUploaderImage: key(
        text({
            def: DEFAULT_UPLOADER_IMAGE,
            pattern: PINNED_IMAGE,
            describe: "an image pinned by digest or exact version tag (repo:1.76.0)",
        }),
        {
            type: "string",
            description:
                "Uploader image (rclone) that moves each snapshot into the write-once bucket with Content-MD5 (aws, gcp, azure; unused when cloud is local), pinned by digest or exact version tag.",
            default: DEFAULT_UPLOADER_IMAGE,
        },
    ),
    backupGcpLocation: key(
        text({
            pattern: GCS_LOCATION,
            describe: "a Cloud Storage location such as US, EU or europe-west1",
        }),
        {
            type: "string",
            description:
                "cloud gcp: location of the backup bucket (US, EU, europe-west1, …). Needed when gcpLocation is global, which is not a bucket location.",
            default: "gcpLocation, unless it is global",
        },
    ),
};

type BackupValues = SectionValues<typeof backupKeys>;

export const backupSection = section(backupKeys, buildBackup);

function buildBackup(v: BackupValues, ctx: BuildContext, prior: CoreConfig & UnsealConfig): BackupConfig {
    const prod = ctx.prod;
    const retentionDays = v.backupRetentionDays ?? (prod ? 30 : 7);
    if (prod && retentionDays < BACKUP_RETENTION_DAYS.prodMin)
        ctx.issue("backupRetentionDays", backupRetentionReason());

    const schedule = v.backupSchedule ?? (prod ? "1h" : "24h");
    const secs = scheduleSeconds(schedule) ?? 0;
    if (secs > 0 && secs < MIN_SCHEDULE_SECONDS)
        ctx.issue("backupSchedule", `must be at least 5m: each snapshot copies the whole Raft database`);
    if (prod && secs > 86400) ctx.issue("backupSchedule", "must be at most 24h on the prod stack");
    if (secs > retentionDays * 86400)
        ctx.issue(
            "backupSchedule",
            `is longer than backupRetentionDays (${retentionDays} days): there would be moments with no snapshot in the bucket`,
        );

    const lockMode = v.backupLockMode ?? (prod ? "COMPLIANCE" : "GOVERNANCE");
    if (prod && lockMode !== "COMPLIANCE")
        ctx.issue(
            "backupLockMode",
            "must be COMPLIANCE on the prod stack: GOVERNANCE lets a privileged identity shorten or remove a snapshot's retention",
        );

    const bucketName = v.backupBucketName;
    if (bucketName !== undefined) checkBucketName(bucketName, ctx, prior.cloud);

    const location = backupLocation(v.backupGcpLocation, ctx, prior);
    const name =
        bucketName ??
        (location.cloud === "azure"
            ? azureStorageAccountName(prior.clusterName, ctx.stack, location.resourceGroup)
            : undefined);

    return {
        backup: {
            retentionDays,
            schedule,
            scheduleSeconds: secs,
            lockMode,
            bucketName: name,
            agentImage: v.backupAgentImage,
            agentMemoryMb: v.backupAgentMemoryMb,
            uploaderImage: v.backupUploaderImage,
            location,
        },
    };
}

/** A bucket name is valid only for the cloud's kind of store (an azure storage account is stricter). */
function checkBucketName(bucketName: string, ctx: BuildContext, cloud: Cloud): void {
    if (cloud === "azure" && !AZURE_ACCOUNT.test(bucketName))
        ctx.issue("backupBucketName", "must be 3-24 characters of a-z and 0-9 on azure (a storage account name)");
    if ((cloud === "aws" || cloud === "gcp") && !S3_OR_GCS_BUCKET.test(bucketName))
        ctx.issue("backupBucketName", "must be a valid bucket name");
    if (cloud === "local")
        ctx.issue("backupBucketName", "is not used when cloud is local (a Docker volume holds the snapshots)");
}

/** The bucket's place, from the unseal area's keys (awsRegion, gcpProject/gcpLocation, azureLocation/azureResourceGroup). */
function backupLocation(
    gcsLocation: string | undefined,
    ctx: BuildContext,
    prior: CoreConfig & UnsealConfig,
): BackupLocation {
    const u = prior.unseal;
    switch (u?.cloud) {
        case "aws":
            return { cloud: "aws", region: u.region };
        case "azure":
            return { cloud: "azure", resourceGroup: u.resourceGroup, location: u.location };
        case "gcp": {
            const location = gcsLocation ?? (u.location !== "global" ? u.location : undefined);
            if (location === undefined)
                ctx.issue(
                    "backupGcpLocation",
                    "is required when cloud is gcp and gcpLocation is global: a bucket needs a location such as US, EU or europe-west1",
                );
            return { cloud: "gcp", project: u.project, location: location ?? "" };
        }
        default:
            return { cloud: "local" };
    }
}
