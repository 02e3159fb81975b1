import type { StackValidationPolicy } from "@pulumi/policy";
import { arr, explicitlyFalse, seconds, str, truthy } from "./lib/common";
import { admitsAnyone } from "./lib/entryPoint";
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
 * tokens carry only the metrics policy and live a bounded time.
 *
 * The program issues an orphan, periodic token (Pulumi's admin token that creates it lives two
 * hours, so a child token would die with it). Its period (≤ 31 days) is what ends a token no one
 * renews. An explicit max TTL cannot end it instead: Vault caps `token_explicit_max_ttl` at the
 * token mount's max TTL (the stack's maxLeaseTtl, ≤ 168h on prod) and refuses to create tokens from
 * a role whose explicit max exceeds it (Vault 1.21.1, test/conformance/alerts.test.ts), so a
 * 90-day hard end would stop the monitoring token from being issued at all. A leaked metrics token
 * can only read sys/metrics; `pulumi destroy` of the MetricsToken revokes it.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `allowedPolicies` gains a policy (`default`, `root`, a copy of the backend policy) or is emptied
 *   (an empty list lets the creator attach any policy it holds); `allowedPoliciesGlobs` set;
 *   `tokenPolicies` names another policy; `tokenNoDefaultPolicy` off (the default policy comes back);
 * - `tokenPeriod` raised beyond a month, or the token made non-periodic without a TTL or a max
 *   (`tokenTtl`/`tokenMaxTtl` 0: the mount's 768h, renewable forever within it);
 * - `tokenExplicitMaxTtl` raised beyond 90 days;
 * - `tokenBoundCidrs` removed (or emptied) while an AppRole role of the stack binds its tokens to
 *   addresses (the stack declares a binding: the longest-lived token must not be the unbound one),
 *   or widened to anyone in disguise (`0.0.0.0/0`, an IPv4 prefix shorter than /8, IPv6 shorter
 *   than /32: policies/lib/entryPoint.ts `admitsAnyone`, the entry point's measure).
 *
 * Not refused: orphan and periodic tokens, which this design needs (above); an agent that logs in
 * with an AppRole and rewrites Prometheus's token file would remove both (not built).
 */
export const vaultTokenRoleMetricsLeastPrivilege: StackValidationPolicy = {
    name: "vault-tokenrole-metrics-least-privilege",
    description:
        "Token roles (the monitoring token's) allow only the metrics policy (no default policy, no globs) and bound TTLs (period ≤ 31 days, explicit max ≤ 90 days, a non-periodic token never renewable without a max), bound to addresses where the stack binds AppRole tokens, never to anyone.",
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
        'Declare the token role as the program does: allowedPolicies ["bonito-metrics"], tokenNoDefaultPolicy true, tokenPeriod ≤ 31 days (tokenExplicitMaxTtl, if set, ≤ 90 days and within the stack\'s maxLeaseTtl); with approleTokenBoundCidrs set, set monitoringTokenBoundCidrs to the addresses Prometheus scrapes from.',
    validateStack: (args, report) => {
        const allowed = args.getConfig<{ metricsPolicies?: string[] }>().metricsPolicies ?? ["bonito-metrics"];
        // The stack's own statement that tokens are bound to addresses: any AppRole role that binds them.
        const binding = args.resources
            .filter((x) => x.type === APPROLE_ROLE && arr(x.props.tokenBoundCidrs).length > 0)
            .map((x) => `${str(x.props.roleName) ?? x.name} (${arr(x.props.tokenBoundCidrs).join(", ")})`);
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
            const cidrs = arr(p.tokenBoundCidrs).map(String);
            if (cidrs.length === 0 && binding.length > 0)
                say(
                    `tokenBoundCidrs is unset while the AppRole role ${binding.join(", ")} binds its tokens to addresses; bind the metrics token too (monitoringTokenBoundCidrs: the addresses Prometheus scrapes from).`,
                );
            const open = cidrs.filter(admitsAnyone);
            if (open.length > 0)
                say(
                    `tokenBoundCidrs lists ${open.join(", ")}, which admits anyone (an IPv4 prefix shorter than /8 or IPv6 shorter than /32); list the addresses Prometheus scrapes from.`,
                );
            const period = seconds(p.tokenPeriod) ?? 0;
            const explicit = seconds(p.tokenExplicitMaxTtl) ?? 0;
            const ttl = seconds(p.tokenTtl) ?? 0;
            const max = seconds(p.tokenMaxTtl) ?? 0;
            if (period > METRICS_TOKEN_SECONDS.maxPeriod)
                say(`tokenPeriod is ${days(period)}; at most ${days(METRICS_TOKEN_SECONDS.maxPeriod)}.`);
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
        }
    },
};
