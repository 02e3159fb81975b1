/**
 * The server-config renderer and the node plan, with exact expectations.
 * Proves: the JSON every node receives, field by field, for 1, 3 and 5 nodes, both engines, TLS
 * modes and multi-host placement. Does not prove: that Vault accepts it (only a real server can;
 * the real-server tier is blocked on this machine, see docs/testing.md).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadConfig } from "../../components/config";
import type { SealStanza } from "../../components/seal";
import { renderServerConfig, renderServerConfigJson, RESPONSE_HEADERS } from "../../components/serverConfig";
import { dockerName } from "../../components/naming";
import { planNodes } from "../../components/topology";
import { stackConfig } from "../helpers/mocks";

const SEAL: SealStanza = {
    type: "transit",
    config: { address: "http://unsealer:8200", key_name: "k", mount_path: "transit/" },
};

function cfg(stack: string, raw: Record<string, string> = {}) {
    return {
        ...loadConfig(stack, { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1", ...raw }),
        stack,
    };
}

function renderAll(c: ReturnType<typeof cfg>) {
    const nodes = planNodes(c);
    return nodes.map((node) => renderServerConfig({ config: c, node, nodes, seal: SEAL }));
}

const TLS_FILES = {
    tls_cert_file: "/vault/tls/node.pem",
    tls_key_file: "/vault/tls/node-key.pem",
};

function mainListener(minVersion: string) {
    return {
        tcp: {
            address: "0.0.0.0:8200",
            cluster_address: "0.0.0.0:8201",
            tls_disable: false,
            ...TLS_FILES,
            tls_min_version: minVersion,
            custom_response_headers: RESPONSE_HEADERS,
            telemetry: { unauthenticated_metrics_access: false },
        },
    };
}

function peerListener(minVersion: string) {
    return {
        tcp: {
            address: "0.0.0.0:8202",
            cluster_address: "0.0.0.0:8203",
            tls_disable: false,
            ...TLS_FILES,
            tls_min_version: minVersion,
            tls_client_ca_file: "/vault/tls/ca.pem",
            tls_require_and_verify_client_cert: true,
            custom_response_headers: RESPONSE_HEADERS,
            telemetry: { unauthenticated_metrics_access: false },
        },
    };
}

function join(peer: string) {
    return {
        leader_api_addr: `https://${peer}:8202`,
        leader_ca_cert_file: "/vault/tls/ca.pem",
        leader_client_cert_file: "/vault/tls/node.pem",
        leader_client_key_file: "/vault/tls/node-key.pem",
        leader_tls_servername: peer,
    };
}

describe("response headers", () => {
    it("sets HSTS only: Vault's UI sends nosniff itself, and a configured copy draws a duplicate-header warning on every start", () => {
        assert.deepEqual(RESPONSE_HEADERS, {
            default: { "Strict-Transport-Security": ["max-age=31536000; includeSubDomains"] },
        });
    });
});

describe("renderServerConfig", () => {
    it("renders the 3-node local cluster exactly", () => {
        const [first] = renderAll(cfg("local"));
        assert.deepEqual(first, {
            cluster_name: "bonito-vault-local",
            ui: false,
            disable_mlock: true,
            log_level: "info",
            log_format: "json",
            api_addr: "https://vault-0:8200",
            cluster_addr: "https://vault-0:8201",
            default_lease_ttl: "1h",
            max_lease_ttl: "24h",
            storage: {
                raft: {
                    path: "/vault/data",
                    node_id: "vault-0",
                    performance_multiplier: 1,
                    retry_join: [join("vault-1"), join("vault-2")],
                },
            },
            listener: [mainListener("tls12"), peerListener("tls12")],
            seal: { transit: SEAL.config },
            telemetry: { prometheus_retention_time: "24h", disable_hostname: true, usage_gauge_period: "10m" },
        });
    });

    it("renders one node with no retry_join and 5 nodes with four each", () => {
        const one = renderAll(cfg("local", { "bonito-vault:nodes": "1" }));
        assert.equal(one.length, 1);
        assert.deepEqual((one[0].storage as { raft: { retry_join: unknown[] } }).raft.retry_join, []);
        const five = renderAll(cfg("local", { "bonito-vault:nodes": "5" }));
        assert.deepEqual(
            five.map((c) => (c.storage as { raft: { node_id: string } }).raft.node_id),
            ["vault-0", "vault-1", "vault-2", "vault-3", "vault-4"],
        );
        assert.deepEqual((five[3].storage as { raft: { retry_join: unknown[] } }).raft.retry_join, [
            join("vault-0"),
            join("vault-1"),
            join("vault-2"),
            join("vault-4"),
        ]);
    });

    it("uses tls13 and published addresses for the prod shape (one node per host)", () => {
        const c = { ...loadConfig("prod", stackConfig("prod"), new Set(), { allowExampleKeys: true }), stack: "prod" };
        const nodes = planNodes(c);
        assert.deepEqual(nodes[1].ports, [
            { internal: 8200, external: 8200 },
            { internal: 8201, external: 8201 },
            { internal: 8202, external: 8202 },
        ]);
        const rendered = renderAll(c)[1];
        assert.equal(rendered.api_addr, "https://vault-1.bonito.internal:8200");
        assert.equal(rendered.cluster_addr, "https://vault-1.bonito.internal:8201");
        assert.deepEqual(rendered.listener, [mainListener("tls13"), peerListener("tls13")]);
        assert.deepEqual((rendered.storage as { raft: { retry_join: unknown[] } }).raft.retry_join, [
            { ...join("vault-0.bonito.internal"), leader_tls_servername: "vault-0" },
            { ...join("vault-2.bonito.internal"), leader_tls_servername: "vault-2" },
        ]);
    });

    it("without mTLS joins on the API listener and opens no peer listener", () => {
        const rendered = renderAll(cfg("local", { "bonito-vault:mtls": "false" }))[0];
        assert.deepEqual(rendered.listener, [mainListener("tls12")]);
        assert.equal(
            (rendered.storage as { raft: { retry_join: { leader_api_addr: string }[] } }).raft.retry_join[0]
                .leader_api_addr,
            "https://vault-1:8200",
        );
    });

    it("renders file storage for a single staging node (seed option A)", () => {
        const [only] = renderAll(cfg("staging", { "bonito-vault:nodes": "1", "bonito-vault:storage": "file" }));
        assert.deepEqual(only.storage, { file: { path: "/vault/data" } });
        assert.equal("cluster_addr" in only, false);
        assert.deepEqual(only.listener, [
            {
                tcp: {
                    address: "0.0.0.0:8200",
                    tls_disable: false,
                    ...TLS_FILES,
                    tls_min_version: "tls12",
                    custom_response_headers: RESPONSE_HEADERS,
                    telemetry: { unauthenticated_metrics_access: false },
                },
            },
        ]);
    });

    it("turns TLS off only with the upstream-proxy statement", () => {
        const [first] = renderAll(
            cfg("staging", {
                "bonito-vault:tlsMode": "upstream-proxy",
                "bonito-vault:tlsTerminatesAtTrustedProxy": "true",
            }),
        );
        assert.deepEqual(first.listener, [
            {
                tcp: {
                    address: "0.0.0.0:8200",
                    cluster_address: "0.0.0.0:8201",
                    tls_disable: true,
                    telemetry: { unauthenticated_metrics_access: false },
                },
            },
        ]);
        assert.equal(first.api_addr, "http://vault-0:8200");
        assert.deepEqual((first.storage as { raft: { retry_join: unknown[] } }).raft.retry_join[0], {
            leader_api_addr: "http://vault-1:8200",
        });
    });

    it("declares audit devices in the file for OpenBao only", () => {
        const audit = [
            { type: "file" as const, path: "file", description: "d", options: { file_path: "/vault/audit/audit.log" } },
        ];
        for (const [image, expected] of [
            [
                "openbao/openbao:2.6.2",
                [{ file: { file: { description: "d", options: { file_path: "/vault/audit/audit.log" } } } }],
            ],
            ["hashicorp/vault:1.21.1", undefined],
        ] as const) {
            const c = cfg("local", { "bonito-vault:image": image });
            const nodes = planNodes(c);
            const out = renderServerConfig({ config: c, node: nodes[0], nodes, seal: SEAL, audit });
            assert.deepEqual(out.audit, expected);
        }
    });

    it("never renders a credential: the seal stanza is passed through as given", () => {
        const json = renderServerConfigJson({
            config: cfg("local"),
            node: planNodes(cfg("local"))[0],
            nodes: planNodes(cfg("local")),
            seal: SEAL,
        });
        assert.equal(json.endsWith("}\n"), true);
        assert.doesNotMatch(json, /token|secret|PRIVATE KEY/i);
    });
});

describe("planNodes", () => {
    it("names every Docker object deterministically", () => {
        const [n] = planNodes(cfg("staging"));
        assert.deepEqual(
            [n.containerName, n.dataVolumeName, n.auditVolumeName],
            ["bonito-vault-staging-vault-0", "bonito-vault-staging-vault-0-data", "bonito-vault-staging-vault-0-audit"],
        );
        assert.deepEqual(n.sans, { dnsNames: ["vault-0", "vault", "localhost"], ipAddresses: ["127.0.0.1"] });
        assert.deepEqual(n.ports, [{ internal: 8200, external: 8200 }]);
        assert.deepEqual(planNodes(cfg("staging"))[2].ports, [{ internal: 8200, external: 8202 }]);
    });

    it("property: every node's retry_join lists all other nodes and never itself", () => {
        fc.assert(
            fc.property(
                fc.constantFrom(1, 3, 5, 7),
                fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/), { minLength: 7, maxLength: 7 }),
                fc.boolean(),
                (n, names, mtls) => {
                    const c = cfg("local", {
                        "bonito-vault:nodes": String(n),
                        "bonito-vault:nodeNames": JSON.stringify(names.slice(0, n)),
                        "bonito-vault:mtls": String(mtls),
                    });
                    const nodes = planNodes(c);
                    for (const node of nodes) {
                        const rendered = renderServerConfig({ config: c, node, nodes, seal: SEAL });
                        const joins = (rendered.storage as { raft: { retry_join: { leader_api_addr: string }[] } }).raft
                            .retry_join;
                        const others = nodes.filter((o) => o.name !== node.name).map((o) => o.joinAddr);
                        assert.deepEqual(
                            joins.map((j) => j.leader_api_addr),
                            others,
                        );
                        assert.ok(!joins.some((j) => j.leader_api_addr === node.joinAddr));
                    }
                },
            ),
            { numRuns: 60 },
        );
    });

    it("property: Docker names are deterministic and valid", () => {
        fc.assert(
            fc.property(
                fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/),
                fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/),
                (cluster, stack) => {
                    const a = dockerName({ clusterName: cluster, stack }, "vault-0", "data");
                    assert.equal(a, dockerName({ clusterName: cluster, stack }, "vault-0", "data"));
                    assert.match(a, /^[a-z0-9][a-z0-9_.-]+$/);
                },
            ),
            { numRuns: 200 },
        );
    });
});
