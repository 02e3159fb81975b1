/**
 * The unseal area's config keys (components/config/unseal.ts) through the real `loadConfig`.
 * Proves: per-cloud defaults, required-when-cloud=X errors and range rules, with exact messages.
 * Does not prove: that a cloud accepts the values (names, regions) — only their shape.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../components/config";
import { azureVaultName, gcpAccountId, gcpRoleId } from "../../components/config/unseal";

const IMAGE = "hashicorp/vault:1.21.1";
const base = (cloud: string, extra: Record<string, string> = {}) => ({
    "bonito-vault:cloud": cloud,
    "bonito-vault:image": IMAGE,
    // Not about the entry point: staging would otherwise need a load balancer's keys.
    "bonito-vault:entryPoint": "none",
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`bonito-vault:${k}`, v])),
});

/** The problems loadConfig reports, or [] when it accepts the config. */
function problems(stack: string, raw: Record<string, string>, secretKeys: string[] = []): string[] {
    try {
        loadConfig(stack, raw, new Set(secretKeys));
        return [];
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
}

describe("unseal config: defaults", () => {
    it("aws: role identity, 30-day deletion window, 90-day rotation, us-east-1", () => {
        const c = loadConfig("staging", base("aws"));
        assert.deepEqual(c.unseal, {
            cloud: "aws",
            region: "us-east-1",
            identity: "role",
            keyArn: undefined,
            deletionWindowDays: 30,
            rotationDays: 90,
            baseName: "bonito-vault-staging",
        });
    });

    it("aws: an adopted key's region becomes the seal region", () => {
        const arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        const c = loadConfig("staging", base("aws", { awsKeyArn: arn }));
        assert.equal(c.unseal.cloud === "aws" && c.unseal.region, "eu-west-1");
    });

    it("azure: managed identity, deny-by-default firewall, standard SKU off prod, premium on prod", () => {
        const extra = {
            azureLocation: "westeurope",
            azureResourceGroup: "rg-vault",
            azureAllowedIps: '["203.0.113.7"]',
        };
        const c = loadConfig("staging", base("azure", extra));
        assert.deepEqual(c.unseal, {
            cloud: "azure",
            location: "westeurope",
            resourceGroup: "rg-vault",
            tenantId: undefined,
            vaultName: "bonito-vault-staging-kv",
            keyName: "vault-unseal",
            keyId: undefined,
            sku: "standard",
            identity: "managedIdentity",
            servicePrincipal: undefined,
            network: { defaultAction: "Deny", ipRules: ["203.0.113.7"], subnetIds: [] },
            rotationDays: 90,
            baseName: "bonito-vault-staging",
        });
    });

    it("azure: an adopted key id names the vault and key", () => {
        const keyId =
            "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/corp-kv/keys/vault-seal";
        const c = loadConfig(
            "staging",
            base("azure", { azureLocation: "westeurope", azureResourceGroup: "rg", azureKeyId: keyId }),
        );
        assert.ok(c.unseal.cloud === "azure");
        assert.deepEqual([c.unseal.vaultName, c.unseal.keyName, c.unseal.keyId], ["corp-kv", "vault-seal", keyId]);
    });

    it("gcp: global location, SOFTWARE off prod, attached identity, derived names", () => {
        // backupGcpLocation: the backup area needs a bucket location when the key ring is global.
        const c = loadConfig("staging", base("gcp", { gcpProject: "acme-vault", backupGcpLocation: "EU" }));
        assert.deepEqual(c.unseal, {
            cloud: "gcp",
            project: "acme-vault",
            location: "global",
            keyRing: "bonito-vault-staging",
            cryptoKey: "vault-unseal",
            adopt: false,
            protectionLevel: "SOFTWARE",
            identity: "attached",
            serviceAccountId: "bonito-vault-staging-unseal",
            roleId: "bonito_vault_staging_unseal",
            rotationDays: 90,
            baseName: "bonito-vault-staging",
        });
    });

    it("gcp: an adopted key id sets location, ring and key", () => {
        const c = loadConfig(
            "staging",
            base("gcp", {
                gcpProject: "acme-vault",
                gcpKeyId: "projects/acme-vault/locations/europe-west1/keyRings/r1/cryptoKeys/k1",
            }),
        );
        assert.ok(c.unseal.cloud === "gcp");
        assert.deepEqual(
            [c.unseal.adopt, c.unseal.location, c.unseal.keyRing, c.unseal.cryptoKey],
            [true, "europe-west1", "r1", "k1"],
        );
    });

    it("local: port 8210, 720h token period, fixed key name", () => {
        const c = loadConfig("local", base("local"));
        assert.deepEqual(c.unseal, {
            cloud: "local",
            port: 8210,
            tokenPeriod: "720h",
            keyName: "bonito-vault-unseal",
            rotationDays: 90,
            baseName: "bonito-vault-local",
        });
    });

    it("derived names respect each cloud's limits", () => {
        assert.equal(gcpAccountId("bonito-vault", "staging"), "bonito-vault-staging-unseal");
        const long = gcpAccountId("a-very-long-cluster-name-indeed", "production");
        assert.ok(long.length <= 30 && /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(long), long);
        assert.equal(azureVaultName("bonito-vault", "staging"), "bonito-vault-staging-kv");
        assert.ok(azureVaultName("a-very-long-cluster-name-indeed", "production").length <= 24);
        assert.equal(gcpRoleId("bonito-vault", "prod"), "bonito_vault_prod_unseal");
    });
});

describe("unseal config: invalid combinations", () => {
    const P = "bonito-vault:";
    it("gcp without a project", () => {
        assert.deepEqual(problems("staging", base("gcp", { gcpLocation: "europe-west1" })), [
            `${P}gcpProject is required when cloud is gcp`,
        ]);
    });

    it("a rotation period above 90 days", () => {
        assert.deepEqual(
            problems(
                "staging",
                base("gcp", { gcpProject: "acme-vault", gcpLocation: "europe-west1", keyRotationDays: "120" }),
            ),
            [`${P}keyRotationDays must be at most 90 days: the unseal key rotates at least quarterly (got "120")`],
        );
    });

    it("a deletion window below 7 days", () => {
        assert.deepEqual(problems("staging", base("aws", { awsKeyDeletionWindowDays: "5" })), [
            `${P}awsKeyDeletionWindowDays must be at least 7 days (the AWS KMS minimum) (got "5")`,
        ]);
    });

    it("a deletion window below 30 days on prod", () => {
        const p = problems("prod", base("aws", { awsKeyDeletionWindowDays: "10" }));
        assert.ok(
            p.includes(
                `${P}awsKeyDeletionWindowDays must be 30 days on a production stack, so a mistaken deletion can be cancelled (got "10")`,
            ),
            p.join("\n"),
        );
    });

    it("an aws rotation period below the KMS minimum of 90", () => {
        assert.deepEqual(problems("staging", base("aws", { keyRotationDays: "30" })), [
            `${P}keyRotationDays must be 90 when cloud is aws (the shortest AWS KMS rotation period) (got "30")`,
        ]);
    });

    it("an adopted aws key in another region than awsRegion", () => {
        const arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert.deepEqual(problems("staging", base("aws", { awsKeyArn: arn, awsRegion: "us-west-2" })), [
            `${P}awsKeyArn names a key in eu-west-1, but awsRegion is us-west-2 (got "${arn}")`,
        ]);
    });

    it("azure without location and resource group, and a deny firewall with nothing admitted", () => {
        assert.deepEqual(problems("staging", base("azure")), [
            `${P}azureLocation is required when cloud is azure`,
            `${P}azureResourceGroup is required when cloud is azure`,
            `${P}azureAllowedIps is required when azureNetworkDefault is deny: list the Vault hosts' public addresses (or set azureSubnetIds), or Vault cannot reach the key`,
        ]);
    });

    it("azure service principal without its three keys; the secret must be a secret", () => {
        const extra = { azureLocation: "westeurope", azureResourceGroup: "rg", azureAllowedIps: '["203.0.113.7"]' };
        assert.deepEqual(problems("staging", base("azure", { ...extra, azureIdentity: "servicePrincipal" })), [
            `${P}azureClientId is required when azureIdentity is servicePrincipal`,
            `${P}azurePrincipalId is required when azureIdentity is servicePrincipal`,
            `${P}azureClientSecret is required when azureIdentity is servicePrincipal`,
        ]);
        assert.deepEqual(problems("staging", base("azure", { ...extra, azureClientSecret: "s3cr3t" })), [
            `${P}azureClientSecret holds a secret but is stored in plain text; set it with \`pulumi config set --secret azureClientSecret\``,
            `${P}azureClientSecret is only used when azureIdentity is servicePrincipal (azureIdentity is managedIdentity)`,
        ]);
    });

    it("azure: allow on prod, and a rotation below 7 days", () => {
        const extra = {
            azureLocation: "westeurope",
            azureResourceGroup: "rg",
            azureNetworkDefault: "allow",
            keyRotationDays: "3",
        };
        const p = problems("prod", base("azure", extra));
        assert.ok(
            p.includes(
                `${P}keyRotationDays must be at least 7 when cloud is azure (the shortest Key Vault rotation policy) (got "3")`,
            ),
            p.join("\n"),
        );
        assert.ok(
            p.includes(
                `${P}azureNetworkDefault must be deny on the prod stack: admit the Vault hosts with azureAllowedIps or azureSubnetIds (got "allow")`,
            ),
            p.join("\n"),
        );
    });

    it("gcp: an adopted key outside gcpProject", () => {
        const keyId = "projects/other-proj/locations/europe-west1/keyRings/r/cryptoKeys/k";
        assert.deepEqual(
            problems(
                "staging",
                base("gcp", { gcpProject: "acme-vault", gcpLocation: "europe-west1", gcpKeyId: keyId }),
            ),
            [
                `${P}gcpKeyId must name a key in gcpProject (acme-vault): the custom role it is bound with lives there (got "${keyId}")`,
            ],
        );
    });

    it("local on prod, and local with a remote Docker host", () => {
        const p = problems("prod", base("local"));
        assert.ok(
            p.includes(
                `${P}cloud must not be local on the prod stack: a transit unsealer beside the cluster is not production auto-unseal (got "local")`,
            ),
            p.join("\n"),
        );
        assert.deepEqual(problems("staging", base("local", { dockerHosts: '["ssh://deploy@host"]' })), [
            `${P}dockerHosts must name only the local Docker daemon (unix:// or npipe://) when cloud is local: the transit unsealer is reached on 127.0.0.1 and over one Docker network (got [ssh://deploy@host])`,
        ]);
    });

    it("a malformed value is reported once and never reaches build; the other areas still report", () => {
        assert.deepEqual(problems("staging", base("gcp", { gcpProject: "Bad_Project" })), [
            `${P}gcpProject must be a GCP project id (got "Bad_Project")`,
            `${P}backupGcpLocation is required when cloud is gcp and gcpLocation is global: a bucket needs a location such as US, EU or europe-west1`,
        ]);
    });
});
