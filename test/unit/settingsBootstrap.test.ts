/**
 * The bootstrap HTTP sequence against a fake Vault (a function from request to response).
 * Proves: the exact request sequence for a fresh cluster (init with recovery shares and PGP keys,
 * admin policy, AppRole mount, role, secret ID, check login, root revoked last); refusal of an
 * already-initialised cluster without an operator token; adoption with one; resumption when the
 * mount already exists; updates needing a root token; retries while Vault starts; and that no
 * secret value reaches an error or the progress log.
 * Does not prove: that a real Vault answers this way (the real-server tier does) or TLS handling.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    ROOT_TOKEN_ENV,
    handOver,
    initialise,
    reapplyAdmin,
    type HandoverInputs,
} from "../../components/settings/bootstrap";
import type { HttpRequest, HttpResponse } from "../../components/vault/http";
import { renderVaultSettings } from "../../components/settings/plan";
import { policyText } from "../../components/settings/acl";
import { roleBody } from "../../components/settings/vaultSettings";
import { loadConfig } from "../../components/config";

const ROOT = "hvs.ROOT-TOKEN-SECRET";
const SECRET_ID = "secret-id-VALUE-1234";
const ROLE_ID = "role-id-VALUE-5678";
const RECOVERY = ["cmVjb3Zlcnkta2V5LTE=", "cmVjb3Zlcnkta2V5LTI="];
const fast = { sleep: async () => {}, retryDelayMs: 0 };

const plan = renderVaultSettings(
    loadConfig("local", { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" }),
);
const admin: HandoverInputs = {
    mount: plan.admin.mount,
    roleName: plan.admin.role.name,
    role: roleBody(plan.admin.role),
    policyName: plan.admin.policyName,
    policy: policyText(plan.admin.policy),
};

/** A scripted Vault: answers by "METHOD path", records every request. */
function fakeVault(state: {
    initialized: boolean;
    mounts?: string[];
    failFirst?: Record<string, number>;
    deny?: string;
}) {
    const sent: HttpRequest[] = [];
    const fails = { ...(state.failFirst ?? {}) };
    const send = async (req: HttpRequest): Promise<HttpResponse> => {
        sent.push(req);
        const key = `${req.method} ${req.path}`;
        if (fails[key]) {
            fails[key]--;
            throw new Error("connect ECONNREFUSED 127.0.0.1:8200");
        }
        if (state.deny === key) return { status: 403, body: { errors: [`permission denied for token ${req.token}`] } };
        switch (key) {
            case "GET sys/init":
                return { status: 200, body: { initialized: state.initialized } };
            case "PUT sys/init":
                state.initialized = true;
                return {
                    status: 200,
                    body: { root_token: ROOT, recovery_keys_base64: RECOVERY, recovery_keys: ["hex1", "hex2"] },
                };
            case "GET sys/health?standbyok=true":
                return { status: 200, body: {} };
            case "GET sys/auth":
                return {
                    status: 200,
                    body: { data: Object.fromEntries((state.mounts ?? ["token"]).map((m) => [`${m}/`, {}])) },
                };
            case "GET auth/pulumi-admin/role/pulumi-admin/role-id":
                return { status: 200, body: { data: { role_id: ROLE_ID } } };
            case "POST auth/pulumi-admin/role/pulumi-admin/secret-id":
                return { status: 200, body: { data: { secret_id: SECRET_ID, secret_id_accessor: "acc" } } };
            case "POST auth/pulumi-admin/login":
                return { status: 200, body: { auth: { client_token: "hvs.CHECK-TOKEN" } } };
            default:
                return { status: 204, body: {} };
        }
    };
    return {
        send,
        sent,
        lines: () =>
            sent.map((r) => `${r.method} ${r.path}${r.token ? ` [${r.token === ROOT ? "root" : r.token}]` : ""}`),
    };
}

function assertNoSecrets(text: string) {
    for (const s of [ROOT, SECRET_ID, ROLE_ID, ...RECOVERY, "hvs.CHECK-TOKEN", "hvs.OPERATOR"])
        assert.ok(!text.includes(s), `leaked ${s}`);
}

