/**
 * Backup and restore of a single-node `storage: file` Vault (seed §6, "File Backend Backups": copy
 * `/vault/data` while Vault is idle). Raft stacks use snapshots (snapshotAgent.ts, restore.ts);
 * file storage has no snapshot API, so the copy is of the data directory itself, taken while the
 * server is stopped so no write is half on disk.
 *
 * `backupDataDir` stops Vault (the caller's `stop`), archives the directory (tar + gzip, numeric
 * owners kept), starts Vault again whatever happened (`start`), and writes a SHA-256 beside the
 * archive. `restoreDataDir` checks the SHA-256 and unpacks into an empty directory (or wipes it
 * when told to). Uploading the archive to the write-once bucket is `rclone copyto` with the
 * operator's own credentials (runbook, "File storage"): the agent's writer has no access here.
 * `scripts/fileBackup.ts` (`npm run file-backup`) is the command-line form.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface FileBackupOptions {
    /** The host path of the node's data volume (`docker volume inspect -f '{{.Mountpoint}}' <volume>`). */
    dataDir: string;
    /** The archive to write (.tar.gz); `<out>.sha256` is written beside it. */
    out: string;
    /** Stops the server (e.g. `docker stop <node>`); resolves once it has exited. */
    stop: () => Promise<void> | void;
    /** Starts it again; always called after `stop`, even when the copy failed. */
    start: () => Promise<void> | void;
}

export interface FileBackupResult {
    archive: string;
    sha256: string;
    bytes: number;
    /** How long Vault was stopped, ms. */
    downtimeMs: number;
}

function sha256(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

export async function backupDataDir(o: FileBackupOptions): Promise<FileBackupResult> {
    if (!fs.existsSync(path.join(o.dataDir, "core")))
        throw new Error(`${o.dataDir} does not look like a Vault file-storage directory (no core/ in it)`);
    fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
    await o.stop();
    const stoppedAt = Date.now();
    try {
        execFileSync("tar", ["--numeric-owner", "-C", o.dataDir, "-czf", o.out, "."], { stdio: "pipe" });
    } finally {
        await o.start();
    }
    const downtimeMs = Date.now() - stoppedAt;
    const digest = sha256(o.out);
    fs.writeFileSync(`${o.out}.sha256`, `${digest}  ${path.basename(o.out)}\n`);
    return { archive: o.out, sha256: digest, bytes: fs.statSync(o.out).size, downtimeMs };
}

export interface FileRestoreOptions {
    archive: string;
    /** The (stopped) node's data directory. */
    dataDir: string;
    /** Delete what is in dataDir first; without it a non-empty dataDir is refused. */
    wipe?: boolean;
    /** Must be exactly true: a restore replaces every secret, policy and token. */
    confirm: boolean;
}

export async function restoreDataDir(o: FileRestoreOptions): Promise<void> {
    if (o.confirm !== true)
        throw new Error(
            "refusing to restore without explicit confirmation: it replaces every secret, policy and token; pass confirm: true (CLI: --confirm)",
        );
    const sumFile = `${o.archive}.sha256`;
    if (!fs.existsSync(sumFile)) throw new Error(`${sumFile} is missing: cannot check the archive`);
    const want = fs.readFileSync(sumFile, "utf8").split(/\s+/)[0];
    const got = sha256(o.archive);
    if (want !== got) throw new Error(`${o.archive}: SHA-256 ${got} does not match ${sumFile} (${want})`);
    fs.mkdirSync(o.dataDir, { recursive: true });
    const present = fs.readdirSync(o.dataDir);
    if (present.length > 0) {
        if (!o.wipe)
            throw new Error(
                `${o.dataDir} is not empty (${present.length} entries): stop Vault and pass wipe (CLI: --wipe)`,
            );
        for (const e of present) fs.rmSync(path.join(o.dataDir, e), { recursive: true, force: true });
    }
    execFileSync("tar", ["--numeric-owner", "--same-permissions", "-C", o.dataDir, "-xzf", o.archive], {
        stdio: "pipe",
    });
}
