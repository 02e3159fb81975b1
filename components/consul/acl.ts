/**
 * Consul ACL documents the program creates after its one-time ACL bootstrap. Pure; the real-server
 * tier creates exactly these.
 *
 * Rules are rendered as JSON, which Consul's rule parser reads as it reads HCL
 * (https://developer.hashicorp.com/consul/docs/v1.16.x/security/acl/acl-rules).
 */
import { VAULT_CONSUL_SERVICE } from "./storage";

type Rule = { policy: "read" | "write" | "deny" };

export interface ConsulRules {
    key_prefix?: Record<string, Rule>;
    service?: Record<string, Rule>;
    agent_prefix?: Record<string, Rule>;
    session_prefix?: Record<string, Rule>;
}

/**
 * Vault's token: exactly the Consul 1.4+ policy on Vault's Consul storage page
 * (https://developer.hashicorp.com/vault/docs/configuration/storage/consul#acls), with the stack's
 * own KV prefix in place of `vault/`. The same four grants are Consul's own "Create a token for
 * Vault with Consul storage backend" page: key:write (its data), service:write (registering
 * `vault`), agent:read, session:write (the HA lock's sessions). Nothing else: no other prefix, no
 * node or ACL rights, so a stolen Vault token can neither read another stack's data nor mint tokens.
 */
export function renderVaultConsulPolicy(kvPath: string): ConsulRules {
    if (!kvPath.endsWith("/") || kvPath === "/")
        throw new Error(`the Consul KV path must be a non-empty prefix ending in "/", not ${JSON.stringify(kvPath)}`);
    return {
        key_prefix: { [kvPath]: { policy: "write" } },
        service: { [VAULT_CONSUL_SERVICE]: { policy: "write" } },
        agent_prefix: { "": { policy: "read" } },
        session_prefix: { "": { policy: "write" } },
    };
}

/** The `Rules` text of `PUT /v1/acl/policy`. */
export function rulesText(rules: ConsulRules | Record<string, unknown>): string {
    return JSON.stringify(rules);
}

/**
 * Each agent's own token (`acl.tokens.agent`, set through `PUT /v1/agent/token/agent` and kept by
 * `enable_token_persistence`): a node identity, which Consul's "Create an agent token" page
 * recommends over a custom policy; it grants `node:write` on that node only and `service:read`.
 * The body of `PUT /v1/acl/token`.
 */
export function agentTokenRequest(nodeName: string, datacenter: string): Record<string, unknown> {
    return {
        Description: `agent token for ${nodeName}`,
        NodeIdentities: [{ NodeName: nodeName, Datacenter: datacenter }],
    };
}

/**
 * What `consul snapshot save` (`GET /v1/snapshot`) needs: `acl = "write"` and nothing less. Consul
 * 1.16's source authorises it with `Snapshot()`, which is `acl` at write level
 * (acl/policy_authorizer.go); its API page says "management". acl:write can create any token, so
 * this token is as powerful as management: it lives only in the snapshot sidecar, as a secret.
 */
export function renderSnapshotPolicy(): { acl: "write" } {
    return { acl: "write" };
}
