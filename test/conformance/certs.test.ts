/**
 * Real-server tier: certificates rotate without restarts (components/tls/nodeTls.ts), on one cluster
 * of the `local` stack as declared (tier-1 harness: Vault 1.21.1 on loopback, transit auto-unseal),
 * each step made by the program's own NodeTls provider as serialised into state, writing through a
 * stand-in Docker Engine API (lib/engine.ts; the real engine is the Docker tier's subject).
 *
 * What this proves:
 * - first start: each node's entrypoint waits for the TLS files, NodeTls writes them (CA 0444,
 *   certificate 0444, key 0400, vault-owned) without a SIGHUP, and Vault starts on them;
 * - "Rotating certificates" (leaves): every node's certificate replaced, one node at a time, while
 *   the backend's Python client (a new TLS handshake per call) and `npm run loadtest` write through a
 *   round-robin TCP passthrough in front of the three nodes (the entry point): the files written,
 *   SIGHUP, the new serial served and verified; zero failed requests, no node process restarted, no
 *   leadership change; each node's serial before and after as a client sees it;
 * - "Rotating certificates" (the CA, two steps) with the backend client running throughout, its CA
 *   delivered as its deployment variable (a redeploy: a new process, then SIGTERM to the old one):
 *   (1) every node and the backend trust both CAs (a bundle), (2) every leaf re-issued by the new
 *   CA, (3) the old CA dropped everywhere; zero failed requests. What SIGHUP does not reload is
 *   measured too: the mTLS join listener keeps the client CA it read at start, so it refuses a
 *   new-CA client certificate until the node restarts (step 4 of the runbook's procedure).
 *
 * Figures: out/conformance.json `certRotation`.
 * Does not prove: Docker's extraction and tini's forwarding (test/docker/local.test.ts does), a cloud
 * load balancer (the passthrough is a local TCP pipe), Railway (its redeploy is modelled as a second
 * process and a SIGTERM to the first), `pulumi up` itself (the provider's diff and update are called
 * as the engine calls them).
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { BACKEND_CA_WRITE_COMMAND } from "../../components/settings/plan";
import { certIdentity, normalSerial } from "../../components/tls/nodeTls";
import { PATHS } from "../../components/topology";
import type { LoadSummary } from "../../scripts/loadtest";
import { bringUp, nodeGate, pushTls, restartNode, tearDown, type Live } from "./lib/bringup";
import { REPO, call, stop, transport, vaultAccount, waitUntil } from "./lib/cluster";
import { OUT_DIR, backendLogin, recordFigures, type Body } from "./lib/ops";
import { TestCa, type Issued } from "./lib/pki";
import { deployBackend, type Deployment } from "./lib/deployment";

let live: Live;
let proxy: net.Server;
let entryPort = 0;
const figures: Record<string, unknown> = {};

/** The entry point: a TCP passthrough sending each new connection to the next node, as the local stack's DNS alias and the cloud load balancers spread clients. */
async function startEntryPoint(): Promise<void> {
    let next = 0;
    proxy = net.createServer((client) => {
        const node = live.nodes[next++ % live.nodes.length];
        const upstream = net.connect(node.ports.api, "127.0.0.1");
        client.pipe(upstream).pipe(client);
        client.on("error", () => upstream.destroy());
        upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    entryPort = (proxy.address() as net.AddressInfo).port;
}

/** What a client sees at `port`: the served certificate's serial, verified against `caPem` under `servername`. */
function handshake(
    port: number,
    caPem: string,
    servername: string,
): Promise<{ serial: string; verified: boolean; error?: string }> {
    return new Promise((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port, servername, ca: caPem, rejectUnauthorized: false });
        s.once("secureConnect", () => {
            const out = {
                serial: normalSerial(s.getPeerCertificate().serialNumber),
                verified: s.authorized,
                ...(s.authorized ? {} : { error: String(s.authorizationError) }),
            };
            s.end();
            resolve(out);
        });
        s.once("error", reject);
    });
}

/** Each node's serial as the backend's client sees it (its CA file, the entry point's name). */
async function servedSerials(caPem: string): Promise<Record<string, string>> {
    const name = new URL(live.backendEnv.VAULT_ADDR).hostname;
    const out: Record<string, string> = {};
    for (const n of live.nodes) {
        const h = await handshake(n.ports.api, caPem, name);
        assert.ok(h.verified, `${n.name}: ${h.error}`);
        out[n.name] = h.serial;
    }
    return out;
}

