/**
 * What the policies need to know about a stack's entry point: its load balancers, their health
 * checks, where they send traffic, which ranges they admit and whether any of them terminates TLS.
 * Read from the resources as declared (aws, gcp, azure-native), never re-derived from config.
 */
import type { PolicyResource } from "@pulumi/policy";
import { arr, explicitlyFalse, labelsOf, obj, str, type Props } from "./common";
import { CLIENT_CIDR_MIN_PREFIX } from "./limits";

export const LB_TYPES = {
    awsLb: "aws:lb/loadBalancer:LoadBalancer",
    awsAlb: "aws:alb/loadBalancer:LoadBalancer",
    awsListener: "aws:lb/listener:Listener",
    awsAlbListener: "aws:alb/listener:Listener",
    awsTargetGroup: "aws:lb/targetGroup:TargetGroup",
    awsAttachment: "aws:lb/targetGroupAttachment:TargetGroupAttachment",
    awsSecurityGroup: "aws:ec2/securityGroup:SecurityGroup",
    awsIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    awsSgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    gcpForwardingRule: "gcp:compute/forwardingRule:ForwardingRule",
    gcpRegionBackendService: "gcp:compute/regionBackendService:RegionBackendService",
    gcpBackendService: "gcp:compute/backendService:BackendService",
    gcpRegionHealthCheck: "gcp:compute/regionHealthCheck:RegionHealthCheck",
    gcpHealthCheck: "gcp:compute/healthCheck:HealthCheck",
    gcpEndpoint: "gcp:compute/networkEndpoint:NetworkEndpoint",
    gcpFirewall: "gcp:compute/firewall:Firewall",
    azureLb: "azure-native:network:LoadBalancer",
    azureNsg: "azure-native:network:NetworkSecurityGroup",
    azureSecurityRule: "azure-native:network:SecurityRule",
} as const;

/** Resources whose only job is to terminate TLS in front of backends. */
export const TLS_TERMINATING_TYPES = [
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy",
    "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy",
    "gcp:compute/targetSslProxy:TargetSslProxy",
    "azure-native:network:ApplicationGateway",
];

/** Label on Vault servers whose stack stated that any address may reach the entry point. */
export const ANY_CLIENT_LABEL = "bonito.entry-point-any-client";
/** Label on Vault servers whose stack stated a public (internet-facing) load balancer. */
export const INTERNET_FACING_LABEL = "bonito.entry-point-internet-facing";

/** A health check and what it probes. */
export interface HealthCheck {
    owner: string;
    protocol: string;
    path: string;
    enabled: boolean;
    /** The HTTP codes the check counts as healthy (aws `matcher`; default 200-399). */
    matcher?: string;
}

export function isLoadBalancer(r: PolicyResource): boolean {
    if (r.type === LB_TYPES.awsLb || r.type === LB_TYPES.awsAlb || r.type === LB_TYPES.azureLb) return true;
    return r.type === LB_TYPES.gcpForwardingRule && str(r.props.backendService) !== undefined;
}

export function healthChecks(resources: PolicyResource[]): HealthCheck[] {
    const out: HealthCheck[] = [];
    for (const r of resources) {
        if (r.type === LB_TYPES.awsTargetGroup) {
            const hc = obj(r.props.healthCheck);
            out.push({
                owner: r.name,
                protocol: (str(hc?.protocol) ?? "TCP").toUpperCase(),
                path: str(hc?.path) ?? "",
                enabled: !explicitlyFalse(hc?.enabled),
                matcher: hc?.matcher === undefined ? "200-399" : String(hc.matcher),
            });
        } else if (r.type === LB_TYPES.gcpRegionHealthCheck || r.type === LB_TYPES.gcpHealthCheck) {
            const https = obj(r.props.httpsHealthCheck);
            const http = obj(r.props.httpHealthCheck) ?? obj(r.props.http2HealthCheck);
            out.push({
                owner: r.name,
                protocol: https ? "HTTPS" : http ? "HTTP" : "TCP",
                path: str((https ?? http)?.requestPath) ?? "",
                enabled: true,
            });
        } else if (r.type === LB_TYPES.azureLb) {
            const probes = arr(r.props.probes).map(obj);
            if (probes.length === 0) out.push({ owner: r.name, protocol: "NONE", path: "", enabled: false });
            for (const p of probes)
                out.push({
                    owner: `${r.name}/${str(p?.name) ?? "probe"}`,
                    protocol: (str(p?.protocol) ?? "").toUpperCase(),
                    path: str(p?.requestPath) ?? "",
                    enabled: true,
                });
        }
    }
    return out;
}

