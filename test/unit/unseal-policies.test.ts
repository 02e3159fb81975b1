/**
 * Pure parts of the unseal area: policy documents, stanzas, the credential guard, the unsealer's
 * config, and the transit bootstrap conversation driven against a fake Vault (a fake `fetch`).
 * Proves: the exact documents and requests, their order, idempotence guards, no secret in errors.
 * Does not prove: that AWS/Azure/GCP or a real Vault accept them (the fake answers like Vault's
 * documented API, nothing more).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SEAL_CREDENTIAL_FIELDS, type SealStanza } from "../../components/seal";
import {
    awsIdentityPolicy,
    awsKeyPolicy,
    azureRoleDefinitionId,
    gcpRotationPeriod,
    transitPolicy,
} from "../../components/unseal/iam";
import { assertNoCredentials, awsStanza, transitStanza } from "../../components/seal";
import {
    diffUnsealer,
    ensureUnsealed,
    runBootstrap,
    setupRequests,
    tokenRequest,
    type FetchLike,
    type TransitSetup,
} from "../../components/unseal/transit";

const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("aws policy documents", () => {
    it("key policy: the account administers (no Encrypt/Decrypt), only the Vault identity uses", () => {
        assert.deepEqual(
            awsKeyPolicy({
                partition: "aws",
                accountId: "123456789012",
                identityArn: "arn:aws:iam::123456789012:role/v",
            }),
            {
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "AccountAdministersKey",
                        Effect: "Allow",
                        Principal: { AWS: "arn:aws:iam::123456789012:root" },
                        Action: [
                            "kms:CancelKeyDeletion",
                            "kms:Create*",
                            "kms:Delete*",
                            "kms:Describe*",
                            "kms:Disable*",
                            "kms:Enable*",
                            "kms:Get*",
                            "kms:List*",
                            "kms:Put*",
                            "kms:Revoke*",
                            "kms:RotateKeyOnDemand",
                            "kms:ScheduleKeyDeletion",
                            "kms:TagResource",
                            "kms:UntagResource",
                            "kms:Update*",
                        ],
                        Resource: "*",
                    },
                    {
                        Sid: "VaultIdentityUsesKey",
                        Effect: "Allow",
                        Principal: { AWS: "arn:aws:iam::123456789012:role/v" },
                        Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
                        Resource: "*",
                    },
                ],
            },
        );
    });

    it("identity policy: exactly three actions on exactly one key", () => {
        assert.deepEqual(awsIdentityPolicy(KEY_ARN), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "VaultAutoUnseal",
                    Effect: "Allow",
                    Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
                    Resource: KEY_ARN,
                },
            ],
        });
    });
});

describe("stanzas and the credential guard", () => {
    it("renders each stanza with identifiers only", () => {
        assert.deepEqual(awsStanza("us-east-1", "k-1"), {
            type: "awskms",
            config: { region: "us-east-1", kms_key_id: "k-1" },
        });
        assert.deepEqual(transitStanza("http://u:8200", "transit/", "k"), {
            type: "transit",
            config: { address: "http://u:8200", mount_path: "transit/", key_name: "k", disable_renewal: "false" },
        });
    });

    it("refuses any credential field, for every seal type", () => {
        for (const [type, fields] of Object.entries(SEAL_CREDENTIAL_FIELDS))
            for (const f of fields)
                assert.throws(
                    () => assertNoCredentials({ type, config: { [f]: "x" } } as SealStanza),
                    new RegExp(`must not carry ${f}`),
                );
    });

    it("azure role and gcp rotation formats", () => {
        assert.equal(
            azureRoleDefinitionId("sub-1"),
            "/subscriptions/sub-1/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6",
        );
        assert.equal(gcpRotationPeriod(90), "7776000s");
    });
});

describe("transit policy", () => {
    it("is exactly: update on the key's encrypt and decrypt, renew-self and lookup-self", () => {
        assert.equal(
            transitPolicy("transit/", "bonito-vault-unseal"),
            [
                'path "transit/encrypt/bonito-vault-unseal" {',
                '  capabilities = ["update"]',
                "}",
                'path "transit/decrypt/bonito-vault-unseal" {',
                '  capabilities = ["update"]',
                "}",
                "# The seal renews its periodic token (disable_renewal = false); these two come from the default",
                "# policy, which the token does not get.",
                'path "auth/token/renew-self" {',
                '  capabilities = ["update"]',
                "}",
                'path "auth/token/lookup-self" {',
                '  capabilities = ["read"]',
                "}",
                "",
            ].join("\n"),
        );
    });
});

const SETUP: TransitSetup = {
    mountPath: "transit",
    keyName: "bonito-vault-unseal",
    policyName: "bonito-vault-seal",
    tokenPeriod: "720h",
    autoRotatePeriod: "2160h",
    policy: "POLICY",
};

/** A fake Vault: enough of sys/init, unseal, health, mounts, keys, policies and tokens. */
function fakeVault(opts: { initialized?: boolean; sealed?: boolean; failOn?: string; downFor?: number } = {}) {
    const state = { initialized: opts.initialized ?? false, sealed: opts.sealed ?? true, down: opts.downFor ?? 0 };
    const calls: { method: string; path: string; token?: string; body?: unknown }[] = [];
    const fetchFn: FetchLike = async (url, init) => {
        if (state.down > 0) {
            state.down--;
            throw new Error("connect ECONNREFUSED 127.0.0.1:8210");
        }
        const path = url.replace("http://127.0.0.1:8210/v1/", "");
        const body = init.body ? JSON.parse(init.body) : undefined;
        calls.push({ method: init.method, path, token: init.headers["X-Vault-Token"], body });
        const reply = (status: number, b: unknown = {}) => ({ status, text: async () => JSON.stringify(b) });
        if (opts.failOn === path) return reply(400, { errors: ["path is already in use at transit/"] });
        if (path === "sys/init" && init.method === "GET") return reply(200, { initialized: state.initialized });
        if (path === "sys/init") {
            state.initialized = true;
            return reply(200, { keys_base64: ["UNSEAL-KEY"], root_token: "ROOT" });
        }
        if (path === "sys/seal-status") return reply(200, { initialized: state.initialized, sealed: state.sealed });
        if (path === "sys/unseal") {
            state.sealed = body.key !== "UNSEAL-KEY";
            return reply(200, { sealed: state.sealed });
        }
        if (path === "sys/health") return reply(!state.initialized ? 501 : state.sealed ? 503 : 200);
        if (path === "auth/token/create-orphan") return reply(200, { auth: { client_token: "TRANSIT-TOKEN" } });
        return reply(204);
    };
    return { fetchFn, calls, state };
}
const fastWait = { sleep: async () => {}, attempts: 5, intervalMs: 0 };

