/**
 * AuditShipping: seed §3 "Ship audit logs to an immutable store".
 *
 * - The archive: on aws, gcp and azure a write-once store built by the same per-cloud code as the
 *   backup bucket (components/backup/aws.ts, gcp.ts, azure.ts) with its own name, retention
 *   (auditArchiveRetentionDays), lock mode (backupLockMode), key and writer: S3 Object Lock default
 *   retention + versioning + SSE-KMS + TLS-only, uploads with Content-MD5; GCS locked retention
 *   policy; Azure container immutability policy. The writer can add and list, never delete.
 *   On local: one protected Docker volume per node, which is NOT write-once (anyone with the
 *   Docker daemon can delete it).
 * - The shipper: an rclone container beside each node, on the node's Docker host, mounting the
 *   node's audit volume as the Vault user (uid 100), hardened like the snapshot uploader (no
 *   capability, no-new-privileges, no swap, no core dumps, credentials in 0400 files).
 *   components/audit/shipper.ts renders its script and says how nothing is lost across rotation.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { DockerTarget } from "../dockerHosts";
import { hardenedContainer, imagePerHost } from "../container";
import { dockerName } from "../naming";
import type { NodePlan } from "../topology";
import { createStore } from "../backup/backupBucket";
import type { BackupDelivery, StoreSpec } from "../backup/types";
import {
    LOCAL_ARCHIVE_PATH,
    SHIPPER_AUDIT_DIR,
    SHIPPER_CONFIG_PATH,
    SHIPPER_MEMORY_MB,
    ARCHIVE_INIT_MEMORY_MB,
    SHIPPER_USER,
    renderShipperRcloneConfig,
    renderShipperScript,
    type ShipTarget,
} from "./shipper";

/** The Vault image's own data folder, owned by its unprivileged account (100:1000) in the image. */
export const ARCHIVE_OWNER_DIR = { vault: "/vault/file", openbao: "/openbao/file" } as const;

/** local: the archive volume, owned by the shipper's user after Docker's copy-up, made private to it. */
export function archiveOwnerScript(dir: string): string {
    return `chmod 0700 ${dir} && test -w ${dir} && test "$(stat -c %u ${dir})" = ${SHIPPER_USER.uid}`;
}

/** The Azure container of the archive. */
export const AUDIT_ARCHIVE_CONTAINER = "audit";

/** The archive's store settings (auditArchive* keys; lock mode from backupLockMode). */
export function auditStore(config: Pick<AuditShippingSettings, "auditShipping" | "backup">): StoreSpec {
    return {
        bucketName: config.auditShipping.bucketName,
        retentionDays: config.auditShipping.retentionDays,
        lockMode: config.backup.lockMode,
        contents: "audit logs",
        writerLabel: "audit log writer",
        accountSuffix: "-audit",
        container: AUDIT_ARCHIVE_CONTAINER,
        lifecycleId: "expire-audit-logs",
    };
}

/**
 * What the shippers and the archive are configured from: the shipping keys, the bucket's location
 * and lock mode and the uploader image (backup*), the Vault image (the local archive's owner step),
 * the engine and the names. The plan's `auditShipping`.
 */
export type AuditShippingSettings = Pick<
    StackConfig,
    "auditShipping" | "backup" | "engine" | "image" | "stack" | "clusterName"
>;

export interface AuditShippingArgs {
    settings: AuditShippingSettings;
    nodes: NodePlan[];
    /** The Docker target of each node, in node order. */
    hosts: DockerTarget[];
    /** Each node's audit volume, in node order (RaftCluster.auditVolumes). */
    auditVolumes: docker.Volume[];
    /** Every Docker target (the cloud implementations take them; unused there). */
    targets: DockerTarget[];
}

export class AuditShipping extends pulumi.ComponentResource {
    /** s3://…, gs://…, https://<account>.blob.core.windows.net/audit, or docker-volume://… (local, per node). */
    public readonly archiveUrl: pulumi.Output<string>;
    public readonly writerIdentity: pulumi.Output<string>;
    public readonly retentionDays: number;
    public readonly maxDelayMinutes: number;
    /** A step a person must still run for the archive to be fully write-once (Azure lock). */
    public readonly pendingSteps: pulumi.Output<string[]>;
    /** One shipper per node, in node order. */
    public readonly shippers: docker.Container[] = [];
    /** local only: the archive volume per node. */
    public readonly localArchives: docker.Volume[] = [];
    /** The cloud store (aws, gcp, azure). */
    public readonly delivery?: BackupDelivery;

