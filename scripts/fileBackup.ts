/**
 * `npm run file-backup`: back up or restore a single-node `storage: file` Vault's data directory
 * (components/backup/fileBackup.ts; runbook, "File storage: backup and restore").
 *
 *   npm run file-backup -- backup --data-dir <path> --out vault-data-<time>.tar.gz \
 *       --stop "docker stop <node>" --start "docker start <node>" [--upload <rclone remote:bucket/prefix/>]
 *   npm run file-backup -- restore --archive <file> --data-dir <path> --confirm [--wipe]
 *
 * Cron it on the Docker host (e.g. `0 3 * * *`) for a daily copy; each run stops Vault for the time
 * the copy takes (`downtimeMs` in the output). `--upload` runs `rclone copyto` for the archive and
 * its .sha256 into the write-once bucket with the operator's rclone remote.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { backupDataDir, restoreDataDir } from "../components/backup/fileBackup";

const USAGE = [
    "usage: npm run file-backup -- backup --data-dir <path> --out <file.tar.gz> --stop <command> --start <command> [--upload <remote:path/>]",
    "       npm run file-backup -- restore --archive <file.tar.gz> --data-dir <path> --confirm [--wipe]",
].join("\n");

export function parseFileBackupArgs(argv: string[]): Record<string, string | boolean> & { mode: string } {
    const [mode, ...rest] = argv;
    if (mode !== "backup" && mode !== "restore") throw new Error(USAGE);
    const out: Record<string, string | boolean> & { mode: string } = { mode };
    const flags = new Set(["--confirm", "--wipe"]);
    const valued = new Set(["--data-dir", "--out", "--stop", "--start", "--upload", "--archive"]);
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if (flags.has(a)) out[a.slice(2)] = true;
        else if (valued.has(a) && rest[i + 1] !== undefined) out[a.slice(2)] = rest[++i];
        else throw new Error(`unknown or incomplete argument ${a}\n${USAGE}`);
    }
    const need = mode === "backup" ? ["data-dir", "out", "stop", "start"] : ["archive", "data-dir"];
    const missing = need.filter((k) => typeof out[k] !== "string");
    if (missing.length) throw new Error(`missing ${missing.map((k) => `--${k}`).join(", ")}\n${USAGE}`);
    return out;
}

export async function main(argv: string[]): Promise<number> {
    const a = parseFileBackupArgs(argv);
    const sh = (cmd: string) => void execFileSync("/bin/sh", ["-c", cmd], { stdio: "inherit" });
    if (a.mode === "backup") {
        const r = await backupDataDir({
            dataDir: String(a["data-dir"]),
            out: String(a.out),
            stop: () => sh(String(a.stop)),
            start: () => sh(String(a.start)),
        });
        console.log(JSON.stringify(r));
        if (typeof a.upload === "string") {
            const dest = a.upload.endsWith("/") ? a.upload : `${a.upload}/`;
            for (const f of [r.archive, `${r.archive}.sha256`])
                execFileSync("rclone", ["copyto", f, `${dest}${path.basename(f)}`], { stdio: "inherit" });
        }
        return 0;
    }
    await restoreDataDir({
        archive: String(a.archive),
        dataDir: String(a["data-dir"]),
        wipe: a.wipe === true,
        confirm: a.confirm === true,
    });
    console.log(`restored ${a.archive} into ${a["data-dir"]}`);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e: unknown) => {
            console.error(e instanceof Error ? e.message : String(e));
            process.exit(1);
        },
    );
}
