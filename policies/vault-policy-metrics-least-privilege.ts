import type { ResourceValidationPolicy } from "@pulumi/policy";
import { str } from "./lib/common";
import { describeAllowList, reportBeyondAllowList, type AllowList } from "./lib/vaultPolicy";
import { VAULT_POLICY } from "./vault-policy-backend-least-privilege";

export const METRICS_POLICY_NAME = "bonito-metrics";

/**
 * Scraping is a read of sys/metrics; the Vault Agent that holds the token looks it up and renews it
 * (within the role's max TTL). Not revoke-self: nothing revokes the token but its TTL.
 */
export const METRICS_ALLOW_LIST: AllowList = {
    "sys/metrics": ["read"],
    "auth/token/lookup-self": ["read"],
    "auth/token/renew-self": ["update"],
};

/**
 * The metrics token sits in a file on the monitoring host (or beside another team's Prometheus): it
 * may read metrics and nothing else.
 *
 * One-field changes that would undo the same protection, each covered here: a grant on `sys/*`
 * (or `*`), `sudo` or `update` on sys/metrics, a grant on any other path (`sys/storage/raft/snapshot`).
 */
export const vaultPolicyMetricsLeastPrivilege: ResourceValidationPolicy = {
    name: "vault-policy-metrics-least-privilege",
    description:
        "The metrics reader's Vault policy (bonito-metrics) grants only read on sys/metrics, lookup-self and renew-self.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "policy", "monitoring", "least-privilege"],
    remediationSteps:
        "Render the bonito-metrics policy as components/monitoring/metricsPolicy.ts does: read on sys/metrics, read on auth/token/lookup-self, update on auth/token/renew-self, nothing else.",
    validateResource: (args, report) => {
        if (args.type !== VAULT_POLICY) return;
        const name = str(args.props.name) ?? args.name;
        if (name !== METRICS_POLICY_NAME) return;
        reportBeyondAllowList(
            name,
            str(args.props.policy) ?? "",
            METRICS_ALLOW_LIST,
            (beyond) =>
                `Metrics policy ${name} grants ${beyond}; it may only read metrics: ${describeAllowList(METRICS_ALLOW_LIST)}.`,
            report,
        );
    },
};
