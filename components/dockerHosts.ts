/**
 * DockerHosts: one Docker provider and one cluster network per distinct Docker host.
 *
 * Nodes on one host talk over the network by name; nodes on different hosts reach each other
 * through published ports at `nodeAddresses` (Docker has no cross-host DNS without Swarm).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

/** A Docker daemon the cluster uses, with the cluster network on it. */
export interface DockerTarget {
    /** undefined: the default provider (the Pulumi host's DOCKER_HOST). */
    provider: docker.Provider | undefined;
    network: docker.Network;
    /** The host URI, or "default". */
    host: string;
}

export interface DockerHostsArgs {
    /** Each node's Docker daemon URI, in node order (undefined: the runner's own daemon; config dockerHosts). */
    hosts: (string | undefined)[];
    /** The cluster network's name on every host (`<cluster>-<stack>`). */
    networkName: string;
    /** The stack name, as the network's `bonito.stack` label. */
    stack: string;
}

export class DockerHosts extends pulumi.ComponentResource {
    /** One per node, in node order (nodes on one host share a target). */
    public readonly perNode: DockerTarget[];
    /** Distinct targets, first node's host first. */
    public readonly targets: DockerTarget[];

    constructor(name: string, args: DockerHostsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:DockerHosts", name, {}, opts);
        const byHost = new Map<string, DockerTarget>();
        this.perNode = args.hosts.map((host) => {
            const key = host ?? "default";
            let target = byHost.get(key);
            if (!target) {
                const i = byHost.size;
                // Child names are by position so that editing a host URI updates, not renames.
                const provider = host
                    ? new docker.Provider(`${name}-host-${i}`, { host }, { parent: this })
                    : undefined;
                const network = new docker.Network(
                    `${name}-net-${i}`,
                    {
                        name: args.networkName,
                        driver: "bridge",
                        // The nodes need egress to reach the cloud KMS; nothing else joins this network.
                        attachable: false,
                        labels: [{ label: "bonito.stack", value: args.stack }],
                    },
                    { parent: this, provider },
                );
                target = { provider, network, host: key };
                byHost.set(key, target);
            }
            return target;
        });
        this.targets = [...byHost.values()];
        this.registerOutputs({});
    }
}
