/**
 * What the runbook's VaultCaCertificateExpiring section relies on: the internal CA renewed as
 * @pulumi/tls renews it (a new SelfSignedCert from the same PrivateKey, same subject, subject key
 * identifier from the same public key) leaves clients that still pin the old CA certificate able to
 * verify the node certificates the renewed CA signs, until the old certificate expires; a CA with a
 * new key does not (hence the two-step procedure). Real TLS handshakes (Node's OpenSSL, as the
 * backend's Python client uses) against certificates made with openssl.
 * Does not prove: @pulumi/tls's own renewal (no provider here); its inputs (same key resource, same
 * subject, `setSubjectKeyId`) are checked under mocks in test/mocks/cluster.test.ts and caRotation.test.ts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { extensions, TestCa } from "../conformance/lib/pki";

const LEAF = {
    commonName: "vault-0",
    dnsNames: ["vault-0", "vault"],
    ipAddresses: ["127.0.0.1"],
    allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
    validityHours: 24,
};
const CA = {
    ...LEAF,
    commonName: "bonito-vault-test Vault CA",
    dnsNames: [],
    ipAddresses: [],
    allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
    validityHours: 48,
};
const ORG = "bonito-vault-test";

let dir: string;
let ca: TestCa;

before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-ca-renewal-"));
    ca = new TestCa(path.join(dir, "old"), CA, ORG);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The CA certificate re-issued from the same key and subject (a new serial and validity), into `into`. */
function renewSameKey(into: string): TestCa {
    fs.mkdirSync(into, { recursive: true });
    const ext = path.join(into, "ca.ext");
    fs.writeFileSync(path.join(into, "ca.cnf"), `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${extensions(CA, true)}\n`);
    fs.writeFileSync(ext, extensions(CA, true) + "\n");
    fs.copyFileSync(ca.keyFile, path.join(into, "ca-key.pem"));
    execFileSync(
        "openssl",
        [
            "req",
            "-x509",
            "-new",
            "-key",
            "ca-key.pem",
            "-subj",
            `/O=${ORG}/CN=${CA.commonName}`,
            "-days",
            "4",
            "-set_serial",
            "4242",
            "-out",
            "ca.pem",
            "-extensions",
            "v3",
            "-config",
            "ca.cnf",
        ],
        { cwd: into, stdio: ["ignore", "ignore", "pipe"] },
    );
    // A TestCa over the renewed files (its constructor would make a new key: reuse the object's issue()).
    return Object.assign(Object.create(TestCa.prototype) as TestCa, {
        dir: into,
        certFile: path.join(into, "ca.pem"),
        keyFile: path.join(into, "ca-key.pem"),
    });
}

/** A handshake with a server on `leaf`, the client trusting `caPem` only: verified or why not. */
async function verifiedWith(leaf: { cert: string; key: string }, caPem: string): Promise<string> {
    const server = tls.createServer({ cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key) }, (s) =>
        s.end(),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
        return await new Promise<string>((resolve, reject) => {
            const s = tls.connect({
                host: "127.0.0.1",
                port: (server.address() as { port: number }).port,
                servername: "vault",
                ca: caPem,
                rejectUnauthorized: false,
            });
            s.once("secureConnect", () => {
                const r = s.authorized ? "verified" : String(s.authorizationError);
                s.end();
                resolve(r);
            });
            s.once("error", reject);
        });
    } finally {
        server.close();
    }
}

describe("CA renewal with the same key", () => {
    it("a client pinning the old CA certificate verifies a node certificate the renewed CA signed", async () => {
        const renewed = renewSameKey(path.join(dir, "renewed"));
        assert.notEqual(renewed.pem, ca.pem, "a new CA certificate");
        const leaf = renewed.issue("vault-0", LEAF, ORG);
        assert.equal(await verifiedWith(leaf, ca.pem), "verified");
        assert.equal(await verifiedWith(leaf, renewed.pem), "verified");
    });

    it("a CA with a new key does not: its node certificates fail for a client pinning the old CA", async () => {
        const other = new TestCa(path.join(dir, "new-key"), CA, ORG);
        const leaf = other.issue("vault-0", LEAF, ORG);
        assert.notEqual(await verifiedWith(leaf, ca.pem), "verified");
        assert.equal(await verifiedWith(leaf, `${ca.pem}${other.pem}`), "verified", "the bundle of both does");
    });
});
