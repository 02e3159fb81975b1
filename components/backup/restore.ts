/**
 * Restore a Raft snapshot into a running cluster, callable from a test or from scripts/restore.ts.
 *
 * The HTTP request is planned by a pure function (`planRestore`) and sent by the project's Vault
 * HTTP client (`httpsTransport`, over ../vault/http.ts), so tests check the exact request with a
 * fake transport and the real-server tier sends it to a real cluster.
 *
 * Vault: `POST /v1/sys/storage/raft/snapshot` restores a snapshot of this same cluster;
 * `POST /v1/sys/storage/raft/snapshot-force` also accepts one from another cluster (a fresh
 * cluster built to recover), which must use the same seal key: the snapshot's data is encrypted
 * under the keyring that key protects. Both need a `sudo` token (root or generate-root).
 */
import * as fs from "node:fs";
import { sendRaw, vaultErrors } from "../vault/http";

export interface RestoreOptions {
    /** Vault address, `https://host:8200` (no trailing `/v1`). */
    addr: string;
    /** PEM of the CA that signed Vault's certificate; required for https. */
    caCert?: string;
    /** A token with sudo on sys/storage/raft/snapshot(-force). */
    token: string;
    /** The snapshot's bytes, or a path to a snapshot file. */
    snapshot: Buffer | string;
    /** Use snapshot-force: restoring into a different (fresh) cluster. */
    force?: boolean;
    /** Must be exactly true: a restore replaces every secret, policy and token in the cluster. */
    confirm: boolean;
    /**
     * After Vault accepted the snapshot, watch `sys/seal-status` at `addr` this long (ms) and fail
     * with {@link SEALED_AFTER_RESTORE} if the cluster seals itself. Vault 1.21.1 accepts (204) a
     * snapshot taken under another seal key and only then finds it cannot decrypt its keys, and
     * every node seals (the real-server tier's restore drill shows it). Default 0: no check;
     * `npm run restore` uses 15 000.
     */
    verifyUnsealedMs?: number;
}

export interface RestorePlan {
    method: "POST" | "GET";
    url: string;
    headers: Record<string, string>;
    body: Buffer;
    caCert?: string;
}

export interface TransportResponse {
    status: number;
    body: string;
}

export type RestoreTransport = (plan: RestorePlan) => Promise<TransportResponse>;

export class RestoreRefused extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RestoreRefused";
    }
}

/** The error when the cluster sealed itself after accepting a snapshot (runbook, "Restore"). */
export const SEALED_AFTER_RESTORE =
    "Vault accepted the snapshot, then sealed itself: this cluster's seal cannot decrypt the snapshot's keys. A snapshot restores only into a cluster unsealed by the seal key (KMS or transit key) it was taken under. This cluster now holds the snapshot's data and stays sealed: rebuild it with the snapshot's seal key and restore again (runbook, Restore into a fresh cluster)";

export const CONFIRMATION_REQUIRED =
    "refusing to restore without explicit confirmation: a restore replaces every secret, policy and token in the cluster with the snapshot's; pass confirm: true (CLI: --confirm)";

/** The exact request a restore sends; throws {@link RestoreRefused} when it must not run. */
export function planRestore(opts: Omit<RestoreOptions, "snapshot"> & { snapshot: Buffer }): RestorePlan {
    if (opts.confirm !== true) throw new RestoreRefused(CONFIRMATION_REQUIRED);
    let url: URL;
    try {
        url = new URL(opts.addr);
    } catch {
        throw new RestoreRefused(`addr ${JSON.stringify(opts.addr)} is not a URL such as https://vault:8200`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
        throw new RestoreRefused(`addr must use https:// (or http:// behind a trusted proxy), got ${url.protocol}`);
    if (url.protocol === "https:" && !opts.caCert)
        throw new RestoreRefused(
            "caCert is required for an https address: the snapshot and token must reach the right server",
        );
    if (!opts.token)
        throw new RestoreRefused("a token is required (VAULT_TOKEN): a root or generate-root token with sudo");
    if (opts.snapshot.length === 0) throw new RestoreRefused("the snapshot is empty");
    const base = opts.addr.replace(/\/+$/, "");
    return {
        method: "POST",
        url: `${base}/v1/sys/storage/raft/${opts.force ? "snapshot-force" : "snapshot"}`,
        headers: {
            "X-Vault-Token": opts.token,
            "Content-Type": "application/octet-stream",
            "Content-Length": String(opts.snapshot.length),
        },
        body: opts.snapshot,
        caCert: opts.caCert,
    };
}

/** Sends a plan through the Vault HTTP client (the CA pinned for https); a snapshot upload may take 10 minutes. */
export const httpsTransport: RestoreTransport = async (plan) => {
    const res = await sendRaw({
        method: plan.method,
        url: plan.url,
        headers: plan.headers,
        body: plan.method === "GET" ? undefined : plan.body,
        caCert: plan.caCert,
        timeoutMs: 600_000,
    });
    return { status: res.status, body: res.bytes.toString("utf8") };
};

export interface RestoreResult {
    status: number;
    endpoint: string;
    bytes: number;
}

/**
 * Restore `snapshot` into the cluster at `addr`. Resolves when Vault accepted it (2xx); rejects
 * with Vault's error text otherwise. After a restore, every token issued since the snapshot was
 * taken is gone, including the one used here if it was created later.
 */
export async function restoreSnapshot(
    opts: RestoreOptions,
    transport: RestoreTransport = httpsTransport,
): Promise<RestoreResult> {
    if (opts.confirm !== true) throw new RestoreRefused(CONFIRMATION_REQUIRED);
    const bytes = typeof opts.snapshot === "string" ? fs.readFileSync(opts.snapshot) : opts.snapshot;
    const plan = planRestore({ ...opts, snapshot: bytes });
    const res = await transport(plan);
    if (res.status < 200 || res.status >= 300) {
        let detail = res.body.trim();
        try {
            detail = vaultErrors(JSON.parse(res.body)) || detail;
        } catch {
            // not JSON: keep the text
        }
        throw new Error(`Vault refused the restore (${res.status} on ${new URL(plan.url).pathname}): ${detail}`);
    }
    const verify = opts.verifyUnsealedMs ?? 0;
    if (verify > 0) await watchSealed(plan, verify, transport);
    return { status: res.status, endpoint: new URL(plan.url).pathname, bytes: bytes.length };
}

/** Poll `sys/seal-status` for `ms`; throws {@link SEALED_AFTER_RESTORE} when the node reports sealed. */
async function watchSealed(restore: RestorePlan, ms: number, transport: RestoreTransport): Promise<void> {
    const url = restore.url.replace(/\/v1\/sys\/storage\/raft\/snapshot(-force)?$/, "/v1/sys/seal-status");
    const probe: RestorePlan = { method: "GET", url, headers: {}, body: Buffer.alloc(0), caCert: restore.caCert };
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, Math.min(500, ms)));
        let sealed: boolean | undefined;
        try {
            const res = await transport(probe);
            sealed = (JSON.parse(res.body) as { sealed?: boolean }).sealed;
        } catch {
            continue; // a node reloading after the restore may not answer for a moment
        }
        if (sealed === true) throw new Error(SEALED_AFTER_RESTORE);
    }
}
