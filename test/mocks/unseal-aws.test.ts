/**
 * UnsealKey on aws under Pulumi's mock runtime, and the whole staging program with cloud=aws.
 * Proves: exactly which resources exist (role vs user vs adopted key), the exact key settings
 * (rotation, deletion window, spec, region), the whole key policy and identity policy, protect +
 * retainOnDelete on the key, a stanza without credentials rendered into every node's config, env
 * delivered as a secret, and that neither azure-native nor gcp code is loaded.
 * Does not prove: that AWS accepts the policies (KMS validates principals at creation) or that
 * Vault unseals with them — that needs a real account.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { SEAL_CREDENTIAL_FIELDS } from "../../components/seal";
import { awsKeyPolicy } from "../../components/unseal/iam";
import { isSecretInput, optionRecorder, setupMocks, stackConfig, valueOf, type MockRun } from "../helpers/mocks";
import { buildUnsealKey, childrenOf, programServerConfigs } from "../helpers/unseal";

const run: MockRun = setupMocks("staging", stackConfig("staging", { cloud: "aws", awsRegion: "eu-west-1" }));
const recorder = optionRecorder();
const KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"];

async function build(name: string, extra: Record<string, string>) {
    return buildUnsealKey(
        name,
        { cloud: "aws", image: "hashicorp/vault:1.21.1", awsRegion: "eu-west-1", ...extra },
        recorder,
    );
}
const children = (prefix: string) => childrenOf(run, prefix);
const json = (v: unknown) => JSON.parse(String(v));

describe("aws, role identity (default)", () => {
    let u: Awaited<ReturnType<typeof build>>;
    before(async () => {
        u = await build("r", {});
    });

    it("creates exactly: role, instance profile, key, alias, inline role policy", () => {
        assert.deepEqual(children("r").sort(), [
            "aws:iam/instanceProfile:InstanceProfile r-instance-profile",
            "aws:iam/role:Role r-identity",
            "aws:iam/rolePolicy:RolePolicy r-identity-policy",
            "aws:kms/alias:Alias r-kms-alias",
            "aws:kms/key:Key r-kms-key",
        ]);
    });

    it("key: symmetric, rotated every 90 days, 30-day deletion window, in awsRegion, protected and retained", () => {
        const { policy, description, tags, ...inputs } = run.byName("r-kms-key").inputs;
        assert.ok(policy && description && tags);
        assert.deepEqual(inputs, {
            keyUsage: "ENCRYPT_DECRYPT",
            customerMasterKeySpec: "SYMMETRIC_DEFAULT",
            enableKeyRotation: true,
            rotationPeriodInDays: 90,
            deletionWindowInDays: 30,
            multiRegion: false,
            bypassPolicyLockoutSafetyCheck: false,
            region: "eu-west-1",
        });
        const opts = recorder.opts.get("r-kms-key")!;
        assert.equal(opts.protect, true);
        assert.equal(opts.retainOnDelete, true);
    });

    it("key policy, whole: the account administers without Encrypt/Decrypt, only the role uses", () => {
        // The renderer's output is pinned exactly in test/unit/unseal-policies.test.ts; here: the key
        // receives exactly that document, naming this account and this stack's role.
        assert.deepEqual(
            json(run.byName("r-kms-key").inputs.policy),
            awsKeyPolicy({
                partition: "aws",
                accountId: "123456789012",
                identityArn: "arn:aws:iam::123456789012:r-identity",
            }),
        );
    });

    it("role: assumable by EC2 only; its policy is exactly the three actions on the key's ARN", () => {
        assert.deepEqual(json(run.byName("r-identity").inputs.assumeRolePolicy), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "Ec2HostsAssumeRole",
                    Effect: "Allow",
                    Principal: { Service: "ec2.amazonaws.com" },
                    Action: "sts:AssumeRole",
                },
            ],
        });
        assert.deepEqual(json(run.byName("r-identity-policy").inputs.policy), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "VaultAutoUnseal",
                    Effect: "Allow",
                    Action: KMS_ACTIONS,
                    Resource: "arn:aws:kms:us-east-1:123456789012:key/r-kms-key",
                },
            ],
        });
        assert.equal(run.byName("r-instance-profile").inputs.name, "bonito-vault-staging-unseal");
    });

    it("delivery: awskms stanza (no credential), empty secret env, plain key id and identity", async () => {
        const stanza = await valueOf(u.delivery.stanza);
        assert.deepEqual(stanza, { type: "awskms", config: { region: "eu-west-1", kms_key_id: "r-kms-key-key-id" } });
        for (const f of SEAL_CREDENTIAL_FIELDS.awskms) assert.ok(!(f in stanza.config));
        assert.deepEqual(await valueOf(u.delivery.env), []);
        assert.equal(await pulumi.isSecret(u.delivery.env), true);
        assert.equal(await valueOf(u.keyId), "arn:aws:kms:us-east-1:123456789012:key/r-kms-key");
        assert.equal(await valueOf(u.identity), "arn:aws:iam::123456789012:r-identity");
        assert.equal(await pulumi.isSecret(u.keyId), false);
        assert.deepEqual(u.delivery.files, []);
    });
});

describe("aws, user identity and adopted key", () => {
    it("user: access key reaches the containers only as secret env; policy on the key ARN", async () => {
        const u = await build("u", { awsIdentity: "user" });
        assert.deepEqual(children("u").sort(), [
            "aws:iam/accessKey:AccessKey u-access-key",
            "aws:iam/user:User u-identity",
            "aws:iam/userPolicy:UserPolicy u-identity-policy",
            "aws:kms/alias:Alias u-kms-alias",
            "aws:kms/key:Key u-kms-key",
        ]);
        assert.equal(await pulumi.isSecret(u.delivery.env), true);
        assert.deepEqual(await valueOf(u.delivery.env), [
            "AWS_ACCESS_KEY_ID=u-access-key-id",
            "AWS_SECRET_ACCESS_KEY=mock-secret-u-access-key",
        ]);
        assert.deepEqual(json(run.byName("u-identity-policy").inputs.policy).Statement[0].Action, KMS_ACTIONS);
    });

    it("adopted key: no key or alias is created; the identity policy names the adopted ARN", async () => {
        const arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        const u = await build("a", { awsKeyArn: arn });
        assert.deepEqual(children("a").sort(), [
            "aws:iam/instanceProfile:InstanceProfile a-instance-profile",
            "aws:iam/role:Role a-identity",
            "aws:iam/rolePolicy:RolePolicy a-identity-policy",
        ]);
        assert.equal(json(run.byName("a-identity-policy").inputs.policy).Statement[0].Resource, arn);
        assert.deepEqual((await valueOf(u.delivery.stanza)).config, { region: "eu-west-1", kms_key_id: arn });
    });
});

describe("aws, whole staging program", () => {
    it("renders the awskms stanza into every node's config; no credential in configs, commands or plain env", async () => {
        const configs = await programServerConfigs();
        assert.equal(configs.length, 3);
        for (const c of configs) {
            assert.deepEqual(JSON.parse(c).seal, {
                awskms: { region: "eu-west-1", kms_key_id: "bonito-vault-unseal-kms-key-key-id" },
            });
            assert.ok(!/access_key|secret_key|AWS_SECRET/.test(c));
        }
        for (const r of run.ofType("docker:index/container:Container")) {
            assert.ok(!JSON.stringify([r.inputs.command ?? [], r.inputs.entrypoints ?? []]).includes("AWS_"));
            // Any environment that exists reaches the engine as a secret or carries no credential.
            if (r.rawInputs.envs !== undefined && !isSecretInput(r.rawInputs.envs))
                assert.doesNotMatch(
                    JSON.stringify(r.inputs.envs),
                    /AWS_|SECRET|TOKEN/,
                    `${r.name} has plain credentials`,
                );
        }
        const servers = run
            .ofType("docker:index/container:Container")
            .filter((r) => JSON.stringify(r.inputs.labels ?? []).includes('"vault-server"'));
        assert.equal(servers.length, 3);
        for (const r of servers) assert.ok(isSecretInput(r.rawInputs.envs), `${r.name} envs must be a secret`);
    });

    it("loads no azure-native or gcp module", () => {
        const loaded = Object.keys(require.cache);
        assert.deepEqual(
            loaded.filter((k) => /@pulumi[\\/](azure-native|gcp)[\\/]/.test(k)),
            [],
        );
    });
});
