/**
 * The rolling-change gate (components/nodeReady.ts) as plain functions, with a fake transport and a
 * fake clock; and its provider serialised as the engine serialises it, over a loopback socket.
 * Proves: which sys/health answers let the next node be replaced (active, or a standby connected to
 * the active node, for the whole stabilization time), which make it wait (sealed, unreachable, a
 * standby without its HA connection, uninitialised while others are initialised), which stop the
 * change (removed from the cluster, the timeout), and that a first deployment passes at once; the
 * exact messages, also after serialisation.
 * Does not prove: that Vault 1.21.1 answers sys/health this way during a real restart: the
 * real-server tier runs this gate against a restarted node ("2c. rolling change").
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { judgeHealth, nodeReadyProvider, waitForNode, type NodeReadyInputs } from "../../components/nodeReady";
import type { HttpResponse, Transport } from "../../components/vault/http";
import { startHttpVault, type HttpVault } from "../helpers/httpVault";

const ACTIVE = { status: 200, body: { initialized: true, sealed: false, standby: false } };
const STANDBY = {
    status: 429,
    body: { initialized: true, sealed: false, standby: true, ha_connection_healthy: true },
};
const SEALED = { status: 503, body: { initialized: true, sealed: true, standby: true } };
const UNINIT = { status: 501, body: { initialized: false, sealed: true, standby: true } };
const LONELY = { status: 474, body: { initialized: true, sealed: false, standby: true, ha_connection_healthy: false } };
const REMOVED = { status: 530, body: { initialized: true, sealed: false, removed_from_cluster: true } };

/** A transport that plays answers in order (the last one repeats); an Error entry is a network failure. */
function script(...answers: (HttpResponse | Error)[]): Transport & { calls: number } {
    const t = Object.assign(
        async (): Promise<HttpResponse> => {
            const a = answers[Math.min(t.calls, answers.length - 1)];
            t.calls++;
            if (a instanceof Error) throw a;
            return a;
        },
        { calls: 0 },
    );
    return t;
}

