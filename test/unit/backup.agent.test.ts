/**
 * The snapshot agent's rendered configuration per cloud, exactly, and the IAM documents.
 * Proves: the file the agent reads (keys from Argelbargel/vault-raft-snapshot-agent's README and
 * config structs), that it holds no secret value (only file:// references), that the agent never
 * deletes from a write-once bucket (retain 0), and the exact writer and bucket policies.
 * Does not prove: that the pinned agent release parses this file (a real run does), nor that AWS
 * evaluates the policies as intended.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../components/config";
import { localRetainCount, renderAgentConfig, type AgentStorage } from "../../components/backup/agentConfig";
import {
    awsWriterPolicy,
    destructiveActions,
    GCP_WRITER_ROLES,
    tlsOnlyBucketPolicy,
} from "../../components/backup/policies";
import { agentConfigInput } from "../../components/backup/snapshotAgent";

const config = loadConfig("staging", {
    "bonito-vault:cloud": "aws",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    "bonito-vault:awsRegion": "eu-west-1",
    "bonito-vault:backupSchedule": "6h",
    "bonito-vault:backupRetentionDays": "14",
});

const vaultSection = {
    nodes: { urls: ["https://vault:8200"], autoDetectLeader: true },
    timeout: "5m",
    auth: {
        approle: {
            path: "approle",
            role: "file:///etc/vault.d/secrets/approle-role-id",
            secret: "file:///etc/vault.d/secrets/approle-secret-id",
        },
    },
};
const snapshots = (retain: number, storages: object) => ({
    frequency: "6h",
    retain,
    timeout: "5m",
    namePrefix: "raft-snapshot-",
    nameSuffix: ".snap",
    storages,
});
const render = (s: AgentStorage) => JSON.parse(renderAgentConfig(agentConfigInput(config, s))) as unknown;

describe("renderAgentConfig", () => {
    it("aws: bucket, region, credentials by file, bucket-default SSE-KMS, never deletes", () => {
        assert.deepStrictEqual(render({ kind: "aws", bucket: "snaps", region: "eu-west-1" }), {
            vault: vaultSection,
            snapshots: snapshots(0, {
                aws: {
                    bucket: "snaps",
                    region: "eu-west-1",
                    accessKeyId: "file:///etc/vault.d/secrets/aws-access-key-id",
                    accessKey: "file:///etc/vault.d/secrets/aws-secret-access-key",
                    useServerSideEncryption: false,
                },
            }),
        });
    });

    it("gcp: bucket only (credentials come from GOOGLE_APPLICATION_CREDENTIALS)", () => {
        assert.deepStrictEqual(render({ kind: "gcp", bucket: "snaps" }), {
            vault: vaultSection,
            snapshots: snapshots(0, { gcp: { bucket: "snaps" } }),
        });
    });

    it("azure: account, container, shared key by file", () => {
        assert.deepStrictEqual(render({ kind: "azure", accountName: "bonitosnaps", container: "snapshots" }), {
            vault: vaultSection,
            snapshots: snapshots(0, {
                azure: {
                    accountName: "bonitosnaps",
                    accountKey: "file:///etc/vault.d/secrets/azure-account-key",
                    container: "snapshots",
                },
            }),
        });
    });

    it("local: the agent prunes to cover the retention (14 days every 6h = 56 snapshots)", () => {
        assert.equal(localRetainCount(14, 6 * 3600), 56);
        assert.deepStrictEqual(render({ kind: "local", path: "/snapshots" }), {
            vault: vaultSection,
            snapshots: snapshots(56, { local: { path: "/snapshots" } }),
        });
    });

    it("refuses a retain count on a write-once bucket", () => {
        assert.throws(
            () => renderAgentConfig({ ...agentConfigInput(config, { kind: "gcp", bucket: "b" }), retain: 5 }),
            /a write-once bucket needs retain 0/,
        );
    });

    it("holds no credential value: every secret is a file:// reference", () => {
        const text = renderAgentConfig(agentConfigInput(config, { kind: "aws", bucket: "snaps", region: "eu-west-1" }));
        for (const m of text.matchAll(/"(role|secret|accessKeyId|accessKey|accountKey)": "([^"]*)"/g))
            assert.match(m[2], /^file:\/\/\/etc\/vault\.d\/secrets\//, `${m[1]} must be a file reference`);
    });

    it("plain http only when TLS terminates upstream", () => {
        const proxied = { ...config, tls: { ...config.tls, mode: "upstream-proxy" as const } };
        assert.equal(agentConfigInput(proxied, { kind: "gcp", bucket: "b" }).vaultUrl, "http://vault:8200");
    });
});

describe("bucket and writer policies", () => {
    const bucketArn = "arn:aws:s3:::snaps";
    const keyArn = "arn:aws:kms:eu-west-1:123456789012:key/k";

    it("TLS-only bucket policy, whole document", () => {
        assert.deepStrictEqual(tlsOnlyBucketPolicy(bucketArn), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:*",
                    Resource: ["arn:aws:s3:::snaps", "arn:aws:s3:::snaps/*"],
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
            ],
        });
    });

    it("aws writer: put, list, encrypt; nothing destructive", () => {
        const p = awsWriterPolicy(bucketArn, keyArn);
        assert.deepStrictEqual(p, {
            Version: "2012-10-17",
            Statement: [
                { Sid: "AddSnapshots", Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::snaps/*" },
                { Sid: "ListSnapshots", Effect: "Allow", Action: ["s3:ListBucket"], Resource: "arn:aws:s3:::snaps" },
                {
                    Sid: "EncryptSnapshots",
                    Effect: "Allow",
                    Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                    Resource: keyArn,
                },
            ],
        });
        assert.deepStrictEqual(destructiveActions(p), []);
        assert.ok(!JSON.stringify(p).includes("Delete"));
        assert.ok(!JSON.stringify(p).includes("s3:GetObject"), "the writer cannot read snapshots back");
    });

    it("destructiveActions catches what it must", () => {
        const bad = awsWriterPolicy(bucketArn, keyArn);
        bad.Statement.push({
            Sid: "x",
            Effect: "Allow",
            Action: ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:*"],
            Resource: "*",
        });
        assert.deepStrictEqual(destructiveActions(bad), [
            "s3:DeleteObjectVersion",
            "s3:BypassGovernanceRetention",
            "s3:*",
        ]);
    });

    it("gcp writer roles: create and list only", () => {
        assert.deepStrictEqual(
            [...GCP_WRITER_ROLES],
            ["roles/storage.objectCreator", "roles/storage.legacyBucketReader"],
        );
    });
});
