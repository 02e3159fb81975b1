import type { StackValidationPolicy } from "@pulumi/policy";
import { arr, explicitlyFalse, seconds, str, truthy } from "./lib/common";
import { admitsAnyone } from "./lib/entryPoint";
import { APPROLE_ROLE } from "./vault-approle-token-ttl";

/** Token roles (`auth/token/roles/<name>`): the monitoring token is issued from one. */
export const TOKEN_ROLE_TYPES = [
    "vault:tokenauth/authBackendRole:AuthBackendRole",
    "vault:index/tokenAuthBackendRole:TokenAuthBackendRole",
];

/**
 * The metrics reader's identity, judged as strictly as the AppRoles: token roles (nothing of this
 * program declares one since the metrics agent: a token role here is someone's shortcut around it)
 * and the AppRole role whose tokens carry the metrics policy.
 *
 * Prometheus's token comes from the Vault Agent beside it (components/monitoring/metricsPolicy.ts):
 * 15-minute tokens, 1h max, never orphan, never periodic. So a token role is held to the AppRole
 * bounds (vault-approle-token-ttl's numbers, the same config keys): token TTL ≤ 1h and max ≤ 4h, both
 * set; no period; not orphan (an orphan token outlives whatever revokes its creator); only the
 * metrics policy; no default policy.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `allowedPolicies` gains a policy (`default`, `root`, a copy of the backend policy) or is emptied
 *   (an empty list lets the creator attach any policy it holds); `allowedPoliciesGlobs` set;
 *   `tokenPolicies` names another policy; `tokenNoDefaultPolicy` off (the default policy comes back);
 * - `orphan` on; `tokenPeriod` set (a periodic token renews forever); `tokenTtl` or `tokenMaxTtl`
 *   unset, 0 (the mount's 768h) or above the AppRole bounds; `tokenExplicitMaxTtl` above them;
 *   renewable with no max;
 * - on the metrics AppRole role: `tokenPolicies` gains another policy; `tokenNoDefaultPolicy` off;
 * - `tokenBoundCidrs` (and the AppRole's `secretIdBoundCidrs`) removed or emptied while another
 *   AppRole role of the stack binds its tokens to addresses (the stack declares a binding), or
 *   widened to anyone in disguise (`0.0.0.0/0`, an IPv4 prefix shorter than /8, IPv6 shorter than
 *   /32: policies/lib/entryPoint.ts `admitsAnyone`, the entry point's measure).
 * TTLs and period of the metrics AppRole: vault-approle-token-ttl, as for every AppRole.
 */
