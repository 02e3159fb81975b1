/**
 * EntryPoint: the one way clients reach the cluster (config `entryPoint`). On aws, gcp and azure a
 * health-checked TCP passthrough load balancer (or a DNS record); on cloud local the Docker alias
 * `serviceName` and the published ports; with `none`, nothing: the `entryPoint` stack output says
 * what the operator must provide. Only the stack's cloud is loaded.
 *
 * The snapshot agent and Pulumi's admin calls do not use it: they reach nodes directly.
 */
import * as pulumi from "@pulumi/pulumi";
import type { EntryPointConfig } from "../config";
import type { Cloud } from "../config/section";
import type { CreateEntryPoint, EntryPointDelivery } from "./types";

/** The `entryPoint` stack output. */
export interface EntryPointSummary {
    kind: string;
    /** The name clients use (vaultAddr's host; a SAN of every node certificate). */
    name: string;
    url: string;
    /** What answers the name: the load balancer's DNS name or IP, or the node addresses for dns. */
    address?: string;
    /** The DNS record created for `name`, when a zone was given. */
    record?: string;
    healthCheck?: string;
    /** `ip:port` of every node the load balancer (or record) sends traffic to. */
    targets?: string[];
    clientCidrs?: string[];
    /** What a person must still do for the entry point to work. */
    pendingSteps: string[];
}

export interface EntryPointArgs {
    /** The entry point settings (config entryPoint*): kind, name, port, health path, targets, cloud details. */
    entryPoint: EntryPointConfig;
    /** The stack's cloud: which load balancer or DNS module is loaded. */
    cloud: Cloud;
    /** `<cluster>-<stack>`: the prefix of the cloud resources' names. */
    baseName: string;
    /** Where each node's API answers from outside its host: `<nodeAddress>:<published port>`. */
    nodeApiTargets: string[];
    /** dockerAlias: how this machine reaches the nodes (the Docker alias and the published ports). */
    dockerAliasAddress: string;
}

/** What `none` asks of the operator (docs/architecture.md "The way in: two paths" says the same). */
export function noneRequirement(ep: EntryPointConfig, nodeApiTargets: string[]): string {
    return `Make ${ep.name}:${ep.port} reach a healthy node: a TCP passthrough load balancer (TLS must end at Vault) that health-checks every node with HTTPS ${ep.healthPath} (200 = serve, 5xx = remove), admits only your clients, and resolves ${ep.name} for them. The nodes are ${nodeApiTargets.join(", ")}.`;
}

/* eslint-disable @typescript-eslint/no-require-imports */
function implementation(cloud: Cloud): CreateEntryPoint | undefined {
    switch (cloud) {
        case "aws":
            return (require("./aws") as typeof import("./aws")).createAwsEntryPoint;
        case "gcp":
            return (require("./gcp") as typeof import("./gcp")).createGcpEntryPoint;
        case "azure":
            return (require("./azure") as typeof import("./azure")).createAzureEntryPoint;
        case "local":
            return undefined;
    }
}
/* eslint-enable @typescript-eslint/no-require-imports */

export class EntryPoint extends pulumi.ComponentResource {
    public readonly summary: pulumi.Output<EntryPointSummary>;
    /** The cloud resources, when a load balancer or record was declared. */
    public readonly delivery: EntryPointDelivery | undefined;

    constructor(name: string, args: EntryPointArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:EntryPoint", name, {}, opts);
        const ep = args.entryPoint;
        const base = { kind: ep.kind, name: ep.name, url: ep.url };
        const create = ep.kind === "loadBalancer" || ep.kind === "dns" ? implementation(args.cloud) : undefined;
        this.delivery = create?.(name, this, { entryPoint: ep, baseName: args.baseName });
        const d = this.delivery;
        if (d) {
            this.summary = pulumi
                .all([d.address, d.record ?? pulumi.output(undefined), d.pendingSteps])
                .apply(([address, record, pendingSteps]) => ({
                    ...base,
                    address,
                    ...(record !== undefined ? { record } : {}),
                    ...(ep.kind === "loadBalancer" ? { healthCheck: `HTTPS ${ep.healthPath}` } : {}),
                    targets: ep.targets.map((t) => `${t.ip}:${t.port}`),
                    ...(ep.kind === "loadBalancer" ? { clientCidrs: ep.clientCidrs } : {}),
                    pendingSteps,
                }));
        } else if (ep.kind === "dockerAlias") {
            this.summary = pulumi.output({
                ...base,
                address: args.dockerAliasAddress,
                pendingSteps: [],
            });
        } else {
            this.summary = pulumi.output({ ...base, pendingSteps: [noneRequirement(ep, args.nodeApiTargets)] });
        }
        this.registerOutputs({ summary: this.summary });
    }
}
