/**
 * RaftCluster: the Vault server containers, their volumes and rendered configuration.
 *
 * Each node: a protected data volume (/vault/data) and audit volume (/vault/audit), a container
 * running `server -config=<file>` (never -dev) with the rendered JSON config and seal credentials
 * uploaded as files or passed as secret environment — never on the command line — and its CA
 * bundle, certificate and key written into the running container by {@link NodeTls}
 * (components/tls/nodeTls.ts), which Vault reloads on SIGHUP: a renewed certificate changes no
 * container input, so no node is replaced or restarted for it.
 *
 * Rolling changes: node i+1's container depends on node i's {@link NodeReady} gate, so a change that
 * replaces every container (image, config) replaces one node at a time, each only after the one
 * before has its TLS files and is unsealed and connected to the active node again
 * (components/nodeReady.ts). Certificate pushes follow the same chain: one node at a time.
 */
import { apiScheme } from "./naming";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { CoreConfig, Engine, StackConfig } from "./config";
import type { NodeCertificate } from "./clusterTls";
import type { SealDelivery } from "./seal";
import type { DockerTarget } from "./dockerHosts";
import { renderServerConfigJson, type AuditStanza } from "./serverConfig";
import { RUNTIME_USER, START_CAPABILITIES, START_USER, dropRootEntrypoint } from "./runtime";
import { hardenedContainer, imagePerHost } from "./container";
import { AUDIT_ROTATOR_SCRIPT, renderAuditRotatorScript } from "./settings/audit";
import { PATHS, type NodePlan } from "./topology";
import { durationSeconds } from "./config/fields";
import { NodeReady } from "./nodeReady";
import { NodeTls } from "./tls/nodeTls";
import { shipTimings } from "./audit/shipper";

/**
 * What the nodes are configured from: the core keys (engine, image, ports, TLS, storage, memory…),
 * which the server config renderer reads, plus the audit, autopilot, entry point and rolling-change
 * settings the containers and their gates need. The plan's `raft`.
 */
export type RaftSettings = CoreConfig & { stack: string } & Pick<
        StackConfig,
        | "audit"
        | "autopilot"
        | "auditShipping"
        | "entryPoint"
        | "nodeAdminAddrs"
        | "rollingNodeTimeoutSeconds"
        | "adminTlsServerName"
    >;

export interface RaftClusterArgs {
    settings: RaftSettings;
    nodes: NodePlan[];
    /** The Docker target of each node, in node order. */
    hosts: DockerTarget[];
    /** CA and node certificates; undefined only when TLS terminates at a trusted proxy. */
    tls?: { caCertPem: pulumi.Input<string>; nodeCerts: NodeCertificate[] };
    seal: SealDelivery;
    /** Audit devices declared in the config file (OpenBao only). */
    audit?: AuditStanza[];
    /** The image to pull, when it passed through a gate (the promotion check); default config.image. */
    image?: pulumi.Input<string>;
}

/**
 * The container entrypoint: chown the two volume roots, wait (with TLS on) until NodeTls has written
 * the certificate files into the container, start the audit rotation loop in the background
 * (components/settings/audit.ts says why it lives in this container), then run the server unprivileged.
 */
export function entrypoint(engine: Engine, tlsOn = true): string[] {
    return dropRootEntrypoint(
        engine,
        [PATHS.data, PATHS.audit],
        "bonito-vault-entrypoint",
        AUDIT_ROTATOR_SCRIPT,
        tlsOn ? PATHS.tlsPushed : undefined,
    );
}

/** The rotator's pace when audit shipping is on (components/audit/shipper.ts), else undefined. */
export function rotatorShipTimings(cfg: Pick<StackConfig, "auditShipping">) {
    return cfg.auditShipping.enabled ? shipTimings(cfg.auditShipping.maxDelayMinutes) : undefined;
}

export const COMMAND = ["server", `-config=${PATHS.config}`];

/** After the core-dump limit every container gets (components/container.ts). */
export const EXTRA_ULIMITS = [{ name: "nofile", soft: 65536, hard: 65536 }];

/**
 * Health: the server's own CLI, `vault status` (`bao status`), against the local listener. It exits
 * 0 when the node is unsealed (active or standby), 2 when sealed or uninitialised, 1 on an error; it
 * verifies the certificate against the cluster CA under serviceName (a SAN of every node
 * certificate, provided ones included), and needs nothing else from the image. The image's wget was
 * the previous probe: it may not speak TLS at all (busybox without TLS), and skipped the
 * certificate check. Docker reserves exit code 2, so every failure is mapped to 1.
 */