describe("transit bootstrap", () => {
    it("waits for the API, initialises once, unseals, sets up with root, mints the token, revokes root", async () => {
        const v = fakeVault({ downFor: 2 });
        const out = await runBootstrap(v.fetchFn, "http://127.0.0.1:8210", SETUP, fastWait);
        assert.deepEqual(out, { unsealKey: "UNSEAL-KEY", transitToken: "TRANSIT-TOKEN" });
        assert.deepEqual(
            v.calls.map((c) => `${c.method} ${c.path} ${c.token ?? "-"}`),
            [
                "GET sys/init -",
                "PUT sys/init -",
                "PUT sys/unseal -",
                "GET sys/health -",
                "POST sys/mounts/transit ROOT",
                "POST transit/keys/bonito-vault-unseal ROOT",
                "PUT sys/policies/acl/bonito-vault-seal ROOT",
                "POST auth/token/create-orphan ROOT",
                "POST auth/token/revoke-self ROOT",
            ],
        );
        assert.deepEqual(v.calls[1].body, { secret_shares: 1, secret_threshold: 1 });
    });

    it("the requests, exactly: non-exportable rotating key, orphan periodic token without default policy", () => {
        assert.deepEqual(setupRequests(SETUP), [
            {
                method: "POST",
                path: "sys/mounts/transit",
                body: { type: "transit", description: "bonito-vault auto-unseal" },
            },
            {
                method: "POST",
                path: "transit/keys/bonito-vault-unseal",
                body: {
                    type: "aes256-gcm96",
                    exportable: false,
                    allow_plaintext_backup: false,
                    auto_rotate_period: "2160h",
                },
            },
            { method: "PUT", path: "sys/policies/acl/bonito-vault-seal", body: { policy: "POLICY" } },
        ]);
        assert.deepEqual(tokenRequest(SETUP), {
            method: "POST",
            path: "auth/token/create-orphan",
            body: {
                policies: ["bonito-vault-seal"],
                no_default_policy: true,
                period: "720h",
                renewable: true,
                display_name: "bonito-vault-transit-seal",
            },
        });
    });

    it("refuses an unsealer that is already initialised (its keys are not in state)", async () => {
        const v = fakeVault({ initialized: true });
        await assert.rejects(runBootstrap(v.fetchFn, "http://127.0.0.1:8210", SETUP, fastWait), /already initialised/);
        assert.deepEqual(
            v.calls.map((c) => c.path),
            ["sys/init"],
        );
    });

    it("a Vault error names the request and Vault's message, never a secret", async () => {
        const v = fakeVault({ failOn: "sys/mounts/transit" });
        await assert.rejects(runBootstrap(v.fetchFn, "http://127.0.0.1:8210", SETUP, fastWait), (e: Error) => {
            assert.equal(e.message, "POST /v1/sys/mounts/transit answered 400: path is already in use at transit/");
            assert.ok(!/ROOT|UNSEAL-KEY/.test(e.message));
            return true;
        });
    });

    it("gives up with the last connection error when the API never answers", async () => {
        const v = fakeVault({ downFor: 100 });
        await assert.rejects(
            runBootstrap(v.fetchFn, "http://127.0.0.1:8210", SETUP, fastWait),
            /timed out waiting for the unsealer API \(last error: connect ECONNREFUSED/,
        );
    });
});

describe("re-unseal and diff", () => {
    it("unseals a sealed unsealer with the stored key, and leaves an unsealed one alone", async () => {
        const sealed = fakeVault({ initialized: true, sealed: true });
        assert.equal(await ensureUnsealed(sealed.fetchFn, "http://127.0.0.1:8210", "UNSEAL-KEY", fastWait), "unsealed");
        assert.equal(sealed.state.sealed, false);
        const open = fakeVault({ initialized: true, sealed: false });
        assert.equal(
            await ensureUnsealed(open.fetchFn, "http://127.0.0.1:8210", "UNSEAL-KEY", fastWait),
            "was-unsealed",
        );
        assert.deepEqual(
            open.calls.map((c) => c.path),
            ["sys/seal-status"],
        );
    });

    it("a new container is an update (re-unseal); a new key or token shape is a replacement", () => {
        const olds = { ...SETUP, address: "a", containerId: "c1" };
        assert.deepEqual(diffUnsealer(olds, { ...olds }), { changes: false, replaces: [] });
        assert.deepEqual(diffUnsealer(olds, { ...olds, containerId: "c2" }), { changes: true, replaces: [] });
        assert.deepEqual(diffUnsealer(olds, { ...olds, tokenPeriod: "24h" }), {
            changes: true,
            replaces: ["tokenPeriod"],
        });
    });

    it("property: any change to a replace-on input is reported as a replacement of exactly that input", () => {
        const keys = ["mountPath", "keyName", "policyName", "tokenPeriod", "autoRotatePeriod", "policy"] as const;
        fc.assert(
            fc.property(fc.subarray([...keys], { minLength: 1 }), (changed) => {
                const olds = { ...SETUP, address: "a", containerId: "c" } as Record<string, unknown>;
                const news = { ...olds };
                for (const k of changed) news[k] = `${String(olds[k])}-changed`;
                const d = diffUnsealer(olds, news);
                return d.changes && JSON.stringify([...d.replaces].sort()) === JSON.stringify([...changed].sort());
            }),
        );
    });
});
