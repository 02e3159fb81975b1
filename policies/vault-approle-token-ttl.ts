import type { ResourceValidationPolicy } from "@pulumi/policy";
import { arr, seconds } from "./lib/common";

export const APPROLE_ROLE = "vault:appRole/authBackendRole:AuthBackendRole";

/**
 * Seed §4: AppRole tokens are short-lived (token_ttl 1h, token_max_ttl 4h) and carry a real policy.
 * 0 or unset means the mount's default (768h), so both must be set.
 *
 * One-field changes that would undo the same protection, each covered here: `token_ttl` or
 * `token_max_ttl` raised, removed or 0 (the mount's 768h); a duration written as a string (`"24h"`,
 * parsed); `token_explicit_max_ttl` raised; `token_period` set; `root` (or only `default`) in the
 * policies. A role that logs in without a secret id: `vault-approle-secret-id-required`.
 */
export const vaultAppRoleTokenTtl: ResourceValidationPolicy = {
    name: "vault-approle-token-ttl",
    description:
        "AppRole roles set token_ttl ≤ 1h and token_max_ttl ≤ 4h (both non-zero), issue no periodic tokens, and carry token policies other than root or only default.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "approle", "seed-4"],
    configSchema: {
        properties: {
            maxTokenTtlSeconds: { type: "integer", default: 3600 },
            maxTokenMaxTtlSeconds: { type: "integer", default: 14400 },
        },
    },
    remediationSteps:
        'Set tokenTtl: 3600, tokenMaxTtl: 14400 and tokenPolicies: ["bonito-backend"] (never root, never default alone).',
    validateResource: (args, report) => {
        if (args.type !== APPROLE_ROLE) return;
        const c = args.getConfig<{ maxTokenTtlSeconds?: number; maxTokenMaxTtlSeconds?: number }>();
        const maxTtl = c.maxTokenTtlSeconds ?? 3600;
        const maxMax = c.maxTokenMaxTtlSeconds ?? 14400;
        const ttl = seconds(args.props.tokenTtl);
        const max = seconds(args.props.tokenMaxTtl);
        if (!ttl)
            report(
                `token_ttl is ${String(args.props.tokenTtl ?? "unset")}, which means the mount default (768h); set it to at most ${maxTtl}s.`,
            );
        else if (ttl > maxTtl) report(`token_ttl is ${ttl}s; at most ${maxTtl}s (1h).`);
        if (!max)
            report(
                `token_max_ttl is ${String(args.props.tokenMaxTtl ?? "unset")}, which means the mount default (768h); set it to at most ${maxMax}s.`,
            );
        else if (max > maxMax) report(`token_max_ttl is ${max}s; at most ${maxMax}s (4h).`);
        const explicit = seconds(args.props.tokenExplicitMaxTtl);
        if (explicit && explicit > maxMax) report(`token_explicit_max_ttl is ${explicit}s; at most ${maxMax}s.`);
        const period = seconds(args.props.tokenPeriod);
        if (period) report(`token_period is ${period}s: periodic tokens renew forever; remove it.`);
        const policies = arr(args.props.tokenPolicies).map(String);
        if (policies.includes("root"))
            report("token_policies includes root; give the role its own least-privilege policy.");
        if (policies.filter((p) => p !== "default").length === 0)
            report(
                `token_policies is ${JSON.stringify(policies)}: the role's tokens would carry no policy of their own; name its least-privilege policy.`,
            );
    },
};
