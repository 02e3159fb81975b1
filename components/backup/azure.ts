/**
 * azure: a StorageV2 account (HTTPS only, TLS 1.2 minimum, no public blob access, blob
 * versioning) and a private container under a time-based immutability policy.
 *
 * Locking: azure-native creates the container policy (BlobContainerImmutabilityPolicy) only in
 * the Unlocked state; its args have no `state`, and locking is a separate POST
 * (`…/immutabilityPolicies/default/lock` with the policy's ETag) that azure-native does not model
 * as a resource. With backupLockMode COMPLIANCE the delivery lists the lock command as a pending
 * step (stack output and runbook); until it runs, an account owner can still delete the policy.
 *
 * Writer: vault-raft-snapshot-agent authenticates to Blob Storage with the account's shared key
 * only (internal/agent/storage/azure.go uses azblob.NewSharedKeyCredential). A shared key is not
 * a least-privilege identity; what stops it from deleting or overwriting a snapshot is the
 * immutability policy, which binds every caller, shared key included.
 */
import * as pulumi from "@pulumi/pulumi";
import * as storage from "@pulumi/azure-native/storage";
import { UPLOADER_SECRET_FILES, type UploadTarget } from "./uploaderConfig";
import { AZURE_CONTAINER } from "./iam";
import type { BackupDelivery, StoreArgs } from "./types";

/** The one-time lock, reading the policy's current ETag itself (locking needs If-Match). */
export function azureLockCommand(resourceGroup: string, accountName: string, container = AZURE_CONTAINER): string {
    const target = `--resource-group ${resourceGroup} --account-name ${accountName} --container-name ${container}`;
    return `az storage container immutability-policy lock ${target} --if-match "$(az storage container immutability-policy show ${target} --query etag -o tsv)"`;
}

export function createAzureBackup(name: string, parent: pulumi.Resource, args: StoreArgs<"azure">): BackupDelivery {
    const loc = args.location;
    const b = args.store;
    // Same resource group and region as the seal's Key Vault (azureResourceGroup, azureLocation).
    const resourceGroupName = loc.resourceGroup;
    const keep = { parent, protect: true, retainOnDelete: true };

    const account = new storage.StorageAccount(
        `${name}-account`,
        {
            accountName: b.bucketName,
            resourceGroupName,
            location: loc.location,
            kind: "StorageV2",
            sku: { name: "Standard_GRS" },
            enableHttpsTrafficOnly: true,
            minimumTlsVersion: "TLS1_2",
            allowBlobPublicAccess: false,
            allowCrossTenantReplication: false,
            // Required by the agent (shared-key client); see the file comment.
            allowSharedKeyAccess: true,
        },
        keep,
    );
    // Known at preview when backupBucketName is set (azure-native's `name` output is not).
    const accountName: pulumi.Output<string> = b.bucketName ? pulumi.output(b.bucketName) : account.name;
    const blobService = new storage.BlobServiceProperties(
        `${name}-blob-service`,
        {
            accountName,
            resourceGroupName,
            blobServicesName: "default",
            isVersioningEnabled: true,
            deleteRetentionPolicy: { enabled: true, days: 7 },
            containerDeleteRetentionPolicy: { enabled: true, days: 7 },
        },
        { parent },
    );
    const container = new storage.BlobContainer(
        `${name}-container`,
        { accountName, resourceGroupName, containerName: b.container, publicAccess: "None" },
        { ...keep, dependsOn: [blobService] },
    );
    new storage.BlobContainerImmutabilityPolicy(
        `${name}-immutability`,
        {
            accountName,
            resourceGroupName,
            containerName: b.container,
            immutabilityPolicyName: "default",
            immutabilityPeriodSinceCreationInDays: b.retentionDays,
            allowProtectedAppendWrites: false,
        },
        { ...keep, dependsOn: [container] },
    );

    const keys = storage.listStorageAccountKeysOutput({ accountName, resourceGroupName }, { parent });
    const accountKey = pulumi.secret(keys.apply((k) => k.keys?.[0]?.value ?? ""));

    const target: pulumi.Output<UploadTarget> = accountName.apply((n) => ({
        kind: "azure" as const,
        accountName: n,
        container: b.container,
    }));
    const pendingSteps =
        b.lockMode === "COMPLIANCE"
            ? accountName.apply((acct) => [azureLockCommand(resourceGroupName, acct, b.container)])
            : pulumi.output([] as string[]);

    return {
        bucketName: accountName,
        url: pulumi.interpolate`https://${accountName}.blob.core.windows.net/${b.container}`,
        writerIdentity: pulumi.interpolate`storage-account-shared-key:${accountName}`,
        upload: { target, files: [{ path: UPLOADER_SECRET_FILES.azureAccountKey, content: accountKey }] },
        volumes: [],
        pendingSteps,
    };
}
