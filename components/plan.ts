/**
 * The platform plan: every fact a component needs, worked out once, purely, from the validated
 * stack configuration. VaultPlatform (components/vaultPlatform.ts) computes it and hands each
 * component only its part, so no component re-derives a name, a scheme or an address from the
 * whole config, and each can be tested with a plan (or hand-made Args) instead of `loadConfig`.
 *
 * Nothing here declares a resource or knows Pulumi; test/unit/plan.test.ts checks it without mocks.
 */
import type { StackConfig } from "./config";
import type { BackupLocation } from "./config/backup";
import { backupStore } from "./backup/backupStore";
import type { StoreOwner, StoreSpec } from "./backup/types";
import type { ClusterTlsArgs } from "./clusterTls";
import type { DockerHostsArgs } from "./dockerHosts";
import type { EntryPointArgs } from "./entryPoint";
import type { SnapshotSettings } from "./backup/snapshotAgent";
import type { AuditShippingSettings } from "./audit/auditShipper";
import type { MonitoringSettings } from "./monitoring/monitoring";
import type { RaftSettings } from "./raftCluster";
import type { VaultSettingsInput } from "./settings/vaultSettings";
import type { UnsealKeyArgs } from "./unseal/unsealKey";
import { apiScheme, baseName, dockerName, type ApiScheme } from "./naming";
import { planNodes, type NodePlan } from "./topology";

export interface PlatformPlan {
    /** The stack name and whether the strict production rules apply. */
    stack: string;
    prod: boolean;
    naming: {
        /** `<clusterName>-<stack>`: Vault's cluster_name, the CA's organisation, cloud name prefixes. */
        base: string;
        /** Docker object names of this stack: `<cluster>-<stack>[-parts]`. */
        docker: (...parts: string[]) => string;
        /** Whose stores and keys they are (descriptions, GCP account ids). */
        owner: StoreOwner;
    };
    /** The API scheme: https, or http when TLS terminates at a trusted proxy (tlsMode upstream-proxy). */
    scheme: ApiScheme;
    /** True when Vault itself serves TLS (and so ClusterTls issues or loads certificates). */
    servesTls: boolean;
    /** Each node: name, addresses, ports, volume and container names, certificate SANs. */
    nodes: NodePlan[];
    /** What a process inside a Vault container dials for its own node: `<scheme>://127.0.0.1:<apiPort>`. */
    inContainerApiAddr: string;
    /** The snapshot bucket: where, what it holds, whose. */
    backup: { owner: StoreOwner; location: BackupLocation; store: StoreSpec };
    /** One Docker provider and cluster network per distinct host. */
    dockerHosts: DockerHostsArgs;
    /** The certificates; undefined when TLS terminates at a trusted proxy. */
    tls: Omit<ClusterTlsArgs, "nodes"> | undefined;
    /** The auto-unseal key (the Docker targets come from DockerHosts). */
    unseal: Omit<UnsealKeyArgs, "targets">;
    entryPoint: EntryPointArgs;
    /** The snapshot agent and uploader (the bucket, credentials and CA come from other components). */
    snapshots: SnapshotSettings;
    /** The Vault nodes' containers, volumes, rendered configs and rolling gates. */
    raft: RaftSettings;
    /** The Vault-side settings (init, hand-over, mounts, policies, AppRoles, audit devices). */
    vaultSettings: VaultSettingsInput;
    /** The audit archive and shippers; undefined when auditShipping is false. */
    auditShipping: AuditShippingSettings | undefined;
    /** Alert rules, scrape config, and the bundled containers when monitoring is bundled. */
    monitoring: MonitoringSettings;
}

export function planPlatform(cfg: StackConfig): PlatformPlan {
    const owner = { clusterName: cfg.clusterName, stack: cfg.stack };
    const scheme = apiScheme(cfg.tls);
    const nodes = planNodes(cfg);
    const base = baseName(cfg.clusterName, cfg.stack);
    const publishedApiPort = cfg.multiHost ? cfg.hostPortBase : cfg.apiPort;
    const publishedRange =
        cfg.nodes > 1 && !cfg.multiHost
            ? `${cfg.hostPortBase}-${cfg.hostPortBase + cfg.nodes - 1}`
            : `${cfg.hostPortBase}`;
    return {
        stack: cfg.stack,
        prod: cfg.prod,
        naming: {
            base,
            docker: (...parts) => dockerName(owner, ...parts),
            owner,
        },
        scheme,
        servesTls: cfg.tls.mode !== "upstream-proxy",
        nodes,
        inContainerApiAddr: `${scheme}://127.0.0.1:${cfg.apiPort}`,
        backup: { owner, location: cfg.backup.location, store: backupStore(cfg.backup) },
        dockerHosts: { hosts: cfg.dockerHosts, networkName: dockerName(owner), stack: cfg.stack },
        tls: cfg.tls.mode === "upstream-proxy" ? undefined : { tls: cfg.tls, organization: base },
        unseal: {
            unseal: cfg.unseal,
            unsealer: { engine: cfg.engine, image: cfg.image, clusterName: cfg.clusterName, stack: cfg.stack },
        },
        raft: cfg,
        vaultSettings: cfg,
        auditShipping: cfg.auditShipping.enabled ? cfg : undefined,
        monitoring: cfg,
        snapshots: {
            backup: cfg.backup,
            nodeApiAddrs: nodes.map((n) => n.apiAddr),
            stack: cfg.stack,
            clusterName: cfg.clusterName,
        },
        entryPoint: {
            entryPoint: cfg.entryPoint,
            cloud: cfg.cloud,
            baseName: base,
            nodeApiTargets: cfg.nodeAddresses.map((a) => `${a}:${publishedApiPort}`),
            dockerAliasAddress: `the Docker network alias ${cfg.serviceName} on the cluster network; from this machine, ${cfg.publishAddress}:${publishedRange}`,
        },
    };
}
