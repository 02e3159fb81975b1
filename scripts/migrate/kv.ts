/**
 * The KV calls of `npm run migrate`, on one side (source or target): listing, metadata, versions,
 * writes with check-and-set. Every error names the side, the method and the path, and Vault's own
 * error text; never a value or a token.
 */
import { backoffDelay, realSleep } from "../../components/vault/http";
import type { VaultRequest, VaultResponse } from "../loadtest/types";
import { vaultErrors } from "../loadtest/types";
import { encodePath } from "./paths";

export type SideName = "source" | "target";

export interface Side {
    name: SideName;
    addr: string;
    /** One request, any status; rejects only when no answer came. */
    send: (req: VaultRequest) => Promise<VaultResponse>;
    /** The token for the next request (a fresh login when the last one is about to expire). */
    token: () => Promise<string>;
    /** The CLI option that sets this side's CA file, for TLS failure messages. */
    caOption: string;
}

export type Method = "GET" | "POST" | "DELETE";

/** A failure the operator reads: one line, no value. `status` 0 = no HTTP answer. */
export function migrateError(message: string, status = 0): Error & { status: number } {
    return Object.assign(new Error(message), { name: "MigrateError", status });
}

const TLS_CODES = new Set([
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "UNABLE_TO_GET_ISSUER_CERT",
    "CERT_HAS_EXPIRED",
    "CERT_NOT_YET_VALID",
    "ERR_TLS_CERT_ALTNAME_INVALID",
    "CERT_UNTRUSTED",
]);

/** The sentence for a request that got no HTTP answer: TLS, refused, unresolvable, timed out. */
export function transportError(
    side: Pick<Side, "name" | "addr" | "caOption">,
    err: unknown,
): Error & { status: number } {
    const e = err as { code?: string; message?: string };
    const code = e?.code ?? "";
    const msg = e?.message ?? String(err);
    if (TLS_CODES.has(code))
        return migrateError(
            `TLS verification of the ${side.name} (${side.addr}) failed: ${msg}. Pass the CA that signed its certificate with ${side.caOption} <pem file>` +
                (code === "ERR_TLS_CERT_ALTNAME_INVALID"
                    ? " (and the name its certificate carries with --target-server-name)"
                    : ""),
        );
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "EAI_AGAIN")
        return migrateError(
            `the ${side.name} Vault at ${side.addr} is unreachable (${code}): check the address and that it runs`,
        );
    return migrateError(`the ${side.name} Vault at ${side.addr} did not answer (${code || msg})`);
}

export interface CallOptions {
    /** Statuses returned to the caller rather than thrown. */
    ok: number[];
    body?: unknown;
    /** Tries for a network error, 5xx or 429 (default 6). Writes pass 1 when a retry could repeat them. */
    attempts?: number;
    /** No token (sys/seal-status, login). */
    anonymous?: boolean;
}

/** One call with retries on transient failures; statuses outside `ok` throw a one-line error. */
export async function call(side: Side, method: Method, path: string, o: CallOptions): Promise<VaultResponse> {
    const attempts = o.attempts ?? 6;
    let last: unknown;
    for (let i = 1; i <= attempts; i++) {
        let res: VaultResponse | undefined;
        try {
            const token = o.anonymous ? undefined : await side.token();
            res = await side.send({ method: method as "GET", path, token, body: o.body });
        } catch (e) {
            if ((e as { name?: string }).name === "MigrateError") throw e;
            last = e;
            const code = (e as { code?: string }).code ?? "";
            if (TLS_CODES.has(code) || code === "ENOTFOUND") break;
        }
        if (res) {
            if (o.ok.includes(res.status)) return res;
            if (res.status < 500 && res.status !== 429) throw statusError(side, method, path, res);
            last = res;
        }
        if (i < attempts) await realSleep(backoffDelay({ delayMs: 250, factor: 2, maxDelayMs: 5000 }, i));
    }
    if (last && typeof last === "object" && "status" in last)
        throw statusError(side, method, path, last as VaultResponse);
    throw transportError(side, last);
}

