/**
 * VaultSettings on the local stack (HashiCorp Vault image, 3 nodes, defaults)
 * under Pulumi's mock runtime.
 * Proves: the exact @pulumi/vault inputs (two audit devices with HMAC on, KV v2 mount, the three
 * policies' text, AppRole mount, both roles, both secret IDs, autopilot), that every Vault
 * resource goes through the admin-AppRole provider, the bootstrap resources' inputs, and that
 * backendEnv and every credential-bearing output is a Pulumi secret.
 * Does not prove: that Vault accepts these settings or that the bootstrap talks to a real server
 * (test/unit/settingsBootstrap.test.ts drives the HTTP sequence; the real-server tier applies it).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { optionRecorder, setupMocks, settle, valueOf, type MockRun } from "../helpers/mocks";

const BASE = { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" };
const CA = "-----BEGIN CERTIFICATE-----\nMOCK-CA\n-----END CERTIFICATE-----\n";
const run: MockRun = setupMocks("local", BASE);
const recorder = optionRecorder();

let built: Awaited<ReturnType<typeof build>>;

async function build() {
    const { loadConfig } = await import("../../components/config");
    const { VaultSettings } = await import("../../components/settings/vaultSettings");
    const { renderVaultSettings } = await import("../../components/settings/plan");
    const config = loadConfig("local", BASE);
    const settings = new VaultSettings(
        "t-settings",
        { settings: config, caCert: CA },
        { transformations: recorder.transformations },
    );
    await settle(settings);
    return { settings, config, plan: renderVaultSettings(config) };
}

before(async () => {
    built = await build();
});

const T = {
    audit: "vault:index/audit:Audit",
    mount: "vault:index/mount:Mount",
    policy: "vault:index/policy:Policy",
    auth: "vault:index/authBackend:AuthBackend",
    role: "vault:appRole/authBackendRole:AuthBackendRole",
    secretId: "vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId",
    autopilot: "vault:index/raftAutopilot:RaftAutopilot",
    provider: "pulumi:providers:vault",
    init: "pulumi-nodejs:dynamic/bonito:VaultInit",
    handover: "pulumi-nodejs:dynamic/bonito:VaultHandover",
};

describe("VaultSettings on local (vault engine)", () => {
    it("makes every later setting wait for the first (file) audit device only, so a failing second device fails alone", async () => {
        const deps = async (name: string) => {
            const d = recorder.opts.get(name)?.dependsOn;
            const list = (Array.isArray(d) ? d : d ? [d] : []) as pulumi.Resource[];
            return (await Promise.all(list.map((r) => valueOf(r.urn)))).map((u) => u.split("::").pop());
        };
        const file = "t-settings-audit-file";
        for (const name of [
            "t-settings-kv",
            "t-settings-approle",
            "t-settings-policy-bonito-backend",
            "t-settings-autopilot",
        ])
            assert.deepEqual(await deps(name), [file], name);
        const roleDeps = await deps("t-settings-role-bonito-backend");
        assert.equal(roleDeps[0], file);
        assert.ok(!roleDeps.includes("t-settings-audit-syslog"));
    });

    it("declares two audit devices through the API: file with HMAC on, and syslog tag vault facility AUTH", () => {
        const audits = run.ofType(T.audit).map((r) => r.inputs);
        assert.equal(audits.length, 2);
        assert.deepEqual(audits[0], {
            type: "file",
            path: "file",
            description:
                "Every request and response, HMAC-hashed, on the node's audit volume (rotated by the audit rotator).",
            options: {
                file_path: "/vault/audit/audit.log",
                mode: "0600",
                log_raw: "false",
                hmac_accessor: "true",
                format: "json",
            },
        });
        assert.deepEqual(audits[1], {
            type: "syslog",
            path: "syslog",
            description: "Second device (seed §3): local syslog, tag vault, facility AUTH.",
            options: { tag: "vault", facility: "AUTH", log_raw: "false", hmac_accessor: "true", format: "json" },
        });
    });

    it("declares the KV v2 mount at bonito", () => {
        const [m] = run.ofType(T.mount);
        assert.deepEqual(m.inputs, {
            path: "bonito",
            type: "kv",
            options: { version: "2" },
            description: "Bonito backend secrets (KV v2)",
        });
    });

    it("declares exactly the backend, snapshot-agent and rolling policies with the rendered JSON", () => {
        const policies = Object.fromEntries(
            run.ofType(T.policy).map((r) => [r.inputs.name, JSON.parse(String(r.inputs.policy))]),
        );
        assert.deepEqual(policies, {
            "bonito-backend": {
                path: {
                    "bonito/data/*": { capabilities: ["create", "read", "update"] },
                    "bonito/metadata/*": { capabilities: ["read", "list", "delete"] },
                },
            },
            "snapshot-agent": { path: { "sys/storage/raft/snapshot": { capabilities: ["read"] } } },
            "bonito-rolling": {
                path: {
                    "sys/storage/raft/autopilot/state": { capabilities: ["read"] },
                    "sys/step-down": { capabilities: ["update", "sudo"] },
                },
            },
        });
    });

    it("enables AppRole at approle/ and declares both roles with exact inputs", () => {
        assert.deepEqual(
            run.ofType(T.auth).map((r) => r.inputs),
            [{ type: "approle", path: "approle", description: "Bonito workloads (backend, snapshot agent)" }],
        );
        const roles = Object.fromEntries(run.ofType(T.role).map((r) => [r.inputs.roleName, r.inputs]));
        assert.deepEqual(roles["bonito-backend"], {
            backend: "approle",
            roleName: "bonito-backend",
            tokenPolicies: ["bonito-backend"],
            tokenTtl: 3600,
            tokenMaxTtl: 14400,
            tokenType: "service",
            tokenNumUses: 0,
            tokenBoundCidrs: [],
            bindSecretId: true,
            secretIdTtl: 0,
            secretIdNumUses: 0,
            secretIdBoundCidrs: [],
        });
        assert.deepEqual(roles["snapshot-agent"], {
            backend: "approle",
            roleName: "snapshot-agent",
            tokenPolicies: ["snapshot-agent"],
            tokenTtl: 900,
            tokenMaxTtl: 3600,
            tokenType: "service",
            tokenNumUses: 0,
            tokenBoundCidrs: [],
            bindSecretId: true,
            secretIdTtl: 0,
            secretIdNumUses: 0,
            secretIdBoundCidrs: [],
        });
    });

    it("issues one plain (unwrapped) secret ID per role", () => {
        const ids = run.ofType(T.secretId).map((r) => r.inputs);
        assert.deepEqual(ids, [
            { backend: "approle", roleName: "bonito-backend" },
            { backend: "approle", roleName: "snapshot-agent" },
        ]);
    });

    it("configures autopilot: cleanup on, min_quorum 3, 10s / 24h thresholds", () => {
        const [a] = run.ofType(T.autopilot);
        assert.deepEqual(a.inputs, {
            cleanupDeadServers: true,
            lastContactThreshold: "10s",
            deadServerLastContactThreshold: "24h",
            serverStabilizationTime: "10s",
            maxTrailingLogs: 1000,
            minQuorum: 3,
        });
    });

    it("sends every Vault resource through the one provider that logs in as pulumi-admin", async () => {
        const [p] = run.ofType(T.provider);
        assert.equal(p.inputs.address, "https://127.0.0.1:8200");
        assert.equal(p.inputs.tlsServerName, "vault");
        assert.equal(p.inputs.skipChildToken, "true");
        assert.equal(p.inputs.caCertFile, ".bonito-vault/local-vault-ca.pem");
        // authLogin carries the handover's role_id/secret_id, unknown under the mock (no state for
        // dynamic resources), so the provider config records it as unknown; its path is checked below.
        assert.ok(p.inputs.authLogin !== undefined);
        assert.equal(p.inputs.token, undefined);
        const vaultResources = run.resources.filter((r) => r.type.startsWith("vault:"));
        // + the rolling identity's policy and role (its secret ID comes with the cluster's rolling
        // identity, which this component test does not pass; test/mocks/rolling.test.ts checks it)
        assert.equal(vaultResources.length, 2 + 1 + 2 + 1 + 2 + 2 + 1 + 2);
        for (const r of vaultResources)
            assert.match(String(r.provider), /pulumi:providers:vault::t-settings-vault::/, r.name);
    });

    it("bootstraps with local recovery shares 1/1 and no PGP keys, and hands over to the rendered admin policy", () => {
        const [init] = run.ofType(T.init);
        assert.equal(init.inputs.addr, "https://127.0.0.1:8200");
        assert.equal(init.inputs.tlsServerName, "vault");
        assert.equal(init.inputs.caCert, CA);
        assert.deepEqual(
            [init.inputs.recoveryShares, init.inputs.recoveryThreshold, init.inputs.recoveryPgpKeys],
            [1, 1, []],
        );
        assert.equal(typeof init.inputs.__provider, "string");
        const [h] = run.ofType(T.handover);
        assert.equal(h.inputs.mount, "pulumi-admin");
        assert.equal(h.inputs.roleName, "pulumi-admin");
        assert.equal(h.inputs.policyName, "pulumi-admin");
        assert.deepEqual(JSON.parse(String(h.inputs.policy)), built.plan.admin.policy);
        assert.deepEqual(h.inputs.role, {
            token_policies: ["pulumi-admin"],
            // Two hours: the provider logs in once per run and never renews (README "Pulumi's identity").
            token_ttl: 7200,
            token_max_ttl: 7200,
            token_type: "service",
            token_num_uses: 0,
            token_bound_cidrs: [],
            bind_secret_id: true,
            secret_id_ttl: 0,
            secret_id_num_uses: 0,
            secret_id_bound_cidrs: [],
        });
    });

    it("keeps backendEnv and every credential-bearing output secret", async () => {
        const s = built.settings;
        for (const [name, o] of Object.entries({
            backendEnv: s.backendEnv,
            snapshotAgentRoleId: s.snapshotAgentRoleId,
            snapshotAgentSecretId: s.snapshotAgentSecretId,
            recoveryKeys: s.recoveryKeys,
        }))
            assert.equal(await pulumi.isSecret(o as pulumi.Output<unknown>), true, name);
        assert.equal(await pulumi.isSecret(s.kvMount), false);
        assert.equal(await valueOf(s.kvMount), "bonito");
        // The mock state has no roleId/secretId for these types, so backendEnv stays unknown here; its
        // content is renderBackendEnv's, tested exactly in test/unit/settings.test.ts.
    });
});
