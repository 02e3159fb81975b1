/**
 * Monitoring keys: where alerts go (`monitoring: bundled | external`), the receiver, the bundled
 * images, and the paths whose every access is reported. See components/monitoring.
 */
import { DEFAULT_SENSITIVE_PATHS } from "../monitoring/securityRules";
import { CLIENT_CIDR_MIN_PREFIX } from "../../policies/lib/limits";
import { PINNED_IMAGE, type CoreConfig } from "./core";
import { CIDR, type SettingsConfig } from "./settings";
import { type Secret, oneOf, secretText, stringList, text } from "./fields";
import { key, section, type BuildContext, type SectionValues } from "./section";

export type MonitoringMode = "bundled" | "external";

export interface MonitoringConfig {
    monitoring: {
        mode: MonitoringMode;
        /** Vault path globs whose every access raises VaultSensitivePathAccessed. */
        sensitivePaths: string[];
        /** token_bound_cidrs and secret_id_bound_cidrs of the metrics AppRole: where Prometheus and its agent reach Vault from ([] = any address). */
        tokenBoundCidrs: string[];
        /** Set only when mode is bundled: at least one. */
        receiver: {
            webhookUrl?: Secret;
            slackWebhookUrl?: Secret;
            slackChannel?: string;
            pagerdutyRoutingKey?: Secret;
        };
        prometheusImage: string;
        alertmanagerImage: string;
        blackboxImage: string;
        /** Required when bundled: no upstream mtail image exists (docs/monitoring.md shows a two-line build). */
        mtailImage?: string;
    };
}

/** The versions the conformance tier runs (Debian bookworm's packages), as upstream images. */
export const DEFAULT_PROMETHEUS_IMAGE = "prom/prometheus:v2.42.0";
export const DEFAULT_ALERTMANAGER_IMAGE = "prom/alertmanager:v0.25.0";
export const DEFAULT_BLACKBOX_IMAGE = "prom/blackbox-exporter:v0.23.0";

