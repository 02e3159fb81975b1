import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, arr, explicitlyFalse, isProdStack, obj, str, type Props } from "./lib/common";
import { ARCHIVE_RETENTION_DAYS, archiveRetentionReason } from "./lib/limits";
import {
    rcloneRemotes,
    rcloneTargets,
    storeOfBucketRef,
    storeOfTarget,
    storeWriters,
    stores,
    type Store,
} from "./lib/store";
import { roleOf } from "./lib/common";

export const S3_LIFECYCLE = [
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
];
export const AZ_MANAGEMENT_POLICY = "azure-native:storage:ManagementPolicy";

const num = (v: unknown): number | undefined => (v === undefined || v === null || v === "" ? undefined : Number(v));

/** What an S3 lifecycle rule (BucketLifecycleConfiguration or a Bucket's inline lifecycleRules) expires early. */
function s3RuleProblems(rule: Props, retention: number): string[] {
    const status = str(rule.status);
    if ((status !== undefined && status !== "Enabled") || explicitlyFalse(rule.enabled)) return [];
    const out: string[] = [];
    const exp = obj(rule.expiration);
    if (str(exp?.date)) out.push(`expires every object on ${str(exp?.date)}`);
    const days = num(exp?.days);
    if (days !== undefined && days < retention) out.push(`expires objects after ${days} day(s)`);
    const nc = obj(rule.noncurrentVersionExpiration);
    const ncDays = num(nc?.noncurrentDays) ?? num(nc?.days);
    if (ncDays !== undefined && ncDays < retention) out.push(`expires noncurrent versions after ${ncDays} day(s)`);
    if (exp?.expiredObjectDeleteMarker === true && ncDays === undefined && days === undefined)
        out.push("removes delete markers without keeping noncurrent versions for the retention");
    return out;
}

/** What a GCS lifecycle rule deletes early. */
function gcsRuleProblems(rule: Props, retention: number): string[] {
    const type = str(obj(rule.action)?.type) ?? "";
    if (type !== "Delete") return [];
    const c = obj(rule.condition) ?? {};
    const out: string[] = [];
    const age = num(c.age);
    const nc = num(c.daysSinceNoncurrentTime) ?? num(c.daysSinceCustomTime);
    if (str(c.createdBefore) || str(c.customTimeBefore) || str(c.noncurrentTimeBefore))
        out.push("deletes objects by a fixed date");
    if (age !== undefined && age < retention) out.push(`deletes objects at age ${age} day(s)`);
    if (nc !== undefined && nc < retention) out.push(`deletes objects ${nc} day(s) after they become noncurrent`);
    const conditions = Object.entries(c).filter(([, v]) => v !== undefined && v !== null && v !== "");
    if (conditions.length === 0) out.push("deletes every object (a Delete rule with no condition)");
    return out;
}

/** Every delete action of an Azure management policy rule, with its day count. */
function azureRuleProblems(rule: Props, retention: number): string[] {
    if (explicitlyFalse(rule.enabled)) return [];
    const actions = obj(obj(rule.definition)?.actions) ?? {};
    const out: string[] = [];
    for (const [target, a] of Object.entries(actions)) {
        const del = obj(obj(a)?.delete);
        if (!del) continue;
        const days = [
            num(del.daysAfterModificationGreaterThan),
            num(del.daysAfterCreationGreaterThan),
            num(del.daysAfterLastAccessTimeGreaterThan),
            num(del.daysAfterLastTierChangeGreaterThan),
        ].filter((d): d is number => d !== undefined);
        if (days.length === 0) out.push(`deletes ${target} with no age`);
        for (const d of days) if (d < retention) out.push(`deletes ${target} after ${d} day(s)`);
    }
    return out;
}

