/**
 * SnapshotAgent: vault-raft-snapshot-agent in a container on the first Docker host, on the
 * cluster network, taking a Raft snapshot every `backupSchedule` and uploading it to the backup
 * bucket. It logs in with its own AppRole (`snapshot-agent` on `approle/`, policy: read on
 * `sys/storage/raft/snapshot`).
 *
 * Secrets reach the container as uploaded files (mode 0400), never on its command line or in its
 * rendered configuration, which only points at them (`file://…`).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { dockerName } from "../topology";
import type { StackConfig } from "../config";
import type { DockerTarget } from "../seal";
import {
    AGENT_CA_PATH,
    AGENT_CONFIG_PATH,
    AGENT_TRUST_DIR,
    SECRET_FILES,
    localRetainCount,
    renderAgentConfig,
    type AgentConfigInput,
    type AgentStorage,
} from "./agentConfig";
import type { BackupDelivery } from "./types";

export const SNAPSHOT_AGENT_ROLE = "snapshot-agent";
export const SNAPSHOT_AGENT_APPROLE_MOUNT = "approle";

export interface SnapshotAgentArgs {
    config: StackConfig;
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

/** The plain input of the agent's configuration for a stack and a storage target. */
export function agentConfigInput(config: StackConfig, storage: AgentStorage): AgentConfigInput {
    const scheme = config.tls.mode === "upstream-proxy" ? "http" : "https";
    return {
        vaultUrl: `${scheme}://${config.serviceName}:${config.apiPort}`,
        approlePath: SNAPSHOT_AGENT_APPROLE_MOUNT,
        frequency: config.backup.schedule,
        retain:
            storage.kind === "local" ? localRetainCount(config.backup.retentionDays, config.backup.scheduleSeconds) : 0,
        timeout: "5m",
        storage,
    };
}

export class SnapshotAgent extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** The rendered configuration (no secrets in it). */
    public readonly agentConfig: pulumi.Output<string>;
    public readonly schedule: string;

    constructor(name: string, args: SnapshotAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:SnapshotAgent", name, {}, opts);
        const cfg = args.config;
        const dockerOpts = { parent: this, provider: args.target.provider };
        this.schedule = cfg.backup.schedule;
        this.agentConfig = args.delivery.storage.apply((s) => renderAgentConfig(agentConfigInput(cfg, s)));

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
            ...args.delivery.files.map((f) => secretFile(f.path, f.content)),
        ];
        const env = [`VRSA_CONFIG_FILE=${AGENT_CONFIG_PATH}`, ...args.delivery.env];
        if (args.caCert !== undefined) {
            // VAULT_CACERT is read by the Vault API client the agent uses (api.DefaultConfig);
            // the copy in /tmp/certs goes into the system store via the image's entrypoint.
            uploads.push({ file: AGENT_CA_PATH, content: args.caCert, permissions: "0444" });
            uploads.push({ file: `${AGENT_TRUST_DIR}/vault-ca.crt`, content: args.caCert, permissions: "0444" });
            env.push(`VAULT_CACERT=${AGENT_CA_PATH}`);
        }

        const memory = cfg.backup.agentMemoryMb;
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: dockerName(cfg, "snapshot-agent"),
                image: image.imageId,
                restart: "unless-stopped",
                memory,
                memorySwap: memory,
                securityOpts: ["no-new-privileges:true"],
                capabilities: { drops: ["ALL"] },
                networksAdvanced: [{ name: args.target.network.name }],
                envs: env,
                uploads,
                volumes: args.delivery.volumes.map((v) => ({
                    volumeName: v.volumeName,
                    containerPath: v.containerPath,
                })),
                logOpts: { "max-size": "10m", "max-file": "3" },
            },
            { ...dockerOpts, dependsOn: args.dependsOn },
        );

        this.registerOutputs({
            containerName: this.container.name,
            schedule: this.schedule,
            agentConfig: this.agentConfig,
        });
    }
}
