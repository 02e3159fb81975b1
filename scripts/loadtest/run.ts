/**
 * The load test's core: log in, seed keys, run a read/write mix at a fixed concurrency for a
 * fixed time, delete what it wrote, revoke its token. Talks to Vault only through the injected
 * HttpClient and reads time only from the injected Clock.
 */
import { AuthError, TokenSession, describeTransport, type AuthStats } from "./auth";
import { Recorder, rate, roundMs, type OpStats } from "./stats";
import { errorCode, vaultErrors, type Clock, type HttpClient, type VaultRequest } from "./types";

export interface RunLoadOptions {
    client: HttpClient;
    clock: Clock;
    roleId: string;
    secretId: string;
    approlePath: string;
    mount: string;
    concurrency: number;
    durationMs: number;
    /** Share of operations that are reads, 0..1. */
    readRatio: number;
    keys: number;
    /** Names this run's subtree `loadtest/<runId>/`; unique per run so parallel runs never collide. */
    runId: string;
    /** Uniform in [0, 1); Math.random by default. */
    random?: () => number;
    progressIntervalMs?: number;
    onProgress?: (p: Progress) => void;
    /** One-line notes (phase changes, re-logins). */
    log?: (line: string) => void;
    onToken?: (token: string) => void;
    /** Stops the mix early; cleanup still runs. */
    signal?: AbortSignal;
}

export interface Progress {
    elapsedMs: number;
    ops: number;
    /** Over the last interval. */
    opsPerSec: number;
    errors: number;
}

export interface LoadResult {
    runId: string;
    config: {
        mount: string;
        approlePath: string;
        concurrency: number;
        durationMs: number;
        readRatio: number;
        keys: number;
    };
    /** Wall time of the mix, from its start until the last in-flight operation finished. */
    elapsedMs: number;
    /** True when the mix stopped early (signal). */
    interrupted: boolean;
    all: OpStats;
    read: OpStats;
    write: OpStats;
    auth: AuthStats;
    seed: { keys: number; ms: number };
    cleanup: { deleted: number; failed: number; errorsByStatus: Record<string, number>; leftBehind: string[] };
}

/** What loadTest returns, prints and writes with --json. Never holds the secret ID or a token. */
export interface LoadSummary extends LoadResult {
    tool: "bonito-vault loadtest";
    addr: string;
    /** ISO time the run started. */
    startedAt: string;
}

/** A fatal failure (login, seeding, token lost mid-run); cleanup was attempted and is reported in `cleanup`. */
export class LoadTestError extends Error {
    constructor(
        message: string,
        readonly cleanup?: LoadResult["cleanup"],
    ) {
        super(message);
    }
}

const VALUE = "x".repeat(64);
const LEFT_BEHIND_LISTED = 20;

/** Paths, relative to the mount, of one run's keys. */
export function keyPath(runId: string, n: number): string {
    return `loadtest/${runId}/${n}`;
}

