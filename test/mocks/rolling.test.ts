/**
 * Rolling changes under Pulumi's mock runtime: the committed prod stack (3 nodes on 3 hosts).
 * Proves: node i+1's container declares a dependency on node i's NodeReady gate; the gate watches
 * node i's container id (a replaced container means a new wait), at the address Pulumi reaches that
 * node, with the cluster CA, the admin TLS name, rollingNodeTimeout and autopilot's stabilization
 * time; the settings wait for the last gate; and the engine, when each gate takes time (as a real
 * wait does), registers node i+1's container only after node i's gate is done, so one node at a
 * time is replaced.
 * Does not prove: that the real engine replaces a delete-before-replace container in that order
 * (it registers, and so steps, a resource only once its dependencies' registrations have finished,
 * which is what the SDK does here too), nor that Vault answers the gate as expected: the
 * real-server tier restarts nodes and runs the gate against them ("2c. rolling change").
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { optionRecorder, setupMocks, stackConfig, valueOf, type MockTiming } from "../helpers/mocks";

const GATE_TYPE = "pulumi-nodejs:dynamic/bonito:NodeReady";
const timing: Required<MockTiming> = {
    events: [],
    // A gate that waits 150 ms, as a real one waits for its node.
    delayMs: (type) => (type === GATE_TYPE ? 150 : 0),
};
const run = setupMocks("prod", stackConfig("prod"), [], timing);
const recorder = optionRecorder();
let built: { platform: import("../../components/vaultPlatform").VaultPlatform };

before(async () => {
    const { buildProgram } = await import("../../program");
    built = buildProgram(undefined, { transformations: recorder.transformations }, { allowExampleKeys: true });
    await Promise.all(built.platform.cluster.ready.map((g) => valueOf(g.urn)));
    await Promise.all(
        Object.values(built.platform.settings).map((o) => (pulumi.Output.isInstance(o) ? valueOf(o) : o)),
    );
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
});

const containerName = (i: number) => `bonito-vault-raft-vault-${i}`;
const gateName = (i: number) => `bonito-vault-raft-vault-${i}-ready`;

describe("rolling change: one node at a time (prod under mocks)", () => {
    it("node i+1's container depends on node i's gate; node 0's on nothing of the cluster", () => {
        const gates = built.platform.cluster.ready;
        assert.equal(gates.length, 3);
        const deps = (i: number) => (recorder.opts.get(containerName(i))?.dependsOn ?? []) as pulumi.Resource[];
        assert.ok(!deps(0).some((d) => gates.some((g) => g === d)), "node 0 waits for no gate");
        assert.ok(deps(1).includes(gates[0]), "node 1 waits for node 0's gate");
        assert.ok(deps(2).includes(gates[1]), "node 2 waits for node 1's gate");
        for (let i = 0; i < 3; i++)
            assert.equal(
                (recorder.opts.get(containerName(i)) as pulumi.CustomResourceOptions).deleteBeforeReplace,
                true,
            );
    });

    it("each gate watches its own container at the address Pulumi reaches that node (its Docker host's name on prod)", () => {
        for (let i = 0; i < 3; i++) {
            const g = run.byName(gateName(i)).inputs;
            assert.equal(g.containerId, `${containerName(i)}-id`);
            assert.equal(g.node, `vault-${i}`);
            assert.equal(g.addr, `https://vault-${i}.bonito.internal:8200`);
            assert.deepEqual(
                g.peers,
                [0, 1, 2].filter((j) => j !== i).map((j) => `https://vault-${j}.bonito.internal:8200`),
            );
            assert.equal(g.tlsServerName, "vault.bonito.internal");
            assert.match(String(g.caCert), /^-----BEGIN CERTIFICATE-----/);
            assert.equal(g.timeoutSeconds, 600);
            assert.equal(g.settleSeconds, 10);
        }
    });

    it("the settings (init, hand-over, everything after) wait for every gate", () => {
        const deps = (recorder.opts.get("bonito-vault-settings-init")?.dependsOn ?? []) as pulumi.Resource[];
        for (const g of built.platform.cluster.ready) assert.ok(deps.includes(g));
    });

    it("the engine registers node i+1's container only after node i's gate is done", () => {
        const at = (kind: "registered" | "done", name: string) => {
            const i = timing.events.findIndex((e) => e.at === kind && e.name === name);
            assert.ok(i >= 0, `${kind} ${name} seen`);
            return i;
        };
        for (let i = 0; i < 2; i++) {
            assert.ok(at("registered", gateName(i)) > at("done", containerName(i)), `gate ${i} after container ${i}`);
            assert.ok(
                at("registered", containerName(i + 1)) > at("done", gateName(i)),
                `container ${i + 1} after gate ${i}`,
            );
        }
    });
});
