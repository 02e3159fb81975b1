/**
 * VaultPlatform: the whole deployment for one stack.
 *
 * Order matters and is explicit: Docker hosts and networks, then the unseal key (the local
 * transit unsealer runs on the first host), certificates, the Raft nodes, then the Vault-side
 * settings and the backups that need a running, initialised cluster.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import { promotionProblems } from "./config/promotion";
import { AuditShipping } from "./audit/auditShipper";
import { BackupBucket } from "./backup/backupBucket";
import { SnapshotAgent } from "./backup/snapshotAgent";
import { ClusterTls } from "./clusterTls";
import { DockerHosts } from "./dockerHosts";
import { EntryPoint } from "./entryPoint";
import { Monitoring } from "./monitoring/monitoring";
import { RaftCluster } from "./raftCluster";
import { renderAuditDevices } from "./settings/audit";
import { VaultSettings } from "./settings/vaultSettings";
import { planPlatform } from "./plan";
import type { NodePlan } from "./topology";
import { UnsealKey } from "./unseal/unsealKey";

export interface VaultPlatformArgs {
    config: StackConfig;
}

export class VaultPlatform extends pulumi.ComponentResource {
    public readonly nodes: NodePlan[];
    /** The address clients use: the entry point's name (on cloud local, the service name). */
    public readonly vaultAddr: pulumi.Output<string>;
    /** The way in: a health-checked load balancer, a DNS record, the Docker alias, or none. */
    public readonly entryPoint: EntryPoint;
    /** Each node's advertised API address. */
    public readonly nodeApiAddrs: pulumi.Output<string[]>;
    /** The CA clients pin; undefined when TLS terminates upstream. */
    public readonly caCert: pulumi.Output<string> | undefined;
    public readonly hosts: DockerHosts;
    public readonly unseal: UnsealKey;
    public readonly tls: ClusterTls | undefined;
    public readonly cluster: RaftCluster;
    public readonly settings: VaultSettings;
    public readonly backup: BackupBucket;
    public readonly snapshots: SnapshotAgent;
    /** The audit archive and one shipper per node; undefined when auditShipping is false (never on prod). */
    public readonly auditShipping: AuditShipping | undefined;
    public readonly monitoring: Monitoring;
    /** The image this stack deploys, after the promotion gate (prod: equal to staging's verifiedImage). */
    public readonly image: pulumi.Output<string>;

    constructor(name: string, args: VaultPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:VaultPlatform", name, {}, opts);
        const cfg = args.config;
        const child = { parent: this };
        const plan = planPlatform(cfg);
        this.nodes = plan.nodes;

        this.image = promotedImage(name, this, cfg);
        this.hosts = new DockerHosts(`${name}-docker`, plan.dockerHosts, child);
        this.unseal = new UnsealKey(`${name}-unseal`, { ...plan.unseal, targets: this.hosts.targets }, child);
        this.tls = plan.tls && new ClusterTls(`${name}-tls`, { ...plan.tls, nodes: this.nodes }, child);
        this.cluster = new RaftCluster(
            `${name}-raft`,
            {
                settings: plan.raft,
                nodes: this.nodes,
                hosts: this.hosts.perNode,
                tls: this.tls && { caCertPem: this.tls.caCertPem, nodeCerts: this.tls.nodeCerts },
                seal: this.unseal.delivery,
                image: this.image,
                // OpenBao >= 2.3 takes audit devices from the config file only (docs/vault-settings.md).
                audit: cfg.engine === "openbao" ? renderAuditDevices(cfg) : undefined,
            },
            child,
        );
        this.auditShipping = plan.auditShipping
            ? new AuditShipping(
                  `${name}-audit-shipping`,
                  {
                      settings: plan.auditShipping,
                      nodes: this.nodes,
                      hosts: this.hosts.perNode,
                      auditVolumes: this.cluster.auditVolumes,
                      targets: this.hosts.targets,
                  },
                  child,
              )
            : undefined;
        this.entryPoint = new EntryPoint(`${name}-entry`, plan.entryPoint, child);
        this.settings = new VaultSettings(
            `${name}-settings`,
            {
                settings: plan.vaultSettings,
                caCert: this.tls?.caCertPem ?? "",
                dependsOn: [...this.cluster.containers, ...this.cluster.ready],
                rollingIdentity: cfg.storage === "raft" ? this.cluster.rollingIdentity : undefined,
            },
            child,
        );
        this.backup = new BackupBucket(`${name}-backup`, { ...plan.backup, target: this.hosts.targets[0] }, child);
        this.snapshots = new SnapshotAgent(
            `${name}-snapshots`,
            {
                ...plan.snapshots,
                target: this.hosts.targets[0],
                delivery: this.backup.delivery,
                roleId: this.settings.snapshotAgentRoleId,
                secretId: this.settings.snapshotAgentSecretId,
                caCert: this.tls?.caCertPem,
                dependsOn: [this.settings],
            },
            child,
        );

        this.monitoring = new Monitoring(
            `${name}-monitoring`,
            {
                settings: plan.monitoring,
                nodes: this.nodes,
                hosts: this.hosts.perNode,
                caCert: this.tls?.caCertPem ?? "",
                certNotAfter: Object.fromEntries(
                    this.nodes.map((n, i) => [n.name, this.tls ? this.tls.nodeCerts[i].notAfter : ""]),
                ),
                caNotAfter: this.tls?.caNotAfter ?? {},
                vaultProvider: this.settings.provider,
                admin: this.settings.admin,
                backupUploadLog: this.snapshots.uploadLog?.name,
                dependsOn: [this.settings],
            },
            child,
        );

        this.vaultAddr = pulumi.output(cfg.entryPoint.url);
        this.nodeApiAddrs = pulumi.output(this.nodes.map((n) => n.apiAddr));
        this.caCert = this.tls?.caCertPem;
        this.registerOutputs({ vaultAddr: this.vaultAddr, nodeApiAddrs: this.nodeApiAddrs, caCert: this.caCert });
    }
}

/**
 * The promotion gate: with `promoteFrom` set (prod defaults to staging), the image is accepted only
 * if it equals what that stack exports as `verifiedImage` (and, with `sourceCommit`, the same
 * commit). Every Vault container pulls the image through this value, so a refused promotion fails
 * before any node is touched, whether `pulumi up` runs from CI or from a workstation.
 */
export function promotedImage(name: string, parent: pulumi.Resource, cfg: StackConfig): pulumi.Output<string> {
    const from = cfg.promotion.from;
    if (from === undefined) return pulumi.output(cfg.image);
    const ref = new pulumi.StackReference(`${name}-promoted-from`, { name: from }, { parent });
    return pulumi
        .all([ref.getOutput("verifiedImage"), ref.getOutput("verifiedCommit")])
        .apply(([verifiedImage, verifiedCommit]) => {
            const problems = promotionProblems(
                from,
                cfg.image,
                { verifiedImage, verifiedCommit },
                cfg.promotion.sourceCommit,
            );
            if (problems.length > 0) throw new Error(`promotion refused: ${problems.join("; ")}`);
            return cfg.image;
        });
}
