/**
 * components/config/pgpKey.ts: whether Vault could encrypt a recovery share to an OpenPGP key,
 * judged from the packets alone, on keys the real gpg makes in a throw-away keyring.
 * Proves: a key with an encryption subkey and an RSA key whose primary encrypts pass; a sign-only
 * key, an expired key, a key with only an expired or a revoked encryption subkey, a revoked key, a
 * secret key, garbage and truncated input are refused with exact text; the fingerprint is gpg's.
 * Does not prove: that Vault draws the same line (test/conformance/pgp.test.ts runs Vault 1.21.1).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { checkPgpKey, readPackets } from "../../components/config/pgpKey";
import { makeTestKeys, type TestKey, type TestKeyName } from "../helpers/gpgKeys";

/** Read after the keys exist: a key made a moment later than `now` counts as created in the future. */
const now = () => Math.floor(Date.now() / 1000);

describe("checkPgpKey on keys made by gpg", () => {
    let keys: Record<TestKeyName, TestKey>;
    before(() => {
        keys = makeTestKeys();
    });

    it("accepts an ed25519 key with a cv25519 encryption subkey and an RSA key whose primary encrypts", () => {
        assert.deepEqual(checkPgpKey(keys.good.base64, now()), {
            fingerprint: keys.good.fingerprint,
            problem: undefined,
        });
        assert.deepEqual(checkPgpKey(keys.primaryEncrypts.base64, now()), {
            fingerprint: keys.primaryEncrypts.fingerprint,
            problem: undefined,
        });
    });

    it("refuses a sign-only key", () => {
        assert.deepEqual(checkPgpKey(keys.signOnly.base64, now()), {
            fingerprint: keys.signOnly.fingerprint,
            problem:
                "has no key that can encrypt (it is sign-only): add an encryption subkey (gpg --quick-add-key <fingerprint> cv25519 encr) and export the key again",
        });
    });

    it("refuses an expired key, and accepts it at a time before it expired", () => {
        assert.deepEqual(checkPgpKey(keys.expired.base64, now()), {
            fingerprint: keys.expired.fingerprint,
            problem:
                "expired on 2020-01-02: extend it (gpg --quick-set-expire <fingerprint> 1y, and the same for its encryption subkey) and export it again",
        });
        const jan1noon = Date.UTC(2020, 0, 1, 12) / 1000;
        assert.equal(checkPgpKey(keys.expired.base64, jan1noon).problem, undefined);
    });

    it("refuses a key whose only encryption subkey expired or is revoked, naming the subkey", () => {
        assert.match(
            checkPgpKey(keys.subkeyExpired.base64, now()).problem ?? "",
            /^has no valid encryption subkey \([0-9A-F]{40} expired on 2020-01-02\): add one \(gpg --quick-add-key <fingerprint> cv25519 encr\) and export the key again$/,
        );
        assert.match(
            checkPgpKey(keys.subkeyRevoked.base64, now()).problem ?? "",
            /^has no valid encryption subkey \([0-9A-F]{40} is revoked\): add one/,
        );
    });

    it("refuses a revoked key", () => {
        assert.deepEqual(checkPgpKey(keys.revoked.base64, now()), {
            fingerprint: keys.revoked.fingerprint,
            problem: "is revoked: make a new key (gpg --quick-gen-key) and list that instead",
        });
    });

    it("refuses a key created after the time it is checked at", () => {
        assert.equal(
            checkPgpKey(keys.good.base64, Date.UTC(2019, 0, 1) / 1000).problem?.startsWith(
                "is not usable yet: it was created in the future",
            ),
            true,
        );
    });
});

describe("checkPgpKey on input that is not a public key", () => {
    it("refuses base64 that is not OpenPGP, and a truncated key", () => {
        assert.deepEqual(checkPgpKey(Buffer.from("hello, world").toString("base64"), now()), {
            problem: "is not an OpenPGP public key: byte 0 is not a packet header",
        });
        assert.deepEqual(checkPgpKey("mQENBF" + "A".repeat(60), now()), {
            problem: "is not an OpenPGP public key: the packets end early (truncated key?)",
        });
    });

    it("refuses a secret key without repeating it", () => {
        // A minimal secret-key packet (tag 5, new format): v4, created 1, algorithm 22 (EdDSA).
        const body = Buffer.from([4, 0, 0, 0, 1, 22, 0]);
        const packet = Buffer.concat([Buffer.from([0xc5, body.length]), body]);
        const v = checkPgpKey(packet.toString("base64"), now());
        assert.match(v.problem ?? "", /^is a SECRET key: never put it in a stack file/);
        assert.match(v.fingerprint ?? "", /^[0-9A-F]{40}$/);
    });

    it("reads old- and new-format packet headers alike", () => {
        const body = [1, 2, 3];
        assert.deepEqual(
            readPackets(Uint8Array.from([0x98, 3, ...body])).map((p) => [p.tag, [...p.body]]),
            [[6, body]],
        );
        assert.deepEqual(
            readPackets(Uint8Array.from([0xc6, 3, ...body])).map((p) => [p.tag, [...p.body]]),
            [[6, body]],
        );
        assert.deepEqual(
            readPackets(Uint8Array.from([0xce, 0xc0, 0x00, ...new Array(192).fill(7)])).map((p) => [
                p.tag,
                p.body.length,
            ]),
            [[14, 192]],
        );
    });
});
