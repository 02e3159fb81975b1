/**
 * The gcp entry point under mocks: the committed prod stack moved to gcp, nodeAddresses IPv4.
 * Proves: a regional INTERNAL passthrough NLB (TCP backend service, forwarding rule on the API
 * port in the given subnetwork), zonal GCE_VM_IP endpoint groups whose endpoints are exactly the
 * node addresses on the given instances, a regional HTTPS health check on exactly
 * /v1/sys/health?standbyok=true&perfstandbyok=true, firewall rules admitting exactly
 * entryPointClientCidrs and Google's probe ranges, a Cloud DNS record, and the name in every node
 * certificate and in VAULT_ADDR. Does not prove: that GCP accepts the inputs or routes traffic.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { buildStack, type BuiltStack } from "../helpers/entryPoint";

const NODES = ["10.0.1.10", "10.0.2.10", "10.0.3.10"];
let s: BuiltStack;

before(async () => {
    s = await buildStack("prod", {
        cloud: "gcp",
        gcpProject: "acme-vault",
        gcpLocation: "europe-west1",
        nodeAddresses: JSON.stringify(NODES),
        entryPointTargets: undefined,
    });
});

describe("gcp entry point (prod)", () => {
    it("is a regional internal passthrough load balancer: TCP backend service, forwarding rule on 8200", () => {
        const [bs] = s.run.ofType("gcp:compute/regionBackendService:RegionBackendService");
        assert.equal(bs.inputs.loadBalancingScheme, "INTERNAL");
        assert.equal(bs.inputs.protocol, "TCP");
        assert.equal(bs.inputs.region, "europe-west1");
        assert.equal((bs.inputs.backends as unknown[]).length, 3, "one NEG per zone");
        const [rule] = s.run.ofType("gcp:compute/forwardingRule:ForwardingRule");
        assert.equal(rule.inputs.loadBalancingScheme, "INTERNAL");
        assert.equal(rule.inputs.ipProtocol, "TCP");
        assert.deepEqual(rule.inputs.ports, ["8200"]);
        assert.equal(rule.inputs.subnetwork, "bonito-vault");
        assert.equal(rule.inputs.backendService, bs.id);
        assert.equal(s.run.ofType("gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy").length, 0);
    });

    it("health-checks over HTTPS on the exact standby-tolerant path", () => {
        const [hc] = s.run.ofType("gcp:compute/regionHealthCheck:RegionHealthCheck");
        assert.deepEqual(hc.inputs.httpsHealthCheck, {
            port: 8200,
            requestPath: "/v1/sys/health?standbyok=true&perfstandbyok=true",
        });
        const [bs] = s.run.ofType("gcp:compute/regionBackendService:RegionBackendService");
        assert.equal(bs.inputs.healthChecks, hc.id);
    });

    it("its endpoints are exactly the node addresses on the given instances", () => {
        const negs = s.run.ofType("gcp:compute/networkEndpointGroup:NetworkEndpointGroup");
        assert.ok(negs.every((n) => n.inputs.networkEndpointType === "GCE_VM_IP"));
        const eps = s.run.ofType("gcp:compute/networkEndpoint:NetworkEndpoint");
        assert.deepEqual(
            eps.map((e) => [e.inputs.zone, e.inputs.instance, e.inputs.ipAddress]),
            [
                ["europe-west1-b", "vault-0", NODES[0]],
                ["europe-west1-c", "vault-1", NODES[1]],
                ["europe-west1-d", "vault-2", NODES[2]],
            ],
        );
    });

    it("admits exactly the client ranges and Google's probe ranges on the API port", () => {
        const fw = s.run.ofType("gcp:compute/firewall:Firewall");
        assert.deepEqual(
            fw.map((f) => [f.inputs.sourceRanges, f.inputs.allows]),
            [
                [["10.20.0.0/16"], [{ protocol: "tcp", ports: ["8200"] }]],
                [["35.191.0.0/16", "130.211.0.0/22"], [{ protocol: "tcp", ports: ["8200"] }]],
            ],
        );
    });

    it("records the name in Cloud DNS and puts it in every certificate and VAULT_ADDR", () => {
        const [rec] = s.run.ofType("gcp:dns/recordSet:RecordSet");
        assert.deepEqual(
            [rec.inputs.managedZone, rec.inputs.name, rec.inputs.type, rec.inputs.rrdatas],
            ["bonito-internal", "vault.bonito.internal.", "A", ["10.0.9.9"]],
        );
        for (const dns of s.sans) assert.ok(dns.includes("vault.bonito.internal"));
        assert.equal(s.backendEnv.VAULT_ADDR, "https://vault.bonito.internal:8200");
        assert.equal(s.outputs.vaultAddr, "https://vault.bonito.internal:8200");
        assert.deepEqual(
            s.agentUrls,
            NODES.map((ip) => `https://${ip}:8200`),
        );
    });
});
