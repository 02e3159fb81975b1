/**
 * Rolling changes: one Vault node at a time.
 *
 * Every node container has a fixed name, so Docker replaces it delete-before-replace. Without an
 * order, a new image, certificate or config would replace all of them at once: a full outage and a
 * cold start. RaftCluster chains the nodes instead: node i+1's container depends on {@link NodeReady}
 * of node i, and the engine registers (and so replaces) node i+1 only after node i's gate is done.
 *
 * The gate waits, from where Pulumi runs, until the node answers `sys/health` as an initialised,
 * unsealed node that is either the active node or a standby with a healthy connection to the active
 * node, and stays so for autopilot's server stabilization time. It is unauthenticated on purpose:
 * Pulumi's admin token is issued after the containers exist, so a gate that needed it would make the
 * containers depend on themselves. What it therefore does not see is autopilot's own verdict (log
 * index lag), which needs a token; a node that is unsealed and connected to the leader is a voter
 * again (its Raft identity lives on the retained data volume) and catches up in the background.
 *
 * On the very first `pulumi up` nothing is initialised yet: a node that reports "not initialised"
 * while no other node reports "initialised" passes at once (there is no availability to keep).
 *
 * The wait logic is plain functions with the transport passed in: the dynamic provider below
 * serialises them, the unit tests drive them with a fake, the real-server tier with Vault 1.21.1.
 */
import { DYNAMIC_MODULE } from "./dynamicResource";
import * as pulumi from "@pulumi/pulumi";
import { bootstrapError } from "./settings/bootstrap";
import { nodeTransport, type HttpResponse, type Transport } from "./vault/http";

export interface NodeReadyInputs {
    /** The node's name, for messages. */
    node: string;
    /** How Pulumi reaches this node's API. */
    addr: string;
    /** How Pulumi reaches the other nodes (to tell a first deployment from a node that lost its data). */
    peers: string[];
    /** PEM of the cluster CA; "" when TLS terminates at a trusted proxy. */
    caCert: string;
    /** A SAN of every node certificate. */
    tlsServerName: string;
    /** The container this gate watches: a new container means a new wait. */
    containerId: string;
    timeoutSeconds: number;
    /** How long the node must stay ready before the next node is touched (autopilot's stabilization time). */
    settleSeconds: number;
}

export interface NodeReadyState extends NodeReadyInputs {
    /** Why the gate passed, in words (no values). */
    passedBecause: string;
}

export type Verdict =
    | { state: "ready"; reason: string }
    | { state: "uninitialised"; reason: string }
    | { state: "wait"; reason: string }
    | { state: "fatal"; reason: string };

/** One `GET sys/health` answer (or the error instead of one), judged. */
export function judgeHealth(res: HttpResponse | Error): Verdict {
    if (res instanceof Error) return { state: "wait", reason: `is not answering (${res.message})` };
    const b = (res.body ?? {}) as Record<string, unknown>;
    if (b.removed_from_cluster === true || res.status === 530)
        return {
            state: "fatal",
            reason:
                "was removed from the Raft cluster (autopilot dead-server cleanup or `vault operator raft remove-peer`) and will not rejoin on its own; " +
                'see docs/runbook.md "A node was removed from the cluster"',
        };
    if (res.status === 501 || b.initialized === false)
        return { state: "uninitialised", reason: "answers but is not initialised" };
    if (res.status === 503 || b.sealed === true)
        return {
            state: "wait",
            reason: "is sealed: waiting for auto-unseal (is the unseal key reachable from the node?)",
        };
    if (res.status === 474 || (b.standby === true && b.ha_connection_healthy === false))
        return { state: "wait", reason: "is a standby without a connection to the active node" };
    if (res.status === 200) return { state: "ready", reason: "is the active node" };
    if (res.status === 429) return { state: "ready", reason: "is an unsealed standby connected to the active node" };
    return { state: "wait", reason: `answers sys/health with HTTP ${res.status}` };
}

export interface WaitOptions {
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
    pollMs?: number;
    log?: (line: string) => void;
}

