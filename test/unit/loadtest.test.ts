/**
 * The load test's pure core, with a fake clock and an in-memory Vault model (no sockets).
 * Proves: nearest-rank percentiles on known inputs; argument parsing and its exact messages
 * (missing flags, bad durations, ratios outside [0, 1], the secret ID's sources); token renewal at
 * 2/3 of the TTL, a new login when renewal fails or the max TTL is reached, one refresh shared by
 * concurrent callers; that runLoad seeds, keeps the concurrency, counts ops and errors by status
 * exactly in simulated time, deletes every key it wrote, and stops early on abort; redaction.
 * Does not prove: anything about TLS or sockets (loadtest.https.test.ts), or real Vault performance.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ARGV_SECRET_WARNING, parseDuration, parseLoadTestArgs } from "../../scripts/loadtest/args";
import { AuthError, TokenSession, renewAt } from "../../scripts/loadtest/auth";
import { FakeVault } from "../helpers/fakeVault";
import { Redactor, formatSummary } from "../../scripts/loadtest/report";
import { LoadTestError, runLoad, type LoadSummary, type RunLoadOptions } from "../../scripts/loadtest/run";
import { percentile, summarizeLatencies } from "../../scripts/loadtest/stats";
import type { Clock, HttpClient, VaultRequest, VaultResponse } from "../../scripts/loadtest/types";

const ROLE_ID = "role-id-0123456789";
const SECRET_ID = "secret-id-SHOULD-NEVER-PRINT-42";

/**
 * Simulated time. `sleep`-style timers fire in order; with `auto`, whenever timers are pending the
 * clock jumps to the next one after the current microtasks settle, so a set of workers waiting on
 * simulated latencies runs as a discrete-event simulation.
 */
function fakeClock(auto = false) {
    let t = 0;
    let seq = 0;
    let scheduled = false;
    const timers = new Map<number, { at: number; fn: () => void }>();
    const fireNext = () => {
        scheduled = false;
        if (timers.size === 0) return;
        const next = Math.min(...[...timers.values()].map((x) => x.at));
        t = Math.max(t, next);
        for (const [id, x] of [...timers].sort((a, b) => a[1].at - b[1].at || a[0] - b[0]))
            if (x.at <= t) {
                timers.delete(id);
                x.fn();
            }
        schedule();
    };
    const schedule = () => {
        if (auto && !scheduled && timers.size > 0) {
            scheduled = true;
            setImmediate(fireNext);
        }
    };
    const clock: Clock & { advance(ms: number): void; sleep(ms: number): Promise<void> } = {
        now: () => t,
        setTimer(ms, fn) {
            const id = seq++;
            timers.set(id, { at: t + ms, fn });
            schedule();
            return () => void timers.delete(id);
        },
        advance(ms) {
            t += ms;
            for (const [id, x] of [...timers].sort((a, b) => a[1].at - b[1].at))
                if (x.at <= t) {
                    timers.delete(id);
                    x.fn();
                }
        },
        sleep: (ms) => new Promise((r) => clock.setTimer(ms, r)),
    };
    return clock;
}

/** Deterministic uniform [0, 1). */
function mulberry32(seed: number) {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
        return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
}

describe("percentile / summarizeLatencies", () => {
    const oneTo100 = Array.from({ length: 100 }, (_, i) => i + 1);

    it("nearest rank on 1..100: p50 50, p95 95, p99 99, max 100, mean 50.5", () => {
        assert.deepStrictEqual(summarizeLatencies(oneTo100), { p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
    });

    it("small inputs take the sample at rank ceil(p/100 × n)", () => {
        assert.equal(percentile([1, 2, 3, 4], 50), 2);
        assert.equal(percentile([1, 2, 3, 4], 95), 4);
        assert.equal(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 50), 50);
        assert.equal(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 95), 100);
        assert.equal(percentile([7], 99), 7);
        assert.equal(percentile([7], 100), 7);
    });

    it("sorts numerically without touching the input, rounds to µs", () => {
        const input = [100, 9, 25.00049, 3];
        assert.deepStrictEqual(summarizeLatencies(input), { p50: 9, p95: 100, p99: 100, max: 100, mean: 34.25 });
        assert.deepStrictEqual(input, [100, 9, 25.00049, 3]);
        assert.equal(summarizeLatencies([1.23456])?.p50, 1.235);
    });

    it("no samples: null; bad p: an error", () => {
        assert.equal(summarizeLatencies([]), null);
        assert.throws(() => percentile([], 50), /no samples/);
        assert.throws(() => percentile([1], 0), /must be in \(0, 100\], got 0/);
        assert.throws(() => percentile([1], 101), /got 101/);
    });
});

