/**
 * UnsealKey on gcp under Pulumi's mock runtime, and the whole staging program with cloud=gcp.
 * Proves: key ring + ENCRYPT_DECRYPT key with the exact rotation period and protection level,
 * PREVENT + protect + retainOnDelete on the key, a custom role with exactly the seal's three
 * permissions bound on the KEY (no project-level binding exists), the key file delivered as a
 * secret file with GOOGLE_APPLICATION_CREDENTIALS, and the stanza in every node's config.
 * Does not prove: that GCP accepts the custom role or that Vault unseals with the account.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { optionRecorder, setupMocks, stackConfig, valueOf, type MockRun } from "../helpers/mocks";
import { buildUnsealKey, childrenOf, programServerConfigs } from "../helpers/unseal";

const GCP = { gcpProject: "acme-vault", gcpLocation: "europe-west1" };
// A passthrough LB on gcp needs one host per node; staging shares one, so no entry point here.
const run: MockRun = setupMocks("staging", stackConfig("staging", { cloud: "gcp", ...GCP, entryPoint: "none" }));
const recorder = optionRecorder();

async function build(name: string, extra: Record<string, string>) {
    return buildUnsealKey(name, { cloud: "gcp", image: "hashicorp/vault:1.21.1", ...GCP, ...extra }, recorder);
}
const children = (prefix: string) => childrenOf(run, prefix);

describe("gcp, service-account key (nodes outside GCP)", () => {
    it("creates exactly: ring, key, account, custom role, key-level binding, account key", async () => {
        const u = await build("k", { gcpIdentity: "key", keyRotationDays: "30", gcpProtectionLevel: "HSM" });
        assert.deepEqual(children("k").sort(), [
            "gcp:kms/cryptoKey:CryptoKey k-kms-key",
            "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember k-key-binding",
            "gcp:kms/keyRing:KeyRing k-key-ring",
            "gcp:projects/iAMCustomRole:IAMCustomRole k-role",
            "gcp:serviceaccount/account:Account k-identity",
            "gcp:serviceaccount/key:Key k-identity-key",
        ]);
        assert.equal(
            run.resources.filter((r) => /projectIamMember|projectIamBinding|IAMMember:IAMMember/i.test(r.type)).length,
            0,
        );

        assert.deepEqual(run.byName("k-key-ring").inputs, {
            name: "bonito-vault-staging",
            location: "europe-west1",
            project: "acme-vault",
        });
        const { labels, ...key } = run.byName("k-kms-key").inputs;
        assert.ok(labels);
        assert.deepEqual(key, {
            name: "vault-unseal",
            keyRing: "k-key-ring-id",
            purpose: "ENCRYPT_DECRYPT",
            rotationPeriod: "2592000s",
            versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: "HSM" },
            destroyScheduledDuration: "2592000s",
            deletionPolicy: "PREVENT",
        });
        for (const n of ["k-kms-key", "k-key-ring"]) {
            assert.equal(recorder.opts.get(n)!.protect, true, n);
            assert.equal(recorder.opts.get(n)!.retainOnDelete, true, n);
        }

        const { description, ...role } = run.byName("k-role").inputs;
        assert.ok(description);
        assert.deepEqual(role, {
            project: "acme-vault",
            roleId: "bonito_vault_staging_unseal",
            title: "Vault auto-unseal",
            permissions: [
                "cloudkms.cryptoKeyVersions.useToDecrypt",
                "cloudkms.cryptoKeyVersions.useToEncrypt",
                "cloudkms.cryptoKeys.get",
            ],
            stage: "GA",
        });
        assert.deepEqual(run.byName("k-key-binding").inputs, {
            cryptoKeyId: "k-kms-key-id",
            role: "projects/acme-vault/roles/bonito_vault_staging_unseal",
            member: "serviceAccount:bonito-vault-staging-unseal@mock-project.iam.gserviceaccount.com",
        });

        assert.deepEqual(await valueOf(u.delivery.stanza), {
            type: "gcpckms",
            config: {
                project: "acme-vault",
                region: "europe-west1",
                key_ring: "bonito-vault-staging",
                crypto_key: "vault-unseal",
            },
        });
        assert.equal(u.delivery.files.length, 1);
        assert.equal(u.delivery.files[0].path, "/vault/config/gcp-credentials.json");
        assert.equal(await pulumi.isSecret(u.delivery.files[0].content), true);
        assert.equal(await valueOf(u.delivery.files[0].content), '{"mock":"k-identity-key"}');
        assert.equal(await pulumi.isSecret(u.delivery.env), true);
        assert.deepEqual(await valueOf(u.delivery.env), [
            "GOOGLE_APPLICATION_CREDENTIALS=/vault/config/gcp-credentials.json",
        ]);
        assert.equal(await valueOf(u.identity), "bonito-vault-staging-unseal@mock-project.iam.gserviceaccount.com");
    });

    it("attached identity (default): no key file, no env; adopted key: no ring or key created", async () => {
        const u = await build("a", {
            gcpKeyId: "projects/acme-vault/locations/europe-west1/keyRings/r1/cryptoKeys/k1",
        });
        assert.deepEqual(children("a").sort(), [
            "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember a-key-binding",
            "gcp:projects/iAMCustomRole:IAMCustomRole a-role",
            "gcp:serviceaccount/account:Account a-identity",
        ]);
        assert.equal(
            run.byName("a-key-binding").inputs.cryptoKeyId,
            "projects/acme-vault/locations/europe-west1/keyRings/r1/cryptoKeys/k1",
        );
        assert.deepEqual(u.delivery.files, []);
        assert.deepEqual(await valueOf(u.delivery.env), []);
    });
});

describe("gcp, whole staging program", () => {
    it("renders the gcpckms stanza into every node's config (no credentials), and loads no aws or azure module", async () => {
        const configs = await programServerConfigs();
        assert.equal(configs.length, 3);
        for (const c of configs) {
            assert.deepEqual(JSON.parse(c).seal, {
                gcpckms: {
                    project: "acme-vault",
                    region: "europe-west1",
                    key_ring: "bonito-vault-staging",
                    crypto_key: "vault-unseal",
                },
            });
            assert.ok(!c.includes("credentials"));
        }
        const loaded = Object.keys(require.cache);
        assert.deepEqual(
            loaded.filter((k) => /@pulumi[\\/](aws|azure-native)[\\/]/.test(k)),
            [],
        );
    });
});
