/**
 * Move secrets from an old Vault (dev mode, the Railway container) into a stack's cluster, with
 * every KV v2 version, deletion state and setting, and verify the copy (docs/migration.md).
 *
 *   (umask 077; npx pulumi stack output migrationLogin --show-secrets --json > migrate-login.json)
 *   SOURCE_VAULT_TOKEN=… npm run migrate -- copy --source-addr http://127.0.0.1:8200 \
 *       --map secret=bonito --target-login-file migrate-login.json --report out/migrate.json
 *
 * plan: read both sides, list what would be written (paths and version counts, no values).
 * copy: plan; refuse on any conflict (nothing written); write; verify (unless --no-verify).
 * verify: re-read both sides, compare every version by digest; exit 1 on any difference.
 * Exit codes: 0 done, 1 conflicts or differences, 2 bad input or a side refused.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { redact } from "../components/vault/http";
import { createVaultHttp } from "./loadtest/http";
import { vaultErrors, type VaultRequest, type VaultResponse } from "./loadtest/types";
import {
    USAGE,
    checkAddr,
    defaultStateFile,
    parseLoginFile,
    parseMigrateArgs,
    readCaFile,
    readPrivateFile,
    type MigrateArgs,
} from "./migrate/args";
import { migrateError, transportError, type Side } from "./migrate/kv";
import { show } from "./migrate/paths";
import {
    checkMounts,
    copy,
    notMoved,
    plan,
    preflight,
    quietProgress,
    verify,
    type Difference,
    type NotMoved,
    type PathReport,
    type Progress,
    type VerifyResult,
} from "./migrate/run";

export interface MigrateIo {
    env: NodeJS.ProcessEnv;
    out: (line: string) => void;
    err: (line: string) => void;
    /** A terminal to draw the progress line on; undefined = no progress line. */
    tty?: NodeJS.WriteStream;
}

export interface MigrateReport {
    command: string;
    source: string;
    target: string;
    mappings: string[];
    seconds: number;
    planSeconds?: number;
    copySeconds?: number;
    verifySeconds?: number;
    /** HTTP requests sent to each side up to the end of the plan or copy (preflight included). */
    requests?: { source: number; target: number };
    paths: number;
    versionsWritten: number;
    conflicts: PathReport[];
    differences: Difference[];
    notMoved: NotMoved[];
    verify?: VerifyResult["rows"];
    entries: PathReport[];
}

/** done/total, rate, ETA on one terminal line, redrawn at most five times a second. */
export function terminalProgress(tty: NodeJS.WriteStream, now = () => Date.now()): Progress {
    let phase = "";
    let total = 0;
    let done = 0;
    let t0 = 0;
    let drawn = 0;
    const draw = (force = false) => {
        const t = now();
        if (!force && t - drawn < 200) return;
        drawn = t;
        const s = (t - t0) / 1000;
        const rate = s > 0 ? done / s : 0;
        const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
        tty.write(`\r${phase}: ${done}/${total}  ${rate.toFixed(0)}/s  ETA ${eta}s   `);
    };
    return {
        start(p, n) {
            phase = p;
            total = n;
            done = 0;
            t0 = now();
            drawn = 0;
        },
        tick(n = 1) {
            done += n;
            draw();
        },
        done() {
            draw(true);
            tty.write("\n");
        },
    };
}

function table(header: string[], rows: (string | number)[][]): string[] {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const line = (r: (string | number)[]) =>
        r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
    return [line(header), ...rows.map(line)];
}

interface Sides {
    source: Side;
    target: Side;
    /** Requests sent so far, per side. */
    requests(): { source: number; target: number };
    close(): void;
}

/** A Side over a keep-alive client; the token is fetched by `token()` (a login for AppRole). */
function side(
    name: "source" | "target",
    addr: string,
    caCert: string | undefined,
    servername: string | undefined,
    caOption: string,
    concurrency: number,
): {
    side: Omit<Side, "token">;
    send: (r: VaultRequest) => Promise<VaultResponse>;
    sent(): number;
    close(): void;
} {
    const http = createVaultHttp({ addr, caCert, servername, maxSockets: concurrency, timeoutMs: 60000 });
    let sent = 0;
    const send = (r: VaultRequest) => {
        sent++;
        return http.request(r);
    };
    return { side: { name, addr, send, caOption }, send, sent: () => sent, close: http.close };
}

function staticToken(token: string): () => Promise<string> {
    return () => Promise.resolve(token);
}

