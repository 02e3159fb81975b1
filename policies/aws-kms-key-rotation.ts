import type { ResourceValidationPolicy } from "@pulumi/policy";
import { AWS_KMS_KEY } from "./lib/kms";

/**
 * A snapshot restores only with the same seal key, so the key bounds every backup's life: rotate
 * its material yearly and leave a month to notice a scheduled deletion.
 *
 * One-field changes that would undo the same protection, each covered here: enableKeyRotation
 * false, removed or `"true"` as a string (only `true` counts); rotationPeriodInDays stretched past
 * 365; deletionWindowInDays shortened (7, or `"7"`). Protection from deletion itself:
 * `kms-key-deletion-protected`; the key policy: `aws-kms-key-policy-least-privilege`.
 */
export const awsKmsKeyRotation: ResourceValidationPolicy = {
    name: "aws-kms-key-rotation",
    description:
        "AWS KMS keys enable automatic rotation at least yearly (rotationPeriodInDays ≤ 365) and have a deletion window of at least 30 days.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["aws", "kms", "unseal", "seed-2"],
    remediationSteps: "Declare the key with `enableKeyRotation: true` and `deletionWindowInDays: 30`.",
    validateResource: (args, report) => {
        if (args.type !== AWS_KMS_KEY) return;
        if (args.props.enableKeyRotation !== true)
            report("The KMS key does not enable automatic rotation; set enableKeyRotation: true.");
        const period = args.props.rotationPeriodInDays;
        if (period !== undefined && !(Number(period) <= 365))
            report(`The KMS key rotates every ${String(period)} days; set rotationPeriodInDays to 365 or less.`);
        // Unset means AWS's default of 30 days.
        const window = args.props.deletionWindowInDays;
        if (window !== undefined && Number(window) < 30)
            report(
                `The KMS key's deletion window is ${String(window)} days; use at least 30 so a mistaken deletion can be cancelled.`,
            );
    },
};
