/**
 * SnapshotAgent: vault-raft-snapshot-agent in a container on the first Docker host, on the
 * cluster network, taking a Raft snapshot every `backupSchedule` from whichever node leads. It
 * logs in with its own AppRole (`snapshot-agent` on `approle/`, policy: read on
 * `sys/storage/raft/snapshot`).
 *
 * With a bucket (aws, gcp, azure) the agent writes each snapshot to a spool volume and, beside it,
 * the uploader (rclone, uploaderConfig.ts) moves it into the write-once bucket with Content-MD5,
 * deleting the spooled file only after the copy succeeded. The agent's own uploads cannot reach an
 * S3 bucket with Object Lock (no Content-MD5), and only the uploader holds the bucket credentials.
 * On local the agent writes to the backup volume directly.
 *
 * Secrets reach the containers as uploaded files (mode 0400), never on a command line or in a
 * rendered configuration, which only points at them (`file://…`, or a path the script reads).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { hardenedContainer } from "../container";
import { dockerName } from "../naming";
import type { BackupConfig } from "../config/backup";
import type { DockerTarget } from "../dockerHosts";
import {
    AGENT_CA_PATH,
    AGENT_CONFIG_PATH,
    AGENT_LOCAL_PATH,
    AGENT_TRUST_DIR,
    SECRET_FILES,
    localRetainCount,
    renderAgentConfig,
    type AgentConfigInput,
} from "./agentConfig";
import {
    renderRcloneConfig,
    renderUploaderScript,
    SPOOL_PATH,
    UPLOAD_LOG_DIR,
    UPLOADER_CONFIG_PATH,
} from "./uploaderConfig";
import type { BackupDelivery } from "./types";

export const SNAPSHOT_AGENT_APPROLE_MOUNT = "approle";
/** The uploader buffers at most 4 × 16 MiB of parts (uploaderConfig.ts): 256 MiB is ample. */
export const UPLOADER_MEMORY_MB = 256;

/** What the agent and the uploader are configured from (the plan's `snapshots`). */
export interface SnapshotSettings {
    /** The backup settings: schedule, images, memory, the bucket's location and retention. */
    backup: BackupConfig["backup"];
    /** Every node's API address, in node order (the agent follows the leader from any of them). */
    nodeApiAddrs: string[];
    /** The stack (labels) and cluster name (Docker object names). */
    stack: string;
    clusterName: string;
}

export interface SnapshotAgentArgs extends SnapshotSettings {
    /** The Docker daemon and cluster network the agent joins (targets[0]). */
    target: DockerTarget;
    /** Where snapshots go and with which credentials (BackupBucket.delivery). */
    delivery: BackupDelivery;
    /** AppRole role_id of `snapshot-agent`. */
    roleId: pulumi.Input<string>;
    /** AppRole secret_id of `snapshot-agent`; wrapped in a secret here whatever you pass. */
    secretId: pulumi.Input<string>;
    /** The cluster CA (PEM); undefined only when TLS terminates upstream (tlsMode upstream-proxy). */
    caCert?: pulumi.Input<string>;
    /** Resources that must exist first (the Vault-side role and policy). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The plain input of the agent's configuration for a stack. Every node's API address, not the
 * service alias (which lives on host 0 only): with any node down, the agent reaches another and
 * follows /sys/leader. On a spool (aws, gcp, azure) the agent never prunes (retain 0): only the
 * uploader removes a snapshot, once it is in the bucket; on local it prunes to cover the retention.
 */
export function agentConfigInput({
    backup,
    nodeApiAddrs,
}: Pick<SnapshotSettings, "backup" | "nodeApiAddrs">): AgentConfigInput {
    return {
        vaultUrls: nodeApiAddrs,
        approlePath: SNAPSHOT_AGENT_APPROLE_MOUNT,
        frequency: backup.schedule,
        retain: backup.location.cloud === "local" ? localRetainCount(backup.retentionDays, backup.scheduleSeconds) : 0,
        timeout: "5m",
        path: AGENT_LOCAL_PATH,
    };
}

export class SnapshotAgent extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** The rendered configuration (no secrets in it). */
    public readonly agentConfig: pulumi.Output<string>;
    public readonly schedule: string;
    /** The rclone sidecar that moves snapshots into the bucket; undefined on local. */
    public readonly uploader?: docker.Container;
    /** The uploader's rendered rclone.conf (no secrets in it); undefined on local. */
    public readonly uploaderConfig?: pulumi.Output<string>;
    /**
     * The uploader's confirmation log volume (uploaderConfig.ts renderUploaderScript), which node 0's
     * mtail reads for VaultBackupStale; undefined on local.
     */
    public readonly uploadLog?: docker.Volume;

