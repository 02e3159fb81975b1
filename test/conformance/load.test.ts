/**
 * Real-server tier, part 2: `npm run loadtest` against the `local` stack's hardened cluster (TLS,
 * mTLS joins, two audit devices, the backend's AppRole, three Raft nodes; tier-1 harness) and against
 * the same Vault binary in `server -dev` mode, same mix and concurrency, one after the other; before
 * that, the audit rotation loop turned down so it rotates during a load run (then put back as declared).
 *
 * What this proves: the load test runs unchanged against both; the hardened/dev throughput ratio and
 * latency percentiles on this machine (and, below 0.5, which layer costs what: TLS, the audit
 * devices, Raft); the program's rotation loop renames the audit files and SIGHUPs Vault while
 * requests flow, no request fails, no audit line is lost (every data request of the run is in the
 * rotated and live files of both devices), and Vault writes to the new file after the signal.
 *
 * What it does not prove: throughput on other hardware (this machine has 2 cores shared with other
 * work, and all three nodes run on it; the figures say how loaded it was), or performance through
 * Docker's network.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { after, before, describe, it } from "node:test";
import { policyText } from "../../components/settings/acl";
import { AUDIT_DIR, AUDIT_ROTATOR_SCRIPT, renderAuditRotatorScript } from "../../components/settings/audit";
import { rotatorShipTimings } from "../../components/raftCluster";
import { nodeTransport } from "../../components/vault/http";
import { roleBody } from "../../components/settings/vaultSettings";
import type { LoadSummary } from "../../scripts/loadtest";
import { bringUp, healthStatus, restartNode, tearDown, type Live } from "./lib/bringup";
import { PORT_BASE, REPO, VAULT_BIN, call, stop, waitUntil, type Node } from "./lib/cluster";
import { OUT_DIR, activeNode, backendLogin, generateRoot, recordFigures, type Body } from "./lib/ops";

const DURATION = process.env.BONITO_LOAD_DURATION ?? "15s";
const CONCURRENCY = "16";

let live: Live;
let backend: { token: string; secretId: string };
const devs: { proc: ReturnType<typeof spawn>; dir: string }[] = [];

interface Target {
    addr: string;
    caFile?: string;
    roleId: string;
    secretId: string;
}

/** `npm run loadtest` exactly as an operator runs it; the secret ID through the environment. */
function loadtest(name: string, t: Target): LoadSummary {
    const json = path.join(OUT_DIR, `loadtest-${name}.json`);
    const args = ["run", "loadtest", "--", "--addr", t.addr, "--role-id", t.roleId];
    if (t.caFile) args.push("--cacert", t.caFile);
    args.push("--duration", DURATION, "--concurrency", CONCURRENCY, "--json", json);
    const r = spawnSync("npm", args, {
        cwd: REPO,
        encoding: "utf8",
        timeout: 300000,
        env: { ...process.env, VAULT_SECRET_ID: t.secretId },
    });
    assert.equal(r.status, 0, `loadtest ${name}: ${r.stdout}${r.stderr}`);
    return JSON.parse(fs.readFileSync(json, "utf8")) as LoadSummary;
}

function figures(s: LoadSummary) {
    const l = s.all.latencyMs!;
    return { opsPerSec: s.all.throughput, p50: l.p50, p95: l.p95, p99: l.p99, ops: s.all.ops, errors: s.all.errors };
}

/**
 * The same binary in `server -dev` (in-memory storage, no audit, plain HTTP unless `tls`), set up
 * with what the load test needs from the hardened cluster's declared plan: the KV v2 mount, the
 * backend's policy and AppRole role with the same token settings.
 */