/** AppRole login, again when 80% of the token's lease has passed. */
function appRoleToken(
    send: (r: VaultRequest) => Promise<VaultResponse>,
    s: Pick<Side, "name" | "addr" | "caOption">,
    mount: string,
    roleId: string,
    secretId: string,
): () => Promise<string> {
    let token = "";
    let renewAt = 0;
    let pending: Promise<string> | undefined;
    const login = async () => {
        const t0 = Date.now();
        const res = await send({
            method: "POST",
            path: `auth/${mount}/login`,
            body: { role_id: roleId, secret_id: secretId },
        }).catch((e: unknown) => {
            throw transportError(s, e);
        });
        const auth = (res.body as { auth?: { client_token?: string; lease_duration?: number } } | undefined)?.auth;
        if (res.status !== 200 || !auth?.client_token)
            throw migrateError(
                redact(
                    `the ${s.name} refused the migration AppRole's login (${res.status}: ${vaultErrors(res.body)}): the secret ID is wrong or past migrationWindow; run pulumi up to issue a new one`,
                    [roleId, secretId],
                ),
                res.status,
            );
        token = auth.client_token;
        renewAt = t0 + Math.max(30, Number(auth.lease_duration ?? 0) * 0.8) * 1000;
        return token;
    };
    return () => {
        if (token && Date.now() < renewAt) return Promise.resolve(token);
        pending ??= login().finally(() => (pending = undefined));
        return pending;
    };
}

export function openSides(a: MigrateArgs, env: NodeJS.ProcessEnv): Sides {
    const sourceAddr = checkAddr("--source-addr", a.sourceAddr, a.allowHttp);
    const src = side(
        "source",
        sourceAddr,
        readCaFile("--source-ca", a.sourceCaFile),
        undefined,
        "--source-ca",
        a.concurrency,
    );
    const sourceToken = a.sourceTokenFile
        ? readPrivateFile("--source-token-file", a.sourceTokenFile).trim()
        : (env.SOURCE_VAULT_TOKEN ?? "");
    if (!sourceToken)
        throw new Error(
            "no source token: set SOURCE_VAULT_TOKEN or pass --source-token-file <0600 file> (a token with read and list on the source mounts)",
        );

    const login = a.targetLoginFile
        ? parseLoginFile("--target-login-file", readPrivateFile("--target-login-file", a.targetLoginFile))
        : undefined;
    const targetAddrRaw = a.targetAddr ?? login?.addr;
    if (!targetAddrRaw)
        throw new Error("no target address: pass --target-login-file <migrationLogin output> or --target-addr <url>");
    const targetAddr = checkAddr("--target-addr", targetAddrRaw, a.allowHttp);
    const targetCa = readCaFile("--target-ca", a.targetCaFile) ?? (login?.caCert || undefined);
    const tgt = side(
        "target",
        targetAddr,
        targetCa,
        a.targetServerName ?? (login?.tlsServerName || undefined),
        "--target-ca",
        a.concurrency,
    );
    let targetToken: () => Promise<string>;
    const fileToken = a.targetTokenFile
        ? readPrivateFile("--target-token-file", a.targetTokenFile).trim()
        : env.TARGET_VAULT_TOKEN;
    if (login) targetToken = appRoleToken(tgt.send, tgt.side, login.approleMount, login.roleId, login.secretId);
    else if (fileToken) targetToken = staticToken(fileToken);
    else
        throw new Error(
            "no target credential: pass --target-login-file (the migrationLogin stack output), --target-token-file, or set TARGET_VAULT_TOKEN",
        );
    return {
        source: { ...src.side, token: staticToken(sourceToken) },
        target: { ...tgt.side, token: targetToken },
        requests: () => ({ source: src.sent(), target: tgt.sent() }),
        close() {
            src.close();
            tgt.close();
        },
    };
}

