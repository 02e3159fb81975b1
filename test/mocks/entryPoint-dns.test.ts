/**
 * entryPoint dns on aws under mocks: staging spread over three hosts with IPv4 nodeAddresses.
 * Proves: one Route 53 A record for the name listing exactly the node addresses, no load balancer,
 * VAULT_ADDR at the name and the nodes' published port, the name in every certificate.
 * Does not prove: that a client retries another address when one node is down (a DNS record has no
 * health check; that is why prod refuses dns).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { buildStack, type BuiltStack } from "../helpers/entryPoint";

const NODES = ["10.0.1.10", "10.0.2.10", "10.0.3.10"];
let s: BuiltStack;

before(async () => {
    s = await buildStack("staging", {
        dockerHosts: JSON.stringify(NODES.map((_, i) => `ssh://deploy@vault-${i}.staging.bonito.internal`)),
        nodeAddresses: JSON.stringify(NODES),
        entryPoint: "dns",
        entryPointTargets: undefined,
    });
});

describe("aws entry point, dns (staging on three hosts)", () => {
    it("declares one A record listing every node and no load balancer", () => {
        const records = s.run.ofType("aws:route53/record:Record");
        assert.equal(records.length, 1);
        assert.deepEqual(
            [records[0].inputs.zoneId, records[0].inputs.name, records[0].inputs.type, records[0].inputs.records],
            ["Z0123456789EXAMPLE0", "vault.staging.bonito.internal", "A", NODES],
        );
        assert.equal(s.run.ofType("aws:lb/loadBalancer:LoadBalancer").length, 0);
        assert.equal(s.run.ofType("aws:ec2/securityGroup:SecurityGroup").length, 0);
    });

    it("gives the backend the name at the nodes' published port, and the name is a SAN of every node", () => {
        assert.equal(s.backendEnv.VAULT_ADDR, "https://vault.staging.bonito.internal:8200");
        for (const dns of s.sans) assert.ok(dns.includes("vault.staging.bonito.internal"));
        assert.equal((s.outputs.entryPoint as { kind: string }).kind, "dns");
    });
});
