/**
 * The seam between a backup-bucket implementation (one per cloud) and the snapshot agent.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { BackupLocation } from "../config/backup";
import type { DockerTarget } from "../dockerHosts";
import type { UploadTarget } from "./uploaderConfig";

export interface AgentFile {
    /** Absolute path inside the container that reads it. */
    path: string;
    /** File content; a Pulumi secret for credentials. */
    content: pulumi.Output<string>;
}

/** A write-once bucket and how the uploader reaches it (aws, gcp, azure). */
export interface UploadDelivery {
    /** Plain settings of the uploader's rclone remote. */
    target: pulumi.Output<UploadTarget>;
    /** Credential files for the uploader container (mode 0400). */
    files: AgentFile[];
}

/** What every backup-bucket implementation hands to the snapshot agent and to stack outputs. */
export interface BackupDelivery {
    /** Bucket, container or volume name. */
    bucketName: pulumi.Output<string>;
    /** s3://…, gs://…, https://<account>.blob.core.windows.net/<container>, docker-volume://… */
    url: pulumi.Output<string>;
    /** The writer identity (IAM user ARN, service-account email, storage account): not secret. */
    writerIdentity: pulumi.Output<string>;
    /**
     * Set for a bucket (aws, gcp, azure): the agent spools snapshots on a volume and an uploader
     * moves them there. Undefined on local, where the agent writes to `volumes` directly.
     */
    upload?: UploadDelivery;
    /** Docker volumes the agent mounts as its local storage (local only). */
    volumes: { volumeName: pulumi.Output<string>; containerPath: string }[];
    /** A step a person must still run for the bucket to be fully write-once (empty when none). */
    pendingSteps: pulumi.Output<string[]>;
}

/**
 * What one write-once store holds, for the per-cloud implementations (aws.ts, gcp.ts, azure.ts):
 * the backup bucket (backupStore) or the audit archive (components/audit/auditShipper.ts). Both
 * get the same hardening; only names, retention and labels differ.
 */
export interface StoreSpec {
    /** Bucket (aws, gcp) or storage-account (azure) name; undefined: auto-named (aws, gcp). */
    bucketName?: string;
    retentionDays: number;
    lockMode: "COMPLIANCE" | "GOVERNANCE";
    /** Words for descriptions: "Raft snapshots", "audit logs". */
    contents: string;
    /** The writer in display names: "snapshot writer", "audit log writer". */
    writerLabel: string;
    /** Suffix of the GCP service-account id: "-backup", "-audit". */
    accountSuffix: string;
    /** Azure container name. */
    container: string;
    /** Lifecycle rule id on S3. */
    lifecycleId: string;
}

/** Whose store it is: names and descriptions carry the cluster and the stack. */
export interface StoreOwner {
    clusterName: string;
    stack: string;
}

/**
 * What a per-cloud implementation needs: whose store, where (its own cloud's location only, so
 * an implementation never meets another cloud's settings), and what it holds.
 */
export interface StoreArgs<L extends BackupLocation["cloud"]> {
    owner: StoreOwner;
    location: Extract<BackupLocation, { cloud: L }>;
    store: StoreSpec;
    /** The Docker daemon a local store's volume lives on (the first host). */
    target?: DockerTarget;
}
