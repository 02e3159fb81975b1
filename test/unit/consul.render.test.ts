/**
 * The Consul renderers (components/consul/) and the consul storage stanza in the Vault server
 * config, with exact expectations written from the documentation each setting is anchored to:
 * Consul 1.16's agent configuration reference, Vault's Consul storage page and its ACL section.
 *
 * Proves: the documents the program will upload, key by key, and that no secret is in them.
 * Does not prove: that Consul and Vault accept them and behave as intended (that is
 * test/conformance/consul.test.ts, on real Consul 1.16.3 and Vault 1.21.1).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    CONSUL_PATHS,
    consulAgentCommand,
    consulServerSan,
    renderConsulClientConfig,
    renderConsulServerConfig,
    renderGossipKeyFragment,
} from "../../components/consul/agentConfig";
import {
    agentTokenRequest,
    renderSnapshotPolicy,
    renderVaultConsulPolicy,
    rulesText,
} from "../../components/consul/acl";
import { LOCAL_AGENT_ADDRESS, consulKvPath, renderConsulStorage } from "../../components/consul/storage";
import { renderServerConfig } from "../../components/serverConfig";
import type { SealStanza } from "../../components/seal";
import { planNodes } from "../../components/topology";
import type { CoreConfig } from "../../components/config";

const SERVERS = ["consul-0", "consul-1", "consul-2"];
const GOSSIP_KEY = Buffer.alloc(32, 7).toString("base64");

/** Everything servers and client agents share, as the docs name it. */
const HARDENED = {
    datacenter: "dc1",
    data_dir: "/consul/data",
    bind_addr: "0.0.0.0",
    log_level: "info",
    log_json: true,
    encrypt_verify_incoming: true,
    encrypt_verify_outgoing: true,
    tls: {
        defaults: {
            ca_file: "/consul/tls/ca.pem",
            cert_file: "/consul/tls/agent.pem",
            key_file: "/consul/tls/agent-key.pem",
            verify_incoming: true,
            verify_outgoing: true,
            tls_min_version: "TLSv1_3",
        },
        internal_rpc: { verify_server_hostname: true },
    },
    ports: { https: 8501, http: -1, dns: -1, grpc: -1, grpc_tls: -1, serf_wan: -1 },
    acl: { enabled: true, default_policy: "deny", enable_token_persistence: true },
    ui_config: { enabled: false },
    connect: { enabled: false },
    disable_update_check: true,
    disable_remote_exec: true,
    enable_script_checks: false,
    enable_local_script_checks: false,
};

describe("Consul server agent config", () => {
    it("server 1 of 3: joins the two others, expects 3, HTTPS only, ACL deny, TLS verified both ways", () => {
        const cfg = renderConsulServerConfig({
            nodeName: "consul-1",
            datacenter: "dc1",
            serverAddresses: SERVERS,
            tlsMinVersion: "tls13",
            bootstrapExpect: 3,
            selfIndex: 1,
        });
        assert.deepEqual(cfg, {
            node_name: "consul-1",
            ...HARDENED,
            retry_join: ["consul-0", "consul-2"],
            server: true,
            bootstrap_expect: 3,
            client_addr: "0.0.0.0",
            performance: { raft_multiplier: 1 },
        });
    });

    it("tls12 stacks get Consul's TLSv1_2", () => {
        const cfg = renderConsulServerConfig({
            nodeName: "consul-0",
            datacenter: "dc1",
            serverAddresses: SERVERS,
            tlsMinVersion: "tls12",
            bootstrapExpect: 3,
            selfIndex: 0,
        }) as { tls: { defaults: { tls_min_version: string } } };
        assert.equal(cfg.tls.defaults.tls_min_version, "TLSv1_2");
    });

    it("property: every server joins every other server and never itself", () => {
        fc.assert(
            fc.property(fc.constantFrom(3, 5), fc.nat(), (n, pick) => {
                const names = Array.from({ length: n }, (_, i) => `consul-${i}`);
                const self = pick % n;
                const cfg = renderConsulServerConfig({
                    nodeName: names[self],
                    datacenter: "dc1",
                    serverAddresses: names,
                    tlsMinVersion: "tls13",
                    bootstrapExpect: n,
                    selfIndex: self,
                }) as { retry_join: string[]; bootstrap_expect: number };
                assert.deepEqual([...cfg.retry_join, names[self]].sort(), [...names].sort(), "all others, not itself");
                assert.equal(cfg.bootstrap_expect, n);
            }),
        );
    });

    it("the server certificate name verify_server_hostname checks is server.<dc>.consul", () => {
        assert.equal(consulServerSan("dc1"), "server.dc1.consul");
    });
});