    constructor(name: string, args: SnapshotAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:SnapshotAgent", name, {}, opts);
        const cfg = args;
        const dockerOpts = { parent: this, provider: args.target.provider };
        this.schedule = cfg.backup.schedule;
        this.agentConfig = pulumi.output(renderAgentConfig(agentConfigInput(cfg)));
        const labels = (role: string) => [
            { label: "bonito.role", value: role },
            { label: "bonito.stack", value: cfg.stack },
        ];

        const image = new docker.RemoteImage(
            `${name}-image`,
            { name: cfg.backup.agentImage, keepLocally: true },
            dockerOpts,
        );

        const secretFile = (file: string, content: pulumi.Input<string>) => ({
            file,
            content: pulumi.secret(content),
            permissions: "0400",
        });
        const uploads: pulumi.Input<docker.types.input.ContainerUpload>[] = [
            { file: AGENT_CONFIG_PATH, content: this.agentConfig, permissions: "0444" },
            secretFile(SECRET_FILES.roleId, args.roleId),
            secretFile(SECRET_FILES.secretId, args.secretId),
        ];
        const env = [`VRSA_CONFIG_FILE=${AGENT_CONFIG_PATH}`];
        if (args.caCert !== undefined) {
            // VAULT_CACERT is read by the Vault API client the agent uses (api.DefaultConfig);
            // the copy in /tmp/certs goes into the system store via the image's entrypoint.
            uploads.push({ file: AGENT_CA_PATH, content: args.caCert, permissions: "0444" });
            uploads.push({ file: `${AGENT_TRUST_DIR}/vault-ca.crt`, content: args.caCert, permissions: "0444" });
            env.push(`VAULT_CACERT=${AGENT_CA_PATH}`);
        }

        const upload = args.delivery.upload;
        const spool = upload
            ? new docker.Volume(
                  `${name}-spool`,
                  { name: dockerName(cfg, "snapshot-spool"), driver: "local", labels: labels("snapshot-spool") },
                  // Snapshots not yet uploaded are backups too: `pulumi destroy` leaves the volume on
                  // the host (not protected: it is a queue, emptied every round, never the only copy for long).
                  { ...dockerOpts, retainOnDelete: true },
              )
            : undefined;
        const agentVolumes = spool
            ? [{ volumeName: spool.name, containerPath: AGENT_LOCAL_PATH }]
            : args.delivery.volumes.map((v) => ({ volumeName: v.volumeName, containerPath: v.containerPath }));

        const memory = cfg.backup.agentMemoryMb;
        this.container = hardenedContainer(
            `${name}-container`,
            {
                name: dockerName(cfg, "snapshot-agent"),
                image: image.imageId,
                memory,
                networksAdvanced: [{ name: args.target.network.name }],
                envs: env,
                uploads,
                volumes: agentVolumes,
                role: "snapshot-agent",
                stack: cfg.stack,
            },
            { ...dockerOpts, dependsOn: args.dependsOn },
        );

        if (upload && spool) {
            this.uploaderConfig = upload.target.apply(renderRcloneConfig);
            // A signal, not data: losing it only leaves the gauge empty until the next upload.
            this.uploadLog = new docker.Volume(
                `${name}-upload-log`,
                {
                    name: dockerName(cfg, "snapshot-upload-log"),
                    driver: "local",
                    labels: labels("snapshot-upload-log"),
                },
                dockerOpts,
            );
            const uploaderImage = new docker.RemoteImage(
                `${name}-uploader-image`,
                { name: cfg.backup.uploaderImage, keepLocally: true },
                dockerOpts,
            );
            this.uploader = hardenedContainer(
                `${name}-uploader`,
                {
                    name: dockerName(cfg, "snapshot-uploader"),
                    image: uploaderImage.imageId,
                    // The image's entrypoint is rclone; the script only names files, never a secret.
                    entrypoints: upload.target.apply((t) => [
                        "/bin/sh",
                        "-c",
                        renderUploaderScript(t, cfg.backup.scheduleSeconds),
                        "snapshot-uploader",
                    ]),
                    // Tini as PID 1 forwards SIGTERM to the script and reaps rclone.
                    init: true,
                    memory: UPLOADER_MEMORY_MB,
                    networksAdvanced: [{ name: args.target.network.name }],
                    uploads: [
                        { file: UPLOADER_CONFIG_PATH, content: this.uploaderConfig, permissions: "0444" },
                        ...upload.files.map((f) => secretFile(f.path, f.content)),
                    ],
                    volumes: [
                        { volumeName: spool.name, containerPath: SPOOL_PATH },
                        { volumeName: this.uploadLog.name, containerPath: UPLOAD_LOG_DIR },
                    ],
                    role: "snapshot-uploader",
                    stack: cfg.stack,
                },
                dockerOpts,
            );
        }

        this.registerOutputs({
            containerName: this.container.name,
            schedule: this.schedule,
            agentConfig: this.agentConfig,
            uploaderName: this.uploader?.name,
            uploaderConfig: this.uploaderConfig,
            uploadLogVolume: this.uploadLog?.name,
        });
    }
}
