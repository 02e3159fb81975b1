/**
 * aws: an internal (or internet-facing) Network Load Balancer with a TCP listener — TLS passes
 * through to Vault — in front of IP targets, one per node, health-checked over HTTPS with
 * ENTRY_POINT_HEALTH_PATH; a security group admitting only entryPointClientCidrs on the port; and
 * an alias record in Route 53 when a zone is given. `dns`: one A record listing every node.
 */
import * as lb from "@pulumi/aws/lb";
import * as route53 from "@pulumi/aws/route53";
import * as ec2 from "@pulumi/aws/ec2";
import * as vpc from "@pulumi/aws/vpc";
import * as pulumi from "@pulumi/pulumi";
import type { EntryPointDelivery, CreateEntryPoint } from "./types";
import { pointNameStep, resourceName } from "./types";

export const createAwsEntryPoint: CreateEntryPoint = (name, parent, { entryPoint: ep, baseName }) => {
    const child = { parent };
    const tags = { "bonito-purpose": "vault-entry-point" };
    const a = ep.aws!;
    if (ep.kind === "dns") {
        const record = new route53.Record(
            `${name}-record`,
            { zoneId: a.zoneId!, name: ep.name, type: "A", ttl: 30, records: ep.targets.map((t) => t.ip) },
            child,
        );
        return {
            address: pulumi.output(ep.targets.map((t) => t.ip).join(", ")),
            record: record.fqdn,
            pendingSteps: pulumi.output([]),
        };
    }

    const sg = new ec2.SecurityGroup(
        `${name}-sg`,
        {
            name: resourceName(baseName, "vault-entry", 255),
            vpcId: a.vpcId,
            description: `Vault entry point: clients on ${ep.port}/tcp, health checks and traffic to the nodes`,
            tags,
        },
        child,
    );
    ep.clientCidrs.forEach(
        (cidr, i) =>
            new vpc.SecurityGroupIngressRule(
                `${name}-client-${i}`,
                {
                    securityGroupId: sg.id,
                    cidrIpv4: cidr,
                    ipProtocol: "tcp",
                    fromPort: ep.port,
                    toPort: ep.port,
                    description: "Vault clients (entryPointClientCidrs)",
                    tags,
                },
                child,
            ),
    );
    const byIp = new Map<string, number[]>();
    for (const t of ep.targets) byIp.set(t.ip, [...(byIp.get(t.ip) ?? []), t.port]);
    [...byIp].forEach(
        ([ip, ports], i) =>
            new vpc.SecurityGroupEgressRule(
                `${name}-to-node-${i}`,
                {
                    securityGroupId: sg.id,
                    cidrIpv4: `${ip}/32`,
                    ipProtocol: "tcp",
                    fromPort: Math.min(...ports),
                    toPort: Math.max(...ports),
                    description: "Traffic and HTTPS health checks to the Vault nodes",
                    tags,
                },
                child,
            ),
    );

    const nlb = new lb.LoadBalancer(
        `${name}-nlb`,
        {
            name: resourceName(baseName, "vault", 32),
            loadBalancerType: "network",
            internal: ep.internal,
            subnets: a.subnetIds,
            securityGroups: [sg.id],
            enableCrossZoneLoadBalancing: true,
            tags,
        },
        child,
    );
    const group = new lb.TargetGroup(
        `${name}-targets`,
        {
            name: resourceName(baseName, "vault", 32),
            targetType: "ip",
            protocol: "TCP",
            port: ep.port,
            vpcId: a.vpcId,
            // Passthrough: the NLB never holds a certificate; each target's own port is checked.
            healthCheck: {
                enabled: true,
                protocol: "HTTPS",
                path: ep.healthPath,
                port: "traffic-port",
                matcher: "200",
                interval: 10,
                timeout: 5,
                healthyThreshold: 2,
                unhealthyThreshold: 2,
            },
            deregistrationDelay: 30,
            tags,
        },
        child,
    );
    for (const t of ep.targets)
        new lb.TargetGroupAttachment(
            `${name}-target-${t.node}`,
            { targetGroupArn: group.arn, targetId: t.ip, port: t.port },
            child,
        );
    new lb.Listener(
        `${name}-listener`,
        {
            loadBalancerArn: nlb.arn,
            port: ep.port,
            protocol: "TCP",
            defaultActions: [{ type: "forward", targetGroupArn: group.arn }],
            tags,
        },
        child,
    );

    let record: pulumi.Output<string> | undefined;
    if (a.zoneId !== undefined) {
        record = new route53.Record(
            `${name}-record`,
            {
                zoneId: a.zoneId,
                name: ep.name,
                type: "A",
                aliases: [{ name: nlb.dnsName, zoneId: nlb.zoneId, evaluateTargetHealth: true }],
            },
            child,
        ).fqdn;
    }
    const steps: pulumi.Output<string[]> = pulumi
        .all([sg.id, nlb.dnsName])
        .apply(([sgId, dns]) => [
            `Let security group ${sgId} reach every Vault host on its API port (${[...new Set(ep.targets.map((t) => t.port))].join(", ")}/tcp): add an inbound rule with source ${sgId} to the hosts' own security group.`,
            ...(a.zoneId === undefined ? [pointNameStep(ep, dns)] : []),
        ]);
    const out: EntryPointDelivery = { address: nlb.dnsName, record, pendingSteps: steps };
    return out;
};