async function probe(t: Transport): Promise<HttpResponse | Error> {
    try {
        return await t({ method: "GET", path: "sys/health" });
    } catch (e) {
        return e instanceof Error ? e : new Error(String(e));
    }
}

/**
 * Wait until `node` is ready (see the file comment); resolve with why it passed, or throw a
 * message that says which node stopped the rolling change and what was last seen.
 */
export async function waitForNode(
    inputs: Pick<NodeReadyInputs, "node" | "timeoutSeconds" | "settleSeconds">,
    node: Transport,
    peers: Transport[],
    opts: WaitOptions = {},
): Promise<string> {
    const now = opts.now ?? (() => Date.now());
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const pollMs = opts.pollMs ?? 2000;
    const deadline = now() + inputs.timeoutSeconds * 1000;
    let readySince: number | undefined;
    let last = "was not asked yet";
    for (;;) {
        const verdict = judgeHealth(await probe(node));
        last = verdict.reason;
        if (verdict.state === "fatal")
            throw bootstrapError(`Rolling change stopped at node ${inputs.node}: it ${last}.`);
        if (verdict.state === "uninitialised") {
            const answers = await Promise.all(peers.map(probe));
            const initialised = answers.some((a) => !(a instanceof Error) && judgeHealth(a).state !== "uninitialised");
            if (!initialised) return "the cluster is not initialised yet: there is no availability to keep";
            last = "is not initialised while other nodes are: waiting for it to join the cluster (retry_join)";
        }
        if (verdict.state === "ready") {
            readySince ??= now();
            if (now() - readySince >= inputs.settleSeconds * 1000) return `it ${verdict.reason}`;
        } else {
            readySince = undefined;
        }
        if (now() >= deadline)
            throw bootstrapError(
                `Rolling change stopped at node ${inputs.node}: after ${inputs.timeoutSeconds} s it ${last}. ` +
                    "The nodes after it were not changed, so the cluster keeps its quorum. Look at the node's log " +
                    "(`docker logs <container>`), fix the cause, and run `pulumi up` again; rollingNodeTimeout sets the wait.",
            );
        opts.log?.(`node ${inputs.node} ${last}`);
        await sleep(pollMs);
    }
}

function transportFor(inputs: NodeReadyInputs, addr: string): Transport {
    return nodeTransport({ addr, caCert: inputs.caCert, tlsServerName: inputs.tlsServerName }, 5000);
}

async function gate(inputs: NodeReadyInputs): Promise<NodeReadyState> {
    const passedBecause = await waitForNode(
        inputs,
        transportFor(inputs, inputs.addr),
        inputs.peers.map((p) => transportFor(inputs, p)),
    );
    return { ...inputs, passedBecause };
}

export const nodeReadyProvider: pulumi.dynamic.ResourceProvider<NodeReadyInputs, NodeReadyState> = {
    async create(inputs) {
        return { id: `node-ready-${inputs.node}`, outs: await gate(inputs) };
    },
    async diff(_id, olds, news) {
        // Any change (a new container above all) means: wait again. Never a replacement.
        const keys = [
            "addr",
            "peers",
            "caCert",
            "tlsServerName",
            "containerId",
            "timeoutSeconds",
            "settleSeconds",
        ] as const;
        const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    },
    async update(_id, _olds, news) {
        return { outs: await gate(news) };
    },
    async delete() {
        // Nothing to undo: the gate only watched.
    },
};

export interface NodeReadyArgs {
    node: string;
    addr: pulumi.Input<string>;
    peers: pulumi.Input<string>[];
    caCert: pulumi.Input<string>;
    tlsServerName: pulumi.Input<string>;
    containerId: pulumi.Input<string>;
    timeoutSeconds: number;
    settleSeconds: number;
}

/** Done when its node is healthy again; the next node's container depends on it. */
export class NodeReady extends pulumi.dynamic.Resource {
    declare readonly passedBecause: pulumi.Output<string>;

    constructor(name: string, args: NodeReadyArgs, opts?: pulumi.CustomResourceOptions) {
        super(nodeReadyProvider, name, { ...args, passedBecause: undefined }, opts, DYNAMIC_MODULE, "NodeReady");
    }
}
