/**
 * The backup store as the stack declares it, per cloud: each bucket (or storage account and
 * container) with the side resources that configure it, matched by the bucket/account name the
 * side resource names (or by the engine's property dependencies).
 */
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { str } from "./common";

export const S3_BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
export const S3_VERSIONING = [
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
];
export const S3_OBJECT_LOCK = [
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
];
export const S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
export const S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";
export const GCS_BUCKET = "gcp:storage/bucket:Bucket";
export const GCS_IAM = ["gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding"];
export const AZ_ACCOUNT = "azure-native:storage:StorageAccount";
export const AZ_CONTAINER = "azure-native:storage:BlobContainer";
export const AZ_BLOB_SERVICE = "azure-native:storage:BlobServiceProperties";
export const AZ_IMMUTABILITY = "azure-native:storage:BlobContainerImmutabilityPolicy";

function names(r: PolicyResource, ...keys: string[]): Set<string> {
    const out = new Set<string>([r.name]);
    for (const k of keys) {
        const v = str(r.props[k]);
        if (v) out.add(v);
    }
    return out;
}

/** Side resources of `types` whose `ref` prop names `target` (or depends on it through that prop). */
export function sideOf(
    args: StackValidationArgs,
    target: PolicyResource,
    types: string[],
    ref: string,
    keys: string[],
): PolicyResource[] {
    const ids = names(target, ...keys);
    return args.resources.filter((r) => {
        if (!types.includes(r.type)) return false;
        const v = str(r.props[ref]);
        if (v !== undefined && ids.has(v)) return true;
        return (r.propertyDependencies?.[ref] ?? []).some((d) => d.urn === target.urn);
    });
}

export function s3Buckets(args: StackValidationArgs): PolicyResource[] {
    return args.resources.filter((r) => S3_BUCKETS.includes(r.type));
}

export function s3Side(args: StackValidationArgs, bucket: PolicyResource, types: string[]): PolicyResource[] {
    return sideOf(args, bucket, types, "bucket", ["bucket", "id", "arn"]);
}

export function azureContainersOf(args: StackValidationArgs, account: PolicyResource): PolicyResource[] {
    return sideOf(args, account, [AZ_CONTAINER], "accountName", ["accountName", "name"]);
}

export function azureSide(args: StackValidationArgs, account: PolicyResource, types: string[]): PolicyResource[] {
    return sideOf(args, account, types, "accountName", ["accountName", "name"]);
}

export function containerName(c: PolicyResource): string {
    return str(c.props.containerName) ?? str(c.props.name) ?? c.name;
}
