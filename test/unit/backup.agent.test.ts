/**
 * The snapshot agent's rendered configuration, exactly, and the IAM documents.
 * Proves: the file the agent reads (keys from Argelbargel/vault-raft-snapshot-agent v0.12.0's
 * README and config structs), that it lists every node's address with leader auto-detection (so a
 * snapshot is taken with node 0 down), that it holds no secret value (only file:// references),
 * that the agent writes to its local storage only (a spool the uploader moves from, or the local
 * volume) and never prunes a spool, and the exact writer and bucket policies.
 * Does not prove: that the pinned agent release parses this file (a real run does), nor that AWS
 * evaluates the policies as intended.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../components/config";
import { localRetainCount, renderAgentConfig } from "../../components/backup/agentConfig";
import {
    awsWriterPolicy,
    destructiveActions,
    GCP_WRITER_ROLES,
    tlsOnlyBucketPolicy,
} from "../../components/backup/iam";
import { agentConfigInput } from "../../components/backup/snapshotAgent";
import { planPlatform } from "../../components/plan";
import { stackConfig } from "../helpers/mocks";

const raw = {
    "bonito-vault:cloud": "aws",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    "bonito-vault:awsRegion": "eu-west-1",
    "bonito-vault:backupSchedule": "6h",
    "bonito-vault:backupRetentionDays": "14",
    // Not about the entry point: staging would otherwise need a load balancer's keys.
    "bonito-vault:entryPoint": "none",
};
const config = loadConfig("staging", raw);

const vaultSection = (urls: string[]) => ({
    nodes: { urls, autoDetectLeader: true },
    timeout: "5m",
    auth: {
        approle: {
            path: "approle",
            role: "file:///etc/vault.d/secrets/approle-role-id",
            secret: "file:///etc/vault.d/secrets/approle-secret-id",
        },
    },
});
const snapshots = (retain: number) => ({
    frequency: "6h",
    retain,
    timeout: "5m",
    namePrefix: "raft-snapshot-",
    nameSuffix: ".snap",
    storages: { local: { path: "/snapshots" } },
});
const STAGING_URLS = config.nodeNames.map((n) => `https://${n}:8200`);

describe("renderAgentConfig", () => {
    it("aws, gcp, azure: every node, leader auto-detection, spool storage, never prunes the spool", () => {
        for (const cloud of ["aws", "gcp", "azure"] as const) {
            const c = { ...config, backup: { ...config.backup, location: { ...config.backup.location, cloud } } };
            assert.deepStrictEqual(
                JSON.parse(renderAgentConfig(agentConfigInput(planPlatform(c as typeof config).snapshots))),
                {
                    vault: vaultSection(STAGING_URLS),
                    snapshots: snapshots(0),
                },
            );
        }
    });

    it("staging lists its three nodes by their own names, not the service alias", () => {
        assert.deepStrictEqual(STAGING_URLS, ["https://vault-0:8200", "https://vault-1:8200", "https://vault-2:8200"]);
        assert.ok(
            !agentConfigInput(planPlatform(config).snapshots).vaultUrls.some((u) =>
                u.includes(`//${config.serviceName}:`),
            ),
        );
    });

    it("prod: every node's published address, so a snapshot is taken with node 0 (host 0) down", () => {
        // Pulumi.prod.yaml itself: three nodes on three Docker hosts, the service alias on host 0.
        const prod = loadConfig("prod", stackConfig("prod"), new Set(), { allowExampleKeys: true });
        assert.deepStrictEqual(agentConfigInput(planPlatform(prod).snapshots).vaultUrls, [
            "https://vault-0.bonito.internal:8200",
            "https://vault-1.bonito.internal:8200",
            "https://vault-2.bonito.internal:8200",
        ]);
        assert.equal(prod.serviceName, "vault.bonito.internal");
    });

    it("local: the agent prunes the volume to cover the retention (14 days every 6h = 56 snapshots)", () => {
        const local = loadConfig("staging", {
            "bonito-vault:cloud": "local",
            "bonito-vault:image": "hashicorp/vault:1.21.1",
            "bonito-vault:backupSchedule": "6h",
            "bonito-vault:backupRetentionDays": "14",
        });
        assert.equal(localRetainCount(14, 6 * 3600), 56);
        assert.equal(
            JSON.parse(renderAgentConfig(agentConfigInput(planPlatform(local).snapshots))).snapshots.retain,
            56,
        );
    });

    it("refuses a negative retain and an empty node list", () => {
        assert.throws(
            () => renderAgentConfig({ ...agentConfigInput(planPlatform(config).snapshots), retain: -1 }),
            /^Error: retain must be a whole number ≥ 0, got -1$/,
        );
        assert.throws(
            () => renderAgentConfig({ ...agentConfigInput(planPlatform(config).snapshots), vaultUrls: [] }),
            /^Error: vaultUrls must list at least one node$/,
        );
    });

    it("holds no credential value: every secret is a file:// reference", () => {
        const text = renderAgentConfig(agentConfigInput(planPlatform(config).snapshots));
        for (const m of text.matchAll(/"(role|secret)": "([^"]*)"/g))
            assert.match(m[2], /^file:\/\/\/etc\/vault\.d\/secrets\//, `${m[1]} must be a file reference`);
        assert.doesNotMatch(text, /accessKey|accountKey|credentials/);
    });

    it("plain http only when TLS terminates upstream", () => {
        const proxied = { ...config, tls: { ...config.tls, mode: "upstream-proxy" as const } };
        assert.deepStrictEqual(agentConfigInput(planPlatform(proxied).snapshots).vaultUrls, [
            "http://vault-0:8200",
            "http://vault-1:8200",
            "http://vault-2:8200",
        ]);
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
