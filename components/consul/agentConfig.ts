/**
 * Consul agent configurations (JSON; Consul reads `.json` config files as it reads HCL) for the
 * bundled Consul of `storage: consul`: 3 or 5 servers, and one client agent beside each Vault node
 * that Vault talks to on 127.0.0.1 only (HashiCorp's reference architecture for Vault on Consul).
 * Pure: plain data in, plain data out; the real-server tier (test/conformance/consul.test.ts) runs
 * exactly these documents.
 *
 * Hardened by default, each setting from Consul 1.16's agent configuration reference
 * (https://developer.hashicorp.com/consul/docs/v1.16.x/agent/config/config-files):
 * - ACLs on, `default_policy = "deny"`: nothing is allowed that a token's policy does not grant.
 *   `enable_token_persistence` keeps the agent token the program sets through
 *   `PUT /v1/agent/token/agent` in the data volume, so no token is ever written into a config file.
 * - Gossip encryption with incoming and outgoing verification (both default to true; stated here so
 *   a reader and the policy pack see them). The key is a secret: it is NOT in this file but in a
 *   separate fragment, {@link renderGossipKeyFragment}, uploaded 0400 and passed as a second
 *   `-config-file` (Consul has no `encrypt_file`; after the first start the key also lives in the
 *   data volume's `serf/local.keyring`).
 * - TLS on every port that is open: `verify_incoming` and `verify_outgoing` in `tls.defaults` (the
 *   docs: failing to set both "will result in TLS not being enabled at all"), and
 *   `tls.internal_rpc.verify_server_hostname` ("must be set to true to prevent a compromised client
 *   from gaining full read and write access to all cluster data including all ACL tokens"), so a
 *   server's certificate must name `server.<datacenter>.consul`. `verify_incoming` covers HTTPS too:
 *   Vault presents its node certificate (client_auth) to its local agent.
 * - Plain HTTP, DNS, gRPC and WAN gossip off (-1): Vault needs only HTTPS; one datacenter.
 * - No UI, no update check, no remote exec, no script checks (the docs' RCE warning), and no
 *   Connect: the service mesh defaults to on (`connect.enabled`, "Defaults to true") and starts a CA
 *   on the servers; Vault's storage uses none of it.
 */
import type { TlsMinVersion } from "../config";

/** Paths inside every Consul container (agent image layout: /consul/config, /consul/data). */
export const CONSUL_PATHS = {
    config: "/consul/config/agent.json",
    /** The gossip key fragment ({@link renderGossipKeyFragment}): secret, 0400. */
    gossipKey: "/consul/config/gossip-key.json",
    data: "/consul/data",
    caCert: "/consul/tls/ca.pem",
    cert: "/consul/tls/agent.pem",
    key: "/consul/tls/agent-key.pem",
} as const;

/** Consul's ports inside each container; every port not listed is off (-1). */
export const CONSUL_PORTS = { https: 8501, serfLan: 8301, server: 8300 } as const;

/**
 * The name Consul checks in every server certificate when `verify_server_hostname` is on
 * (`server.<datacenter>.<domain>`, domain `consul`).
 */
export function consulServerSan(datacenter: string): string {
    return `server.${datacenter}.consul`;
}

/**
 * The client agent certificate's conventional name (`consul tls cert create -client` issues
 * `client.<dc>.consul`); Consul does not check it, it only requires the CA's signature.
 */
export function consulClientSan(datacenter: string): string {
    return `client.${datacenter}.consul`;
}

/** Vault's `tls13`/`tls12` in Consul's spelling, so Consul follows the stack's tlsMinVersion. */
export function consulTlsMinVersion(v: TlsMinVersion): "TLSv1_2" | "TLSv1_3" {
    return v === "tls13" ? "TLSv1_3" : "TLSv1_2";
}

export interface ConsulAgentInput {
    /** The agent's node name: unique in the datacenter (Consul refuses a second node of that name). */
    nodeName: string;
    datacenter: string;
    /** Where each server is reached for the LAN join (DNS name or IP, optionally `:port`). */
    serverAddresses: string[];
    tlsMinVersion: TlsMinVersion;
}

