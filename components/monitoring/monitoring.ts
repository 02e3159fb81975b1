/**
 * Monitoring: the metrics reader (policy, token role, token) on every stack, and where alerts go.
 *
 * - every stack: the metrics policy and the `bonito-metrics` AppRole role with one secret ID, which
 *   a Vault Agent beside Prometheus logs in with (metricsPolicy.ts says why an agent);
 * - `monitoring: bundled`: on the first Docker host, Prometheus (protected data volume) scraping
 *   every node's `sys/metrics` over TLS with the token its Vault Agent sidecar keeps in a shared
 *   in-memory volume, blackbox_exporter probing every
 *   node's `sys/health`, Alertmanager (protected data volume) with the receiver from secret config,
 *   its API behind basic auth (a generated password Prometheus sends alerts with);
 *   beside every node, mtail reading that node's audit volume (read-only) with the security rules.
 * - `monitoring: external`: nothing runs; the scrape config, alert rules, mtail program and the
 *   metrics login (the agent's config, role ID and secret ID) are stack outputs for the team's own
 *   Prometheus and the Vault Agent they run beside it.
 *
 * Everything rendered comes from the pure modules beside this file, which the unit and conformance
 * tiers run with promtool, mtail, Prometheus, blackbox_exporter and Alertmanager.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import type { StackConfig } from "../config";

/**
 * What monitoring is configured from: its own keys (monitoring*), how nodes are reached (multiHost,
 * publishAddress, serviceName, adminAddr), and the schedules its alerts watch (certificate
 * renewal, backups, audit shipping). The plan's `monitoring`.
 */
export type MonitoringSettings = Pick<
    StackConfig,
    | "monitoring"
    | "multiHost"
    | "publishAddress"
    | "serviceName"
    | "adminAddr"
    | "adminTlsServerName"
    | "clusterName"
    | "stack"
    | "image"
    | "engine"
    | "apiPort"
> & {
    tls: Pick<StackConfig["tls"], "earlyRenewalHours" | "caValidityHours">;
    backup: Pick<StackConfig["backup"], "scheduleSeconds" | "location">;
    auditShipping: Pick<StackConfig["auditShipping"], "enabled" | "maxDelayMinutes">;
};
import type { DockerTarget } from "../dockerHosts";
import { caEarlyRenewalHours } from "../config/core";
import { AUDIT_DIR, AUDIT_FILE } from "../settings/audit";
import { NAMES, policyText } from "../settings/acl";
import { metricsRole } from "../settings/plan";
import { roleArgs } from "../settings/vaultSettings";
import { RUNTIME_USER } from "../runtime";
import { hardenedContainer } from "../container";
import { dockerName } from "../naming";
import type { NodePlan } from "../topology";
import { renderAlertRulesFile } from "./alertRules";
import { ALERTMANAGER_WEB_USER, AlertmanagerWebCredentials } from "./alertmanagerAuth";
import { renderMetricsAgentConfig, renderMetricsPolicy } from "./metricsPolicy";
import {
    asFile,
    renderAlertmanagerConfig,
    renderAlertmanagerWebConfig,
    renderBlackboxConfig,
    renderPrometheusConfig,
    type ReceiverConfig,
} from "./prometheusConfig";
import { renderMtailProgram, securityRules, SHIPPER_LOG_NAME } from "./securityRules";
import {
    SPOOL_MIN_AGE_SECONDS,
    UPLOAD_LOG_DIR,
    UPLOAD_LOG_NAME,
    uploadIntervalSeconds,
} from "../backup/uploaderConfig";