/** Run one command; resolves with the exit code. Every line goes through `io.out`/`io.err`. */
export async function migrate(argv: readonly string[], io: MigrateIo): Promise<number> {
    const t0 = Date.now();
    let a: MigrateArgs;
    let sides: Sides;
    try {
        a = parseMigrateArgs(argv);
        sides = openSides(a, io.env);
    } catch (e) {
        io.err(`migrate: ${(e as Error).message}`);
        return 2;
    }
    const secrets = [io.env.SOURCE_VAULT_TOKEN, io.env.TARGET_VAULT_TOKEN];
    const say = (l: string) => io.out(redact(l, secrets));
    const progress = io.tty && !io.env.CI ? terminalProgress(io.tty) : quietProgress;
    const stateFile = a.stateFile ?? defaultStateFile(sides.source.addr, sides.target.addr, a.maps);
    const opts = { maps: a.maps, concurrency: a.concurrency, stateFile, overwrite: a.overwrite, progress };
    const report: MigrateReport = {
        command: a.command,
        source: sides.source.addr,
        target: sides.target.addr,
        mappings: a.maps.map(show),
        seconds: 0,
        paths: 0,
        versionsWritten: 0,
        conflicts: [],
        differences: [],
        notMoved: [],
        entries: [],
    };
    let code = 0;
    try {
        await preflight(sides.source);
        await preflight(sides.target);
        const kinds = await checkMounts(sides.source, sides.target, a.maps);
        say(`migrate ${a.command}: ${sides.source.addr} → ${sides.target.addr} (${a.maps.map(show).join(", ")})`);
        if (a.command !== "verify") {
            const tp = Date.now();
            const r =
                a.command === "plan"
                    ? { ...(await plan(sides.source, sides.target, kinds, opts)), written: 0, conflicts: undefined }
                    : await copy(sides.source, sides.target, kinds, opts);
            const entries = [...r.planned, ...r.removed].map((p) => p.report);
            report.entries = entries;
            report.paths = r.listed;
            report.versionsWritten = r.written;
            report.conflicts = entries.filter((e) => e.conflict);
            report[a.command === "plan" ? "planSeconds" : "copySeconds"] = (Date.now() - tp) / 1000;
            report.requests = sides.requests();
            const rows = a.maps.map((m) => {
                const mine = entries.filter(
                    (e) =>
                        e.source.startsWith(`${m.sourceMount}/${m.sourcePrefix}`) &&
                        e.target.startsWith(`${m.targetMount}/${m.targetPrefix}`),
                );
                const count = (k: PathReport["action"]) => mine.filter((e) => e.action === k).length;
                return [
                    show(m),
                    mine.length,
                    mine.reduce((n, e) => n + e.versions, 0),
                    mine.reduce((n, e) => n + e.written, 0),
                    count("copy"),
                    count("catch-up") + count("overwrite"),
                    count("remove"),
                    count("unchanged"),
                    count("conflict"),
                ];
            });
            const verb = a.command === "plan" ? "to write" : "written";
            for (const l of table(
                ["mapping", "paths", "versions", verb, "new", "changed", "removed", "unchanged", "conflicts"],
                rows,
            ))
                say(l);
            if (a.command === "plan")
                for (const e of entries.filter((x) => x.action !== "unchanged"))
                    say(
                        `  ${e.action.padEnd(9)} ${e.source} → ${e.target}  (${e.versions} versions, ${e.written} to write)`,
                    );
            if (report.conflicts.length > 0) {
                say(`conflicts (${report.conflicts.length}): the target already holds different data`);
                for (const c of report.conflicts) say(`  ${c.target}: ${c.conflict}`);
                if (a.command === "copy")
                    say(
                        "nothing was written. Re-run with --overwrite to replace these target secrets with the source's.",
                    );
                code = 1;
            }
            report.notMoved = await notMoved(sides.source, a.maps);
            if (report.notMoved.length > 0) {
                say(`not moved (${report.notMoved.length}):`);
                for (const n of report.notMoved) say(`  ${n.kind} ${n.name}: ${n.reason}`);
            }
        }
        if (code === 0 && (a.command === "verify" || (a.command === "copy" && a.verifyAfterCopy))) {
            const tv = Date.now();
            const v = await verify(sides.source, sides.target, kinds, opts);
            report.verifySeconds = (Date.now() - tv) / 1000;
            report.verify = v.rows;
            report.differences = v.differences;
            if (a.command === "verify") report.paths = v.paths;
            for (const l of table(
                ["verify", "paths", "versions", "bytes", "differences"],
                v.rows.map((r) => [r.mapping, r.paths, r.versions, r.bytes, r.differences]),
            ))
                say(l);
            for (const d of v.differences.slice(0, 50))
                say(`  differs: ${d.path}${d.version ? ` v${d.version}` : ""}: ${d.what}`);
            if (v.differences.length > 50) say(`  … and ${v.differences.length - 50} more (--report lists all)`);
            if (v.differences.length > 0) code = 1;
        }
    } catch (e) {
        const err = e as Error & { status?: number };
        io.err(`migrate: ${redact(err.message, secrets)}`);
        code = 2;
    } finally {
        sides.close();
    }
    report.seconds = (Date.now() - t0) / 1000;
    if (a.reportFile) {
        fs.mkdirSync(path.dirname(path.resolve(a.reportFile)), { recursive: true });
        fs.writeFileSync(a.reportFile, JSON.stringify(report, null, 2) + "\n", { mode: 0o600 });
    }
    if (code !== 2)
        say(
            `migrate ${a.command}: ${code === 0 ? "done" : "finished with problems (above)"} in ${report.seconds.toFixed(1)} s`,
        );
    return code;
}

export { USAGE };

if (require.main === module) {
    // `npm run migrate … | head`: a closed pipe ends the output, not the process with a stack trace.
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code !== "EPIPE") throw e;
    });
    migrate(process.argv.slice(2), {
        env: process.env,
        out: (l) => process.stdout.write(`${l}\n`),
        err: (l) => process.stderr.write(`${l}\n`),
        tty: process.stderr.isTTY ? process.stderr : undefined,
    }).then(
        (code) => process.exit(code),
        (e: Error) => {
            process.stderr.write(`migrate: ${e.message}\n`);
            process.exit(2);
        },
    );
}
