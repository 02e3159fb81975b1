/**
 * The Consul keys (`storage: consul`), without Pulumi. Proves: the bundled defaults, the external
 * values, and every refusal with its exact message (key, value, what is allowed): consul keys
 * without `storage: consul`, `storage: consul` without `consulMode`, keys of the other mode, server
 * counts other than 3 or 5, missing external values, a plain-text token, and prod staying on raft.
 * Does not prove: anything deployed (the program refuses `storage: consul` until the Consul room is
 * complete; test/conformance/consul.test.ts runs the rendered configs on real servers).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../components/config";
import { TEST_CA_PEM } from "../helpers/tlsFixture";

const BASE = { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" };
const TOKEN = "0b6ad6d4-9a8c-4b3e-8a3c-1f1e2d3c4b5a";

function load(stack: string, raw: Record<string, string>, secretKeys: string[] = []) {
    const full = Object.fromEntries(Object.entries(raw).map(([k, v]) => [`bonito-vault:${k}`, v]));
    return loadConfig(stack, { ...BASE, ...full }, new Set(secretKeys.map((k) => `bonito-vault:${k}`)));
}

function problems(stack: string, raw: Record<string, string>, secretKeys: string[] = []): string[] {
    try {
        load(stack, raw, secretKeys);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    return [];
}

const external = {
    storage: "consul",
    consulMode: "external",
    consulAddresses: '["consul.internal:8501"]',
    consulCaCert: TEST_CA_PEM,
    consulToken: TOKEN,
};

describe("consul config", () => {
    it("no consul section unless storage is consul", () => {
        assert.equal(load("local", {}).consul, undefined);
    });

    it("bundled: 3 servers in dc1 by default; 5 and a datacenter when given", () => {
        assert.deepEqual(load("local", { storage: "consul", consulMode: "bundled" }).consul, {
            mode: "bundled",
            servers: 3,
            datacenter: "dc1",
        });
        assert.deepEqual(
            load("local", { storage: "consul", consulMode: "bundled", consulServers: "5", consulDatacenter: "eu1" })
                .consul,
            { mode: "bundled", servers: 5, datacenter: "eu1" },
        );
    });

    it("external: addresses, CA and the token as a secret that never prints", () => {
        const c = load("local", external, ["consulToken"]).consul;
        assert.ok(c?.mode === "external");
        assert.deepEqual(c.addresses, ["consul.internal:8501"]);
        assert.equal(c.caCert, TEST_CA_PEM);
        assert.equal(c.token.reveal(), TOKEN);
        assert.equal(String(c.token), "[secret]");
        assert.equal(JSON.stringify(c).includes(TOKEN), false);
    });

    it("refuses consul keys without storage consul, naming each key and value", () => {
        assert.deepEqual(problems("local", { consulMode: "bundled", consulServers: "5" }), [
            'bonito-vault:consulMode is only used when storage is consul (storage is raft) (got "bundled")',
            'bonito-vault:consulServers is only used when storage is consul (storage is raft) (got "5")',
        ]);
    });

    it("refuses storage consul without consulMode", () => {
        assert.deepEqual(problems("local", { storage: "consul" }), [
            "bonito-vault:consulMode is required when storage is consul: bundled (the program declares the Consul servers and an agent per node) or external (consulAddresses, consulCaCert, consulToken)",
        ]);
    });

    it("refuses a server count other than 3 or 5, and an unknown mode", () => {
        assert.deepEqual(problems("local", { storage: "consul", consulMode: "bundled", consulServers: "4" }), [
            'bonito-vault:consulServers must be one of 3, 5 (got "4")',
        ]);
        assert.deepEqual(problems("local", { storage: "consul", consulMode: "agent" }), [
            'bonito-vault:consulMode must be one of bundled, external (got "agent")',
        ]);
    });

    it("refuses the other mode's keys", () => {
        assert.deepEqual(
            problems(
                "local",
                { storage: "consul", consulMode: "bundled", consulAddresses: '["c:8501"]', consulToken: TOKEN },
                ["consulToken"],
            ),
            [
                "bonito-vault:consulAddresses is only used when consulMode is external (consulMode is bundled: the program declares the Consul servers, their CA and Vault's token) (got [c:8501])",
                "bonito-vault:consulToken is only used when consulMode is external (consulMode is bundled: the program declares the Consul servers, their CA and Vault's token)",
            ],
        );
        assert.deepEqual(problems("local", { ...external, consulServers: "3" }, ["consulToken"]), [
            'bonito-vault:consulServers is only used when consulMode is bundled (consulMode is external: your Consul is given) (got "3")',
        ]);
    });

    it("external: refuses missing values, an address without a port, a wrong address count, a plain-text token", () => {
        assert.deepEqual(problems("local", { storage: "consul", consulMode: "external" }), [
            "bonito-vault:consulAddresses is required when consulMode is external: host:port of the agents' HTTPS API",
            "bonito-vault:consulCaCert is required when consulMode is external: the CA of the agents' HTTPS certificates",
            "bonito-vault:consulToken is required when consulMode is external: Vault's Consul ACL token, set with `pulumi config set --secret consulToken`",
        ]);
        assert.deepEqual(problems("local", { ...external, consulAddresses: '["consul.internal"]' }, ["consulToken"]), [
            'bonito-vault:consulAddresses every item must be host:port (a DNS name or IPv4 address); not "consul.internal" (got [consul.internal])',
        ]);
        assert.deepEqual(problems("local", { ...external, consulAddresses: '["a:8501", "b:8501"]' }, ["consulToken"]), [
            "bonito-vault:consulAddresses lists 2 addresses; give one for all nodes or one per node (nodes is 3) (got [a:8501, b:8501])",
        ]);
        assert.deepEqual(problems("local", external), [
            "bonito-vault:consulToken holds a secret but is stored in plain text; set it with `pulumi config set --secret consulToken`",
        ]);
    });

    it("bundled needs the internal CA (it signs the agents' certificates)", () => {
        assert.deepEqual(
            problems("local", {
                storage: "consul",
                consulMode: "bundled",
                tlsMode: "upstream-proxy",
                tlsTerminatesAtTrustedProxy: "true",
            }),
            [
                "bonito-vault:consulMode bundled needs tlsMode internal-ca (tlsMode is upstream-proxy): the stack's CA signs the Consul agents' certificates; use consulMode external with your own Consul otherwise (got \"bundled\")",
            ],
        );
    });

    it("prod stays on raft", () => {
        assert.ok(
            problems("prod", { storage: "consul", consulMode: "bundled" }).includes(
                'bonito-vault:storage must be raft on the prod stack (got "consul")',
            ),
        );
    });
});
