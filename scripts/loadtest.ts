/**
 * Load test for any Vault (HashiCorp Vault or OpenBao): AppRole login, a read/write mix on a KV v2
 * mount at a fixed concurrency for a fixed time, then throughput, latency percentiles and errors.
 *
 *   VAULT_SECRET_ID=… npm run loadtest -- --addr https://vault:8200 --cacert ca.pem --role-id <id> [--duration 30s] [--json out.json]
 *
 * It writes only under `<mount>/data/loadtest/<runId>/` and deletes those keys (metadata, all
 * versions) at the end, so the Bonito backend's own AppRole (create/read/update on data/*, delete
 * on metadata/*) is enough. See docs/readme.d/loadtest.md.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    ARGV_SECRET_WARNING,
    DEFAULTS,
    USAGE,
    checkAddr,
    checkIntInRange,
    checkMountPath,
    checkRatio,
    parseLoadTestArgs,
    type LoadTestArgs,
} from "./loadtest/args";
import { createVaultHttp, processClock } from "./loadtest/http";
import { Redactor, formatProgress, formatSummary } from "./loadtest/report";
import { runLoad, type LoadSummary } from "./loadtest/run";

export type { LoadSummary } from "./loadtest/run";
export { percentile, summarizeLatencies } from "./loadtest/stats";
export { runLoad } from "./loadtest/run";

export interface LoadTestOptions {
    /** https://host:port (http:// only for a dev-mode server). */
    addr: string;
    /** PEM text of the CA that signed Vault's certificate; default: Node's bundled roots. */
    caCert?: string;
    roleId: string;
    secretId: string;
    /** X-Vault-Namespace (Vault Enterprise / HCP). */
    namespace?: string;
    /** KV v2 mount; default "bonito". */
    mount?: string;
    /** AppRole auth mount; default "approle". */
    approlePath?: string;
    /** Operations in flight; also the keep-alive socket count. Default 16. */
    concurrency?: number;
    /** Length of the measured mix; default 30 000. */
    durationMs?: number;
    /** Share of reads, 0..1; default 0.8. */
    readRatio?: number;
    /** Keys seeded and then read or overwritten; default 100. */
    keys?: number;
    /** Default: time-based and random, unique per run. */
    runId?: string;
    /** Also write the summary as JSON here. */
    jsonFile?: string;
    /** Per request; default 30 000. */
    requestTimeoutMs?: number;
    /** Receives the summary; default process.stdout. Every line is redacted first. */
    stdout?: (text: string) => void;
    /** Receives progress (one line per second) and notes; default process.stderr. Redacted. */
    stderr?: (text: string) => void;
    /** Aborting stops the mix early; the keys are still deleted. */
    signal?: AbortSignal;
}

/**
 * Run one load test against a real Vault and return its summary (also printed, and written to
 * `jsonFile` when given). Throws on a fatal failure (login, seeding, token lost) after cleaning up;
 * the message never contains the secret ID or a token.
 */
