/**
 * ClusterTls's CA slots under Pulumi's mock runtime, one ClusterTls per step of a CA change
 * (docs/runbook.md "Rotating certificates": trust both, issue from the new one, drop the old one).
 * Proves: slot `a` keeps the resource names every stack had before slots existed (no replacement on
 * upgrade); `tlsCaTrusted: [a, b]` declares a second CA and makes `caCertPem` the bundle of both,
 * while the node certificates stay signed by the issuing CA; `tlsCaIssuing: b` signs them with the
 * new CA; `[b]` alone leaves one CA; each trusted CA's end feeds the CA-expiry alert.
 * Does not prove: that Vault and the clients accept the bundle (the real-server tier's CA drill does).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { loadConfig } from "../../components/config";
import type { ClusterTls } from "../../components/clusterTls";
import { setupMocks, settle, valueOf, type MockRun } from "../helpers/mocks";

const run: MockRun = setupMocks("local", {});
const STEPS = {
    before: {},
    trustBoth: { "bonito-vault:tlsCaTrusted": '["a","b"]' },
    issueNew: { "bonito-vault:tlsCaTrusted": '["a","b"]', "bonito-vault:tlsCaIssuing": "b" },
    dropOld: { "bonito-vault:tlsCaTrusted": '["b"]', "bonito-vault:tlsCaIssuing": "b" },
} as const;
type Step = keyof typeof STEPS;
const built = new Map<Step, ClusterTls>();
const pem = (name: string) => `-----BEGIN CERTIFICATE-----\nMOCK-${name}\n-----END CERTIFICATE-----\n`;

before(async () => {
    const { ClusterTls } = await import("../../components/clusterTls");
    const { planNodes } = await import("../../components/topology");
    for (const step of Object.keys(STEPS) as Step[]) {
        const cfg = {
            ...loadConfig("local", {
                "bonito-vault:cloud": "local",
                "bonito-vault:image": "hashicorp/vault:1.21.1",
                ...STEPS[step],
            }),
            stack: "local",
        };
        built.set(
            step,
            new ClusterTls(step, { tls: cfg.tls, organization: "bonito-vault-local", nodes: planNodes(cfg) }),
        );
    }
    await settle(...built.values());
});

const cas = (step: Step) =>
    run
        .ofType("tls:index/selfSignedCert:SelfSignedCert")
        .filter((r) => r.name.startsWith(`${step}-`))
        .map((r) => r.name);
const signer = (step: Step) =>
    run
        .ofType("tls:index/locallySignedCert:LocallySignedCert")
        .filter((r) => r.name.startsWith(`${step}-`))
        .map((r) => r.inputs.caCertPem);

describe("a CA change under the mock runtime", () => {
    it("before: one CA under the names stacks always had", async () => {
        assert.deepEqual(cas("before"), ["before-ca"]);
        assert.deepEqual(
            run
                .ofType("tls:index/privateKey:PrivateKey")
                .filter((r) => r.name.startsWith("before-ca"))
                .map((r) => r.name),
            ["before-ca-key"],
        );
        assert.equal(await valueOf(built.get("before")!.caCertPem), pem("before-ca"));
        assert.deepEqual(Object.keys(built.get("before")!.caNotAfter), ["ca-a"]);
    });

    it("trust both: a second CA, the bundle of both trusted; the leaves still from the first", async () => {
        assert.deepEqual(cas("trustBoth"), ["trustBoth-ca", "trustBoth-ca-b"]);
        assert.equal(await valueOf(built.get("trustBoth")!.caCertPem), pem("trustBoth-ca") + pem("trustBoth-ca-b"));
        assert.deepEqual(signer("trustBoth"), [pem("trustBoth-ca"), pem("trustBoth-ca"), pem("trustBoth-ca")]);
        assert.deepEqual(Object.keys(built.get("trustBoth")!.caNotAfter), ["ca-a", "ca-b"]);
    });

    it("issue from the new CA: the leaves signed by it, both still trusted", async () => {
        assert.deepEqual(signer("issueNew"), [pem("issueNew-ca-b"), pem("issueNew-ca-b"), pem("issueNew-ca-b")]);
        assert.equal(await valueOf(built.get("issueNew")!.caCertPem), pem("issueNew-ca") + pem("issueNew-ca-b"));
    });

    it("drop the old CA: the new one alone", async () => {
        assert.deepEqual(cas("dropOld"), ["dropOld-ca-b"]);
        assert.equal(await valueOf(built.get("dropOld")!.caCertPem), pem("dropOld-ca-b"));
        assert.deepEqual(Object.keys(built.get("dropOld")!.caNotAfter), ["ca-b"]);
    });
});
