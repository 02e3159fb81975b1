/**
 * AuditShipping on azure under Pulumi mocks. Proves: the archive is its own storage account (a
 * derived name distinct from the backup account's) with an `audit` container under a time-based
 * immutability policy for auditArchiveRetentionDays, the COMPLIANCE lock listed as a pending step,
 * and each shipper gets the account key as a 0400 file. Does not prove: that Azure accepts the inputs.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { setupMocks, type MockRun } from "../helpers/mocks";
import { loadConfig } from "../../components/config";
import { declareShipping } from "./auditShipping.clouds.helper";

const raw = {
    "bonito-vault:cloud": "azure",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    // The entry point is its own area (test/mocks/entryPoint-*.test.ts); staging would default to a load balancer.
    "bonito-vault:entryPoint": "none",
    "bonito-vault:azureLocation": "westeurope",
    "bonito-vault:azureResourceGroup": "rg-vault",
    "bonito-vault:azureNetworkDefault": "allow",
    "bonito-vault:backupLockMode": "COMPLIANCE",
};
let run: MockRun;
let d: Awaited<ReturnType<typeof declareShipping>>;
let account: string;

before(async () => {
    run = setupMocks("staging", raw);
    const cfg = loadConfig("staging", raw);
    account = cfg.auditShipping.bucketName!;
    assert.notEqual(account, cfg.backup.bucketName, "the archive's account is not the backup account");
    d = await declareShipping("staging", raw);
});

describe("azure audit archive", () => {
    it("its own storage account, an `audit` container under a 30-day immutability policy", () => {
        assert.match(account, /^[a-z0-9]{3,24}$/);
        const acct = run.ofType("azure-native:storage:StorageAccount")[0].inputs;
        assert.equal(acct.accountName, account);
        assert.equal(acct.enableHttpsTrafficOnly, true);
        assert.equal(acct.allowBlobPublicAccess, false);
        assert.deepStrictEqual(run.ofType("azure-native:storage:BlobContainerImmutabilityPolicy")[0].inputs, {
            accountName: account,
            resourceGroupName: "rg-vault",
            containerName: "audit",
            immutabilityPolicyName: "default",
            immutabilityPeriodSinceCreationInDays: 30,
            allowProtectedAppendWrites: false,
        });
        assert.equal(d.url, `https://${account}.blob.core.windows.net/audit`);
    });

    it("the COMPLIANCE lock of the audit container is a pending step; the key reaches the shippers as a 0400 file", () => {
        assert.deepStrictEqual(d.pending, [
            `az storage container immutability-policy lock --resource-group rg-vault --account-name ${account} --container-name audit --if-match "$(az storage container immutability-policy show --resource-group rg-vault --account-name ${account} --container-name audit --query etag -o tsv)"`,
        ]);
        for (const u of d.uploads)
            assert.deepStrictEqual(
                u.map((x) => [x.file, x.permissions]),
                [
                    ["/etc/rclone/rclone.conf", "0444"],
                    ["/etc/rclone/secrets/azure-account-key", "0400"],
                ],
            );
        assert.match(d.entrypoints[0][2], /^DEST=audit:audit\/vault-0$/m);
        assert.match(d.entrypoints[0][2], /RCLONE_CONFIG_AUDIT_KEY="\$\(cat "\$SECRETS_DIR\/azure-account-key"\)"/);
    });
});
