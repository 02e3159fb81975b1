/**
 * The project's one Vault HTTP client (components/vault/http.ts).
 * Proves: retries back off exponentially up to a cap on a fake clock, stop on a non-transient
 * answer, and the bootstrap's steps use that backoff; a request without an answer fails after its
 * timeout; https trusts exactly the CA it is given (a server signed by it is reached, one checked
 * against another CA or the wrong name is refused) and refuses TLS 1.1 (Node's own default refuses
 * it too: that case pins the outcome, not our setting); X-Vault-Token headers,
 * tokens, secret IDs and unseal/recovery keys never reach an error message; and an error's message
 * survives JSON and Pulumi's closure serialisation (a provider built on this module, serialised and
 * loaded as the dynamic-provider host loads it, reports the exact text).
 * Does not prove: how a real Vault answers (the real-server tier drives this client against one).
 */
import assert from "node:assert/strict";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { handOver } from "../../components/settings/bootstrap";
import {
    appRoleLogin,
    backoffDelay,
    nodeTransport,
    redact,
    redactPatterns,
    retry,
    sendRaw,
    vaultError,
    type HttpRequest,
    type HttpResponse,
} from "../../components/vault/http";
import { OTHER_CA_PEM, SERVER_CERT_PEM, SERVER_KEY_PEM, SERVER_NAME, TEST_CA_PEM } from "../helpers/tlsFixture";

