/** The AWS unseal key as the stack declares it: the key the rendered `awskms` seal names. */
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { TYPES, sealsOf, serverConfigs, str, vaultRole } from "./common";

export const AWS_KMS_KEY = "aws:kms/key:Key";
export const AWS_KMS_ALIAS = "aws:kms/alias:Alias";
export const AWS_KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy";

/**
 * The unseal keys: those the `awskms` seal stanzas name by ARN, key id or alias (an alias resolves
 * through the stack's aliases), with the ARNs under which IAM statements would name them.
 */
export function awsUnsealKeys(args: StackValidationArgs): { keys: PolicyResource[]; arns: Set<string> } {
    const named = new Set<string>();
    for (const r of args.resources)
        if (r.type === TYPES.container && vaultRole(r.props) !== undefined)
            for (const cfg of serverConfigs(r.props, () => undefined))
                for (const seal of sealsOf(cfg.json))
                    if (seal.type === "awskms" && str(seal.settings.kms_key_id))
                        named.add(str(seal.settings.kms_key_id)!);
    const keys: PolicyResource[] = [];
    const arns = new Set<string>([...named].filter((n) => /^arn:aws[a-z-]*:kms:[^:]*:\d*:key\//.test(n)));
    if (named.size === 0) return { keys, arns };
    for (const a of args.resources.filter((r) => r.type === AWS_KMS_ALIAS))
        if (named.has(str(a.props.name) ?? "") || named.has(str(a.props.arn) ?? ""))
            named.add(str(a.props.targetKeyId) ?? "");
    for (const k of args.resources.filter((r) => r.type === AWS_KMS_KEY)) {
        const ids = [str(k.props.arn), str(k.props.keyId), str(k.props.id)].filter((x): x is string => !!x);
        if (!ids.some((i) => named.has(i))) continue;
        keys.push(k);
        if (str(k.props.arn)) arns.add(str(k.props.arn)!);
    }
    return { keys, arns };
}

/** The identifiers a KeyPolicy's `keyId` may use for a key. */
export function keyIds(k: PolicyResource): string[] {
    return [str(k.props.arn), str(k.props.keyId), str(k.props.id)].filter((x): x is string => !!x);
}
