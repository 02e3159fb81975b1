/**
 * The metrics reader: a policy that may read `sys/metrics` and nothing else, and the token role
 * Prometheus's token is issued from (orphan, periodic, only this policy, no default policy, and an
 * explicit max TTL that ends every token within 90 days).
 */
import type { AclPolicy } from "../settings/acl";
import { METRICS_TOKEN_SECONDS } from "../../policies/lib/limits";

export const METRICS_POLICY = "bonito-metrics";
export const METRICS_TOKEN_ROLE = "bonito-metrics";
/** The token's period: renewed by every `pulumi up` once less than half of it is left. */
export const METRICS_TOKEN_PERIOD_SECONDS = 30 * 24 * 3600;
/**
 * The token's hard end (`token_explicit_max_ttl`): an orphan periodic token has no parent and no
 * max TTL, so without it a leaked token renews itself forever. The pack's bound (limits.ts).
 */
export const METRICS_TOKEN_MAX_LIFE_SECONDS = METRICS_TOKEN_SECONDS.maxExplicitMaxTtl;

/**
 * Read `sys/metrics`; look up, renew and revoke itself (the token has no default policy, which
 * would grant more: cubbyhole, sys/wrapping, sys/capabilities-self…).
 */
export function renderMetricsPolicy(): AclPolicy {
    return {
        path: {
            "sys/metrics": { capabilities: ["read"] },
            "auth/token/lookup-self": { capabilities: ["read"] },
            "auth/token/renew-self": { capabilities: ["update"] },
            "auth/token/revoke-self": { capabilities: ["update"] },
        },
    };
}

/** `POST auth/token/roles/<role>` body. */
export function renderMetricsTokenRole(): Record<string, unknown> {
    return {
        allowed_policies: [METRICS_POLICY],
        disallowed_policies: ["root"],
        orphan: true,
        renewable: true,
        token_period: METRICS_TOKEN_PERIOD_SECONDS,
        token_explicit_max_ttl: METRICS_TOKEN_MAX_LIFE_SECONDS,
        token_no_default_policy: true,
        token_type: "service",
    };
}
