/**
 * Consul keys (`storage: consul`, seed §1 option B). Owned by the Consul room (components/consul);
 * see section.ts for the contract.
 *
 * Two modes. `bundled`: the program declares 3 or 5 Consul servers on the stack's Docker hosts and a
 * client agent beside each Vault node; Vault talks only to its local agent, and the agents' TLS
 * certificates come from the stack's internal CA. `external`: an existing Consul's agent addresses,
 * its CA and a token for Vault (a secret) are given; that token must already carry Vault's policy
 * (components/consul/acl.ts renderVaultConsulPolicy) for the stack's KV prefix.
 *
 * prod stays on raft (core.ts refuses `storage: consul` there): HashiCorp recommends integrated
 * storage for new clusters, and the Consul room is not complete yet (containers, ACL bootstrap,
 * snapshots, pack rules: issue #30). Lift that rule only when the real and Docker tiers prove it.
 */
import type { CoreConfig } from "./core";
import { type Secret, PEM_CERT, integer, oneOf, secretText, stringList, text } from "./fields";
import { key, section, type BuildContext, type SectionValues } from "./section";

export type ConsulMode = "bundled" | "external";

export type ConsulSettings =
    | {
          mode: "bundled";
          /** Consul servers: 3 or 5. */
          servers: number;
          datacenter: string;
      }
    | {
          mode: "external";
          /** host:port of the HTTPS API of the agent each node uses: one for all, or one per node. */
          addresses: string[];
          caCert: string;
          token: Secret;
      };

export interface ConsulConfig {
    /** Set exactly when storage is consul. */
    consul?: ConsulSettings;
}

/** Odd, so a majority survives the loss of one (3) or two (5) servers; HashiCorp's sizes. */
export const CONSUL_SERVER_COUNTS = [3, 5] as const;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** A DNS name or IPv4 address, then `:port`. */
const HOST_PORT =
    /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|(\d{1,3}\.){3}\d{1,3}):([1-9]\d{0,4})$/;
/** Consul's ACL tokens are UUIDs (SecretID). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const consulKeys = {
    consulMode: key(oneOf(["bundled", "external"]), {
        type: "string",
        description:
            "storage consul: bundled (3 or 5 Consul servers on the stack's Docker hosts, a client agent beside each Vault node) or external (an existing Consul: consulAddresses, consulCaCert, consulToken). Required with storage consul, refused otherwise.",
        default: "none (required when storage is consul)",
    }),
    consulServers: key(integer({ allowed: CONSUL_SERVER_COUNTS }), {
        type: "integer",
        description: "consulMode bundled: Consul server count, 3 or 5 (odd, so a majority survives one or two losses).",
        default: "3 (bundled)",
    }),
    consulDatacenter: key(text({ pattern: DNS_LABEL, describe: "a DNS label (a-z, 0-9, -)" }), {
        type: "string",
        description:
            "consulMode bundled: the Consul datacenter name; server certificates carry server.<datacenter>.consul.",
        default: "dc1 (bundled)",
    }),
    consulAddresses: key(stringList({ item: HOST_PORT, describe: "host:port (a DNS name or IPv4 address)" }), {
        type: "array",
        description:
            "consulMode external: the HTTPS API (host:port) of the Consul agent Vault talks to: one for all nodes, or one per node (HashiCorp's advice: a local agent per Vault node).",
        default: "none (required when external)",
    }),
    consulCaCert: key(text({ pattern: PEM_CERT, describe: "a PEM certificate" }), {
        type: "string",
        description: "consulMode external: the CA certificate (PEM) that signed the Consul agents' HTTPS certificates.",
        default: "none (required when external)",
    }),
    consulToken: key(secretText({ pattern: UUID, describe: "a Consul ACL token (a UUID)" }), {
        type: "string",
        description:
            "consulMode external: Vault's Consul ACL token, holding exactly Vault's documented policy for this stack's KV prefix; Vault reads it from its environment, never from server.json. Secret.",
        default: "none (required when external)",
        secret: true,
    }),
};

type ConsulValues = SectionValues<typeof consulKeys>;

export const consulSection = section(consulKeys, buildConsul);

const BUNDLED_ONLY = ["consulServers", "consulDatacenter"] as const;
const EXTERNAL_ONLY = ["consulAddresses", "consulCaCert", "consulToken"] as const;

function buildConsul(v: ConsulValues, ctx: BuildContext, prior: CoreConfig): ConsulConfig {
    const given = (Object.keys(consulKeys) as (keyof ConsulValues)[]).filter((k) => v[k] !== undefined);
    if (prior.storage !== "consul") {
        for (const k of given) ctx.issue(k, `is only used when storage is consul (storage is ${prior.storage})`);
        return {};
    }
    const mode = v.consulMode;
    if (mode === undefined) {
        ctx.issue(
            "consulMode",
            "is required when storage is consul: bundled (the program declares the Consul servers and an agent per node) or external (consulAddresses, consulCaCert, consulToken)",
        );
        return {};
    }
    if (mode === "bundled") {
        for (const k of EXTERNAL_ONLY)
            if (v[k] !== undefined)
                ctx.issue(
                    k,
                    "is only used when consulMode is external (consulMode is bundled: the program declares the Consul servers, their CA and Vault's token)",
                );
        if (prior.tls.mode !== "internal-ca")
            ctx.issue(
                "consulMode",
                `bundled needs tlsMode internal-ca (tlsMode is ${prior.tls.mode}): the stack's CA signs the Consul agents' certificates; use consulMode external with your own Consul otherwise`,
            );
        return { consul: { mode, servers: v.consulServers ?? 3, datacenter: v.consulDatacenter ?? "dc1" } };
    }
    for (const k of BUNDLED_ONLY)
        if (v[k] !== undefined)
            ctx.issue(k, "is only used when consulMode is bundled (consulMode is external: your Consul is given)");
    const { consulAddresses: addresses, consulCaCert: caCert, consulToken: token } = v;
    if (addresses === undefined)
        ctx.issue("consulAddresses", "is required when consulMode is external: host:port of the agents' HTTPS API");
    else if (addresses.length !== 1 && addresses.length !== prior.nodes)
        ctx.issue(
            "consulAddresses",
            `lists ${addresses.length} addresses; give one for all nodes or one per node (nodes is ${prior.nodes})`,
        );
    if (caCert === undefined)
        ctx.issue("consulCaCert", "is required when consulMode is external: the CA of the agents' HTTPS certificates");
    if (token === undefined)
        ctx.issue(
            "consulToken",
            "is required when consulMode is external: Vault's Consul ACL token, set with `pulumi config set --secret consulToken`",
        );
    return addresses && caCert && token ? { consul: { mode, addresses, caCert, token } } : {};
}
