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
 * Rolling changes: a change that replaces every container (image, config) replaces one node at a
 * time, in the order HashiCorp's upgrade guide prescribes (standbys first, the active node handed
 * over and replaced last; components/rolling.ts), each only after the one before has its TLS files
 * and is a healthy voter again (components/nodeReady.ts), and none before the whole cluster was found
 * healthy. Certificate pushes follow the same chain: one node at a time.
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
import { hardenedContainer, imagePerHost, type HardenedContainerArgs } from "./container";
import { AUDIT_ROTATOR_SCRIPT, renderAuditRotatorScript } from "./settings/audit";
import { PATHS, type NodePlan } from "./topology";
import { durationSeconds } from "./config/fields";
import { NodeReady } from "./nodeReady";
import { NodeTls } from "./tls/nodeTls";
import {
    NodeTurn,
    RollCheck,
    RollCredential,
    activeNodeAtStart,
    versionFromImage,
    type RollCredentialValue,
    type RollNode,
} from "./rolling";
import { NAMES } from "./settings/acl";
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
        | "allowDowngrade"
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

/** SHA-256 of a text, hex. */
function digest(text: string): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createHash } = require("node:crypto") as typeof import("node:crypto");
    return createHash("sha256").update(text).digest("hex");
}

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
    /** The rolling-change identity's IDs (the settings declare the AppRole with them). */
    public readonly rollingIdentity: RollCredential;
    /** The check before the first replacement of a rolling change. */
    public readonly rollCheck: RollCheck;
    /** One hand-over gate per node, in node order (each runs right before its container is replaced). */
    public readonly turns: NodeTurn[];
    /** The order the engine replaces the nodes in, as computed when the program ran. */
    public readonly rollOrder: Promise<string[]>;

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
        this.turns = [];

        // The rolling identity and the check every container waits for (components/rolling.ts).
        this.rollingIdentity = new RollCredential(`${name}-rolling-identity`, { parent: this });
        const credential: pulumi.Output<RollCredentialValue> = pulumi.secret(
            pulumi
                .all([this.rollingIdentity.roleId, this.rollingIdentity.secretId])
                .apply(([roleId, secretId]) => ({ mount: NAMES.approleMount, roleId, secretId })),
        );
        const rollNodes: RollNode[] = nodes.map((n) => ({ name: n.name, addr: cfg.nodeAdminAddrs[n.index] }));
        const caCert = tls?.caCertPem ?? "";
        const targetVersion = cfg.engine === "vault" ? versionFromImage(cfg.image) : "";
        const specs: pulumi.Output<string>[] = [];
        // Filled in the loop below; the chain of gates is built from the order once it is known.
        const readyByName = new Map<string, NodeReady>();
        let allDeclared!: () => void;
        const declared = new Promise<void>((r) => (allDeclared = r));
        this.rollOrder = activeNodeAtStart(rollNodes, caCert, cfg.adminTlsServerName);
        const predecessor = (node: string): Promise<NodeReady[]> =>
            Promise.all([this.rollOrder, declared]).then(([order]) => {
                const k = order.indexOf(node);
                const prev = k > 0 ? readyByName.get(order[k - 1]) : undefined;
                return prev ? [prev] : [];
            });
        // Declared after the loop (it reads every node's spec); the containers wait for it.
        let checkDeclared!: (c: RollCheck) => void;
        const rollCheckDone = new Promise<RollCheck>((r) => (checkDeclared = r));

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
            const containerArgs: HardenedContainerArgs = {
                name: node.containerName,
                image: image.imageId,
                hostname: node.name,
                user: START_USER,
                entrypoints: entrypoint(cfg.engine, tls !== undefined),
                command: COMMAND,
                // Tini as PID 1 forwards SIGTERM/SIGHUP to Vault (it holds CAP_KILL for that: START_CAPABILITIES) and reaps children.
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
            };
            // What the container is made of: a change of any of it replaces the container.
            const spec = pulumi.output(containerArgs).apply((a) => digest(JSON.stringify(a)));
            specs.push(spec);
            const turn = new NodeTurn(
                `${name}-${node.name}-turn`,
                {
                    node: node.name,
                    addr: rollNodes[node.index].addr,
                    peers: rollNodes.filter((_, i) => i !== node.index),
                    caCert,
                    tlsServerName: cfg.adminTlsServerName,
                    spec,
                    targetVersion,
                    credential,
                    timeoutSeconds: cfg.rollingNodeTimeoutSeconds,
                },
                // Right after the node before it in the roll order is back.
                { parent: this, dependsOn: predecessor(node.name) },
            );
            this.turns.push(turn);
            const containerDeps: Promise<pulumi.Resource[]> = rollCheckDone.then((c) => [...seal.dependsOn, c, turn]);
            const container = hardenedContainer(
                `${name}-${node.name}`,
                containerArgs,
                // The container name is fixed, so a replacement must remove the old one first; and
                // it waits for the check before the roll and for its turn (one node at a time).
                {
                    ...childOpts,
                    dependsOn: containerDeps,
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
                    credential,
                    failureToleranceBefore: pulumi.output(rollCheckDone).apply((c) => c.failureTolerance),
                    targetVersion,
                },
                { parent: this, ...(push ? { dependsOn: [push] } : {}) },
            );
            this.ready.push(gate);
            readyByName.set(node.name, gate);
            this.containers.push(container);
            this.dataVolumes.push(data);
            this.auditVolumes.push(audit);
            this.serverConfigs.push(serverConfig);
        }
        this.rollCheck = new RollCheck(
            `${name}-roll-check`,
            {
                nodes: rollNodes,
                caCert,
                tlsServerName: cfg.adminTlsServerName,
                specs,
                targetVersion,
                allowDowngrade: cfg.allowDowngrade,
                credential,
            },
            { parent: this },
        );
        checkDeclared(this.rollCheck);
        allDeclared();
        this.registerOutputs({});
    }
}
