/**
 * What the fault, restore and load files of the real-server tier do to a live cluster as an operator
 * or a client would: find the active node, log in as the backend, get an emergency root token through
 * the recovery keys, stop a node, and record figures in out/conformance.json.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { sendRaw } from "../../../components/vault/http";
import { createVaultHttp, type VaultHttp } from "../../../scripts/loadtest/http";
import { decryptShare, healthStatus, type Live } from "./bringup";
import { REPO, call, stop, waitUntil, type Node } from "./cluster";

export type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const OUT_DIR = path.join(REPO, "out");
export const CONFORMANCE_JSON = path.join(OUT_DIR, "conformance.json");

/**
 * Merge `figures` into out/conformance.json (several test files contribute to it): each top-level key
 * is replaced whole, so no figure from an earlier run survives beside a new one.
 */
export function recordFigures(figures: Record<string, unknown>): void {
    fs.mkdirSync(OUT_DIR, { recursive: true });
    let current: Record<string, unknown> = {};
    try {
        current = JSON.parse(fs.readFileSync(CONFORMANCE_JSON, "utf8")) as Record<string, unknown>;
    } catch {
        /* none yet */
    }
    fs.writeFileSync(CONFORMANCE_JSON, JSON.stringify({ ...current, ...figures }, null, 2) + "\n");
    console.log(`conformance figures: ${JSON.stringify(figures)}`);
}

/** The node that answers `sys/health` with 200 (active; standbys answer 429), among `among`. */
export async function activeNode(live: Live, timeoutMs = 30000, among: Node[] = live.nodes): Promise<Node> {
    return waitUntil("an active node", timeoutMs, async () => {
        for (const n of among) {
            const h = await call(n.http, "GET", "sys/health").catch(() => undefined);
            if (h?.status === 200) return n;
        }
        return undefined;
    });
}

export async function allUnsealed(live: Live, timeoutMs: number): Promise<void> {
    await waitUntil("every node unsealed", timeoutMs, async () => {
        const s = await Promise.all(live.nodes.map((n) => healthStatus(n).catch(() => 0)));
        return s.every((x) => x === 200) ? true : undefined;
    });
}

/** Log in as the backend does (unwrapping its wrapped secret ID once); cached per cluster. */
const backendCache = new WeakMap<Live, { token: string; secretId: string }>();
export async function backendLogin(live: Live): Promise<{ token: string; secretId: string }> {
    const env = live.backendEnv;
    let secretId = backendCache.get(live)?.secretId ?? env.VAULT_SECRET_ID;
    if (!secretId) {
        const un = await call(live.backendHttp, "POST", "sys/wrapping/unwrap", env.VAULT_WRAPPED_SECRET_ID);
        assert.equal(un.status, 200, "the backend's wrapped secret ID unwraps");
        secretId = (un.body as Body).data.secret_id as string;
    }
    const login = await call(live.backendHttp, "POST", "auth/approle/login", undefined, {
        role_id: env.VAULT_ROLE_ID,
        secret_id: secretId,
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const out = { token: (login.body as Body).auth.client_token as string, secretId };
    backendCache.set(live, out);
    return out;
}

/** The snapshot agent's token, from its AppRole (the agent's own login). */
export async function snapshotAgentLogin(live: Live, n: Node): Promise<string> {
    const login = await call(n.http, "POST", "auth/approle/login", undefined, {
        role_id: live.applied.roleIds["snapshot-agent"],
        secret_id: live.applied.secretIds["snapshot-agent"],
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    return (login.body as Body).auth.client_token as string;
}

/**
 * `operator generate-root` with the PGP-encrypted recovery shares (the runbook's emergency
 * procedure: decrypt each share with the operator's key, start an attempt, give the shares, decode
 * the token: base64 of the token XOR the one-time password). The root token was revoked at
 * bootstrap. Revoke what this returns when done.
 */
export async function generateRoot(live: Live, shares = live.init.recoveryKeys): Promise<string> {
    const n = await activeNode(live);
    // A completed attempt stays on record until cancelled; a new one is refused until then.
    await call(n.http, "DELETE", "sys/generate-root/attempt");
    const start = await call(n.http, "PUT", "sys/generate-root/attempt", undefined, {});
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const { otp, nonce } = start.body as Body;
    let last: Body = {};
    for (const share of shares.slice(0, live.declared.config.recovery.threshold)) {
        const upd = await call(n.http, "PUT", "sys/generate-root/update", undefined, {
            key: decryptShare(live, share),
            nonce,
        });
        assert.equal(upd.status, 200, JSON.stringify(upd.body));
        last = upd.body as Body;
    }
    assert.equal(last.complete, true);
    const enc = Buffer.from(String(last.encoded_token), "base64");
    const pad = Buffer.from(String(otp));
    return Buffer.from(enc.map((b, i) => b ^ pad[i])).toString("utf8");
}

/** Stop only the cluster's nodes (the unsealer keeps running). */
export async function stopNodes(live: Live, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await Promise.all(live.declared.nodeNames.map((n) => stop(live.procs[n], signal)));
}

/** A keep-alive client on one node (the load test's own HTTP client), for bulk reads and writes. */
export function bulkClient(live: Live, n: Node, sockets = 16): VaultHttp {
    return createVaultHttp({
        addr: `https://127.0.0.1:${n.ports.api}`,
        caCert: live.caPem,
        maxSockets: sockets,
        timeoutMs: 30000,
    });
}

/** Run `work(i)` for i in [0, count) with `concurrency` in flight. */
export async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(
        Array.from({ length: Math.min(concurrency, count) }, async () => {
            while (next < count) await work(next++);
        }),
    );
}

/** Lines of a JSON-lines file (0 when it does not exist). */
export function lineCount(file: string): number {
    if (!fs.existsSync(file)) return 0;
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim()).length;
}

/** `GET sys/storage/raft/snapshot` as the snapshot agent does it: the snapshot's bytes. */
export async function takeSnapshot(live: Live, n: Node, token: string): Promise<Buffer> {
    const res = await sendRaw({
        method: "GET",
        url: `https://127.0.0.1:${n.ports.api}/v1/sys/storage/raft/snapshot`,
        headers: { "X-Vault-Token": token },
        caCert: live.caPem,
        servername: n.name,
        timeoutMs: 60000,
    });
    if (res.status !== 200) throw new Error(`snapshot answered ${res.status}: ${res.bytes.toString("utf8")}`);
    return res.bytes;
}