describe("parseLoadTestArgs", () => {
    const base = ["--addr", "https://vault.example.com:8200", "--cacert", "ca.pem", "--role-id", ROLE_ID];
    const env = { VAULT_SECRET_ID: SECRET_ID };

    it("defaults, secret ID from VAULT_SECRET_ID", () => {
        assert.deepStrictEqual(parseLoadTestArgs(base, env), {
            addr: "https://vault.example.com:8200",
            caCertFile: "ca.pem",
            roleId: ROLE_ID,
            secretId: { from: "env", value: SECRET_ID },
            namespace: undefined,
            mount: "bonito",
            approlePath: "approle",
            concurrency: 16,
            durationMs: 30_000,
            readRatio: 0.8,
            keys: 100,
            jsonFile: undefined,
        });
    });

    it("every option, --flag=value form, a secret ID file, trailing slashes dropped", () => {
        const a = parseLoadTestArgs(
            [
                "--addr=https://10.0.0.1:8200/",
                "--role-id",
                ROLE_ID,
                "--secret-id-file",
                "/run/secrets/sid",
                "--mount",
                "kv/",
                "--approle-path",
                "ci/approle",
                "--concurrency",
                "4",
                "--duration",
                "1m30s",
                "--read-ratio",
                "0",
                "--keys",
                "7",
                "--json",
                "out/lt.json",
                "--namespace",
                "admin",
            ],
            env,
        );
        assert.deepStrictEqual(a, {
            addr: "https://10.0.0.1:8200",
            caCertFile: undefined,
            roleId: ROLE_ID,
            secretId: { from: "file", path: "/run/secrets/sid" },
            namespace: "admin",
            mount: "kv",
            approlePath: "ci/approle",
            concurrency: 4,
            durationMs: 90_000,
            readRatio: 0,
            keys: 7,
            jsonFile: "out/lt.json",
        });
    });

    it("env fallbacks for addr, CA, role ID", () => {
        const a = parseLoadTestArgs([], {
            VAULT_ADDR: "http://127.0.0.1:8200",
            VAULT_CACERT: "/etc/ca.pem",
            VAULT_ROLE_ID: ROLE_ID,
            VAULT_SECRET_ID: SECRET_ID,
        });
        assert.equal(a.addr, "http://127.0.0.1:8200");
        assert.equal(a.caCertFile, "/etc/ca.pem");
        assert.equal(a.roleId, ROLE_ID);
    });

    it("missing role ID names the flag", () => {
        assert.throws(
            () => parseLoadTestArgs(["--addr", "https://v:8200"], env),
            (e: Error) => e.message.startsWith("--role-id is required (or set VAULT_ROLE_ID)\nusage:"),
        );
    });

    it("missing addr and missing secret ID name their sources", () => {
        assert.throws(
            () => parseLoadTestArgs(["--role-id", "r"], env),
            /^Error: --addr is required \(or set VAULT_ADDR\)/,
        );
        assert.throws(
            () => parseLoadTestArgs(base, {}),
            /^Error: no secret ID: pass --secret-id-file <path> or set VAULT_SECRET_ID \(--secret-id also works but shows the value in the process list\)/,
        );
    });

    it("--secret-id on argv is accepted, flagged as argv, and both sources at once are refused", () => {
        assert.deepStrictEqual(parseLoadTestArgs([...base, "--secret-id", "s-argv-123456"], {}).secretId, {
            from: "argv",
            value: "s-argv-123456",
        });
        assert.throws(
            () => parseLoadTestArgs([...base, "--secret-id", "x", "--secret-id-file", "f"], {}),
            /^Error: give only one of --secret-id-file and --secret-id$/,
        );
        assert.match(ARGV_SECRET_WARNING, /process list/);
    });

    it("bad durations", () => {
        for (const d of ["30", "abc", "-5s", "1d", "0s", "25h", ""])
            assert.throws(() => parseLoadTestArgs([...base, "--duration=" + d], env), /--duration/, d);
        assert.throws(
            () => parseDuration("30"),
            new Error(
                '--duration "30" is not a valid duration: use a number with a unit ms, s, m or h (examples: 30s, 2m, 1m30s, 500ms)',
            ),
        );
        assert.throws(() => parseDuration("0s"), /it must be at least 1ms/);
        assert.equal(parseDuration("500ms"), 500);
        assert.equal(parseDuration("1.5s"), 1500);
        assert.equal(parseDuration("1h2m3s"), 3_723_000);
    });

    it("read ratio outside [0, 1]", () => {
        for (const r of ["1.5", "-0.1", "x", "2"])
            assert.throws(
                () => parseLoadTestArgs([...base, "--read-ratio", r], env),
                (e: Error) => e.message.startsWith("--read-ratio must be between 0 and 1, got"),
                r,
            );
        assert.equal(parseLoadTestArgs([...base, "--read-ratio", "1"], env).readRatio, 1);
        assert.equal(parseLoadTestArgs([...base, "--read-ratio", ".25"], env).readRatio, 0.25);
    });

    it("bad numbers, paths, addresses, unknown or repeated flags", () => {
        assert.throws(
            () => parseLoadTestArgs([...base, "--concurrency", "0"], env),
            new Error("--concurrency must be a whole number from 1 to 4096, got 0"),
        );
        assert.throws(
            () => parseLoadTestArgs([...base, "--keys", "1e3"], env),
            new Error('--keys must be a whole number, got "1e3"'),
        );
        assert.throws(() => parseLoadTestArgs([...base, "--mount", "../sys"], env), /--mount must be a Vault path/);
        assert.throws(
            () => parseLoadTestArgs(["--addr", "vault:8200", "--role-id", "r"], env),
            /--addr must start with https:\/\//,
        );
        assert.throws(() => parseLoadTestArgs(["--addr", "not a url", "--role-id", "r"], env), /--addr must be a URL/);
        assert.throws(() => parseLoadTestArgs([...base, "--token", "t"], env), /^Error: unknown argument "--token"/);
        assert.throws(() => parseLoadTestArgs([...base, "--keys"], env), /^Error: --keys needs a value/);
        assert.throws(() => parseLoadTestArgs([...base, "--keys", "1", "--keys", "2"], env), /--keys is given twice/);
    });
});

