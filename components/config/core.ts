/**
 * Core keys: where the cluster runs, how many nodes, which image, ports and TLS.
 */
import {
    PEM_CERT,
    PEM_KEY,
    type Secret,
    boolean,
    duration,
    durationSeconds,
    integer,
    oneOf,
    secretText,
    stringList,
    text,
} from "./fields";
import { CLOUDS, key, section, type BuildContext, type Cloud, type SectionValues } from "./section";
import {
    MAX_LEASE_TTL_HOURS,
    NODES,
    TLS_CERT_HOURS,
    TLS_MIN_VERSION,
    maxLeaseTtlReason,
    nodesReason,
    tlsLeafValidityReason,
    tlsMinVersionReason,
} from "../../policies/lib/limits";

export type Engine = "vault" | "openbao";
export type TlsMode = "internal-ca" | "provided" | "upstream-proxy";
export type TlsMinVersion = "tls12" | "tls13";
/** One of the two internal CAs a rotation moves between (components/clusterTls.ts). */
export type CaSlot = "a" | "b";
export const CA_SLOTS = ["a", "b"] as const;
export type StorageMode = "raft" | "file" | "consul";

export interface TlsConfig {
    mode: TlsMode;
    minVersion: TlsMinVersion;
    /** Nodes join each other through a listener that requires a CA-signed client certificate. */
    mtls: boolean;
    validityHours: number;
    earlyRenewalHours: number;
    caValidityHours: number;
    /**
     * internal-ca: the CA that signs the node certificates and the CAs every node and client trusts
     * (issuing among them). A CA change is two `pulumi up`s and a third to finish: trust both, issue
     * from the new one, drop the old one (docs/runbook.md "Rotating certificates").
     */
    ca: { issuing: CaSlot; trusted: CaSlot[] };
    extraSans: string[];
    /** Set only when mode is `provided`. */
    provided?: { caCert: string; cert: string; key: Secret };
}

