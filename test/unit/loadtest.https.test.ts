/**
 * loadTest end to end over real sockets: a fake Vault (scripts/loadtest/fakeVault.ts behind a
 * node:https server on 127.0.0.1, port 0, with a self-signed certificate made by the openssl CLI
 * at test time; plain http, with a diagnostic, only if openssl is missing).
 * Proves: the HTTPS client trusts exactly the given CA, keeps the concurrency, logs in, renews
 * (a 2 s TTL forces renewals mid-run), reads and writes with no errors, deletes every seeded key,
 * counts injected 403s by status, and never lets the secret ID or a token reach stdout, stderr or
 * the JSON file (in-process and through the CLI with --secret-id-file and VAULT_SECRET_ID).
 * Does not prove: real Vault or OpenBao behaviour, policies or performance (the real-server tier).
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { after, before, describe, it } from "node:test";
import { loadTest, type LoadSummary } from "../../scripts/loadtest";
import { FakeVault, type FakeVaultOptions } from "../helpers/fakeVault";
import type { Method } from "../../scripts/loadtest/types";

const ROLE_ID = "role-id-https-0123456789";
const SECRET_ID = "secret-id-MUST-NOT-LEAK-8f3a9c";
const ROOT = path.resolve(__dirname, "../..");

let dir = "";
let tls: { key: string; cert: string; otherCert: string } | undefined;

function hasOpenssl(): boolean {
    try {
        execFileSync("openssl", ["version"], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

function selfSigned(name: string): { key: string; cert: string } {
    const key = path.join(dir, `${name}.key`);
    const cert = path.join(dir, `${name}.crt`);
    execFileSync(
        "openssl",
        // prettier-ignore
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE"],
        { stdio: "ignore" },
    );
    return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
}

/** Serve a FakeVault; closed (with its kept-alive sockets) when the test ends, pass or fail. */
async function serve(t: { after(fn: () => void | Promise<void>): void }, o: Omit<FakeVaultOptions, "now">) {
    const vault = new FakeVault({ ...o, now: () => performance.now() });
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const token = req.headers["x-vault-token"];
            const answer = vault.handle({
                method: req.method as Method,
                path: (req.url ?? "").replace(/^\/v1\//, ""),
                token: typeof token === "string" ? token : undefined,
                body: text ? (JSON.parse(text) as unknown) : undefined,
            });
            const body = answer.body === undefined ? "" : JSON.stringify(answer.body);
            res.writeHead(answer.status, { "Content-Type": "application/json" }).end(body);
        });
    };
    const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler);
    let connections = 0;
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(
        () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    );
    const port = (server.address() as AddressInfo).port;
    return { vault, addr: `${tls ? "https" : "http"}://127.0.0.1:${port}`, connections: () => connections };
}

function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) };
}

function assertNoSecrets(texts: string[], vault: FakeVault) {
    const all = texts.join("\n");
    assert.ok(!all.includes(SECRET_ID), "the secret ID appears in the output");
    assert.ok(vault.issued.length > 0);
    for (const token of vault.issued) assert.ok(!all.includes(token), "a token appears in the output");
}