function statusError(side: Side, method: string, path: string, res: VaultResponse): Error & { status: number } {
    // Vault joins several errors over lines ("2 errors occurred:\n\t* permission denied\n…"): one line here.
    const why = vaultErrors(res.body)
        .replace(/\s*\n\s*/g, " ")
        .trim();
    const where = `${method} /v1/${path.split("?")[0]}`;
    if (res.status === 403)
        return migrateError(
            `the ${side.name} refused ${where} (403: ${why}): the ${side.name} token is wrong, expired, or lacks this permission`,
            403,
        );
    if (res.status === 503 && /sealed/i.test(why))
        return migrateError(`the ${side.name} Vault at ${side.addr} is sealed: unseal it, then run again`, 503);
    return migrateError(`the ${side.name} answered ${res.status} to ${where}: ${why}`, res.status);
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});

// ---------------------------------------------------------------------------------------------
// Mounts

export interface MountInfo {
    type: string;
    /** "1" or "2" for kv; "" otherwise. */
    version: string;
}

/**
 * The mount's type and KV version through `sys/internal/ui/mounts/<path>`, which any token with a
 * capability under the mount may read (no `sys/mounts` grant needed).
 */
export async function mountInfo(side: Side, mount: string): Promise<MountInfo | undefined> {
    const res = await call(side, "GET", `sys/internal/ui/mounts/${encodePath(mount)}`, { ok: [200, 400, 404] });
    if (res.status !== 200) return undefined;
    const d = obj(obj(res.body).data);
    if (typeof d.type !== "string") return undefined;
    const found = String(d.path ?? "").replace(/\/+$/, "");
    if (found && found !== mount) return undefined;
    const version = String(obj(d.options).version ?? (d.type === "kv" ? "1" : ""));
    return { type: d.type, version: d.type === "kv" ? (version === "2" ? "2" : "1") : "" };
}

// ---------------------------------------------------------------------------------------------
// Listing

/** Every secret under `prefix` (relative names, "/"-joined), depth-first, folders listed in parallel. */
export async function listRecursive(
    side: Side,
    listPath: (folder: string) => string,
    prefix: string,
    concurrency = 16,
): Promise<string[]> {
    const out: string[] = [];
    const queue: string[] = [prefix ? `${prefix}/` : ""];
    let active = 0;
    let failed: unknown;
    await new Promise<void>((resolve) => {
        const pump = () => {
            if (failed !== undefined || (queue.length === 0 && active === 0)) return resolve();
            while (active < concurrency && queue.length > 0 && failed === undefined) {
                const folder = queue.shift()!;
                active++;
                call(side, "GET", `${listPath(folder)}?list=true`, { ok: [200, 404] })
                    .then((res) => {
                        const keys = obj(obj(res.body).data).keys;
                        for (const k of Array.isArray(keys) ? keys.map(String) : []) {
                            if (k.endsWith("/")) queue.push(`${folder}${k}`);
                            else out.push(`${folder}${k}`);
                        }
                    })
                    .catch((e) => (failed = e))
                    .finally(() => {
                        active--;
                        pump();
                    });
            }
        };
        pump();
    });
    if (failed !== undefined) throw failed;
    const cut = prefix ? prefix.length + 1 : 0;
    return out.map((p) => p.slice(cut)).sort();
}

export const kv2List = (mount: string) => (folder: string) => `${mount}/metadata/${encodePath(folder)}`;
export const kv1List = (mount: string) => (folder: string) => `${mount}/${encodePath(folder)}`;

// ---------------------------------------------------------------------------------------------
// KV v2

export type VersionState = "live" | "deleted" | "destroyed";

/** The per-secret settings that travel with the secret. */
export interface SecretSettings {
    max_versions: number;
    cas_required: boolean;
    delete_version_after: string;
    custom_metadata: Record<string, string>;
}

export interface Meta {
    current: number;
    /** The lowest version the secret still lists (0 when none was ever written). */
    oldest: number;
    updated: string;
    versions: Map<number, VersionState>;
    settings: SecretSettings;
}

/** "0s", "", undefined → "0s"; Vault answers "0s" for an unset delete_version_after. */
function durationText(v: unknown): string {
    const s = typeof v === "string" ? v : "";
    return s === "" || s === "0" ? "0s" : s;
}

