/**
 * BackupBucket on local under Pulumi mocks: a persistent Docker volume on targets[0], mounted by
 * the agent. Proves: the volume, its mount and that no cloud SDK resource is declared. Does not
 * prove write-once: a local volume is not.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { setupMocks, settle, valueOf, type MockRun } from "../helpers/mocks";
import { loadConfig } from "../../components/config";
import { planPlatform } from "../../components/plan";

const raw = { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" };
let run: MockRun;
let url: string;
let volumes: unknown;
let hasUploader: boolean;
let agentConfig: string;

before(async () => {
    run = setupMocks("staging", raw);
    const docker = await import("@pulumi/docker");
    const { BackupBucket } = await import("../../components/backup/backupBucket");
    const { SnapshotAgent } = await import("../../components/backup/snapshotAgent");
    const config = loadConfig("staging", raw);
    const target = {
        provider: undefined,
        network: new docker.Network("net", { name: "bonito-vault" }),
        host: "default",
    };
    const bucket = new BackupBucket("backup", { ...planPlatform(config).backup, target });
    const agent = new SnapshotAgent("snapshots", {
        ...planPlatform(config).snapshots,
        target,
        delivery: bucket.delivery,
        roleId: "r",
        secretId: "s",
        caCert: "CA",
    });
    await settle(bucket, agent, agent.container);
    url = await valueOf(bucket.url);
    volumes = await valueOf(agent.container.volumes);
    agentConfig = await valueOf(agent.agentConfig);
    hasUploader = agent.uploader !== undefined || agent.uploaderConfig !== undefined;
});

describe("local backup volume", () => {
    it("one named volume, mounted at /snapshots in the agent", () => {
        assert.deepStrictEqual(
            run.ofType("docker:index/volume:Volume").map((v) => v.inputs),
            [{ name: "bonito-vault-staging-snapshots" }],
        );
        assert.deepStrictEqual(volumes, [
            { volumeName: "bonito-vault-staging-snapshots", containerPath: "/snapshots" },
        ]);
        assert.equal(url, "docker-volume://default/bonito-vault-staging-snapshots");
    });

    it("no uploader and no spool: the agent writes to the volume itself", () => {
        assert.equal(hasUploader, false);
        assert.equal(run.ofType("docker:index/container:Container").length, 1);
        assert.equal(JSON.parse(agentConfig).snapshots.retain, 7);
    });

    it("declares no cloud resource and does not load a cloud SDK", () => {
        assert.deepStrictEqual(
            run.resources.filter((r) => !r.type.startsWith("docker:") && !r.type.startsWith("bonito:")),
            [],
        );
        for (const sdk of ["@pulumi/aws", "@pulumi/gcp", "@pulumi/azure-native"])
            assert.ok(
                !Object.keys(require.cache).some((k) => k.includes(`${sdk.replace("/", "/")}/`)),
                `${sdk} not loaded`,
            );
    });
});