export const MTAIL_PORT = 3903;
export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;
export const BLACKBOX_PORT = 9115;
/** Paths inside the bundled containers (and the names `external` uses in its exported config). */
export const MONITORING_PATHS = {
    prometheusConfig: "/etc/prometheus/prometheus.yml",
    rules: "/etc/prometheus/rules/bonito-vault.yml",
    caFile: "/etc/prometheus/vault-ca.pem",
    /** The metrics agent's sink, on the in-memory volume it shares with Prometheus (read-only there). */
    tokenDir: "/run/bonito-metrics",
    tokenFile: "/run/bonito-metrics/token",
    agentConfig: "/etc/vault-agent/agent.json",
    agentCa: "/etc/vault-agent/vault-ca.pem",
    agentRoleId: "/etc/vault-agent/role-id",
    agentSecretId: "/etc/vault-agent/secret-id",
    /** The bundled Alertmanager's password, which Prometheus sends alerts with. */
    alertmanagerPasswordFile: "/etc/prometheus/alertmanager-password",
    prometheusData: "/prometheus",
    alertmanagerConfig: "/etc/alertmanager/alertmanager.yml",
    /** `--web.config.file`: basic auth on the API and UI (the bcrypt hash only). */
    alertmanagerWebConfig: "/etc/alertmanager/web.yml",
    alertmanagerData: "/alertmanager",
    blackboxConfig: "/etc/blackbox/blackbox.yml",
    blackboxCa: "/etc/blackbox/vault-ca.pem",
    mtailProgs: "/etc/mtail",
} as const;
/** The Vault image's user (uid 100, group 1000), which owns the audit files (mode 0600). */
const VAULT_USER = "100:1000";
/** The prom/* images run as nobody. */
const NOBODY = "65534:65534";

