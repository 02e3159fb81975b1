/**
 * azure: a Standard Load Balancer with a private frontend in azureEntryPointSubnetId, an IP-based
 * backend pool (each node's address in the subnet's virtual network), an HTTPS probe on
 * ENTRY_POINT_HEALTH_PATH and one TCP rule on the API port (TLS passes through to Vault); a
 * network security group admitting entryPointClientCidrs and the load balancer's probes, which
 * the operator attaches to the nodes' subnet or NICs; and an A record in a private DNS zone when
 * one is given. `dns`: one A record listing every node.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as network from "@pulumi/azure-native/network";
import * as privatedns from "@pulumi/azure-native/privatedns";
import * as pulumi from "@pulumi/pulumi";
import type { CreateEntryPoint } from "./types";
import { pointNameStep, resourceName } from "./types";

export const createAzureEntryPoint: CreateEntryPoint = (name, parent, { entryPoint: ep, baseName }) => {
    const child = { parent };
    const z = ep.azure!;
    const tags = { "bonito-purpose": "vault-entry-point" };
    const recordFor = (ips: pulumi.Input<string>[]) =>
        new privatedns.PrivateRecordSet(
            `${name}-record`,
            {
                resourceGroupName: z.resourceGroup,
                privateZoneName: z.dnsZone!,
                relativeRecordSetName: ep.name.slice(0, -(z.dnsZone!.length + 1)),
                recordType: "A",
                ttl: 30,
                aRecords: ips.map((ipv4Address) => ({ ipv4Address })),
            },
            child,
        ).fqdn;
    if (ep.kind === "dns")
        return {
            address: pulumi.output(ep.targets.map((t) => t.ip).join(", ")),
            record: recordFor(ep.targets.map((t) => t.ip)),
            pendingSteps: pulumi.output([]),
        };

    const client = authorization.getClientConfigOutput(child);
    const lbName = resourceName(baseName, "vault-lb", 80);
    const lbId = pulumi.interpolate`/subscriptions/${client.subscriptionId}/resourceGroups/${z.resourceGroup}/providers/Microsoft.Network/loadBalancers/${lbName}`;
    const balancer = new network.LoadBalancer(
        `${name}-lb`,
        {
            loadBalancerName: lbName,
            resourceGroupName: z.resourceGroup,
            location: z.location,
            sku: { name: "Standard", tier: "Regional" },
            frontendIPConfigurations: [
                { name: "vault", subnet: { id: z.subnetId }, privateIPAllocationMethod: "Dynamic" },
            ],
            backendAddressPools: [
                {
                    name: "vault-nodes",
                    loadBalancerBackendAddresses: ep.targets.map((t) => ({
                        name: t.node,
                        ipAddress: t.ip,
                        virtualNetwork: { id: z.virtualNetworkId },
                    })),
                },
            ],
            probes: [
                {
                    name: "vault-health",
                    protocol: "Https",
                    port: ep.port,
                    requestPath: ep.healthPath,
                    intervalInSeconds: 5,
                    probeThreshold: 2,
                },
            ],
            loadBalancingRules: [
                {
                    name: "vault-api",
                    // Passthrough: TCP, so TLS ends at Vault and the node certificates are what clients see.
                    protocol: "Tcp",
                    frontendPort: ep.port,
                    backendPort: ep.port,
                    frontendIPConfiguration: { id: pulumi.interpolate`${lbId}/frontendIPConfigurations/vault` },
                    backendAddressPool: { id: pulumi.interpolate`${lbId}/backendAddressPools/vault-nodes` },
                    probe: { id: pulumi.interpolate`${lbId}/probes/vault-health` },
                    enableTcpReset: true,
                    idleTimeoutInMinutes: 30,
                },
            ],
            tags,
        },
        child,
    );
    const nsg = new network.NetworkSecurityGroup(
        `${name}-nsg`,
        {
            networkSecurityGroupName: resourceName(baseName, "vault-entry", 80),
            resourceGroupName: z.resourceGroup,
            location: z.location,
            securityRules: [
                {
                    name: "vault-clients",
                    priority: 200,
                    direction: "Inbound",
                    access: "Allow",
                    protocol: "Tcp",
                    sourceAddressPrefixes: ep.clientCidrs,
                    sourcePortRange: "*",
                    destinationAddressPrefixes: ep.targets.map((t) => t.ip),
                    destinationPortRange: String(ep.port),
                    description: "Vault clients (entryPointClientCidrs)",
                },
                {
                    name: "vault-lb-probe",
                    priority: 210,
                    direction: "Inbound",
                    access: "Allow",
                    protocol: "Tcp",
                    sourceAddressPrefix: "AzureLoadBalancer",
                    sourcePortRange: "*",
                    destinationAddressPrefixes: ep.targets.map((t) => t.ip),
                    destinationPortRange: String(ep.port),
                    description: "The load balancer's HTTPS health probe",
                },
            ],
            tags,
        },
        child,
    );
    const address = balancer.frontendIPConfigurations.apply((f) => f?.[0]?.privateIPAddress ?? "");
    return {
        address,
        record: z.dnsZone !== undefined ? recordFor([address]) : undefined,
        pendingSteps: pulumi
            .all([nsg.name, address])
            .apply(([nsgName, ip]) => [
                `Associate network security group ${nsgName} with the Vault nodes' subnet or NICs (it admits entryPointClientCidrs and the load balancer's probes on ${ep.port}/tcp).`,
                ...(z.dnsZone === undefined ? [pointNameStep(ep, ip)] : []),
            ]),
    };
};
