/**
 * Real-server tier: the Python VaultClient (clients/python) used exactly as Bonito's backend uses
 * it (environment from the program's `backendEnv`), against the `local` stack's declared cluster on
 * Vault 1.21.1, through a token that expires mid-run and a leader kill mid-reads. One cluster for
 * the whole file (its own, on this file's loopback ports).
 *
 * What this proves:
 * - a token that expires during a run: with a test AppRole that differs from the backend's only in
 *   its token TTLs (3 s, max 8 s), the client keeps writing and reading for 20 s with zero failed
 *   calls; the audit log (not the client's own counters) shows the token renewed through
 *   `auth/token/renew-self`, one token used past its 3 s TTL, fresh logins once the 8 s max TTL
 *   capped it, no token used past 8 s, and no request refused;
 * - a leader kill (SIGKILL, as a crashed container) while the client reads in a loop
 *   (`get_secrets(path)`, retries=0 as the backend calls it, cache cleared so each read reaches
 *   Vault), with VAULT_ADDR on a node that survives (a standby): every read succeeds through the
 *   election, by the client's failover handling (it follows the standby's 307 to the new active
 *   node and resends on refused connections / 5xx: the stderr shows it did), with the same token
 *   (it lives in Raft, not on the dead node). Measured and written to out/conformance-client.json:
 *   the election time, the longest gap between two successful reads, the slowest read. THIS CASE
 *   POINTS THE CLIENT AT A SURVIVING NODE ON PURPOSE: in a deployment VAULT_ADDR is the
 *   `vault:8200` alias, which should no longer resolve to a dead container (not tested here);
 * - VAULT_ADDR on the very node that is killed (then restarted, as Docker's restart policy
 *   would): the client has one address and no list of nodes, so with the default
 *   VAULT_FAILOVER_WAIT (30 s) reads stall until the node is back and then succeed (none failed
 *   when it was back within 25 s); with VAULT_FAILOVER_WAIT=3 reads fail fast as a clean
 *   `VaultError` ("Vault unreachable", no secret) while it is down and resume on their own after;
 *   in both, no fresh login and no restart of the client.
 *
 * What it does not prove: the entry point the backend reaches in a deployment (`vault:8200`, the
 * serviceName alias every node carries on the Docker network, from which Docker's DNS should drop a
 * dead container: that is for the Docker tier and issue 18); real network partitions (a killed
 * process refuses connections at once; a partition would time out instead); TTLs as long as the
 * backend's real role (3600 s / 14400 s: the same code path, scaled down).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { roleBody } from "../../components/settings/vaultSettings";
import { adminLogin } from "./lib/applySettings";
import { bringUp, healthStatus, restartNode, tearDown, type Live } from "./lib/bringup";
import { generateRoot } from "./lib/ops";
import { REPO, call, stop, waitUntil, type Node } from "./lib/cluster";

let live: Live;
const OUT = path.join(__dirname, "..", "..", "out");
const PY = path.join(REPO, "clients", "python");
const SHORT_ROLE = "bonito-backend-shortttl";
const SHORT_TTL = 3;
const SHORT_MAX_TTL = 8;
const measured: Record<string, unknown> = {};

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The backend's environment as a deployment receives it (`backendEnv`), with the two loopback
 * rewrites the tier makes everywhere: VAULT_ADDR's host `vault` -> 127.0.0.1 on one node's port
 * (127.0.0.1 is a SAN of every node certificate), VAULT_CACERT -> the file the backend's start
 * step wrote into the temp folder.
 */
function backendProcessEnv(node: Node, over: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: Record<string, string | undefined> = {
        ...live.backendEnv,
        VAULT_ADDR: `https://127.0.0.1:${node.ports.api}`,
        VAULT_CACERT: live.backendCaFile,
        ...over,
    };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    return { PATH: process.env.PATH, ...(env as Record<string, string>) };
}

