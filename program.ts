/**
 * The program, callable: load and validate the stack's config, declare the platform, return the
 * stack outputs. `index.ts` exports what this returns; tests call it under the mock runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import { RunError } from "@pulumi/pulumi/errors";
import { loadConfig, type StackConfig } from "./components/config";
import { isConfigSecret } from "./components/sdkInternals";
import { VaultPlatform } from "./components/vaultPlatform";

/** Read the raw config Pulumi hands the program, and which keys were set with --secret. */
export function readRawConfig(): { raw: Record<string, string>; secretKeys: Set<string> } {
    const raw = pulumi.runtime.allConfig();
    return { raw, secretKeys: new Set(Object.keys(raw).filter((k) => isConfigSecret(k))) };
}

/**
 * @param options.allowExampleKeys accept the committed example operator keys: only for the mock
 *   runtime (tests, `npm run render`); a real preview or up always refuses them.
 */
export function buildProgram(
    config?: StackConfig,
    opts?: pulumi.ComponentResourceOptions,
    options: { allowExampleKeys?: boolean } = {},
) {
    const stack = pulumi.getStack();
    const cfg =
        config ??
        (() => {
            const { raw, secretKeys } = readRawConfig();
            return loadConfig(stack, raw, secretKeys, { allowExampleKeys: options.allowExampleKeys });
        })();
    if (cfg.storage === "consul")
        // The configuration is validated and the Consul documents render (components/consul), but
        // the Consul containers, the ACL bootstrap and Consul snapshots are not declared yet (#30):
        // refuse before declaring anything rather than deploy Vault pointed at a Consul that is not there.
        throw new RunError(
            `Stack "${stack}": storage consul is not deployable yet: the Consul room (containers, ACL bootstrap, snapshots) is unfinished (issue #30); use storage raft`,
        );
    const platform = new VaultPlatform("bonito-vault", { config: cfg }, opts);
    const unseal = platform.unseal.delivery;
    return {
        platform,
        outputs: {
            vaultAddr: platform.vaultAddr,
            /** Which way in, what answers it, and what the operator must still provide. */
            entryPoint: platform.entryPoint.summary,
            nodeApiAddrs: platform.nodeApiAddrs,
            caCert: platform.caCert,
            nodeNames: platform.nodes.map((n) => n.name),
            image: cfg.image,
            /** What this stack deployed and checked; the stack promoted from it must use the same. */
            verifiedImage: platform.image,
            verifiedCommit: cfg.promotion.sourceCommit ?? "",
            engine: cfg.engine,
            cloud: cfg.cloud,
            sealType: unseal.stanza.apply((s) => s.type),
            unsealKeyId: unseal.keyId,
            unsealIdentity: unseal.identity,
            /** What to do on the Docker hosts before Vault can unseal (aws role: instance profile, IMDS hop limit 2). */
            unsealHostSteps: unseal.hostSteps ?? pulumi.output([] as string[]),
            kvMount: platform.settings.kvMount,
            /** Secret: paste into the backend's deployment (README shows the dotenv command). */
            backendEnv: platform.settings.backendEnv,
            /** Secret, while migrationWindow is set: `npm run migrate -- --target-login-file` (docs/migration.md); {} otherwise. */
            migrationLogin: platform.settings.migrationLogin ?? pulumi.secret({}),
            /** Secret (and PGP-encrypted per share when recoveryPgpKeys is set). */
            recoveryKeys: platform.settings.recoveryKeys,
            backupBucket: platform.backup.url,
            /** bundled or external; with external, point your Prometheus at the next four (README "Monitoring"). */
            monitoring: cfg.monitoring.mode,
            monitoringScrapeConfig: platform.monitoring.prometheusConfig,
            monitoringAlertRules: platform.monitoring.alertRules,
            monitoringMtailProgram: platform.monitoring.mtailProgram,
            /** Secret: the token Prometheus reads sys/metrics with (policy bonito-metrics only). */
            monitoringMetricsLogin: platform.monitoring.metricsLogin,
            /** Secret: user `bonito`'s password for the bundled Alertmanager's API and UI ("" with external). */
            monitoringAlertmanagerPassword: platform.monitoring.alertmanagerPassword,
            backupWriter: platform.backup.writerIdentity,
            backupRetentionDays: platform.backup.retentionDays,
            backupSchedule: platform.snapshots.schedule,
            backupPendingSteps: platform.backup.pendingSteps,
            /** Where each node's rotated audit files are shipped ("" when auditShipping is false). */
            auditArchive: platform.auditShipping?.archiveUrl ?? pulumi.output(""),
            auditArchiveWriter: platform.auditShipping?.writerIdentity ?? pulumi.output(""),
            auditShipMaxDelayMinutes: platform.auditShipping?.maxDelayMinutes ?? 0,
            auditArchivePendingSteps: platform.auditShipping?.pendingSteps ?? pulumi.output([] as string[]),
        },
    };
}