    constructor(name: string, args: AuditShippingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:AuditShipping", name, {}, opts);
        const cfg = args.settings;
        this.retentionDays = cfg.auditShipping.retentionDays;
        this.maxDelayMinutes = cfg.auditShipping.maxDelayMinutes;
        const cloud = cfg.backup.location.cloud;
        const labels = (node: NodePlan, role: string) => [
            { label: "bonito.role", value: role },
            { label: "bonito.stack", value: cfg.stack },
            { label: "bonito.node", value: node.name },
        ];

        let target: pulumi.Output<ShipTarget>;
        let secretFiles: { path: string; content: pulumi.Output<string> }[] = [];
        if (cloud === "local") {
            target = pulumi.output({ kind: "local" as const });
            this.writerIdentity = pulumi.output("docker-volume (not write-once)");
            this.pendingSteps = pulumi.output([]);
        } else {
            this.delivery = createStore(`${name}-archive`, this, {
                owner: cfg,
                location: cfg.backup.location,
                store: auditStore(cfg),
                target: args.targets[0],
            });
            if (!this.delivery.upload) throw new Error(`the ${cloud} store returned no upload settings`);
            target = this.delivery.upload.target;
            secretFiles = this.delivery.upload.files;
            this.writerIdentity = this.delivery.writerIdentity;
            this.pendingSteps = this.delivery.pendingSteps;
        }

        const imageFor = imagePerHost(`${name}-image`, cfg.backup.uploaderImage, this);
        const vaultImageFor = imagePerHost(`${name}-vault-image`, cfg.image, this);
        const urls: pulumi.Output<string>[] = [];
        const archiveInits = new Map<string, docker.Container>();
        const rcloneConfig = target.apply(renderShipperRcloneConfig);
        const owned = { owner: SHIPPER_USER.uid, group: SHIPPER_USER.gid };
        for (const node of args.nodes) {
            const host = args.hosts[node.index];
            const dockerOpts = { parent: this, provider: host.provider };
            const volumes = [{ volumeName: args.auditVolumes[node.index].name, containerPath: SHIPPER_AUDIT_DIR }];
            if (cloud === "local") {
                // The local archive: kept through `pulumi destroy`, but not write-once.
                const archive = new docker.Volume(
                    `${name}-${node.name}-archive`,
                    {
                        name: dockerName(cfg, node.name, "audit-archive"),
                        driver: "local",
                        labels: labels(node, "audit-archive"),
                    },
                    { ...dockerOpts, protect: true, retainOnDelete: true },
                );
                this.localArchives.push(archive);
                volumes.push({ volumeName: archive.name, containerPath: LOCAL_ARCHIVE_PATH });
                urls.push(pulumi.interpolate`docker-volume://${host.host}/${archive.name}`);
                // A new volume's root is root's 0755 (the rclone image has no /archive to copy up), so
                // the shipper (uid 100, no capability) could not write to it: "mkdir /archive/vault-0:
                // permission denied" on a real engine (Docker tier). Docker copies an image folder's
                // owner and mode into an empty volume mounted on it: mounted once on the Vault image's
                // own data folder (vault-owned), the volume becomes the shipper's user's, with no
                // capability and nothing run as root. Pulumi waits for this step to exit (attach).
                const dataDir = ARCHIVE_OWNER_DIR[cfg.engine];
                archiveInits.set(
                    node.name,
                    hardenedContainer(
                        `${name}-${node.name}-archive-init`,
                        {
                            name: dockerName(cfg, node.name, "audit-archive-init"),
                            image: vaultImageFor(host).imageId,
                            user: `${SHIPPER_USER.uid}:${SHIPPER_USER.gid}`,
                            entrypoints: ["/bin/sh", "-c", archiveOwnerScript(dataDir), "audit-archive-init"],
                            attach: true,
                            mustRun: false,
                            oneShot: true,
                            memory: ARCHIVE_INIT_MEMORY_MB,
                            networksAdvanced: [{ name: host.network.name }],
                            volumes: [{ volumeName: archive.name, containerPath: dataDir }],
                            role: "audit-archive-init",
                            stack: cfg.stack,
                            node: node.name,
                        },
                        dockerOpts,
                    ),
                );
            }
            this.shippers.push(
                hardenedContainer(
                    `${name}-${node.name}`,
                    {
                        name: dockerName(cfg, node.name, "audit-shipper"),
                        image: imageFor(host).imageId,
                        // The audit volume is the Vault user's (0700): the shipper reads and moves as that user.
                        user: `${SHIPPER_USER.uid}:${SHIPPER_USER.gid}`,
                        // The image's entrypoint is rclone; the script only names files, never a secret.
                        entrypoints: target.apply((t) => [
                            "/bin/sh",
                            "-c",
                            renderShipperScript(t, node.name, cfg.auditShipping.maxDelayMinutes),
                            "audit-shipper",
                        ]),
                        // Tini as PID 1 forwards SIGTERM to the script and reaps rclone.
                        init: true,
                        memory: SHIPPER_MEMORY_MB,
                        networksAdvanced: [{ name: host.network.name }],
                        uploads: [
                            { file: SHIPPER_CONFIG_PATH, content: rcloneConfig, ...owned, permissions: "0444" },
                            ...secretFiles.map((f) => ({
                                file: f.path,
                                content: pulumi.secret(f.content),
                                ...owned,
                                permissions: "0400",
                            })),
                        ],
                        volumes,
                        role: "audit-shipper",
                        stack: cfg.stack,
                        node: node.name,
                    },
                    {
                        ...dockerOpts,
                        ...(archiveInits.has(node.name) ? { dependsOn: [archiveInits.get(node.name)!] } : {}),
                    },
                ),
            );
        }
        this.archiveUrl = this.delivery ? this.delivery.url : pulumi.all(urls).apply((u) => u.join(" "));
        this.registerOutputs({
            archiveUrl: this.archiveUrl,
            writerIdentity: this.writerIdentity,
            retentionDays: this.retentionDays,
            maxDelayMinutes: this.maxDelayMinutes,
            pendingSteps: this.pendingSteps,
        });
    }
}