/** A fake clock: sleeping records the wait and advances time. */
function clock() {
    const waits: number[] = [];
    return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe("retry with backoff", () => {
    it("doubles the wait after each failed try, capped, and stops after the last try", async () => {
        const c = clock();
        let tries = 0;
        const out = await retry(
            { attempts: 6, delayMs: 100, factor: 2, maxDelayMs: 1000, sleep: c.sleep },
            async () => {
                tries++;
                return { retry: `try ${tries} failed` };
            },
        );
        assert.deepEqual(out, { failed: "try 6 failed" });
        assert.equal(tries, 6);
        assert.deepEqual(c.waits, [100, 200, 400, 800, 1000]);
    });

    it("returns the first value; a thrown error counts as a failed try; `stop` ends at once", async () => {
        const c = clock();
        let n = 0;
        const ok = await retry({ attempts: 5, delayMs: 10, sleep: c.sleep }, async () => {
            if (++n < 3) throw new Error("ECONNREFUSED");
            return { value: n };
        });
        assert.deepEqual(ok, { value: 3 });
        assert.deepEqual(c.waits, [10, 10], "factor 1: a fixed interval");
        const stopped = await retry({ attempts: 5, delayMs: 10, sleep: c.sleep }, async () => ({ stop: "HTTP 403" }));
        assert.deepEqual(stopped, { failed: "HTTP 403" });
        assert.equal(backoffDelay({ delayMs: 2000, factor: 2, maxDelayMs: 30000 }, 5), 30000);
    });

    it("the bootstrap retries a 5xx with backoff (2 s, 4 s, 8 s) and never retries a 403", async () => {
        const c = clock();
        const sent: string[] = [];
        const send = async (req: HttpRequest): Promise<HttpResponse> => {
            sent.push(req.path);
            return req.path.startsWith("sys/policies")
                ? { status: 503, body: { errors: ["Vault is sealed"] } }
                : { status: 403, body: {} };
        };
        const inputs = { mount: "m", roleName: "r", role: {}, policyName: "p", policy: "{}" };
        await assert.rejects(handOver(inputs, "hvs.root-token", send, { sleep: c.sleep }), {
            message:
                'Vault bootstrap step "write Pulumi\'s admin policy" (PUT /v1/sys/policies/acl/p) failed: HTTP 503: Vault is sealed',
        });
        assert.deepEqual(c.waits, [2000, 4000, 8000]);
        assert.equal(sent.length, 4);
    });
});

describe("redaction", () => {
    it("removes tokens, secret IDs and unseal/recovery keys whatever their value", () => {
        assert.equal(
            redactPatterns("request had X-Vault-Token: hvs.abc123 and x-vault-token=s.zzz"),
            "request had X-Vault-Token: [redacted] and x-vault-token=[redacted]",
        );
        assert.equal(
            redactPatterns(
                '{"role_id":"r1","secret_id":"3f2a-99","token":"hvs.T","client_token":"hvs.C","key":"a2V5","keys_base64":["k1","k2"],"recovery_keys":["r"]}',
            ),
            '{"role_id":"r1","secret_id":"[redacted]","token":"[redacted]","client_token":"[redacted]","key":"[redacted]","keys_base64":"[redacted]","recovery_keys":"[redacted]"}',
        );
        assert.equal(
            redactPatterns("GET /v1/x?token=hvs.Q&secret_id=abc"),
            "GET /v1/x?token=[redacted]&secret_id=[redacted]",
        );
        assert.equal(redact("denied for hvs.LONGTOKEN", ["hvs.LONGTOKEN", undefined, "ab"]), "denied for [redacted]");
    });

    it("vaultError redacts its message; an AppRole login failure never shows the role or secret ID", async () => {
        const e = vaultError("VaultHttpError", 'Vault echoed {"secret_id":"s-123456"} with X-Vault-Token: hvs.X');
        assert.equal(e.message, 'Vault echoed {"secret_id":"[redacted]"} with X-Vault-Token: [redacted]');
        const echo = async (req: HttpRequest): Promise<HttpResponse> => ({
            status: 400,
            body: { errors: [`invalid role or secret ID: ${JSON.stringify(req.body)}, bare ROLE-ID-77 SECRET-ID-88`] },
        });
        await assert.rejects(appRoleLogin(echo, "pulumi-admin", "ROLE-ID-77", "SECRET-ID-88"), (err: Error) => {
            assert.equal(
                err.message,
                'POST /v1/auth/pulumi-admin/login answered 400: invalid role or secret ID: {"role_id":"[redacted]","secret_id":"[redacted]"}, bare [redacted] [redacted]',
            );
            return true;
        });
    });
});

describe("errors survive serialisation", () => {
    it("the message and name survive JSON (own enumerable name, message from Error)", () => {
        const e = vaultError("BootstrapError", "step failed");
        const wire = JSON.parse(JSON.stringify({ ...e, message: e.message })) as Record<string, unknown>;
        assert.deepEqual(wire, { message: "step failed", name: "BootstrapError" });
        assert.ok(e instanceof Error);
    });

    it("a provider built on this module, serialised as the engine does, reports the exact text", async () => {
        const provider: pulumi.dynamic.ResourceProvider = {
            async create(inputs: Record<string, unknown>) {
                await appRoleLogin(
                    nodeTransport({ addr: String(inputs.addr), caCert: "", tlsServerName: "" }, 2000),
                    "approle",
                    "ROLE-ID-1234",
                    "SECRET-ID-5678",
                );
                return { id: "x" };
            },
        };
        const server = http.createServer((_req, res) => {
            res.writeHead(400, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ errors: ["invalid secret id SECRET-ID-5678"] }));
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        try {
            const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
            const requireFromString = createRequire(require.resolve("@pulumi/pulumi/package.json"))(
                "require-from-string",
            ) as (code: string) => { handler(): Required<Pick<pulumi.dynamic.ResourceProvider, "create">> };
            const loaded = requireFromString(sf.text).handler();
            await assert.rejects(loaded.create({ addr }), {
                message: "POST /v1/auth/approle/login answered 400: invalid secret id [redacted]",
            });
        } finally {
            server.close();
        }
    });
});

describe("transport: timeout and TLS", () => {
    let silent: http.Server;
    let tlsServer: https.Server;
    let silentAddr = "";
    let tlsPort = 0;
    before(async () => {
        // Accepts the connection, never answers.
        silent = http.createServer(() => {});
        await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
        silentAddr = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
        tlsServer = https.createServer({ cert: SERVER_CERT_PEM, key: SERVER_KEY_PEM }, (_req, res) => {
            res.writeHead(200, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ initialized: true }));
        });
        await new Promise<void>((r) => tlsServer.listen(0, "127.0.0.1", r));
        tlsPort = (tlsServer.address() as AddressInfo).port;
    });
    after(() => {
        silent.closeAllConnections();
        silent.close();
        tlsServer.close();
    });

    it("a request without an answer fails after timeoutMs", async () => {
        const t0 = Date.now();
        await assert.rejects(
            nodeTransport(
                { addr: silentAddr, caCert: "", tlsServerName: "" },
                300,
            )({ method: "GET", path: "sys/health" }),
            {
                message: "no answer within 300 ms",
            },
        );
        const took = Date.now() - t0;
        assert.ok(took >= 250 && took < 3000, `timed out after ${took} ms`);
    });

    it("https trusts the given CA and checks the server name against the certificate", async () => {
        const addr = `https://127.0.0.1:${tlsPort}`;
        const ok = await nodeTransport({ addr, caCert: TEST_CA_PEM, tlsServerName: SERVER_NAME })({
            method: "GET",
            path: "sys/init",
        });
        assert.deepEqual(ok, { status: 200, body: { initialized: true } });
        await assert.rejects(
            nodeTransport({ addr, caCert: OTHER_CA_PEM, tlsServerName: SERVER_NAME })({
                method: "GET",
                path: "sys/init",
            }),
            /self[- ]signed|unable to (get|verify)|certificate/i,
            "a server not signed by the given CA is refused",
        );
        await assert.rejects(
            nodeTransport({ addr, caCert: TEST_CA_PEM, tlsServerName: "other.test" })({
                method: "GET",
                path: "sys/init",
            }),
            /altnames|does not match|other\.test/i,
            "a name the certificate does not carry is refused",
        );
    });

    it("https refuses a server that offers only TLS 1.1", async () => {
        const old = https.createServer(
            {
                cert: SERVER_CERT_PEM,
                key: SERVER_KEY_PEM,
                minVersion: "TLSv1",
                maxVersion: "TLSv1.1",
                ciphers: "DEFAULT@SECLEVEL=0",
            },
            (_req, res) => res.end("{}"),
        );
        await new Promise<void>((r) => old.listen(0, "127.0.0.1", r));
        try {
            await assert.rejects(
                sendRaw({
                    method: "GET",
                    url: `https://127.0.0.1:${(old.address() as AddressInfo).port}/v1/sys/init`,
                    headers: {},
                    caCert: TEST_CA_PEM,
                    servername: SERVER_NAME,
                    timeoutMs: 5000,
                }),
                /version|protocol|alert/i,
            );
        } finally {
            old.close();
        }
    });
});
