/**
 * local: a named Docker volume on the first Docker host. NOT write-once: anyone with access to the
 * Docker daemon can delete it, and the agent itself prunes it to the retention. It exists for the
 * local stack and for tests; a stack that needs backups it can trust uses aws, azure or gcp.
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { AGENT_LOCAL_PATH } from "./agentConfig";
import { dockerName } from "../naming";
import type { BackupDelivery, StoreArgs } from "./types";

export function createLocalBackup(name: string, parent: pulumi.Resource, args: StoreArgs<"local">): BackupDelivery {
    const target = args.target;
    const volume = new docker.Volume(
        `${name}-volume`,
        { name: dockerName(args.owner, "snapshots") },
        { parent, provider: target?.provider, protect: true, retainOnDelete: true },
    );
    return {
        bucketName: volume.name,
        url: pulumi.interpolate`docker-volume://${target?.host ?? "default"}/${volume.name}`,
        writerIdentity: pulumi.output("docker-volume (not write-once)"),
        volumes: [{ volumeName: volume.name, containerPath: AGENT_LOCAL_PATH }],
        pendingSteps: pulumi.output([]),
    };
}
