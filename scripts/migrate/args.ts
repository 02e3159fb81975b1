/**
 * The command line of `npm run migrate`: subcommand, addresses, mappings, and where each credential
 * comes from (environment variables, or files no one else can read; never argv).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { MigrationLogin } from "../../components/settings/vaultSettings";
import { checkMappings, parseMapping, show, type Mapping } from "./paths";

export type Command = "plan" | "copy" | "verify";

export interface MigrateArgs {
    command: Command;
    sourceAddr: string;
    sourceCaFile?: string;
    sourceTokenFile?: string;
    targetAddr?: string;
    targetCaFile?: string;
    targetServerName?: string;
    targetTokenFile?: string;
    /** JSON of the `migrationLogin` stack output: addr, CA, server name, AppRole credentials. */
    targetLoginFile?: string;
    maps: Mapping[];
    overwrite: boolean;
    allowHttp: boolean;
    verifyAfterCopy: boolean;
    concurrency: number;
    stateFile?: string;
    reportFile?: string;
}

export const USAGE = `usage: npm run migrate -- <plan|copy|verify> --source-addr <url> --map <source mount>[/<prefix>]=<target mount>[/<prefix>] [--map …]
         [--source-ca <pem>] [--source-token-file <file>]          (else SOURCE_VAULT_TOKEN)
         [--target-login-file <file>]                               (pulumi stack output migrationLogin --show-secrets)
         [--target-addr <url>] [--target-ca <pem>] [--target-server-name <name>] [--target-token-file <file>]  (else TARGET_VAULT_TOKEN)
         [--overwrite] [--allow-http] [--no-verify] [--concurrency 64] [--state <file>] [--report <file.json>]`;

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]|::1)$/;

/** Parse argv (after `--`); throws a one-line error naming the option and what is allowed. */
export function parseMigrateArgs(argv: readonly string[]): MigrateArgs {
    const [command, ...rest] = argv;
    if (command !== "plan" && command !== "copy" && command !== "verify")
        throw new Error(
            `the first word must be plan, copy or verify (got ${command === undefined ? "nothing" : JSON.stringify(command)})\n${USAGE}`,
        );
    const out: Partial<MigrateArgs> & { maps: Mapping[] } = {
        command,
        maps: [],
        overwrite: false,
        allowHttp: false,
        verifyAfterCopy: true,
        concurrency: 64,
    };
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        const value = () => {
            const v = rest[++i];
            if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value\n${USAGE}`);
            return v;
        };
        switch (a) {
            case "--source-addr":
                out.sourceAddr = value();
                break;
            case "--source-ca":
                out.sourceCaFile = value();
                break;
            case "--source-token-file":
                out.sourceTokenFile = value();
                break;
            case "--target-addr":
                out.targetAddr = value();
                break;
            case "--target-ca":
                out.targetCaFile = value();
                break;
            case "--target-server-name":
                out.targetServerName = value();
                break;
            case "--target-token-file":
                out.targetTokenFile = value();
                break;
            case "--target-login-file":
                out.targetLoginFile = value();
                break;
            case "--map":
                out.maps.push(parseMapping(value()));
                break;
            case "--overwrite":
                out.overwrite = true;
                break;
            case "--allow-http":
                out.allowHttp = true;
                break;
            case "--no-verify":
                out.verifyAfterCopy = false;
                break;
            case "--concurrency": {
                const v = value();
                const n = Number(v);
                if (!Number.isInteger(n) || n < 1 || n > 256)
                    throw new Error(`--concurrency ${v}: expected a whole number from 1 to 256`);
                out.concurrency = n;
                break;
            }
            case "--state":
                out.stateFile = value();
                break;
            case "--report":
                out.reportFile = value();
                break;
            case "--token":
            case "--source-token":
            case "--target-token":
            case "--secret-id":
                throw new Error(
                    `${a} is not accepted: a credential on the command line lands in shell history and process listings; use SOURCE_VAULT_TOKEN / TARGET_VAULT_TOKEN or a 0600 file (--source-token-file, --target-token-file, --target-login-file)`,
                );
            default:
                throw new Error(`unknown option ${a}\n${USAGE}`);
        }
    }
    if (!out.sourceAddr)
        throw new Error(`--source-addr is required (the old Vault, e.g. http://127.0.0.1:8200)\n${USAGE}`);
    checkMappings(out.maps);
    return out as MigrateArgs;
}

/** An http(s) URL; plain http only to a loopback address or with --allow-http. */
export function checkAddr(option: string, addr: string, allowHttp: boolean): string {
    let url: URL;
    try {
        url = new URL(addr);
    } catch {
        throw new Error(`${option} ${addr}: not a URL (expected https://host:port)`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
        throw new Error(`${option} ${addr}: expected an http(s) URL`);
    if (url.protocol === "http:" && !LOOPBACK.test(url.hostname) && !allowHttp)
        throw new Error(
            `${option} ${addr}: plain http to a non-loopback address would send every secret and the token in clear; use https, or pass --allow-http if the network path is trusted`,
        );
    return addr.replace(/\/+$/, "");
}

/** A file holding a credential: must exist and be readable by its owner only (0600 or 0400). */
export function readPrivateFile(option: string, file: string): string {
    let st: fs.Stats;
    try {
        st = fs.statSync(file);
    } catch {
        throw new Error(`${option} ${file}: no such file`);
    }
    if ((st.mode & 0o077) !== 0)
        throw new Error(
            `${option} ${file}: readable by group or others (mode ${(st.mode & 0o777).toString(8)}); a credential file must be 0600: chmod 600 ${file}`,
        );
    return fs.readFileSync(file, "utf8");
}

export function readCaFile(option: string, file: string | undefined): string | undefined {
    if (!file) return undefined;
    let pem: string;
    try {
        pem = fs.readFileSync(file, "utf8");
    } catch {
        throw new Error(`${option} ${file}: no such file`);
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`${option} ${file}: not a PEM certificate`);
    return pem;
}

export function parseLoginFile(option: string, text: string): MigrationLogin {
    let v: Record<string, unknown>;
    try {
        v = JSON.parse(text) as Record<string, unknown>;
    } catch {
        throw new Error(
            `${option}: not JSON; write it with: (umask 077; npx pulumi stack output migrationLogin --show-secrets --json > migrate-login.json)`,
        );
    }
    const need = ["addr", "approleMount", "roleId", "secretId", "kvMount"] as const;
    const missing = need.filter((k) => typeof v[k] !== "string" || v[k] === "");
    if (missing.length)
        throw new Error(
            `${option}: lacks ${missing.join(", ")}; is migrationWindow set on the stack (pulumi config set migrationWindow 24h, then pulumi up)?`,
        );
    return {
        addr: String(v.addr),
        tlsServerName: typeof v.tlsServerName === "string" ? v.tlsServerName : "",
        caCert: typeof v.caCert === "string" ? v.caCert : "",
        approleMount: String(v.approleMount),
        roleId: String(v.roleId),
        secretId: String(v.secretId),
        kvMount: String(v.kvMount),
    };
}

/** Default state file: one per source, mapping set and target, below .bonito-vault/ (git-ignored). */
export function defaultStateFile(sourceAddr: string, targetAddr: string, maps: readonly Mapping[]): string {
    const id = createHash("sha256")
        .update([sourceAddr, targetAddr, ...maps.map(show)].join("\n"))
        .digest("hex")
        .slice(0, 16);
    return path.join(".bonito-vault", "migrate", `${id}.json`);
}