export interface MonitoringArgs {
    settings: MonitoringSettings;
    nodes: NodePlan[];
    /** Docker target per node (node order); the first is where Prometheus and Alertmanager run. */
    hosts: DockerTarget[];
    caCert: pulumi.Input<string>;
    /** Node name → certificate notAfter (RFC 3339). */
    certNotAfter: Record<string, pulumi.Input<string>>;
    /** Each trusted CA (ClusterTls caNotAfter) → its notAfter (RFC 3339); empty without TLS at Vault. */
    caNotAfter?: Record<string, pulumi.Input<string>>;
    vaultProvider: vault.Provider;
    admin: { roleId: pulumi.Input<string>; secretId: pulumi.Input<string> };
    /**
     * The snapshot uploader's log volume (SnapshotAgent.uploadLog; on host 0, beside node 0): node 0's
     * mtail reads it for VaultBackupStale. Undefined on local, which has no uploader.
     */
    backupUploadLog?: pulumi.Input<string>;
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The files a node's mtail follows: the audit file; the audit shipper's confirmation log beside it
 * when audit shipping is on (shipper.ts CONFIRM_LOG); on node 0 of a stack with a bucket, the
 * snapshot uploader's log (uploaderConfig.ts renderUploaderScript).
 */
export function mtailLogs(auditShipping: boolean, uploadLog: boolean): string {
    return [
        AUDIT_FILE,
        ...(auditShipping ? [`${AUDIT_DIR}/${SHIPPER_LOG_NAME}`] : []),
        ...(uploadLog ? [`${UPLOAD_LOG_DIR}/${UPLOAD_LOG_NAME}`] : []),
    ].join(",");
}

/** host:port of each node's API as Prometheus reaches it (the node's advertised address). */
export function vaultTargets(nodes: NodePlan[]): string[] {
    return nodes.map((n) => n.apiAddr.replace(/^https?:\/\//, ""));
}

/** host:port of each node's mtail: its container name on a shared host, the node's address and published port otherwise. */
export function auditTargets(cfg: MonitoringSettings, nodes: NodePlan[]): string[] {
    return nodes.map((n) =>
        cfg.multiHost ? `${n.address}:${MTAIL_PORT}` : `${dockerName(cfg, n.name, "mtail")}:${MTAIL_PORT}`,
    );
}

export function receiverConfig(cfg: Pick<MonitoringSettings, "monitoring">): ReceiverConfig {
    const r = cfg.monitoring.receiver;
    return {
        webhookUrl: r.webhookUrl?.reveal(),
        slack:
            r.slackWebhookUrl && r.slackChannel
                ? { apiUrl: r.slackWebhookUrl.reveal(), channel: r.slackChannel }
                : undefined,
        pagerdutyRoutingKey: r.pagerdutyRoutingKey?.reveal(),
    };
}

/** The plain, non-secret files of a stack's monitoring (certificate dates filled in later). */
export function renderMonitoringFiles(
    cfg: MonitoringSettings,
    nodes: NodePlan[],
    certNotAfter: Record<string, number>,
    caNotAfter: Record<string, number> = {},
) {
    const rules = securityRules({ sensitivePaths: cfg.monitoring.sensitivePaths, snapshotRoles: [NAMES.snapshotRole] });
    const host0 = (name: string, port: number) => `${dockerName(cfg, name)}:${port}`;
    return {
        alertRules: renderAlertRulesFile({
            security: rules,
            certificateNotAfter: certNotAfter,
            certificateWarnSeconds: cfg.tls.earlyRenewalHours * 3600,
            caNotAfter,
            caWarnSeconds: caEarlyRenewalHours(cfg.tls.caValidityHours) * 3600,
            backupIntervalSeconds: cfg.backup.scheduleSeconds,
            backupUpload:
                cfg.backup.location.cloud === "local"
                    ? undefined
                    : {
                          roundSeconds: uploadIntervalSeconds(cfg.backup.scheduleSeconds),
                          minAgeSeconds: SPOOL_MIN_AGE_SECONDS,
                      },
            auditShipping: cfg.auditShipping.enabled
                ? { maxDelaySeconds: cfg.auditShipping.maxDelayMinutes * 60, nodes: nodes.map((n) => n.name) }
                : undefined,
        }),
        mtailProgram: renderMtailProgram(rules),
        prometheusConfig: asFile(
            renderPrometheusConfig({
                vaultTargets: vaultTargets(nodes),
                auditTargets: auditTargets(cfg, nodes),
                blackboxAddress: host0("blackbox", BLACKBOX_PORT),
                alertmanagers: [host0("alertmanager", ALERTMANAGER_PORT)],
                tlsServerName: cfg.serviceName,
                caFile: MONITORING_PATHS.caFile,
                tokenFile: MONITORING_PATHS.tokenFile,
                ruleFiles: [MONITORING_PATHS.rules],
                // Only the bundled Alertmanager asks for it; `external` points at the team's own.
                alertmanagerAuth:
                    cfg.monitoring.mode === "bundled"
                        ? { username: ALERTMANAGER_WEB_USER, passwordFile: MONITORING_PATHS.alertmanagerPasswordFile }
                        : undefined,
            }),
        ),
        blackboxConfig: asFile(
            renderBlackboxConfig({ caFile: MONITORING_PATHS.blackboxCa, tlsServerName: cfg.serviceName }),
        ),
    };
}

/** The metrics agent's login material (the `monitoringMetricsLogin` stack output, a secret). */
export interface MetricsLogin {
    /** `vault agent -config` file; its paths are MONITORING_PATHS' agent* and tokenFile. */
    agentConfig: string;
    roleId: string;
    secretId: string;
    caCert: string;
}

/**
 * Where the metrics agent logs in: on one shared host the service name, which Docker resolves to
 * every node on the stack's network (a node down, the agent reaches another); across hosts, or for
 * the team's own agent (`external`), the first node's advertised address (the agent takes one
 * address; while that node is down the current token still serves until its max TTL).
 */
export function metricsAgentAddress(
    cfg: Pick<MonitoringSettings, "multiHost" | "serviceName" | "apiPort" | "monitoring">,
    nodes: NodePlan[],
): string {
    const first = nodes[0].apiAddr;
    if (cfg.multiHost || cfg.monitoring.mode !== "bundled") return first;
    const scheme = first.slice(0, first.indexOf("://"));
    return `${scheme}://${cfg.serviceName}:${cfg.apiPort}`;
}

/** The metrics agent's configuration file (pure: same input, same text). */
export function renderMetricsAgentFile(
    cfg: Pick<MonitoringSettings, "multiHost" | "serviceName" | "apiPort" | "monitoring">,
    nodes: NodePlan[],
): string {
    const address = metricsAgentAddress(cfg, nodes);
    return renderMetricsAgentConfig({
        address,
        caFile: address.startsWith("https://") ? MONITORING_PATHS.agentCa : "",
        tlsServerName: cfg.serviceName,
        approleMount: NAMES.approleMount,
        roleIdFile: MONITORING_PATHS.agentRoleId,
        secretIdFile: MONITORING_PATHS.agentSecretId,
        sinkFile: MONITORING_PATHS.tokenFile,
    });
}

export class Monitoring extends pulumi.ComponentResource {
    public readonly alertRules: pulumi.Output<string>;
    public readonly mtailProgram: string;
    public readonly prometheusConfig: string;
    /**
     * Secret: what the metrics agent logs in with (its config, the role ID, the secret ID, the CA);
     * with `external`, the team runs `vault agent` from it beside their Prometheus.
     */
    public readonly metricsLogin: pulumi.Output<MetricsLogin>;
    /** The metrics agent's configuration file (no secret in it: it names the files that hold them). */
    public readonly metricsAgentConfig: string;
    /** Secret: the bundled Alertmanager's password (user {@link ALERTMANAGER_WEB_USER}); "" with `external`. */
    public readonly alertmanagerPassword: pulumi.Output<string>;
    public readonly containers: docker.Container[] = [];

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:Monitoring", name, { mode: args.settings.monitoring.mode }, opts);
        const cfg = args.settings;
        const on = { parent: this, provider: args.vaultProvider, dependsOn: args.dependsOn };

        const policy = new vault.Policy(
            `${name}-policy`,
            { name: NAMES.metricsPolicy, policy: policyText(renderMetricsPolicy()) },
            on,
        );
        // Prometheus's identity: the Vault Agent beside it logs in with this role and one secret ID.
        const role = new vault.approle.AuthBackendRole(
            `${name}-role`,
            roleArgs(metricsRole(cfg.monitoring.tokenBoundCidrs), NAMES.approleMount),
            { ...on, dependsOn: [policy, ...(args.dependsOn ?? [])] },
        );
        const secret = new vault.approle.AuthBackendRoleSecretId(
            `${name}-secret-id`,
            { backend: NAMES.approleMount, roleName: role.roleName },
            { ...on, dependsOn: [role], additionalSecretOutputs: ["secretId", "accessor"] },
        );
        const agentConfig = renderMetricsAgentFile(cfg, args.nodes);
        this.metricsAgentConfig = agentConfig;
        this.metricsLogin = pulumi.secret(
            pulumi
                .all([role.roleId, secret.secretId, args.caCert])
                .apply(([roleId, secretId, caCert]) => ({ agentConfig, roleId, secretId, caCert })),
        );

        const names = Object.keys(args.certNotAfter);
        const cas = Object.keys(args.caNotAfter ?? {});
        const files = (dates: Record<string, number>, caDates: Record<string, number> = {}) =>
            renderMonitoringFiles(cfg, args.nodes, dates, caDates);
        const plain = files({});
        this.mtailProgram = plain.mtailProgram;
        this.prometheusConfig = plain.prometheusConfig;
        const seconds = (keys: string[], ds: string[]) =>
            Object.fromEntries(
                keys.map((n, i) => [n, Date.parse(ds[i]) / 1000]).filter(([, t]) => Number.isFinite(t)),
            ) as Record<string, number>;
        this.alertRules = pulumi
            .all([
                pulumi.all(names.map((n) => pulumi.output(args.certNotAfter[n]))),
                pulumi.all(cas.map((n) => pulumi.output(args.caNotAfter![n]))),
            ])
            .apply(([ds, caDs]) => files(seconds(names, ds), seconds(cas, caDs)).alertRules);

        if (cfg.monitoring.mode === "bundled") {
            const web = new AlertmanagerWebCredentials(`${name}-alertmanager-web`, { parent: this });
            this.alertmanagerPassword = pulumi.secret(web.password);
            this.declareBundled(name, args, plain, web, agentConfig, role.roleId, secret.secretId);
        } else this.alertmanagerPassword = pulumi.output("");
        this.registerOutputs({ alertRules: this.alertRules, mtailProgram: this.mtailProgram });
    }

    private declareBundled(
        name: string,
        args: MonitoringArgs,
        plain: ReturnType<typeof renderMonitoringFiles>,
        web: AlertmanagerWebCredentials,
        agentConfig: string,
        roleId: pulumi.Output<string>,
        secretId: pulumi.Output<string>,
    ) {
        const cfg = args.settings;
        const host = args.hosts[0];
        const dockerOpts = { parent: this, provider: host.provider };
        const labels = (role: string) => [
            { label: "bonito.role", value: role },
            { label: "bonito.stack", value: cfg.stack },
        ];
        const keep = { ...dockerOpts, protect: true, retainOnDelete: true };
        const image = (key: string, ref: string, target: DockerTarget) =>
            new docker.RemoteImage(
                `${name}-${key}-image`,
                { name: ref, keepLocally: true },
                { parent: this, provider: target.provider },
            );

        const promData = new docker.Volume(
            `${name}-prometheus-data`,
            { name: dockerName(cfg, "prometheus-data"), driver: "local", labels: labels("prometheus-data") },
            keep,
        );
        const amData = new docker.Volume(
            `${name}-alertmanager-data`,
            { name: dockerName(cfg, "alertmanager-data"), driver: "local", labels: labels("alertmanager-data") },
            keep,
        );
        const net = [{ name: host.network.name }];
        // The metrics agent's sink: an in-memory volume (tmpfs), so the token never reaches a disk; the
        // agent writes it, Prometheus mounts it read-only. Both run as nobody; only nobody may enter it.
        const tokenVolume = new docker.Volume(
            `${name}-metrics-token`,
            {
                name: dockerName(cfg, "metrics-token"),
                driver: "local",
                driverOpts: { type: "tmpfs", device: "tmpfs", o: "size=1m,uid=65534,gid=65534,mode=0700" },
                labels: labels("metrics-token"),
            },
            dockerOpts,
        );
        // The token, the receiver, Alertmanager's password and its hash are secrets: files owned by
        // nobody (the prom/* images' user, the only process in these containers), mode 0400.
        const secretFile = (file: string, content: pulumi.Input<string>) => ({
            file,
            content: pulumi.secret(content),
            owner: "65534",
            group: "65534",
            permissions: "0400",
        });
        this.containers.push(
            hardenedContainer(
                `${name}-prometheus`,
                {
                    name: dockerName(cfg, "prometheus"),
                    image: image("prometheus", cfg.monitoring.prometheusImage, host).imageId,
                    user: NOBODY,
                    command: [
                        `--config.file=${MONITORING_PATHS.prometheusConfig}`,
                        `--storage.tsdb.path=${MONITORING_PATHS.prometheusData}`,
                        "--storage.tsdb.retention.time=30d",
                        `--web.listen-address=:${PROMETHEUS_PORT}`,
                    ],
                    uploads: [
                        {
                            file: MONITORING_PATHS.prometheusConfig,
                            content: plain.prometheusConfig,
                            permissions: "0444",
                        },
                        { file: MONITORING_PATHS.rules, content: this.alertRules, permissions: "0444" },
                        { file: MONITORING_PATHS.caFile, content: args.caCert, permissions: "0444" },
                        // Prometheus runs as nobody: only it reads the password.
                        secretFile(MONITORING_PATHS.alertmanagerPasswordFile, web.password),
                    ],
                    volumes: [
                        { volumeName: promData.name, containerPath: MONITORING_PATHS.prometheusData },
                        { volumeName: tokenVolume.name, containerPath: MONITORING_PATHS.tokenDir, readOnly: true },
                    ],
                    networksAdvanced: net,
                    memory: 512,
                    role: "prometheus",
                    stack: cfg.stack,
                },
                dockerOpts,
            ),
        );
        // The metrics agent: the stack's own Vault binary as `vault agent`, unprivileged, straight from
        // the binary (the image's entrypoint script is for the server: chown, setcap, su-exec).
        this.containers.push(
            hardenedContainer(
                `${name}-metrics-agent`,
                {
                    name: dockerName(cfg, "metrics-agent"),
                    image: image("metrics-agent", cfg.image, host).imageId,
                    user: NOBODY,
                    entrypoints: [`/bin/${RUNTIME_USER[cfg.engine].binary}`],
                    command: ["agent", `-config=${MONITORING_PATHS.agentConfig}`],
                    uploads: [
                        { file: MONITORING_PATHS.agentConfig, content: agentConfig, permissions: "0444" },
                        { file: MONITORING_PATHS.agentCa, content: args.caCert, permissions: "0444" },
                        secretFile(MONITORING_PATHS.agentRoleId, roleId),
                        secretFile(MONITORING_PATHS.agentSecretId, secretId),
                    ],
                    volumes: [{ volumeName: tokenVolume.name, containerPath: MONITORING_PATHS.tokenDir }],
                    networksAdvanced: net,
                    memory: 64,
                    role: "metrics-agent",
                    stack: cfg.stack,
                },
                dockerOpts,
            ),
        );
        this.containers.push(
            hardenedContainer(
                `${name}-alertmanager`,
                {
                    name: dockerName(cfg, "alertmanager"),
                    image: image("alertmanager", cfg.monitoring.alertmanagerImage, host).imageId,
                    user: NOBODY,
                    command: [
                        `--config.file=${MONITORING_PATHS.alertmanagerConfig}`,
                        `--storage.path=${MONITORING_PATHS.alertmanagerData}`,
                        `--web.listen-address=:${ALERTMANAGER_PORT}`,
                        // Basic auth on every API and UI request (Alertmanager >= 0.22).
                        `--web.config.file=${MONITORING_PATHS.alertmanagerWebConfig}`,
                        "--cluster.listen-address=",
                    ],
                    uploads: [
                        secretFile(
                            MONITORING_PATHS.alertmanagerConfig,
                            asFile(renderAlertmanagerConfig(receiverConfig(cfg))),
                        ),
                        secretFile(
                            MONITORING_PATHS.alertmanagerWebConfig,
                            web.passwordHash.apply((passwordHash) =>
                                asFile(renderAlertmanagerWebConfig({ username: ALERTMANAGER_WEB_USER, passwordHash })),
                            ),
                        ),
                    ],
                    volumes: [{ volumeName: amData.name, containerPath: MONITORING_PATHS.alertmanagerData }],
                    networksAdvanced: net,
                    memory: 128,
                    role: "alertmanager",
                    stack: cfg.stack,
                },
                dockerOpts,
            ),
        );
        this.containers.push(
            hardenedContainer(
                `${name}-blackbox`,
                {
                    name: dockerName(cfg, "blackbox"),
                    image: image("blackbox", cfg.monitoring.blackboxImage, host).imageId,
                    user: NOBODY,
                    command: [
                        `--config.file=${MONITORING_PATHS.blackboxConfig}`,
                        `--web.listen-address=:${BLACKBOX_PORT}`,
                    ],
                    uploads: [
                        { file: MONITORING_PATHS.blackboxConfig, content: plain.blackboxConfig, permissions: "0444" },
                        { file: MONITORING_PATHS.blackboxCa, content: args.caCert, permissions: "0444" },
                    ],
                    networksAdvanced: net,
                    memory: 64,
                    role: "blackbox",
                    stack: cfg.stack,
                },
                dockerOpts,
            ),
        );
        const mtailImages = new Map<string, docker.RemoteImage>();
        for (const [i, node] of args.nodes.entries()) {
            const target = args.hosts[i];
            let img = mtailImages.get(target.host);
            if (!img) {
                img = image(`mtail-${mtailImages.size}`, cfg.monitoring.mtailImage!, target);
                mtailImages.set(target.host, img);
            }
            this.containers.push(
                hardenedContainer(
                    `${name}-mtail-${node.name}`,
                    {
                        name: dockerName(cfg, node.name, "mtail"),
                        image: img.imageId,
                        user: VAULT_USER,
                        command: [
                            "--progs",
                            MONITORING_PATHS.mtailProgs,
                            "--logs",
                            mtailLogs(cfg.auditShipping.enabled, i === 0 && args.backupUploadLog !== undefined),
                            "--port",
                            String(MTAIL_PORT),
                        ],
                        uploads: [
                            {
                                file: `${MONITORING_PATHS.mtailProgs}/vault-audit.mtail`,
                                content: plain.mtailProgram,
                                permissions: "0444",
                            },
                        ],
                        volumes: [
                            { volumeName: node.auditVolumeName, containerPath: AUDIT_DIR, readOnly: true },
                            // Node 0's mtail is on host 0 with the uploader: its log only, never the spool.
                            ...(i === 0 && args.backupUploadLog !== undefined
                                ? [{ volumeName: args.backupUploadLog, containerPath: UPLOAD_LOG_DIR, readOnly: true }]
                                : []),
                        ],
                        networksAdvanced: [{ name: target.network.name }],
                        // Across hosts Prometheus reaches it at the node's address (counters only, no audit content).
                        ports: cfg.multiHost
                            ? [{ internal: MTAIL_PORT, external: MTAIL_PORT, ip: cfg.publishAddress }]
                            : [],
                        memory: 64,
                        role: "mtail",
                        stack: cfg.stack,
                        node: node.name,
                    },
                    { parent: this, provider: target.provider, dependsOn: args.dependsOn },
                ),
            );
        }
    }
}
