/**
 * The metrics reader: a policy that may read `sys/metrics` and nothing else, and the Vault Agent
 * that holds Prometheus's token.
 *
 * Prometheus cannot log in to Vault; it reads a bearer token from a file on every scrape. The agent
 * (the stack's own Vault binary, `vault agent`) logs in with the `bonito-metrics` AppRole
 * (components/settings/plan.ts metricsRole: 15-minute tokens, 1h max, no default policy), renews
 * the token while it may, logs in again when it may not, and writes each token to a file sink
 * Prometheus reads (`credentials_file`). No token outlives an hour, none is orphan or periodic, and
 * nothing but the agent ever holds the secret ID.
 */
import type { AclPolicy } from "../settings/acl";

export const METRICS_POLICY = "bonito-metrics";

/**
 * Read `sys/metrics`; look up and renew itself (the agent renews its token with renew-self until
 * the role's max TTL, then logs in again). The token has no default policy, which would grant more:
 * cubbyhole, sys/wrapping, sys/capabilities-self, revoke-self…
 */
export function renderMetricsPolicy(): AclPolicy {
    return {
        path: {
            "sys/metrics": { capabilities: ["read"] },
            "auth/token/lookup-self": { capabilities: ["read"] },
            "auth/token/renew-self": { capabilities: ["update"] },
        },
    };
}

export interface MetricsAgentConfigInput {
    /** The Vault address the agent logs in at (https://host:port). */
    address: string;
    /** The cluster CA the agent verifies Vault with ("" when TLS ends at a trusted proxy: no CA to pin). */
    caFile: string;
    /** The name Vault's certificate is verified against (serviceName, a SAN of every node certificate). */
    tlsServerName: string;
    /** Mount of the AppRole auth method (without `auth/`). */
    approleMount: string;
    roleIdFile: string;
    secretIdFile: string;
    /** Where the agent writes each token (Prometheus's `credentials_file`). */
    sinkFile: string;
}

/**
 * The agent's configuration (JSON, which `vault agent -config` reads like HCL): auto-auth with the
 * AppRole from two files (the secret ID file is kept: the agent logs in again with it whenever its
 * token reaches its max TTL), one file sink written 0400 (the agent and Prometheus run as the same
 * user), no listener, no cache, no templates. `exit_after_auth` off: it runs for as long as Prometheus.
 */
export function renderMetricsAgentConfig(i: MetricsAgentConfigInput): string {
    if (!/^https?:\/\/[^/\s]+$/.test(i.address))
        throw new Error(
            `the metrics agent's Vault address must be http(s)://host:port, got ${JSON.stringify(i.address)}`,
        );
    const doc = {
        vault: {
            address: i.address,
            ...(i.caFile ? { ca_cert: i.caFile, tls_server_name: i.tlsServerName } : {}),
            tls_skip_verify: false,
            // Retry a failed request (a node restarting, a leader change) before giving up on it.
            retry: { num_retries: 12 },
        },
        auto_auth: {
            method: [
                {
                    type: "approle",
                    mount_path: `auth/${i.approleMount}`,
                    config: {
                        role_id_file_path: i.roleIdFile,
                        secret_id_file_path: i.secretIdFile,
                        remove_secret_id_file_after_reading: false,
                    },
                },
            ],
            sink: [{ type: "file", config: { path: i.sinkFile, mode: 0o400 } }],
        },
        exit_after_auth: false,
    };
    return `${JSON.stringify(doc, null, 2)}\n`;
}
