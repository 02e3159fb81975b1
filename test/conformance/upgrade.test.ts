/**
 * Real-server tier: upgrading Vault the way HashiCorp's upgrade guide prescribes, with the program's
 * own gates (components/rolling.ts, components/nodeReady.ts, serialised as `pulumi up` runs them), on
 * a 3-node cluster of the `local` stack as declared that starts on Vault 1.20.4 and is rolled to
 * 1.21.1 (both built from the Go module proxy, scripts/build-vault.sh) while the backend's Python
 * client writes and reads through a TCP passthrough entry point that health-checks every node with the
 * load balancers' path (ENTRY_POINT_HEALTH_PATH).
 *
 * What this proves:
 * - the check before the roll refuses, replacing nothing, when a node is down, and refuses a
 *   downgrade; on a healthy cluster it records autopilot's failure tolerance with the rolling
 *   identity, whose IDs the program generates and Pulumi's admin identity writes (its policy allows
 *   exactly that on real Vault);
 * - the roll in the run-time order (the standbys, then the active node stepped down to an upgraded
 *   standby and replaced last): one leadership change, the figures under `upgrade` in
 *   out/conformance.json (requests, failed requests with the client's documented retry, those that
 *   needed a retry, leadership changes, seconds per node and in all);
 * - after it (Enos-style): every node reports 1.21.1 and is a voter, data written before the roll
 *   reads back through every node, `sys/step-down` hands leadership over, and the audit logs hold no
 *   value in clear.
 *
 * What it does not prove: the engine's own scheduling (test/mocks/rolling.test.ts: the chain follows
 * the order) or Docker (the container replacement is a process stop and a start of the new binary on
 * the same data folder, as test/docker proves a container keeps its volumes); a cloud load balancer.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ENTRY_POINT_HEALTH_PATH } from "../../policies/lib/limits";
import { NAMES } from "../../components/settings/acl";
import { discoverActive, rollOrder, type RollCredentialValue } from "../../components/rolling";

const TOOLS = path.join(__dirname, "..", "..", "tools", "bin");
/** Version A, the cluster's start: an older release (BONITO_VAULT_FROM_BIN to point elsewhere). */
const FROM_BIN = process.env.BONITO_VAULT_FROM_BIN || path.join(TOOLS, "vault-1.20.4");
/** Version B, what the roll installs: the tier's own build. */
const TO_BIN = process.env.BONITO_VAULT_BIN || path.join(TOOLS, "vault");
/** What a binary says it is (`Vault v1.21.1 (…)`). */
function binaryVersion(bin: string): string {
    if (!fs.existsSync(bin)) return "";
    const out = execFileSync(bin, ["version"], { encoding: "utf8" });
    return /Vault v(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? "";
}
const FROM = binaryVersion(FROM_BIN);
const TO = binaryVersion(TO_BIN);

// The cluster starts on version A: the tier's helpers read the binary's path when they load.
process.env.BONITO_VAULT_BIN = FROM_BIN;

type Lib = {
    bringup: typeof import("./lib/bringup");
    cluster: typeof import("./lib/cluster");
    ops: typeof import("./lib/ops");
    dynamic: typeof import("./lib/dynamic");
    apply: typeof import("./lib/applySettings");
    deployment: typeof import("./lib/deployment");
};
let lib: Lib;
let live: import("./lib/bringup").Live;
let credential: RollCredentialValue;
let backendSecretId: string;
let lb: { server: net.Server; port: number; stop(): Promise<void> } | undefined;
const figures: Record<string, unknown> = {};

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const loopback = (i: number) => `https://127.0.0.1:${lib.cluster.portsFor(i).api}`;
const rollNodes = () => live.declared.nodeNames.map((name, i) => ({ name, addr: loopback(i) }));

/** A declared dynamic resource's serialised provider with the tier's addresses and the test CA. */
function declaredGate(kind: "nodeTurn" | "nodeReady", node: string, over: Record<string, unknown> = {}) {
    const d = live.declared[kind][node];
    const i = live.declared.nodeNames.indexOf(node);
    const peers =
        kind === "nodeTurn"
            ? rollNodes().filter((p) => p.name !== node)
            : live.declared.nodeNames
                  .map((_, j) => j)
                  .filter((j) => j !== i)
                  .map(loopback);
    const inputs = { ...d.inputs, addr: loopback(i), peers, caCert: live.caPem, credential, ...over };
    return { provider: lib.dynamic.loadProvider(d.providerText), inputs };
}

function rollCheck(over: Record<string, unknown> = {}) {
    const d = live.declared.rollCheck;
    const inputs = { ...d.inputs, nodes: rollNodes(), caCert: live.caPem, credential, ...over };
    return { provider: lib.dynamic.loadProvider(d.providerText), inputs };
}

/** Point a node's `vault` at another binary (what a new image is to a container). */
function useBinary(node: string, bin: string): void {
    const link = path.join(live.roots[node].binDir, "vault");
    fs.unlinkSync(link);
    fs.symlinkSync(bin, link);
}

async function version(i: number): Promise<string> {
    const r = await lib.cluster.call(live.nodes[i].http, "GET", "sys/health?standbyok=true");
    return String((r.body as Body).version ?? "");
}

/**
 * The entry point: a TCP passthrough (as the load balancers forward) to the nodes that answer the
 * load balancers' health path with 200, asked every 500 ms; new connections go round the healthy ones.
 */
async function entryPoint(): Promise<NonNullable<typeof lb>> {
    const port = lib.cluster.PORT_BASE + 80;
    const healthy = new Set<number>(live.nodes.map((_, i) => i));
    let probing = true;
    const prober = (async () => {
        while (probing) {
            await Promise.all(
                live.nodes.map(async (n, i) => {
                    const r = await lib.cluster
                        .rawRequest(
                            n.ports.api,
                            "GET",
                            ENTRY_POINT_HEALTH_PATH,
                            live.caPem,
                            live.declared.config.entryPoint.name,
                        )
                        .catch(() => undefined);
                    if (r?.status === 200) healthy.add(i);
                    else healthy.delete(i);
                }),
            );
            await new Promise((r) => setTimeout(r, 500));
        }
    })();
    let next = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
        const pool = [...healthy];
        if (pool.length === 0) {
            client.destroy();
            return;
        }
        const target = pool[next++ % pool.length];
        const upstream = net.connect(live.nodes[target].ports.api, "127.0.0.1");
        sockets.add(client);
        sockets.add(upstream);
        client.pipe(upstream).pipe(client);
        const close = () => {
            client.destroy();
            upstream.destroy();
            sockets.delete(client);
            sockets.delete(upstream);
        };
        client.on("error", close);
        upstream.on("error", close);
        client.on("close", close);
        upstream.on("close", close);
    });
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
    return {
        server,
        port,
        async stop() {
            probing = false;
            await prober;
            for (const s of sockets) s.destroy();
            await new Promise<void>((r) => server.close(() => r()));
        },
    };
}

