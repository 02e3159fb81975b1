/**
 * Renders one node's server configuration as JSON (Vault and OpenBao read `.json` config files,
 * so nothing here is hand-written HCL). Pure: plain data in, plain data out; the real-server tests
 * reuse it.
 *
 * Nothing secret is ever rendered: TLS keys are referenced by path and seal credentials travel as
 * environment or files (see seal.ts).
 */
import { baseName } from "./naming";
import type { CoreConfig } from "./config";
import type { SealStanza } from "./seal";
import { PATHS, type NodePlan } from "./topology";

/** A declared audit device, rendered into the config only for OpenBao (see README). */
export interface AuditStanza {
    type: "file" | "syslog" | "socket";
    path: string;
    description?: string;
    options: Record<string, string>;
}

export interface ServerConfigInput {
    config: CoreConfig & { stack: string };
    node: NodePlan;
    /** Every node of the cluster, this one included (it is skipped in retry_join). */
    nodes: NodePlan[];
    seal: SealStanza;
    /** Audit devices declared in the file; only used when `config.engine` is openbao. */
    audit?: AuditStanza[];
    /**
     * Required when `config.storage` is consul: the stanza components/consul/storage.ts renders
     * (kept out of this file so the core does not import the optional Consul room).
     */
    consulStorage?: { consul: Record<string, string> };
}

/**
 * HSTS: a year, sub-domains included (Vault only ever answers over TLS here). Nothing else: Vault's
 * UI already sends `X-Content-Type-Options: nosniff` (and its CSP), and a configured copy makes every
 * node log "found a duplicate header in UI" twice per start (seen on Vault 1.21.1, test/conformance).
 */
export const RESPONSE_HEADERS = {
    default: {
        "Strict-Transport-Security": ["max-age=31536000; includeSubDomains"],
    },
};

export function renderServerConfig(input: ServerConfigInput): Record<string, unknown> {
    const { config: c, node, nodes, seal } = input;
    const tlsOn = c.tls.mode !== "upstream-proxy";
    const raft = c.storage === "raft";
    // Raft and Consul are HA: standbys forward requests to the active node over the cluster port.
    const ha = c.storage !== "file";

    const mainListener: Record<string, unknown> = {
        address: `0.0.0.0:${c.apiPort}`,
        ...(ha ? { cluster_address: `0.0.0.0:${c.clusterPort}` } : {}),
        ...(tlsOn
            ? {
                  tls_disable: false,
                  tls_cert_file: PATHS.nodeCert,
                  tls_key_file: PATHS.nodeKey,
                  tls_min_version: c.tls.minVersion,
                  custom_response_headers: RESPONSE_HEADERS,
              }
            : { tls_disable: true }),
        telemetry: { unauthenticated_metrics_access: false },
    };
    const listeners: Record<string, unknown>[] = [{ tcp: mainListener }];
    if (c.tls.mtls) {
        // The join listener: retry_join presents the node's client certificate here. Vault opens a
        // cluster listener beside every tcp listener; pin it to peerPort+1 (never published).
        listeners.push({
            tcp: {
                address: `0.0.0.0:${c.peerPort}`,
                cluster_address: `0.0.0.0:${c.peerPort + 1}`,
                tls_disable: false,
                tls_cert_file: PATHS.nodeCert,
                tls_key_file: PATHS.nodeKey,
                tls_min_version: c.tls.minVersion,
                tls_client_ca_file: PATHS.caCert,
                tls_require_and_verify_client_cert: true,
                custom_response_headers: RESPONSE_HEADERS,
                telemetry: { unauthenticated_metrics_access: false },
            },
        });
    }

    if (c.storage === "consul" && !input.consulStorage)
        throw new Error("storage is consul but no consul storage stanza was given (components/consul/storage.ts)");
    const storage = raft
        ? {
              raft: {
                  path: PATHS.data,
                  node_id: node.name,
                  // Raft's timing scale: 1 is HashiCorp's production value (Vault's default, 5, is
                  // development timing: a leader loss takes 5-10 s longer to notice).
                  performance_multiplier: c.raftPerformanceMultiplier,
                  retry_join: nodes
                      .filter((n) => n.name !== node.name)
                      .map((peer) =>
                          tlsOn
                              ? {
                                    leader_api_addr: peer.joinAddr,
                                    leader_ca_cert_file: PATHS.caCert,
                                    leader_client_cert_file: PATHS.nodeCert,
                                    leader_client_key_file: PATHS.nodeKey,
                                    leader_tls_servername: peer.name,
                                }
                              : { leader_api_addr: peer.joinAddr },
                      ),
              },
          }
        : c.storage === "consul"
          ? input.consulStorage
          : { file: { path: PATHS.data } };

    const out: Record<string, unknown> = {
        cluster_name: baseName(c.clusterName, c.stack),
        ui: c.ui,
        // Raft's docs advise disable_mlock: mlock cannot cover the memory-mapped BoltDB files. With
        // Consul or file storage, Vault's docs allow it where the host uses no swap, which holds for
        // every node: the container's memory_swap equals its memory limit (docs/architecture.md "Security posture").
        disable_mlock: true,
        log_level: c.logLevel,
        log_format: "json",
        api_addr: node.apiAddr,
        ...(ha ? { cluster_addr: node.clusterAddr } : {}),
        default_lease_ttl: c.defaultLeaseTtl,
        max_lease_ttl: c.maxLeaseTtl,
        storage,
        listener: listeners,
        seal: { [seal.type]: seal.config },
        // Metrics for Prometheus (components/monitoring): a day of retention in Vault's own sink, no
        // hostname prefix (the scrape labels the node), usage gauges (token, entity, secret counts)
        // every 10 minutes, Vault's default made explicit.
        telemetry: { prometheus_retention_time: "24h", disable_hostname: true, usage_gauge_period: "10m" },
    };
    if (c.engine === "openbao" && input.audit && input.audit.length > 0) {
        // OpenBao >= 2.3 refuses audit devices created through the API unless the config sets
        // unsafe_allow_api_audit_creation; declaring them here keeps that door shut.
        out.audit = input.audit.map((a) => ({
            [a.type]: { [a.path]: { ...(a.description ? { description: a.description } : {}), options: a.options } },
        }));
    }
    return out;
}

/** The file content uploaded to {@link PATHS.config}: stable key order, two-space indent. */
export function renderServerConfigJson(input: ServerConfigInput): string {
    return JSON.stringify(renderServerConfig(input), null, 2) + "\n";
}
