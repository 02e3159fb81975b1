import type { ResourceValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, isProdUrn } from "./lib/common";
import { AWS_KMS_KEY } from "./lib/kms";
import {
    AWS_KEY_DELETION_WINDOW,
    KEY_ROTATION_DAYS,
    awsKeyDeletionWindowReason,
    keyRotationReason,
} from "./lib/limits";

/**
 * A snapshot restores only with the same seal key, so the key bounds every backup's life: rotate
 * its material yearly and leave a month to notice a scheduled deletion.
 *
 * One-field changes that would undo the same protection, each covered here: enableKeyRotation
 * false, removed or `"true"` as a string (only `true` counts); rotationPeriodInDays stretched past
 * 365; deletionWindowInDays shortened (below 30 on prod, or `"29"`; below 7 elsewhere, the AWS
 * minimum the program's config also allows, from `lib/limits.ts`). Protection from deletion itself:
 * `kms-key-deletion-protected`; the key policy: `aws-kms-key-policy-least-privilege`.
 */
export const awsKmsKeyRotation: ResourceValidationPolicy = {
    name: "aws-kms-key-rotation",
    description:
        "AWS KMS keys enable automatic rotation at least quarterly (rotationPeriodInDays ≤ 90) and have a deletion window of at least 30 days on prod, 7 elsewhere.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["aws", "kms", "unseal", "seed-2"],
    configSchema: PROD_SCHEMA,
    remediationSteps: "Declare the key with `enableKeyRotation: true` and `deletionWindowInDays: 30`.",
    validateResource: (args, report) => {
        if (args.type !== AWS_KMS_KEY) return;
        if (args.props.enableKeyRotation !== true)
            report("The KMS key does not enable automatic rotation; set enableKeyRotation: true.");
        const period = args.props.rotationPeriodInDays;
        if (period !== undefined && !(Number(period) <= KEY_ROTATION_DAYS.max))
            report(`The KMS key rotates every ${String(period)} days; rotationPeriodInDays ${keyRotationReason()}.`);
        // Unset means AWS's default of 30 days.
        const window = args.props.deletionWindowInDays;
        const prod = isProdUrn(args.urn, args);
        const min = prod ? AWS_KEY_DELETION_WINDOW.prodMin : AWS_KEY_DELETION_WINDOW.min;
        if (window !== undefined && !(Number(window) >= min))
            report(
                `The KMS key's deletion window is ${String(window)} days; deletionWindowInDays ${awsKeyDeletionWindowReason(prod)}.`,
            );
    },
};
