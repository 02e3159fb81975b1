import type { ResourceValidationPolicy } from "@pulumi/policy";
import { seconds } from "./lib/common";
import { KEY_ROTATION_DAYS, keyRotationReason } from "./lib/limits";

export const GCP_CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey";
const NINETY_DAYS = KEY_ROTATION_DAYS.max * 86400;

/**
 * A snapshot restores only with the seal key: rotate it at least every 90 days.
 *
 * One-field changes that would undo the same protection, each covered here: `rotationPeriod` removed
 * or emptied, stretched past 90 days, or written in a form that is not seconds (`"P365D"`: refused
 * as unreadable). Deletion of the key: `kms-key-deletion-protected`.
 */
export const gcpKmsCryptoKeyRotation: ResourceValidationPolicy = {
    name: "gcp-kms-cryptokey-rotation",
    description: "GCP KMS crypto keys set a rotationPeriod of at most 90 days (7776000s).",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["gcp", "kms", "unseal", "seed-2"],
    remediationSteps: 'Declare the CryptoKey with `rotationPeriod: "7776000s"` or shorter.',
    validateResource: (args, report) => {
        if (args.type !== GCP_CRYPTO_KEY) return;
        const raw = args.props.rotationPeriod;
        const s = seconds(raw);
        if (raw === undefined || raw === "")
            report("The crypto key has no rotationPeriod; set one of at most 7776000s (90 days).");
        else if (s === undefined || s > NINETY_DAYS)
            report(
                `The crypto key's rotationPeriod is ${String(raw)}; use at most ${NINETY_DAYS}s: the rotation period ${keyRotationReason()}.`,
            );
    },
};
