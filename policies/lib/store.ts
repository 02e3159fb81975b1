/**
 * The write-once stores a stack declares (S3 buckets, GCS buckets, Azure blob containers) with the
 * retention each keeps objects for, and the rclone destinations of the sidecars that write to them
 * (the snapshot uploader, the audit shippers), read from their uploaded rclone.conf and script.
 */
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { TYPES, arr, obj, roleOf, seconds, str, type Props } from "./common";
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
} from "./backup";

export interface Store {
    /** `<bucket>` (aws, gcp) or `<account>/<container>` (azure). */
    name: string;
    cloud: "aws" | "gcp" | "azure";
    /** Days each object stays write-once; 0 when the store is not write-once. */
    retentionDays: number;
    resource: PolicyResource;
}

function lockDays(rule: unknown): number {
    const dr = obj(obj(Array.isArray(rule) ? rule[0] : rule)?.defaultRetention);
    return dr ? Number(dr.days ?? 0) + 365 * Number(dr.years ?? 0) : 0;
}

export function stores(args: StackValidationArgs): Store[] {
    const out: Store[] = [];
    for (const b of s3Buckets(args)) {
        const days = Math.max(
            0,
            lockDays(obj(b.props.objectLockConfiguration)?.rule),
            ...s3Side(args, b, S3_OBJECT_LOCK).map((l) => lockDays(l.props.rule)),
        );
        out.push({ name: str(b.props.bucket) ?? b.name, cloud: "aws", retentionDays: days, resource: b });
    }
    for (const b of args.resources.filter((r) => r.type === GCS_BUCKET)) {
        const s = seconds(obj(b.props.retentionPolicy)?.retentionPeriod) ?? 0;
        out.push({
            name: str(b.props.name) ?? b.name,
            cloud: "gcp",
            retentionDays: Math.floor(s / 86400),
            resource: b,
        });
    }
    for (const a of args.resources.filter((r) => r.type === AZ_ACCOUNT)) {
        const account = str(a.props.accountName) ?? str(a.props.name) ?? a.name;
        const policies = azureSide(args, a, [AZ_IMMUTABILITY]);
        for (const c of azureContainersOf(args, a)) {
            const p = policies.find((x) => str(x.props.containerName) === containerName(c));
            const days = Number(p?.props.immutabilityPeriodSinceCreationInDays ?? 0);
            out.push({ name: `${account}/${containerName(c)}`, cloud: "azure", retentionDays: days, resource: c });
        }
    }
    return out;
}

/** The declared S3 bucket / GCS bucket a lifecycle resource or rule set belongs to. */
export function storeOfBucketRef(all: Store[], ref: unknown): Store | undefined {
    const r = str(ref);
    if (r === undefined) return undefined;
    return all.find(
        (s) =>
            s.name === r || str(s.resource.props.id) === r || str(s.resource.props.arn) === r || s.resource.name === r,
    );
}

/** Sidecars that write to a store with rclone. */
export const STORE_WRITER_ROLES = ["snapshot-uploader", "audit-shipper"] as const;

export interface Remote {
    name: string;
    type: string;
    account?: string;
}

function uploadText(u: Props): string | undefined {
    return (
        str(u.content) ??
        (str(u.contentBase64) !== undefined ? Buffer.from(str(u.contentBase64)!, "base64").toString("utf8") : undefined)
    );
}

/** The remotes of a container's uploaded rclone.conf (`[name]` sections with `type` and `account`). */
export function rcloneRemotes(props: Props): Map<string, Remote> {
    const out = new Map<string, Remote>();
    for (const u of arr(props.uploads)) {
        const o = obj(u);
        if (!o || !(str(o.file) ?? "").endsWith("rclone.conf")) continue;
        let cur: Remote | undefined;
        for (const line of (uploadText(o) ?? "").split("\n")) {
            const sec = /^\s*\[([^\]]+)\]\s*$/.exec(line);
            if (sec) {
                cur = { name: sec[1], type: "" };
                out.set(cur.name, cur);
                continue;
            }
            const kv = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
            if (cur && kv && kv[1] === "type") cur.type = kv[2];
            if (cur && kv && kv[1] === "account") cur.account = kv[2];
        }
    }
    for (const e of arr(props.envs).map(String)) {
        const m = /^RCLONE_CONFIG_([A-Z0-9_]+)_TYPE=(.*)$/.exec(e);
        if (m) out.set(m[1].toLowerCase(), { name: m[1].toLowerCase(), type: m[2] });
    }
    return out;
}

/** Every `<remote>:<root>` the container's command or entrypoint names, and on-the-fly `:backend:` remotes. */
export function rcloneTargets(props: Props, remotes: Map<string, Remote>): { remote: string; root: string }[] {
    const text = [...arr(props.entrypoints), ...arr(props.command)].map(String).join("\n");
    const out: { remote: string; root: string }[] = [];
    const names = [...remotes.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    if (names.length > 0) {
        const re = new RegExp(`(?:^|[\\s"'=])(${names.join("|")}):([^\\s"'/;]*)`, "g");
        for (const m of text.matchAll(re)) out.push({ remote: m[1], root: m[2] });
    }
    for (const m of text.matchAll(/(?:^|[\s"'=])(:[a-z ]+[,:][^\s"']*)/g)) out.push({ remote: m[1], root: "" });
    return out;
}

export function storeWriters(args: StackValidationArgs): PolicyResource[] {
    return args.resources.filter(
        (r) => r.type === TYPES.container && (STORE_WRITER_ROLES as readonly string[]).includes(roleOf(r.props) ?? ""),
    );
}

const CLOUD_OF_TYPE: Record<string, Store["cloud"]> = {
    s3: "aws",
    "google cloud storage": "gcp",
    gcs: "gcp",
    azureblob: "azure",
};

/** The declared store a target names, or why it names none. */
export function storeOfTarget(all: Store[], remote: Remote | undefined, root: string): { store?: Store; why?: string } {
    if (!remote) return { why: "an rclone remote defined nowhere in its rclone.conf" };
    const cloud = CLOUD_OF_TYPE[remote.type];
    if (!cloud)
        return { why: `remote ${remote.name} of type "${remote.type || "unset"}", which is not a cloud bucket` };
    const name = cloud === "azure" ? `${remote.account ?? "?"}/${root}` : root;
    const store = all.find((s) => s.cloud === cloud && s.name === name);
    return store ? { store } : { why: `${remote.name}:${root} (${name}), which is not a bucket this stack declares` };
}
