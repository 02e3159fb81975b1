/**
 * azure without backupBucketName: the storage account's name. The mock autonames the way
 * azure-native does (logical name + random hex, not cleaned), so a program that leaves the name to
 * the provider gets `backup-account<hex>` here, as it would get `bonito-vault-backup-account<hex>`
 * from Azure, which refuses it.
 * Proves: the account gets a valid (3-24 of a-z, 0-9), deterministic name, distinct per stack, and
 * every dependent resource and output uses it. Does not prove: that the name is free in Azure's
 * global namespace (a real `pulumi up` does; backupBucketName overrides it on a clash).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { setupMocks, settle, valueOf, type MockRun } from "../helpers/mocks";
import { loadConfig } from "../../components/config";
import { planPlatform } from "../../components/plan";
import { azureStorageAccountName } from "../../components/config/backup";

const raw = {
    "bonito-vault:cloud": "azure",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    // The bucket alone: no entry point (staging would otherwise need a load balancer's keys).
    "bonito-vault:entryPoint": "none",
    "bonito-vault:azureLocation": "westeurope",
    "bonito-vault:azureResourceGroup": "rg-vault",
    "bonito-vault:azureNetworkDefault": "allow",
};
const VALID = /^[a-z0-9]{3,24}$/;
let run: MockRun;
let bucketName: string;
let writer: string;

before(async () => {
    run = setupMocks("staging", raw);
    const { BackupBucket } = await import("../../components/backup/backupBucket");
    const bucket = new BackupBucket("bonito-vault-backup", {
        ...planPlatform(loadConfig("staging", raw)).backup,
        target: undefined,
    });
    await settle(bucket);
    bucketName = await valueOf(bucket.bucketName);
    writer = await valueOf(bucket.writerIdentity);
});

describe("azure storage account without backupBucketName", () => {
    it("has a name Azure accepts: 3-24 lowercase letters and digits", () => {
        assert.match(bucketName, VALID, `Azure refuses the storage account name ${bucketName}`);
        const [account] = run.ofType("azure-native:storage:StorageAccount");
        assert.equal(account.inputs.accountName, bucketName);
    });

    it("is the same on every run and differs per stack and resource group", () => {
        const again = loadConfig("staging", raw).backup.bucketName;
        assert.equal(again, bucketName);
        const names = [
            bucketName,
            azureStorageAccountName("bonito-vault", "prod", "rg-vault"),
            loadConfig("staging", { ...raw, "bonito-vault:azureResourceGroup": "rg-other" }).backup.bucketName,
            loadConfig("staging", { ...raw, "bonito-vault:clusterName": "a-very-long-cluster-name-indeed" }).backup
                .bucketName,
        ];
        for (const n of names) assert.match(String(n), VALID);
        assert.equal(new Set(names).size, names.length, names.join(", "));
        assert.match(bucketName, /^bonitovaultstagi[0-9a-f]{8}$/);
    });

    it("every dependent resource and output names that account", () => {
        for (const t of [
            "azure-native:storage:BlobServiceProperties",
            "azure-native:storage:BlobContainer",
            "azure-native:storage:BlobContainerImmutabilityPolicy",
        ])
            assert.equal(run.ofType(t)[0].inputs.accountName, bucketName, t);
        assert.equal(writer, `storage-account-shared-key:${bucketName}`);
    });
});
