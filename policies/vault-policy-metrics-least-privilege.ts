import type { ResourceValidationPolicy } from "@pulumi/policy";
import { str } from "./lib/common";
import { TOKEN_SELF_PATHS, describeAllowList, reportBeyondAllowList, type AllowList } from "./lib/vaultPolicy";
import { VAULT_POLICY } from "./vault-policy-backend-least-privilege";

export const METRICS_POLICY_NAME = "bonito-metrics";

/** Scraping is a read of sys/metrics; the token looks itself up, renews and revokes itself. */
export const METRICS_ALLOW_LIST: AllowList = {
    "sys/metrics": ["read"],
    ...TOKEN_SELF_PATHS,
};

/**
 * The metrics token sits in a file on the monitoring host (or in another team's Prometheus): it
 * may read metrics and nothing else.
 *
 * One-field changes that would undo the same protection, each covered here: a grant on `sys/*`
 * (or `*`), `sudo` or `update` on sys/metrics, a grant on any other path (`sys/storage/raft/snapshot`).
 */
export const vaultPolicyMetricsLeastPrivilege: ResourceValidationPolicy = {
    name: "vault-policy-metrics-least-privilege",
    description:
        "The metrics reader's Vault policy (bonito-metrics) grants only read on sys/metrics and the token self paths.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "policy", "monitoring", "least-privilege"],
    remediationSteps:
        "Render the bonito-metrics policy as components/monitoring/metricsPolicy.ts does: read on sys/metrics, the token self paths, nothing else.",
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
