/**
 * A renewed certificate under Pulumi's mock runtime: two RaftClusters built from the same settings,
 * one with the certificates as first issued, one with every node certificate and key renewed, and a
 * third with the CA renewed too.
 * Proves: every node container's inputs are identical whatever the certificates (so the Docker
 * provider, whose `upload` and every other container input are ForceNew, plans no replacement for a
 * renewal), and only the NodeTls pushes' certificate and key inputs differ (NodeTls diffs them as an
 * update, never a replacement: test/unit/nodeTls.test.ts). A CA change reaches the pushes and the
 * rolling gates' trust, never a container.
 * Does not prove: the engine's own diff (no engine here; the Docker tier rotates a real container).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { NodeCertificate } from "../../components/clusterTls";
import type { SealDelivery, SealStanza } from "../../components/seal";
import { setupMocks, settle, type MockRun, type Recorded } from "../helpers/mocks";

const run: MockRun = setupMocks("local", {});

const pem = (what: string) => `-----BEGIN CERTIFICATE-----\nMOCK-${what}\n-----END CERTIFICATE-----\n`;
const key = (what: string) => `-----BEGIN PRIVATE KEY-----\nMOCK-${what}\n-----END PRIVATE KEY-----\n`;

function certs(generation: string, nodes: string[]): NodeCertificate[] {
    return nodes.map((n) => ({
        certPem: pulumi.output(pem(`${n}-${generation}`)),
        keyPem: pulumi.secret(key(`${n}-${generation}`)),
        notAfter: pulumi.output("2030-01-01T00:00:00Z"),
    }));
}

const STANZA: SealStanza = { type: "transit", config: { address: "http://unsealer:8200", key_name: "k" } };

const VARIANTS = {
    issued: { ca: "ca-1", leaves: "1" },
    leavesRenewed: { ca: "ca-1", leaves: "2" },
    caRenewed: { ca: "ca-2", leaves: "3" },
} as const;
type Variant = keyof typeof VARIANTS;

before(async () => {
    const { loadConfig } = await import("../../components/config");
    const { planNodes } = await import("../../components/topology");
    const { planPlatform } = await import("../../components/plan");
    const { DockerHosts } = await import("../../components/dockerHosts");
    const { RaftCluster } = await import("../../components/raftCluster");
    const config = {
        ...loadConfig("local", { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" }),
        stack: "local",
    };
    const seal: SealDelivery = {
        stanza: pulumi.output(STANZA) as pulumi.Output<SealStanza>,
        env: pulumi.secret(["VAULT_TOKEN=s.fake"]),
        files: [],
        dependsOn: [],
        keyId: pulumi.output("k"),
        identity: pulumi.output("transit-policy"),
    };
    const nodes = planNodes(config);
    const hosts = new DockerHosts("h", planPlatform(config).dockerHosts);
    const built = (Object.keys(VARIANTS) as Variant[]).map(
        (v) =>
            new RaftCluster(v, {
                settings: config,
                nodes,
                hosts: hosts.perNode,
                tls: {
                    caCertPem: pulumi.output(pem(VARIANTS[v].ca)),
                    nodeCerts: certs(
                        VARIANTS[v].leaves,
                        nodes.map((n) => n.name),
                    ),
                },
                seal,
            }),
    );
    await settle(hosts, ...built, ...built.flatMap((c) => [...c.containers, ...c.tlsPushes, ...c.ready]));
});

/** The resources of one variant, by kind, in node order, with the variant's own names taken out. */
function of(v: Variant, kind: "Container" | "NodeTls" | "NodeReady"): Record<string, unknown>[] {
    const mine = (r: Recorded) =>
        r.name.startsWith(`${v}-`) && r.type.endsWith(kind === "Container" ? "container:Container" : `:${kind}`);
    return run.resources.filter(mine).map((r) => {
        const { __provider, ...inputs } = r.inputs;
        void __provider;
        return JSON.parse(JSON.stringify(inputs).replaceAll(`${v}-`, "<variant>-")) as Record<string, unknown>;
    });
}

describe("a renewed certificate under the mock runtime", () => {
    it("leaves every node container's inputs unchanged", () => {
        const issued = of("issued", "Container");
        assert.equal(issued.length, 3);
        assert.deepEqual(of("leavesRenewed", "Container"), issued);
        assert.deepEqual(of("caRenewed", "Container"), issued);
        assert.doesNotMatch(JSON.stringify(issued), /MOCK-/, "no certificate, key or CA in any container input");
    });

    it("changes each node's NodeTls push in its certificate and key only", () => {
        const issued = of("issued", "NodeTls");
        const renewed = of("leavesRenewed", "NodeTls");
        assert.equal(renewed.length, 3);
        for (const [i, p] of renewed.entries()) {
            const changed = Object.keys(p).filter((k) => JSON.stringify(p[k]) !== JSON.stringify(issued[i][k]));
            assert.deepEqual(changed, ["certPem", "keyPem"]);
            assert.equal(p.certPem, pem(`vault-${i}-2`));
        }
    });

    it("a CA change reaches the pushes (bundle and leaves) and the gates' trust, nothing else", () => {
        const issued = of("issued", "NodeTls");
        for (const [i, p] of of("caRenewed", "NodeTls").entries()) {
            const changed = Object.keys(p).filter((k) => JSON.stringify(p[k]) !== JSON.stringify(issued[i][k]));
            assert.deepEqual(changed, ["caCertPem", "certPem", "keyPem"]);
        }
        const gates = of("issued", "NodeReady");
        assert.deepEqual(of("leavesRenewed", "NodeReady"), gates, "a leaf renewal leaves the gates alone");
        for (const [i, g] of of("caRenewed", "NodeReady").entries()) {
            const changed = Object.keys(g).filter((k) => JSON.stringify(g[k]) !== JSON.stringify(gates[i][k]));
            assert.deepEqual(changed, ["caCert"]);
        }
    });
});