/**
 * A write-once store is only as long-lived as its lifecycle lets it be: a lifecycle rule that
 * expires objects, noncurrent versions or delete markers before the retention ends undoes the
 * retention the day Object Lock (or a retention policy) would allow it, and a dated expiry empties
 * the bucket at once. On prod the audit archive keeps shipped files at least 90 days
 * (`auditArchiveRetentionDays`, policies/lib/limits.ts): an incident is often found months late.
 *
 * One-field changes that would undo the same protection, each covered here: an S3 rule's
 * `expiration.days` or `noncurrentVersionExpiration.noncurrentDays` below the retention, an
 * `expiration.date`, a delete-marker rule with no noncurrent expiry, a second rule for a prefix;
 * a GCS Delete rule with a smaller `age`/`daysSinceNoncurrentTime`, a date, or no condition; an
 * Azure management policy deleting base blobs, versions or snapshots early; the archive's Object
 * Lock / retention / immutability shortened below 90 days on prod.
 */
export const backupBucketLifecycleRetention: StackValidationPolicy = {
    name: "backup-bucket-lifecycle-retention",
    description:
        "No lifecycle rule (S3, GCS, Azure management policy) expires objects, noncurrent versions or delete markers of a write-once bucket before its retention ends, nor by date; on prod the audit archive retains at least 90 days.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["backup", "audit", "worm", "seed-3", "seed-6"],
    configSchema: PROD_SCHEMA,
    remediationSteps:
        "Keep lifecycle expiry at or after the retention (the program sets both from backupRetentionDays / auditArchiveRetentionDays); on prod set auditArchiveRetentionDays to at least 90.",
    validateStack: (args, report) => {
        const all = stores(args);
        if (all.length === 0) return;
        const judge = (owner: PolicyResource, store: Store | undefined, problems: (retention: number) => string[]) => {
            const retention = store?.retentionDays ?? 0;
            for (const p of problems(retention))
                report(
                    `Lifecycle ${owner.name} ${p}, but ${store?.name ?? "the bucket"} retains objects ${retention} day(s); expire nothing before the retention ends.`,
                    owner.urn,
                );
        };
        for (const l of args.resources.filter((r) => S3_LIFECYCLE.includes(r.type))) {
            const store = storeOfBucketRef(all, l.props.bucket);
            if (!store) continue;
            for (const rule of arr(l.props.rules).map(obj))
                if (rule) judge(l, store, (ret) => s3RuleProblems(rule, ret));
        }
        for (const s of all) {
            if (s.cloud === "aws")
                for (const rule of arr(s.resource.props.lifecycleRules).map(obj))
                    if (rule) judge(s.resource, s, (ret) => s3RuleProblems(rule, ret));
            if (s.cloud === "gcp")
                for (const rule of arr(s.resource.props.lifecycleRules).map(obj))
                    if (rule) judge(s.resource, s, (ret) => gcsRuleProblems(rule, ret));
        }
        for (const m of args.resources.filter((r) => r.type === AZ_MANAGEMENT_POLICY)) {
            const account = str(m.props.accountName) ?? "";
            const held = all.filter((s) => s.cloud === "azure" && s.name.startsWith(`${account}/`));
            const shortest = held.sort((a, b) => b.retentionDays - a.retentionDays)[0];
            for (const rule of arr(obj(m.props.policy)?.rules).map(obj))
                if (rule) judge(m, shortest, (ret) => azureRuleProblems(rule, ret));
        }
        if (!isProdStack(args)) return;
        const archives = new Set<Store>();
        for (const c of storeWriters(args).filter((w) => roleOf(w.props) === "audit-shipper")) {
            const remotes = rcloneRemotes(c.props);
            for (const t of rcloneTargets(c.props, remotes)) {
                const { store } = storeOfTarget(all, remotes.get(t.remote), t.root);
                if (store) archives.add(store);
            }
        }
        for (const s of archives)
            if (s.retentionDays < ARCHIVE_RETENTION_DAYS.prodMin)
                report(
                    `The audit archive ${s.name} retains shipped audit files ${s.retentionDays} day(s); auditArchiveRetentionDays ${archiveRetentionReason()}.`,
                    s.resource.urn,
                );
    },
};