export const vaultTokenRoleMetricsLeastPrivilege: StackValidationPolicy = {
    name: "vault-tokenrole-metrics-least-privilege",
    description:
        "The metrics identity is as strict as the AppRoles: token roles issue only the metrics policy (no default policy, no globs), never orphan or periodic tokens, with TTL ≤ 1h and max ≤ 4h; the metrics AppRole carries only the metrics policy without the default one; both bound to addresses where the stack binds AppRole tokens, never to anyone.",
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
                    "Policies a token role (or the metrics AppRole) may hand out (held to least privilege by vault-policy-metrics-least-privilege).",
            },
            maxTokenTtlSeconds: { type: "integer", default: 3600 },
            maxTokenMaxTtlSeconds: { type: "integer", default: 14400 },
        },
    },
    remediationSteps:
        'Let Prometheus\'s Vault Agent hold its token (components/monitoring): remove the token role, or give it allowedPolicies ["bonito-metrics"], tokenNoDefaultPolicy true, orphan false, no tokenPeriod, tokenTtl ≤ 1h and tokenMaxTtl ≤ 4h; with approleTokenBoundCidrs set, set monitoringTokenBoundCidrs to the addresses Prometheus and its agent reach Vault from.',
    validateStack: (args, report) => {
        const c = args.getConfig<{
            metricsPolicies?: string[];
            maxTokenTtlSeconds?: number;
            maxTokenMaxTtlSeconds?: number;
        }>();
        const allowed = c.metricsPolicies ?? ["bonito-metrics"];
        const maxTtl = c.maxTokenTtlSeconds ?? 3600;
        const maxMax = c.maxTokenMaxTtlSeconds ?? 14400;
        const isMetricsApprole = (x: { type: string; props: Record<string, unknown> }) =>
            x.type === APPROLE_ROLE && arr(x.props.tokenPolicies).some((p) => allowed.includes(String(p)));
        // The stack's own statement that tokens are bound to addresses: any other AppRole role that binds them.
        const binding = args.resources
            .filter((x) => x.type === APPROLE_ROLE && !isMetricsApprole(x) && arr(x.props.tokenBoundCidrs).length > 0)
            .map((x) => `${str(x.props.roleName) ?? x.name} (${arr(x.props.tokenBoundCidrs).join(", ")})`);
        const checkCidrs = (say: (m: string) => void, field: string, cidrs: string[]) => {
            if (cidrs.length === 0 && binding.length > 0)
                say(
                    `${field} is unset while the AppRole role ${binding.join(", ")} binds its tokens to addresses; bind the metrics identity too (monitoringTokenBoundCidrs: where Prometheus and its agent reach Vault from).`,
                );
            const open = cidrs.filter(admitsAnyone);
            if (open.length > 0)
                say(
                    `${field} lists ${open.join(", ")}, which admits anyone (an IPv4 prefix shorter than /8 or IPv6 shorter than /32); list where Prometheus and its agent reach Vault from.`,
                );
        };
        for (const r of args.resources.filter(isMetricsApprole)) {
            const p = r.props;
            const say = (m: string) => report(`AppRole role ${str(p.roleName) ?? r.name}: ${m}`, r.urn);
            const others = arr(p.tokenPolicies)
                .map(String)
                .filter((x) => !allowed.includes(x));
            if (others.length > 0)
                say(
                    `its tokens carry ${others.join(", ")} beside the metrics policy; carry only ${allowed.join(", ")}.`,
                );
            if (!truthy(p.tokenNoDefaultPolicy))
                say("tokenNoDefaultPolicy is off, so every token also carries the default policy; set it to true.");
            checkCidrs(say, "tokenBoundCidrs", arr(p.tokenBoundCidrs).map(String));
            checkCidrs(say, "secretIdBoundCidrs", arr(p.secretIdBoundCidrs).map(String));
        }
        for (const r of args.resources.filter((x) => TOKEN_ROLE_TYPES.includes(x.type))) {
            const p = r.props;
            const say = (m: string) => report(`Token role ${str(p.roleName) ?? r.name}: ${m}`, r.urn);
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
            checkCidrs(say, "tokenBoundCidrs", arr(p.tokenBoundCidrs).map(String));
            if (truthy(p.orphan))
                say(
                    "orphan is on: its tokens outlive the token that created them and any revocation of it; turn it off (Prometheus's Vault Agent logs in itself).",
                );
            const period = seconds(p.tokenPeriod) ?? 0;
            if (period > 0)
                say(
                    `tokenPeriod is ${period}s: a periodic token renews forever; remove it (the agent logs in again instead).`,
                );
            const ttl = seconds(p.tokenTtl) ?? 0;
            const max = seconds(p.tokenMaxTtl) ?? 0;
            const explicit = seconds(p.tokenExplicitMaxTtl) ?? 0;
            if (ttl === 0) say(`tokenTtl is unset (the mount's 768h); set it to at most ${maxTtl}s.`);
            else if (ttl > maxTtl) say(`tokenTtl is ${ttl}s; at most ${maxTtl}s (1h).`);
            if (max === 0 && explicit === 0)
                say(
                    `tokenMaxTtl is unset (the mount's 768h${explicitlyFalse(p.renewable) ? "" : ", renewable all that time"}); set it to at most ${maxMax}s.`,
                );
            else if (max > maxMax) say(`tokenMaxTtl is ${max}s; at most ${maxMax}s (4h).`);
            if (explicit > maxMax) say(`tokenExplicitMaxTtl is ${explicit}s; at most ${maxMax}s (4h).`);
        }
    },
};
