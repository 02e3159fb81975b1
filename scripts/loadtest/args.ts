/**
 * Command line and option validation for `npm run loadtest`. Pure: reads neither files nor the
 * real environment (the caller passes `env`), so every message is tested exactly.
 */

export const DEFAULTS = {
    mount: "bonito",
    approlePath: "approle",
    concurrency: 16,
    durationMs: 30_000,
    readRatio: 0.8,
    keys: 100,
    requestTimeoutMs: 30_000,
} as const;

export const USAGE = [
    "usage: npm run loadtest -- --addr <url> --cacert <pem file> --role-id <id>",
    "         (--secret-id-file <path> | env VAULT_SECRET_ID | --secret-id <id>)",
    "         [--mount bonito] [--approle-path approle] [--namespace <ns>] [--concurrency 16]",
    "         [--duration 30s] [--read-ratio 0.8] [--keys 100] [--json out.json]",
    "  --addr, --cacert, --role-id, --namespace fall back to VAULT_ADDR, VAULT_CACERT, VAULT_ROLE_ID, VAULT_NAMESPACE.",
    "  --secret-id shows the secret in the process list and shell history: prefer --secret-id-file or VAULT_SECRET_ID.",
].join("\n");

/** Where the secret ID comes from; a file is read by the caller, so its value never passes through here. */
export type SecretIdSource =
    { from: "file"; path: string } | { from: "env"; value: string } | { from: "argv"; value: string };

export interface LoadTestArgs {
    addr: string;
    caCertFile?: string;
    roleId: string;
    secretId: SecretIdSource;
    namespace?: string;
    mount: string;
    approlePath: string;
    concurrency: number;
    durationMs: number;
    readRatio: number;
    keys: number;
    jsonFile?: string;
}

export const ARGV_SECRET_WARNING =
    "warning: --secret-id puts the secret ID in the process list and shell history; prefer --secret-id-file or VAULT_SECRET_ID";

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const MAX_DURATION_MS = 24 * 3_600_000;

/** "30s", "2m", "1m30s", "500ms", "1.5s" → milliseconds. A unit is required. */
export function parseDuration(text: string, flag = "--duration"): number {
    const bad = (why: string) =>
        new Error(`${flag} ${JSON.stringify(text)} is not a valid duration: ${why} (examples: 30s, 2m, 1m30s, 500ms)`);
    if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(text)) throw bad("use a number with a unit ms, s, m or h");
    let ms = 0;
    for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * UNITS_MS[m[2]];
    if (ms < 1) throw bad("it must be at least 1ms");
    if (ms > MAX_DURATION_MS) throw bad("it must be at most 24h");
    return Math.round(ms);
}

export function parseIntInRange(text: string, flag: string, min: number, max: number): number {
    if (!/^\d+$/.test(text)) throw new Error(`${flag} must be a whole number, got ${JSON.stringify(text)}`);
    return checkIntInRange(Number(text), flag, min, max);
}

export function checkIntInRange(n: number, flag: string, min: number, max: number): number {
    if (!Number.isInteger(n) || n < min || n > max)
        throw new Error(`${flag} must be a whole number from ${min} to ${max}, got ${n}`);
    return n;
}

export function checkRatio(r: number, flag = "--read-ratio"): number {
    if (!Number.isFinite(r) || r < 0 || r > 1) throw new Error(`${flag} must be between 0 and 1, got ${r}`);
    return r;
}

export function parseRatio(text: string, flag = "--read-ratio"): number {
    if (!/^\d*\.?\d+$/.test(text)) throw new Error(`${flag} must be between 0 and 1, got ${JSON.stringify(text)}`);
    return checkRatio(Number(text), flag);
}

/** A Vault mount or auth path such as "bonito" or "teams/bonito": no leading or trailing slash, no "..". */
export function checkMountPath(path: string, flag: string): string {
    const p = path.replace(/\/+$/, "");
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(p) || p.split("/").includes(".."))
        throw new Error(
            `${flag} must be a Vault path like "bonito" (letters, digits, . _ - and /), got ${JSON.stringify(path)}`,
        );
    return p;
}

