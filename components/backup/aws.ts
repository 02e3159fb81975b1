/**
 * aws: an S3 bucket with Object Lock (default retention), versioning, SSE-KMS under its own
 * rotating key, every public-access block, owner-enforced ownership, a TLS-only policy and a
 * lifecycle that expires what retention released. The writer is an IAM user that can add and list
 * snapshots and nothing else; the uploader (rclone) uses it, with Content-MD5 on every PUT and part.
 */
import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import * as s3 from "@pulumi/aws/s3";
import { UPLOADER_SECRET_FILES, type UploadTarget } from "./uploaderConfig";
import { awsWriterPolicy, tlsOnlyBucketPolicy } from "./iam";
import type { BackupDelivery, StoreArgs } from "./types";

export function createAwsBackup(name: string, parent: pulumi.Resource, args: StoreArgs<"aws">): BackupDelivery {
    const loc = args.location;
    const b = args.store;
    // The bucket sits in the seal key's region (awsRegion): a snapshot is useless without that key.
    const region = loc.region;
    const child = { parent };
    // A bucket and key that hold the only copy of the cluster's past must survive `pulumi destroy`.
    const keep = { parent, protect: true, retainOnDelete: true };

    const key = new kms.Key(
        `${name}-key`,
        {
            description: `${args.owner.clusterName} ${b.contents} (${args.owner.stack})`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            region,
        },
        keep,
    );

    const bucket = new s3.Bucket(
        `${name}-bucket`,
        {
            bucket: b.bucketName,
            // Object Lock can only be turned on when the bucket is created.
            objectLockEnabled: true,
            forceDestroy: false,
            region,
        },
        keep,
    );

    const versioning = new s3.BucketVersioning(
        `${name}-versioning`,
        { bucket: bucket.id, region, versioningConfiguration: { status: "Enabled" } },
        child,
    );
    new s3.BucketObjectLockConfiguration(
        `${name}-lock`,
        {
            bucket: bucket.id,
            region,
            objectLockEnabled: "Enabled",
            rule: { defaultRetention: { mode: b.lockMode, days: b.retentionDays } },
        },
        { parent, dependsOn: [versioning] },
    );
    new s3.BucketServerSideEncryptionConfiguration(
        `${name}-sse`,
        {
            bucket: bucket.id,
            region,
            rules: [
                {
                    applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
                    bucketKeyEnabled: true,
                },
            ],
        },
        child,
    );
    const publicBlock = new s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        {
            bucket: bucket.id,
            region,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        },
        child,
    );
    new s3.BucketOwnershipControls(
        `${name}-ownership`,
        { bucket: bucket.id, region, rule: { objectOwnership: "BucketOwnerEnforced" } },
        child,
    );
    new s3.BucketPolicy(
        `${name}-policy`,
        { bucket: bucket.id, region, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
        { parent, dependsOn: [publicBlock] },
    );
    // The agent never deletes (retain 0): lifecycle does. A current snapshot expires after the
    // retention (a delete marker; Object Lock keeps the version until its own date), and a
    // noncurrent version is removed `retentionDays` after it became noncurrent.
    new s3.BucketLifecycleConfiguration(
        `${name}-lifecycle`,
        {
            bucket: bucket.id,
            region,
            rules: [
                {
                    id: b.lifecycleId,
                    status: "Enabled",
                    filter: {},
                    expiration: { days: b.retentionDays },
                    noncurrentVersionExpiration: { noncurrentDays: b.retentionDays },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                },
            ],
        },
        { parent, dependsOn: [versioning] },
    );

    const writer = new iam.User(`${name}-writer`, { path: "/bonito-vault/", forceDestroy: true }, child);
    new iam.UserPolicy(
        `${name}-writer-policy`,
        {
            user: writer.name,
            policy: pulumi
                .all([bucket.arn, key.arn])
                .apply(([bucketArn, keyArn]) => JSON.stringify(awsWriterPolicy(bucketArn, keyArn))),
        },
        child,
    );
    const accessKey = new iam.AccessKey(`${name}-writer-key`, { user: writer.name }, child);

    const target: pulumi.Output<UploadTarget> = pulumi
        .all([bucket.bucket, key.arn])
        .apply(([bucketName, kmsKeyArn]) => ({ kind: "aws" as const, bucket: bucketName, region, kmsKeyArn }));

    return {
        bucketName: bucket.bucket,
        url: pulumi.interpolate`s3://${bucket.bucket}`,
        writerIdentity: writer.arn,
        upload: {
            target,
            files: [
                { path: UPLOADER_SECRET_FILES.awsAccessKeyId, content: pulumi.secret(accessKey.id) },
                { path: UPLOADER_SECRET_FILES.awsSecretAccessKey, content: pulumi.secret(accessKey.secret) },
            ],
        },
        volumes: [],
        pendingSteps: pulumi.output([]),
    };
}
