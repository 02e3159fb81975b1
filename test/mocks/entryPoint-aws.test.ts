/**
 * The aws entry point under mocks: the committed prod stack with IPv4 nodeAddresses (so the
 * targets default to them) and an entryPointName other than serviceName.
 * Proves: an internal NLB with a TCP listener (TLS passes through), IP targets equal to
 * nodeAddresses on the published port, the HTTPS health check on exactly
 * /v1/sys/health?standbyok=true&perfstandbyok=true (matcher 200), a security group admitting
 * exactly entryPointClientCidrs on that port, a Route 53 alias for the name; the name in every node
 * certificate, in vaultAddr and in the backend's VAULT_ADDR; the snapshot agent and Pulumi's admin
 * address still on the nodes. Does not prove: that AWS accepts these inputs or routes traffic
 * (only a real account can); the real-server tier proves what the health path returns.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { buildStack, type BuiltStack } from "../helpers/entryPoint";

const NODES = ["10.0.1.10", "10.0.2.10", "10.0.3.10"];
const NAME = "vault.api.bonito.internal";
let s: BuiltStack;

before(async () => {
    s = await buildStack("prod", {
        nodeAddresses: JSON.stringify(NODES),
        entryPointTargets: undefined,
        entryPointName: NAME,
        entryPointClientCidrs: JSON.stringify(["10.20.0.0/16", "10.30.4.0/24"]),
    });
});

describe("aws entry point (prod)", () => {
    it("is an internal network load balancer with one TCP listener on the published port", () => {
        const [nlb] = s.run.ofType("aws:lb/loadBalancer:LoadBalancer");
        assert.equal(nlb.inputs.loadBalancerType, "network");
        assert.equal(nlb.inputs.internal, true);
        assert.deepEqual(nlb.inputs.subnets, [
            "subnet-0a1b2c3d4e5f60711",
            "subnet-0a1b2c3d4e5f60722",
            "subnet-0a1b2c3d4e5f60733",
        ]);
        const listeners = s.run.ofType("aws:lb/listener:Listener");
        assert.equal(listeners.length, 1);
        assert.equal(listeners[0].inputs.protocol, "TCP");
        assert.equal(listeners[0].inputs.port, 8200);
        assert.equal(listeners[0].inputs.certificateArn, undefined);
    });

    it("health-checks every node over HTTPS on the exact standby-tolerant path", () => {
        const [tg] = s.run.ofType("aws:lb/targetGroup:TargetGroup");
        assert.equal(tg.inputs.targetType, "ip");
        assert.equal(tg.inputs.protocol, "TCP");
        assert.equal(tg.inputs.vpcId, "vpc-0a1b2c3d4e5f60718");
        assert.deepEqual(tg.inputs.healthCheck, {
            enabled: true,
            protocol: "HTTPS",
            path: "/v1/sys/health?standbyok=true&perfstandbyok=true",
            port: "traffic-port",
            matcher: "200",
            interval: 10,
            timeout: 5,
            healthyThreshold: 2,
            unhealthyThreshold: 2,
        });
    });

    it("targets exactly the node addresses, each on its published API port", () => {
        const attachments = s.run.ofType("aws:lb/targetGroupAttachment:TargetGroupAttachment");
        assert.deepEqual(
            attachments.map((a) => [a.inputs.targetId, a.inputs.port]),
            NODES.map((ip) => [ip, 8200]),
        );
    });

    it("admits exactly the configured client ranges, and sends only to the nodes", () => {
        const ingress = s.run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
        assert.deepEqual(
            ingress.map((r) => [r.inputs.cidrIpv4, r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort]),
            [
                ["10.20.0.0/16", "tcp", 8200, 8200],
                ["10.30.4.0/24", "tcp", 8200, 8200],
            ],
        );
        const egress = s.run.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
        assert.deepEqual(
            egress.map((r) => r.inputs.cidrIpv4),
            NODES.map((ip) => `${ip}/32`),
        );
        const [nlb] = s.run.ofType("aws:lb/loadBalancer:LoadBalancer");
        assert.deepEqual(nlb.inputs.securityGroups, [s.run.ofType("aws:ec2/securityGroup:SecurityGroup")[0].id]);
    });

    it("points the name at the NLB in the given Route 53 zone", () => {
        const [rec] = s.run.ofType("aws:route53/record:Record");
        assert.equal(rec.inputs.zoneId, "Z0123456789EXAMPLE0");
        assert.equal(rec.inputs.name, NAME);
        assert.equal(rec.inputs.type, "A");
        assert.deepEqual(rec.inputs.aliases, [
            {
                name: "bonito-vault-prod-vault-0123456789.elb.us-east-1.amazonaws.com",
                zoneId: "Z26RNL4JYFTOTI",
                evaluateTargetHealth: true,
            },
        ]);
    });

    it("puts the name in every node certificate, vaultAddr and the backend's VAULT_ADDR", () => {
        assert.equal(s.sans.length, 3);
        for (const dns of s.sans) assert.ok(dns.includes(NAME), JSON.stringify(dns));
        assert.equal(s.outputs.vaultAddr, `https://${NAME}:8200`);
        assert.equal(s.backendEnv.VAULT_ADDR, `https://${NAME}:8200`);
        const ep = s.outputs.entryPoint as Record<string, unknown>;
        assert.equal(ep.kind, "loadBalancer");
        assert.equal(ep.name, NAME);
        assert.deepEqual(
            ep.targets,
            NODES.map((ip) => `${ip}:8200`),
        );
        assert.equal((ep.pendingSteps as string[]).length, 1, "only the host security-group rule is left");
    });

    it("keeps the snapshot agent and Pulumi's admin calls on the nodes, not the entry point", () => {
        assert.deepEqual(
            s.agentUrls,
            NODES.map((ip) => `https://${ip}:8200`),
        );
        assert.ok(!s.adminAddr.includes(NAME), s.adminAddr);
    });
});