export function checkAddr(addr: string, flag = "--addr"): string {
    let url: URL;
    try {
        url = new URL(addr);
    } catch {
        throw new Error(`${flag} must be a URL like https://vault.example.com:8200, got ${JSON.stringify(addr)}`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
        throw new Error(
            `${flag} must start with https:// (or http:// for a dev-mode server), got ${JSON.stringify(addr)}`,
        );
    if (url.username || url.password || url.search || url.hash)
        throw new Error(`${flag} must not carry credentials, a query or a fragment`);
    return addr.replace(/\/+$/, "");
}

/** Parse argv (after `--`) with env fallbacks; throws a sentence naming the flag on anything wrong. */
export function parseLoadTestArgs(
    argv: readonly string[],
    env: Readonly<Record<string, string | undefined>>,
): LoadTestArgs {
    const flags = new Map<string, string>();
    const valued = new Set([
        "--addr",
        "--cacert",
        "--role-id",
        "--secret-id",
        "--secret-id-file",
        "--namespace",
        "--mount",
        "--approle-path",
        "--concurrency",
        "--duration",
        "--read-ratio",
        "--keys",
        "--json",
    ]);
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const eq = arg.indexOf("=");
        const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
        if (!valued.has(name)) throw new Error(`unknown argument ${JSON.stringify(name)}\n${USAGE}`);
        let value: string | undefined;
        if (name !== arg) value = arg.slice(eq + 1);
        else {
            value = argv[++i];
            if (value === undefined || value.startsWith("--")) throw new Error(`${name} needs a value\n${USAGE}`);
        }
        if (flags.has(name)) throw new Error(`${name} is given twice`);
        flags.set(name, value);
    }
    const get = (flag: string, envName?: string): string | undefined => {
        const v = flags.get(flag) ?? (envName ? env[envName] : undefined);
        return v === "" ? undefined : v;
    };

    const addr = get("--addr", "VAULT_ADDR");
    if (!addr) throw new Error(`--addr is required (or set VAULT_ADDR)\n${USAGE}`);
    const roleId = get("--role-id", "VAULT_ROLE_ID");
    if (!roleId) throw new Error(`--role-id is required (or set VAULT_ROLE_ID)\n${USAGE}`);

    let secretId: SecretIdSource;
    const file = flags.get("--secret-id-file");
    const inline = flags.get("--secret-id");
    if (file !== undefined && inline !== undefined)
        throw new Error("give only one of --secret-id-file and --secret-id");
    if (file) secretId = { from: "file", path: file };
    else if (inline) secretId = { from: "argv", value: inline };
    else if (env.VAULT_SECRET_ID) secretId = { from: "env", value: env.VAULT_SECRET_ID };
    else
        throw new Error(
            `no secret ID: pass --secret-id-file <path> or set VAULT_SECRET_ID (--secret-id also works but shows the value in the process list)\n${USAGE}`,
        );

    const parsed = <T>(flag: string, parse: (text: string) => T, fallback: T): T => {
        const v = flags.get(flag);
        return v === undefined ? fallback : parse(v);
    };
    return {
        addr: checkAddr(addr),
        caCertFile: get("--cacert", "VAULT_CACERT"),
        roleId,
        secretId,
        namespace: get("--namespace", "VAULT_NAMESPACE"),
        mount: checkMountPath(flags.get("--mount") ?? DEFAULTS.mount, "--mount"),
        approlePath: checkMountPath(flags.get("--approle-path") ?? DEFAULTS.approlePath, "--approle-path"),
        concurrency: parsed("--concurrency", (v) => parseIntInRange(v, "--concurrency", 1, 4096), DEFAULTS.concurrency),
        durationMs: parsed("--duration", (v) => parseDuration(v), DEFAULTS.durationMs),
        readRatio: parsed("--read-ratio", (v) => parseRatio(v), DEFAULTS.readRatio),
        keys: parsed("--keys", (v) => parseIntInRange(v, "--keys", 1, 1_000_000), DEFAULTS.keys),
        jsonFile: flags.get("--json") || undefined,
    };
}