export function healthcheck(cfg: Pick<StackConfig, "tls" | "apiPort" | "serviceName" | "engine">) {
    const tlsOn = cfg.tls.mode !== "upstream-proxy";
    const flags = [
        `-address=${apiScheme(cfg.tls)}://127.0.0.1:${cfg.apiPort}`,
        ...(tlsOn ? [`-ca-cert=${PATHS.caCert}`, `-tls-server-name=${cfg.serviceName}`] : []),
    ];
    return {
        tests: ["CMD-SHELL", `${RUNTIME_USER[cfg.engine].binary} status ${flags.join(" ")} >/dev/null || exit 1`],
        interval: "10s",
        timeout: "5s",
        retries: 3,
        startPeriod: "30s",
    };
}

export class RaftCluster extends pulumi.ComponentResource {
    public readonly containers: docker.Container[];
    public readonly dataVolumes: docker.Volume[];
    public readonly auditVolumes: docker.Volume[];
    /** One health gate per node, in node order; the last one means "every node is back". */
    public readonly ready: NodeReady[];
    /** Each node's TLS files in its running container, in node order; empty when TLS terminates upstream. */
    public readonly tlsPushes: NodeTls[];
    /** Rendered server config per node (plain: it holds no secret). */
    public readonly serverConfigs: pulumi.Output<string>[];

