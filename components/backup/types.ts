/**
 * The seam between a backup-bucket implementation (one per cloud) and the snapshot agent.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { DockerTarget } from "../seal";
import type { AgentStorage } from "./agentConfig";

export interface AgentFile {
    /** Absolute path inside the agent container. */
    path: string;
    /** File content; a Pulumi secret for credentials. */
    content: pulumi.Output<string>;
}

/** What every backup-bucket implementation hands to the snapshot agent and to stack outputs. */
export interface BackupDelivery {
    /** Bucket, container or volume name. */
    bucketName: pulumi.Output<string>;
    /** s3://…, gs://…, https://<account>.blob.core.windows.net/<container>, docker-volume://… */
    url: pulumi.Output<string>;
    /** The writer identity (IAM user ARN, service-account email, storage account): not secret. */
    writerIdentity: pulumi.Output<string>;
    /** Plain storage settings for the agent's configuration. */
    storage: pulumi.Output<AgentStorage>;
    /** Credential files for the agent container (mode 0400). */
    files: AgentFile[];
    /** Extra environment for the agent, `NAME=value` (paths only, never secrets). */
    env: string[];
    /** Docker volumes the agent mounts (local only). */
    volumes: { volumeName: pulumi.Output<string>; containerPath: string }[];
    /** A step a person must still run for the bucket to be fully write-once (empty when none). */
    pendingSteps: pulumi.Output<string[]>;
}

export interface BackupImplArgs {
    config: StackConfig;
    targets: DockerTarget[];
}

export type CreateBackup = (name: string, parent: pulumi.Resource, args: BackupImplArgs) => BackupDelivery;