/** The backend as Railway runs it (lib/deployment.ts), through the entry point. */
function deploy(prefix: string, port: number) {
    return lib.deployment.deployBackend(
        {
            PATH: process.env.PATH,
            ...Object.fromEntries(Object.entries(live.backendEnv).filter(([k]) => k !== "VAULT_WRAPPED_SECRET_ID")),
            VAULT_SECRET_ID: backendSecretId,
            VAULT_ADDR: `https://127.0.0.1:${port}`,
            VAULT_CACERT: live.backendCaFile,
            LIVE_INTERVAL: "0.02",
        },
        prefix,
        60000,
    );
}

before(async () => {
    for (const [what, bin] of [
        ["version A (scripts/build-vault.sh 1.20.4)", FROM_BIN],
        ["version B (scripts/build-vault.sh)", TO_BIN],
    ])
        if (!fs.existsSync(bin)) throw new Error(`upgrade tier needs ${what}: ${bin} is missing`);
    lib = {
        bringup: await import("./lib/bringup"),
        cluster: await import("./lib/cluster"),
        ops: await import("./lib/ops"),
        dynamic: await import("./lib/dynamic"),
        apply: await import("./lib/applySettings"),
        deployment: await import("./lib/deployment"),
    };
    live = await lib.bringup.bringUp();
    // The rolling identity as the program declares it (one RollCredential in every gate's inputs); the
    // bring-up wrote it as the settings do (AuthBackendRole.roleId, AuthBackendRoleSecretId → custom-secret-id).
    credential = live.declared.nodeReady[live.declared.nodeNames[0]].inputs.credential as RollCredentialValue;
    const admin = await lib.apply.adminLogin(
        { port: live.nodes[0].ports.api, ca: live.caPem, serverName: live.nodes[0].name },
        live.declared.plan,
        live.handover.roleId,
        live.handover.secretId,
    );
    const leader = await lib.ops.activeNode(live);
    // The backend's secret ID, plain (the declared one is wrapped and single-use: the bring-up unwrapped it).
    const issued = await lib.cluster.call(
        leader.http,
        "POST",
        `auth/${NAMES.approleMount}/role/${NAMES.backendRole}/secret-id`,
        admin,
        {},
    );
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    backendSecretId = String((issued.body as Body).data.secret_id);
    await lib.cluster.call(leader.http, "POST", "auth/token/revoke-self", admin);
    for (let i = 0; i < 3; i++) assert.equal(await version(i), FROM, `node ${i} starts on ${FROM}`);
});

