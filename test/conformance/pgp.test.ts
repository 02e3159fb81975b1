/**
 * Recovery PGP keys: the up-front check (components/config/pgpKey.ts) against Vault 1.21.1 itself.
 * One uninitialised server (file storage, loopback, no TLS) at PORT_BASE+70 is asked to initialise
 * with each key made by gpg (test/helpers/gpgKeys.ts). A refused `sys/init` leaves the server
 * uninitialised, so one server serves every refusal; the two good keys then initialise it together.
 * Proves: for each key, Vault refuses `sys/init` with "has no valid encryption keys" exactly when
 * `checkPgpKey` refuses it (sign-only, expired, expired or revoked encryption subkey, revoked), and
 * accepts the two it accepts (ed25519 + cv25519 subkey, RSA primary that encrypts).
 * Does not prove: the auto-unseal path's `recovery_pgp_keys` by itself. It goes through the same
 * function (helper/pgpkeys EncryptShares) as the Shamir `pgp_keys` used here, which needs no KMS.
 * Note: `sys/generate-root/attempt` accepts every one of these keys (it only parses them); a bad key
 * surfaces there only when the last share is given, and Vault 1.21.1 then drops the connection
 * (a panic in GenerateRootUpdate) instead of answering, so init is the endpoint that shows the rule.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { checkPgpKey } from "../../components/config/pgpKey";
import { makeTestKeys, type TestKey, type TestKeyName } from "../helpers/gpgKeys";
import { PORT_BASE, VAULT_BIN } from "./lib/cluster";

const PORT = PORT_BASE + 70;
const ADDR = `http://127.0.0.1:${PORT}`;

let proc: ChildProcess | undefined;
let dir: string;
let keys: Record<TestKeyName, TestKey>;

async function call(
    method: string,
    p: string,
    body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await fetch(`${ADDR}/v1/${p}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

before(async () => {
    assert.ok(fs.existsSync(VAULT_BIN), `${VAULT_BIN} is missing: run scripts/build-vault.sh or set BONITO_VAULT_BIN`);
    keys = makeTestKeys();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-pgp-"));
    const config = {
        storage: { file: { path: path.join(dir, "data") } },
        listener: { tcp: { address: `127.0.0.1:${PORT}`, tls_disable: true } },
        disable_mlock: true,
    };
    fs.writeFileSync(path.join(dir, "server.json"), JSON.stringify(config));
    const log = fs.openSync(path.join(dir, "server.log"), "w");
    proc = spawn(VAULT_BIN, ["server", `-config=${path.join(dir, "server.json")}`], {
        stdio: ["ignore", log, log],
        env: { PATH: process.env.PATH, HOME: dir },
        detached: true,
    });
    fs.closeSync(log);
    const deadline = Date.now() + 30000;
    for (;;) {
        try {
            if ((await call("GET", "sys/init")).status === 200) break;
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline)
            throw new Error(`vault did not start:\n${fs.readFileSync(path.join(dir, "server.log"), "utf8")}`);
        await new Promise((r) => setTimeout(r, 200));
    }
});

after(() => {
    if (proc?.pid !== undefined) {
        try {
            process.kill(-proc.pid, "SIGTERM");
        } catch {
            // already gone
        }
    }
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("Vault 1.21.1 sys/init with PGP keys", () => {
    const bad: TestKeyName[] = ["signOnly", "expired", "subkeyExpired", "revoked", "subkeyRevoked"];
    for (const name of bad) {
        it(`refuses the ${name} key, as checkPgpKey does`, async () => {
            const key = keys[name];
            const now = Math.floor(Date.now() / 1000);
            assert.notEqual(checkPgpKey(key.base64, now).problem, undefined, `checkPgpKey accepted ${name}`);
            const r = await call("PUT", "sys/init", { secret_shares: 1, secret_threshold: 1, pgp_keys: [key.base64] });
            assert.equal(r.status, 400, JSON.stringify(r.body));
            // Go's openpgp prints the 64-bit key ID with %x: no leading zeros (a generated key's ID may
            // start with 0, as one CI run's did).
            const keyId = BigInt(`0x${key.fingerprint.slice(-16)}`).toString(16);
            assert.deepEqual(r.body.errors, [
                `error setting up encryption for PGP message: openpgp: invalid argument: cannot encrypt a message to key id ${keyId} because it has no valid encryption keys`,
            ]);
            assert.deepEqual((await call("GET", "sys/init")).body, { initialized: false });
        });
    }

    it("accepts the good keys, as checkPgpKey does", async () => {
        const now = Math.floor(Date.now() / 1000);
        for (const name of ["good", "primaryEncrypts"] as const)
            assert.equal(checkPgpKey(keys[name].base64, now).problem, undefined, name);
        const r = await call("PUT", "sys/init", {
            secret_shares: 2,
            secret_threshold: 2,
            pgp_keys: [keys.good.base64, keys.primaryEncrypts.base64],
        });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal((r.body.keys as string[]).length, 2);
        assert.deepEqual((await call("GET", "sys/init")).body, { initialized: true });
    });
});
