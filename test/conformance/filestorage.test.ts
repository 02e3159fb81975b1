/**
 * Real-server tier, part 2: the backup path of the single-node `storage: file` mode (seed §6, "File
 * Backend Backups"), with the program's own backupDataDir()/restoreDataDir()
 * (components/backup/fileBackup.ts, what `npm run file-backup` calls), on Vault 1.21.1.
 *
 * What this proves: with Vault stopped for the copy, the archive of its file-storage directory holds
 * everything written before it (secrets with their versions, the keyring, tokens); after the data
 * directory is wiped and the archive restored, Vault starts, unseals and reads back every secret,
 * and nothing written after the backup; an archive whose SHA-256 does not match, or a restore without
 * confirmation, is refused.
 *
 * What it does not prove: the `local` stack's declared node config in file mode (this server has a
 * minimal file-storage config, Shamir seal and plain HTTP on loopback: the copy concerns only the
 * data directory), `docker stop`/`docker start` as the stop and start commands, or the upload to the
 * write-once bucket (`rclone copyto`, the path test/s3 proves for snapshots).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { backupDataDir, restoreDataDir } from "../../components/backup/fileBackup";
import { nodeTransport } from "../../components/vault/http";
import { PORT_BASE, REPO, VAULT_BIN, makeTempBase, waitUntil } from "./lib/cluster";
import { pool, recordFigures, type Body } from "./lib/ops";

const PORT = PORT_BASE + 97;
const SECRETS = 500;
const base = makeTempBase("bonito-filestorage-");
const dataDir = path.join(base, "data");
const http = nodeTransport({ addr: `http://127.0.0.1:${PORT}`, caCert: "", tlsServerName: "" });
let proc: ChildProcess | undefined;

fs.writeFileSync(
    path.join(base, "server.json"),
    JSON.stringify({
        storage: { file: { path: dataDir } },
        listener: [{ tcp: { address: `127.0.0.1:${PORT}`, tls_disable: true } }],
        disable_mlock: true,
        api_addr: `http://127.0.0.1:${PORT}`,
    }),
);

async function startVault(): Promise<void> {
    const log = fs.openSync(path.join(base, "vault.log"), "a");
    proc = spawn(VAULT_BIN, ["server", `-config=${path.join(base, "server.json")}`], {
        stdio: ["ignore", log, log],
        env: { PATH: process.env.PATH, HOME: base },
        detached: true,
    });
    fs.closeSync(log);
    await waitUntil("the file-storage server answering", 30000, async () =>
        (await http({ method: "GET", path: "sys/seal-status" }).catch(() => undefined))?.status === 200
            ? true
            : undefined,
    );
}

async function stopVault(): Promise<void> {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    process.kill(p.pid!, "SIGTERM");
    await exited;
}

async function v(method: "GET" | "POST" | "PUT", p: string, token?: string, body?: Body) {
    return http({ method: method as "GET", path: p, token, body });
}

const key = (i: number) => `file-drill/s${i}`;
const versionOf = (i: number) => (i % 5 === 0 ? 2 : 1);

describe("real Vault 1.21.1: file-storage backup and restore", { timeout: 10 * 60_000 }, () => {
    after(async () => {
        await stopVault();
        if (process.env.BONITO_CONFORMANCE_KEEP !== "1") fs.rmSync(base, { recursive: true, force: true });
    });

    it("write, back up (Vault stopped), wipe, restore, read everything back; later writes are not in the backup", async () => {
        await startVault();
        const init = await v("PUT", "sys/init", undefined, { secret_shares: 1, secret_threshold: 1 });
        assert.equal(init.status, 200, JSON.stringify(init.body));
        const unsealKey = (init.body as Body).keys_base64[0] as string;
        const root = (init.body as Body).root_token as string;
        const unseal = async () => {
            const r = await v("PUT", "sys/unseal", undefined, { key: unsealKey });
            assert.equal((r.body as Body).sealed, false);
        };
        await unseal();
        await waitUntil("active", 30000, async () =>
            (await v("GET", "sys/health")).status === 200 ? true : undefined,
        );
        assert.equal(
            (await v("POST", "sys/mounts/bonito", root, { type: "kv", options: { version: "2" } })).status,
            204,
        );
        await pool(SECRETS, 8, async (i) => {
            for (let ver = 1; ver <= versionOf(i); ver++)
                assert.equal(
                    (await v("POST", `bonito/data/${key(i)}`, root, { data: { v: `${i}-v${ver}` } })).status,
                    200,
                );
        });

        const archive = path.join(base, "backup", "vault-data.tar.gz");
        const r = await backupDataDir({ dataDir, out: archive, stop: stopVault, start: startVault });
        await unseal();
        assert.ok(r.bytes > 0 && /^[0-9a-f]{64}$/.test(r.sha256));
        await waitUntil("active", 30000, async () =>
            (await v("GET", "sys/health")).status === 200 ? true : undefined,
        );
        assert.equal((await v("POST", "bonito/data/after-backup", root, { data: { v: "x" } })).status, 200);

        // Refusals first: no confirmation; a tampered archive; a non-empty directory without --wipe.
        const cli = (args: string[]) =>
            spawnSync("npm", ["run", "--silent", "file-backup", "--", ...args], { cwd: REPO, encoding: "utf8" });
        const noConfirm = cli(["restore", "--archive", archive, "--data-dir", dataDir]);
        assert.equal(noConfirm.status, 1);
        assert.match(noConfirm.stderr, /refusing to restore without explicit confirmation/);
        await assert.rejects(restoreDataDir({ archive, dataDir, confirm: true }), /is not empty .* pass wipe/);
        const tampered = path.join(base, "tampered.tar.gz");
        fs.copyFileSync(archive, tampered);
        fs.appendFileSync(tampered, "x");
        fs.copyFileSync(`${archive}.sha256`, `${tampered}.sha256`);
        await assert.rejects(
            restoreDataDir({ archive: tampered, dataDir, confirm: true, wipe: true }),
            /does not match/,
        );

        // Wipe, restore with the CLI (as the runbook says), start, unseal, read back.
        await stopVault();
        fs.rmSync(dataDir, { recursive: true, force: true });
        const t0 = Date.now();
        const restored = cli(["restore", "--archive", archive, "--data-dir", dataDir, "--confirm"]);
        assert.equal(restored.status, 0, restored.stderr);
        await startVault();
        await unseal();
        await waitUntil("active", 30000, async () =>
            (await v("GET", "sys/health")).status === 200 ? true : undefined,
        );
        const restoreMs = Date.now() - t0;
        let ok = 0;
        await pool(SECRETS, 8, async (i) => {
            const g = await v("GET", `bonito/data/${key(i)}`, root);
            const d = (g.body as Body).data;
            if (g.status === 200 && d.data.v === `${i}-v${versionOf(i)}` && d.metadata.version === versionOf(i)) ok++;
        });
        assert.equal(ok, SECRETS);
        assert.equal((await v("GET", "bonito/data/after-backup", root)).status, 404, "written after the backup");
        recordFigures({
            fileRestore: { ok: true, secrets: SECRETS, downtimeMs: r.downtimeMs, archiveBytes: r.bytes, restoreMs },
        });
    });
});
