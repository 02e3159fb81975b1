import type { ResourceValidationPolicy } from "@pulumi/policy";
import { obj } from "./lib/common";

export const AZURE_KEY_VAULT = "azure-native:keyvault:Vault";

/** Without purge protection, anyone who can delete the Key Vault can destroy the seal key for good. */
export const azureKeyVaultPurgeProtection: ResourceValidationPolicy = {
    name: "azure-keyvault-purge-protection",
    description: "Azure Key Vaults enable purge protection and keep soft delete on.",
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
        if (p.enableSoftDelete === false) report("The Key Vault disables soft delete; remove enableSoftDelete: false.");
    },
};