/**
 * A version is deleted once its deletion_time has passed. With `delete_version_after` set, Vault
 * writes the scheduled (future) deletion time on every version when it is created: still live.
 */
export function deletedBy(deletionTime: unknown, now: number): boolean {
    return typeof deletionTime === "string" && deletionTime !== "" && Date.parse(deletionTime) <= now;
}

export function parseMeta(body: unknown, now = Date.now()): Meta {
    const d = obj(obj(body).data);
    const versions = new Map<number, VersionState>();
    for (const [k, v] of Object.entries(obj(d.versions))) {
        const vs = obj(v);
        versions.set(
            Number(k),
            vs.destroyed === true ? "destroyed" : deletedBy(vs.deletion_time, now) ? "deleted" : "live",
        );
    }
    const custom = obj(d.custom_metadata);
    return {
        current: Number(d.current_version ?? 0),
        oldest: Number(d.oldest_version ?? 0),
        updated: String(d.updated_time ?? ""),
        versions,
        settings: {
            max_versions: Number(d.max_versions ?? 0),
            cas_required: d.cas_required === true,
            delete_version_after: durationText(d.delete_version_after),
            custom_metadata: Object.fromEntries(Object.entries(custom).map(([k, v]) => [k, String(v)])),
        },
    };
}

export async function readMeta(side: Side, mount: string, path: string): Promise<Meta | undefined> {
    const res = await call(side, "GET", `${mount}/metadata/${encodePath(path)}`, { ok: [200, 404] });
    return res.status === 404 ? undefined : parseMeta(res.body);
}

/** A version's data, or undefined when it is deleted or destroyed. */
export async function readVersion(side: Side, mount: string, path: string, version: number): Promise<Obj | undefined> {
    const res = await call(side, "GET", `${mount}/data/${encodePath(path)}?version=${version}`, { ok: [200, 404] });
    if (res.status === 404) return undefined;
    const data = obj(obj(res.body).data).data;
    return data === null || data === undefined ? undefined : obj(data);
}

/** What a KV v2 write answers about the version it made (its `data`); "" when the answer lacks it. */
export interface WriteAnswer {
    version: number;
    created_time: string;
    deletion_time: string;
}

export function parseWriteAnswer(body: unknown): WriteAnswer {
    const d = obj(obj(body).data);
    return {
        version: Number(d.version ?? 0),
        created_time: typeof d.created_time === "string" ? d.created_time : "",
        deletion_time: typeof d.deletion_time === "string" ? d.deletion_time : "",
    };
}

/** Write version `cas + 1`: Vault refuses (400) unless the secret's current version is `cas`. */
export async function writeVersion(
    side: Side,
    mount: string,
    path: string,
    data: Obj,
    cas: number,
): Promise<VaultResponse> {
    return call(side, "POST", `${mount}/data/${encodePath(path)}`, {
        ok: [200, 204, 400],
        body: { options: { cas }, data },
        attempts: 1,
    });
}

export async function deleteVersions(side: Side, mount: string, path: string, versions: number[]): Promise<void> {
    if (versions.length > 0)
        await call(side, "POST", `${mount}/delete/${encodePath(path)}`, { ok: [200, 204], body: { versions } });
}

export async function destroyVersions(side: Side, mount: string, path: string, versions: number[]): Promise<void> {
    if (versions.length > 0)
        await call(side, "POST", `${mount}/destroy/${encodePath(path)}`, { ok: [200, 204], body: { versions } });
}

export async function writeSettings(side: Side, mount: string, path: string, s: SecretSettings): Promise<void> {
    await call(side, "POST", `${mount}/metadata/${encodePath(path)}`, { ok: [200, 204], body: s });
}

/** Every version and the metadata of one secret (the backend's delete-metadata call). */
export async function deleteSecret(side: Side, mount: string, path: string): Promise<void> {
    await call(side, "DELETE", `${mount}/metadata/${encodePath(path)}`, { ok: [200, 204, 404] });
}

// ---------------------------------------------------------------------------------------------
// KV v1

export async function readV1(side: Side, mount: string, path: string): Promise<Obj | undefined> {
    const res = await call(side, "GET", `${mount}/${encodePath(path)}`, { ok: [200, 404] });
    return res.status === 404 ? undefined : obj(obj(res.body).data);
}
