/**
 * The monitoring keys: defaults and every refusal, with exact messages.
 * Proves: `monitoring` defaults to external and declares no receiver; bundled needs a receiver, a
 * complete Slack pair and an mtail image, and refuses upstream TLS; receivers are refused with
 * external; receiver keys must be secrets and are never echoed; sensitive paths must be Vault paths;
 * the metrics token is bound where the backend's tokens are, never to anyone in disguise.
 * Does not prove: the resources each mode declares (test/mocks/monitoring.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../components/config";

const BASE = { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" };
const K = (k: string) => `bonito-vault:${k}`;
const HOOK = "https://alerts.example/hook/s3cr3t";
const BUNDLED = { [K("monitoring")]: "bundled", [K("monitoringMtailImage")]: "registry.example/mtail:3.0.0" };

function problems(raw: Record<string, string>, secretKeys: string[] = []): string[] {
    try {
        loadConfig("local", { ...BASE, ...raw }, new Set(secretKeys.map(K)));
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems;
    }
    return [];
}

describe("monitoring config", () => {
    it("defaults: external, the default sensitive paths, pinned images", () => {
        const m = loadConfig("local", BASE).monitoring;
        assert.equal(m.mode, "external");
        assert.deepEqual(m.sensitivePaths, [
            "auth/pulumi-admin/role/pulumi-admin/secret-id*",
            "sys/storage/raft/snapshot*",
        ]);
        assert.deepEqual(m.receiver, {});
        assert.equal(m.prometheusImage, "prom/prometheus:v2.42.0");
        assert.equal(m.alertmanagerImage, "prom/alertmanager:v0.25.0");
        assert.equal(m.blackboxImage, "prom/blackbox-exporter:v0.23.0");
    });
    it("monitoringTokenBoundCidrs: required once approleTokenBoundCidrs binds the backend's tokens; /8 at the widest", () => {
        assert.deepEqual(problems({ [K("approleTokenBoundCidrs")]: JSON.stringify(["10.20.0.0/16"]) }), [
            "bonito-vault:monitoringTokenBoundCidrs is empty while approleTokenBoundCidrs binds the backend's tokens to 10.20.0.0/16: bind the metrics identity too, to where Prometheus and its agent reach Vault from (such as [10.20.0.0/16])",
        ]);
        assert.deepEqual(problems({ [K("monitoringTokenBoundCidrs")]: JSON.stringify(["0.0.0.0/1"]) }), [
            "bonito-vault:monitoringTokenBoundCidrs lists 0.0.0.0/1, shorter than /8: that binds the metrics identity to a large part of the internet; list where Prometheus and its agent reach Vault from (got [0.0.0.0/1])",
        ]);
        const c = loadConfig("local", {
            ...BASE,
            [K("approleTokenBoundCidrs")]: JSON.stringify(["10.20.0.0/16"]),
            [K("monitoringTokenBoundCidrs")]: JSON.stringify(["10.30.0.0/24", "10.0.0.0/8"]),
        });
        assert.deepEqual(c.monitoring.tokenBoundCidrs, ["10.30.0.0/24", "10.0.0.0/8"]);
        assert.deepEqual(loadConfig("local", BASE).monitoring.tokenBoundCidrs, []);
    });
    it("bundled with a webhook is accepted, and the URL stays a Secret", () => {
        const c = loadConfig(
            "local",
            { ...BASE, ...BUNDLED, [K("monitoringWebhookUrl")]: HOOK },
            new Set([K("monitoringWebhookUrl")]),
        );
        assert.equal(c.monitoring.mode, "bundled");
        assert.equal(c.monitoring.receiver.webhookUrl?.reveal(), HOOK);
        assert.equal(String(c.monitoring.receiver.webhookUrl), "[secret]");
    });
    it("bundled without a receiver", () => {
        assert.deepEqual(problems(BUNDLED), [
            'bonito-vault:monitoring is bundled but no receiver is set: set monitoringWebhookUrl, monitoringSlackWebhookUrl (with monitoringSlackChannel) or monitoringPagerdutyRoutingKey (each with --secret) (got "bundled")',
        ]);
    });
    it("bundled without an mtail image", () => {
        assert.deepEqual(
            problems({ [K("monitoring")]: "bundled", [K("monitoringWebhookUrl")]: HOOK }, ["monitoringWebhookUrl"]),
            [
                "bonito-vault:monitoringMtailImage is required when monitoring is bundled: an image with mtail as its entrypoint (docs/monitoring.md shows the build)",
            ],
        );
    });
    it("a Slack URL without a channel", () => {
        assert.deepEqual(
            problems({ ...BUNDLED, [K("monitoringSlackWebhookUrl")]: HOOK }, ["monitoringSlackWebhookUrl"]),
            [
                "bonito-vault:monitoringSlackChannel is required with the other Slack key: a Slack receiver needs both the webhook URL and the channel",
            ],
        );
    });
    it("bundled with upstream TLS", () => {
        const p = problems(
            {
                ...BUNDLED,
                [K("monitoringWebhookUrl")]: HOOK,
                [K("tlsMode")]: "upstream-proxy",
                [K("tlsTerminatesAtTrustedProxy")]: "true",
            },
            ["monitoringWebhookUrl"],
        );
        assert.deepEqual(p, [
            'bonito-vault:monitoring bundled scrapes Vault over TLS with the cluster CA; with tlsMode upstream-proxy use monitoring external and scrape through your proxy (got "bundled")',
        ]);
    });
    it("a receiver with external monitoring", () => {
        assert.deepEqual(
            problems({ [K("monitoringPagerdutyRoutingKey")]: "a".repeat(32) }, ["monitoringPagerdutyRoutingKey"]),
            [
                "bonito-vault:monitoringPagerdutyRoutingKey is only used when monitoring is bundled (monitoring is external: your own Alertmanager routes alerts)",
            ],
        );
    });
    it("a receiver in plain text is refused without echoing it", () => {
        const p = problems({ ...BUNDLED, [K("monitoringWebhookUrl")]: HOOK });
        assert.deepEqual(p, [
            "bonito-vault:monitoringWebhookUrl holds a secret but is stored in plain text; set it with `pulumi config set --secret monitoringWebhookUrl`",
        ]);
        assert.ok(!p.join("").includes("s3cr3t"));
    });
    it("a bad mode, a bad path, an http webhook, a floating image", () => {
        assert.deepEqual(problems({ [K("monitoring")]: "grafana" }), [
            'bonito-vault:monitoring must be one of bundled, external (got "grafana")',
        ]);
        assert.deepEqual(problems({ [K("monitoringSensitivePaths")]: '["/sys/raw"]' }), [
            'bonito-vault:monitoringSensitivePaths every item must be a Vault path, `*` matching any characters (auth/x/role/y/secret-id*); not "/sys/raw" (got [/sys/raw])',
        ]);
        assert.deepEqual(
            problems({ ...BUNDLED, [K("monitoringWebhookUrl")]: "http://x/y" }, ["monitoringWebhookUrl"]),
            ["bonito-vault:monitoringWebhookUrl must be an https URL"],
        );
        assert.deepEqual(problems({ [K("monitoringPrometheusImage")]: "prom/prometheus:latest" }), [
            'bonito-vault:monitoringPrometheusImage must be an image pinned by digest or exact version tag (repo:1.2.3); latest and floating tags are refused (got "prom/prometheus:latest")',
        ]);
    });
});
