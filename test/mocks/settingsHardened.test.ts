/**
 * VaultSettings with every hardening option on (PGP-encrypted recovery shares, response-wrapped
 * secret ID, bound CIDRs, a socket audit device to a shipper, 5 nodes), under Pulumi's mock
 * runtime; and the committed prod stack without recoveryPgpKeys refused before any resource.
 * Proves: exact inputs of the socket device, the wrapped secret ID, the role's CIDRs and secret ID
 * limits, the bootstrap's PGP keys and shares, autopilot min_quorum 5; secrecy of every credential;
 * the exact prod error. Does not prove: that Vault accepts the PGP keys or the wrapping (real-server tier).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { setupMocks, settle, stackConfig, type MockRun } from "../helpers/mocks";

/** A key Vault can encrypt to: the first committed example key (accepted as under the mock runtime). */
const PGP = (JSON.parse(stackConfig("prod")["bonito-vault:recoveryPgpKeys"]) as string[])[0];
const RAW = {
    "bonito-vault:cloud": "local",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    "bonito-vault:nodes": "5",
    "bonito-vault:recoveryShares": "3",
    "bonito-vault:recoveryThreshold": "2",
    "bonito-vault:recoveryPgpKeys": JSON.stringify([PGP, PGP, PGP]),
    "bonito-vault:auditSecondDevice": "socket",
    "bonito-vault:auditSocketAddress": "fluent-bit:5170",
    "bonito-vault:approleWrappingTtl": "15m",
    "bonito-vault:approleSecretIdTtl": "720h",
    "bonito-vault:approleSecretIdNumUses": "0",
    "bonito-vault:approleSecretIdBoundCidrs": '["10.20.0.0/16"]',
    "bonito-vault:approleTokenBoundCidrs": '["10.20.0.0/16"]',
    "bonito-vault:monitoringTokenBoundCidrs": '["10.30.0.0/24"]',
    "bonito-vault:kvMount": "bonito-prod",
};
const run: MockRun = setupMocks("staging", RAW);
let settings: import("../../components/settings/vaultSettings").VaultSettings;

before(async () => {
    const { loadConfig } = await import("../../components/config");
    const { VaultSettings } = await import("../../components/settings/vaultSettings");
    settings = new VaultSettings("h", {
        settings: loadConfig("staging", RAW, new Set(), { allowExampleKeys: true }),
        caCert: "PEM",
    });
    await settle(settings);
});

describe("VaultSettings, hardened options", () => {
    it("declares file + socket audit devices, HMAC on", () => {
        const audits = run.ofType("vault:index/audit:Audit").map((r) => [r.inputs.type, r.inputs.options]);
        assert.deepEqual(audits, [
            [
                "file",
                {
                    file_path: "/vault/audit/audit.log",
                    mode: "0600",
                    log_raw: "false",
                    hmac_accessor: "true",
                    format: "json",
                },
            ],
            [
                "socket",
                {
                    address: "fluent-bit:5170",
                    socket_type: "tcp",
                    write_timeout: "2s",
                    log_raw: "false",
                    hmac_accessor: "true",
                    format: "json",
                },
            ],
        ]);
    });

    it("binds the backend role to the CIDRs and the secret ID TTL, and wraps its secret ID", () => {
        const role = run.byName("h-role-bonito-backend").inputs;
        assert.deepEqual(
            [
                role.secretIdTtl,
                role.secretIdNumUses,
                role.secretIdBoundCidrs,
                role.tokenBoundCidrs,
                role.tokenTtl,
                role.tokenMaxTtl,
            ],
            [2592000, 0, ["10.20.0.0/16"], ["10.20.0.0/16"], 3600, 14400],
        );
        assert.deepEqual(run.byName("h-secret-id-bonito-backend").inputs, {
            backend: "approle",
            roleName: "bonito-backend",
            wrappingTtl: "15m",
            withWrappedAccessor: true,
        });
        assert.deepEqual(run.byName("h-secret-id-snapshot-agent").inputs, {
            backend: "approle",
            roleName: "snapshot-agent",
        });
    });

    it("mounts KV v2 at the configured path and scopes the backend policy to it", () => {
        assert.equal(run.byName("h-kv").inputs.path, "bonito-prod");
        const doc = JSON.parse(String(run.byName("h-policy-bonito-backend").inputs.policy));
        // No catch-all deny (35df277): a LIST of the mount root is checked against `bonito-prod/metadata`
        // too, which `*` would deny; Vault denies whatever no rule grants anyway.
        assert.deepEqual(Object.keys(doc.path), ["bonito-prod/data/*", "bonito-prod/metadata/*"]);
    });

    it("initialises with 3 PGP-encrypted shares, threshold 2", () => {
        const init = run.ofType("pulumi-nodejs:dynamic/bonito:VaultInit")[0].inputs;
        assert.deepEqual([init.recoveryShares, init.recoveryThreshold, init.recoveryPgpKeys], [3, 2, [PGP, PGP, PGP]]);
    });

    it("sets autopilot min_quorum to the node count (5)", () => {
        assert.equal(run.ofType("vault:index/raftAutopilot:RaftAutopilot")[0].inputs.minQuorum, 5);
    });

    it("keeps every credential-bearing output secret", async () => {
        for (const o of [
            settings.backendEnv,
            settings.snapshotAgentRoleId,
            settings.snapshotAgentSecretId,
            settings.recoveryKeys,
        ])
            assert.equal(await pulumi.isSecret(o as pulumi.Output<unknown>), true);
    });
});

describe("prod stack without recoveryPgpKeys", () => {
    it("is refused by loadConfig with the exact message, before any resource", async () => {
        const { ConfigError, loadConfig } = await import("../../components/config");
        const before = run.resources.length;
        assert.throws(
            () => loadConfig("prod", stackConfig("prod", { recoveryPgpKeys: undefined })),
            (e: unknown) => {
                assert.ok(e instanceof ConfigError);
                assert.ok(
                    e.problems.includes(
                        "bonito-vault:recoveryPgpKeys is required on prod: list 5 operators' PGP public keys (base64 of gpg --export <id>), one per recovery share, so the shares in state are encrypted",
                    ),
                    e.problems.join("\n"),
                );
                return true;
            },
        );
        assert.equal(run.resources.length, before);
    });
});