/** A client over a FakeVault with a scripted override, recording requests. */
function scripted(clock: Clock, over?: (req: VaultRequest) => VaultResponse | undefined) {
    const vault = new FakeVault({ roleId: ROLE_ID, secretId: SECRET_ID, ttl: 30, maxTtl: 120, now: clock.now });
    const sent: string[] = [];
    const client: HttpClient = async (req) => {
        sent.push(`${req.method} ${req.path}`);
        return over?.(req) ?? vault.handle(req);
    };
    return { vault, sent, client };
}

describe("token renewal (fake clock)", () => {
    it("renewAt is 2/3 of the TTL after the token was obtained; never for a token without TTL", () => {
        assert.equal(renewAt(1000, 3000), 3000);
        assert.equal(renewAt(0, 3_600_000), 2_400_000);
        assert.equal(renewAt(5, 0), Number.POSITIVE_INFINITY);
    });

    it("uses the token untouched before 2/3 of the TTL, renews at 2/3, then counts from the renewal", async () => {
        const clock = fakeClock();
        const f = scripted(clock);
        const s = new TokenSession({
            client: f.client,
            clock,
            approlePath: "approle",
            roleId: ROLE_ID,
            secretId: SECRET_ID,
        });
        await s.login();
        const first = await s.token();
        assert.equal(s.dueAt, 20_000);
        clock.advance(19_999);
        assert.equal(await s.token(), first);
        assert.deepStrictEqual(f.sent, ["POST auth/approle/login"]);
        clock.advance(1);
        assert.equal(await s.token(), first);
        assert.deepStrictEqual(f.sent, ["POST auth/approle/login", "POST auth/token/renew-self"]);
        assert.equal(s.dueAt, 40_000);
        assert.deepStrictEqual(s.stats, { logins: 1, renewals: 1, renewalsFailed: 0, revoked: false });
    });

    it("concurrent callers at the due time share one renewal", async () => {
        const clock = fakeClock();
        const f = scripted(clock);
        const s = new TokenSession({
            client: f.client,
            clock,
            approlePath: "approle",
            roleId: ROLE_ID,
            secretId: SECRET_ID,
        });
        await s.login();
        clock.advance(25_000);
        await Promise.all(Array.from({ length: 8 }, () => s.token()));
        assert.equal(f.sent.filter((x) => x === "POST auth/token/renew-self").length, 1);
    });

    it("logs in again when Vault refuses the renewal", async () => {
        const clock = fakeClock();
        const f = scripted(clock, (req) =>
            req.path === "auth/token/renew-self" ? { status: 403, body: { errors: ["permission denied"] } } : undefined,
        );
        const lines: string[] = [];
        const s = new TokenSession({
            client: f.client,
            clock,
            approlePath: "approle",
            roleId: ROLE_ID,
            secretId: SECRET_ID,
            log: (l) => lines.push(l),
        });
        await s.login();
        const first = await s.token();
        clock.advance(20_000);
        const second = await s.token();
        assert.notEqual(second, first);
        assert.equal(second, f.vault.issued[1]);
        assert.deepStrictEqual(s.stats, { logins: 2, renewals: 0, renewalsFailed: 1, revoked: false });
        assert.deepStrictEqual(lines, [
            "token renewal: renew-self answered HTTP 403 (permission denied); logging in again",
        ]);
    });

    it("renews while renewal extends the token, logs in again once the max TTL caps it", async () => {
        // TTL 30s, max TTL 60s: login at 0 (expires 30), renew at 20 (→ 50), at 40 (capped → 60, still
        // later), at 53.3 (capped → 60, no gain: max TTL reached) → login.
        const clock = fakeClock();
        const vault = new FakeVault({ roleId: ROLE_ID, secretId: SECRET_ID, ttl: 30, maxTtl: 60, now: clock.now });
        const sent: string[] = [];
        const client: HttpClient = async (req) => (sent.push(req.path), vault.handle(req));
        const s = new TokenSession({ client, clock, approlePath: "approle", roleId: ROLE_ID, secretId: SECRET_ID });
        await s.login();
        for (const at of [20_000, 40_000]) {
            clock.advance(at - clock.now());
            await s.token();
        }
        assert.equal(s.stats.renewals, 2);
        assert.ok(Math.abs(s.dueAt - (40_000 + (20_000 * 2) / 3)) < 1);
        clock.advance(s.dueAt - clock.now());
        const token = await s.token();
        assert.equal(token, vault.issued[1]);
        assert.deepStrictEqual(s.stats, { logins: 2, renewals: 2, renewalsFailed: 1, revoked: false });
        assert.deepStrictEqual(sent, [
            "auth/approle/login",
            "auth/token/renew-self",
            "auth/token/renew-self",
            "auth/token/renew-self",
            "auth/approle/login",
        ]);
        assert.equal(s.dueAt, clock.now() + 20_000);
    });

    it("a non-renewable token is replaced by a login at 2/3 of its TTL, without renew-self", async () => {
        const clock = fakeClock();
        const vault = new FakeVault({
            roleId: ROLE_ID,
            secretId: SECRET_ID,
            ttl: 30,
            maxTtl: 30,
            renewable: false,
            now: clock.now,
        });
        const sent: string[] = [];
        const client: HttpClient = async (req) => (sent.push(req.path), vault.handle(req));
        const s = new TokenSession({ client, clock, approlePath: "approle", roleId: ROLE_ID, secretId: SECRET_ID });
        await s.login();
        clock.advance(20_000);
        await s.token();
        assert.deepStrictEqual(sent, ["auth/approle/login", "auth/approle/login"]);
    });

    it("a refused login is an AuthError with Vault's message and neither id", async () => {
        const clock = fakeClock();
        const vault = new FakeVault({
            roleId: ROLE_ID,
            secretId: "another-secret-id",
            ttl: 30,
            maxTtl: 60,
            now: clock.now,
        });
        const s = new TokenSession({
            client: async (req) => vault.handle(req),
            clock,
            approlePath: "approle",
            roleId: ROLE_ID,
            secretId: SECRET_ID,
        });
        await assert.rejects(s.login(), (e: unknown) => {
            assert.ok(e instanceof AuthError);
            assert.match(
                e.message,
                /^AppRole login \(POST \/v1\/auth\/approle\/login\) failed: HTTP 400 \(invalid role or secret ID\)/,
            );
            assert.ok(!e.message.includes(SECRET_ID) && !e.message.includes(ROLE_ID));
            return true;
        });
    });
});

