/**
 * BackupBucket on aws under Pulumi mocks, plus the snapshot agent wired to it.
 * Proves: the exact security inputs of the S3 bucket (Object Lock, versioning, SSE-KMS with a
 * rotating key, public access blocks, ownership, TLS-only policy, lifecycle), protection of bucket
 * and key, the writer's exact policy with no delete action, and that credentials reach the agent
 * only as secret 0400 files. Does not prove: that AWS accepts these inputs or that the agent
 * uploads (a real account and a real run do).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { setupMocks, settle, valueOf, type MockRun } from "../helpers/mocks";
import { loadConfig } from "../../components/config";
import { awsWriterPolicy, destructiveActions, type IamPolicy } from "../../components/backup/policies";

const raw = {
    "bonito-vault:cloud": "aws",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    "bonito-vault:awsRegion": "eu-west-1",
};

let run: MockRun;
let inputs: (type: string) => Record<string, unknown>;
let agentUploads: { file: string; content: unknown; permissions?: string }[];
let agentEnvs: string[];
let secretFlags: boolean[];

before(async () => {
    run = setupMocks("staging", raw);
    const docker = await import("@pulumi/docker");
    const { BackupBucket } = await import("../../components/backup/backupBucket");
    const { SnapshotAgent } = await import("../../components/backup/snapshotAgent");
    const config = loadConfig("staging", raw);
    const network = new docker.Network("net", { name: "bonito-vault" });
    const target = { provider: undefined, network, host: "default" };
    const bucket = new BackupBucket("backup", { config, targets: [target] });
    const agent = new SnapshotAgent("snapshots", {
        config,
        target,
        delivery: bucket.delivery,
        roleId: "role-id-1",
        secretId: "secret-id-1",
        caCert: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
    });
    await settle(bucket, agent, agent.container);
    inputs = (type) => {
        const hits = run.ofType(type);
        assert.equal(hits.length, 1, `one ${type}`);
        return hits[0].inputs;
    };
    const uploads = (await valueOf(agent.container.uploads)) as unknown as {
        file: string;
        content: unknown;
        permissions?: string;
    }[];
    agentUploads = uploads ?? [];
    agentEnvs = ((await valueOf(agent.container.envs)) as string[]) ?? [];
    secretFlags = await Promise.all(bucket.delivery.files.map((f) => pulumi.isSecret(f.content)));
});

describe("aws backup bucket", () => {
    it("declares exactly these resources", () => {
        const types = run.resources
            .map((r) => r.type)
            .filter((t) => t.startsWith("aws:"))
            .sort();
        assert.deepStrictEqual(types, [
            "aws:iam/accessKey:AccessKey",
            "aws:iam/user:User",
            "aws:iam/userPolicy:UserPolicy",
            "aws:kms/key:Key",
            "aws:s3/bucket:Bucket",
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "aws:s3/bucketPolicy:BucketPolicy",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketVersioning:BucketVersioning",
        ]);
    });

    it("bucket: Object Lock on, never force-destroyed, in the seal's region", () => {
        assert.deepStrictEqual(inputs("aws:s3/bucket:Bucket"), {
            objectLockEnabled: true,
            forceDestroy: false,
            region: "eu-west-1",
        });
    });

    it("default retention GOVERNANCE for 7 days on staging", () => {
        assert.deepStrictEqual(inputs("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"), {
            bucket: "backup-bucket-id",
            region: "eu-west-1",
            objectLockEnabled: "Enabled",
            rule: { defaultRetention: { mode: "GOVERNANCE", days: 7 } },
        });
    });

    it("versioning enabled", () => {
        assert.deepStrictEqual(inputs("aws:s3/bucketVersioning:BucketVersioning"), {
            bucket: "backup-bucket-id",
            region: "eu-west-1",
            versioningConfiguration: { status: "Enabled" },
        });
    });

    it("SSE-KMS with its own rotating key", () => {
        assert.deepStrictEqual(
            inputs("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"),
            {
                bucket: "backup-bucket-id",
                region: "eu-west-1",
                rules: [
                    {
                        applyServerSideEncryptionByDefault: {
                            sseAlgorithm: "aws:kms",
                            kmsMasterKeyId: "arn:aws:kms:us-east-1:123456789012:key/backup-key",
                        },
                        bucketKeyEnabled: true,
                    },
                ],
            },
        );
        assert.deepStrictEqual(inputs("aws:kms/key:Key"), {
            description: "bonito-vault Raft snapshots (staging)",
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            region: "eu-west-1",
        });
    });

    it("all four public access blocks and owner-enforced ownership", () => {
        assert.deepStrictEqual(inputs("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"), {
            bucket: "backup-bucket-id",
            region: "eu-west-1",
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        assert.deepStrictEqual(inputs("aws:s3/bucketOwnershipControls:BucketOwnershipControls"), {
            bucket: "backup-bucket-id",
            region: "eu-west-1",
            rule: { objectOwnership: "BucketOwnerEnforced" },
        });
    });

    it("bucket policy denies every non-TLS request (whole document)", () => {
        const p = inputs("aws:s3/bucketPolicy:BucketPolicy");
        assert.deepStrictEqual(JSON.parse(p.policy as string), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:*",
                    Resource: ["arn:aws:s3::123456789012:backup-bucket", "arn:aws:s3::123456789012:backup-bucket/*"],
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
            ],
        });
    });

    it("lifecycle expires snapshots after the retention (the agent never deletes)", () => {
        assert.deepStrictEqual(inputs("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"), {
            bucket: "backup-bucket-id",
            region: "eu-west-1",
            rules: [
                {
                    id: "expire-snapshots",
                    status: "Enabled",
                    filter: {},
                    expiration: { days: 7 },
                    noncurrentVersionExpiration: { noncurrentDays: 7 },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                },
            ],
        });
    });

    it("the writer may put, list and encrypt only: no delete action anywhere", () => {
        const policy = JSON.parse(inputs("aws:iam/userPolicy:UserPolicy").policy as string) as IamPolicy;
        assert.deepStrictEqual(
            policy,
            awsWriterPolicy(
                "arn:aws:s3::123456789012:backup-bucket",
                "arn:aws:kms:us-east-1:123456789012:key/backup-key",
            ),
        );
        assert.deepStrictEqual(destructiveActions(policy), []);
        assert.ok(!/delete/i.test(JSON.stringify(policy)));
    });

    it("the writer's credentials reach the agent as secret 0400 files, not env or config", () => {
        assert.deepStrictEqual(secretFlags, [true, true]);
        const files = agentUploads.map((u) => [u.file, u.permissions]);
        assert.deepStrictEqual(files, [
            ["/etc/vault.d/snapshots.json", "0444"],
            ["/etc/vault.d/secrets/approle-role-id", "0400"],
            ["/etc/vault.d/secrets/approle-secret-id", "0400"],
            ["/etc/vault.d/secrets/aws-access-key-id", "0400"],
            ["/etc/vault.d/secrets/aws-secret-access-key", "0400"],
            ["/etc/vault.d/vault-ca.pem", "0444"],
            ["/tmp/certs/vault-ca.crt", "0444"],
        ]);
        assert.deepStrictEqual(agentEnvs, [
            "VRSA_CONFIG_FILE=/etc/vault.d/snapshots.json",
            "VAULT_CACERT=/etc/vault.d/vault-ca.pem",
        ]);
        const rendered = agentUploads[0].content as string;
        for (const secret of ["secret-id-1", "mock-secret-backup-writer-key"]) assert.ok(!rendered.includes(secret));
        assert.equal(JSON.parse(rendered).snapshots.storages.aws.bucket, "backup-bucket");
    });

    it("agent container: restart policy, memory cap, no-new-privileges, all capabilities dropped, no command", () => {
        const c = inputs("docker:index/container:Container");
        assert.equal(c.name, "bonito-vault-staging-snapshot-agent");
        assert.equal(c.restart, "unless-stopped");
        assert.equal(c.memory, 256);
        assert.equal(c.memorySwap, 256);
        assert.deepStrictEqual(c.securityOpts, ["no-new-privileges:true"]);
        assert.deepStrictEqual(c.capabilities, { drops: ["ALL"] });
        assert.equal(c.command, undefined);
        assert.deepStrictEqual(c.networksAdvanced, [{ name: "bonito-vault" }]);
        assert.equal(
            inputs("docker:index/remoteImage:RemoteImage").name,
            "ghcr.io/argelbargel/vault-raft-snapshot-agent:v0.12.0",
        );
    });
});
