/**
 * gcp: a regional passthrough Network Load Balancer — a forwarding rule (INTERNAL by default) on
 * the API port, a TCP backend service, zonal GCE_VM_IP network endpoint groups holding each node's
 * instance and address, and a regional HTTPS health check on ENTRY_POINT_HEALTH_PATH — plus
 * firewall rules admitting only entryPointClientCidrs and Google's health-check ranges, and a
 * Cloud DNS record when a managed zone is given. `dns`: one A record listing every node.
 */
import * as compute from "@pulumi/gcp/compute";
import * as dns from "@pulumi/gcp/dns";
import * as pulumi from "@pulumi/pulumi";
import type { CreateEntryPoint } from "./types";
import { pointNameStep, resourceName } from "./types";

/** Where Google's health checks for passthrough load balancers come from (GCP docs, "Probe IP ranges"). */
export const GCP_HEALTH_CHECK_RANGES = ["35.191.0.0/16", "130.211.0.0/22"];

export const createGcpEntryPoint: CreateEntryPoint = (name, parent, { entryPoint: ep, baseName }) => {
    const child = { parent };
    const g = ep.gcp!;
    const recordFor = (rrdatas: pulumi.Input<string>[]) =>
        new dns.RecordSet(
            `${name}-record`,
            { project: g.project, managedZone: g.dnsZone!, name: `${ep.name}.`, type: "A", ttl: 30, rrdatas },
            child,
        ).name;
    if (ep.kind === "dns")
        return {
            address: pulumi.output(ep.targets.map((t) => t.ip).join(", ")),
            record: recordFor(ep.targets.map((t) => t.ip)),
            pendingSteps: pulumi.output([]),
        };

    const scheme = ep.internal ? "INTERNAL" : "EXTERNAL";
    const port = String(ep.port);
    const health = new compute.RegionHealthCheck(
        `${name}-health`,
        {
            project: g.project,
            region: g.region,
            name: resourceName(baseName, "vault-health", 63),
            description: "Vault: 200 on the active node and on standbys, 503 when sealed",
            httpsHealthCheck: { port: ep.port, requestPath: ep.healthPath },
            checkIntervalSec: 10,
            timeoutSec: 5,
            healthyThreshold: 2,
            unhealthyThreshold: 2,
        },
        child,
    );
    const zones = [...new Set(g.instances.map((i) => i.zone))];
    const groups = new Map(
        zones.map((zone) => [
            zone,
            new compute.NetworkEndpointGroup(
                `${name}-neg-${zone}`,
                {
                    project: g.project,
                    zone,
                    name: resourceName(baseName, `vault-${zone}`, 63),
                    network: g.network,
                    subnetwork: g.subnetwork,
                    networkEndpointType: "GCE_VM_IP",
                },
                child,
            ),
        ]),
    );
    ep.targets.forEach((t, i) => {
        const inst = g.instances[i];
        new compute.NetworkEndpoint(
            `${name}-endpoint-${t.node}`,
            {
                project: g.project,
                zone: inst.zone,
                networkEndpointGroup: groups.get(inst.zone)!.name,
                instance: inst.name,
                ipAddress: t.ip,
            },
            child,
        );
    });
    const backend = new compute.RegionBackendService(
        `${name}-backend`,
        {
            project: g.project,
            region: g.region,
            name: resourceName(baseName, "vault", 63),
            loadBalancingScheme: scheme,
            // Passthrough: TCP, so TLS ends at Vault and the node certificates are what clients see.
            protocol: "TCP",
            healthChecks: health.id,
            backends: [...groups.values()].map((neg) => ({ group: neg.id, balancingMode: "CONNECTION" })),
            connectionDrainingTimeoutSec: 30,
        },
        child,
    );
    const rule = new compute.ForwardingRule(
        `${name}-rule`,
        {
            project: g.project,
            region: g.region,
            name: resourceName(baseName, "vault", 63),
            loadBalancingScheme: scheme,
            backendService: backend.id,
            ipProtocol: "TCP",
            ports: [port],
            ...(ep.internal ? { network: g.network, subnetwork: g.subnetwork } : {}),
            labels: { "bonito-purpose": "vault-entry-point" },
        },
        child,
    );
    new compute.Firewall(
        `${name}-clients`,
        {
            project: g.project,
            network: g.network,
            name: resourceName(baseName, "vault-clients", 63),
            description: "Vault entry point: only entryPointClientCidrs reach the API port",
            direction: "INGRESS",
            sourceRanges: ep.clientCidrs,
            allows: [{ protocol: "tcp", ports: [port] }],
        },
        child,
    );
    new compute.Firewall(
        `${name}-health-checks`,
        {
            project: g.project,
            network: g.network,
            name: resourceName(baseName, "vault-health", 63),
            description: "Vault entry point: Google's health-check probes reach the API port",
            direction: "INGRESS",
            sourceRanges: GCP_HEALTH_CHECK_RANGES,
            allows: [{ protocol: "tcp", ports: [port] }],
        },
        child,
    );
    return {
        address: rule.ipAddress,
        record: g.dnsZone !== undefined ? recordFor([rule.ipAddress]) : undefined,
        pendingSteps:
            g.dnsZone !== undefined ? pulumi.output([]) : rule.ipAddress.apply((ip) => [pointNameStep(ep, ip)]),
    };
};
