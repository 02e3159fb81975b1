/**
 * What a person at a terminal reads when a stack config is wrong (issue 31 item 3), exact text.
 * Proves: every problem arrives in one run (per-key, required, cross-key) without messages about
 * the stand-in for a value that failed; unknown keys get "did you mean" by edit distance and by a
 * synonyms table; lists are described in YAML terms; long values are cut to head…tail with their
 * length; five PGP keys under a stack whose default recoveryShares is 1 name recoveryShares in a
 * short message; a recovery PGP key Vault could not encrypt to is named by position and fingerprint.
 * Does not prove: that Vault refuses those keys (test/conformance/pgp.test.ts) nor how Pulumi prints
 * the list (configError.printed.test.ts).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ConfigError, KEY_SYNONYMS, allKeys, briefText, loadConfig, suggestKey } from "../../components/config";
import { stackConfig } from "../helpers/mocks";
import { makeTestKeys, type TestKey, type TestKeyName } from "../helpers/gpgKeys";

const BASE = { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" };

function problems(stack: string, raw: Record<string, string>, opts: { allowExampleKeys?: boolean } = {}): string[] {
    try {
        loadConfig(stack, raw, new Set(), opts);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
        return e.problems;
    }
    return [];
}

describe("every problem in one run", () => {
    it("reports a bad value, a missing required key and a cross-key conflict together", () => {
        assert.deepEqual(
            problems("local", {
                "bonito-vault:cloud": "local",
                "bonito-vault:nodes": "4",
                "bonito-vault:defaultLeaseTtl": "48h",
            }),
            [
                'bonito-vault:nodes must be one of 1, 3, 5, 7 (got "4")',
                "bonito-vault:image is required: an image pinned by digest or exact version tag",
                'bonito-vault:defaultLeaseTtl 48h exceeds maxLeaseTtl (24h) (got "48h")',
            ],
        );
    });

    it("says nothing about the stand-in for a value that failed (nodes 4 is not compared as 3)", () => {
        assert.deepEqual(
            problems("local", { ...BASE, "bonito-vault:nodes": "4", "bonito-vault:nodeNames": "[a, b, c, d]" }),
            [
                'bonito-vault:nodes must be one of 1, 3, 5, 7 (got "4")',
                'bonito-vault:nodeNames must be a YAML list such as [a, b, c, d] (square brackets, or one "- item" per line) (got "[a, b, c, d]")',
            ],
        );
        assert.deepEqual(
            problems("local", { ...BASE, "bonito-vault:nodes": "4", "bonito-vault:nodeNames": '["a","b","c","d"]' }),
            ['bonito-vault:nodes must be one of 1, 3, 5, 7 (got "4")'],
        );
    });
});

describe("unknown keys", () => {
    it("suggests a known synonym, the nearest key, or nothing", () => {
        assert.deepEqual(
            problems("local", {
                ...BASE,
                "bonito-vault:nodeCount": "3",
                "bonito-vault:node_count": "3",
                "bonito-vault:replicas": "3",
                "bonito-vault:imagee": "x",
                "bonito-vault:frobnicate": "1",
            }),
            [
                "bonito-vault:nodeCount is not a key of this project; did you mean bonito-vault:nodes? (docs/configuration.md lists every key)",
                "bonito-vault:node_count is not a key of this project; did you mean bonito-vault:nodes? (docs/configuration.md lists every key)",
                "bonito-vault:replicas is not a key of this project; did you mean bonito-vault:nodes? (docs/configuration.md lists every key)",
                "bonito-vault:imagee is not a key of this project; did you mean bonito-vault:image? (docs/configuration.md lists every key)",
                "bonito-vault:frobnicate is not a key of this project (docs/configuration.md lists every key)",
            ],
        );
    });

    it("maps every synonym to a real key", () => {
        const keys = Object.keys(allKeys());
        for (const [word, target] of Object.entries(KEY_SYNONYMS)) {
            assert.ok(keys.includes(target), `${word} → ${target}`);
            assert.equal(suggestKey(word, keys), target);
        }
    });
});

describe("YAML wording", () => {
    it("asks for brackets around a single CIDR", () => {
        assert.deepEqual(
            problems("staging", stackConfig("staging", { entryPointClientCidrs: "10.0.0.0/8" }), {
                allowExampleKeys: true,
            }),
            [
                'bonito-vault:entryPointClientCidrs must be a YAML list such as [10.0.0.0/8] (square brackets, or one "- item" per line) (got "10.0.0.0/8")',
            ],
        );
    });

    it("turns comma-separated text into the list it probably meant, and shows lists in flow style", () => {
        assert.deepEqual(
            problems("local", { ...BASE, "bonito-vault:approleSecretIdBoundCidrs": "10.0.0.0/8, 192.168.0.0/16" }),
            [
                'bonito-vault:approleSecretIdBoundCidrs must be a YAML list such as [10.0.0.0/8, 192.168.0.0/16] (square brackets, or one "- item" per line) (got "10.0.0.0/8, 192.168.0.0/16")',
            ],
        );
        assert.deepEqual(problems("local", { ...BASE, "bonito-vault:approleSecretIdBoundCidrs": '["10.0.0.0"]' }), [
            'bonito-vault:approleSecretIdBoundCidrs every item must be an IPv4 CIDR such as 10.0.0.0/8; not "10.0.0.0" (got [10.0.0.0])',
        ]);
    });
});

describe("long values", () => {
    it("keeps head…tail and the length of a value over 80 characters", () => {
        const image = `registry.example.com/${"a".repeat(100)}:latest`;
        assert.deepEqual(problems("local", { ...BASE, "bonito-vault:image": image }), [
            'bonito-vault:image must be an image pinned by digest (repo@sha256:<64 hex>) or an exact version tag (repo:1.21.1); latest, no tag and floating tags are refused (got "registry.example.com/aaaaaaaaaaaaaaaaaaaaaaaaaa…aaaaaaaa:latest" (130 characters))',
        ]);
        assert.equal(briefText("x".repeat(80)), "x".repeat(80));
        assert.equal(briefText("x".repeat(81)), `${"x".repeat(48)}…${"x".repeat(16)} (81 characters)`);
    });

    it("a copy of Pulumi.prod.yaml under a new stack name names recoveryShares in a short message", () => {
        const p = problems("prod-eu", stackConfig("prod"), { allowExampleKeys: true });
        assert.equal(p.length, 1);
        const keys = JSON.parse(stackConfig("prod")["bonito-vault:recoveryPgpKeys"]) as string[];
        const flow = `[${keys.join(", ")}]`;
        assert.equal(
            p[0],
            `bonito-vault:recoveryPgpKeys lists 5 keys but recoveryShares is 1 (its default on stack prod-eu); set recoveryShares: 5 and a recoveryThreshold (at least 2), or give exactly one key per share (got ${flow.slice(0, 48)}…${flow.slice(-16)} (${flow.length} characters))`,
        );
        assert.ok(p[0].length < 400, `${p[0].length} characters`);
    });
});

describe("recovery PGP keys Vault cannot encrypt to", () => {
    let keys: Record<TestKeyName, TestKey>;
    before(() => {
        keys = makeTestKeys();
    });

    it("names each by position and fingerprint, and accepts the good ones", () => {
        const list = [keys.good, keys.signOnly, keys.expired, keys.revoked, keys.primaryEncrypts, keys.subkeyRevoked];
        const p = problems("staging", {
            ...stackConfig("staging"),
            "bonito-vault:recoveryShares": "6",
            "bonito-vault:recoveryThreshold": "2",
            "bonito-vault:recoveryPgpKeys": JSON.stringify(list.map((k) => k.base64)),
        }).map((x) => x.replace(/ \(got \[.*$/, ""));
        const tail =
            "; Vault could not encrypt a recovery share to it and sys/init would fail after every container exists";
        assert.deepEqual(p, [
            `bonito-vault:recoveryPgpKeys entry 1 (fingerprint ${keys.signOnly.fingerprint}) has no key that can encrypt (it is sign-only): add an encryption subkey (gpg --quick-add-key <fingerprint> cv25519 encr) and export the key again${tail}`,
            `bonito-vault:recoveryPgpKeys entry 2 (fingerprint ${keys.expired.fingerprint}) expired on 2020-01-02: extend it (gpg --quick-set-expire <fingerprint> 1y, and the same for its encryption subkey) and export it again${tail}`,
            `bonito-vault:recoveryPgpKeys entry 3 (fingerprint ${keys.revoked.fingerprint}) is revoked: make a new key (gpg --quick-gen-key) and list that instead${tail}`,
            p[3],
        ]);
        assert.match(
            p[3],
            new RegExp(
                `^bonito-vault:recoveryPgpKeys entry 5 \\(fingerprint ${keys.subkeyRevoked.fingerprint}\\) has no valid encryption subkey \\([0-9A-F]{40} is revoked\\): add one \\(gpg --quick-add-key <fingerprint> cv25519 encr\\) and export the key again;`,
            ),
        );
    });
});