/** One deployment of the backend (lib/deployment.ts) through the entry point, trusting `caFile`. */
function deploy(caFile: string, prefix: string): Deployment {
    return deployBackend(
        {
            PATH: process.env.PATH,
            VAULT_ADDR: `https://127.0.0.1:${entryPort}`,
            VAULT_CACERT: caFile,
            VAULT_ROLE_ID: live.backendEnv.VAULT_ROLE_ID,
            VAULT_SECRET_ID: secretId,
            VAULT_MOUNT: live.backendEnv.VAULT_MOUNT,
        },
        prefix,
    );
}

/** The backend's CA file as its start step writes it from VAULT_CACERT_BYTES (the deployment variable). */
function backendCaFile(name: string, pem: string): string {
    const file = path.join(live.base, "backend", name);
    execFileSync("sh", ["-c", BACKEND_CA_WRITE_COMMAND], {
        env: { PATH: process.env.PATH, VAULT_CACERT: file, VAULT_CACERT_BYTES: pem },
    });
    return file;
}

let secretId = "";

/** The leader's node id (sys/leader), to count leadership changes. */
async function leader(): Promise<string> {
    const r = await call(live.nodes[0].http, "GET", "sys/leader");
    return String((r.body as Body).leader_address ?? "");
}

/** A leader sampler: every distinct leader address seen, in order. */
function sampleLeaders(): { stop(): Promise<string[]> } {
    const seen: string[] = [];
    let on = true;
    const loop = (async () => {
        while (on) {
            const l = await leader().catch(() => "");
            if (l && seen[seen.length - 1] !== l) seen.push(l);
            await new Promise((r) => setTimeout(r, 250));
        }
    })();
    return {
        stop: async () => {
            on = false;
            await loop;
            return seen;
        },
    };
}

const pidsOf = () => Object.fromEntries(live.declared.nodeNames.map((n) => [n, live.procs[n].proc.pid]));
const alive = (n: string) => live.procs[n].proc.exitCode === null && live.procs[n].proc.signalCode === null;

function material(issued: Issued, caPem: string): Issued & { caPem: string } {
    return { ...issued, caPem };
}

