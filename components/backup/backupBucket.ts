/**
 * BackupBucket: where Raft snapshots land, write-once for `backupRetentionDays`, plus the writer
 * identity the snapshot agent uses. One small module per cloud; only the stack's cloud is loaded,
 * so an aws stack never loads the gcp or azure SDK.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { DockerTarget } from "../seal";
import type { BackupDelivery, CreateBackup } from "./types";
export interface BackupBucketArgs {
    /** The loaded stack configuration; `cloud` picks the implementation, `backup` its settings. */
    config: StackConfig;
    /** Docker daemons of the cluster; the local implementation puts its volume on `targets[0]`. */
    targets: DockerTarget[];
}

/* eslint-disable @typescript-eslint/no-require-imports */
export function implementation(cloud: StackConfig["cloud"]): CreateBackup {
    switch (cloud) {
        case "aws":
            return (require("./aws") as typeof import("./aws")).createAwsBackup;
        case "gcp":
            return (require("./gcp") as typeof import("./gcp")).createGcpBackup;
        case "azure":
            return (require("./azure") as typeof import("./azure")).createAzureBackup;
        case "local":
            return (require("./local") as typeof import("./local")).createLocalBackup;
    }
}
/* eslint-enable @typescript-eslint/no-require-imports */

export class BackupBucket extends pulumi.ComponentResource {
    public readonly delivery: BackupDelivery;
    public readonly bucketName: pulumi.Output<string>;
    public readonly url: pulumi.Output<string>;
    public readonly writerIdentity: pulumi.Output<string>;
    public readonly retentionDays: number;
    /** Steps a person must still run for the bucket to be fully write-once (Azure lock). */
    public readonly pendingSteps: pulumi.Output<string[]>;

    constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:BackupBucket", name, {}, opts);
        this.delivery = implementation(args.config.cloud)(name, this, { config: args.config, targets: args.targets });
        this.bucketName = this.delivery.bucketName;
        this.url = this.delivery.url;
        this.writerIdentity = this.delivery.writerIdentity;
        this.retentionDays = args.config.backup.retentionDays;
        this.pendingSteps = this.delivery.pendingSteps;
        this.registerOutputs({
            bucketName: this.bucketName,
            url: this.url,
            writerIdentity: this.writerIdentity,
            retentionDays: this.retentionDays,
            pendingSteps: this.pendingSteps,
        });
    }
}