/** Where the load balancers send traffic: `ip` or `ip:port` per registered target. */
export function lbTargets(resources: PolicyResource[]): string[] {
    const out: string[] = [];
    for (const r of resources) {
        if (r.type === LB_TYPES.awsAttachment) {
            const id = str(r.props.targetId);
            const port = r.props.port;
            if (id) out.push(port !== undefined ? `${id}:${String(port)}` : id);
        } else if (r.type === LB_TYPES.gcpEndpoint) {
            const ip = str(r.props.ipAddress);
            if (ip) out.push(r.props.port !== undefined ? `${ip}:${String(r.props.port)}` : ip);
        } else if (r.type === LB_TYPES.azureLb) {
            for (const pool of arr(r.props.backendAddressPools))
                for (const a of arr(obj(pool)?.loadBalancerBackendAddresses)) {
                    const ip = str(obj(a)?.ipAddress);
                    if (ip) out.push(ip);
                }
        }
    }
    return out;
}

const ANY = ["0.0.0.0/0", "*", "internet", "any", "::/0", "0.0.0.0", "::"];

/**
 * A range that admits any client, or so much of the address space that it is "any" in disguise:
 * an IPv4 prefix shorter than /8 or an IPv6 prefix shorter than /32 (policies/lib/limits.ts).
 */
export function admitsAnyone(range: unknown): boolean {
    if (typeof range !== "string") return false;
    const r = range.trim().toLowerCase();
    if (ANY.includes(r)) return true;
    const m = /^([0-9a-f.:]+)\/(\d{1,3})$/.exec(r);
    if (!m) return false;
    const bits = Number(m[2]);
    return m[1].includes(":") ? bits < CLIENT_CIDR_MIN_PREFIX.ipv6 : bits < CLIENT_CIDR_MIN_PREFIX.ipv4;
}

/** Load balancers with a public address, as `<resource>: <why>`. */
export function internetFacing(resources: PolicyResource[]): { urn: string; where: string }[] {
    const out: { urn: string; where: string }[] = [];
    for (const r of resources) {
        const p = r.props;
        if ((r.type === LB_TYPES.awsLb || r.type === LB_TYPES.awsAlb) && p.internal !== true && p.internal !== "true")
            out.push({
                urn: r.urn,
                where: `${r.name}: internal is ${String(p.internal ?? "unset")} (internet-facing)`,
            });
        if (r.type === LB_TYPES.gcpForwardingRule) {
            const scheme = (str(p.loadBalancingScheme) ?? "EXTERNAL").toUpperCase();
            if (scheme.startsWith("EXTERNAL"))
                out.push({ urn: r.urn, where: `${r.name}: loadBalancingScheme ${scheme}` });
        }
        if (r.type === LB_TYPES.azureLb)
            for (const f of arr(p.frontendIPConfigurations).map(obj))
                if (f?.publicIPAddress !== undefined || f?.publicIPPrefix !== undefined)
                    out.push({ urn: r.urn, where: `${r.name}: frontend ${str(f?.name) ?? "?"} has a public IP` });
    }
    return out;
}

