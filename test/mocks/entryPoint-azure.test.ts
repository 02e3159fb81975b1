/**
 * The azure entry point under mocks: the committed prod stack moved to azure, nodeAddresses IPv4,
 * an entryPointName other than serviceName.
 * Proves: a Standard Load Balancer with a private frontend in the given subnet, an IP-based backend
 * pool holding exactly the node addresses in that subnet's virtual network, an HTTPS probe on
 * exactly /v1/sys/health?standbyok=true&perfstandbyok=true, one TCP rule on the API port wired to
 * that frontend, pool and probe; a security group admitting exactly entryPointClientCidrs and the
 * load balancer's probes; a private DNS record; the name in every certificate and VAULT_ADDR.
 * Does not prove: that Azure accepts the inputs or routes traffic.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { buildStack, type BuiltStack } from "../helpers/entryPoint";

const NODES = ["10.0.1.10", "10.0.2.10", "10.0.3.10"];
const NAME = "vault-api.bonito.internal";
const VNET =
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/bonito-vault/providers/Microsoft.Network/virtualNetworks/bonito";
let s: BuiltStack;

before(async () => {
    s = await buildStack("prod", {
        cloud: "azure",
        azureLocation: "westeurope",
        azureResourceGroup: "rg-vault",
        azureAllowedIps: '["203.0.113.7"]',
        nodeAddresses: JSON.stringify(NODES),
        entryPointTargets: undefined,
        entryPointName: NAME,
    });
});

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** `o[key]` as an object; a different shape fails naming the key and what it holds. */
function record(o: Record<string, unknown>, key: string): Record<string, unknown> {
    const v = o[key];
    if (!isRecord(v)) throw new Error(`${key}: expected an object, got ${JSON.stringify(v)}`);
    return v;
}

/** `o[key]` as a list of objects; a different shape fails naming the key and what it holds. */
function records(o: Record<string, unknown>, key: string): Record<string, unknown>[] {
    const v: unknown = o[key];
    if (!Array.isArray(v) || !v.every(isRecord))
        throw new Error(`${key}: expected a list of objects, got ${JSON.stringify(v)}`);
    return v;
}

/** The (first) load balancer's inputs, with the lists these tests read checked. */
function loadBalancer() {
    const [lb] = s.run.ofType("azure-native:network:LoadBalancer");
    if (!lb) throw new Error("no azure-native:network:LoadBalancer was declared");
    const i = lb.inputs;
    return {
        sku: i.sku,
        frontendIPConfigurations: records(i, "frontendIPConfigurations"),
        backendAddressPools: records(i, "backendAddressPools"),
        probes: records(i, "probes"),
        loadBalancingRules: records(i, "loadBalancingRules"),
    };
}

describe("azure entry point (prod)", () => {
    it("is a Standard load balancer with a private frontend and one TCP passthrough rule", () => {
        const lb = loadBalancer();
        assert.deepEqual(lb.sku, { name: "Standard", tier: "Regional" });
        assert.equal(record(lb.frontendIPConfigurations[0], "subnet").id, `${VNET}/subnets/vault`);
        assert.equal(lb.loadBalancingRules.length, 1);
        const rule = lb.loadBalancingRules[0];
        assert.equal(rule.protocol, "Tcp");
        assert.equal(rule.frontendPort, 8200);
        assert.equal(rule.backendPort, 8200);
        const lbId =
            "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg-vault/providers/Microsoft.Network/loadBalancers/bonito-vault-prod-vault-lb";
        assert.deepEqual(
            [rule.frontendIPConfiguration, rule.backendAddressPool, rule.probe],
            [
                { id: `${lbId}/frontendIPConfigurations/vault` },
                { id: `${lbId}/backendAddressPools/vault-nodes` },
                { id: `${lbId}/probes/vault-health` },
            ],
        );
    });

    it("probes over HTTPS on the exact standby-tolerant path", () => {
        const lb = loadBalancer();
        assert.deepEqual(lb.probes, [
            {
                name: "vault-health",
                protocol: "Https",
                port: 8200,
                requestPath: "/v1/sys/health?standbyok=true&perfstandbyok=true",
                intervalInSeconds: 5,
                probeThreshold: 2,
            },
        ]);
    });

    it("its IP-based pool holds exactly the node addresses", () => {
        const lb = loadBalancer();
        assert.deepEqual(
            records(lb.backendAddressPools[0], "loadBalancerBackendAddresses"),
            NODES.map((ip, i) => ({ name: `vault-${i}`, ipAddress: ip, virtualNetwork: { id: VNET } })),
        );
    });

    it("its security group admits exactly the client ranges and the probes", () => {
        const [nsg] = s.run.ofType("azure-native:network:NetworkSecurityGroup");
        const rules = nsg.inputs.securityRules as Record<string, unknown>[];
        assert.deepEqual(
            rules.map((r) => [r.access, r.sourceAddressPrefixes ?? r.sourceAddressPrefix, r.destinationPortRange]),
            [
                ["Allow", ["10.20.0.0/16"], "8200"],
                ["Allow", "AzureLoadBalancer", "8200"],
            ],
        );
        const ep = s.outputs.entryPoint as { pendingSteps: string[] };
        assert.match(ep.pendingSteps[0], /^Associate network security group bonito-vault-prod-vault-entry/);
    });

    it("records the name in the private zone and puts it in every certificate and VAULT_ADDR", () => {
        const [rec] = s.run.ofType("azure-native:privatedns:PrivateRecordSet");
        assert.deepEqual(
            [rec.inputs.privateZoneName, rec.inputs.relativeRecordSetName, rec.inputs.aRecords],
            ["bonito.internal", "vault-api", [{ ipv4Address: "10.0.8.8" }]],
        );
        for (const dns of s.sans) assert.ok(dns.includes(NAME));
        assert.equal(s.backendEnv.VAULT_ADDR, `https://${NAME}:8200`);
        assert.deepEqual(
            s.agentUrls,
            NODES.map((ip) => `https://${ip}:8200`),
        );
    });
});