interface PyRun {
    lines: string[];
    /** Resolves once a stdout line matches. */
    line(re: RegExp, timeoutMs: number): Promise<string>;
    exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function runPython(script: string, env: NodeJS.ProcessEnv): PyRun {
    const proc = spawn("/usr/bin/python3", [path.join("tests", script)], { cwd: PY, env });
    let stdout = "";
    let stderr = "";
    const lines: string[] = [];
    const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
    proc.stdout.on("data", (d: Buffer) => {
        const before = stdout;
        stdout += d.toString("utf8");
        const complete = stdout.split("\n").slice(before.split("\n").length - 1, -1);
        for (const l of complete) {
            lines.push(l);
            for (const w of [...waiters])
                if (w.re.test(l)) {
                    waiters.splice(waiters.indexOf(w), 1);
                    w.resolve(l);
                }
        }
    });
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
        proc.on("close", (code) => resolve({ code, stdout, stderr })),
    );
    return {
        lines,
        line(re, timeoutMs) {
            const seen = lines.find((l) => re.test(l));
            if (seen) return Promise.resolve(seen);
            return new Promise((resolve, reject) => {
                const t = setTimeout(
                    () => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; stderr:\n${stderr}`)),
                    timeoutMs,
                );
                waiters.push({
                    re,
                    resolve: (l) => {
                        clearTimeout(t);
                        resolve(l);
                    },
                });
            });
        },
        exited,
    };
}

/** The last JSON line a live_*.py script printed. */
function summary(stdout: string): Body {
    const l = stdout
        .split("\n")
        .filter((x) => x.startsWith("{"))
        .pop();
    assert.ok(l, `no summary line in:\n${stdout}`);
    return JSON.parse(l) as Body;
}

/** The active node among `candidates`; a node that does not answer is skipped, not fatal. */
async function activeAmong(candidates: Node[], timeoutMs: number): Promise<Node> {
    return waitUntil("an active node", timeoutMs, async () => {
        for (const n of candidates) {
            try {
                if ((await call(n.http, "GET", "sys/health")).status === 200) return n;
            } catch {
                /* not answering */
            }
        }
        return undefined;
    });
}

/** Every entry of the first audit device, all nodes, each request/response once. */
function auditEntries(): Body[] {
    const file = String(live.declared.plan.auditDevices[0].options.file_path);
    const seen = new Set<string>();
    const out: Body[] = [];
    for (const name of live.declared.nodeNames) {
        const p = live.roots[name].hostPath(file);
        if (!fs.existsSync(p)) continue;
        for (const l of fs.readFileSync(p, "utf8").split("\n")) {
            if (!l.trim()) continue;
            const e = JSON.parse(l) as Body;
            const id = `${e.type}:${e.request?.id}`;
            if (seen.has(id)) continue;
            seen.add(id);
            out.push(e);
        }
    }
    return out;
}

describe("real Vault 1.21.1: the Python VaultClient as the backend uses it", { timeout: 15 * 60_000 }, () => {
    before(async () => {
        try {
            live = await bringUp();
        } catch (e) {
            await tearDown(undefined);
            throw e;
        }
    });
    after(async () => {
        if (live) {
            fs.mkdirSync(OUT, { recursive: true });
            fs.writeFileSync(
                path.join(OUT, "conformance-client.json"),
                JSON.stringify({ timings: live.timings, measured }, null, 2) + "\n",
            );
        }
        await tearDown(live);
    });

    it("a token that expires during a run: renewed, then a fresh login past token_max_ttl, zero failed calls", async () => {
        // The test role, created with a root token from a recovery share (runbook's emergency
        // path; Pulumi's admin policy may only manage the declared roles): the backend's role
        // body, policies, CIDRs and secret-id settings, only the token TTLs shortened.
        const backendRole = live.declared.plan.roles.find((r) => r.name === "bonito-backend")!;
        const root = await generateRoot(live, [live.init.recoveryKeys[0]]);
        const n = live.nodes[0];
        const created = await call(n.http, "POST", `auth/${backendRole.mount}/role/${SHORT_ROLE}`, root, {
            ...roleBody(backendRole),
            token_ttl: SHORT_TTL,
            token_max_ttl: SHORT_MAX_TTL,
        });
        assert.equal(created.status, 204, JSON.stringify(created.body));
        const roleId = (await call(n.http, "GET", `auth/${backendRole.mount}/role/${SHORT_ROLE}/role-id`, root))
            .body as Body;
        const sid = (await call(n.http, "POST", `auth/${backendRole.mount}/role/${SHORT_ROLE}/secret-id`, root, {}))
            .body as Body;
        assert.equal((await call(n.http, "POST", "auth/token/revoke-self", root)).status, 204);

        const run = runPython(
            "live_token_expiry.py",
            backendProcessEnv(live.nodes[1], {
                VAULT_ROLE_ID: roleId.data.role_id as string,
                VAULT_SECRET_ID: sid.data.secret_id as string,
                VAULT_WRAPPED_SECRET_ID: undefined,
                LIVE_DURATION: "20",
                // Half-way, one pause longer than the token TTL: the token has expired when the
                // next call comes, and that call must still succeed.
                LIVE_IDLE: String(SHORT_TTL + 1),
            }),
        );
        const { code, stdout, stderr } = await run.exited;
        const s = summary(stdout);
        measured.tokenExpiry = s;
        assert.deepEqual(s.failures, [], stderr);
        assert.equal(code, 0, stderr);
        // In use throughout (a write and a read every 0.1 s when idle; fewer on a loaded machine).
        assert.ok(s.calls >= 40, `calls: ${s.calls}`);

        // From the audit log: what Vault saw from tokens of the test role during the run.
        const from = s.start - 1;
        const to = s.end + 1;
        const entries = auditEntries().filter((e) => {
            const t = Date.parse(e.time) / 1000;
            return t >= from && t <= to && e.type === "response";
        });
        const ofRole = (e: Body) => e.auth?.metadata?.role_name === SHORT_ROLE;
        const logins = entries.filter((e) => e.request?.path === "auth/approle/login" && ofRole(e) && !e.error);
        const renewals = entries.filter((e) => e.request?.path === "auth/token/renew-self" && ofRole(e) && !e.error);
        const mount = live.backendEnv.VAULT_MOUNT;
        const kvOfRun = entries.filter(
            (e) =>
                String(e.request?.path).startsWith(`${mount}/data/${s.prefix}`) ||
                String(e.request?.path).startsWith(`${mount}/metadata/${s.prefix}`),
        );
        assert.ok(kvOfRun.length >= s.calls, `KV responses audited: ${kvOfRun.length}, calls ${s.calls}`);
        assert.deepEqual(
            kvOfRun.filter((e) => e.error),
            [],
            "no KV request was refused (a token was never used after it expired)",
        );
        // Each token's span of use: its accessor (HMAC'd by the audit device, stable per token) on
        // the run's KV requests, from the first to the last.
        const spans = new Map<string, { first: number; last: number }>();
        for (const e of kvOfRun) {
            const k = String(e.auth?.accessor);
            const t = Date.parse(e.time) / 1000;
            const sp = spans.get(k) ?? { first: t, last: t };
            sp.first = Math.min(sp.first, t);
            sp.last = Math.max(sp.last, t);
            spans.set(k, sp);
        }
        const lifetimes = [...spans.values()].map((x) => x.last - x.first);
        measured.tokenExpiryAudit = {
            logins: logins.length,
            renewals: renewals.length,
            tokens: spans.size,
            usedSeconds: lifetimes.map((x) => Math.round(x * 10) / 10),
        };
        assert.ok(renewals.length >= 3, `renew-self answered for the role: ${renewals.length}`);
        assert.ok(logins.length >= 3, `logins of the role: ${logins.length}`);
        assert.ok(spans.size >= 3, `tokens used: ${spans.size}`);
        assert.ok(
            lifetimes.some((x) => x > SHORT_TTL),
            `a token used past its ${SHORT_TTL} s TTL (renewed): ${lifetimes}`,
        );
        assert.ok(
            lifetimes.every((x) => x <= SHORT_MAX_TTL),
            `no token used past its ${SHORT_MAX_TTL} s max TTL: ${lifetimes}`,
        );
        assert.equal(s.logins, logins.length, "the client's login count equals the audit log's");
    });

    it("leader SIGKILLed mid-reads, VAULT_ADDR on a standby that survives: every read succeeds", async () => {
        const active = await activeAmong(live.nodes, 30000);
        const target = live.nodes.find((x) => x.name !== active.name)!;
        const stopFile = path.join(live.base, "stop-standby");
        const run = runPython(
            "live_leader_kill.py",
            backendProcessEnv(target, {
                LIVE_STOP_FILE: stopFile,
                LIVE_READ_RETRIES: "0", // get_secrets(path), as the backend calls it
            }),
        );
        await run.line(/^ready/, 60000);
        await run.line(/^progress 20$/, 60000);
        const killedAt = Date.now();
        await stop(live.procs[active.name], "SIGKILL");
        const survivors = live.nodes.filter((x) => x.name !== active.name);
        const next = await activeAmong(survivors, 60000);
        const electedMs = Date.now() - killedAt;
        const reads = run.lines.filter((l) => l.startsWith("progress")).length;
        await waitUntil("20 more reads after the election", 60000, async () =>
            run.lines.filter((l) => l.startsWith("progress")).length >= reads + 2 ? true : undefined,
        );
        fs.writeFileSync(stopFile, "");
        const { stdout, stderr } = await run.exited;
        const s = summary(stdout);
        const resent = stderr.split("\n").filter((l) => /leader election or failover/.test(l));
        measured.leaderKillStandby = {
            killed: active.name,
            addr: target.name,
            newActive: next.name,
            electedMs,
            resentCalls: resent.length,
            resentFor: resent.reduce<Record<string, number>>((acc, l) => {
                const why = /: ([^:]+) \(leader election or failover\?\)/.exec(l)?.[1] ?? "?";
                acc[why] = (acc[why] ?? 0) + 1;
                return acc;
            }, {}),
            ...s,
        };
        restartNode(live, active.name);
        await waitUntil("the killed node back", 90000, async () =>
            (await healthStatus(active).catch(() => 0)) === 200 ? true : undefined,
        );
        assert.deepEqual(s.failures, [], stderr);
        assert.ok(
            resent.length > 0,
            "the kill was felt: the client resent calls (a standby's 307, refused connections)",
        );
        assert.equal(s.logins, 1, "the same token throughout: tokens live in Raft, not on the killed node");
        assert.ok(s.reads >= 40);
    });

    /**
     * VAULT_ADDR names one address and the client keeps no list of nodes (in a deployment it is
     * `vault:8200`, the alias every node carries; the entry point is issue 18). The killed node is
     * started again as Docker's restart policy would (unless-stopped), right after the survivors
     * elected a leader; the client is not restarted. `failoverWait` is VAULT_FAILOVER_WAIT.
     */
    async function killTheAddressedNode(label: string, failoverWait?: number, minDownMs = 0): Promise<Body> {
        const active = await activeAmong(live.nodes, 30000);
        // The backend's wrapped secret ID was spent by an earlier client: a new secret ID for the
        // same role, issued by Pulumi's admin AppRole (as a `pulumi up` replacing it would).
        const admin = await adminLogin(
            { port: active.ports.api, ca: live.caPem, serverName: active.name },
            live.declared.plan,
            live.handover.roleId,
            live.handover.secretId,
        );
        const issued = await call(active.http, "POST", "auth/approle/role/bonito-backend/secret-id", admin, {});
        assert.equal(issued.status, 200, JSON.stringify(issued.body));
        const backendSecretId = (issued.body as Body).data.secret_id as string;
        const stopFile = path.join(live.base, `stop-${label}`);
        const run = runPython(
            "live_leader_kill.py",
            backendProcessEnv(active, {
                VAULT_WRAPPED_SECRET_ID: undefined,
                VAULT_SECRET_ID: backendSecretId,
                VAULT_FAILOVER_WAIT: failoverWait === undefined ? undefined : String(failoverWait),
                LIVE_STOP_FILE: stopFile,
                LIVE_READ_RETRIES: "0",
            }),
        );
        await run.line(/^ready/, 60000);
        await run.line(/^progress 20$/, 60000);
        const killedAt = Date.now();
        await stop(live.procs[active.name], "SIGKILL");
        const survivors = live.nodes.filter((x) => x.name !== active.name);
        await activeAmong(survivors, 60000);
        const electedMs = Date.now() - killedAt;
        // A node that stays down longer than the election (a host reboot, a restart backoff).
        const stillDown = minDownMs - (Date.now() - killedAt);
        if (stillDown > 0) await new Promise((r) => setTimeout(r, stillDown));
        restartNode(live, active.name);
        await waitUntil("the killed node back (unsealed by transit)", 90000, async () =>
            (await healthStatus(active).catch(() => 0)) === 200 ? true : undefined,
        );
        const backMs = Date.now() - killedAt;
        const reads = run.lines.filter((l) => l.startsWith("progress")).length;
        await waitUntil("20 more reads once the node is back", 90000, async () =>
            run.lines.filter((l) => l.startsWith("progress")).length >= reads + 2 ? true : undefined,
        );
        fs.writeFileSync(stopFile, "");
        const { stdout, stderr } = await run.exited;
        const s = summary(stdout);
        measured[label] = {
            killed: active.name,
            failoverWait: failoverWait ?? "default (30)",
            electedMs,
            backMs,
            ...s,
            failures: s.failures.length,
            firstFailure: s.failures[0],
        };
        // Whatever failed, failed as a VaultError naming the cause, without a secret, within the wait.
        for (const f of s.failures as Body[]) {
            assert.match(f.error, /^VaultError: Vault (unreachable|error \(5\d\d\))/, f.error);
            // the wait, then at most one 2 s backoff and one 5 s request timeout
            assert.ok(f.took <= (failoverWait ?? 30) + 2 + 5 + 1, `a failed read took ${f.took} s`);
        }
        assert.ok(!stdout.includes(backendSecretId) && !stderr.includes(backendSecretId));
        assert.equal(s.logins, 1, "no fresh login: the token survived the kill (Raft), the node came back");
        assert.ok(s.reads >= 40, `reads: ${s.reads}`);
        return { ...s, backMs };
    }

    it("leader SIGKILLed mid-reads, VAULT_ADDR on that very node, default VAULT_FAILOVER_WAIT (30 s): reads stall (past 30 s, fail cleanly) while it is down, then resume with the same token", async () => {
        // The backend's environment as is (no VAULT_FAILOVER_WAIT). Measured: the node back 16-23 s
        // after the kill, the longest read 18-26 s, none failed. A read fails only if it waited
        // 30 s (then cleanly, checked above), so with the node back within 25 s none may fail.
        const s = await killTheAddressedNode("leaderKillSameNode");
        if (s.backMs < 25000) assert.deepEqual(s.failures, [], "back within the wait: the reads stalled, none failed");
    });

    it("the same with VAULT_FAILOVER_WAIT=3: reads fail fast and cleanly while the node is down, then resume on their own", async () => {
        // Kept down 10 s, longer than the 3 s wait plus one backoff: with raftPerformanceMultiplier 1
        // the election alone is over in about 3 s, and a node back that soon would fail nothing.
        const s = await killTheAddressedNode("leaderKillSameNodeShortWait", 3, 10000);
        assert.ok(s.failures.length > 0, "the node was down longer than 3 s: some reads failed");
    });
});
