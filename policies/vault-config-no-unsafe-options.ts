import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
    PROD_SCHEMA,
    TYPES,
    isProdUrn,
    obj,
    serverConfigs,
    str,
    tcpListeners,
    truthy,
    vaultRole,
    type Props,
} from "./lib/common";
import { listenerName } from "./lib/listener";

/** Top-level settings reviewed as safe (the rest of the pack checks their values). */
export const SAFE_TOP_LEVEL = [
    "cluster_name",
    "ui",
    "disable_mlock",
    "log_level",
    "log_format",
    "log_file",
    "api_addr",
    "cluster_addr",
    "default_lease_ttl",
    "max_lease_ttl",
    "storage",
    "listener",
    "seal",
    "telemetry",
    "audit",
];
/** tcp listener settings reviewed as safe (TLS values are checked by the vault-listener-* rules). */
export const SAFE_LISTENER = [
    "address",
    "cluster_address",
    "tls_disable",
    "tls_cert_file",
    "tls_key_file",
    "tls_min_version",
    "tls_max_version",
    "tls_cipher_suites",
    "tls_client_ca_file",
    "tls_require_and_verify_client_cert",
    "tls_disable_client_certs",
    "custom_response_headers",
    "max_request_size",
    "max_request_duration",
    "http_read_header_timeout",
    "http_read_timeout",
    "http_write_timeout",
    "http_idle_timeout",
];
/**
 * Switches HashiCorp documents as highly privileged or as leaking what an attacker wants, with why.
 * They get a specific message; anything else outside the allow-lists gets the generic one.
 */
const UNSAFE_TOP_LEVEL: Record<string, string> = {
    raw_storage_endpoint: "sys/raw reads and writes storage beneath the barrier, bypassing every policy check",
    introspection_endpoint: "sys/internal/inspect exposes Vault's internal state",
    enable_response_header_hostname: "every response names the node's host",
    enable_response_header_raft_node_id: "every response names the node's Raft id",
    disable_sealwrap: "values the seal wraps would be stored under the barrier key alone",
    plugin_directory: "Vault would run plugin binaries from a directory",
};
/** Listener blocks whose `unauthenticated_*` switch opens an endpoint without a token. */
const UNAUTHENTICATED: [string, string][] = [
    ["telemetry", "unauthenticated_metrics_access"],
    ["profiling", "unauthenticated_pprof_access"],
    ["inflight_requests_logging", "unauthenticated_in_flight_requests_access"],
];

/**
 * HashiCorp's production hardening (and the server configuration reference) leave the debugging
 * and raw-access switches off: `raw_storage_endpoint`, `introspection_endpoint`, the response
 * headers naming the node, unauthenticated metrics, pprof and in-flight request listings. An
 * allow-list of settings catches the ones not listed here too (`unsafe_*` options of OpenBao,
 * `plugin_directory`, `x_forwarded_for_authorized_addrs` that trusts any client's claimed address).
 *
 * One-field changes that would undo the same protection, each covered here:
 * - a switch set as a string (`"true"`, `"1"`) or a number (1) instead of a boolean;
 * - the switch set on the second (join) listener instead of the first;
 * - a new block on a listener (`profiling`, `inflight_requests_logging`, `x_forwarded_for_*`,
 *   `proxy_protocol_*`) or a new top-level setting (`raw_storage_endpoint`, `unsafe_*`) not in
 *   {@link SAFE_TOP_LEVEL} / {@link SAFE_LISTENER};
 * - an extra config file uploaded under /vault/config/ (every such file is read);
 * - a listener of another type (`unix`), which none of the TLS rules read;
 * - `ui` turned on on prod (the extended recommendations: expose nothing an operator does not use;
 *   the committed prod stack keeps it off, local turns it on).
 */
export const vaultConfigNoUnsafeOptions: ResourceValidationPolicy = {
    name: "vault-config-no-unsafe-options",
    description:
        "Vault server configs set only reviewed settings: no UI on prod, no raw_storage_endpoint, introspection_endpoint, node-naming response headers, disable_sealwrap or plugin_directory; no listener opens metrics, pprof or in-flight requests without a token; any other setting is refused until reviewed.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "hardening"],
    configSchema: PROD_SCHEMA,
    remediationSteps:
        "Remove the setting from the rendered config (components/serverConfig.ts); if a new setting is safe, add it to SAFE_TOP_LEVEL or SAFE_LISTENER in policies/vault-config-no-unsafe-options.ts after review.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || vaultRole(args.props) === undefined) return;
        const prod = isProdUrn(args.urn, args);
        for (const cfg of serverConfigs(args.props, () => undefined)) {
            if (prod && truthy(cfg.json.ui)) report(`${cfg.file} turns the web UI on on prod; set ui: false.`);
            for (const [key, value] of Object.entries(cfg.json)) {
                if (SAFE_TOP_LEVEL.includes(key)) continue;
                const why = UNSAFE_TOP_LEVEL[key];
                if (why !== undefined) {
                    if (truthy(value) || (key === "plugin_directory" && str(value)))
                        report(`${cfg.file} sets ${key}: ${why}. Remove it.`);
                } else
                    report(
                        `${cfg.file} sets ${key}, which is not a reviewed setting; remove it (or review it and add it to SAFE_TOP_LEVEL).`,
                    );
            }
            const raw = cfg.json.listener;
            for (const item of Array.isArray(raw) ? raw : raw !== undefined ? [raw] : [])
                for (const type of Object.keys(obj(item) ?? {}).filter((t) => t !== "tcp"))
                    report(
                        `${cfg.file} declares a ${type} listener, which is not reviewed; serve Vault on tcp listeners only.`,
                    );
            tcpListeners(cfg.json).forEach((l, i) => checkListener(`${cfg.file}: ${listenerName(l, i)}`, l, report));
        }
    },
};

function checkListener(where: string, l: Props, report: (m: string) => void): void {
    for (const key of Object.keys(l)) {
        const unauthenticated = UNAUTHENTICATED.find(([block]) => block === key);
        if (SAFE_LISTENER.includes(key)) continue;
        if (!unauthenticated) {
            report(
                `${where} sets ${key}, which is not a reviewed listener setting; remove it (or review it and add it to SAFE_LISTENER).`,
            );
            continue;
        }
        const [block, flag] = unauthenticated;
        for (const [sub, value] of Object.entries(obj(l[block]) ?? {}))
            if (sub !== flag)
                report(`${where} sets ${block}.${sub}, which is not a reviewed listener setting; remove it.`);
            else if (truthy(value))
                report(`${where} sets ${block}.${flag}; the endpoint must require a token. Remove it.`);
    }
}
