/**
 * Where each node lives and how it is reached: names, addresses, ports and certificate SANs.
 *
 * Pure data from the stack configuration; every Docker object name is derived here once, so a
 * name never changes between releases unless the configuration does.
 */
import type { CoreConfig, EntryPointConfig } from "./config";
import { apiScheme, dockerName } from "./naming";

/** Paths inside every Vault container. */
export const PATHS = {
    config: "/vault/config/server.json",
    data: "/vault/data",
    audit: "/vault/audit",
    caCert: "/vault/tls/ca.pem",
    nodeCert: "/vault/tls/node.pem",
    nodeKey: "/vault/tls/node-key.pem",
    /**
     * Written last by NodeTls (components/tls/nodeTls.ts) after the three files above: which
     * certificate was pushed. The entrypoint starts Vault only once it exists.
     */
    tlsPushed: "/vault/tls/pushed",
} as const;

export interface PublishedPort {
    internal: number;
    external: number;
}

export interface NodePlan {
    index: number;
    /** Raft node_id and container hostname. */
    name: string;
    /** How other nodes and clients reach this node. */
    address: string;
    containerName: string;
    dataVolumeName: string;
    auditVolumeName: string;
    apiAddr: string;
    clusterAddr: string;
    /** The address other nodes send their join request to (leader_api_addr). */
    joinAddr: string;
    ports: PublishedPort[];
    sans: { dnsNames: string[]; ipAddresses: string[] };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * @param cfg.entryPoint when given, its name joins every certificate's SANs: clients verify the
 *   node they land on under the name they dialled (the load balancer passes TLS through).
 */
export function planNodes(
    cfg: CoreConfig & { stack: string; entryPoint?: Pick<EntryPointConfig, "name"> },
): NodePlan[] {
    const scheme = apiScheme(cfg.tls);
    return cfg.nodeNames.map((name, index) => {
        const address = cfg.nodeAddresses[index];
        const apiPublic = cfg.multiHost ? cfg.hostPortBase : cfg.apiPort;
        const ports: PublishedPort[] = [
            { internal: cfg.apiPort, external: cfg.hostPortBase + (cfg.multiHost ? 0 : index) },
        ];
        if (cfg.multiHost) {
            ports.push({ internal: cfg.clusterPort, external: cfg.clusterPort });
            if (cfg.tls.mtls) ports.push({ internal: cfg.peerPort, external: cfg.peerPort });
        }
        const apiAddr = `${scheme}://${address}:${apiPublic}`;
        const extraDns = cfg.tls.extraSans.filter((s) => !IPV4.test(s));
        const extraIps = cfg.tls.extraSans.filter((s) => IPV4.test(s));
        return {
            index,
            name,
            address,
            containerName: dockerName(cfg, name),
            dataVolumeName: dockerName(cfg, name, "data"),
            auditVolumeName: dockerName(cfg, name, "audit"),
            apiAddr,
            clusterAddr: `https://${address}:${cfg.clusterPort}`,
            joinAddr: cfg.tls.mtls ? `${scheme}://${address}:${cfg.peerPort}` : apiAddr,
            ports,
            sans: {
                dnsNames: unique([
                    name,
                    ...(IPV4.test(address) ? [] : [address]),
                    cfg.serviceName,
                    ...(cfg.entryPoint ? [cfg.entryPoint.name] : []),
                    "localhost",
                    ...extraDns,
                ]),
                ipAddresses: unique(["127.0.0.1", ...(IPV4.test(address) ? [address] : []), ...extraIps]),
            },
        };
    });
}

function unique(xs: string[]): string[] {
    return [...new Set(xs)];
}
