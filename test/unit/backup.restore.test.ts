/**
 * The restore path: request planning, refusal without confirmation, the executor's handling of
 * Vault's answers (with a fake transport), and the CLI's argument and fetch plans.
 * Proves: exactly what is sent and when nothing is. Does not prove: that Vault restores the data
 * (the real-server tier's restore drill calls restoreSnapshot against a cluster).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
    CONFIRMATION_REQUIRED,
    SEALED_AFTER_RESTORE,
    RestoreRefused,
    planRestore,
    restoreSnapshot,
    type RestorePlan,
} from "../../components/backup/restore";
import { parseRestoreArgs, planFetch } from "../../scripts/restore";

const CA = "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n";
const snap = Buffer.from("raft-snapshot-bytes");

function fake(status: number, body = "") {
    const sent: RestorePlan[] = [];
    return { sent, transport: async (p: RestorePlan) => (sent.push(p), { status, body }) };
}

describe("restoreSnapshot", () => {
    it("refuses without confirm: true and sends nothing", async () => {
        const f = fake(204);
        await assert.rejects(
            restoreSnapshot(
                { addr: "https://vault:8200", caCert: CA, token: "t", snapshot: snap, confirm: false },
                f.transport,
            ),
            (e: unknown) => e instanceof RestoreRefused && e.message === CONFIRMATION_REQUIRED,
        );
        assert.equal(f.sent.length, 0);
    });

    it("plans POST sys/storage/raft/snapshot with the bytes, token header and CA", () => {
        assert.deepStrictEqual(
            planRestore({ addr: "https://vault:8200/", caCert: CA, token: "t", snapshot: snap, confirm: true }),
            {
                method: "POST",
                url: "https://vault:8200/v1/sys/storage/raft/snapshot",
                headers: {
                    "X-Vault-Token": "t",
                    "Content-Type": "application/octet-stream",
                    "Content-Length": String(snap.length),
                },
                body: snap,
                caCert: CA,
            },
        );
    });

    it("force targets snapshot-force (a fresh cluster with the same seal key)", () => {
        const p = planRestore({
            addr: "https://vault:8200",
            caCert: CA,
            token: "t",
            snapshot: snap,
            force: true,
            confirm: true,
        });
        assert.equal(p.url, "https://vault:8200/v1/sys/storage/raft/snapshot-force");
    });

    it("refuses https without a CA, an empty snapshot, a missing token", () => {
        assert.throws(
            () => planRestore({ addr: "https://v:8200", token: "t", snapshot: snap, confirm: true }),
            /caCert is required/,
        );
        assert.throws(
            () =>
                planRestore({
                    addr: "https://v:8200",
                    caCert: CA,
                    token: "t",
                    snapshot: Buffer.alloc(0),
                    confirm: true,
                }),
            /empty/,
        );
        assert.throws(
            () => planRestore({ addr: "https://v:8200", caCert: CA, token: "", snapshot: snap, confirm: true }),
            /token is required/,
        );
    });

    it("reads a snapshot file and reports success on 204", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-test-"));
        const file = path.join(dir, "s.snap");
        fs.writeFileSync(file, snap);
        const f = fake(204);
        const r = await restoreSnapshot(
            { addr: "https://vault:8200", caCert: CA, token: "t", snapshot: file, confirm: true },
            f.transport,
        );
        assert.deepStrictEqual(r, { status: 204, endpoint: "/v1/sys/storage/raft/snapshot", bytes: snap.length });
        assert.deepStrictEqual(f.sent[0].body, snap);
        fs.rmSync(dir, { recursive: true });
    });

    it("surfaces Vault's errors", async () => {
        const f = fake(400, JSON.stringify({ errors: ["failed to verify snapshot"] }));
        await assert.rejects(
            restoreSnapshot(
                { addr: "https://vault:8200", caCert: CA, token: "t", snapshot: snap, confirm: true },
                f.transport,
            ),
            { message: "Vault refused the restore (400 on /v1/sys/storage/raft/snapshot): failed to verify snapshot" },
        );
    });
});

describe("restoreSnapshot: a cluster that seals itself after the restore", () => {
    const seq = (sealed: boolean[]) => {
        const sent: RestorePlan[] = [];
        let i = 0;
        const transport = async (p: RestorePlan) => {
            sent.push(p);
            if (p.method === "POST") return { status: 204, body: "" };
            return { status: 200, body: JSON.stringify({ sealed: sealed[Math.min(i++, sealed.length - 1)] }) };
        };
        return { sent, transport };
    };
    it("fails with SEALED_AFTER_RESTORE when the node reports sealed after accepting the snapshot", async () => {
        const f = seq([false, true]);
        await assert.rejects(
            restoreSnapshot(
                {
                    addr: "https://vault:8200",
                    caCert: CA,
                    token: "t",
                    snapshot: snap,
                    confirm: true,
                    force: true,
                    verifyUnsealedMs: 3000,
                },
                f.transport,
            ),
            { message: SEALED_AFTER_RESTORE },
        );
        assert.equal(f.sent[1].url, "https://vault:8200/v1/sys/seal-status");
        assert.equal(f.sent[1].method, "GET");
        assert.equal(f.sent[1].headers["X-Vault-Token"], undefined, "the probe sends no token");
    });
    it("succeeds when the node stays unsealed for the whole window; no probe without verifyUnsealedMs", async () => {
        const f = seq([false]);
        const r = await restoreSnapshot(
            {
                addr: "https://vault:8200",
                caCert: CA,
                token: "t",
                snapshot: snap,
                confirm: true,
                verifyUnsealedMs: 1200,
            },
            f.transport,
        );
        assert.equal(r.status, 204);
        assert.ok(f.sent.length >= 3 && f.sent.slice(1).every((p) => p.method === "GET"));
        const g = seq([true]);
        await restoreSnapshot(
            { addr: "https://vault:8200", caCert: CA, token: "t", snapshot: snap, confirm: true },
            g.transport,
        );
        assert.equal(g.sent.length, 1);
    });
});

describe("restore CLI", () => {
    it("parses the documented command line; --confirm defaults to false", () => {
        assert.deepStrictEqual(parseRestoreArgs(["--stack", "prod", "--snapshot", "s3://b/k.snap"]), {
            stack: "prod",
            snapshot: "s3://b/k.snap",
            confirm: false,
            force: false,
        });
        assert.equal(parseRestoreArgs(["--stack", "prod", "--snapshot", "f", "--confirm", "--force"]).confirm, true);
    });

    it("refuses a token on the command line and unknown flags", () => {
        assert.throws(
            () => parseRestoreArgs(["--stack", "p", "--snapshot", "f", "--token", "x"]),
            /--token is not accepted/,
        );
        assert.throws(() => parseRestoreArgs(["--stack", "p", "--snapshot", "f", "--yes"]), /unknown argument "--yes"/);
        assert.throws(() => parseRestoreArgs(["--snapshot", "f"]), /--stack is required/);
    });

    it("plans the fetch per location", () => {
        assert.deepStrictEqual(planFetch("/tmp/a.snap", "/t/s"), { kind: "file", path: "/tmp/a.snap" });
        assert.deepStrictEqual(planFetch("s3://bkt/raft-snapshot-1.snap?versionId=v1", "/t/s"), {
            kind: "command",
            command: "aws",
            args: [
                "s3api",
                "get-object",
                "--bucket",
                "bkt",
                "--key",
                "raft-snapshot-1.snap",
                "--version-id",
                "v1",
                "/t/s",
            ],
            output: "/t/s",
        });
        assert.deepStrictEqual(planFetch("gs://bkt/raft-snapshot-1.snap", "/t/s"), {
            kind: "command",
            command: "gcloud",
            args: ["storage", "cp", "gs://bkt/raft-snapshot-1.snap", "/t/s"],
            output: "/t/s",
        });
        assert.deepStrictEqual(
            planFetch("https://acct1.blob.core.windows.net/snapshots/raft-snapshot-1.snap", "/t/s"),
            {
                kind: "command",
                command: "az",
                args: [
                    "storage",
                    "blob",
                    "download",
                    "--auth-mode",
                    "login",
                    "--account-name",
                    "acct1",
                    "--container-name",
                    "snapshots",
                    "--name",
                    "raft-snapshot-1.snap",
                    "--file",
                    "/t/s",
                ],
                output: "/t/s",
            },
        );
        assert.throws(() => planFetch("ftp://x/y", "/t/s"), /unsupported snapshot location/);
    });
});
