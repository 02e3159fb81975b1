/**
 * MetricsToken's diff: a periodic token is renewed once half its period has passed, and reissued
 * before the role's explicit max TTL ends it (a state from before that bound is reissued at once).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { metricsTokenProvider, type MetricsTokenState } from "../../components/monitoring/metricsToken";
import {
    METRICS_TOKEN_MAX_LIFE_SECONDS,
    METRICS_TOKEN_PERIOD_SECONDS,
} from "../../components/monitoring/metricsPolicy";

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
    issuedAt: now,
    ...over,
});
const changes = async (olds: MetricsTokenState) => (await metricsTokenProvider.diff!("a", olds, olds)).changes;

describe("MetricsToken diff", () => {
    it("the role's hard end is the pack's bound and longer than a period", () => {
        assert.equal(METRICS_TOKEN_MAX_LIFE_SECONDS, 90 * 86400);
        assert.ok(METRICS_TOKEN_MAX_LIFE_SECONDS > METRICS_TOKEN_PERIOD_SECONDS);
    });
    it("a fresh token: no change", async () => {
        assert.equal(await changes(state({})), false);
    });
    it("half the period gone: renew", async () => {
        assert.equal(await changes(state({ renewedAt: now - 16 * DAY })), true);
    });
    it("renewed recently but less than a period before the hard end: reissue", async () => {
        assert.equal(await changes(state({ issuedAt: now - 61 * DAY })), true);
    });
    it("a state written before the hard end existed (no issuedAt): reissue", async () => {
        assert.equal(await changes(state({ issuedAt: undefined })), true);
    });
});