/** Every place a stack admits any address to a port, as `<resource>: <where>`. */
export function openToAnyone(resources: PolicyResource[]): { urn: string; where: string }[] {
    const out: { urn: string; where: string }[] = [];
    const add = (r: PolicyResource, where: string) => out.push({ urn: r.urn, where: `${r.name}: ${where}` });
    for (const r of resources) {
        const p = r.props;
        if (r.type === LB_TYPES.awsIngressRule && (admitsAnyone(p.cidrIpv4) || admitsAnyone(p.cidrIpv6)))
            add(r, `ingress from ${str(p.cidrIpv4) ?? str(p.cidrIpv6)}`);
        if (
            r.type === LB_TYPES.awsSgRule &&
            str(p.type) === "ingress" &&
            [...arr(p.cidrBlocks), ...arr(p.ipv6CidrBlocks)].some(admitsAnyone)
        )
            add(r, `ingress from ${[...arr(p.cidrBlocks), ...arr(p.ipv6CidrBlocks)].filter(admitsAnyone).join(", ")}`);
        if (r.type === LB_TYPES.awsSecurityGroup)
            for (const i of arr(p.ingress)) {
                const wide = [...arr(obj(i)?.cidrBlocks), ...arr(obj(i)?.ipv6CidrBlocks)].filter(admitsAnyone);
                if (wide.length > 0) add(r, `inline ingress from ${wide.join(", ")}`);
            }
        if (r.type === LB_TYPES.awsLb && str(p.loadBalancerType) === "network" && arr(p.securityGroups).length === 0)
            add(r, "a network load balancer without a security group admits every source its subnets route");
        if (r.type === LB_TYPES.gcpFirewall && (str(p.direction) ?? "INGRESS").toUpperCase() === "INGRESS") {
            const ranges = arr(p.sourceRanges);
            const scoped = arr(p.sourceTags).length > 0 || arr(p.sourceServiceAccounts).length > 0;
            if (ranges.some(admitsAnyone)) add(r, `sourceRanges ${ranges.filter(admitsAnyone).join(", ")}`);
            else if (ranges.length === 0 && !scoped && arr(p.allows).length > 0)
                add(r, "no sourceRanges (GCP then admits 0.0.0.0/0)");
        }
        const rules =
            r.type === LB_TYPES.azureNsg
                ? arr(p.securityRules).map(obj)
                : r.type === LB_TYPES.azureSecurityRule
                  ? [p]
                  : [];
        for (const rule of rules) {
            if (!rule || str(rule.access)?.toLowerCase() !== "allow") continue;
            if (str(rule.direction)?.toLowerCase() !== "inbound") continue;
            const sources = [rule.sourceAddressPrefix, ...arr(rule.sourceAddressPrefixes)];
            if (sources.some(admitsAnyone)) add(r, `rule ${str(rule.name) ?? "?"} admits any source`);
        }
    }
    return out;
}

/** Listeners or resources that terminate TLS in front of Vault, as `<resource>: <why>`. */
export function tlsTerminators(resources: PolicyResource[]): { urn: string; where: string }[] {
    const out: { urn: string; where: string }[] = [];
    const add = (r: PolicyResource, why: string) => out.push({ urn: r.urn, where: `${r.name}: ${why}` });
    for (const r of resources) {
        const p: Props = r.props;
        if (r.type === LB_TYPES.awsListener || r.type === LB_TYPES.awsAlbListener) {
            const protocol = (str(p.protocol) ?? "").toUpperCase();
            if (["TLS", "HTTPS", "HTTP"].includes(protocol)) add(r, `listener protocol ${protocol}`);
            else if (str(p.certificateArn) !== undefined) add(r, "listener holds a certificate");
        }
        if ((r.type === LB_TYPES.awsLb || r.type === LB_TYPES.awsAlb) && str(p.loadBalancerType) === "application")
            add(r, "an application load balancer always terminates TLS");
        if (r.type === LB_TYPES.awsTargetGroup) {
            const protocol = (str(p.protocol) ?? "").toUpperCase();
            if (["TLS", "HTTPS", "HTTP"].includes(protocol)) add(r, `target group protocol ${protocol}`);
        }
        if (r.type === LB_TYPES.gcpRegionBackendService || r.type === LB_TYPES.gcpBackendService) {
            const protocol = (str(p.protocol) ?? "TCP").toUpperCase();
            if (!["TCP", "UNSPECIFIED"].includes(protocol)) add(r, `backend service protocol ${protocol}`);
        }
        if (TLS_TERMINATING_TYPES.includes(r.type)) add(r, `${r.type} terminates TLS`);
    }
    return out;
}

/** True when any Vault server carries the label (the stack config's explicit statement). */
export function serversStated(servers: PolicyResource[], label: string, value: string): boolean {
    return servers.length > 0 && servers.every((s) => labelsOf(s.props).get(label) === value);
}
