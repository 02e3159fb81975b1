/**
 * MetricsToken's diff: a periodic token is renewed once half its period has passed, not before.
 * (Does not prove that Vault renews it: test/conformance/alerts.test.ts does.)
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { metricsTokenProvider, type MetricsTokenState } from "../../components/monitoring/metricsToken";
import { METRICS_TOKEN_PERIOD_SECONDS } from "../../components/monitoring/metricsPolicy";

const DAY = 86400 * 1000;
const now = Date.now();
const state = (over: Partial<MetricsTokenState>): MetricsTokenState => ({
    addr: "https://vault-0:8200",
    caCert: "ca",
    tlsServerName: "vault",
    adminMount: "pulumi-admin",
    adminRoleId: "r",
    adminSecretId: "s",
    role: "bonito-metrics",
    token: "t",
    accessor: "a",
    renewedAt: now,
    ...over,
});
const changes = async (olds: MetricsTokenState) => (await metricsTokenProvider.diff!("a", olds, olds)).changes;

describe("MetricsToken diff", () => {
    it("the period is 30 days", () => {
        assert.equal(METRICS_TOKEN_PERIOD_SECONDS, 30 * 86400);
    });
    it("a fresh token: no change", async () => {
        assert.equal(await changes(state({})), false);
    });
    it("half the period gone: renew", async () => {
        assert.equal(await changes(state({ renewedAt: now - 16 * DAY })), true);
    });
    it("just under half the period gone: no change", async () => {
        assert.equal(await changes(state({ renewedAt: now - 14 * DAY })), false);
    });
});