async function devServer(port: number, tls: boolean): Promise<Target> {
    // A dev server also binds port + 1 (its cluster listener): callers leave a gap.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-dev-"));
    const rootToken = `dev-${process.pid}-${port}`;
    const args = ["server", "-dev", `-dev-listen-address=127.0.0.1:${port}`, `-dev-root-token-id=${rootToken}`];
    if (tls) args.push("-dev-tls", `-dev-tls-cert-dir=${dir}`);
    const log = fs.openSync(path.join(dir, "dev.log"), "w");
    const proc = spawn(VAULT_BIN, args, {
        stdio: ["ignore", log, log],
        env: { PATH: process.env.PATH, HOME: dir },
        detached: true,
    });
    fs.closeSync(log);
    devs.push({ proc, dir });
    const caFile = tls ? path.join(dir, "vault-ca.pem") : undefined;
    const addr = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
    await waitUntil("the dev server", 30000, async () =>
        !tls || fs.existsSync(caFile!) ? ((await fetchHealth(addr, caFile)) ? true : undefined) : undefined,
    );
    const t = nodeTransport({
        addr,
        caCert: caFile ? fs.readFileSync(caFile, "utf8") : "",
        tlsServerName: "localhost",
    });
    const plan = live.declared.plan;
    const ok = async (method: "POST" | "PUT" | "GET", p: string, body?: Body) => {
        const r = await t({ method: method as "GET", path: p, token: rootToken, body });
        assert.ok(r.status < 300, `dev ${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body as Body;
    };
    await ok("POST", `sys/mounts/${plan.kvMount.path}`, { type: "kv", options: plan.kvMount.options });
    await ok("PUT", "sys/policies/acl/bonito-backend", { policy: policyText(plan.policies["bonito-backend"]) });
    await ok("POST", "sys/auth/approle", { type: "approle" });
    const role = plan.roles.find((r) => r.name === "bonito-backend")!;
    await ok("POST", `auth/approle/role/${role.name}`, roleBody(role));
    const roleId = (await ok("GET", `auth/approle/role/${role.name}/role-id`)).data.role_id as string;
    const secretId = (await ok("POST", `auth/approle/role/${role.name}/secret-id`, {})).data.secret_id as string;
    return { addr, caFile, roleId, secretId };
}

async function fetchHealth(addr: string, caFile?: string): Promise<boolean> {
    const t = nodeTransport(
        { addr, caCert: caFile ? fs.readFileSync(caFile, "utf8") : "", tlsServerName: "localhost" },
        2000,
    );
    return (await t({ method: "GET", path: "sys/health" }).catch(() => ({ status: 0 }))).status === 200;
}

function hardenedTarget(n: Node): Target {
    return {
        addr: `https://127.0.0.1:${n.ports.api}`,
        caFile: live.backendCaFile,
        roleId: live.backendEnv.VAULT_ROLE_ID,
        secretId: backend.secretId,
    };
}

/**
 * Every audit entry on every node, both devices, live and rotated (gzipped or not). A file the
 * rotation loop replaces while it is read (`x` becomes `x.gz`) makes the whole listing start again.
 */
function auditFiles(): { node: string; file: string; entries: Body[] }[] {
    for (let attempt = 0; ; attempt++)
        try {
            return auditFilesOnce();
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "ENOENT" || attempt > 20) throw e;
        }
}

function auditFilesOnce(): { node: string; file: string; entries: Body[] }[] {
    const out: { node: string; file: string; entries: Body[] }[] = [];
    for (const name of live.declared.nodeNames) {
        const dir = live.roots[name].hostPath(AUDIT_DIR);
        for (const f of fs.readdirSync(dir).filter((x) => x.startsWith("audit"))) {
            const raw = fs.readFileSync(path.join(dir, f));
            const text = (f.endsWith(".gz") ? zlib.gunzipSync(raw) : raw).toString("utf8");
            const entries = text
                .split("\n")
                .filter((l) => l.trim())
                .map((l) => JSON.parse(l) as Body);
            out.push({ node: name, file: f, entries });
        }
    }
    return out;
}

