import type { StackValidationPolicy } from "@pulumi/policy";
import { arr, explicitlyFalse, seconds, str, truthy } from "./lib/common";
import { METRICS_TOKEN_SECONDS } from "./lib/limits";
import { APPROLE_ROLE } from "./vault-approle-token-ttl";

/** Token roles (`auth/token/roles/<name>`): the monitoring token is issued from one. */
export const TOKEN_ROLE_TYPES = [
    "vault:tokenauth/authBackendRole:AuthBackendRole",
    "vault:index/tokenAuthBackendRole:TokenAuthBackendRole",
];

const days = (s: number) => `${Math.round((s / 86400) * 10) / 10} days`;

/**
 * The token role the monitoring token is issued from, judged as strictly as the AppRoles: its
 * tokens carry only the metrics policy, live a bounded time, and are bound to the stack's client
 * ranges when the stack binds its AppRole tokens.
 *
 * The program issues an orphan, periodic token (Pulumi's admin token that creates it lives two
 * hours, so a child token would die with it). An orphan or periodic token has no parent and no
 * max TTL to end it, so the role must set `token_explicit_max_ttl`: a leaked token then dies at
 * that date whoever renews it.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `allowedPolicies` gains a policy (`default`, `root`, a copy of the backend policy) or is emptied
 *   (an empty list lets the creator attach any policy it holds); `allowedPoliciesGlobs` set;
 *   `tokenPolicies` names another policy; `tokenNoDefaultPolicy` off (the default policy comes back);
 * - `tokenPeriod` raised beyond a month, or the token made non-periodic without a TTL or a max
 *   (`tokenTtl`/`tokenMaxTtl` 0: the mount's 768h, renewable forever within it);
 * - `tokenExplicitMaxTtl` removed or raised beyond 90 days on an orphan or periodic role;
 * - `tokenBoundCidrs` missing while the stack binds its AppRole tokens to client ranges.
 */
export const vaultTokenRoleMetricsLeastPrivilege: StackValidationPolicy = {
    name: "vault-tokenrole-metrics-least-privilege",
    description:
        "Token roles (the monitoring token's) allow only the metrics policy (no default policy, no globs), bound TTLs (period ≤ 31 days, explicit max ≤ 90 days on orphan or periodic tokens, never renewable without a max), and bind token CIDRs when the stack's AppRoles do.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "token", "monitoring", "least-privilege"],
    configSchema: {
        properties: {
            metricsPolicies: {
                type: "array",
                items: { type: "string" },
                default: ["bonito-metrics"],
                description:
                    "Policies a token role may hand out (held to least privilege by vault-policy-metrics-least-privilege).",
            },
        },
    },
    remediationSteps:
        'Declare the token role as the program does: allowedPolicies ["bonito-metrics"], tokenNoDefaultPolicy true, tokenPeriod ≤ 31 days with tokenExplicitMaxTtl ≤ 90 days, and tokenBoundCidrs = approleTokenBoundCidrs when set.',
    validateStack: (args, report) => {
        const allowed = args.getConfig<{ metricsPolicies?: string[] }>().metricsPolicies ?? ["bonito-metrics"];
        const approleCidrs = args.resources
            .filter((r) => r.type === APPROLE_ROLE)
            .some((r) => arr(r.props.tokenBoundCidrs).length > 0);
        for (const r of args.resources.filter((x) => TOKEN_ROLE_TYPES.includes(x.type))) {
            const p = r.props;
            const role = `Token role ${str(p.roleName) ?? r.name}`;
            const say = (m: string) => report(`${role}: ${m}`, r.urn);
            const policies = arr(p.allowedPolicies).map(String);
            if (policies.length === 0)
                say(
                    `allowedPolicies is empty, so its tokens may carry any policy of the token that creates them; allow only ${allowed.join(", ")}.`,
                );
            const others = [...policies, ...arr(p.tokenPolicies).map(String)].filter((x) => !allowed.includes(x));
            if (others.length > 0)
                say(`its tokens may carry ${[...new Set(others)].join(", ")}; allow only ${allowed.join(", ")}.`);
            if (arr(p.allowedPoliciesGlobs).length > 0)
                say(`allowedPoliciesGlobs ${JSON.stringify(p.allowedPoliciesGlobs)} admits other policies; remove it.`);
            if (!truthy(p.tokenNoDefaultPolicy))
                say("tokenNoDefaultPolicy is off, so every token also carries the default policy; set it to true.");
            const period = seconds(p.tokenPeriod) ?? 0;
            const explicit = seconds(p.tokenExplicitMaxTtl) ?? 0;
            const ttl = seconds(p.tokenTtl) ?? 0;
            const max = seconds(p.tokenMaxTtl) ?? 0;
            const orphan = truthy(p.orphan);
            if (period > METRICS_TOKEN_SECONDS.maxPeriod)
                say(`tokenPeriod is ${days(period)}; at most ${days(METRICS_TOKEN_SECONDS.maxPeriod)}.`);
            if ((orphan || period > 0) && explicit === 0)
                say(
                    `its tokens are ${orphan ? "orphan" : ""}${orphan && period > 0 ? " and " : ""}${period > 0 ? "periodic" : ""} with no tokenExplicitMaxTtl: nothing ends a token that keeps being renewed; set tokenExplicitMaxTtl to at most ${days(METRICS_TOKEN_SECONDS.maxExplicitMaxTtl)}.`,
                );
            if (explicit > METRICS_TOKEN_SECONDS.maxExplicitMaxTtl)
                say(
                    `tokenExplicitMaxTtl is ${days(explicit)}; at most ${days(METRICS_TOKEN_SECONDS.maxExplicitMaxTtl)}.`,
                );
            if (period === 0) {
                if (ttl === 0 || ttl > METRICS_TOKEN_SECONDS.maxPeriod)
                    say(
                        `tokenTtl is ${ttl === 0 ? "unset (the mount's 768h)" : days(ttl)}; set it to at most ${days(METRICS_TOKEN_SECONDS.maxPeriod)}.`,
                    );
                if (!explicitlyFalse(p.renewable) && max === 0 && explicit === 0)
                    say("its tokens are renewable with no tokenMaxTtl or tokenExplicitMaxTtl; bound them.");
                if (max > METRICS_TOKEN_SECONDS.maxExplicitMaxTtl)
                    say(`tokenMaxTtl is ${days(max)}; at most ${days(METRICS_TOKEN_SECONDS.maxExplicitMaxTtl)}.`);
            }
            if (approleCidrs && arr(p.tokenBoundCidrs).length === 0)
                say(
                    "the stack binds its AppRole tokens to client ranges (approleTokenBoundCidrs) but this role's tokens are usable from anywhere; set tokenBoundCidrs to the same ranges.",
                );
        }
    },
};
