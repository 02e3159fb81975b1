/**
 * BackupBucket: where Raft snapshots land, write-once for `backupRetentionDays`, plus the writer
 * identity the snapshot agent uses. One small module per cloud; only the stack's cloud is loaded,
 * so an aws stack never loads the gcp or azure SDK.
 */
import * as pulumi from "@pulumi/pulumi";
import type { BackupLocation } from "../config/backup";
import type { DockerTarget } from "../dockerHosts";
import type { BackupDelivery, StoreOwner, StoreSpec } from "./types";

export interface BackupBucketArgs {
    /** Whose bucket: names and descriptions carry the cluster and stack. */
    owner: StoreOwner;
    /** Where it lives; its `cloud` picks the implementation (config backup.location). */
    location: BackupLocation;
    /** What it holds and for how long (backupStore(config.backup) for the snapshots). */
    store: StoreSpec;
    /** The first Docker host: the local implementation puts its volume there. */
    target: DockerTarget | undefined;
}

/**
 * Declare a write-once store on the location's cloud: the backup bucket, and the audit archive
 * (components/audit/auditShipper.ts). Only that cloud's module (and so its SDK) is loaded.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export function createStore(name: string, parent: pulumi.Resource, args: BackupBucketArgs): BackupDelivery {
    const { location, ...rest } = args;
    switch (location.cloud) {
        case "aws":
            return (require("./aws") as typeof import("./aws")).createAwsBackup(name, parent, { ...rest, location });
        case "gcp":
            return (require("./gcp") as typeof import("./gcp")).createGcpBackup(name, parent, { ...rest, location });
        case "azure":
            return (require("./azure") as typeof import("./azure")).createAzureBackup(name, parent, {
                ...rest,
                location,
            });
        case "local":
            return (require("./local") as typeof import("./local")).createLocalBackup(name, parent, {
                ...rest,
                location,
            });
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
        this.delivery = createStore(name, this, args);
        this.bucketName = this.delivery.bucketName;
        this.url = this.delivery.url;
        this.writerIdentity = this.delivery.writerIdentity;
        this.retentionDays = args.store.retentionDays;
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