export async function loadTest(options: LoadTestOptions): Promise<LoadSummary> {
    const redactor = new Redactor();
    redactor.add(options.secretId);
    const out = options.stdout ?? ((t: string) => void process.stdout.write(t + "\n"));
    const err = options.stderr ?? ((t: string) => void process.stderr.write(t + "\n"));
    const stdout = (t: string) => out(redactor.redact(t));
    const stderr = (t: string) => err(redactor.redact(t));

    const addr = checkAddr(options.addr);
    const runId = options.runId ?? `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(runId)) throw new Error(`runId must be 1-64 of A-Z a-z 0-9 . _ -`);
    const config = {
        mount: checkMountPath(options.mount ?? DEFAULTS.mount, "mount"),
        approlePath: checkMountPath(options.approlePath ?? DEFAULTS.approlePath, "approlePath"),
        concurrency: checkIntInRange(options.concurrency ?? DEFAULTS.concurrency, "concurrency", 1, 4096),
        durationMs: checkIntInRange(options.durationMs ?? DEFAULTS.durationMs, "durationMs", 1, 24 * 3_600_000),
        readRatio: checkRatio(options.readRatio ?? DEFAULTS.readRatio, "readRatio"),
        keys: checkIntInRange(options.keys ?? DEFAULTS.keys, "keys", 1, 1_000_000),
    };
    if (!options.roleId) throw new Error("roleId is required");
    if (!options.secretId) throw new Error("secretId is required");
    if (addr.startsWith("http:"))
        stderr("note: plain http: the secret ID and token cross the network unencrypted (use only for a dev server)");

    const vault = createVaultHttp({
        addr,
        caCert: options.caCert,
        maxSockets: config.concurrency,
        timeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
        namespace: options.namespace,
    });
    const startedAt = new Date().toISOString();
    try {
        const result = await runLoad({
            ...config,
            client: vault.request,
            clock: processClock,
            roleId: options.roleId,
            secretId: options.secretId,
            runId,
            onToken: (t) => redactor.add(t),
            onProgress: (p) => stderr(formatProgress(p)),
            log: stderr,
            signal: options.signal,
        });
        const summary: LoadSummary = { tool: "bonito-vault loadtest", addr, startedAt, ...result };
        stdout(formatSummary(summary));
        if (options.jsonFile) {
            fs.mkdirSync(path.dirname(path.resolve(options.jsonFile)), { recursive: true });
            fs.writeFileSync(options.jsonFile, redactor.redact(JSON.stringify(summary, null, 2)) + "\n");
        }
        return summary;
    } catch (e) {
        throw new Error(redactor.redact(e instanceof Error ? e.message : String(e)));
    } finally {
        vault.close();
    }
}

/** The secret ID's value from its source; a file's content is trimmed (a trailing newline is usual). */
export function readSecretId(args: Pick<LoadTestArgs, "secretId">, warn: (line: string) => void): string {
    const s = args.secretId;
    if (s.from !== "file") {
        if (s.from === "argv") warn(ARGV_SECRET_WARNING);
        return s.value;
    }
    const value = fs.readFileSync(s.path, "utf8").trim();
    if (!value) throw new Error(`--secret-id-file ${s.path} is empty`);
    if (process.platform !== "win32" && (fs.statSync(s.path).mode & 0o077) !== 0)
        warn(`warning: --secret-id-file ${s.path} is readable by other users; chmod 600 it`);
    return value;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(USAGE);
        return 0;
    }
    let args: LoadTestArgs;
    try {
        args = parseLoadTestArgs(argv, env);
    } catch (e) {
        console.error(e instanceof Error ? e.message : String(e));
        return 2;
    }
    const warn = (line: string) => console.error(line);
    const secretId = readSecretId(args, warn);
    const caCert = args.caCertFile ? fs.readFileSync(args.caCertFile, "utf8") : undefined;
    if (!caCert && args.addr.startsWith("https:"))
        warn("note: no --cacert: Vault's certificate must chain to one of Node's bundled public roots");

    const abort = new AbortController();
    process.once("SIGINT", () => {
        warn("interrupted: stopping the mix, then deleting the keys (Ctrl-C again to quit at once)");
        abort.abort();
        process.once("SIGINT", () => process.exit(130));
    });
    const summary = await loadTest({
        addr: args.addr,
        caCert,
        roleId: args.roleId,
        secretId,
        namespace: args.namespace,
        mount: args.mount,
        approlePath: args.approlePath,
        concurrency: args.concurrency,
        durationMs: args.durationMs,
        readRatio: args.readRatio,
        keys: args.keys,
        jsonFile: args.jsonFile,
        signal: abort.signal,
    });
    if (summary.cleanup.failed > 0) return 1;
    return summary.interrupted ? 130 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2), process.env).then(
        (code) => process.exit(code),
        (err: unknown) => {
            console.error(err instanceof Error ? err.message : String(err));
            process.exit(1);
        },
    );
}