describe("real Vault 1.21.1: load, hardened cluster vs server -dev", { timeout: 20 * 60_000 }, () => {
    before(async () => {
        try {
            live = await bringUp();
            backend = await backendLogin(live);
        } catch (e) {
            await tearDown(undefined);
            throw e;
        }
    });
    after(async () => {
        for (const d of devs) {
            try {
                process.kill(-d.proc.pid!, "SIGKILL");
            } catch {
                /* gone */
            }
            fs.rmSync(d.dir, { recursive: true, force: true });
        }
        await tearDown(live);
    });

    it("8. audit rotation under load: no request fails, no audit line lost, Vault writes the new file after SIGHUP", async () => {
        // Turned down: rotate at 1 MiB, checked every 2 s (declared: auditRotateSizeMb, every 60 s).
        const cfg = live.declared.config;
        // The declared shipping variant (deletes only confirmed uploads; no shipper runs here, so
        // every rotated file stays), checked every 2 s.
        const ship = rotatorShipTimings(cfg);
        const script = renderAuditRotatorScript(
            { ...cfg.audit, rotateSizeMb: 1 },
            ship && { rotateSeconds: ship.rotateSeconds, checkSeconds: 2 },
            2,
        );
        const marks: Record<string, number> = {};
        for (const name of live.declared.nodeNames) {
            const up = live.declared.nodes[name].uploads.find((u) => u.file === AUDIT_ROTATOR_SCRIPT)!;
            live.roots[name].upload(AUDIT_ROTATOR_SCRIPT, script, up.permissions);
            // Rolling restart, each node in its own PID namespace as in Docker, so the loop's signal
            // reaches this node's server and no other.
            await stop(live.procs[name]);
            marks[name] = fs.statSync(live.procs[name].logFile).size;
            const p = restartNode(live, name, undefined, { pidNamespace: true });
            let spawnError = "";
            p.proc.once("error", (e) => (spawnError = e.message));
            await waitUntil(`${name} unsealed`, 120000, async () => {
                if (spawnError || p.proc.exitCode !== null || p.proc.signalCode !== null)
                    throw new Error(
                        `${name} in a PID namespace ended (${spawnError || p.proc.exitCode || p.proc.signalCode}): ${fs
                            .readFileSync(p.logFile)
                            .subarray(marks[name])
                            .toString("utf8")
                            .slice(-1500)}`,
                    );
                return (await healthStatus(live.nodes.find((n) => n.name === name)!).catch(() => 0)) === 200
                    ? true
                    : undefined;
            });
        }
        const active = await activeNode(live, 60000);
        const settled = () =>
            waitUntil("rotated files compressed", 30000, async () =>
                auditFiles().every(
                    (f) => f.file === "audit.log" || f.file === "audit-mirror.log" || f.file.endsWith(".gz"),
                )
                    ? true
                    : undefined,
            );
        const count = () => auditFiles().reduce((a, f) => a + f.entries.length, 0);
        await settled();
        const linesBefore = count();
        const summary = loadtest("rotation", hardenedTarget(active));
        // The loop gzips a rotated file 5 s after the signal; let the last one finish.
        await settled();

        await new Promise((r) => setTimeout(r, 1000));
        const files = auditFiles();
        const linesAfter = files.reduce((a, f) => a + f.entries.length, 0);

        assert.equal(summary.all.errors, 0, `failed requests: ${JSON.stringify(summary.all.errorsByStatus)}`);
        assert.equal(summary.cleanup.failed, 0);
        const rotatorLines = live.declared.nodeNames.flatMap((n) =>
            fs
                .readFileSync(live.procs[n].logFile)
                .subarray(marks[n])
                .toString("utf8")
                .split("\n")
                .filter((l) => l.startsWith("audit-rotator:")),
        );
        assert.deepEqual(
            rotatorLines.filter((l) => !/rotated to/.test(l)),
            [],
            "the loop reported no failure",
        );
        const onActive = files.filter((f) => f.node === active.name);
        const rotated = onActive.filter((f) => /^audit\.log\..*\.gz$/.test(f.file));
        assert.ok(rotated.length >= 1, `rotations on the active node: ${onActive.map((f) => f.file).join(", ")}`);

        // No line lost: each device holds exactly one response per data request of the run
        // (seeding writes plus the mix), across its rotated and live files.
        const prefix = `${live.backendEnv.VAULT_MOUNT}/data/loadtest/${summary.runId}/`;
        const expected = summary.seed.keys + summary.all.ops;
        for (const [device, re] of [
            ["file", /^audit\.log/],
            ["file-mirror", /^audit-mirror\.log/],
        ] as const) {
            const responses = files
                .filter((f) => re.test(f.file))
                .flatMap((f) => f.entries)
                .filter((e) => e.type === "response" && String(e.request?.path).startsWith(prefix));
            assert.equal(responses.length, expected, `${device}: audited responses vs requests made`);
            const ids = new Set(responses.map((e) => e.request.id));
            assert.equal(ids.size, expected, `${device}: distinct request ids`);
        }
        // After each signal Vault reopened audit.log: rotated files after the first hold requests of the
        // run (without the reopen it would write on into the first renamed file), and a request made
        // now lands in the live audit.log.
        const ofRun = (f: { entries: Body[] }) => f.entries.some((e) => String(e.request?.path).startsWith(prefix));
        assert.ok(rotated.filter(ofRun).length >= 1, "a rotated file holds requests of the run");
        const probe = `${live.backendEnv.VAULT_MOUNT}/data/rotation-probe`;
        const w = await call(active.http, "POST", probe, backend.token, { data: { v: "after" } });
        assert.equal(w.status, 200);
        const now = auditFiles().find((f) => f.node === active.name && f.file === "audit.log");
        assert.ok(
            now?.entries.some((e) => e.request?.path === probe),
            "Vault writes to the new audit.log after the SIGHUP",
        );
        recordFigures({
            auditRotation: {
                linesBefore,
                linesAfter,
                rotations: rotatorLines.length,
                requests: summary.all.ops + summary.seed.keys,
                errors: summary.all.errors,
                opsPerSec: summary.all.throughput,
            },
        });
        // Back to the declared rotation loop and tier 1's way of running nodes, for the load ratio.
        for (const name of live.declared.nodeNames) {
            const up = live.declared.nodes[name].uploads.find((u) => u.file === AUDIT_ROTATOR_SCRIPT)!;
            live.roots[name].upload(AUDIT_ROTATOR_SCRIPT, up.content, up.permissions);
            await stop(live.procs[name]);
            restartNode(live, name);
            await waitUntil(`${name} unsealed`, 120000, async () =>
                (await healthStatus(live.nodes.find((n) => n.name === name)!).catch(() => 0)) === 200
                    ? true
                    : undefined,
            );
        }
    });

    it("7. npm run loadtest: hardened cluster and server -dev, same mix and concurrency; ratio recorded", async () => {
        const hardened = loadtest("hardened", hardenedTarget(await activeNode(live)));
        const dev = loadtest("dev", await devServer(PORT_BASE + 93, false));
        for (const s of [hardened, dev]) {
            assert.equal(s.all.errors, 0, JSON.stringify(s.all.errorsByStatus));
            assert.equal(s.cleanup.failed, 0);
            assert.ok(s.all.ops > 100, `${s.addr}: ${s.all.ops} operations`);
        }
        const ratio = Math.round((hardened.all.throughput / dev.all.throughput) * 1000) / 1000;
        const load: Record<string, unknown> = {
            hardened: figures(hardened),
            dev: figures(dev),
            ratio,
            duration: DURATION,
            concurrency: Number(CONCURRENCY),
            readRatio: hardened.config.readRatio,
            loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
            cpus: os.cpus().length,
        };
        if (ratio < 0.5) {
            // Where the time goes, one layer at a time: dev with TLS (TLS alone), then the hardened
            // cluster with both audit devices disabled for one run (so hardened-no-audit vs dev-tls is
            // Raft: replication to two followers and the fsynced log).
            const devTls = loadtest("dev-tls", await devServer(PORT_BASE + 95, true));
            const root = await generateRoot(live);
            const active = await activeNode(live);
            const devices = live.declared.plan.auditDevices;
            try {
                for (const d of devices)
                    assert.equal((await call(active.http, "DELETE", `sys/audit/${d.path}`, root)).status, 204);
                const noAudit = loadtest("hardened-no-audit", hardenedTarget(active));
                load.breakdown = {
                    devTls: figures(devTls),
                    hardenedNoAudit: figures(noAudit),
                    tlsShare: Math.round((1 - devTls.all.throughput / dev.all.throughput) * 1000) / 1000,
                    raftShare: Math.round((1 - noAudit.all.throughput / devTls.all.throughput) * 1000) / 1000,
                    auditShare: Math.round((1 - hardened.all.throughput / noAudit.all.throughput) * 1000) / 1000,
                };
            } finally {
                for (const d of devices) {
                    const r = await call(active.http, "PUT", `sys/audit/${d.path}`, root, {
                        type: d.type,
                        description: d.description,
                        options: d.options,
                    });
                    assert.equal(r.status, 204, `re-enable audit ${d.path}: ${JSON.stringify(r.body)}`);
                }
                await call(active.http, "POST", "auth/token/revoke-self", root);
            }
        }
        recordFigures({ load });
    });
});