describe("Consul client agent config", () => {
    it("beside a Vault node: joins every server, HTTPS on 127.0.0.1 only, same hardening, not a server", () => {
        const cfg = renderConsulClientConfig({
            nodeName: "vault-0",
            datacenter: "dc1",
            serverAddresses: SERVERS,
            tlsMinVersion: "tls13",
        });
        assert.deepEqual(cfg, {
            node_name: "vault-0",
            ...HARDENED,
            retry_join: SERVERS,
            server: false,
            client_addr: "127.0.0.1",
        });
    });
});

describe("the gossip key stays out of the agent config", () => {
    it("no rendered config carries `encrypt`; the key is a separate fragment, loaded by a second -config-file", () => {
        const server = renderConsulServerConfig({
            nodeName: "consul-0",
            datacenter: "dc1",
            serverAddresses: SERVERS,
            tlsMinVersion: "tls13",
            bootstrapExpect: 3,
            selfIndex: 0,
        });
        assert.equal("encrypt" in server, false);
        assert.equal(JSON.stringify(server).includes(GOSSIP_KEY), false);
        assert.equal(renderGossipKeyFragment(GOSSIP_KEY), `{"encrypt":"${GOSSIP_KEY}"}\n`);
        assert.deepEqual(consulAgentCommand(), [
            "agent",
            "-config-file=/consul/config/agent.json",
            "-config-file=/consul/config/gossip-key.json",
        ]);
        assert.equal(CONSUL_PATHS.gossipKey, "/consul/config/gossip-key.json");
    });

    it("refuses a key that is not base64 of 32 bytes (consul keygen's format), without echoing it", () => {
        for (const bad of ["", "c2hvcnQ=", Buffer.alloc(16).toString("base64"), "x".repeat(44)])
            assert.throws(
                () => renderGossipKeyFragment(bad),
                /^Error: the Consul gossip key must be base64 of 32 bytes/,
            );
    });
});

describe("Vault's Consul ACL policy", () => {
    it("is Vault's documented Consul 1.4+ policy with the stack's own prefix in place of vault/", () => {
        // https://developer.hashicorp.com/vault/docs/configuration/storage/consul#acls
        assert.deepEqual(renderVaultConsulPolicy("bonito-vault-prod/"), {
            key_prefix: { "bonito-vault-prod/": { policy: "write" } },
            service: { vault: { policy: "write" } },
            agent_prefix: { "": { policy: "read" } },
            session_prefix: { "": { policy: "write" } },
        });
        assert.equal(
            rulesText(renderVaultConsulPolicy("vault/")),
            '{"key_prefix":{"vault/":{"policy":"write"}},"service":{"vault":{"policy":"write"}},"agent_prefix":{"":{"policy":"read"}},"session_prefix":{"":{"policy":"write"}}}',
        );
    });

    it("refuses a prefix that would widen the grant (empty, /, or without a trailing slash)", () => {
        for (const bad of ["", "/", "bonito-vault-prod"])
            assert.throws(() => renderVaultConsulPolicy(bad), /must be a non-empty prefix ending in "\/"/);
    });

    it("agent tokens are node identities; the snapshot token needs acl = write", () => {
        assert.deepEqual(agentTokenRequest("vault-0", "dc1"), {
            Description: "agent token for vault-0",
            NodeIdentities: [{ NodeName: "vault-0", Datacenter: "dc1" }],
        });
        assert.deepEqual(renderSnapshotPolicy(), { acl: "write" });
    });
});