after(async () => {
    await lb?.stop();
    await lib?.bringup.tearDown(live);
});

describe(`upgrade ${FROM} → ${TO} in the upgrade guide's order (components/rolling.ts)`, () => {
    it("the check before the roll refuses a cluster with a node down, and a downgrade, replacing nothing", async () => {
        const n = live.nodes[2];
        await lib.cluster.stop(live.procs[n.name]);
        const c = rollCheck({ targetVersion: TO, specs: ["changed"] });
        await assert.rejects(c.provider.update("roll-check", c.inputs, c.inputs), {
            message: new RegExp(
                `^Rolling change refused before any node was replaced: node ${n.name} is not answering \\(.*ECONNREFUSED.*\\)\\. Nothing was changed\\.`,
            ),
        });
        lib.bringup.restartNode(live, n.name);
        await lib.ops.allUnsealed(live, 60000);
        const down = rollCheck({ targetVersion: "1.19.0", specs: ["changed"] });
        await assert.rejects(down.provider.update("roll-check", down.inputs, down.inputs), {
            message: new RegExp(
                `the image names Vault 1\\.19\\.0, older than the ${FROM.replace(/\./g, "\\.")} the cluster runs: a downgrade`,
            ),
        });
    });

    it("rolls standbys first, hands over, replaces the old active last: one leadership change, no failed request", async (t) => {
        const t0 = Date.now();
        // Data written before the roll (read back from every node after it).
        const login = await lib.cluster.call(
            live.nodes[0].http,
            "POST",
            `auth/${NAMES.approleMount}/login`,
            undefined,
            {
                role_id: live.backendEnv.VAULT_ROLE_ID,
                secret_id: backendSecretId,
            },
        );
        assert.equal(login.status, 200, JSON.stringify(login.body));
        const token = String((login.body as Body).auth.client_token);
        const m = live.backendEnv.VAULT_MOUNT;
        const canary = `upgrade-canary-${randomUUID()}`;
        const before = Array.from({ length: 50 }, (_, i) => [`upgrade/before/k${i}`, `${canary}-${i}`] as const);
        for (const [k, v] of before) {
            const r = await lib.cluster.call(live.nodes[0].http, "POST", `${m}/data/${k}`, token, { data: { v } });
            assert.equal(r.status, 200);
        }

        lb = await entryPoint();
        const d = deploy("upgrade/live", lb.port);
        await d.ready;

        // The active node (sys/health without standbyok: 200 on the active node only), every 250 ms through the roll.
        let sampling = true;
        const leaders: string[] = [];
        const sampler = (async () => {
            while (sampling) {
                const answers = await Promise.all(
                    live.nodes.map((n) =>
                        lib.cluster.call(n.http, "GET", "sys/health").then(
                            (r) => r.status,
                            () => 0,
                        ),
                    ),
                );
                const i = answers.indexOf(200);
                if (i >= 0 && leaders.at(-1) !== live.nodes[i].name) leaders.push(live.nodes[i].name);
                await new Promise((r) => setTimeout(r, 250));
            }
        })();
        // Whatever fails below, neither the sampler nor the backend may hold the test process open.
        t.after(async () => {
            sampling = false;
            await sampler;
            d.terminate();
        });

        // The check before the roll, as `pulumi up` runs it when the image changes.
        const check = rollCheck({ targetVersion: TO, specs: ["image changed"] });
        const checked = (await check.provider.update("roll-check", check.inputs, check.inputs)).outs;
        assert.equal(checked.failureTolerance, 1, JSON.stringify(checked));
        assert.match(String(checked.checked), /autopilot's state$/);
        // The order, as the program computes it when it runs.
        const activeBefore = await discoverActive(
            rollNodes(),
            live.nodes.map((n) => n.http),
        );
        assert.equal(activeBefore, checked.activeBefore);
        const order = rollOrder(live.declared.nodeNames, activeBefore);
        assert.equal(order.at(-1), activeBefore);

        const secondsPerNode: Record<string, number> = {};
        const turns: Record<string, string> = {};
        const gates: Record<string, string> = {};
        for (const name of order) {
            const started = Date.now();
            const turn = declaredGate("nodeTurn", name, { targetVersion: TO, spec: "image changed" });
            turns[name] = String(
                (await turn.provider.update(`node-turn-${name}`, turn.inputs, turn.inputs)).outs.handedOver,
            );
            // The container is replaced: stop, the new image, start on the same data.
            await lib.cluster.stop(live.procs[name]);
            useBinary(name, TO_BIN);
            lib.bringup.restartNode(live, name);
            const gate = declaredGate("nodeReady", name, {
                containerId: `upgraded-${name}`,
                targetVersion: TO,
                failureToleranceBefore: checked.failureTolerance,
            });
            gates[name] = String(
                (await gate.provider.update(`node-ready-${name}`, gate.inputs, gate.inputs)).outs.passedBecause,
            );
            secondsPerNode[name] = (Date.now() - started) / 1000;
        }
        const totalSeconds = (Date.now() - t0) / 1000;
        // A few seconds of traffic on the upgraded cluster, then the backend stops.
        await new Promise((r) => setTimeout(r, 3000));
        d.terminate();
        const result = await d.exited;
        sampling = false;
        await sampler;

        // Each request the client had to send again logged "attempt 1" once (clients/python: _send).
        const failedWithoutRetry = [...result.stderr.matchAll(/; attempt 1, again/g)].length;
        Object.assign(figures, {
            from: FROM,
            to: TO,
            order,
            requests: result.summary.calls,
            failedRequests: (result.summary.failures as unknown[]).length,
            failedWithoutRetry,
            leaderChanges: leaders.length - 1,
            leaders,
            secondsPerNode,
            totalSeconds,
            turns,
            gates,
        });
        lib.ops.recordFigures({ upgrade: figures });

        for (const name of order.slice(0, -1)) assert.equal(turns[name], "a standby: nothing to hand over");
        assert.match(
            turns[order.at(-1)!],
            new RegExp(`^the active node, stepped down: \\S+ \\(${TO.replace(/\./g, "\\.")}\\) is active now$`),
        );
        for (const name of order)
            assert.match(
                gates[name],
                /; autopilot: it is a healthy voter \d+ entries behind the leader; failure tolerance 1$/,
            );
        assert.deepEqual(result.summary.failures, [], "no failed request with the client's retry");
        assert.equal(leaders.length - 1, 1, `one leadership change: ${leaders.join(" → ")}`);
        assert.ok(Number(result.summary.calls) > 100, `the backend kept working: ${result.summary.calls} calls`);

        // After the roll (Enos-style): every node on B and a voter; the data from before reads back through every node.
        for (let i = 0; i < 3; i++) assert.equal(await version(i), TO);
        for (const n of live.nodes)
            for (const [k, v] of before.slice(0, 10)) {
                const r = await lib.cluster.call(n.http, "GET", `${m}/data/${k}`, token);
                assert.equal(r.status, 200, `${n.name} reads ${k}`);
                assert.equal((r.body as Body).data.data.v, v);
            }
        const ident = await lib.cluster.call(live.nodes[0].http, "POST", `auth/${credential.mount}/login`, undefined, {
            role_id: credential.roleId,
            secret_id: credential.secretId,
        });
        const rt = String((ident.body as Body).auth.client_token);
        const state = (await lib.cluster.call(live.nodes[0].http, "GET", "sys/storage/raft/autopilot/state", rt))
            .body as Body;
        const servers = Object.values(state.data.servers as Record<string, Body>);
        assert.deepEqual(
            servers.map((s) => [s.name, s.status === "leader" ? "voter" : s.status, s.version]).sort(),
            live.declared.nodeNames.map((n) => [n, "voter", TO]),
        );
        // sys/step-down hands leadership over.
        const a = await lib.ops.activeNode(live);
        const sd = await lib.cluster.call(a.http, "PUT", "sys/step-down", rt);
        assert.equal(sd.status, 204);
        const b = await lib.cluster.waitUntil("another active node", 30000, async () => {
            const n = await lib.ops.activeNode(live);
            return n.name !== a.name ? n : undefined;
        });
        assert.notEqual(b.name, a.name);
        await lib.cluster.call(live.nodes[0].http, "POST", "auth/token/revoke-self", rt);
        // The audit logs hold no value in clear (every plain file on every node's audit volume; a node that
        // was never active may have none yet, and the rotator may have just renamed the current one).
        const auditFiles = live.declared.nodeNames.flatMap((name) => {
            const dir = live.roots[name].hostPath("/vault/audit");
            return fs
                .readdirSync(dir)
                .filter((f) => !f.endsWith(".gz"))
                .map((f) => path.join(dir, f))
                .filter((f) => fs.statSync(f).isFile());
        });
        assert.ok(auditFiles.length > 0, "audit files written");
        for (const file of auditFiles)
            assert.ok(!fs.readFileSync(file, "utf8").includes(canary), `${file} has no value in clear`);
    });
});
