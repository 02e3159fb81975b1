import type { ResourceValidationPolicy } from "@pulumi/policy";
import { explicitlyFalse, obj } from "./lib/common";

export const AZURE_KEY_VAULT = "azure-native:keyvault:Vault";

/**
 * Without purge protection, anyone who can delete the Key Vault can destroy the seal key for good.
 *
 * One-field changes that would undo the same protection, each covered here: enablePurgeProtection
 * false, `"true"` as a string or removed (only `true` counts); enableSoftDelete false (or `"false"`);
 * softDeleteRetentionInDays shortened below 90 (purge protection then only holds that long).
 * Removing `protect` from the vault: `kms-key-deletion-protected`.
 */
export const azureKeyVaultPurgeProtection: ResourceValidationPolicy = {
    name: "azure-keyvault-purge-protection",
    description: "Azure Key Vaults enable purge protection and keep soft delete on for 90 days.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["azure", "kms", "unseal", "seed-2"],
    remediationSteps:
        "Set `properties.enablePurgeProtection: true` (and leave enableSoftDelete unset or true, softDeleteRetentionInDays 90).",
    validateResource: (args, report) => {
        if (args.type !== AZURE_KEY_VAULT) return;
        const p = obj(args.props.properties) ?? {};
        if (p.enablePurgeProtection !== true)
            report("The Key Vault does not enable purge protection; set properties.enablePurgeProtection: true.");
        if (explicitlyFalse(p.enableSoftDelete))
            report("The Key Vault disables soft delete; remove enableSoftDelete: false.");
        // Unset means Azure's default of 90 days; a deleted vault and its keys are recoverable that long.
        const days = p.softDeleteRetentionInDays;
        if (days !== undefined && !(Number(days) >= 90))
            report(
                `The Key Vault keeps deleted keys for ${String(days)} days; set softDeleteRetentionInDays: 90 (or leave it unset).`,
            );
    },
};
