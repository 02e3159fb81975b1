import type { StackValidationPolicy } from "@pulumi/policy";
import { IAM_POLICY_TYPES, parseDocument } from "./lib/iam";
import { awsUnsealKeys } from "./lib/kms";

export const UNSEAL_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"];

/**
 * Seed §2: the unseal identity may use exactly one key, with exactly encrypt, decrypt and describe.
 * The unseal key is the one the rendered `awskms` seal stanza names (by ARN, key id or alias); every
 * IAM statement that grants anything on it is held to that rule, and may name no other resource.
 * Other KMS keys (a backup bucket's SSE-KMS key) are not the unseal key and are left to the other rules.
 *
 * One-field changes that would undo the same protection, each covered here: an action added to the
 * unseal statement (`kms:ScheduleKeyDeletion`, `kms:PutKeyPolicy`, `kms:*`); a second resource
 * beside the unseal key; the key named by alias or key id in the seal (resolved). A statement moved
 * to `Resource: "*"` no longer names the key: `aws-iam-policy-no-wildcards` refuses it.
 */
export const awsIamUnsealLeastPrivilege: StackValidationPolicy = {
    name: "aws-iam-unseal-least-privilege",
    description:
        "IAM statements that grant access to the unseal KMS key (the key the awskms seal names) allow only kms:Encrypt, kms:Decrypt and kms:DescribeKey, on that one key.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["aws", "iam", "unseal", "least-privilege"],
    remediationSteps:
        'Use one statement: Action ["kms:Encrypt","kms:Decrypt","kms:DescribeKey"], Resource "<the unseal key ARN>".',
    validateStack: (args, report) => {
        const unsealArns = awsUnsealKeys(args).arns;
        if (unsealArns.size === 0) return;
        for (const p of args.resources.filter((r) => IAM_POLICY_TYPES.includes(r.type))) {
            (parseDocument(p.props.policy) ?? []).forEach((s, i) => {
                if (s.effect !== "Allow" || !s.resources.some((r) => unsealArns.has(r))) return;
                const id = s.sid ?? String(i);
                const extra = s.actions.filter((a) => !UNSEAL_ACTIONS.some((u) => u.toLowerCase() === a.toLowerCase()));
                if (extra.length > 0)
                    report(
                        `${p.name}: statement ${id} grants ${extra.join(", ")} on the unseal key; only ${UNSEAL_ACTIONS.join(", ")} are allowed.`,
                        p.urn,
                    );
                const others = s.resources.filter((r) => !unsealArns.has(r));
                if (others.length > 0)
                    report(
                        `${p.name}: statement ${id} grants unseal-key use together with ${others.join(", ")}; name the one key only.`,
                        p.urn,
                    );
            });
        }
    },
};
