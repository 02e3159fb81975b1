import type { ResourceValidationPolicy } from "@pulumi/policy";
import { arr, explicitlyFalse } from "./lib/common";
import { APPROLE_ROLE } from "./vault-approle-token-ttl";

/**
 * An AppRole login is a role id (not a secret: it sits in config and logs) plus a secret id. With
 * `bind_secret_id` off the role id alone logs in, from wherever a CIDR binding allows, so the
 * secret id stays required; and the role's tokens carry only policies this pack holds to least
 * privilege.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `bindSecretId: false` (or `"false"`, `0`), with or without `secretIdBoundCidrs` /
 *   `tokenBoundCidrs` (a CIDR is where a caller is, not who it is);
 * - `tokenPolicies` gains a policy no least-privilege rule checks (`admin`, a renamed copy of the
 *   backend policy), which would hand the role's tokens anything.
 */
export const vaultAppRoleSecretIdRequired: ResourceValidationPolicy = {
    name: "vault-approle-secret-id-required",
    description:
        "AppRole roles require a secret id to log in (bind_secret_id on) and give their tokens only reviewed policies (config `reviewedPolicies`).",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "approle", "seed-4"],
    configSchema: {
        properties: {
            reviewedPolicies: {
                type: "array",
                items: { type: "string" },
                default: [
                    "default",
                    "bonito-backend",
                    "snapshot-agent",
                    "bonito-migration",
                    "bonito-rolling",
                    "bonito-metrics",
                ],
                description:
                    "Policies an AppRole token may carry: those held to least privilege by the vault-policy-* rules.",
            },
        },
    },
    remediationSteps:
        "Leave `bindSecretId` unset or true (deliver the secret id as a secret file), and name only reviewed policies in `tokenPolicies`.",
    validateResource: (args, report) => {
        if (args.type !== APPROLE_ROLE) return;
        if (explicitlyFalse(args.props.bindSecretId))
            report(
                "bind_secret_id is off, so the role id alone logs in; set bindSecretId: true (a CIDR binding does not replace the secret id).",
            );
        const reviewed = args.getConfig<{ reviewedPolicies?: string[] }>().reviewedPolicies ?? [];
        const unknown = arr(args.props.tokenPolicies)
            .map(String)
            .filter((p) => !reviewed.includes(p));
        if (unknown.length > 0)
            report(
                `token_policies names ${unknown.join(", ")}, which no least-privilege rule checks; use ${reviewed.join(", ")} (or add the policy to reviewedPolicies with its own rule).`,
            );
    },
};
