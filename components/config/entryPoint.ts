/**
 * Entry point keys: the one name clients (the Bonito backend) use to reach the cluster, and what
 * answers it. Owned by the entry-point area; see section.ts for the contract.
 *
 * - `loadBalancer`: a TCP passthrough load balancer on the stack's cloud (aws NLB, GCP regional
 *   passthrough NLB, Azure Standard LB) that health-checks every node with
 *   `/v1/sys/health?standbyok=true&perfstandbyok=true` over HTTPS, so TLS still ends at Vault;
 * - `dns`: one A record listing every node (for teams with their own LB or a client that retries);
 * - `none`: the operator brings the way in (docs/architecture.md says what it must do);
 * - on cloud `local` the Docker network alias (`serviceName`) and the published ports stay the way in.
 *
 * The snapshot agent and Pulumi's own admin calls never use the entry point: they reach the nodes
 * directly (adminAddr, the agent's node list).
 */
import { apiScheme } from "../naming";
import type { CoreConfig } from "./core";
import { boolean, oneOf, stringList, text } from "./fields";
import { key, section, type BuildContext, type Cloud, type SectionValues } from "./section";
import type { AzureUnseal, GcpUnseal, UnsealConfig } from "./unseal";
import {
    ANY_CLIENT_CIDR,
    CLIENT_CIDR_MIN_PREFIX,
    ENTRY_POINT_HEALTH_PATH,
    ENTRY_POINT_KINDS,
    entryPointProdReason,
} from "../../policies/lib/limits";

export type EntryPointChoice = (typeof ENTRY_POINT_KINDS)[number];
/** `dockerAlias`: cloud local, where the cluster network's alias and the published ports are the way in. */
export type EntryPointKind = EntryPointChoice | "dockerAlias";

/** Where the load balancer (or the DNS record) sends one node's traffic. */
export interface EntryPointTarget {
    node: string;
    ip: string;
    port: number;
}

export interface AwsEntryPoint {
    vpcId: string;
    subnetIds: string[];
    /** Route 53 hosted zone that gets the entry point's record; undefined = the operator points the name. */
    zoneId?: string;
}

export interface GcpEntryPoint {
    project: string;
    region: string;
    network: string;
    /** Required for an internal load balancer (its address comes from this subnetwork). */
    subnetwork?: string;
    /** The GCE instance of each target, in target order. */
    instances: { zone: string; name: string }[];
    /** Cloud DNS managed zone that gets the record; undefined = the operator points the name. */
    dnsZone?: string;
}

export interface AzureEntryPoint {
    resourceGroup: string;
    location: string;
    /** Subnet of the internal frontend; its virtual network holds the backend addresses. */
    subnetId: string;
    virtualNetworkId: string;
    /** Private DNS zone (in resourceGroup) that gets the record; undefined = the operator points the name. */
    dnsZone?: string;
}

export interface EntryPointConfig {
    kind: EntryPointKind;
    /** The DNS name clients use; a SAN of every node certificate. */
    name: string;
    /** The port clients use on that name. */
    port: number;
    /** `https://<name>:<port>` (http only with tlsMode upstream-proxy): vaultAddr and the backend's VAULT_ADDR. */
    url: string;
    /** The load balancer has no public address (aws scheme internal, GCP/Azure private frontend). */
    internal: boolean;
    /** Source ranges the entry point admits (loadBalancer). */
    clientCidrs: string[];
    /** The operator stated that any address may connect (0.0.0.0/0 in clientCidrs). */
    allowAnyClient: boolean;
    /** One per node (loadBalancer, dns); [] otherwise. */
    targets: EntryPointTarget[];
    /** The health check every load balancer uses: 200 on the active node and on (performance) standbys. */
    healthPath: string;
    aws?: AwsEntryPoint;
    gcp?: GcpEntryPoint;
    azure?: AzureEntryPoint;
}