describe("initialise", () => {
    it("initialises a fresh cluster with recovery shares and PGP keys, then waits until unsealed", async () => {
        const v = fakeVault({ initialized: false });
        const log: string[] = [];
        const rec = await initialise(
            "https://127.0.0.1:8200",
            { recoveryShares: 2, recoveryThreshold: 2, recoveryPgpKeys: ["a2V5MQ==", "a2V5Mg=="] },
            v.send,
            {},
            { ...fast, log: (l) => log.push(l) },
        );
        assert.deepEqual(v.lines(), ["GET sys/init", "PUT sys/init", "GET sys/health?standbyok=true"]);
        assert.deepEqual(v.sent[1].body, {
            recovery_shares: 2,
            recovery_threshold: 2,
            recovery_pgp_keys: ["a2V5MQ==", "a2V5Mg=="],
        });
        assert.deepEqual(rec, { rootToken: ROOT, recoveryKeys: RECOVERY, recoveryKeysEncrypted: true, adopted: false });
        assertNoSecrets(log.join("\n"));
    });

    it("sends no recovery_pgp_keys when none are configured", async () => {
        const v = fakeVault({ initialized: false });
        await initialise("a", { recoveryShares: 1, recoveryThreshold: 1, recoveryPgpKeys: [] }, v.send, {}, fast);
        assert.deepEqual(v.sent[1].body, { recovery_shares: 1, recovery_threshold: 1 });
    });

    it("keeps polling sys/init while Vault is still starting", async () => {
        const v = fakeVault({ initialized: false, failFirst: { "GET sys/init": 5 } });
        await initialise("a", { recoveryShares: 1, recoveryThreshold: 1, recoveryPgpKeys: [] }, v.send, {}, fast);
        assert.equal(v.sent.filter((r) => r.path === "sys/init" && r.method === "GET").length, 6);
    });

    it("refuses an already-initialised cluster without an operator token, and never sends PUT sys/init", async () => {
        const v = fakeVault({ initialized: true });
        await assert.rejects(
            initialise(
                "https://10.0.0.1:8200",
                { recoveryShares: 1, recoveryThreshold: 1, recoveryPgpKeys: [] },
                v.send,
                {},
                fast,
            ),
            (e: Error) => {
                assert.match(
                    e.message,
                    /^Vault at https:\/\/10\.0\.0\.1:8200 is already initialised, but this stack's state holds no bootstrap record or admin credentials/,
                );
                assert.match(e.message, new RegExp(`export it as ${ROOT_TOKEN_ENV}`));
                return true;
            },
        );
        assert.deepEqual(v.lines(), ["GET sys/init"]);
    });

    it("adopts an initialised cluster with an operator's root token from the environment", async () => {
        const v = fakeVault({ initialized: true });
        const rec = await initialise(
            "a",
            { recoveryShares: 1, recoveryThreshold: 1, recoveryPgpKeys: [] },
            v.send,
            { [ROOT_TOKEN_ENV]: "hvs.OPERATOR" },
            fast,
        );
        assert.deepEqual(v.lines(), ["GET sys/init", "GET sys/health?standbyok=true"]);
        assert.deepEqual(rec, {
            rootToken: "hvs.OPERATOR",
            recoveryKeys: [],
            recoveryKeysEncrypted: false,
            adopted: true,
        });
    });
});

describe("handOver", () => {
    it("writes the admin identity, proves a login, then revokes the root token last", async () => {
        const v = fakeVault({ initialized: true });
        const creds = await handOver(admin, ROOT, v.send, fast);
        assert.deepEqual(v.lines(), [
            "PUT sys/policies/acl/pulumi-admin [root]",
            "GET sys/auth [root]",
            "POST sys/auth/pulumi-admin [root]",
            "POST auth/pulumi-admin/role/pulumi-admin [root]",
            "GET auth/pulumi-admin/role/pulumi-admin/role-id [root]",
            "POST auth/pulumi-admin/role/pulumi-admin/secret-id [root]",
            "POST auth/pulumi-admin/login",
            "POST auth/token/revoke-self [hvs.CHECK-TOKEN]",
            "POST auth/token/revoke-self [root]",
        ]);
        assert.deepEqual(v.sent[0].body, { policy: admin.policy });
        assert.deepEqual(v.sent[2].body, {
            type: "approle",
            description: "Pulumi's own identity (bonito-vault bootstrap)",
        });
        assert.deepEqual(v.sent[3].body, admin.role);
        assert.deepEqual(v.sent[6].body, { role_id: ROLE_ID, secret_id: SECRET_ID });
        assert.deepEqual(creds, { roleId: ROLE_ID, secretId: SECRET_ID });
    });

    it("resumes after a partial run: an existing mount is not enabled again", async () => {
        const v = fakeVault({ initialized: true, mounts: ["token", "pulumi-admin"] });
        await handOver(admin, ROOT, v.send, fast);
        assert.ok(!v.lines().includes("POST sys/auth/pulumi-admin [root]"));
    });

    it("fails with the step, method, path and Vault's error, with every secret redacted", async () => {
        const v = fakeVault({ initialized: true, deny: "POST auth/token/revoke-self" });
        await assert.rejects(handOver(admin, ROOT, v.send, fast), (e: Error) => {
            assert.equal(
                e.message,
                'Vault bootstrap step "revoke the check login\'s token" (POST /v1/auth/token/revoke-self) failed: HTTP 403: permission denied for token [redacted]',
            );
            assertNoSecrets(e.message);
            return true;
        });
    });

    it("does not retry a 4xx answer (no hammering on a permission error)", async () => {
        const v = fakeVault({ initialized: true, deny: "PUT sys/policies/acl/pulumi-admin" });
        await assert.rejects(handOver(admin, ROOT, v.send, fast));
        assert.equal(v.sent.length, 1);
    });
});

describe("reapplyAdmin", () => {
    it("refuses without an operator root token and sends nothing", async () => {
        const v = fakeVault({ initialized: true });
        await assert.rejects(
            reapplyAdmin(admin, v.send, {}, fast),
            /may not rewrite its own policy.*BONITO_VAULT_ROOT_TOKEN/s,
        );
        assert.equal(v.sent.length, 0);
    });

    it("rewrites policy and role with the operator's token, keeps the secret ID, revokes the token", async () => {
        const v = fakeVault({ initialized: true, mounts: ["token", "pulumi-admin"] });
        const out = await reapplyAdmin(admin, v.send, { [ROOT_TOKEN_ENV]: "hvs.OPERATOR" }, fast);
        assert.deepEqual(v.lines(), [
            "PUT sys/policies/acl/pulumi-admin [hvs.OPERATOR]",
            "GET sys/auth [hvs.OPERATOR]",
            "POST auth/pulumi-admin/role/pulumi-admin [hvs.OPERATOR]",
            "GET auth/pulumi-admin/role/pulumi-admin/role-id [hvs.OPERATOR]",
            "POST auth/token/revoke-self [hvs.OPERATOR]",
        ]);
        assert.deepEqual(out, { roleId: ROLE_ID });
    });
});