before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-loadtest-"));
    if (hasOpenssl()) tls = { ...selfSigned("server"), otherCert: selfSigned("other").cert };
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("loadTest against a fake Vault over HTTPS", { concurrency: true }, () => {
    it("2 s at concurrency 4: ops, no errors, renewals, every seeded key deleted, no secret in any output", async (t) => {
        if (!tls) t.diagnostic("openssl not found: the fake Vault runs on plain http");
        const { vault, addr, connections } = await serve(t, {
            roleId: ROLE_ID,
            secretId: SECRET_ID,
            ttl: 2,
            maxTtl: 60,
        });
        const io = capture();
        const json = path.join(dir, "run1", "out.json");
        const s = await loadTest({
            addr,
            caCert: tls?.cert,
            roleId: ROLE_ID,
            secretId: SECRET_ID,
            concurrency: 4,
            durationMs: 2000,
            keys: 20,
            jsonFile: json,
            stdout: io.stdout,
            stderr: io.stderr,
        });
        assert.ok(s.all.ops > 0);
        assert.equal(s.all.errors, 0, JSON.stringify(s.all.errorsByStatus));
        assert.deepStrictEqual(s.all.errorsByStatus, {});
        assert.ok(s.read.ops > s.write.ops, "read ratio 0.8 gives more reads than writes");
        assert.ok(s.auth.renewals >= 1, `renewals ${s.auth.renewals}`);
        assert.equal(s.auth.revoked, true);
        assert.equal(vault.created.size, 20);
        assert.deepStrictEqual([...vault.deleted].sort(), [...vault.created].sort());
        assert.equal(vault.kv.size, 0);
        assert.deepStrictEqual(s.cleanup, { deleted: 20, failed: 0, errorsByStatus: {}, leftBehind: [] });
        // Keep-alive with maxSockets = concurrency: thousands of requests over at most 4 connections.
        assert.ok(connections() >= 1 && connections() <= 4, `connections ${connections()}`);

        const progress = io.err.filter((l) => /^\[\s*\d+\.\ds\] ops/.test(l));
        assert.ok(progress.length >= 1 && progress.length <= 3, io.err.join("\n"));
        assert.match(io.out.join("\n"), /ops\/s, errors 0 \(0\.00%\)/);
        const written = fs.readFileSync(json, "utf8");
        assert.deepStrictEqual(JSON.parse(written), JSON.parse(JSON.stringify(s)));
        assertNoSecrets([...io.out, ...io.err, written, JSON.stringify(s)], vault);
    });

    it("403 on some writes: counted by status, reads clean, keys still deleted", async (t) => {
        let updates = 0;
        const { vault, addr } = await serve(t, {
            roleId: ROLE_ID,
            secretId: SECRET_ID,
            ttl: 3600,
            maxTtl: 14_400,
            fail: (req, { update }) => (req.method === "POST" && update && ++updates % 4 === 0 ? 403 : undefined),
        });
        const io = capture();
        const s: LoadSummary = await loadTest({
            addr,
            caCert: tls?.cert,
            roleId: ROLE_ID,
            secretId: SECRET_ID,
            concurrency: 4,
            durationMs: 1000,
            readRatio: 0.5,
            keys: 10,
            stdout: io.stdout,
            stderr: io.stderr,
        });
        assert.ok(s.write.errors > 0);
        assert.equal(s.read.errors, 0);
        assert.deepStrictEqual(s.all.errorsByStatus, { "403": s.write.errors });
        assert.equal(s.all.errors, s.write.errors);
        assert.match(io.out.join("\n"), new RegExp(`errors by status: 403 ×${s.write.errors}`));
        assert.equal(vault.kv.size, 0);
        assertNoSecrets([...io.out, ...io.err], vault);
    });

    it("a CA that did not sign the server's certificate: login fails with a hint, nothing written", async (t) => {
        if (!tls) return t.skip("no openssl: no TLS to verify");
        const { vault, addr } = await serve(t, { roleId: ROLE_ID, secretId: SECRET_ID, ttl: 60, maxTtl: 60 });
        await assert.rejects(
            loadTest({
                addr,
                caCert: tls.otherCert,
                roleId: ROLE_ID,
                secretId: SECRET_ID,
                durationMs: 100,
                ...capture(),
            }),
            /^Error: AppRole login \(POST \/v1\/auth\/approle\/login\) failed: .*is --cacert the CA that signed Vault's certificate/,
        );
        assert.equal(vault.log.length, 0);
    });

    it("a wrong secret ID: the error names the login and shows neither the given nor the expected secret", async (t) => {
        const { addr } = await serve(t, { roleId: ROLE_ID, secretId: SECRET_ID, ttl: 60, maxTtl: 60 });
        const wrong = "wrong-secret-id-5d1e77";
        await assert.rejects(
            loadTest({ addr, caCert: tls?.cert, roleId: ROLE_ID, secretId: wrong, durationMs: 100, ...capture() }),
            (e: Error) =>
                /HTTP 400 \(invalid role or secret ID\)/.test(e.message) &&
                !e.message.includes(wrong) &&
                !e.message.includes(SECRET_ID),
        );
    });

    it("the CLI (npm run loadtest) with --secret-id-file, then VAULT_SECRET_ID: exit 0, JSON written, no secret printed", async (t) => {
        const { vault, addr } = await serve(t, { roleId: ROLE_ID, secretId: SECRET_ID, ttl: 3600, maxTtl: 14_400 });
        const secretFile = path.join(dir, "secret-id");
        fs.writeFileSync(secretFile, SECRET_ID + "\n", { mode: 0o600 });
        const ca = path.join(dir, "cli-ca.pem");
        if (tls) fs.writeFileSync(ca, tls.cert);
        const run = (extra: string[], env: Record<string, string>) =>
            new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
                // prettier-ignore
                const args = ["--import", "tsx", "scripts/loadtest.ts", "--addr", addr, "--role-id", ROLE_ID,
                              "--concurrency", "2", "--duration", "300ms", "--keys", "5", ...(tls ? ["--cacert", ca] : []), ...extra];
                const child = spawn(process.execPath, args, {
                    cwd: ROOT,
                    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
                });
                let out = "";
                let err = "";
                child.stdout.on("data", (c: Buffer) => (out += c.toString()));
                child.stderr.on("data", (c: Buffer) => (err += c.toString()));
                child.on("error", reject);
                child.on("close", (code) => resolve({ code, out, err }));
            });
        const json = path.join(dir, "cli.json");
        const [a, b] = await Promise.all([
            run(["--secret-id-file", secretFile, "--json", json], {}),
            run([], { VAULT_SECRET_ID: SECRET_ID }),
        ]);
        for (const r of [a, b]) {
            assert.equal(r.code, 0, r.err);
            assert.match(r.out, /^bonito-vault loadtest: /);
            assert.match(r.out, /cleanup: 5 keys deleted/);
        }
        const written = fs.readFileSync(json, "utf8");
        assert.equal((JSON.parse(written) as LoadSummary).config.keys, 5);
        assertNoSecrets([a.out, a.err, b.out, b.err, written], vault);
        assert.equal(vault.kv.size, 0);
        assert.equal(vault.counts.logins, 2);
    });
});