describe("real Vault 1.21.1: certificates rotate without restarts", { timeout: 20 * 60_000 }, () => {
    before(async () => {
        try {
            live = await bringUp();
            secretId = (await backendLogin(live)).secretId;
            await startEntryPoint();
        } catch (e) {
            await tearDown(live);
            throw e;
        }
    });
    after(async () => {
        proxy?.close();
        if (Object.keys(figures).length) recordFigures({ certRotation: figures });
        await tearDown(live);
    });

    it("first start: each entrypoint waited, NodeTls wrote the files (key 0400, vault-owned) without a SIGHUP, Vault started on them", async () => {
        assert.deepEqual(live.firstPushes, Object.fromEntries(live.declared.nodeNames.map((n) => [n, "start"])));
        assert.equal(live.engine.log.filter((l) => l.startsWith("POST /exec")).length, 0, "no SIGHUP on first start");
        const { uid, gid } = vaultAccount();
        for (const name of live.declared.nodeNames) {
            const log = fs.readFileSync(path.join(live.base, "logs", `${name}.log`), "utf8");
            assert.match(log, /bonito-vault-entrypoint: waiting for \/vault\/tls\/pushed/, `${name} waited`);
            const mode = (p: string) => {
                const st = fs.statSync(live.roots[name].hostPath(p));
                return [(st.mode & 0o777).toString(8), st.uid, st.gid];
            };
            assert.deepEqual(mode(PATHS.nodeKey), ["400", uid, gid]);
            assert.deepEqual(mode(PATHS.nodeCert), ["444", uid, gid]);
            assert.deepEqual(mode(PATHS.caCert), ["444", uid, gid]);
            assert.match(
                fs.readFileSync(live.roots[name].hostPath(PATHS.tlsPushed), "utf8"),
                /^serial [0-9A-F]+\nsha256 /,
            );
        }
        const served = await servedSerials(live.caPem);
        for (const name of live.declared.nodeNames)
            assert.equal(served[name], certIdentity(fs.readFileSync(live.tls[name].cert, "utf8")).serial);
    });

    it("leaves: every node's certificate rotated under load through the entry point; 0 failed requests, 0 restarts, new serials served", async () => {
        const org = `${live.declared.config.clusterName}-${live.declared.stack}`;
        const before = await servedSerials(live.caPem);
        const pids = pidsOf();
        const hupsBefore = [...live.engine.hups.values()].reduce((a, b) => a + b, 0);
        const leaders = sampleLeaders();
        const backend = deploy(live.backendCaFile, "certs/leaves");
        await backend.ready;
        const loadJson = path.join(OUT_DIR, "loadtest-cert-rotation.json");
        fs.mkdirSync(OUT_DIR, { recursive: true });
        const load = spawn(
            "npm",
            [
                "run",
                "loadtest",
                "--",
                "--addr",
                `https://127.0.0.1:${entryPort}`,
                "--cacert",
                live.backendCaFile,
                "--role-id",
                live.backendEnv.VAULT_ROLE_ID,
                "--duration",
                "45s",
                "--concurrency",
                "8",
                "--json",
                loadJson,
            ],
            { cwd: REPO, env: { ...process.env, VAULT_SECRET_ID: secretId }, stdio: ["ignore", "pipe", "pipe"] },
        );
        const loadDone = new Promise<number | null>((r) => load.on("close", r));
        let loadOut = "";
        load.stdout!.on("data", (d: Buffer) => (loadOut += d.toString("utf8")));
        load.stderr!.on("data", (d: Buffer) => (loadOut += d.toString("utf8")));
        await new Promise((r) => setTimeout(r, 8000));

        const pushes: Record<string, { reload: string; seconds: number }> = {};
        for (const name of live.declared.nodeNames) {
            const t0 = Date.now();
            const renewed = live.ca.issue(`${name}-renewed`, live.declared.nodeCerts[name], org);
            const outs = await pushTls(live, name, material(renewed, live.caPem));
            pushes[name] = { reload: String(outs.reload), seconds: (Date.now() - t0) / 1000 };
            assert.equal(outs.reload, "sighup");
            assert.equal(outs.serial, certIdentity(fs.readFileSync(renewed.cert, "utf8")).serial);
            await new Promise((r) => setTimeout(r, 4000));
        }
        const loadCode = await loadDone;
        backend.terminate();
        const b = await backend.exited;
        const leaderSeq = await leaders.stop();
        const after = await servedSerials(live.caPem);
        const summary = JSON.parse(fs.readFileSync(loadJson, "utf8")) as LoadSummary;
        const restarts = live.declared.nodeNames.filter((n) => live.procs[n].proc.pid !== pids[n] || !alive(n)).length;
        const failed = (b.summary.failures as unknown[]).length + summary.all.errors;
        figures.leaves = {
            failedRequests: failed,
            restarts,
            serials: Object.fromEntries(
                live.declared.nodeNames.map((n) => [n, { before: before[n], after: after[n] }]),
            ),
            requests: { backendClient: b.summary.calls, loadtest: summary.all.ops },
            failedByClient: { backendClient: b.summary.failures, loadtest: summary.all.errors },
            sighups: [...live.engine.hups.values()].reduce((a, c) => a + c, 0) - hupsBefore,
            leaderChanges: Math.max(0, leaderSeq.length - 1),
            secondsPerNode: pushes,
            loadtestOpsPerSec: summary.all.throughput,
        };
        assert.equal(loadCode, 0, loadOut.slice(-2000));
        assert.equal(b.code, 0, JSON.stringify(b.summary));
        assert.equal(failed, 0, JSON.stringify(figures.leaves));
        assert.equal(restarts, 0, "no node process restarted");
        assert.equal(leaderSeq.length, 1, `leadership stayed put: ${leaderSeq.join(" -> ")}`);
        for (const n of live.declared.nodeNames) assert.notEqual(before[n], after[n], `${n} serves its new serial`);
    });

    it("the CA in two steps (trust both, re-issue, drop the old), the backend running throughout: 0 failed requests", async () => {
        const org = `${live.declared.config.clusterName}-${live.declared.stack}`;
        const oldCa = live.caPem;
        const next = new TestCa(path.join(live.base, "pki-next"), live.declared.ca, org);
        const bundle = `${oldCa.trim()}\n${next.pem.trim()}\n`;
        const pids = pidsOf();
        const deployments: Deployment[] = [];
        const steps: Record<string, unknown>[] = [];
        const deployWith = async (pem: string, step: string) => {
            const d = deploy(backendCaFile(`ca-${step}.pem`, pem), `certs/ca-${step}`);
            await d.ready;
            const old = deployments[deployments.length - 1];
            deployments.push(d);
            old?.terminate();
        };
        await deployWith(oldCa, "0-old");

        // 1. Trust both: the bundle on every node (leaf unchanged, so the served serial too), then the backend.
        for (const name of live.declared.nodeNames) {
            const outs = await pushTls(live, name, { ...live.tls[name], caPem: bundle });
            assert.equal(outs.reload, "sighup");
        }
        await deployWith(bundle, "1-bundle");
        steps.push({ step: "trust both CAs", serials: await servedSerials(bundle) });

        // 2. Re-issue every leaf from the new CA.
        const newLeaves: Record<string, Issued> = {};
        for (const name of live.declared.nodeNames) {
            newLeaves[name] = next.issue(`${name}-next`, live.declared.nodeCerts[name], org);
            await pushTls(live, name, material(newLeaves[name], bundle));
            await new Promise((r) => setTimeout(r, 2000));
        }
        const reissued = await servedSerials(bundle);
        // A client that still trusted only the old CA would now fail: the step mattered.
        const oldOnly = await handshake(live.nodes[0].ports.api, oldCa, new URL(live.backendEnv.VAULT_ADDR).hostname);
        assert.equal(oldOnly.verified, false, "the new leaves do not verify against the old CA alone");
        steps.push({ step: "leaves re-issued by the new CA", serials: reissued, oldCaOnlyClient: oldOnly.error });

        // 3. Drop the old CA: the new one alone on every node, then the backend.
        for (const name of live.declared.nodeNames) await pushTls(live, name, material(newLeaves[name], next.pem));
        await deployWith(next.pem, "3-new");
        steps.push({ step: "old CA dropped", serials: await servedSerials(next.pem) });

        // What SIGHUP did not reload: the join listener's client CA (tls_client_ca_file), read at start.
        const peer = live.nodes[1];
        const joinClient = (): Promise<string> =>
            new Promise((resolve) => {
                const s = tls.connect({
                    host: "127.0.0.1",
                    port: peer.ports.peer,
                    servername: peer.name,
                    ca: next.pem,
                    cert: fs.readFileSync(newLeaves[live.nodes[0].name].cert),
                    key: fs.readFileSync(newLeaves[live.nodes[0].name].key),
                });
                s.once("secureConnect", () => {
                    // TLS 1.3: a refused client certificate arrives as an alert after the handshake.
                    s.write("GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                    let got = "";
                    s.on("data", (d: Buffer) => (got += d.toString("utf8")));
                    s.once("end", () => resolve(got.startsWith("HTTP/1.1") ? "accepted" : "refused"));
                    s.once("error", (e) => resolve(`refused (${e.message})`));
                });
                s.once("error", (e) => resolve(`refused (${e.message})`));
            });
        const beforeRestart = await joinClient();
        const pidsBeforeRestart = pidsOf();
        assert.deepEqual(pidsBeforeRestart, pids, "no node restarted during steps 1-3");
        // 4. A rolling restart, one node at a time, each passing the program's own rolling gate
        // (NodeReady: unsealed and connected to the active node, for the stabilization time) before the next.
        for (const name of live.declared.nodeNames) {
            await stop(live.procs[name]);
            restartNode(live, name);
            const g = nodeGate(live.declared, next.pem, name, { containerId: `restarted-${name}` });
            await g.provider.update(`node-ready-${name}`, g.inputs, g.inputs);
        }
        // Every node unsealed, as a client trusting only the new CA sees it.
        await waitUntil("every node unsealed (new CA)", 60000, async () => {
            const s = await Promise.all(
                live.nodes.map((n) =>
                    transport(
                        n.ports.api,
                        next.pem,
                        n.name,
                    )({ method: "GET", path: "sys/health?standbyok=true" }).then(
                        (r) => r.status,
                        () => 0,
                    ),
                ),
            );
            return s.every((x) => x === 200) ? true : undefined;
        });
        const afterRestart = await joinClient();
        steps.push({ step: "rolling restart", joinListenerBefore: beforeRestart, joinListenerAfter: afterRestart });

        const last = deployments[deployments.length - 1];
        last.terminate();
        const results = await Promise.all(deployments.map((d) => d.exited));
        const failures = results.flatMap((r) => r.summary.failures as unknown[]);
        figures.caChange = {
            failedRequests: failures.length,
            requests: results.reduce((a, r) => a + Number(r.summary.calls ?? 0), 0),
            deployments: results.length,
            steps,
            failures,
        };
        assert.equal(failures.length, 0, JSON.stringify(failures));
        assert.match(
            beforeRestart,
            /^refused/,
            "before a restart the join listener trusts only the CA it started with",
        );
        assert.equal(afterRestart, "accepted", "after a restart it reads the new CA");
    });
});