/** runLoad in simulated time: reads take 2 ms, writes 5 ms, renew/login 1 ms. */
function simulated(opts: { fail?: ConstructorParameters<typeof FakeVault>[0]["fail"]; ttl?: number }) {
    const clock = fakeClock(true);
    const vault = new FakeVault({
        roleId: ROLE_ID,
        secretId: SECRET_ID,
        ttl: opts.ttl ?? 3600,
        maxTtl: 14_400,
        now: clock.now,
        fail: opts.fail,
    });
    let inFlight = 0;
    let maxInFlight = 0;
    const client: HttpClient = async (req) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await clock.sleep(req.path.includes("/data/") ? (req.method === "GET" ? 2 : 5) : 1);
        inFlight--;
        return vault.handle(req);
    };
    const base: RunLoadOptions = {
        client,
        clock,
        roleId: ROLE_ID,
        secretId: SECRET_ID,
        approlePath: "approle",
        mount: "bonito",
        concurrency: 4,
        durationMs: 1000,
        readRatio: 1,
        keys: 8,
        runId: "sim",
        random: mulberry32(7),
    };
    return { clock, vault, base, maxInFlight: () => maxInFlight };
}

describe("runLoad (simulated time)", () => {
    it("reads only: 4 workers × 500 reads of 2 ms in 1 s, exact latencies, every key deleted, token revoked", async () => {
        const sim = simulated({});
        const progress: number[] = [];
        const r = await runLoad({ ...sim.base, onProgress: (p) => progress.push(p.ops) });
        assert.equal(r.all.ops, 2000);
        assert.equal(r.read.ops, 2000);
        assert.equal(r.write.ops, 0);
        assert.equal(r.all.errors, 0);
        assert.equal(r.elapsedMs, 1000);
        assert.equal(r.all.throughput, 2000);
        assert.deepStrictEqual(r.read.latencyMs, { p50: 2, p95: 2, p99: 2, max: 2, mean: 2 });
        assert.equal(r.write.latencyMs, null);
        assert.equal(sim.maxInFlight(), 4);
        // One line at 1 s; the timer may fire just before the last four reads are recorded.
        assert.equal(progress.length, 1);
        assert.ok(progress[0] >= 1996 && progress[0] <= 2000, String(progress[0]));
        assert.deepStrictEqual(
            [...sim.vault.created].sort(),
            Array.from({ length: 8 }, (_, n) => `loadtest/sim/${n}`).sort(),
        );
        assert.deepStrictEqual([...sim.vault.deleted].sort(), [...sim.vault.created].sort());
        assert.equal(sim.vault.kv.size, 0);
        assert.deepStrictEqual(r.cleanup, { deleted: 8, failed: 0, errorsByStatus: {}, leftBehind: [] });
        assert.deepStrictEqual(r.auth, { logins: 1, renewals: 0, renewalsFailed: 0, revoked: true });
        // Key 0 alone (5 ms), then 7 keys 4 at a time (2 × 5 ms).
        assert.deepStrictEqual(r.seed, { keys: 8, ms: 15 });
    });

    it("a mix counts failed writes by status and leaves reads clean; renewals happen mid-run", async () => {
        let writes = 0;
        const sim = simulated({
            ttl: 3,
            fail: (req, { update }) => (req.method === "POST" && update && ++writes % 3 === 0 ? 403 : undefined),
        });
        const r = await runLoad({ ...sim.base, readRatio: 0.5, durationMs: 10_000 });
        assert.ok(r.write.ops > 1000 && r.read.ops > 1000);
        assert.equal(r.read.errors, 0);
        assert.equal(r.write.errors, Math.floor(r.write.ops / 3));
        assert.deepStrictEqual(r.all.errorsByStatus, { "403": r.write.errors });
        assert.deepStrictEqual(r.write.errorsByStatus, { "403": r.write.errors });
        assert.equal(r.all.ops, r.read.ops + r.write.ops);
        assert.ok(r.auth.renewals >= 4, `renewals ${r.auth.renewals}`);
        assert.equal(sim.vault.kv.size, 0);
    });

    it("a refused seed write is fatal: the run stops before the mix and still deletes the keys", async () => {
        const sim = simulated({ fail: (req) => (req.method === "POST" ? 403 : undefined) });
        await assert.rejects(runLoad(sim.base), (e: unknown) => {
            assert.ok(e instanceof LoadTestError);
            assert.match(
                e.message,
                /^seeding bonito\/data\/loadtest\/sim\/\d failed: HTTP 403 \(injected failure\); does the policy grant create on bonito\/data\/\*/,
            );
            assert.match(e.message, /\ncleanup: 8 keys deleted$/);
            return true;
        });
        assert.equal(sim.vault.log.filter((l) => l.method === "GET").length, 0);
    });

    it("a mount that answers writes without a version (KV v1) stops after one key, naming it", async () => {
        const sim = simulated({});
        const client: HttpClient = async (req) =>
            req.method === "POST" && req.path.startsWith("bonito/data/") ? { status: 204 } : sim.base.client(req);
        await assert.rejects(
            runLoad({ ...sim.base, client }),
            (e: unknown) =>
                e instanceof LoadTestError &&
                e.message ===
                    'bonito does not look like a KV v2 mount (the write answered HTTP 204 without a version); the load test needs KV v2. Delete the key it wrote: bonito/data/loadtest/sim/0 (a KV v1 key named "data/loadtest/sim/0")\ncleanup: 0 keys deleted',
        );
        assert.deepStrictEqual(
            sim.vault.log.map((l) => `${l.method} ${l.path}`),
            ["POST auth/approle/login", "POST auth/token/revoke-self"],
            "one write, not logged by the fake (the stub answered it), and no DELETE",
        );
    });

    it("abort stops the mix early, marks the run interrupted, and still cleans up", async () => {
        const sim = simulated({});
        const ctl = new AbortController();
        sim.clock.setTimer(300, () => ctl.abort());
        const r = await runLoad({ ...sim.base, durationMs: 60_000, signal: ctl.signal });
        assert.equal(r.interrupted, true);
        assert.ok(r.elapsedMs < 1000, `elapsed ${r.elapsedMs}`);
        assert.equal(r.cleanup.deleted, 8);
        assert.equal(sim.vault.kv.size, 0);
    });

    it("failed deletes are reported with the paths left behind", async () => {
        const sim = simulated({});
        const client: HttpClient = async (req) =>
            req.method === "DELETE" && req.path.endsWith("/3")
                ? { status: 403, body: { errors: ["permission denied"] } }
                : sim.base.client(req);
        const r = await runLoad({ ...sim.base, client, durationMs: 10 });
        assert.deepStrictEqual(r.cleanup, {
            deleted: 7,
            failed: 1,
            errorsByStatus: { "403": 1 },
            leftBehind: ["bonito/metadata/loadtest/sim/3"],
        });
    });
});