/** A fake clock: sleeping advances it. */
function clock() {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

const gate = { node: "vault-1", timeoutSeconds: 60, settleSeconds: 10 };

describe("judgeHealth", () => {
    it("active and connected standbys are ready; sealed, unreachable and lonely standbys wait", () => {
        assert.deepEqual(judgeHealth(ACTIVE), { state: "ready", reason: "is the active node" });
        assert.deepEqual(judgeHealth(STANDBY), {
            state: "ready",
            reason: "is an unsealed standby connected to the active node",
        });
        assert.equal(judgeHealth(SEALED).state, "wait");
        assert.equal(judgeHealth(LONELY).reason, "is a standby without a connection to the active node");
        assert.equal(judgeHealth(new Error("connect ECONNREFUSED")).reason, "is not answering (connect ECONNREFUSED)");
        assert.equal(judgeHealth(UNINIT).state, "uninitialised");
        assert.equal(judgeHealth({ status: 500, body: {} }).reason, "answers sys/health with HTTP 500");
    });
    it("a node removed from the Raft cluster stops the change", () => {
        const v = judgeHealth(REMOVED);
        assert.equal(v.state, "fatal");
        assert.match(v.reason, /removed from the Raft cluster/);
    });
});

describe("waitForNode", () => {
    it("first deployment: the node and every peer are uninitialised or absent, so it passes at once", async () => {
        const c = clock();
        const why = await waitForNode(gate, script(UNINIT), [script(new Error("ECONNREFUSED")), script(UNINIT)], c);
        assert.equal(why, "the cluster is not initialised yet: there is no availability to keep");
        assert.equal(c.now(), 0);
    });

    it("a replaced node: waits through not answering and sealed, then for the stabilization time", async () => {
        const c = clock();
        const node = script(new Error("ECONNREFUSED"), SEALED, SEALED, STANDBY);
        const why = await waitForNode(gate, node, [script(ACTIVE)], { ...c, pollMs: 1000 });
        assert.equal(why, "it is an unsealed standby connected to the active node");
        // ready seen at t=3 s, passed once 10 s of readiness were seen (t=13 s)
        assert.equal(c.now(), 13000);
    });

    it("readiness that flaps starts the stabilization time again", async () => {
        const c = clock();
        const node = script(STANDBY, STANDBY, LONELY, STANDBY);
        await waitForNode({ ...gate, settleSeconds: 5 }, node, [], { ...c, pollMs: 1000 });
        // ready from 0-1 s, lonely at 2 s, ready again from 3 s: passes at 8 s
        assert.equal(c.now(), 8000);
    });

    it("an uninitialised node while a peer is initialised waits (it has to join), it does not pass", async () => {
        const c = clock();
        const node = script(UNINIT, UNINIT, ACTIVE);
        const why = await waitForNode({ ...gate, settleSeconds: 0 }, node, [script(STANDBY)], {
            ...c,
            pollMs: 1000,
        });
        assert.equal(why, "it is the active node");
        assert.equal(c.now(), 2000);
    });

    it("gives up after timeoutSeconds with what it saw last, and says the later nodes were not touched", async () => {
        const c = clock();
        await assert.rejects(waitForNode({ ...gate, timeoutSeconds: 30 }, script(SEALED), [script(ACTIVE)], c), {
            name: "BootstrapError",
            message:
                "Rolling change stopped at node vault-1: after 30 s it is sealed: waiting for auto-unseal (is the unseal key reachable from the node?). " +
                "The nodes after it were not changed, so the cluster keeps its quorum. Look at the node's log " +
                "(`docker logs <container>`), fix the cause, and run `pulumi up` again; rollingNodeTimeout sets the wait.",
        });
        assert.equal(c.now(), 30000);
    });

    it("stops at once for a node removed from the cluster", async () => {
        await assert.rejects(waitForNode(gate, script(REMOVED), [script(ACTIVE)], clock()), {
            message: /^Rolling change stopped at node vault-1: it was removed from the Raft cluster/,
        });
    });
});

describe("the serialised provider, as the engine runs it", () => {
    const requireFromString = createRequire(require.resolve("@pulumi/pulumi/package.json"))("require-from-string") as (
        code: string,
    ) => { handler(): Required<pulumi.dynamic.ResourceProvider<NodeReadyInputs>> };
    let vault: HttpVault;
    let provider: Required<pulumi.dynamic.ResourceProvider<NodeReadyInputs>>;
    before(async () => {
        vault = await startHttpVault();
        const sf = await pulumi.runtime.serializeFunction(() => nodeReadyProvider, { allowSecrets: true });
        provider = requireFromString(sf.text).handler();
    });
    after(() => vault.close());
    const inputs = (): NodeReadyInputs => ({
        node: "vault-2",
        addr: vault.addr,
        peers: [],
        caCert: "",
        tlsServerName: "vault",
        containerId: "c1",
        timeoutSeconds: 60,
        settleSeconds: 0,
    });

    it("passes a ready node and records why", async () => {
        vault.routes = { "GET sys/health": STANDBY };
        const r = await provider.create(inputs());
        assert.equal(r.id, "node-ready-vault-2");
        assert.equal(r.outs.passedBecause, "it is an unsealed standby connected to the active node");
    });

    it("reports a refusal with its exact text", async () => {
        vault.routes = { "GET sys/health": REMOVED };
        await assert.rejects(provider.update("node-ready-vault-2", inputs(), { ...inputs(), containerId: "c2" }), {
            message:
                "Rolling change stopped at node vault-2: it was removed from the Raft cluster (autopilot dead-server cleanup or " +
                "`vault operator raft remove-peer`) and will not rejoin on its own; " +
                'see docs/runbook.md "A node was removed from the cluster".',
        });
    });

    it("a new container is an update (wait again), never a replacement", async () => {
        const d = await provider.diff("node-ready-vault-2", inputs(), { ...inputs(), containerId: "c2" });
        assert.deepEqual(d, { changes: true, replaces: [], deleteBeforeReplace: false });
        const same = await provider.diff("node-ready-vault-2", inputs(), inputs());
        assert.equal(same.changes, false);
    });
});
