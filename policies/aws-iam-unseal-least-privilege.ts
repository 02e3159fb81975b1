import type { StackValidationPolicy } from "@pulumi/policy";
import { TYPES, sealsOf, serverConfigs, str, vaultRole } from "./lib/common";
import { IAM_POLICY_TYPES, parseDocument } from "./lib/iam";

export const UNSEAL_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"];
const KMS_KEY = "aws:kms/key:Key";
const KMS_ALIAS = "aws:kms/alias:Alias";

/**
 * Seed §2: the unseal identity may use exactly one key, with exactly encrypt, decrypt and describe.
 * The unseal key is the one the rendered `awskms` seal stanza names (by ARN, key id or alias); every
 * IAM statement that grants anything on it is held to that rule, and may name no other resource.
 * Other KMS keys (a backup bucket's SSE-KMS key) are not the unseal key and are left to the other rules.
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
        const named = new Set<string>();
        for (const r of args.resources)
            if (r.type === TYPES.container && vaultRole(r.props) !== undefined)
                for (const cfg of serverConfigs(r.props, () => undefined))
                    for (const seal of sealsOf(cfg.json))
                        if (seal.type === "awskms" && str(seal.settings.kms_key_id))
                            named.add(str(seal.settings.kms_key_id)!);
        if (named.size === 0) return;
        for (const a of args.resources.filter((r) => r.type === KMS_ALIAS))
            if (named.has(str(a.props.name) ?? "") || named.has(str(a.props.arn) ?? ""))
                named.add(str(a.props.targetKeyId) ?? "");
        const unsealArns = new Set<string>([...named].filter((n) => /^arn:aws[a-z-]*:kms:[^:]*:\d*:key\//.test(n)));
        for (const k of args.resources.filter((r) => r.type === KMS_KEY)) {
            const ids = [str(k.props.arn), str(k.props.keyId), str(k.props.id)].filter((x): x is string => !!x);
            if (ids.some((i) => named.has(i)) && str(k.props.arn)) unsealArns.add(str(k.props.arn)!);
        }
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
