/**
 * The entryPoint config area: defaults per stack and cloud, targets, and every refusal with a
 * message naming the key, the value and what is allowed.
 * Proves: what loadConfig returns and refuses. Does not prove: what is declared from it
 * (test/mocks/entryPoint-*.test.ts) or how Vault answers the health path (test/conformance/entrypoint.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../components/config";
import { stackConfig } from "../helpers/mocks";

const IMG = "hashicorp/vault:1.21.1";
const opts = { allowExampleKeys: true };

function load(stack: string, over: Record<string, string | undefined>) {
    return loadConfig(stack, stackConfig(stack, over), new Set(), opts);
}
function problems(stack: string, over: Record<string, string | undefined>): string[] {
    try {
        load(stack, over);
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems.filter((p) => /entryPoint|EntryPoint/.test(p));
    }
    return [];
}

describe("entryPoint defaults", () => {
    it("prod on aws: a load balancer at the service name, targets = entryPointTargets on 8200", () => {
        const ep = load("prod", {}).entryPoint;
        assert.equal(ep.kind, "loadBalancer");
        assert.equal(ep.name, "vault.bonito.internal");
        assert.equal(ep.url, "https://vault.bonito.internal:8200");
        assert.equal(ep.internal, true);
        assert.equal(ep.healthPath, "/v1/sys/health?standbyok=true&perfstandbyok=true");
        assert.deepEqual(
            ep.targets.map((t) => `${t.node}=${t.ip}:${t.port}`),
            ["vault-0=10.0.1.10:8200", "vault-1=10.0.2.10:8200", "vault-2=10.0.3.10:8200"],
        );
        assert.equal(load("prod", {}).backendAddr, "https://vault.bonito.internal:8200");
    });

    it("targets default to nodeAddresses when they are IPv4 addresses", () => {
        const ep = load("prod", {
            nodeAddresses: '["10.1.0.1","10.1.0.2","10.1.0.3"]',
            entryPointTargets: undefined,
        }).entryPoint;
        assert.deepEqual(
            ep.targets.map((t) => t.ip),
            ["10.1.0.1", "10.1.0.2", "10.1.0.3"],
        );
    });

    it("staging (one host): the host's address once, each node on its own published port", () => {
        const ep = load("staging", {}).entryPoint;
        assert.equal(ep.kind, "loadBalancer");
        assert.deepEqual(
            ep.targets.map((t) => `${t.ip}:${t.port}`),
            ["10.0.4.10:8200", "10.0.4.10:8201", "10.0.4.10:8202"],
        );
        assert.equal(ep.url, "https://vault.staging.bonito.internal:8200");
    });

    it("local keeps the Docker alias; another cloud stack defaults to none at the service name", () => {
        const local = loadConfig("local", { "bonito-vault:cloud": "local", "bonito-vault:image": IMG });
        assert.equal(local.entryPoint.kind, "dockerAlias");
        assert.equal(local.backendAddr, "https://vault:8200");
        const dev = loadConfig("dev", { "bonito-vault:cloud": "aws", "bonito-vault:image": IMG });
        assert.equal(dev.entryPoint.kind, "none");
        assert.equal(dev.entryPoint.url, "https://vault:8200");
        assert.deepEqual(dev.entryPoint.targets, []);
    });
});

describe("entryPoint refusals", () => {
    it("prod without a load balancer", () => {
        for (const kind of ["dns", "none"])
            assert.deepEqual(
                problems("prod", { entryPoint: kind }).filter((p) => p.startsWith("bonito-vault:entryPoint ")),
                [
                    `bonito-vault:entryPoint must be loadBalancer on a production stack: clients need one name that keeps answering while any single node is down, and only a health-checked load balancer gives that (got "${kind}")`,
                ],
            );
    });

    it("0.0.0.0/0 unless stated, and no load balancer without an allow-list", () => {
        assert.deepEqual(problems("prod", { entryPointClientCidrs: '["0.0.0.0/0"]' }), [
            "bonito-vault:entryPointClientCidrs lists 0.0.0.0/0, which admits every address; list the clients' ranges, or set entryPointAllowAnyClient: true to state that this is meant (got [0.0.0.0/0])",
        ]);
        assert.deepEqual(
            problems("prod", { entryPointClientCidrs: '["0.0.0.0/0"]', entryPointAllowAnyClient: "true" }),
            [],
        );
        assert.deepEqual(problems("prod", { entryPointClientCidrs: undefined }), [
            "bonito-vault:entryPointClientCidrs is required when entryPoint is loadBalancer: list the source ranges of the clients (the backend's egress), such as [10.20.0.0/16]",
        ]);
        assert.match(
            problems("prod", { entryPointClientCidrs: '["10.0.0.0"]' })[0],
            /every item must be an IPv4 CIDR range/,
        );
    });

    it("targets: required when node addresses are names, one per node", () => {
        assert.match(
            problems("prod", { entryPointTargets: undefined })[0],
            /^bonito-vault:entryPointTargets is required for entryPoint loadBalancer when nodeAddresses are not IPv4 addresses/,
        );
        assert.match(
            problems("prod", { entryPointTargets: '["10.0.0.1"]' })[0],
            /lists 1 addresses but the nodes run on 3 Docker hosts; give one per node/,
        );
    });

    it("cloud keys: the aws VPC and subnets, the gcp instances, the azure subnet", () => {
        assert.deepEqual(problems("prod", { awsEntryPointVpcId: undefined, awsEntryPointSubnetIds: undefined }), [
            "bonito-vault:awsEntryPointVpcId is required when entryPoint is loadBalancer on aws",
            "bonito-vault:awsEntryPointSubnetIds is required when entryPoint is loadBalancer on aws",
        ]);
        const gcp = { cloud: "gcp", gcpProject: "acme-vault" };
        assert.deepEqual(
            problems("prod", {
                ...gcp,
                gcpEntryPointInstances: '["europe-west1-b/vault-0","us-east1-b/vault-1","europe-west1-d/vault-2"]',
            }),
            [
                `bonito-vault:gcpEntryPointInstances spans regions europe-west1, us-east1; a regional passthrough load balancer needs every node in one region (got [europe-west1-b/vault-0, us-east1-b/vault-1, europe-west1-d/vault-2])`,
            ],
        );
        const az = { cloud: "azure", azureLocation: "westeurope", azureResourceGroup: "rg" };
        assert.deepEqual(problems("prod", { ...az, azureEntryPointSubnetId: undefined }), [
            "bonito-vault:azureEntryPointSubnetId is required when entryPoint is loadBalancer on azure",
        ]);
        assert.match(
            problems("prod", { ...az, azureEntryPointDnsZone: "other.example" })[0],
            /must be a parent of entryPointName \(vault.bonito.internal\)/,
        );
    });

    it("a passthrough LB on gcp or azure cannot tell nodes on one host apart; local has no cloud LB", () => {
        assert.match(
            problems("staging", { cloud: "gcp", gcpProject: "acme-vault" }).find((p) =>
                p.startsWith("bonito-vault:entryPoint "),
            )!,
            /loadBalancer on gcp needs one Docker host per node/,
        );
        assert.deepEqual(problems("local", { entryPoint: "loadBalancer" }), [
            'bonito-vault:entryPoint cannot be loadBalancer or dns on cloud local (no cloud to create it in): the Docker alias serviceName and the published ports are the way in (got "loadBalancer")',
        ]);
        assert.match(
            problems("prod", { entryPoint: "sideways" })[0],
            /^bonito-vault:entryPoint must be one of loadBalancer, dns, none/,
        );
    });
});
