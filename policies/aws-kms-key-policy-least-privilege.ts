import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { str, truthy } from "./lib/common";
import { IAM_POLICY_TYPES, actionMatches, hasWildcard, parseDocument, principalValues } from "./lib/iam";
import { AWS_KMS_KEY, AWS_KMS_KEY_POLICY, awsUnsealKeys, keyIds } from "./lib/kms";

/** The account of an ARN (`arn:aws:iam::123456789012:role/x`) or a bare account id. */
function accountOf(principal: string): string | undefined {
    if (/^\d{12}$/.test(principal)) return principal;
    return /^arn:aws[a-z-]*:[^:]*:[^:]*:(\d{12}):/.exec(principal)?.[1];
}

/** `*` or `kms:*`: every KMS action, key deletion and policy replacement included. */
function everyAction(a: string): boolean {
    return a === "*" || /^kms:\*$/i.test(a);
}

/** Actions that use a key's material: what only the unseal identity may do with the unseal key. */
const USE_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateMac",
];

/**
 * The declared unseal identities: IAM roles and users whose inline policy names one of the unseal
 * key ARNs (the program's unseal role), by ARN.
 */
function unsealIdentities(resources: PolicyResource[], keyArns: Set<string>): Set<string> {
    const out = new Set<string>();
    for (const pol of resources.filter((r) => IAM_POLICY_TYPES.includes(r.type))) {
        const names = (parseDocument(pol.props.policy) ?? []).some(
            (st) => st.effect === "Allow" && st.resources.some((res) => keyArns.has(res)),
        );
        if (!names) continue;
        const ref = str(pol.props.role) ?? str(pol.props.user);
        for (const who of resources.filter((r) => r.type === "aws:iam/role:Role" || r.type === "aws:iam/user:User"))
            if (
                ref !== undefined &&
                [str(who.props.id), str(who.props.name), who.name].includes(ref) &&
                str(who.props.arn)
            )
                out.add(str(who.props.arn)!);
    }
    return out;
}

/**
 * A key policy is the last word on a KMS key: IAM cannot take back what it grants. No statement of
 * the unseal key's or the backup key's policy lets anyone (`*`) use or manage the key, or grants
 * every action; the unseal key declares its policy (without one, AWS's default policy gives the
 * account `kms:*`).
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `Principal: "*"`, `{ "AWS": "*" }`, `{ "AWS": ["…", "*"] }`, `{ "AWS": "arn:aws:iam::*:root" }`
 *   or `{ "Service": "*" }` on an Allow (any principal with a wildcard);
 * - `Action: "kms:*"` or `"*"` (any case) on an Allow;
 * - `NotAction` or `NotPrincipal` on an Allow (everything but a few);
 * - a principal in another AWS account (`arn:aws:iam::999999999999:root`, or its bare id) than
 *   the key's own;
 * - the `policy` removed from the unseal key (AWS's default then grants the account `kms:*`),
 *   or the policy moved to an `aws.kms.KeyPolicy` with the same holes;
 * - `bypassPolicyLockoutSafetyCheck: true`, which lets a policy lock the administrators out;
 * - on the unseal key, a statement that lets any principal but the declared unseal identity (the
 *   role whose policy names the key) encrypt, decrypt, re-encrypt or generate data keys: another
 *   role of the same account, the account root (every IAM principal the account allows), a
 *   service, or a second principal beside the unseal role.
 */
