/**
 * Vault's `storage "consul"` stanza, and where in Consul's KV each stack keeps its data. Pure; used
 * by components/serverConfig.ts and the real-server tier.
 *
 * Parameters from Vault's Consul storage page
 * (https://developer.hashicorp.com/vault/docs/configuration/storage/consul):
 * - `address` is the LOCAL client agent ("It is recommended that you communicate with a local Consul
 *   agent; do not communicate directly with a server"), over `https` with `tls_ca_file`.
 * - No `token`: the page says it "can also be provided via the environment variable
 *   CONSUL_HTTP_TOKEN". Checked in Vault 1.21.1's source: physical/consul/consul.go builds its client
 *   from consul/api's `DefaultConfig()`, which reads CONSUL_HTTP_TOKEN (and CONSUL_HTTP_TOKEN_FILE),
 *   and only a `token` key in the stanza overrides it. So server.json holds no secret; the token
 *   travels in the container's environment, as a Pulumi secret.
 * - TLS server name: Vault (go-secure-stdlib tlsutil.SetupTLSConfig) checks the agent's certificate
 *   against the address's host, so the agent certificate carries IP SAN 127.0.0.1.
 * - All values are strings: Vault reads a storage stanza as map[string]string.
 *
 * HA comes with it: Consul storage supports HA (locks on sessions), so the nodes need api_addr,
 * cluster_addr and a cluster listener for request forwarding, and no raft retry_join.
 */
import type { TlsMinVersion } from "../config";
import { baseName } from "../naming";
import { CONSUL_PORTS } from "./agentConfig";

/** The service name Vault registers in Consul (Vault's default; the ACL policy names it). */
export const VAULT_CONSUL_SERVICE = "vault";

/**
 * The KV prefix of one stack: `<clusterName>-<stack>/` (e.g. `bonito-vault-prod/`). One path per
 * stack, so two stacks (or two clusters) on one external Consul never share keys, and each stack's
 * token is confined to its own prefix. Trailing slash: Vault appends one anyway (with a warning) and
 * the ACL rule is a prefix rule, so `bonito-vault-prod/` never matches `bonito-vault-prod2/…`.
 */
export function consulKvPath(clusterName: string, stack: string): string {
    return `${baseName(clusterName, stack)}/`;
}

export interface ConsulStorageInput {
    /** host:port of the agent Vault talks to (bundled: the local client agent, 127.0.0.1:8501). */
    address: string;
    /** {@link consulKvPath}. */
    path: string;
    /** The CA that signed the agent's HTTPS certificate (bundled: the stack's CA). */
    caFile: string;
    /** Presented to the agent, whose HTTPS port verifies client certificates (bundled only). */
    clientCert?: { certFile: string; keyFile: string };
    tlsMinVersion: TlsMinVersion;
}

/** The local client agent's HTTPS address (bundled mode). */
export const LOCAL_AGENT_ADDRESS = `127.0.0.1:${CONSUL_PORTS.https}`;

export function renderConsulStorage(input: ConsulStorageInput): { consul: Record<string, string> } {
    return {
        consul: {
            address: input.address,
            scheme: "https",
            path: input.path,
            service: VAULT_CONSUL_SERVICE,
            tls_ca_file: input.caFile,
            ...(input.clientCert
                ? { tls_cert_file: input.clientCert.certFile, tls_key_file: input.clientCert.keyFile }
                : {}),
            tls_min_version: input.tlsMinVersion,
        },
    };
}