/** Run `fn` over 0..count-1 with at most `concurrency` in flight; stops starting new ones once `stop()` is true. */
async function pool(
    count: number,
    concurrency: number,
    fn: (i: number) => Promise<void>,
    stop = () => false,
): Promise<number> {
    let next = 0;
    const worker = async () => {
        while (next < count && !stop()) await fn(next++);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return next;
}

export async function runLoad(o: RunLoadOptions): Promise<LoadResult> {
    const { client, clock, mount, runId } = o;
    const random = o.random ?? Math.random;
    const log = o.log ?? (() => {});
    const session = new TokenSession({
        client,
        clock,
        approlePath: o.approlePath,
        roleId: o.roleId,
        secretId: o.secretId,
        onToken: o.onToken,
        log,
    });
    const dataPath = (n: number) => `${mount}/data/${keyPath(runId, n)}`;
    const write = (n: number, seq: number, token: string): VaultRequest => ({
        method: "POST",
        path: dataPath(n),
        token,
        body: { data: { value: VALUE, writer: "bonito-vault loadtest", seq } },
    });

    await session.login();

    // Seed: every key the mix reads or writes exists before the clock starts. Key 0 goes first,
    // alone: a KV v1 mount would accept the write as a literal key "data/…" (answering 204 with no
    // version) and the metadata DELETE would then miss it, so stop after one stray key, not many.
    const seedStart = clock.now();
    let seedFailure: string | undefined;
    let kvV1 = false;
    const seedOne = async (n: number) => {
        try {
            const res = await client(write(n, 0, await session.token()));
            if (res.status < 200 || res.status >= 300)
                seedFailure ??= `seeding ${mount}/data/${keyPath(runId, n)} failed: HTTP ${res.status} (${vaultErrors(res.body)}); does the policy grant create on ${mount}/data/*, and is ${mount} a KV v2 mount?`;
            else if (typeof (res.body as { data?: { version?: unknown } } | undefined)?.data?.version !== "number") {
                kvV1 = true;
                seedFailure ??= `${mount} does not look like a KV v2 mount (the write answered HTTP ${res.status} without a version); the load test needs KV v2. Delete the key it wrote: ${mount}/data/${keyPath(runId, n)} (a KV v1 key named "data/${keyPath(runId, n)}")`;
            }
        } catch (err) {
            seedFailure ??= `seeding ${mount}/data/${keyPath(runId, n)} failed: ${err instanceof AuthError ? err.message : describeTransport(err)}`;
        }
    };
    await seedOne(0);
    if (seedFailure === undefined)
        await pool(
            o.keys - 1,
            o.concurrency,
            (i) => seedOne(i + 1),
            () => seedFailure !== undefined,
        );
    const seedMs = clock.now() - seedStart;
    if (seedFailure) {
        const cleanup = kvV1
            ? { deleted: 0, failed: 0, errorsByStatus: {}, leftBehind: [] }
            : await deleteKeys(o, session);
        await session.revoke();
        throw new LoadTestError(`${seedFailure}\n${cleanupLine(cleanup)}`, cleanup);
    }
    log(`seeded ${o.keys} keys under ${mount}/data/loadtest/${runId}/ in ${(seedMs / 1000).toFixed(2)}s`);

    // Mix.
    const rec = new Recorder();
    const start = clock.now();
    const deadline = start + o.durationMs;
    let fatal: Error | undefined;
    let seq = 0;
    const stopped = () => fatal !== undefined || o.signal?.aborted === true;
    const interval = o.progressIntervalMs ?? 1000;
    let lastOps = 0;
    let lastAt = start;
    let cancelTimer = () => {};
    const tick = () => {
        const now = clock.now();
        o.onProgress?.({
            elapsedMs: now - start,
            ops: rec.ops,
            opsPerSec: rate(rec.ops - lastOps, now - lastAt),
            errors: rec.errors,
        });
        lastOps = rec.ops;
        lastAt = now;
        cancelTimer = clock.setTimer(interval, tick);
    };
    if (o.onProgress) cancelTimer = clock.setTimer(interval, tick);

    const worker = async () => {
        while (!stopped() && clock.now() < deadline) {
            let token: string;
            try {
                token = await session.token();
            } catch (err) {
                fatal ??= err instanceof Error ? err : new Error(String(err));
                return;
            }
            const isRead = random() < o.readRatio;
            const n = Math.floor(random() * o.keys);
            const req: VaultRequest = isRead ? { method: "GET", path: dataPath(n), token } : write(n, ++seq, token);
            const t0 = clock.now();
            let error: string | undefined;
            try {
                const res = await client(req);
                if (res.status < 200 || res.status >= 300) error = String(res.status);
            } catch (err) {
                error = errorCode(err);
            }
            rec.record(isRead ? "read" : "write", clock.now() - t0, error);
        }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    cancelTimer();
    const elapsedMs = clock.now() - start;

    const cleanup = await deleteKeys(o, session);
    await session.revoke();
    if (fatal) throw new LoadTestError(`the run stopped: ${fatal.message}\n${cleanupLine(cleanup)}`, cleanup);

    return {
        runId,
        config: {
            mount,
            approlePath: o.approlePath,
            concurrency: o.concurrency,
            durationMs: o.durationMs,
            readRatio: o.readRatio,
            keys: o.keys,
        },
        elapsedMs: roundMs(elapsedMs),
        interrupted: o.signal?.aborted === true,
        all: rec.opStats("all", elapsedMs),
        read: rec.opStats("read", elapsedMs),
        write: rec.opStats("write", elapsedMs),
        auth: { ...session.stats },
        seed: { keys: o.keys, ms: roundMs(seedMs) },
        cleanup,
    };
}

/** DELETE <mount>/metadata/... for every key of the run: all versions and the metadata go. 404 counts as gone. */
async function deleteKeys(o: RunLoadOptions, session: TokenSession): Promise<LoadResult["cleanup"]> {
    const out: LoadResult["cleanup"] = { deleted: 0, failed: 0, errorsByStatus: {}, leftBehind: [] };
    const fail = (n: number, status: string) => {
        out.failed++;
        out.errorsByStatus[status] = (out.errorsByStatus[status] ?? 0) + 1;
        if (out.leftBehind.length < LEFT_BEHIND_LISTED)
            out.leftBehind.push(`${o.mount}/metadata/${keyPath(o.runId, n)}`);
    };
    let authLost = false;
    const started = await pool(
        o.keys,
        o.concurrency,
        async (n) => {
            try {
                const res = await o.client({
                    method: "DELETE",
                    path: `${o.mount}/metadata/${keyPath(o.runId, n)}`,
                    token: await session.token(),
                });
                if ((res.status >= 200 && res.status < 300) || res.status === 404) out.deleted++;
                else fail(n, String(res.status));
            } catch (err) {
                authLost ||= err instanceof AuthError;
                fail(n, err instanceof AuthError ? "auth" : errorCode(err));
            }
        },
        // Without a token every DELETE would fail the same way: stop asking Vault.
        () => authLost,
    );
    for (let n = started; n < o.keys; n++) fail(n, "auth");
    return out;
}

export function cleanupLine(c: LoadResult["cleanup"]): string {
    if (c.failed === 0) return `cleanup: ${c.deleted} keys deleted`;
    const statuses = Object.entries(c.errorsByStatus)
        .map(([s, n]) => `${s} ×${n}`)
        .join(", ");
    return `cleanup INCOMPLETE: ${c.deleted} deleted, ${c.failed} left behind (${statuses}), e.g. ${c.leftBehind.slice(0, 3).join(", ")}; delete them with a token allowed to, e.g. vault kv metadata delete`;
}