export interface CoreConfig {
    cloud: Cloud;
    nodes: number;
    image: string;
    engine: Engine;
    storage: StorageMode;
    /** Raft's performance_multiplier (1 = production timing). */
    raftPerformanceMultiplier: number;
    clusterName: string;
    serviceName: string;
    nodeNames: string[];
    /** One entry per node; undefined means the Docker daemon of the Pulumi host (DOCKER_HOST). */
    dockerHosts: (string | undefined)[];
    /** How other nodes and clients reach each node (DNS name or IP). */
    nodeAddresses: string[];
    /** True when the nodes sit on more than one Docker host and talk over published ports. */
    multiHost: boolean;
    apiPort: number;
    clusterPort: number;
    peerPort: number;
    hostPortBase: number;
    publishAddress: string;
    tls: TlsConfig;
    memoryMb: number;
    logLevel: "trace" | "debug" | "info" | "warn" | "error";
    ui: boolean;
    defaultLeaseTtl: string;
    maxLeaseTtl: string;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const HOST_OR_IP = new RegExp(`(${HOSTNAME.source})|(${IPV4.source})`);
const DOCKER_HOST = /^(unix|tcp|ssh|npipe):\/\/\S+$/;

/**
 * An image reference pinned by digest (`repo@sha256:…`, a tag may precede it) or by an exact
 * version tag (`repo:1.21.1`). `latest`, a missing tag and floating tags such as `1.21` are refused:
 * a restart must never change the Vault binary under the same stack configuration.
 */
export const PINNED_IMAGE =
    /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*((:v?\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?)?@sha256:[a-f0-9]{64}|:v?\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?)$/;

/** `openbao` when the image's repository name says so, otherwise `vault`. */
export function engineFromImage(image: string): Engine {
    const repo = image.split("@")[0].replace(/:[^/]*$/, "");
    return /(^|\/)openbao$/.test(repo) ? "openbao" : "vault";
}

const coreKeys = {
    cloud: key(oneOf(CLOUDS), {
        type: "string",
        description:
            "Where the auto-unseal key and the backup bucket live: aws, azure, gcp, or local (transit unsealer on the Docker host).",
        default: "required",
    }),
    nodes: key(integer({ allowed: [...NODES.allowed], def: 3 }), {
        type: "integer",
        description: "Raft node count: 1, 3, 5 or 7 (odd, so a majority survives). prod needs at least 3.",
        default: "3",
    }),
    image: key(
        text({
            pattern: PINNED_IMAGE,
            describe:
                "an image pinned by digest (repo@sha256:<64 hex>) or an exact version tag (repo:1.21.1); latest, no tag and floating tags are refused",
        }),
        {
            type: "string",
            description: "Vault (or OpenBao) container image, pinned by digest or exact version tag.",
            default: "required",
        },
    ),
    engine: key(oneOf(["vault", "openbao"]), {
        type: "string",
        description: "Server flavour, which decides the few config and audit differences: vault or openbao.",
        default: "from image (openbao when the repository is named openbao)",
    }),
    storage: key(oneOf(["raft", "consul", "file"], "raft"), {
        type: "string",
        description:
            "Storage backend: raft (HA, integrated; HashiCorp's recommendation for new clusters), consul (HA on a Consul cluster, seed option B: see consulMode; not on prod) or file (single node only, seed option A).",
        default: "raft",
    }),
    raftPerformanceMultiplier: key(integer({ def: 1, min: 1, max: 10 }), {
        type: "integer",
        description:
            "Raft's performance_multiplier: 1 is HashiCorp's production timing (a lost leader is noticed within about a second); Vault's own default, 5, is development timing. Raise it only for slow or overloaded hosts.",
        default: "1",
    }),
    clusterName: key(text({ def: "bonito-vault", pattern: DNS_LABEL, describe: "a DNS label (a-z, 0-9, -)" }), {
        type: "string",
        description: "Prefix of every Docker object name and Vault's cluster_name.",
        default: "bonito-vault",
    }),
    serviceName: key(text({ def: "vault", pattern: HOSTNAME, describe: "a DNS name" }), {
        type: "string",
        description: "Name clients use for the cluster: a network alias on every node and a SAN of every certificate.",
        default: "vault",
    }),
    nodeNames: key(stringList({ item: DNS_LABEL, describe: "a DNS label (a-z, 0-9, -)" }), {
        type: "array",
        description: "Node names, also hostnames and Raft node_ids; one per node, unique.",
        default: "vault-0 … vault-(nodes-1)",
    }),
    dockerHosts: key(
        stringList({
            item: DOCKER_HOST,
            describe: "a Docker host URI (unix://, tcp://, ssh://, npipe://)",
        }),
        {
            type: "array",
            description:
                "Docker daemons: none (the Pulumi host's DOCKER_HOST), one for all nodes, or one per node, unique. prod needs one per node.",
            default: "[] (local daemon)",
        },
    ),
    nodeAddresses: key(stringList({ item: HOST_OR_IP, describe: "a DNS name or IPv4 address" }), {
        type: "array",
        description: "How nodes and clients reach each node; required when nodes run on more than one Docker host.",
        default: "the node names (Docker network DNS)",
    }),
    apiPort: key(integer({ def: 8200, min: 1024, max: 65535 }), {
        type: "integer",
        description: "Vault API listener port inside each container.",
        default: "8200",
    }),
    clusterPort: key(integer({ def: 8201, min: 1024, max: 65535 }), {
        type: "integer",
        description: "Raft and request-forwarding port inside each container.",
        default: "8201",
    }),
    peerPort: key(integer({ def: 8202, min: 1024, max: 65535 }), {
        type: "integer",
        description: "mTLS listener that nodes use to join each other (retry_join); only when mtls is on.",
        default: "8202",
    }),
    hostPortBase: key(integer({ min: 1, max: 65535 }), {
        type: "integer",
        description:
            "Host port publishing the API: node i gets hostPortBase+i on a shared host; every node gets hostPortBase on its own host.",
        default: "apiPort",
    }),
    publishAddress: key(text({ def: "127.0.0.1", pattern: IPV4, describe: "an IPv4 address" }), {
        type: "string",
        description: "Host address the published ports bind to.",
        default: "127.0.0.1",
    }),
    tlsMode: key(oneOf(["internal-ca", "provided", "upstream-proxy"], "internal-ca"), {
        type: "string",
        description:
            "internal-ca (a CA declared here signs every node certificate), provided (tlsCaCert/tlsCert/tlsKey), or upstream-proxy (no TLS at Vault; needs tlsTerminatesAtTrustedProxy, never on prod).",
        default: "internal-ca",
    }),
    tlsTerminatesAtTrustedProxy: key(boolean(false), {
        type: "boolean",
        description:
            "Your statement that TLS terminates at a trusted upstream proxy on a private network (seed §5 option B). Required for tlsMode upstream-proxy.",
        default: "false",
    }),
    tlsMinVersion: key(oneOf(TLS_MIN_VERSION.allowed), {
        type: "string",
        description: "Lowest TLS version the listeners accept; prod must use tls13.",
        default: "tls13 on prod, tls12 elsewhere",
    }),
    mtls: key(boolean(true), {
        type: "boolean",
        description:
            "Nodes join over a listener that requires a client certificate from the cluster CA; prod must keep it on.",
        default: "true",
    }),
    tlsValidityHours: key(integer({ def: 8760, min: TLS_CERT_HOURS.leafMin, max: TLS_CERT_HOURS.leafMax }), {
        type: "integer",
        description: `Validity of node certificates (internal-ca); at most ${TLS_CERT_HOURS.leafProdMax} (398 days) on prod.`,
        default: "8760 (1 year)",
    }),
    tlsEarlyRenewalHours: key(integer({ def: 720, min: 1, max: 87600 }), {
        type: "integer",
        description: "Renew node certificates this long before they expire (on the next pulumi up).",
        default: "720 (30 days)",
    }),
    tlsCaValidityHours: key(integer({ def: 87600, min: TLS_CERT_HOURS.caMin, max: TLS_CERT_HOURS.caMax }), {
        type: "integer",
        description: "Validity of the internal CA certificate.",
        default: "87600 (10 years)",
    }),
    tlsCaIssuing: key(oneOf(CA_SLOTS, "a"), {
        type: "string",
        description:
            'internal-ca: which of the two CA slots (a, b) signs the node certificates. Switching it re-issues every node certificate from that CA: set it only once tlsCaTrusted has listed that CA and every client trusts it (docs/runbook.md "Rotating certificates").',
        default: "a",
    }),
    tlsCaTrusted: key(stringList({ item: /^[ab]$/, describe: "a or b" }), {
        type: "array",
        description:
            "internal-ca: the CA slots every node and client trusts (the stack's caCert is their bundle); must include tlsCaIssuing. [a, b] while a CA change is under way; a slot left out is deleted, and comes back with a new key.",
        default: "[tlsCaIssuing]",
    }),
    tlsExtraSans: key(stringList({ def: [], item: HOST_OR_IP, describe: "a DNS name or IPv4 address" }), {
        type: "array",
        description: "More DNS names or IPs to put in every node certificate (a load balancer's name).",
        default: "[]",
    }),
    tlsCaCert: key(text({ pattern: PEM_CERT, describe: "a PEM certificate" }), {
        type: "string",
        description: "tlsMode provided: the CA certificate (PEM) that signed tlsCert.",
        default: "none",
    }),
    tlsCert: key(text({ pattern: PEM_CERT, describe: "a PEM certificate" }), {
        type: "string",
        description:
            "tlsMode provided: the server certificate (PEM) for every node; its SANs must cover the node names and serviceName.",
        default: "none",
    }),
    tlsKey: key(secretText({ pattern: PEM_KEY, describe: "a PEM private key" }), {
        type: "string",
        description: "tlsMode provided: the private key of tlsCert (PEM). Secret.",
        default: "none",
        secret: true,
    }),
    memoryMb: key(integer({ def: 1024, min: 256, max: 262144 }), {
        type: "integer",
        description: "Memory limit per Vault container in MiB; swap is disabled for the container.",
        default: "1024",
    }),
    logLevel: key(oneOf(["trace", "debug", "info", "warn", "error"], "info"), {
        type: "string",
        description: "Vault server log level.",
        default: "info",
    }),
    ui: key(boolean(false), {
        type: "boolean",
        description: "Serve the web UI (off reduces the attack surface).",
        default: "false",
    }),
    defaultLeaseTtl: key(duration("1h"), {
        type: "string",
        description: "Vault default_lease_ttl.",
        default: "1h",
    }),
    maxLeaseTtl: key(duration("24h"), {
        type: "string",
        description: `Vault max_lease_ttl (must cover the AppRole token_max_ttl); at most ${MAX_LEASE_TTL_HOURS.prodMax}h on prod.`,
        default: "24h",
    }),
};

type CoreValues = SectionValues<typeof coreKeys>;

export const coreSection = section(coreKeys, buildCore);

function buildCore(v: CoreValues, ctx: BuildContext): CoreConfig {
    if (v.cloud === undefined) ctx.issue("cloud", `is required: one of ${CLOUDS.join(", ")}`);
    if (v.image === undefined) ctx.issue("image", "is required: an image pinned by digest or exact version tag");
    checkNodesAndStorage(v, ctx);
    const nodeNames = nodeNamesOf(v, ctx);
    const dockerHosts = dockerHostsOf(v, ctx);
    const multiHost = new Set(dockerHosts).size > 1;
    const nodeAddresses = nodeAddressesOf(v, ctx, nodeNames, multiHost);
    const usesPeer = v.mtls && v.tlsMode !== "upstream-proxy" && v.storage === "raft";
    checkPorts(v, ctx, usesPeer);
    const hostPortBase = hostPortBaseOf(v, ctx, multiHost, usesPeer);
    const tls = tlsOf(v, ctx, usesPeer);
    if (durationSeconds(v.defaultLeaseTtl) > durationSeconds(v.maxLeaseTtl))
        ctx.issue("defaultLeaseTtl", `${v.defaultLeaseTtl} exceeds maxLeaseTtl (${v.maxLeaseTtl})`);
    if (ctx.prod && durationSeconds(v.maxLeaseTtl) > MAX_LEASE_TTL_HOURS.prodMax * 3600)
        ctx.issue("maxLeaseTtl", maxLeaseTtlReason());

    return {
        cloud: v.cloud ?? "local",
        nodes: v.nodes,
        image: v.image ?? "",
        engine: v.engine ?? engineFromImage(v.image ?? ""),
        storage: v.storage,
        raftPerformanceMultiplier: v.raftPerformanceMultiplier,
        clusterName: v.clusterName,
        serviceName: v.serviceName,
        nodeNames,
        dockerHosts,
        nodeAddresses,
        multiHost,
        apiPort: v.apiPort,
        clusterPort: v.clusterPort,
        peerPort: v.peerPort,
        hostPortBase,
        publishAddress: v.publishAddress,
        tls,
        memoryMb: v.memoryMb,
        logLevel: v.logLevel,
        ui: v.ui,
        defaultLeaseTtl: v.defaultLeaseTtl,
        maxLeaseTtl: v.maxLeaseTtl,
    };
}

function checkNodesAndStorage({ nodes, storage }: CoreValues, ctx: BuildContext): void {
    if (ctx.prod && nodes < NODES.prodMin) ctx.issue("nodes", nodesReason());
    if (storage === "file" && nodes !== 1)
        ctx.issue("storage", `file storage serves exactly one node, but nodes is ${nodes}; use raft`);
    // consul too: prod stays on raft until the Consul room is complete (components/config/consul.ts).
    if (ctx.prod && storage !== "raft") ctx.issue("storage", "must be raft on the prod stack");
}

/** One unique name per node; `vault-<i>` by default. */
function nodeNamesOf({ nodes, nodeNames: given }: CoreValues, ctx: BuildContext): string[] {
    const nodeNames = given ?? Array.from({ length: nodes }, (_, i) => `vault-${i}`);
    if (nodeNames.length !== nodes)
        ctx.issue("nodeNames", `lists ${nodeNames.length} names but nodes is ${nodes}; give one per node`);
    const dupName = firstDuplicate(nodeNames);
    if (dupName) ctx.issue("nodeNames", `lists ${JSON.stringify(dupName)} twice; node names must be unique`);
    return nodeNames;
}

/** The Docker host of each node: none given (the local daemon), one for all, or one per node. */
function dockerHostsOf({ nodes, dockerHosts }: CoreValues, ctx: BuildContext): (string | undefined)[] {
    const hostList = dockerHosts ?? [];
    if (hostList.length > 1 && hostList.length !== nodes)
        ctx.issue(
            "dockerHosts",
            `lists ${hostList.length} hosts; give none, one for all nodes, or one per node (nodes is ${nodes})`,
        );
    const dupHost = hostList.length > 1 ? firstDuplicate(hostList) : undefined;
    if (dupHost)
        ctx.issue("dockerHosts", `lists ${JSON.stringify(dupHost)} twice; one node per host, or a single host for all`);
    if (ctx.prod && nodes > 1 && hostList.length !== nodes)
        ctx.issue(
            "dockerHosts",
            `must list one distinct Docker host per node on prod (nodes is ${nodes}), so one machine's loss keeps quorum`,
        );
    return Array.from({ length: nodes }, (_, i) => (hostList.length === 1 ? hostList[0] : hostList[i]));
}

/** How nodes and clients reach each node: required across hosts, the node names otherwise. */
function nodeAddressesOf(
    { nodes, nodeAddresses: addrList }: CoreValues,
    ctx: BuildContext,
    nodeNames: string[],
    multiHost: boolean,
): string[] {
    if (multiHost && addrList === undefined)
        ctx.issue(
            "nodeAddresses",
            "is required when nodes run on more than one Docker host: one reachable name or IP per node",
        );
    if (addrList !== undefined && addrList.length !== nodes)
        ctx.issue("nodeAddresses", `lists ${addrList.length} addresses but nodes is ${nodes}`);
    const dupAddr = addrList ? firstDuplicate(addrList) : undefined;
    if (dupAddr) ctx.issue("nodeAddresses", `lists ${JSON.stringify(dupAddr)} twice; addresses must be unique`);
    return addrList ?? nodeNames;
}

/** The three listeners inside a container need distinct ports (and Vault takes peerPort+1 too). */
function checkPorts({ apiPort, clusterPort, peerPort }: CoreValues, ctx: BuildContext, usesPeer: boolean): void {
    if (apiPort === clusterPort)
        ctx.issue("clusterPort", `equals apiPort (${apiPort}); each listener needs its own port`);
    if (usesPeer && (peerPort === apiPort || peerPort === clusterPort))
        ctx.issue("peerPort", `${peerPort} clashes with apiPort or clusterPort; choose a free port`);
    // Vault binds a cluster port one above every listener that has no cluster_address.
    if (usesPeer && [apiPort, clusterPort].includes(peerPort + 1))
        ctx.issue(
            "peerPort",
            `${peerPort}+1 is taken by apiPort or clusterPort; Vault binds peerPort+1 for that listener's cluster traffic`,
        );
}

function hostPortBaseOf(v: CoreValues, ctx: BuildContext, multiHost: boolean, usesPeer: boolean): number {
    const hostPortBase = v.hostPortBase ?? v.apiPort;
    if (!multiHost && hostPortBase + v.nodes - 1 > 65535)
        ctx.issue("hostPortBase", `${hostPortBase}+${v.nodes - 1} exceeds 65535`);
    if (multiHost && (hostPortBase === v.clusterPort || (usesPeer && hostPortBase === v.peerPort)))
        ctx.issue(
            "hostPortBase",
            `${hostPortBase} clashes with clusterPort or peerPort, which are published on each host too`,
        );
    return hostPortBase;
}

function tlsOf(v: CoreValues, ctx: BuildContext, usesPeer: boolean): TlsConfig {
    if (v.tlsMode === "upstream-proxy") {
        if (ctx.prod) ctx.issue("tlsMode", "upstream-proxy is not allowed on prod: Vault itself must terminate TLS");
        else if (!v.tlsTerminatesAtTrustedProxy)
            ctx.issue(
                "tlsMode",
                "upstream-proxy turns TLS off at Vault; set tlsTerminatesAtTrustedProxy: true to state that a trusted proxy on a private network terminates TLS",
            );
    }
    const minVersion = v.tlsMinVersion ?? (ctx.prod ? "tls13" : "tls12");
    if (ctx.prod && minVersion !== TLS_MIN_VERSION.prod) ctx.issue("tlsMinVersion", tlsMinVersionReason());
    if (ctx.prod && !v.mtls)
        ctx.issue("mtls", "must be true on prod: nodes authenticate each other with CA-signed certificates");

    const { tlsValidityHours: validityHours, tlsEarlyRenewalHours: earlyRenewalHours } = v;
    const caValidityHours = v.tlsCaValidityHours;
    if (earlyRenewalHours >= validityHours)
        ctx.issue("tlsEarlyRenewalHours", `${earlyRenewalHours} must be below tlsValidityHours (${validityHours})`);
    if (ctx.prod && v.tlsMode === "internal-ca" && validityHours > TLS_CERT_HOURS.leafProdMax)
        ctx.issue("tlsValidityHours", tlsLeafValidityReason());
    if (caValidityHours <= validityHours)
        ctx.issue("tlsCaValidityHours", `${caValidityHours} must exceed tlsValidityHours (${validityHours})`);

    return {
        mode: v.tlsMode,
        minVersion,
        mtls: usesPeer,
        validityHours,
        earlyRenewalHours,
        caValidityHours,
        ca: caSlotsOf(v, ctx),
        extraSans: v.tlsExtraSans,
        provided: providedTls(v, ctx),
    };
}

/**
 * internal-ca's CA slots: the issuing one and the trusted list, which must hold it (a node whose
 * certificate its own peers and clients did not trust would be cut off), without repeats.
 */
function caSlotsOf(
    { tlsMode, tlsCaIssuing, tlsCaTrusted }: CoreValues,
    ctx: BuildContext,
): { issuing: CaSlot; trusted: CaSlot[] } {
    const issuing = tlsCaIssuing;
    if (tlsMode !== "internal-ca" && tlsCaTrusted !== undefined)
        ctx.issue("tlsCaTrusted", `is only used when tlsMode is internal-ca (tlsMode is ${tlsMode})`);
    const trusted = (tlsCaTrusted ?? [issuing]) as CaSlot[];
    if (new Set(trusted).size !== trusted.length) ctx.issue("tlsCaTrusted", "lists a CA twice");
    if (tlsMode === "internal-ca" && !trusted.includes(issuing))
        ctx.issue(
            "tlsCaTrusted",
            `leaves out tlsCaIssuing (${issuing}): the nodes would serve certificates no client trusts; list it (docs/runbook.md "Rotating certificates")`,
        );
    return { issuing, trusted: CA_SLOTS.filter((slot) => trusted.includes(slot)) };
}

/**
 * How long before the internal CA expires `pulumi up` renews it (same key, so clients pinning the old
 * certificate still verify the leaves it signs until it expires): a tenth of its life, at most a year.
 * Also the CA-expiry alert's window.
 */
export function caEarlyRenewalHours(caValidityHours: number): number {
    return Math.min(caValidityHours / 10, 8760);
}

/** tlsMode provided: the CA, certificate and key, all three required; otherwise none may be set. */
function providedTls({ tlsMode, tlsCaCert, tlsCert, tlsKey }: CoreValues, ctx: BuildContext): TlsConfig["provided"] {
    const pem = { tlsCaCert, tlsCert, tlsKey };
    if (tlsMode !== "provided") {
        for (const [k, val] of Object.entries(pem))
            if (val !== undefined) ctx.issue(k, `is only used when tlsMode is provided (tlsMode is ${tlsMode})`);
        return undefined;
    }
    for (const [k, val] of Object.entries(pem))
        if (val === undefined) ctx.issue(k, "is required when tlsMode is provided");
    return tlsCaCert && tlsCert && tlsKey ? { caCert: tlsCaCert, cert: tlsCert, key: tlsKey } : undefined;
}

export function firstDuplicate<T>(xs: readonly T[]): T | undefined {
    const seen = new Set<T>();
    for (const x of xs) {
        if (seen.has(x)) return x;
        seen.add(x);
    }
    return undefined;
}