export interface ConsulServerInput extends ConsulAgentInput {
    /** 3 or 5 (validated in components/config/consul.ts): an odd count, so a majority survives. */
    bootstrapExpect: number;
    /** Server addresses other than this one are joined; `serverAddresses[selfIndex]` is this server. */
    selfIndex: number;
}

/** The settings servers and client agents share. */
function common(input: ConsulAgentInput, retryJoin: string[]): Record<string, unknown> {
    return {
        node_name: input.nodeName,
        datacenter: input.datacenter,
        data_dir: CONSUL_PATHS.data,
        // Docker gives each container one private address; Consul advertises it. (The real-server
        // tier binds 127.0.0.1 instead: three agents share one host there.)
        bind_addr: "0.0.0.0",
        retry_join: retryJoin,
        log_level: "info",
        log_json: true,
        encrypt_verify_incoming: true,
        encrypt_verify_outgoing: true,
        tls: {
            defaults: {
                ca_file: CONSUL_PATHS.caCert,
                cert_file: CONSUL_PATHS.cert,
                key_file: CONSUL_PATHS.key,
                verify_incoming: true,
                verify_outgoing: true,
                tls_min_version: consulTlsMinVersion(input.tlsMinVersion),
            },
            internal_rpc: { verify_server_hostname: true },
        },
        ports: {
            https: CONSUL_PORTS.https,
            http: -1,
            dns: -1,
            grpc: -1,
            grpc_tls: -1,
            serf_wan: -1,
        },
        acl: { enabled: true, default_policy: "deny", enable_token_persistence: true },
        ui_config: { enabled: false },
        connect: { enabled: false },
        disable_update_check: true,
        disable_remote_exec: true,
        enable_script_checks: false,
        enable_local_script_checks: false,
    };
}

/**
 * One Consul server of the bundled cluster. `client_addr` 0.0.0.0: the program's one-time ACL
 * bootstrap and the snapshot sidecar reach a server's HTTPS API, which demands a CA-signed client
 * certificate (verify_incoming) and a token (default deny). `raft_multiplier` 1 is Consul's
 * production timing (its default, 5, is sized for minimal servers: a leader loss is noticed later).
 */
export function renderConsulServerConfig(input: ConsulServerInput): Record<string, unknown> {
    const peers = input.serverAddresses.filter((_, i) => i !== input.selfIndex);
    return {
        ...common(input, peers),
        server: true,
        bootstrap_expect: input.bootstrapExpect,
        client_addr: "0.0.0.0",
        performance: { raft_multiplier: 1 },
    };
}

/**
 * The client agent beside one Vault node: it joins the servers and serves HTTPS on 127.0.0.1 only
 * (`client_addr`), so nothing but the Vault process on the same network namespace reaches it.
 */
export function renderConsulClientConfig(input: ConsulAgentInput): Record<string, unknown> {
    return {
        ...common(input, input.serverAddresses),
        server: false,
        client_addr: "127.0.0.1",
    };
}

/**
 * The secret fragment holding the gossip key (base64 of 32 random bytes, `consul keygen`). Its
 * content must only ever travel as a Pulumi secret and be uploaded 0400, owned by the agent's user.
 */
export function renderGossipKeyFragment(gossipKey: string): string {
    if (Buffer.from(gossipKey, "base64").length !== 32 || !/^[A-Za-z0-9+/]{43}=$/.test(gossipKey))
        throw new Error("the Consul gossip key must be base64 of 32 bytes (consul keygen)");
    return JSON.stringify({ encrypt: gossipKey }) + "\n";
}

/** The agent's command: the public config, then the secret fragment (later files win on conflicts). */
export function consulAgentCommand(): string[] {
    return ["agent", `-config-file=${CONSUL_PATHS.config}`, `-config-file=${CONSUL_PATHS.gossipKey}`];
}

/** The file content uploaded to {@link CONSUL_PATHS.config}: two-space indent, trailing newline. */
export function renderConsulConfigJson(config: Record<string, unknown>): string {
    return JSON.stringify(config, null, 2) + "\n";
}