/** A Vault path with an optional trailing or inner `*` (no leading slash, no spaces). */
const VAULT_PATH_GLOB = /^[A-Za-z0-9_.\-*]+(\/[A-Za-z0-9_.\-*+]*)*$/;
const HTTPS_URL = /^https:\/\/[^\s/]+(\/\S*)?$/;
const SLACK_CHANNEL = /^[#@][a-z0-9_.-]{1,80}$/;
const PD_KEY = /^[A-Za-z0-9]{32}$/;
const image = (def: string) =>
    text({
        def,
        pattern: PINNED_IMAGE,
        describe: "an image pinned by digest or exact version tag (repo:1.2.3); latest and floating tags are refused",
    });

const monitoringKeys = {
    monitoring: key(oneOf(["bundled", "external"], "external"), {
        type: "string",
        description:
            "Where alerts go: bundled (Prometheus, blackbox_exporter and Alertmanager on the first Docker host, mtail beside each node) or external (nothing declared; the scrape config, rules and mtail program are stack outputs for your own Prometheus).",
        default: "external",
    }),
    monitoringSensitivePaths: key(
        stringList({
            def: [...DEFAULT_SENSITIVE_PATHS],
            item: VAULT_PATH_GLOB,
            describe: "a Vault path, `*` matching any characters (auth/x/role/y/secret-id*)",
        }),
        {
            type: "array",
            description:
                "Vault paths whose every access raises VaultSensitivePathAccessed (`*` matches any characters).",
            default: "[auth/pulumi-admin/role/pulumi-admin/secret-id*, sys/storage/raft/snapshot*]",
        },
    ),
    monitoringTokenBoundCidrs: key(stringList({ def: [], item: CIDR, describe: "an IPv4 CIDR such as 10.20.0.0/16" }), {
        type: "array",
        description:
            "CIDRs the metrics identity works from (token_bound_cidrs and secret_id_bound_cidrs of the bonito-metrics AppRole role): where Prometheus and its Vault Agent reach Vault from (on a shared Docker host, the stack network's subnet). Required when approleTokenBoundCidrs binds the backend's tokens.",
        default: "[] (any address)",
    }),
    monitoringWebhookUrl: key(secretText({ pattern: HTTPS_URL, describe: "an https URL" }), {
        type: "string",
        description: "bundled: Alertmanager posts every alert to this https URL (webhook receiver). Secret.",
        default: "none",
        secret: true,
    }),
    monitoringSlackWebhookUrl: key(
        secretText({ pattern: HTTPS_URL, describe: "an https URL (Slack incoming webhook)" }),
        {
            type: "string",
            description: "bundled: Slack incoming-webhook URL; needs monitoringSlackChannel. Secret.",
            default: "none",
            secret: true,
        },
    ),
    monitoringSlackChannel: key(text({ pattern: SLACK_CHANNEL, describe: "a Slack channel (#name) or user (@name)" }), {
        type: "string",
        description: "bundled: the Slack channel alerts go to (with monitoringSlackWebhookUrl).",
        default: "none",
    }),
    monitoringPagerdutyRoutingKey: key(
        secretText({
            pattern: PD_KEY,
            describe: "a PagerDuty Events API v2 routing key (32 letters or digits)",
        }),
        {
            type: "string",
            description: "bundled: PagerDuty Events API v2 routing key. Secret.",
            default: "none",
            secret: true,
        },
    ),
    monitoringPrometheusImage: key(image(DEFAULT_PROMETHEUS_IMAGE), {
        type: "string",
        description: "bundled: Prometheus image, pinned.",
        default: DEFAULT_PROMETHEUS_IMAGE,
    }),
    monitoringAlertmanagerImage: key(image(DEFAULT_ALERTMANAGER_IMAGE), {
        type: "string",
        description: "bundled: Alertmanager image, pinned.",
        default: DEFAULT_ALERTMANAGER_IMAGE,
    }),
    monitoringBlackboxImage: key(image(DEFAULT_BLACKBOX_IMAGE), {
        type: "string",
        description: "bundled: blackbox_exporter image (probes sys/health for the sealed-node alert), pinned.",
        default: DEFAULT_BLACKBOX_IMAGE,
    }),
    monitoringMtailImage: key(
        text({
            pattern: PINNED_IMAGE,
            describe: "an image pinned by digest or exact version tag, with mtail as its entrypoint",
        }),
        {
            type: "string",
            description:
                "bundled: an image whose entrypoint is mtail (no upstream image exists; docs/monitoring.md shows the build from Debian's package), pinned. Required when monitoring is bundled.",
            default: "none",
        },
    ),
};

type MonitoringValues = SectionValues<typeof monitoringKeys>;

export const monitoringSection = section(monitoringKeys, buildMonitoring);

function buildMonitoring(
    v: MonitoringValues,
    ctx: BuildContext,
    prior: CoreConfig & Pick<SettingsConfig, "approle">,
): MonitoringConfig {
    const mode = v.monitoring;
    const receiver = {
        webhookUrl: v.monitoringWebhookUrl,
        slackWebhookUrl: v.monitoringSlackWebhookUrl,
        slackChannel: v.monitoringSlackChannel,
        pagerdutyRoutingKey: v.monitoringPagerdutyRoutingKey,
    };
    if (mode === "bundled") checkBundled(v, ctx, prior);
    else checkExternal(v, ctx);
    checkTokenBinding(v, ctx, prior);
    return {
        monitoring: {
            mode,
            sensitivePaths: v.monitoringSensitivePaths,
            tokenBoundCidrs: v.monitoringTokenBoundCidrs,
            receiver: mode === "bundled" ? receiver : {},
            prometheusImage: v.monitoringPrometheusImage,
            alertmanagerImage: v.monitoringAlertmanagerImage,
            blackboxImage: v.monitoringBlackboxImage,
            mtailImage: v.monitoringMtailImage,
        },
    };
}

/**
 * The metrics agent's secret ID never expires (the agent logs in again with it every hour): where the
 * stack binds the backend's tokens to addresses, the metrics identity is bound too, and never to "anyone in
 * disguise" (a prefix shorter than the entry point's minimum; policies/lib/limits.ts). The pack's
 * vault-tokenrole-metrics-least-privilege judges the same.
 */
function checkTokenBinding(
    v: MonitoringValues,
    ctx: BuildContext,
    prior: CoreConfig & Pick<SettingsConfig, "approle">,
): void {
    const cidrs = v.monitoringTokenBoundCidrs;
    if (cidrs.length === 0 && prior.approle.tokenBoundCidrs.length > 0)
        ctx.issue(
            "monitoringTokenBoundCidrs",
            `is empty while approleTokenBoundCidrs binds the backend's tokens to ${prior.approle.tokenBoundCidrs.join(", ")}: bind the metrics identity too, to where Prometheus and its agent reach Vault from (such as [10.20.0.0/16])`,
        );
    const wide = cidrs.filter((c) => Number(c.split("/")[1]) < CLIENT_CIDR_MIN_PREFIX.ipv4);
    if (wide.length > 0)
        ctx.issue(
            "monitoringTokenBoundCidrs",
            `lists ${wide.join(", ")}, shorter than /${CLIENT_CIDR_MIN_PREFIX.ipv4}: that binds the metrics identity to a large part of the internet; list where Prometheus and its agent reach Vault from`,
        );
}

/** bundled: at least one receiver (Slack needs both keys), TLS at Vault, and an mtail image. */
function checkBundled(v: MonitoringValues, ctx: BuildContext, prior: CoreConfig): void {
    if (!v.monitoringWebhookUrl && !v.monitoringSlackWebhookUrl && !v.monitoringPagerdutyRoutingKey)
        ctx.issue(
            "monitoring",
            "is bundled but no receiver is set: set monitoringWebhookUrl, monitoringSlackWebhookUrl (with monitoringSlackChannel) or monitoringPagerdutyRoutingKey (each with --secret)",
        );
    if (!!v.monitoringSlackWebhookUrl !== !!v.monitoringSlackChannel)
        ctx.issue(
            v.monitoringSlackWebhookUrl ? "monitoringSlackChannel" : "monitoringSlackWebhookUrl",
            "is required with the other Slack key: a Slack receiver needs both the webhook URL and the channel",
        );
    if (prior.tls.mode === "upstream-proxy")
        ctx.issue(
            "monitoring",
            "bundled scrapes Vault over TLS with the cluster CA; with tlsMode upstream-proxy use monitoring external and scrape through your proxy",
        );
    if (v.monitoringMtailImage === undefined)
        ctx.issue(
            "monitoringMtailImage",
            "is required when monitoring is bundled: an image with mtail as its entrypoint (docs/monitoring.md shows the build)",
        );
}

/** external: the receiver keys and the mtail image belong to the bundled stack only. */
function checkExternal(v: MonitoringValues, ctx: BuildContext): void {
    const bundledOnly: (keyof MonitoringValues)[] = [
        "monitoringWebhookUrl",
        "monitoringSlackWebhookUrl",
        "monitoringSlackChannel",
        "monitoringPagerdutyRoutingKey",
        "monitoringMtailImage",
    ];
    for (const k of bundledOnly)
        if (v[k] !== undefined)
            ctx.issue(
                k,
                "is only used when monitoring is bundled (monitoring is external: your own Alertmanager routes alerts)",
            );
}
