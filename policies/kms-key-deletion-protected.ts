import type { ResourceValidationPolicy } from "@pulumi/policy";
import { explicitlyFalse, obj, seconds, str, truthy } from "./lib/common";
import { AWS_KMS_KEY } from "./lib/kms";
import { GCP_CRYPTO_KEY } from "./gcp-kms-cryptokey-rotation";
import { AZURE_KEY_VAULT } from "./azure-keyvault-purge-protection";

const AZURE_KEY = "azure-native:keyvault:Key";
const THIRTY_DAYS = 30 * 86400;

/**
 * Every snapshot restores only with the seal key, and the backups only decrypt with the backup key:
 * losing either loses every backup. The keys (and the Key Vault that holds Azure's) are `protect`ed
 * so `pulumi destroy` or a replacement cannot delete them, and the cloud's own deletion guard stays
 * on. (Deletion windows: `aws-kms-key-rotation`; purge protection: `azure-keyvault-purge-protection`.)
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `protect` removed from the key's resource options (AWS key, GCP crypto key, Azure key or
 *   Key Vault);
 * - GCP `deletionPolicy` changed from PREVENT to DELETE or ABANDON, or removed (DELETE);
 * - GCP `destroyScheduledDuration` shortened below 30 days (versions destroyed a day after a
 *   mistaken destroy);
 * - AWS `isEnabled: false` or Azure `attributes.enabled: false`: the key stays but nothing can
 *   unseal or decrypt with it;
 * - GCP `skipInitialVersionCreation: true`: a change that replaces the key with one that has no
 *   version to encrypt with.
 */
export const kmsKeyDeletionProtected: ResourceValidationPolicy = {
    name: "kms-key-deletion-protected",
    description:
        "Seal and backup keys cannot be deleted by Pulumi or disabled: AWS KMS keys, GCP crypto keys, Azure keys and Key Vaults are declared with protect; GCP keys set deletionPolicy PREVENT and keep destroyed versions for at least 30 days; no key is disabled.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["kms", "unseal", "backup", "durability"],
    remediationSteps:
        'Declare the key with `{ protect: true, retainOnDelete: true }`; on GCP also `deletionPolicy: "PREVENT"` and `destroyScheduledDuration: "2592000s"` (or more); never disable it.',
    validateResource: (args, report) => {
        if (![AWS_KMS_KEY, GCP_CRYPTO_KEY, AZURE_KEY, AZURE_KEY_VAULT].includes(args.type)) return;
        const what = args.type === AZURE_KEY_VAULT ? "The Key Vault" : "The key";
        if (!args.opts.protect)
            report(
                `${what} is not protected, so pulumi destroy or a replacement deletes it; declare it with protect: true.`,
            );
        if (args.type === AWS_KMS_KEY && explicitlyFalse(args.props.isEnabled))
            report(
                "The KMS key is disabled (isEnabled: false); nothing can unseal or decrypt with it. Remove isEnabled.",
            );
        if (args.type === AZURE_KEY && explicitlyFalse(obj(obj(args.props.properties)?.attributes)?.enabled))
            report("The key is disabled (attributes.enabled: false); nothing can unseal with it. Enable it.");
        if (args.type !== GCP_CRYPTO_KEY) return;
        if (truthy(args.props.skipInitialVersionCreation))
            report(
                "The crypto key skips its initial version, so it cannot encrypt; remove skipInitialVersionCreation.",
            );
        const policy = str(args.props.deletionPolicy) ?? "DELETE";
        if (policy.toUpperCase() !== "PREVENT")
            report(`The crypto key's deletionPolicy is ${policy}; set deletionPolicy: "PREVENT".`);
        const raw = args.props.destroyScheduledDuration;
        const s = seconds(raw);
        if (raw !== undefined && (s === undefined || s < THIRTY_DAYS))
            report(
                `The crypto key's destroyScheduledDuration is ${String(raw)}; keep destroyed versions recoverable for at least 2592000s (30 days).`,
            );
    },
};
