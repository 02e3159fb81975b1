/**
 * AuditRotator: one small sidecar per Vault node that keeps the audit volume from filling.
 *
 * A blocking audit device that cannot write stops Vault, so the file device must never hit a
 * full disk. The sidecar runs the Vault image's busybox shell (no extra image to pin), shares the
 * node's audit volume and its PID namespace, rotates by size or age, signals Vault with SIGHUP to
 * reopen the file, and keeps `auditRetentionDays` of compressed files. It runs as the same user as
 * Vault, with no capabilities and no network.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { RUNTIME_USER } from "../runtime";
import { AUDIT_DIR, renderAuditRotatorScript } from "./audit";

export interface AuditRotatorArgs {
    /** Docker daemon of the node; default: the Pulumi host's DOCKER_HOST. */
    provider?: docker.Provider;
    /** The node's Vault image (its busybox runs the loop). */
    image: pulumi.Input<string>;
    /** The Vault container whose PID namespace the rotator joins (it signals Vault there). */
    vaultContainerName: pulumi.Input<string>;
    /** The node's audit volume, mounted at /vault/audit as in the Vault container. */
    auditVolumeName: pulumi.Input<string>;
    config: StackConfig;
    /** User the loop runs as; must own the audit files. Default: `vault` (HashiCorp image) or `openbao`. */
    user?: pulumi.Input<string>;
}

export class AuditRotator extends pulumi.ComponentResource {
    readonly container: docker.Container;

    constructor(name: string, args: AuditRotatorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:AuditRotator", name, {}, opts);
        const cfg = args.config;
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: pulumi.interpolate`${args.vaultContainerName}-audit-rotator`,
                image: args.image,
                entrypoints: ["/bin/sh", "-c"],
                command: [renderAuditRotatorScript(cfg.audit)],
                user: args.user ?? RUNTIME_USER[cfg.engine].user,
                pidMode: pulumi.interpolate`container:${args.vaultContainerName}`,
                volumes: [{ volumeName: args.auditVolumeName, containerPath: AUDIT_DIR }],
                networkMode: "none",
                readOnly: true,
                capabilities: { drops: ["ALL"] },
                securityOpts: ["no-new-privileges:true"],
                memory: 32,
                restart: "unless-stopped",
                logDriver: "json-file",
                logOpts: { "max-size": "1m", "max-file": "2" },
                labels: [{ label: "bonito-vault.role", value: "audit-rotator" }],
            },
            { parent: this, provider: args.provider },
        );
        this.registerOutputs({ container: this.container });
    }
}
