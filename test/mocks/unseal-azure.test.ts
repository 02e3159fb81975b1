/**
 * UnsealKey on azure under Pulumi's mock runtime, and the whole staging program with cloud=azure.
 * Proves: the exact Key Vault settings (RBAC, purge protection, 90-day soft delete, deny firewall
 * with the allowed IPs), the RSA wrap/unwrap key and its rotation policy, protect + retainOnDelete,
 * one role assignment of "Key Vault Crypto Service Encryption User" scoped to the KEY, the
 * service-principal secret travelling only as secret env, and the stanza in every node's config.
 * Does not prove: that Azure accepts these (ARM validation, firewall reachability) or that Vault
 * signs in with the managed identity — that needs a subscription and Azure VM hosts.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { optionRecorder, setupMocks, stackConfig, valueOf, type MockRun } from "../helpers/mocks";
import { buildUnsealKey, childrenOf, programServerConfigs } from "../helpers/unseal";

const AZ = {
    azureLocation: "westeurope",
    azureResourceGroup: "rg-vault",
    azureAllowedIps: '["203.0.113.7","198.51.100.0/24"]',
};
// A passthrough LB on azure needs one host per node; staging shares one, so no entry point here.
const run: MockRun = setupMocks("staging", stackConfig("staging", { cloud: "azure", ...AZ, entryPoint: "none" }), [
    "bonito-vault:azureClientSecret",
]);
const recorder = optionRecorder();
const SUB = "00000000-0000-0000-0000-0000000000a1";
const TENANT = "00000000-0000-0000-0000-0000000000d1";
const ROLE = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6`;

async function build(name: string, extra: Record<string, string>, secretKeys: string[] = []) {
    return buildUnsealKey(
        name,
        { cloud: "azure", image: "hashicorp/vault:1.21.1", ...AZ, ...extra },
        { ...recorder, secretKeys },
    );
}
const children = (prefix: string) => childrenOf(run, prefix);

describe("azure, managed identity (default)", () => {
    let u: Awaited<ReturnType<typeof build>>;
    before(async () => {
        u = await build("m", {});
    });

    it("creates exactly: identity, vault, key, one role assignment", () => {
        assert.deepEqual(children("m").sort(), [
            "azure-native:authorization:RoleAssignment m-key-role",
            "azure-native:keyvault:Key m-kms-key",
            "azure-native:keyvault:Vault m-key-vault",
            "azure-native:managedidentity:UserAssignedIdentity m-identity",
        ]);
    });

    it("vault: RBAC, purge protection, 90-day soft delete, deny firewall admitting only the listed addresses", () => {
        const v = run.byName("m-key-vault").inputs;
        assert.equal(v.vaultName, "bonito-vault-staging-kv");
        assert.deepEqual(v.properties, {
            tenantId: TENANT,
            sku: { family: "A", name: "standard" },
            enableRbacAuthorization: true,
            enableSoftDelete: true,
            softDeleteRetentionInDays: 90,
            enablePurgeProtection: true,
            enabledForDeployment: false,
            enabledForDiskEncryption: false,
            enabledForTemplateDeployment: false,
            publicNetworkAccess: "Enabled",
            networkAcls: {
                defaultAction: "Deny",
                bypass: "AzureServices",
                ipRules: [{ value: "203.0.113.7" }, { value: "198.51.100.0/24" }],
                virtualNetworkRules: [],
            },
        });
        assert.equal(recorder.opts.get("m-key-vault")!.protect, true);
    });

    it("key: RSA 4096 for wrap/unwrap only, rotated every 90 days, protected and retained", () => {
        const k = run.byName("m-kms-key").inputs;
        assert.equal(k.keyName, "vault-unseal");
        assert.deepEqual(k.properties, {
            kty: "RSA",
            keySize: 4096,
            keyOps: ["wrapKey", "unwrapKey"],
            // exportable: false is the SDK default, applied by azure-native itself.
            attributes: { enabled: true, exportable: false },
            rotationPolicy: { lifetimeActions: [{ action: { type: "rotate" }, trigger: { timeAfterCreate: "P90D" } }] },
        });
        const opts = recorder.opts.get("m-kms-key")!;
        assert.equal(opts.protect, true);
        assert.equal(opts.retainOnDelete, true);
    });

    it("role assignment: Crypto Service Encryption User, scoped to the key (not the vault), for the identity", () => {
        const { description, ...ra } = run.byName("m-key-role").inputs;
        assert.ok(description);
        assert.deepEqual(ra, {
            scope: "m-kms-key-id",
            roleDefinitionId: ROLE,
            // The identity's principalId is computed by Azure (unknown under the mock).
            principalId: ra.principalId,
            principalType: "ServicePrincipal",
        });
        assert.equal(
            run.ofType("azure-native:authorization:RoleAssignment").filter((r) => r.name.startsWith("m-")).length,
            1,
        );
    });

    it("delivery: azurekeyvault stanza without client_secret, env secret", async () => {
        assert.deepEqual(await valueOf(u.delivery.stanza), {
            type: "azurekeyvault",
            config: { tenant_id: TENANT, vault_name: "bonito-vault-staging-kv", key_name: "vault-unseal" },
        });
        assert.equal(await pulumi.isSecret(u.delivery.env), true);
        assert.equal(await valueOf(u.keyId), "m-kms-key-id");
        assert.equal(await valueOf(u.identity), "m-identity-id");
    });
});

describe("azure, existing service principal, adopted key", () => {
    it("no identity is created; the client secret reaches the containers only as secret env", async () => {
        const u = await build(
            "s",
            {
                azureIdentity: "servicePrincipal",
                azureClientId: "11111111-1111-1111-1111-111111111111",
                azurePrincipalId: "22222222-2222-2222-2222-222222222222",
                azureClientSecret: "sp-secret-value",
            },
            ["bonito-vault:azureClientSecret"],
        );
        assert.deepEqual(children("s").sort(), [
            "azure-native:authorization:RoleAssignment s-key-role",
            "azure-native:keyvault:Key s-kms-key",
            "azure-native:keyvault:Vault s-key-vault",
        ]);
        assert.equal(run.byName("s-key-role").inputs.principalId, "22222222-2222-2222-2222-222222222222");
        assert.equal(await pulumi.isSecret(u.delivery.env), true);
        assert.deepEqual(await valueOf(u.delivery.env), [
            `AZURE_TENANT_ID=${TENANT}`,
            "AZURE_CLIENT_ID=11111111-1111-1111-1111-111111111111",
            "AZURE_CLIENT_SECRET=sp-secret-value",
        ]);
        assert.ok(!JSON.stringify(await valueOf(u.delivery.stanza)).includes("sp-secret-value"));
        assert.ok(!JSON.stringify(await valueOf(u.identity)).includes("sp-secret-value"));
    });

    it("adopted key: only the role assignment, scoped to the adopted key's id", async () => {
        const keyId = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/corp-kv/keys/seal`;
        const u = await build("a", { azureKeyId: keyId });
        assert.deepEqual(children("a").sort(), [
            "azure-native:authorization:RoleAssignment a-key-role",
            "azure-native:managedidentity:UserAssignedIdentity a-identity",
        ]);
        assert.equal(run.byName("a-key-role").inputs.scope, keyId);
        assert.deepEqual((await valueOf(u.delivery.stanza)).config, {
            tenant_id: TENANT,
            vault_name: "corp-kv",
            key_name: "seal",
        });
    });
});

describe("azure, whole staging program", () => {
    it("renders the azurekeyvault stanza into every node's config, and loads no aws or gcp module", async () => {
        const configs = await programServerConfigs();
        assert.equal(configs.length, 3);
        for (const c of configs) {
            assert.deepEqual(JSON.parse(c).seal, {
                azurekeyvault: { tenant_id: TENANT, vault_name: "bonito-vault-staging-kv", key_name: "vault-unseal" },
            });
            assert.ok(!c.includes("client_secret"));
        }
        const loaded = Object.keys(require.cache);
        assert.deepEqual(
            loaded.filter((k) => /@pulumi[\\/](aws|gcp)[\\/]/.test(k)),
            [],
        );
    });
});
