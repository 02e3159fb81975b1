/**
 * OpenPGP public keys made by the real gpg for the recovery-key check (components/config/pgpKey.ts):
 * one Vault can encrypt to and several it cannot. Generated per test run in a throw-away keyring, so
 * no key material is committed. ed25519/cv25519 keep generation under a second.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface TestKey {
    base64: string;
    fingerprint: string;
}

export type TestKeyName =
    "good" | "primaryEncrypts" | "signOnly" | "expired" | "subkeyExpired" | "revoked" | "subkeyRevoked";

/** A date before any key here was made: keys "made" then with a one-day expiry are long expired. */
const PAST = "20200101T000000";

export function makeTestKeys(): Record<TestKeyName, TestKey> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-gpg-"));
    const gpgWith = (input: string | undefined, ...args: string[]) =>
        execFileSync("gpg", ["--batch", "--pinentry-mode", "loopback", "--passphrase", "", ...args], {
            env: { ...process.env, GNUPGHOME: home },
            input,
            stdio: ["pipe", "pipe", "pipe"],
        });
    const gpg = (...args: string[]) => gpgWith(undefined, ...args);
    const fingerprintOf = (uid: string): string => {
        const colons = gpg("--with-colons", "--list-keys", `=${uid}`).toString();
        const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(colons);
        if (!fpr) throw new Error(`no fingerprint for ${uid}:\n${colons}`);
        return fpr[1];
    };
    const make = (uid: string, algo: string, usage: string, expire: string, past = false): string => {
        gpg(...(past ? ["--faked-system-time", PAST] : []), "--quick-gen-key", uid, algo, usage, expire);
        return fingerprintOf(uid);
    };
    const addEncryptionSubkey = (fpr: string, expire: string, past = false) =>
        gpg(...(past ? ["--faked-system-time", PAST] : []), "--quick-add-key", fpr, "cv25519", "encr", expire);
    try {
        const good = make("good <good@example.test>", "ed25519", "cert,sign", "never");
        addEncryptionSubkey(good, "never");
        const primaryEncrypts = make("rsa <rsa@example.test>", "rsa2048", "cert,sign,encr", "never");
        const signOnly = make("sign-only <sign@example.test>", "ed25519", "sign", "never");
        const expired = make("expired <expired@example.test>", "ed25519", "cert,sign", "1d", true);
        addEncryptionSubkey(expired, "1d", true);
        const subkeyExpired = make("subkey-expired <subexp@example.test>", "ed25519", "cert,sign", "never", true);
        addEncryptionSubkey(subkeyExpired, "1d", true);
        const revoked = make("revoked <revoked@example.test>", "ed25519", "cert,sign", "never");
        addEncryptionSubkey(revoked, "never");
        // gpg stores a revocation certificate for every new key, its armour guarded by a leading colon.
        const cert = fs.readFileSync(path.join(home, "openpgp-revocs.d", `${revoked}.rev`), "utf8");
        const certFile = path.join(home, "revoke.asc");
        fs.writeFileSync(certFile, cert.replace(/^:-----/m, "-----"));
        gpg("--import", certFile);
        const subkeyRevoked = make("subkey-revoked <subrev@example.test>", "ed25519", "cert,sign", "never");
        addEncryptionSubkey(subkeyRevoked, "never");
        // gpg 2.2 has no --quick-revoke-key: answer --edit-key's prompts (select subkey 1, revoke,
        // confirm, reason 0 "no reason", empty description, confirm, save).
        gpgWith("key 1\nrevkey\ny\n0\n\ny\nsave\n", "--command-fd", "0", "--edit-key", subkeyRevoked);
        const out = (fpr: string): TestKey => ({ base64: gpg("--export", fpr).toString("base64"), fingerprint: fpr });
        return {
            good: out(good),
            primaryEncrypts: out(primaryEncrypts),
            signOnly: out(signOnly),
            expired: out(expired),
            subkeyExpired: out(subkeyExpired),
            revoked: out(revoked),
            subkeyRevoked: out(subkeyRevoked),
        };
    } finally {
        try {
            execFileSync("gpgconf", ["--kill", "all"], { env: { ...process.env, GNUPGHOME: home }, stdio: "ignore" });
        } catch {
            // no agent was started
        }
        fs.rmSync(home, { recursive: true, force: true });
    }
}