    constructor(name: string, args: RaftClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:RaftCluster", name, {}, opts);
        const { settings: cfg, nodes, hosts, tls, seal } = args;
        const runtime = RUNTIME_USER[cfg.engine];
        const extraLabels = (role: string) => [
            // Lets the policy pack tell the explicit upstream-proxy TLS opt-in from a mistake.
            { label: "bonito.tls-mode", value: cfg.tls.mode },
            // The stack config's statement that any address may reach the entry point (0.0.0.0/0);
            // on the server only: a volume's labels cannot change without replacing it.
            ...(role === "vault-server" && cfg.entryPoint.allowAnyClient
                ? [{ label: "bonito.entry-point-any-client", value: "stated" }]
                : []),
            // The stack config's statement that the load balancer is internet-facing.
            ...(role === "vault-server" && cfg.entryPoint.kind === "loadBalancer" && !cfg.entryPoint.internal
                ? [{ label: "bonito.entry-point-internet-facing", value: "stated" }]
                : []),
        ];
        const volumeLabels = (node: NodePlan, role: string) => [
            { label: "bonito.role", value: role },
            { label: "bonito.stack", value: cfg.stack },
            { label: "bonito.node", value: node.name },
            ...extraLabels(role),
        ];

        const imageFor = imagePerHost(`${name}-image`, args.image ?? cfg.image, this);

        this.containers = [];
        this.dataVolumes = [];
        this.auditVolumes = [];
        this.serverConfigs = [];
        this.ready = [];
        this.tlsPushes = [];
        let previous: NodeReady | undefined;
        for (const node of nodes) {
            const target = hosts[node.index];
            const childOpts = { parent: this, provider: target.provider };
            // Raft data and audit logs outlive any container and survive `pulumi destroy`.
            const keep = { ...childOpts, protect: true, retainOnDelete: true };
            const data = new docker.Volume(
                `${name}-${node.name}-data`,
                { name: node.dataVolumeName, driver: "local", labels: volumeLabels(node, "vault-data") },
                keep,
            );
            const audit = new docker.Volume(
                `${name}-${node.name}-audit`,
                { name: node.auditVolumeName, driver: "local", labels: volumeLabels(node, "vault-audit") },
                keep,
            );

            const serverConfig = seal.stanza.apply((stanza) =>
                renderServerConfigJson({ config: cfg, node, nodes, seal: stanza, audit: args.audit }),
            );
            const owned = { owner: runtime.uid, group: runtime.gid };
            const uploads: docker.types.input.ContainerUpload[] = [
                { file: PATHS.config, content: serverConfig, ...owned, permissions: "0440" },
                {
                    file: AUDIT_ROTATOR_SCRIPT,
                    content: renderAuditRotatorScript(cfg.audit, rotatorShipTimings(cfg)),
                    ...owned,
                    permissions: "0440",
                },
            ];
            for (const f of seal.files) {
                uploads.push({ file: f.path, content: pulumi.secret(f.content), ...owned, permissions: "0400" });
            }

            const image = imageFor(target);
            const container = hardenedContainer(
                `${name}-${node.name}`,
                {
                    name: node.containerName,
                    image: image.imageId,
                    hostname: node.name,
                    user: START_USER,
                    entrypoints: entrypoint(cfg.engine, tls !== undefined),
                    command: COMMAND,
                    // Tini as PID 1 forwards SIGTERM/SIGHUP to Vault and reaps children.
                    init: true,
                    envs: pulumi.secret(
                        seal.env.apply((sealEnv) => [
                            ...sealEnv,
                            // For operators running the CLI inside the container.
                            `VAULT_ADDR=${apiScheme(cfg.tls)}://127.0.0.1:${cfg.apiPort}`,
                            ...(tls ? [`VAULT_CACERT=${PATHS.caCert}`] : []),
                        ]),
                    ),
                    addCapabilities: START_CAPABILITIES.adds,
                    extraUlimits: EXTRA_ULIMITS,
                    memory: cfg.memoryMb,
                    healthcheck: healthcheck(cfg),
                    volumes: [
                        { volumeName: data.name, containerPath: PATHS.data },
                        { volumeName: audit.name, containerPath: PATHS.audit },
                    ],
                    // The syslog audit device writes to the host's syslog socket. A `mounts` bind (not a
                    // `volumes` hostPath) makes Docker refuse the container when the host has no /dev/log
                    // ("bind source path does not exist") instead of creating an empty folder there, which
                    // would leave the device failing at enable time and the host's syslog broken.
                    ...(cfg.audit.second === "syslog"
                        ? { mounts: [{ type: "bind", source: "/dev/log", target: "/dev/log" }] }
                        : {}),
                    uploads,
                    ports: node.ports.map((p) => ({
                        internal: p.internal,
                        external: p.external,
                        ip: cfg.publishAddress,
                        protocol: "tcp",
                    })),
                    networksAdvanced: [{ name: target.network.name, aliases: [node.name, cfg.serviceName] }],
                    role: "vault-server",
                    stack: cfg.stack,
                    node: node.name,
                    extraLabels: extraLabels("vault-server"),
                    stopSignal: "SIGTERM",
                    stopTimeout: 30,
                    mustRun: true,
                    // An uninitialised or sealed node is unhealthy by design: do not block `up` on it.
                    wait: false,
                },
                // The container name is fixed, so a replacement must remove the old one first; and
                // it waits for the node before it to be healthy again (one node at a time).
                {
                    ...childOpts,
                    dependsOn: [...seal.dependsOn, ...(previous ? [previous] : [])],
                    deleteBeforeReplace: true,
                },
            );
            // The certificate files: pushed into the running container (first start: the entrypoint
            // waits for them), then again whenever they or the container change, with SIGHUP.
            const push =
                tls &&
                new NodeTls(
                    `${name}-${node.name}-tls`,
                    {
                        node: node.name,
                        dockerHost: target.host === "default" ? "" : target.host,
                        containerId: container.id,
                        caCertPem: tls.caCertPem,
                        certPem: tls.nodeCerts[node.index].certPem,
                        keyPem: tls.nodeCerts[node.index].keyPem,
                        uid: Number(runtime.uid),
                        gid: Number(runtime.gid),
                        addr: cfg.nodeAdminAddrs[node.index],
                        tlsServerName: cfg.adminTlsServerName,
                        timeoutSeconds: cfg.rollingNodeTimeoutSeconds,
                    },
                    { parent: this, dependsOn: [container] },
                );
            if (push) this.tlsPushes.push(push);
            const gate = new NodeReady(
                `${name}-${node.name}-ready`,
                {
                    node: node.name,
                    addr: cfg.nodeAdminAddrs[node.index],
                    peers: cfg.nodeAdminAddrs.filter((_, i) => i !== node.index),
                    caCert: tls?.caCertPem ?? "",
                    tlsServerName: cfg.adminTlsServerName,
                    containerId: container.id,
                    timeoutSeconds: cfg.rollingNodeTimeoutSeconds,
                    settleSeconds: durationSeconds(cfg.autopilot.serverStabilizationTime),
                },
                { parent: this, ...(push ? { dependsOn: [push] } : {}) },
            );
            this.ready.push(gate);
            previous = gate;
            this.containers.push(container);
            this.dataVolumes.push(data);
            this.auditVolumes.push(audit);
            this.serverConfigs.push(serverConfig);
        }
        this.registerOutputs({});
    }
}