export interface EntryPointSection {
    entryPoint: EntryPointConfig;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const AWS_VPC = /^vpc-[0-9a-f]{8,17}$/;
const AWS_SUBNET = /^subnet-[0-9a-f]{8,17}$/;
const AWS_ZONE = /^Z[A-Z0-9]{1,31}$/;
const GCP_INSTANCE = /^[a-z]+-[a-z]+\d+-[a-z]\/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const GCP_RESOURCE =
    /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$|^projects\/[^/]+\/(global|regions\/[a-z0-9-]+)\/(networks|subnetworks)\/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const AZURE_SUBNET_ID =
    /^(\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+)\/subnets\/[^/]+$/i;

const entryPointKeys = {
    entryPoint: key(oneOf(ENTRY_POINT_KINDS), {
        type: "string",
        description:
            "How clients reach the cluster: loadBalancer (a health-checked TCP passthrough LB on the stack's cloud), dns (one record listing every node) or none (you bring the way in; docs/architecture.md says what it must do). Ignored on cloud local, where the Docker alias serviceName and the published ports are the way in. prod must use loadBalancer.",
        default: "loadBalancer on prod and staging when cloud is aws, gcp or azure; none elsewhere",
    }),
    entryPointName: key(text({ pattern: HOSTNAME, describe: "a DNS name" }), {
        type: "string",
        description:
            "The name clients use (vaultAddr, the backend's VAULT_ADDR); added to every node certificate. A record is created for it where a DNS zone is given.",
        default: "serviceName",
    }),
    entryPointClientCidrs: key(stringList({ item: CIDR, describe: "an IPv4 CIDR range such as 10.20.0.0/16" }), {
        type: "array",
        description:
            "Source ranges the load balancer admits on its port (the backend's egress); 0.0.0.0/0 only with entryPointAllowAnyClient.",
        default: "required when entryPoint is loadBalancer",
    }),
    entryPointAllowAnyClient: key(boolean(false), {
        type: "boolean",
        description:
            "Your statement that any address may connect to the entry point (0.0.0.0/0 in entryPointClientCidrs); the policy pack refuses 0.0.0.0/0 without it.",
        default: "false",
    }),
    entryPointInternetFacing: key(boolean(false), {
        type: "boolean",
        description:
            "Give the load balancer a public address (aws scheme internet-facing, GCP EXTERNAL, Azure public IP) instead of a private one.",
        default: "false (internal)",
    }),
    entryPointTargets: key(stringList({ item: IPV4, describe: "an IPv4 address" }), {
        type: "array",
        description:
            "IPv4 address the load balancer (or the dns record) sends each node's traffic to: one per node, or one for all nodes on a single Docker host (aws only).",
        default: "nodeAddresses, when they are IPv4 addresses",
    }),
    awsEntryPointVpcId: key(text({ pattern: AWS_VPC, describe: "a VPC id such as vpc-0abc12345678def90" }), {
        type: "string",
        description: "cloud aws, loadBalancer: VPC of the NLB, its target group and security group.",
        default: "required for an aws loadBalancer",
    }),
    awsEntryPointSubnetIds: key(
        stringList({ item: AWS_SUBNET, describe: "a subnet id such as subnet-0abc12345678def90" }),
        {
            type: "array",
            description: "cloud aws, loadBalancer: subnets of the NLB (one per availability zone the nodes use).",
            default: "required for an aws loadBalancer",
        },
    ),
    awsEntryPointZoneId: key(
        text({ pattern: AWS_ZONE, describe: "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ" }),
        {
            type: "string",
            description:
                "cloud aws: Route 53 hosted zone that gets entryPointName (an alias to the NLB, or the nodes' A record for dns).",
            default: "none (you point entryPointName at the entry point)",
        },
    ),
    gcpEntryPointInstances: key(
        stringList({ item: GCP_INSTANCE, describe: "<zone>/<instance> such as europe-west1-b/vault-0" }),
        {
            type: "array",
            description:
                "cloud gcp, loadBalancer: the GCE instance (<zone>/<name>) behind each entryPointTargets address, one per node.",
            default: "required for a gcp loadBalancer",
        },
    ),
    gcpEntryPointNetwork: key(
        text({ pattern: GCP_RESOURCE, describe: "a VPC network name or projects/<p>/global/networks/<n>" }),
        {
            type: "string",
            description: "cloud gcp, loadBalancer: VPC network of the nodes (the NEGs, the firewall rule).",
            default: "required for a gcp loadBalancer",
        },
    ),
    gcpEntryPointSubnetwork: key(
        text({
            pattern: GCP_RESOURCE,
            describe: "a subnetwork name or projects/<p>/regions/<r>/subnetworks/<s>",
        }),
        {
            type: "string",
            description: "cloud gcp, internal loadBalancer: subnetwork the forwarding rule takes its address from.",
            default: "required for an internal gcp loadBalancer",
        },
    ),
    gcpEntryPointDnsZone: key(
        text({ pattern: /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, describe: "a Cloud DNS managed zone name" }),
        {
            type: "string",
            description: "cloud gcp: Cloud DNS managed zone (in gcpProject) that gets entryPointName.",
            default: "none (you point entryPointName at the entry point)",
        },
    ),
    azureEntryPointSubnetId: key(
        text({
            pattern: AZURE_SUBNET_ID,
            describe:
                "a subnet resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<s>)",
        }),
        {
            type: "string",
            description:
                "cloud azure, loadBalancer: subnet of the internal frontend; its virtual network holds the nodes' addresses.",
            default: "required for an azure loadBalancer",
        },
    ),
    azureEntryPointDnsZone: key(
        text({ pattern: HOSTNAME, describe: "a private DNS zone name such as bonito.internal" }),
        {
            type: "string",
            description:
                "cloud azure: private DNS zone (in azureResourceGroup) that gets entryPointName, which must end with it.",
            default: "none (you point entryPointName at the entry point)",
        },
    ),
};

type EntryPointValues = SectionValues<typeof entryPointKeys>;

export const entryPointSection = section(entryPointKeys, buildEntryPoint);

function buildEntryPoint(v: EntryPointValues, ctx: BuildContext, prior: CoreConfig & UnsealConfig): EntryPointSection {
    const scheme = apiScheme(prior.tls);
    const kind = entryPointKind(v, ctx, prior.cloud);
    const name = v.entryPointName ?? prior.serviceName;
    const internal = !v.entryPointInternetFacing;
    const { entryPointAllowAnyClient: allowAnyClient } = v;
    const clientCidrs = v.entryPointClientCidrs ?? [];
    if (kind === "loadBalancer" && clientCidrs.length === 0)
        ctx.issue(
            "entryPointClientCidrs",
            "is required when entryPoint is loadBalancer: list the source ranges of the clients (the backend's egress), such as [10.20.0.0/16]",
        );
    if (clientCidrs.includes(ANY_CLIENT_CIDR) && !allowAnyClient)
        ctx.issue(
            "entryPointClientCidrs",
            `lists ${ANY_CLIENT_CIDR}, which admits every address; list the clients' ranges, or set entryPointAllowAnyClient: true to state that this is meant`,
        );
    const wide = clientCidrs.filter(
        (c) => c !== ANY_CLIENT_CIDR && Number(c.split("/")[1] ?? 32) < CLIENT_CIDR_MIN_PREFIX.ipv4,
    );
    if (wide.length > 0 && !allowAnyClient)
        ctx.issue(
            "entryPointClientCidrs",
            `lists ${wide.join(", ")}, shorter than /${CLIENT_CIDR_MIN_PREFIX.ipv4}: that admits a large part of the internet (any client in disguise); list the clients' ranges, or set entryPointAllowAnyClient: true to state that this is meant`,
        );
    const needsTargets = kind === "loadBalancer" || kind === "dns";
    const targets = needsTargets ? entryPointTargets(v, ctx, prior, kind) : [];
    const port = needsTargets ? prior.hostPortBase : prior.apiPort;
    const out: EntryPointConfig = {
        kind,
        name,
        port,
        url: `${scheme}://${name}:${port}`,
        internal,
        clientCidrs,
        allowAnyClient,
        targets,
        healthPath: ENTRY_POINT_HEALTH_PATH,
    };
    // Set only where the cloud has one: an absent key, not an undefined one.
    const u = prior.unseal;
    if (prior.cloud === "aws") {
        const aws = awsEntryPoint(v, ctx, kind);
        if (aws) out.aws = aws;
    } else if (prior.cloud === "gcp" && u.cloud === "gcp") {
        const gcp = gcpEntryPoint(v, ctx, kind, internal, u, prior.nodes);
        if (gcp) out.gcp = gcp;
    } else if (prior.cloud === "azure" && u.cloud === "azure") {
        const azure = azureEntryPoint(v, ctx, kind, out, u);
        if (azure) out.azure = azure;
    }
    return { entryPoint: out };
}

/** cloud local: the Docker alias; elsewhere the key, by default loadBalancer on prod and staging. */
function entryPointKind(v: EntryPointValues, ctx: BuildContext, cloud: Cloud): EntryPointKind {
    const set = v.entryPoint;
    if (cloud === "local") {
        if (set !== undefined && set !== "none")
            ctx.issue(
                "entryPoint",
                "cannot be loadBalancer or dns on cloud local (no cloud to create it in): the Docker alias serviceName and the published ports are the way in",
            );
        return "dockerAlias";
    }
    const defaultKind: EntryPointChoice = ctx.prod || ctx.stack === "staging" ? "loadBalancer" : "none";
    const kind = set ?? defaultKind;
    if (ctx.prod && kind !== "loadBalancer") ctx.issue("entryPoint", entryPointProdReason());
    return kind;
}

/** Every node's reachable IPv4 address and the port its API is published on. */
function entryPointTargets(
    v: EntryPointValues,
    ctx: BuildContext,
    prior: CoreConfig,
    kind: EntryPointKind,
): EntryPointTarget[] {
    const ports = Array.from({ length: prior.nodes }, (_, i) => prior.hostPortBase + (prior.multiHost ? 0 : i));
    const addressesAreIps = prior.nodeAddresses.every((a) => IPV4.test(a));
    const targetIps = v.entryPointTargets ?? (prior.multiHost && addressesAreIps ? prior.nodeAddresses : undefined);
    let targets: EntryPointTarget[] = [];
    if (targetIps === undefined)
        ctx.issue(
            "entryPointTargets",
            `is required for entryPoint ${kind} when nodeAddresses are not IPv4 addresses${prior.multiHost ? "" : " or all nodes share one Docker host"}: list ${prior.multiHost ? "each node's" : "the Docker host's"} IPv4 address`,
        );
    else if (prior.multiHost && targetIps.length !== prior.nodes)
        ctx.issue(
            "entryPointTargets",
            `lists ${targetIps.length} addresses but the nodes run on ${prior.nodes} Docker hosts; give one per node`,
        );
    else if (!prior.multiHost && targetIps.length !== 1)
        ctx.issue(
            "entryPointTargets",
            `lists ${targetIps.length} addresses but every node runs on one Docker host; give that host's address once`,
        );
    else
        targets = prior.nodeNames.map((node, i) => ({
            node,
            ip: prior.multiHost ? targetIps[i] : targetIps[0],
            port: ports[i],
        }));
    if (!prior.multiHost && prior.nodes > 1 && (kind === "dns" || prior.cloud !== "aws"))
        ctx.issue(
            "entryPoint",
            kind === "dns"
                ? "dns needs one Docker host per node: a record cannot give each node on a shared host its own port; use loadBalancer (aws) or none"
                : `loadBalancer on ${prior.cloud} needs one Docker host per node: a passthrough load balancer keeps the destination port, so it cannot tell nodes on one host apart; use one host per node, aws, or entryPoint none`,
        );
    return targets;
}

function awsEntryPoint(v: EntryPointValues, ctx: BuildContext, kind: EntryPointKind): AwsEntryPoint | undefined {
    const zoneId = v.awsEntryPointZoneId;
    if (kind === "dns" && zoneId === undefined)
        ctx.issue("awsEntryPointZoneId", "is required when entryPoint is dns on aws: the zone that gets the record");
    if (kind === "dns") return { vpcId: "", subnetIds: [], zoneId };
    if (kind !== "loadBalancer") return undefined;
    const vpcId = v.awsEntryPointVpcId;
    const subnetIds = v.awsEntryPointSubnetIds ?? [];
    if (vpcId === undefined) ctx.issue("awsEntryPointVpcId", "is required when entryPoint is loadBalancer on aws");
    if (subnetIds.length === 0)
        ctx.issue("awsEntryPointSubnetIds", "is required when entryPoint is loadBalancer on aws");
    return { vpcId: vpcId ?? "", subnetIds, zoneId };
}

function gcpEntryPoint(
    v: EntryPointValues,
    ctx: BuildContext,
    kind: EntryPointKind,
    internal: boolean,
    u: GcpUnseal,
    nodes: number,
): GcpEntryPoint | undefined {
    const dnsZone = v.gcpEntryPointDnsZone;
    if (kind === "dns" && dnsZone === undefined)
        ctx.issue("gcpEntryPointDnsZone", "is required when entryPoint is dns on gcp: the zone that gets the record");
    const base = { project: u.project, region: "", network: "", instances: [], dnsZone };
    if (kind === "dns") return base;
    if (kind !== "loadBalancer") return undefined;
    const list = v.gcpEntryPointInstances ?? [];
    const { gcpEntryPointNetwork: network, gcpEntryPointSubnetwork: subnetwork } = v;
    if (list.length !== nodes)
        ctx.issue(
            "gcpEntryPointInstances",
            `must list the GCE instance (<zone>/<name>) of each of the ${nodes} nodes for a gcp loadBalancer (lists ${list.length})`,
        );
    if (network === undefined) ctx.issue("gcpEntryPointNetwork", "is required when entryPoint is loadBalancer on gcp");
    if (internal && subnetwork === undefined)
        ctx.issue(
            "gcpEntryPointSubnetwork",
            "is required for an internal gcp loadBalancer: the forwarding rule's address comes from it",
        );
    const instances = list.map((s) => {
        const [zone, instance] = s.split("/");
        return { zone, name: instance };
    });
    const regions = [...new Set(instances.map((i) => i.zone.replace(/-[a-z]$/, "")))];
    if (regions.length > 1)
        ctx.issue(
            "gcpEntryPointInstances",
            `spans regions ${regions.join(", ")}; a regional passthrough load balancer needs every node in one region`,
        );
    return { ...base, region: regions[0] ?? "", network: network ?? "", subnetwork, instances };
}

function azureEntryPoint(
    v: EntryPointValues,
    ctx: BuildContext,
    kind: EntryPointKind,
    { name, internal }: Pick<EntryPointConfig, "name" | "internal">,
    u: AzureUnseal,
): AzureEntryPoint | undefined {
    const dnsZone = v.azureEntryPointDnsZone;
    if (dnsZone !== undefined && !name.endsWith(`.${dnsZone}`))
        ctx.issue(
            "azureEntryPointDnsZone",
            `must be a parent of entryPointName (${name}): the record is created inside the zone`,
        );
    if (kind === "dns" && dnsZone === undefined)
        ctx.issue(
            "azureEntryPointDnsZone",
            "is required when entryPoint is dns on azure: the private zone that gets the record",
        );
    const lb = kind === "loadBalancer";
    const subnetId = v.azureEntryPointSubnetId;
    if (lb && subnetId === undefined)
        ctx.issue("azureEntryPointSubnetId", "is required when entryPoint is loadBalancer on azure");
    if (lb && !internal)
        ctx.issue(
            "entryPointInternetFacing",
            "is not built for azure yet: the Standard Load Balancer here has a private frontend only; put a public frontend in front yourself or use entryPoint none",
        );
    if (!lb && kind !== "dns") return undefined;
    const vnet = subnetId ? AZURE_SUBNET_ID.exec(subnetId) : null;
    return {
        resourceGroup: u.resourceGroup,
        location: u.location,
        subnetId: subnetId ?? "",
        virtualNetworkId: vnet ? vnet[1] : "",
        dnsZone,
    };
}