describe("Vault's consul storage stanza", () => {
    it("the local agent over https with the CA and the node's client certificate; no token", () => {
        const stanza = renderConsulStorage({
            address: LOCAL_AGENT_ADDRESS,
            path: consulKvPath("bonito-vault", "staging"),
            caFile: "/vault/tls/ca.pem",
            clientCert: { certFile: "/vault/tls/node.pem", keyFile: "/vault/tls/node-key.pem" },
            tlsMinVersion: "tls13",
        });
        assert.deepEqual(stanza, {
            consul: {
                address: "127.0.0.1:8501",
                scheme: "https",
                path: "bonito-vault-staging/",
                service: "vault",
                tls_ca_file: "/vault/tls/ca.pem",
                tls_cert_file: "/vault/tls/node.pem",
                tls_key_file: "/vault/tls/node-key.pem",
                tls_min_version: "tls13",
            },
        });
        assert.equal("token" in stanza.consul, false);
    });

    it("one path per stack", () => {
        assert.notEqual(consulKvPath("bonito-vault", "prod"), consulKvPath("bonito-vault", "staging"));
    });
});

describe("server.json with storage: consul", () => {
    const SEAL: SealStanza = { type: "transit", config: { address: "http://unsealer:8200", key_name: "k" } };
    const core = {
        cloud: "local",
        nodes: 3,
        image: "hashicorp/vault:1.21.1",
        engine: "vault",
        storage: "consul",
        raftPerformanceMultiplier: 1,
        clusterName: "bonito-vault",
        serviceName: "vault",
        nodeNames: ["vault-0", "vault-1", "vault-2"],
        dockerHosts: [undefined, undefined, undefined],
        nodeAddresses: ["vault-0", "vault-1", "vault-2"],
        multiHost: false,
        apiPort: 8200,
        clusterPort: 8201,
        peerPort: 8202,
        hostPortBase: 8200,
        publishAddress: "127.0.0.1",
        tls: {
            mode: "internal-ca",
            minVersion: "tls13",
            mtls: false,
            validityHours: 8760,
            earlyRenewalHours: 720,
            caValidityHours: 87600,
            ca: { issuing: "a", trusted: ["a"] },
            extraSans: [],
        },
        memoryMb: 1024,
        logLevel: "info",
        ui: false,
        defaultLeaseTtl: "1h",
        maxLeaseTtl: "24h",
        stack: "staging",
    } satisfies CoreConfig & { stack: string };
    const nodes = planNodes(core);
    const consulStorage = renderConsulStorage({
        address: LOCAL_AGENT_ADDRESS,
        path: "bonito-vault-staging/",
        caFile: "/vault/tls/ca.pem",
        tlsMinVersion: "tls13",
    });

    it("the consul stanza, HA addresses (api_addr, cluster_addr, cluster listener), no raft and no peer listener", () => {
        const out = renderServerConfig({ config: core, node: nodes[1], nodes, seal: SEAL, consulStorage });
        assert.deepEqual(out.storage, consulStorage);
        assert.equal(out.api_addr, "https://vault-1:8200");
        assert.equal(out.cluster_addr, "https://vault-1:8201");
        const listeners = out.listener as { tcp: Record<string, unknown> }[];
        assert.equal(listeners.length, 1);
        assert.equal(listeners[0].tcp.address, "0.0.0.0:8200");
        assert.equal(listeners[0].tcp.cluster_address, "0.0.0.0:8201");
        assert.equal(JSON.stringify(out).includes("retry_join"), false);
    });

    it("refuses to render consul storage without its stanza", () => {
        assert.throws(
            () => renderServerConfig({ config: core, node: nodes[0], nodes, seal: SEAL }),
            /storage is consul but no consul storage stanza was given/,
        );
    });
});