describe("output", () => {
    it("the redactor hides every registered secret and ignores values too short to be one", () => {
        const r = new Redactor();
        r.add(SECRET_ID);
        r.add("hvs.token-abcdefgh");
        r.add("abc");
        assert.equal(r.redact(`a ${SECRET_ID} b hvs.token-abcdefgh c abc`), "a [redacted] b [redacted] c abc");
    });

    it("the summary shows totals, per-op rows, errors by status, auth and cleanup", async () => {
        const sim = simulated({});
        const r = await runLoad({ ...sim.base, durationMs: 100 });
        const s: LoadSummary = { tool: "bonito-vault loadtest", addr: "https://v:8200", startedAt: "t", ...r };
        assert.deepStrictEqual(formatSummary(s).split("\n"), [
            "bonito-vault loadtest: https://v:8200, mount bonito, run sim",
            "  concurrency 4, duration 0.1s, read ratio 1, 8 keys",
            "  200 ops in 0.10s = 2000.0 ops/s, errors 0 (0.00%)",
            "",
            "  op          ops      ops/s  errors   p50 ms   p95 ms   p99 ms   max ms",
            "  read         200     2000.0       0     2.00     2.00     2.00     2.00",
            "  write          0        0.0       0        -        -        -        -",
            "  all          200     2000.0       0     2.00     2.00     2.00     2.00",
            "",
            "  errors by status: none",
            "  auth: 1 login(s), 0 renewal(s), 0 renewal(s) refused or at max TTL (then a new login); token revoked",
            "  seed: 8 keys in 0.01s; cleanup: 8 keys deleted",
        ]);
    });
});