export const awsKmsKeyPolicyLeastPrivilege: StackValidationPolicy = {
    name: "aws-kms-key-policy-least-privilege",
    description:
        "KMS key policies (inline or aws.kms.KeyPolicy) allow no wildcard principal, no kms:* or *, no NotAction/NotPrincipal, and do not bypass the lockout safety check; the unseal key declares a key policy, and only the declared unseal identity may use it (encrypt, decrypt, re-encrypt, data keys).",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["aws", "kms", "unseal", "least-privilege"],
    remediationSteps:
        "Name each principal by ARN (the account root for administration, the Vault role for use) and list the actions: kms:Encrypt, kms:Decrypt, kms:DescribeKey for use; never `*` or kms:*.",
    validateStack: (args, report) => {
        const check = (owner: PolicyResource, what: string, doc: unknown, account?: string) => {
            const stmts = parseDocument(doc);
            if (!stmts) {
                report(`${what} is not a JSON policy document; render it as JSON so it can be checked.`, owner.urn);
                return;
            }
            stmts.forEach((s, i) => {
                if (s.effect !== "Allow") return;
                const id = s.sid ?? String(i);
                const anyone = principalValues(s.principals).filter(hasWildcard);
                if (anyone.length > 0)
                    report(
                        `${what}: statement ${id} allows principal ${anyone.join(", ")}; name the account root or the Vault role by ARN.`,
                        owner.urn,
                    );
                const foreign = principalValues(s.principals).filter(
                    (p) => account !== undefined && accountOf(p) !== undefined && accountOf(p) !== account,
                );
                if (foreign.length > 0)
                    report(
                        `${what}: statement ${id} allows principal ${foreign.join(", ")} of another account; only account ${account} may use or manage the key.`,
                        owner.urn,
                    );
                const all = s.actions.filter(everyAction);
                if (all.length > 0)
                    report(`${what}: statement ${id} allows ${all.join(", ")}; list the actions by name.`, owner.urn);
                if (s.notActions.length > 0 || s.notPrincipals !== undefined)
                    report(
                        `${what}: statement ${id} uses NotAction/NotPrincipal, which grants everything else; list actions and principals.`,
                        owner.urn,
                    );
            });
        };
        const keyPolicies = args.resources.filter((r) => r.type === AWS_KMS_KEY_POLICY);
        for (const k of args.resources.filter((r) => r.type === AWS_KMS_KEY)) {
            if (k.props.policy !== undefined && k.props.policy !== "")
                check(k, `KMS key ${k.name}'s policy`, k.props.policy, accountOf(str(k.props.arn) ?? ""));
            if (truthy(k.props.bypassPolicyLockoutSafetyCheck))
                report(
                    `KMS key ${k.name} bypasses the policy lockout safety check; remove bypassPolicyLockoutSafetyCheck.`,
                    k.urn,
                );
        }
        for (const p of keyPolicies) {
            check(p, `Key policy ${p.name}`, p.props.policy);
            if (truthy(p.props.bypassPolicyLockoutSafetyCheck))
                report(
                    `Key policy ${p.name} bypasses the policy lockout safety check; remove bypassPolicyLockoutSafetyCheck.`,
                    p.urn,
                );
        }
        const unseal = awsUnsealKeys(args);
        const identities = unsealIdentities(args.resources, unseal.arns);
        for (const k of unseal.keys) {
            const ids = keyIds(k);
            const docs: { owner: PolicyResource; doc: unknown }[] = [
                ...(k.props.policy !== undefined && k.props.policy !== "" ? [{ owner: k, doc: k.props.policy }] : []),
                ...keyPolicies
                    .filter(
                        (p) =>
                            ids.includes(str(p.props.keyId) ?? "") ||
                            (p.propertyDependencies?.keyId ?? []).some((d) => d.urn === k.urn),
                    )
                    .map((p) => ({ owner: p, doc: p.props.policy })),
            ];
            for (const { owner, doc } of docs)
                (parseDocument(doc) ?? []).forEach((st, i) => {
                    if (st.effect !== "Allow") return;
                    const uses = USE_ACTIONS.filter((u) => st.actions.some((a) => actionMatches(a, u)));
                    if (uses.length === 0) return;
                    const others = principalValues(st.principals).filter((pr) => !identities.has(pr));
                    if (others.length > 0)
                        report(
                            `The unseal key ${k.name}'s policy: statement ${st.sid ?? String(i)} lets ${others.join(", ")} use the key (${uses.join(", ")}); only the declared unseal identity${identities.size > 0 ? ` (${[...identities].join(", ")})` : ""} may.`,
                            owner.urn,
                        );
                });
            const declared =
                (k.props.policy !== undefined && k.props.policy !== "") ||
                keyPolicies.some(
                    (p) =>
                        ids.includes(str(p.props.keyId) ?? "") ||
                        (p.propertyDependencies?.keyId ?? []).some((d) => d.urn === k.urn),
                );
            if (!declared)
                report(
                    `The unseal key ${k.name} declares no key policy, so AWS's default gives the whole account kms:*; declare the policy on the key.`,
                    k.urn,
                );
        }
    },
};
