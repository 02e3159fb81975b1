/**
 * Rolling changes under Pulumi's mock runtime: the committed prod stack (3 nodes on 3 hosts), with
 * the active node found at run time standing in as vault-0 (the first in node order, so node order
 * and the upgrade guide's order differ).
 * Proves: the chain follows the run-time order (standbys vault-1, vault-2, then the active vault-0):
 * each node's turn gate depends on the ready gate of the node before it in that order, its container
 * on its turn gate and on the check before the roll; the gates watch the right container at the
 * address Pulumi reaches that node, with the cluster CA, the admin TLS name, rollingNodeTimeout,
 * autopilot's stabilization time, the version the image names and the rolling identity (a secret);
 * the check reads every node's container spec; the settings declare the rolling AppRole with the
 * identity's own IDs; and the engine, when each gate takes time (as a real wait does), registers each
 * container only after the gate before it in that order is done.
 * Does not prove: that the real engine replaces a delete-before-replace container in that order
 * (it registers, and so steps, a resource only once its dependencies' registrations have finished,
 * which is what the SDK does here too), nor what Vault answers the gates: the real-server tier rolls
 * a cluster from Vault 1.20.4 to 1.21.1 through the same serialised gates (test/conformance/upgrade.test.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { optionRecorder, setupMocks, stackConfig, valueOf, type MockTiming } from "../helpers/mocks";
import { setActiveNodeDiscovery } from "../../components/rolling";

const GATE_TYPES = ["NodeReady", "NodeTurn", "RollCheck"].map((k) => `pulumi-nodejs:dynamic/bonito:${k}`);
const timing: Required<MockTiming> = {
    events: [],
    // A gate that waits 150 ms, as a real one waits for its node.
    delayMs: (type) => (GATE_TYPES.includes(type) ? 150 : 0),
};
const run = setupMocks("prod", stackConfig("prod"), [], timing);
const recorder = optionRecorder();
let built: { platform: import("../../components/vaultPlatform").VaultPlatform };
const asked: string[][] = [];

before(async () => {
    setActiveNodeDiscovery(async (nodes, ca) => {
        asked.push([...nodes.map((n) => n.addr), ca.slice(0, 27)]);
        return "vault-0";
    });
    const { buildProgram } = await import("../../program");
    built = buildProgram(undefined, { transformations: recorder.transformations }, { allowExampleKeys: true });
    await Promise.all(built.platform.cluster.ready.map((g) => valueOf(g.urn)));
    await Promise.all(
        Object.values(built.platform.settings).map((o) => (pulumi.Output.isInstance(o) ? valueOf(o) : o)),
    );
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
});
after(() => setActiveNodeDiscovery(undefined));

const containerName = (n: string) => `bonito-vault-raft-${n}`;
const gateName = (n: string) => `bonito-vault-raft-${n}-ready`;
const turnName = (n: string) => `bonito-vault-raft-${n}-turn`;
const ORDER = ["vault-1", "vault-2", "vault-0"];
const depsOf = async (name: string): Promise<pulumi.Resource[]> => {
    // A promise (the order is known at run time), or an Output once the SDK has merged options.
    const d = recorder.opts.get(name)?.dependsOn;
    const v: unknown = pulumi.Output.isInstance(d) ? await valueOf(d as pulumi.Output<unknown>) : await d;
    return (Array.isArray(v) ? v : v ? [v] : []) as pulumi.Resource[];
};

describe("rolling change: standbys first, the active node last (prod under mocks)", () => {
    it("the order is asked of every node's address with the cluster CA, and is standbys first, active last", async () => {
        assert.deepEqual(await built.platform.cluster.rollOrder, ORDER);
        assert.deepEqual(asked, [
            [
                "https://vault-0.bonito.internal:8200",
                "https://vault-1.bonito.internal:8200",
                "https://vault-2.bonito.internal:8200",
                "-----BEGIN CERTIFICATE-----",
            ],
        ]);
    });

    it("each turn gate waits for the ready gate of the node before it in that order; each container for its turn and the check", async () => {
        const { ready, turns, rollCheck } = built.platform.cluster;
        const byNode = (list: pulumi.Resource[], n: string) => list[Number(n.slice(-1))];
        assert.deepEqual(await depsOf(turnName("vault-1")), [], "the first standby waits for no node");
        assert.deepEqual(await depsOf(turnName("vault-2")), [byNode(ready, "vault-1")]);
        assert.deepEqual(await depsOf(turnName("vault-0")), [byNode(ready, "vault-2")]);
        for (const n of ORDER) {
            const deps = await depsOf(containerName(n));
            assert.ok(deps.includes(byNode(turns, n)), `${n}'s container waits for its turn`);
            assert.ok(deps.includes(rollCheck), `${n}'s container waits for the check before the roll`);
            assert.equal(
                (recorder.opts.get(containerName(n)) as pulumi.CustomResourceOptions).deleteBeforeReplace,
                true,
            );
        }
    });

    it("each ready gate watches its own container at the address Pulumi reaches that node, with the rolling identity", () => {
        for (let i = 0; i < 3; i++) {
            const g = run.byName(gateName(`vault-${i}`));
            assert.equal(g.inputs.containerId, `${containerName(`vault-${i}`)}-id`);
            assert.equal(g.inputs.node, `vault-${i}`);
            assert.equal(g.inputs.addr, `https://vault-${i}.bonito.internal:8200`);
            assert.deepEqual(
                g.inputs.peers,
                [0, 1, 2].filter((j) => j !== i).map((j) => `https://vault-${j}.bonito.internal:8200`),
            );
            assert.equal(g.inputs.tlsServerName, "vault.bonito.internal");
            assert.match(String(g.inputs.caCert), /^-----BEGIN CERTIFICATE-----/);
            assert.equal(g.inputs.timeoutSeconds, 600);
            assert.equal(g.inputs.settleSeconds, 10);
            assert.equal(g.inputs.targetVersion, "1.21.1", "the version hashicorp/vault:1.21.1 names");
            const cred = g.inputs.credential as Record<string, string>;
            assert.equal(cred.mount, "approle");
            assert.equal(cred.roleId, "mock-rolling-role-id", "the RollCredential's own IDs");
            assert.equal(cred.secretId, "mock-rolling-secret-id");
            assert.equal(g.inputs.failureToleranceBefore, 1, "the check's failure tolerance before the roll");
            // Pulumi's secret signature on the raw input: the credential is stored encrypted.
            const raw = (g.rawInputs as Record<string, unknown>).credential;
            assert.ok(JSON.stringify(raw).includes("1b47061264138c4ac30d75fd1eb44270"), "credential is a secret");
        }
    });

    it("each turn gate knows its node, every peer, and its container's spec; the check every spec", () => {
        const specs: string[] = [];
        for (let i = 0; i < 3; i++) {
            const t = run.byName(turnName(`vault-${i}`)).inputs;
            assert.equal(t.node, `vault-${i}`);
            assert.deepEqual(
                (t.peers as { name: string }[]).map((p) => p.name),
                [0, 1, 2].filter((j) => j !== i).map((j) => `vault-${j}`),
            );
            assert.match(String(t.spec), /^[0-9a-f]{64}$/);
            assert.equal(t.targetVersion, "1.21.1");
            specs.push(String(t.spec));
        }
        assert.equal(new Set(specs).size, 3, "each node's container differs (name, config, certificate)");
        const c = run.byName("bonito-vault-raft-roll-check").inputs;
        assert.deepEqual(c.specs, specs);
        assert.equal(c.allowDowngrade, false);
        assert.deepEqual(
            (c.nodes as { name: string }[]).map((n) => n.name),
            ["vault-0", "vault-1", "vault-2"],
        );
    });

    it("the settings declare the rolling AppRole with the identity's IDs, and its policy: autopilot state and step-down only", () => {
        const gate = run.byName(gateName("vault-0")).inputs.credential as Record<string, string>;
        const role = run.byName("bonito-vault-settings-role-bonito-rolling").inputs;
        assert.equal(role.roleId, gate.roleId);
        assert.deepEqual(role.tokenPolicies, ["bonito-rolling"]);
        assert.equal(role.bindSecretId, true);
        assert.equal(role.tokenMaxTtl, 3600);
        const secret = run.byName("bonito-vault-settings-secret-id-bonito-rolling").inputs;
        assert.equal(secret.secretId, gate.secretId);
        const policy = JSON.parse(String(run.byName("bonito-vault-settings-policy-bonito-rolling").inputs.policy));
        assert.deepEqual(policy, {
            path: {
                "sys/storage/raft/autopilot/state": { capabilities: ["read"] },
                "sys/step-down": { capabilities: ["update", "sudo"] },
            },
        });
    });

    it("the settings (init, hand-over, everything after) wait for every gate", () => {
        const deps = (recorder.opts.get("bonito-vault-settings-init")?.dependsOn ?? []) as pulumi.Resource[];
        for (const g of built.platform.cluster.ready) assert.ok(deps.includes(g));
    });

    it("the engine registers each container only after the gate before it in the run-time order is done", () => {
        const at = (kind: "registered" | "done", name: string) => {
            const i = timing.events.findIndex((e) => e.at === kind && e.name === name);
            assert.ok(i >= 0, `${kind} ${name} seen`);
            return i;
        };
        for (const n of ORDER) {
            assert.ok(at("registered", containerName(n)) > at("done", "bonito-vault-raft-roll-check"));
            assert.ok(at("registered", containerName(n)) > at("done", turnName(n)), `${n} after its turn`);
            assert.ok(at("registered", gateName(n)) > at("done", containerName(n)), `gate ${n} after its container`);
        }
        for (let k = 1; k < ORDER.length; k++)
            assert.ok(
                at("registered", turnName(ORDER[k])) > at("done", gateName(ORDER[k - 1])),
                `${ORDER[k]}'s turn after ${ORDER[k - 1]}'s gate`,
            );
    });
});
