/**
 * AuditShipping on aws under Pulumi mocks: the audit archive and one shipper per node.
 * Proves: the archive is its own S3 bucket (not the backup bucket) with Object Lock default
 * retention (auditArchiveRetentionDays, backupLockMode), versioning, SSE-KMS under its own rotating
 * key, all public access blocks, TLS-only policy and lifecycle, protected; its writer is its own IAM
 * user whose exact policy adds and lists only (no delete action); each node gets a hardened rclone
 * container on its own host that mounts that node's audit volume as uid 100 and runs exactly the
 * rendered shipper script for its node; the writer's keys reach the shippers only as secret 0400
 * files owned by uid 100. Does not prove: that AWS accepts the inputs; test/s3/audit-ship.test.ts
 * runs the script and the rclone.conf against a real S3 server with Object Lock.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { setupMocks, settle, valueOf, type MockRun } from "../helpers/mocks";
import { textUploads, type TextUpload } from "../helpers/uploads";
import { loadConfig } from "../../components/config";
import { awsWriterPolicy, destructiveActions } from "../../components/backup/iam";
import { type IamPolicy } from "../../components/iam";
import { renderShipperRcloneConfig, renderShipperScript } from "../../components/audit/shipper";

const raw = {
    "bonito-vault:cloud": "aws",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    // The entry point is its own area (test/mocks/entryPoint-*.test.ts); staging would default to a load balancer.
    "bonito-vault:entryPoint": "none",
    "bonito-vault:awsRegion": "eu-west-1",
    "bonito-vault:auditArchiveBucketName": "bonito-audit-archive",
    "bonito-vault:auditShipMaxDelayMinutes": "4",
};

let run: MockRun;
let bucketArn: string;
let keyArn: string;
let shipperUploads: TextUpload[][];
let entrypoints: string[][];
const inputs = (type: string) => {
    const hits = run.ofType(type);
    assert.equal(hits.length, 1, `one ${type}`);
    return hits[0].inputs;
};

before(async () => {
    run = setupMocks("staging", raw);
    const docker = await import("@pulumi/docker");
    const { AuditShipping } = await import("../../components/audit/auditShipper");
    const { planNodes } = await import("../../components/topology");
    const config = loadConfig("staging", raw);
    const nodes = planNodes(config);
    const network = new docker.Network("net", { name: "bonito-vault" });
    const hosts = nodes.map((n) => ({ provider: undefined, network, host: `host-${n.index}` }));
    const auditVolumes = nodes.map((n) => new docker.Volume(`audit-${n.name}`, { name: n.auditVolumeName }));
    const shipping = new AuditShipping("audit-shipping", {
        settings: config,
        nodes,
        hosts,
        auditVolumes,
        targets: hosts,
    });
    await settle(shipping, ...shipping.shippers);
    const bucket = run.ofType("aws:s3/bucket:Bucket")[0];
    void bucket;
    bucketArn = "arn:aws:s3::123456789012:audit-shipping-archive-bucket";
    keyArn = String(JSON.parse(String(inputs("aws:iam/userPolicy:UserPolicy").policy)).Statement[2].Resource);
    shipperUploads = await Promise.all(shipping.shippers.map((s) => textUploads(s.uploads)));
    entrypoints = await Promise.all(shipping.shippers.map(async (s) => (await valueOf(s.entrypoints)) as string[]));
});

describe("aws audit archive and shippers", () => {
    it("declares exactly these aws resources, named after the archive", () => {
        assert.deepStrictEqual(
            run.resources
                .filter((r) => r.type.startsWith("aws:"))
                .map((r) => `${r.type} ${r.name}`)
                .sort(),
            [
                "aws:iam/accessKey:AccessKey audit-shipping-archive-writer-key",
                "aws:iam/user:User audit-shipping-archive-writer",
                "aws:iam/userPolicy:UserPolicy audit-shipping-archive-writer-policy",
                "aws:kms/key:Key audit-shipping-archive-key",
                "aws:s3/bucket:Bucket audit-shipping-archive-bucket",
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration audit-shipping-archive-lifecycle",
                "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration audit-shipping-archive-lock",
                "aws:s3/bucketOwnershipControls:BucketOwnershipControls audit-shipping-archive-ownership",
                "aws:s3/bucketPolicy:BucketPolicy audit-shipping-archive-policy",
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock audit-shipping-archive-public-access",
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration audit-shipping-archive-sse",
                "aws:s3/bucketVersioning:BucketVersioning audit-shipping-archive-versioning",
            ],
        );
    });

    it("the archive bucket: its own name, Object Lock with default retention (staging: GOVERNANCE, 30 days), versioned, protected", () => {
        const b = run.byName("audit-shipping-archive-bucket");
        assert.deepStrictEqual(
            {
                bucket: b.inputs.bucket,
                objectLockEnabled: b.inputs.objectLockEnabled,
                forceDestroy: b.inputs.forceDestroy,
                region: b.inputs.region,
            },
            { bucket: "bonito-audit-archive", objectLockEnabled: true, forceDestroy: false, region: "eu-west-1" },
        );
        assert.deepStrictEqual(inputs("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").rule, {
            defaultRetention: { mode: "GOVERNANCE", days: 30 },
        });
        assert.deepStrictEqual(inputs("aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration, {
            status: "Enabled",
        });
        assert.deepStrictEqual(inputs("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").rules, [
            {
                id: "expire-audit-logs",
                status: "Enabled",
                filter: {},
                expiration: { days: 30 },
                noncurrentVersionExpiration: { noncurrentDays: 30 },
                abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
            },
        ]);
        assert.equal(inputs("aws:kms/key:Key").enableKeyRotation, true);
        assert.match(String(inputs("aws:kms/key:Key").description), /audit logs \(staging\)/);
        const sse = inputs("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
        assert.equal(
            (sse.rules as { applyServerSideEncryptionByDefault: { sseAlgorithm: string } }[])[0]
                .applyServerSideEncryptionByDefault.sseAlgorithm,
            "aws:kms",
        );
        const pab = inputs("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
        for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
            assert.equal(pab[k], true, k);
        assert.match(String(inputs("aws:s3/bucketPolicy:BucketPolicy").policy), /"aws:SecureTransport":"false"/);
    });

    it("its own writer: exactly PutObject + ListBucket on the archive and its key; no delete action", () => {
        const policy = JSON.parse(String(inputs("aws:iam/userPolicy:UserPolicy").policy)) as IamPolicy;
        assert.deepStrictEqual(policy, awsWriterPolicy(bucketArn, keyArn));
        assert.deepStrictEqual(destructiveActions(policy), []);
        assert.ok(!/delete/i.test(JSON.stringify(policy)));
        assert.equal(inputs("aws:iam/user:User").path, "/bonito-vault/");
    });

    it("one shipper per node on its own host, mounting that node's audit volume, hardened, as uid 100", () => {
        const containers = run.ofType("docker:index/container:Container");
        assert.deepStrictEqual(
            containers.map((c) => c.inputs.name),
            [
                "bonito-vault-staging-vault-0-audit-shipper",
                "bonito-vault-staging-vault-1-audit-shipper",
                "bonito-vault-staging-vault-2-audit-shipper",
            ],
        );
        containers.forEach((c, i) => {
            const x = c.inputs;
            assert.deepStrictEqual(x.volumes, [
                { volumeName: `bonito-vault-staging-vault-${i}-audit`, containerPath: "/vault/audit" },
            ]);
            assert.equal(x.user, "100:1000");
            assert.equal(x.init, true);
            assert.equal(x.restart, "unless-stopped");
            assert.equal(x.memory, 128);
            assert.equal(x.memorySwap, 128);
            assert.deepStrictEqual(x.securityOpts, ["no-new-privileges:true"]);
            assert.deepStrictEqual(x.capabilities, { drops: ["ALL"] });
            assert.deepStrictEqual(x.ulimits, [{ name: "core", soft: 0, hard: 0 }]);
            assert.deepStrictEqual(x.networksAdvanced, [{ name: "bonito-vault" }]);
            assert.equal(x.envs, undefined, "no environment: credentials come from files");
            assert.deepStrictEqual(x.labels, [
                { label: "bonito.role", value: "audit-shipper" },
                { label: "bonito.stack", value: "staging" },
                { label: "bonito.node", value: `vault-${i}` },
            ]);
        });
        assert.deepStrictEqual(
            run.ofType("docker:index/remoteImage:RemoteImage").map((i) => i.inputs.name),
            ["rclone/rclone:1.76.0", "rclone/rclone:1.76.0", "rclone/rclone:1.76.0"],
            "one pinned rclone image per Docker host",
        );
    });

    it("each shipper runs exactly the rendered script for its node and the 4-minute bound; rclone.conf for the archive", () => {
        const t = { kind: "aws" as const, bucket: "bonito-audit-archive", region: "eu-west-1", kmsKeyArn: keyArn };
        entrypoints.forEach((e, i) =>
            assert.deepStrictEqual(e, ["/bin/sh", "-c", renderShipperScript(t, `vault-${i}`, 4), "audit-shipper"]),
        );
        assert.match(entrypoints[1][2], /^DEST=audit:bonito-audit-archive\/vault-1$/m);
        assert.match(entrypoints[1][2], /^INTERVAL=48$/m);
        for (const u of shipperUploads) {
            assert.deepStrictEqual(
                u.map((x) => [x.file, x.owner, x.group, x.permissions]),
                [
                    ["/etc/rclone/rclone.conf", "100", "1000", "0444"],
                    ["/etc/rclone/secrets/aws-access-key-id", "100", "1000", "0400"],
                    ["/etc/rclone/secrets/aws-secret-access-key", "100", "1000", "0400"],
                ],
            );
            assert.equal(u[0].content, renderShipperRcloneConfig(t));
            assert.match(String(u[0].content), /^\[audit\]\ntype = s3\nprovider = AWS\n/);
        }
        // The engine receives the key files as secrets; their values appear nowhere else.
        const rawUploads = JSON.stringify(run.ofType("docker:index/container:Container")[0].rawInputs.uploads);
        assert.ok(rawUploads.includes("1b47061264138c4ac30d75fd1eb44270"), "uploads carry secrets");
        for (const u of shipperUploads)
            for (const secret of [u[1].content, u[2].content]) {
                assert.ok(typeof secret === "string" && secret.length > 0);
                assert.ok(!String(u[0].content).includes(secret));
                assert.ok(!JSON.stringify(entrypoints).includes(secret));
            }
    });
});
