/**
 * BackupBucket on azure under Pulumi mocks.
 * Proves: the exact storage account (HTTPS only, TLS 1.2, no public blob access), blob versioning,
 * a private container and its time-based immutability policy, and that COMPLIANCE leaves the lock
 * command as a pending step (azure-native cannot lock). Does not prove: that Azure accepts them,
 * nor that the lock has been run.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { setupMocks, settle, valueOf, type MockRun } from "../helpers/mocks";
import { loadConfig } from "../../components/config";
import { planPlatform } from "../../components/plan";

const raw = {
    "bonito-vault:cloud": "azure",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    // The bucket alone: no entry point (staging would otherwise need a load balancer's keys).
    "bonito-vault:entryPoint": "none",
    "bonito-vault:azureLocation": "westeurope",
    "bonito-vault:azureResourceGroup": "rg-vault",
    "bonito-vault:azureNetworkDefault": "allow",
    "bonito-vault:backupBucketName": "bonitosnaps",
    "bonito-vault:backupLockMode": "COMPLIANCE",
    "bonito-vault:backupRetentionDays": "30",
};
let run: MockRun;
let pending: string[];
let writer: string;

before(async () => {
    run = setupMocks("staging", raw);
    const { BackupBucket } = await import("../../components/backup/backupBucket");
    const bucket = new BackupBucket("backup", {
        ...planPlatform(loadConfig("staging", raw)).backup,
        target: undefined,
    });
    await settle(bucket);
    pending = await valueOf(bucket.pendingSteps);
    writer = await valueOf(bucket.writerIdentity);
});

const one = (type: string) => {
    const hits = run.ofType(type);
    assert.equal(hits.length, 1, type);
    return hits[0].inputs;
};

describe("azure backup bucket", () => {
    it("storage account: https only, TLS 1.2, no public blobs", () => {
        assert.deepStrictEqual(one("azure-native:storage:StorageAccount"), {
            accountName: "bonitosnaps",
            resourceGroupName: "rg-vault",
            location: "westeurope",
            kind: "StorageV2",
            sku: { name: "Standard_GRS" },
            enableHttpsTrafficOnly: true,
            minimumTlsVersion: "TLS1_2",
            allowBlobPublicAccess: false,
            allowCrossTenantReplication: false,
            allowSharedKeyAccess: true,
        });
    });

    it("blob versioning and soft delete", () => {
        assert.deepStrictEqual(one("azure-native:storage:BlobServiceProperties"), {
            accountName: "bonitosnaps",
            resourceGroupName: "rg-vault",
            blobServicesName: "default",
            isVersioningEnabled: true,
            deleteRetentionPolicy: { enabled: true, days: 7 },
            containerDeleteRetentionPolicy: { enabled: true, days: 7 },
        });
    });

    it("private container with a 30-day time-based immutability policy", () => {
        assert.deepStrictEqual(one("azure-native:storage:BlobContainer"), {
            accountName: "bonitosnaps",
            resourceGroupName: "rg-vault",
            containerName: "snapshots",
            publicAccess: "None",
        });
        assert.deepStrictEqual(one("azure-native:storage:BlobContainerImmutabilityPolicy"), {
            accountName: "bonitosnaps",
            resourceGroupName: "rg-vault",
            containerName: "snapshots",
            immutabilityPolicyName: "default",
            immutabilityPeriodSinceCreationInDays: 30,
            allowProtectedAppendWrites: false,
        });
    });

    it("COMPLIANCE: the lock is a listed pending step; the writer is the shared key (see azure.ts)", () => {
        assert.deepStrictEqual(pending, [
            'az storage container immutability-policy lock --resource-group rg-vault --account-name bonitosnaps --container-name snapshots --if-match "$(az storage container immutability-policy show --resource-group rg-vault --account-name bonitosnaps --container-name snapshots --query etag -o tsv)"',
        ]);
        assert.equal(writer, "storage-account-shared-key:bonitosnaps");
        assert.equal(run.ofType("azure-native:authorization:RoleAssignment").length, 0);
    });
});
