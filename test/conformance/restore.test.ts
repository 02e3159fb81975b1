/**
 * Real-server tier, part 2: the Raft restore drill, with the program's own `restoreSnapshot()`
 * (components/backup/restore.ts, what `npm run restore` calls) against live Vault 1.21.1 clusters of
 * the `local` stack as declared (tier-1 harness).
 *
 * What this proves: a snapshot taken with the snapshot-agent role's token holds all 10,000 secrets
 * with their versions; restored into the same cluster after half were deleted, and into a fresh
 * 3-node cluster that shares only the transit key (new data, CA, certificates, init), every secret
 * reads back with its version; a cluster sealed by a different key takes the snapshot (Vault answers 204) and then seals every
 * node, which `restoreSnapshot({ verifyUnsealedMs })` reports with the message the runbook documents.
 *
 * What it does not prove: the snapshot agent container or the bucket upload (test/docker, test/s3),
 * `npm run restore`'s fetch from a cloud bucket, or restore times on other hardware.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { SEALED_AFTER_RESTORE, restoreSnapshot } from "../../components/backup/restore";
import { bringUp, tearDown, type Live } from "./lib/bringup";
import { call, waitUntil, type Node } from "./lib/cluster";
import {
    activeNode,
    backendLogin,
    bulkClient,
    generateRoot,
    pool,
    recordFigures,
    snapshotAgentLogin,
    stopNodes,
    takeSnapshot,
    type Body,
} from "./lib/ops";

const SECRETS = 10_000;
const key = (i: number) => `drill/s${String(i).padStart(5, "0")}`;
/** Every tenth secret is written twice, so versions are checked too. */
const versionOf = (i: number) => (i % 10 === 0 ? 2 : 1);
const valueOf = (i: number, version: number) => `drill-${i}-v${version}`;
const CONCURRENCY = 32;

interface ReadBack {
    ok: number;
    missing: number;
    wrong: string[];
    ms: number;
}

async function readBack(live: Live, n: Node, token: string): Promise<ReadBack> {
    const m = live.backendEnv.VAULT_MOUNT;
    const client = bulkClient(live, n, CONCURRENCY);
    const t0 = Date.now();
    const res: ReadBack = { ok: 0, missing: 0, wrong: [], ms: 0 };
    try {
        await pool(SECRETS, CONCURRENCY, async (i) => {
            const r = await client.request({ method: "GET", path: `${m}/data/${key(i)}`, token });
            const d = r.body as Body | undefined;
            if (r.status === 404) res.missing++;
            else if (
                r.status === 200 &&
                d?.data?.data?.v === valueOf(i, versionOf(i)) &&
                d?.data?.metadata?.version === versionOf(i)
            )
                res.ok++;
            else if (res.wrong.length < 10) res.wrong.push(`${key(i)}: ${r.status} ${JSON.stringify(d?.data)}`);
        });
    } finally {
        client.close();
    }
    res.ms = Date.now() - t0;
    return res;
}

/** Wait until the cluster serves a restored secret through `n` (a restore reloads the core). */
async function servingAgain(live: Live, n: Node, token: string): Promise<void> {
    const m = live.backendEnv.VAULT_MOUNT;
    await waitUntil("the restored cluster serving", 60000, async () => {
        const r = await call(n.http, "GET", `${m}/data/${key(SECRETS - 1)}`, token).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
    });
}

let a: Live | undefined;
let b: Live | undefined;
let c: Live | undefined;
let snapshot: Buffer;
let backendToken: string;
const figures: Record<string, number> = {};

