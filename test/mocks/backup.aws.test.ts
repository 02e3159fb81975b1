/**
 * BackupBucket on aws under Pulumi mocks, plus the snapshot agent and its uploader wired to it.
 * Proves: the exact security inputs of the S3 bucket (Object Lock, versioning, SSE-KMS with a
 * rotating key, public access blocks, ownership, TLS-only policy, lifecycle), protection of bucket
 * and key, the writer's exact policy with no delete action, that the agent spools to a volume the
 * uploader moves from, that the bucket credentials reach the uploader only (as secret 0400 files
 * its script reads), and both containers' hardening. Does not prove: that AWS accepts these inputs
 * (a real account does); test/s3 proves the uploader's rclone config against a real S3 server.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { setupMocks, settle, valueOf, type MockRun } from "../helpers/mocks";
import { textUploads, type TextUpload } from "../helpers/uploads";
import { loadConfig } from "../../components/config";
import { planPlatform } from "../../components/plan";
import { awsWriterPolicy, destructiveActions } from "../../components/backup/iam";
import { type IamPolicy } from "../../components/iam";
import { renderRcloneConfig, renderUploaderScript } from "../../components/backup/uploaderConfig";

const raw = {
    "bonito-vault:cloud": "aws",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    // The bucket alone: no entry point (staging would otherwise need a load balancer's keys).
    "bonito-vault:entryPoint": "none",
    "bonito-vault:awsRegion": "eu-west-1",
};

let run: MockRun;
let inputs: (type: string) => Record<string, unknown>;
let agentUploads: TextUpload[];
let agentEnvs: string[];
let agentVolumes: unknown;
let uploaderUploads: TextUpload[];
let uploaderEntrypoint: string[];
let uploaderVolumes: unknown;
let uploaderConfig: string;
let secretFlags: boolean[];

before(async () => {
    run = setupMocks("staging", raw);
    const docker = await import("@pulumi/docker");
    const { BackupBucket } = await import("../../components/backup/backupBucket");
    const { SnapshotAgent } = await import("../../components/backup/snapshotAgent");
    const config = loadConfig("staging", raw);
    const network = new docker.Network("net", { name: "bonito-vault" });
    const target = { provider: undefined, network, host: "default" };
    const bucket = new BackupBucket("backup", { ...planPlatform(config).backup, target });
    const agent = new SnapshotAgent("snapshots", {
        ...planPlatform(config).snapshots,
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
    agentUploads = await textUploads(agent.container.uploads);
    agentEnvs = ((await valueOf(agent.container.envs)) as string[]) ?? [];
    agentVolumes = await valueOf(agent.container.volumes);
    const uploader = agent.uploader!;
    await settle(uploader);
    uploaderUploads = await textUploads(uploader.uploads);
    uploaderEntrypoint = (await valueOf(uploader.entrypoints)) as string[];
    uploaderVolumes = await valueOf(uploader.volumes);
    uploaderConfig = await valueOf(agent.uploaderConfig!);
    secretFlags = await Promise.all(bucket.delivery.upload!.files.map((f) => pulumi.isSecret(f.content)));
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

    it("the agent holds no bucket credential: it spools to a volume, configuration by file", () => {
        const files = agentUploads.map((u) => [u.file, u.permissions]);
        assert.deepStrictEqual(files, [
            ["/etc/vault.d/snapshots.json", "0444"],
            ["/etc/vault.d/secrets/approle-role-id", "0400"],
            ["/etc/vault.d/secrets/approle-secret-id", "0400"],
            ["/etc/vault.d/vault-ca.pem", "0444"],
            ["/tmp/certs/vault-ca.crt", "0444"],
        ]);
        assert.deepStrictEqual(agentEnvs, [
            "VRSA_CONFIG_FILE=/etc/vault.d/snapshots.json",
            "VAULT_CACERT=/etc/vault.d/vault-ca.pem",
        ]);
        const rendered = JSON.parse(agentUploads[0].content);
        assert.deepStrictEqual(rendered.snapshots.storages, { local: { path: "/snapshots" } });
        assert.equal(rendered.snapshots.retain, 0, "only the uploader removes a spooled snapshot");
        assert.deepStrictEqual(agentVolumes, [
            { volumeName: "bonito-vault-staging-snapshot-spool", containerPath: "/snapshots" },
        ]);
        assert.deepStrictEqual(
            run.ofType("docker:index/volume:Volume").map((v) => v.inputs),
            [
                {
                    name: "bonito-vault-staging-snapshot-spool",
                    driver: "local",
                    labels: [
                        { label: "bonito.role", value: "snapshot-spool" },
                        { label: "bonito.stack", value: "staging" },
                    ],
                },
                {
                    // The uploader's confirmation log (VaultBackupStale's signal), apart from the spool.
                    name: "bonito-vault-staging-snapshot-upload-log",
                    driver: "local",
                    labels: [
                        { label: "bonito.role", value: "snapshot-upload-log" },
                        { label: "bonito.stack", value: "staging" },
                    ],
                },
            ],
        );
    });

    it("the writer's credentials reach the uploader only, as secret 0400 files its script reads", () => {
        assert.deepStrictEqual(secretFlags, [true, true]);
        assert.deepStrictEqual(
            uploaderUploads.map((u) => [u.file, u.permissions]),
            [
                ["/etc/rclone/rclone.conf", "0444"],
                ["/etc/rclone/secrets/aws-access-key-id", "0400"],
                ["/etc/rclone/secrets/aws-secret-access-key", "0400"],
            ],
        );
        assert.equal(uploaderUploads[0].content, uploaderConfig);
        assert.deepStrictEqual(uploaderVolumes, [
            { volumeName: "bonito-vault-staging-snapshot-spool", containerPath: "/snapshots" },
            { volumeName: "bonito-vault-staging-snapshot-upload-log", containerPath: "/var/log/snapshot-uploader" },
        ]);
        for (const secret of ["mock-secret-backup-writer-key", "backup-writer-key-id"]) {
            assert.ok(!uploaderConfig.includes(secret));
            assert.ok(!uploaderEntrypoint.join(" ").includes(secret));
        }
    });

    it("uploader: rclone.conf for this bucket and key, script on the entrypoint, staging's daily schedule", () => {
        assert.equal(
            uploaderConfig,
            renderRcloneConfig({
                kind: "aws",
                bucket: "backup-bucket",
                region: "eu-west-1",
                kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/backup-key",
            }),
        );
        assert.deepStrictEqual(uploaderEntrypoint, [
            "/bin/sh",
            "-c",
            renderUploaderScript(
                {
                    kind: "aws",
                    bucket: "backup-bucket",
                    region: "eu-west-1",
                    kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/backup-key",
                },
                86400,
            ),
            "snapshot-uploader",
        ]);
        assert.match(uploaderEntrypoint[2], /\nDEST=snapshots:backup-bucket\nINTERVAL=300\n/);
    });

    it("both containers: restart policy, memory cap without swap, no-new-privileges, no capabilities, no core dumps, rotated logs, labels", () => {
        const containers = run.ofType("docker:index/container:Container").map((c) => c.inputs);
        assert.deepStrictEqual(
            containers.map((c) => c.name),
            ["bonito-vault-staging-snapshot-agent", "bonito-vault-staging-snapshot-uploader"],
        );
        const [agent, uploader] = containers;
        for (const [c, memory, role] of [
            [agent, 256, "snapshot-agent"],
            [uploader, 256, "snapshot-uploader"],
        ] as const) {
            assert.equal(c.restart, "unless-stopped");
            assert.equal(c.memory, memory);
            assert.equal(c.memorySwap, memory);
            assert.deepStrictEqual(c.securityOpts, ["no-new-privileges:true"]);
            assert.deepStrictEqual(c.capabilities, { drops: ["ALL"] });
            assert.deepStrictEqual(c.ulimits, [{ name: "core", soft: 0, hard: 0 }]);
            assert.equal(c.logDriver, "json-file");
            assert.deepStrictEqual(c.logOpts, { "max-size": "20m", "max-file": "5" });
            assert.deepStrictEqual(c.labels, [
                { label: "bonito.role", value: role },
                { label: "bonito.stack", value: "staging" },
            ]);
            assert.equal(c.command, undefined);
            assert.deepStrictEqual(c.networksAdvanced, [{ name: "bonito-vault" }]);
        }
        assert.equal(uploader.init, true);
        assert.deepStrictEqual(
            run.ofType("docker:index/remoteImage:RemoteImage").map((i) => i.inputs.name),
            ["ghcr.io/argelbargel/vault-raft-snapshot-agent:v0.12.0", "rclone/rclone:1.76.0"],
        );
    });
});
