/**
 * The metrics reader: a policy that may read `sys/metrics` and nothing else, and the token role
 * Prometheus's token is issued from (orphan, periodic, only this policy, no default policy).
 */
import type { AclPolicy } from "../settings/acl";

export const METRICS_POLICY = "bonito-metrics";
export const METRICS_TOKEN_ROLE = "bonito-metrics";
/** The token's period: renewed by every `pulumi up` once less than half of it is left. */
export const METRICS_TOKEN_PERIOD_SECONDS = 30 * 24 * 3600;

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

/**
 * `POST auth/token/roles/<role>` body. `tokenBoundCidrs` (monitoringTokenBoundCidrs): the addresses
 * that may use the token; none = any address.
 */
export function renderMetricsTokenRole(tokenBoundCidrs: readonly string[] = []): Record<string, unknown> {
    return {
        ...(tokenBoundCidrs.length > 0 ? { token_bound_cidrs: [...tokenBoundCidrs] } : {}),
        allowed_policies: [METRICS_POLICY],
        disallowed_policies: ["root"],
        orphan: true,
        renewable: true,
        token_period: METRICS_TOKEN_PERIOD_SECONDS,
        token_no_default_policy: true,
        token_type: "service",
    };
}