describe("real Vault 1.21.1: Raft restore drill", { timeout: 20 * 60_000 }, () => {
    after(async () => {
        // tearDown stops every process this file started; then each cluster's folder goes.
        for (const l of [c, b, a]) await tearDown(l);
    });

    it("(a) 10,000 secrets, snapshot by the snapshot agent's token, half deleted, restored into the same cluster: all back with their versions", async () => {
        a = await bringUp();
        const m = a.backendEnv.VAULT_MOUNT;
        backendToken = (await backendLogin(a)).token;
        const active = await activeNode(a);
        const client = bulkClient(a, active, CONCURRENCY);
        let t0 = Date.now();
        try {
            const write = async (i: number, version: number) => {
                const r = await client.request({
                    method: "POST",
                    path: `${m}/data/${key(i)}`,
                    token: backendToken,
                    body: { data: { v: valueOf(i, version) } },
                });
                assert.equal(r.status, 200, `write ${key(i)}: ${r.status} ${JSON.stringify(r.body)}`);
            };
            await pool(SECRETS, CONCURRENCY, (i) => write(i, 1));
            await pool(SECRETS / 10, CONCURRENCY, (j) => write(j * 10, 2));
        } finally {
            client.close();
        }
        figures.writeMs = Date.now() - t0;

        // The emergency token the restore needs (sudo), made before the snapshot so it survives it.
        const root = await generateRoot(a);
        const agentToken = await snapshotAgentLogin(a, active);
        t0 = Date.now();
        snapshot = await takeSnapshot(a, active, agentToken);
        figures.snapshotMs = Date.now() - t0;
        figures.snapshotBytes = snapshot.length;

        // Lose half: every odd secret, all versions.
        await pool(SECRETS / 2, CONCURRENCY, async (j) => {
            const r = await call(active.http, "DELETE", `${m}/metadata/${key(2 * j + 1)}`, backendToken);
            assert.equal(r.status, 204);
        });
        for (const i of [0, 1, 2, 3, 9998, 9999])
            assert.equal(
                (await call(active.http, "GET", `${m}/data/${key(i)}`, backendToken)).status,
                i % 2 ? 404 : 200,
            );

        t0 = Date.now();
        const res = await restoreSnapshot({
            addr: `https://127.0.0.1:${active.ports.api}`,
            caCert: a.caPem,
            token: root,
            snapshot,
            confirm: true,
        });
        assert.equal(res.endpoint, "/v1/sys/storage/raft/snapshot");
        await servingAgain(a, await activeNode(a, 60000), backendToken);
        figures.sameClusterMs = Date.now() - t0;
        const back = await readBack(a, await activeNode(a), backendToken);
        figures.sameClusterReadBackMs = back.ms;
        assert.deepEqual(back, { ...back, ok: SECRETS, missing: 0, wrong: [] });
        assert.equal((await call(active.http, "POST", "auth/token/revoke-self", root)).status, 204);
    });

    it("(b) restored with snapshot-force into a fresh 3-node cluster that shares only the transit key: all 10,000 back with their versions", async () => {
        assert.ok(a && snapshot, "(a) ran");
        await stopNodes(a);
        b = await bringUp({ unsealerOf: a });
        assert.notEqual(b.caPem, a.caPem, "a new CA and certificates");
        const root = await generateRoot(b);
        const active = await activeNode(b);
        const m = b.backendEnv.VAULT_MOUNT;
        assert.equal((await call(active.http, "GET", `${m}/data/${key(0)}`, root)).status, 404, "fresh: no secrets");
        const t0 = Date.now();
        const res = await restoreSnapshot({
            addr: `https://127.0.0.1:${active.ports.api}`,
            caCert: b.caPem,
            token: root,
            snapshot,
            force: true,
            confirm: true,
            // The program's own check that the cluster did not seal itself (see (c)).
            verifyUnsealedMs: 10000,
        });
        assert.equal(res.endpoint, "/v1/sys/storage/raft/snapshot-force");
        // The backend's token from the first cluster is in the snapshot: it works here now.
        await servingAgain(b, await activeNode(b, 60000), backendToken);
        figures.freshClusterWithVerifyMs = Date.now() - t0;
        const back = await readBack(b, await activeNode(b), backendToken);
        figures.freshClusterReadBackMs = back.ms;
        assert.deepEqual(back, { ...back, ok: SECRETS, missing: 0, wrong: [] });
        // This cluster's own bootstrap tokens are gone with its old data.
        assert.equal((await call(active.http, "GET", "auth/token/lookup-self", root)).status, 403);
        recordFigures({
            restore: { secrets: SECRETS, ms: figures.sameClusterMs, ok: true },
            restoreDrill: figures,
        });
    });

    it("(c) a cluster sealed by a different transit key ends sealed, and restoreSnapshot fails with the documented message", async () => {
        assert.ok(a && b && snapshot, "(a) and (b) ran");
        await tearDown(b);
        b = undefined;
        await tearDown(a);
        a = undefined;
        c = await bringUp();
        const root = await generateRoot(c);
        const active = await activeNode(c);
        // Vault 1.21.1 accepts it (204), then cannot decrypt the snapshot's keys with this seal and
        // every node seals; restoreSnapshot's check turns that into the documented error.
        await assert.rejects(
            restoreSnapshot({
                addr: `https://127.0.0.1:${active.ports.api}`,
                caCert: c.caPem,
                token: root,
                snapshot,
                force: true,
                confirm: true,
                verifyUnsealedMs: 15000,
            }),
            { message: SEALED_AFTER_RESTORE },
        );
        const cl = c;
        await waitUntil("every node sealed", 30000, async () => {
            const s = await Promise.all(cl.nodes.map((n) => call(n.http, "GET", "sys/seal-status")));
            return s.every((x) => (x.body as Body).sealed === true) ? true : undefined;
        });
        const logs = cl.declared.nodeNames.map((n) => fs.readFileSync(path.join(cl.base, "logs", `${n}.log`), "utf8"));
        for (const log of logs) {
            assert.match(log, /raft snapshot restore failed to get stored keys/);
            assert.match(log, /failed to decrypt keys from storage: error decrypting seal wrapped value/);
        }
        recordFigures({ restoreForeignSealKey: { reported: true, allNodesSealed: true } });
    });
});
