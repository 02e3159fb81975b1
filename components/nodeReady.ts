/**
 * Rolling changes: one Vault node at a time.
 *
 * Every node container has a fixed name, so Docker replaces it delete-before-replace. Without an
 * order, a new image, certificate or config would replace all of them at once: a full outage and a
 * cold start. RaftCluster chains the nodes instead: node i+1's container depends on {@link NodeReady}
 * of node i, and the engine registers (and so replaces) node i+1 only after node i's gate is done.
 *
 * The gate waits, from where Pulumi runs, in two phases. First until the node answers `sys/health`
 * as an initialised, unsealed node that is either the active node or a standby with a healthy
 * connection to the active node, and stays so for autopilot's server stabilization time (no token
 * needed). Then, with the rolling identity (components/rolling.ts: an AppRole whose IDs exist before
 * the containers, so the gate needs nothing issued after them), until the node runs the version the
 * image names and autopilot calls it a healthy voter within a small log lag of the leader, with the
 * failure tolerance back to its value before the roll (vault#17920: health alone can answer 200 on a
 * node Raft has removed, and dead peers lower the tolerance without any health code changing).
 * The order in which the engine reaches the gates is set in components/rolling.ts.
 *
 * On the very first `pulumi up` nothing is initialised yet: a node that reports "not initialised"
 * while no other node reports "initialised" passes at once (there is no availability to keep).
 *
 * The wait logic is plain functions with the transport passed in: the dynamic provider below
 * serialises them, the unit tests drive them with a fake, the real-server tier with Vault 1.21.1.
 */
import { DYNAMIC_MODULE, dynamicResourceArgs } from "./dynamicResource";
import * as pulumi from "@pulumi/pulumi";
import { bootstrapError } from "./settings/bootstrap";
import { bodyObject, nodeTransport, type HttpResponse, type Transport } from "./vault/http";
import { compareVersions, judgeNodeAfter, readAutopilot, revoke, rollLogin, type RollCredentialValue } from "./rolling";

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
    /** The rolling identity (components/rolling.ts): autopilot's view of the node. */
    credential?: RollCredentialValue;
    /** Autopilot's failure tolerance before the roll (RollCheck); -1 when unknown. */
    failureToleranceBefore?: number;
    /** The Vault version the image names; "" when only a digest pins it. */
    targetVersion?: string;
}

export interface NodeReadyState extends NodeReadyInputs {
    /** Why the gate passed, in words (no values). */
    passedBecause: string;
}

export const FIRST_DEPLOYMENT = "the cluster is not initialised yet: there is no availability to keep";

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
            if (!initialised) return FIRST_DEPLOYMENT;
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

/**
 * After {@link waitForNode}: with the rolling identity, wait until the node runs the version the
 * image names and autopilot calls it a healthy voter within {@link MAX_LAG_INDEXES} of the leader,
 * with the failure tolerance back to its value before the roll. Resolves with why it passed.
 */
export async function waitForAutopilot(
    inputs: Pick<
        NodeReadyInputs,
        "node" | "timeoutSeconds" | "credential" | "failureToleranceBefore" | "targetVersion"
    >,
    node: Transport,
    opts: WaitOptions = {},
): Promise<string> {
    const now = opts.now ?? (() => Date.now());
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const pollMs = opts.pollMs ?? 1000;
    if (!inputs.credential) return "";
    const health = await node({ method: "GET", path: "sys/health?standbyok=true" });
    const version = String(bodyObject(health.body).version ?? "");
    if (inputs.targetVersion && version && compareVersions(version, inputs.targetVersion) !== 0)
        throw bootstrapError(
            `Rolling change stopped at node ${inputs.node}: it runs Vault ${version}, but the image names ${inputs.targetVersion}. ` +
                "The nodes after it were not changed. Check that the image tag and its digest agree.",
        );
    const token = await rollLogin(node, inputs.credential);
    if (!token) return "; autopilot not asked (the rolling identity does not exist in Vault yet)";
    const deadline = now() + inputs.timeoutSeconds * 1000;
    let last = "was not asked yet";
    try {
        for (;;) {
            try {
                const v = judgeNodeAfter(
                    inputs.node,
                    await readAutopilot(node, token),
                    inputs.failureToleranceBefore ?? -1,
                );
                if (v.ok) return `; autopilot: it ${v.reason}`;
                last = v.reason;
            } catch (e) {
                last = `could not be judged (${e instanceof Error ? e.message : String(e)})`;
            }
            if (now() >= deadline)
                throw bootstrapError(
                    `Rolling change stopped at node ${inputs.node}: after ${inputs.timeoutSeconds} s it ${last}. ` +
                        "The nodes after it were not changed, so the cluster keeps its quorum. Read " +
                        "`vault operator raft autopilot state`, fix the cause, and run `pulumi up` again; rollingNodeTimeout sets the wait.",
                );
            opts.log?.(`node ${inputs.node} ${last}`);
            await sleep(pollMs);
        }
    } finally {
        await revoke(node, token);
    }
}

function transportFor(inputs: NodeReadyInputs, addr: string): Transport {
    return nodeTransport({ addr, caCert: inputs.caCert, tlsServerName: inputs.tlsServerName }, 5000);
}

async function gate(inputs: NodeReadyInputs): Promise<NodeReadyState> {
    const self = transportFor(inputs, inputs.addr);
    const passed = await waitForNode(
        inputs,
        self,
        inputs.peers.map((p) => transportFor(inputs, p)),
    );
    const autopilot = passed === FIRST_DEPLOYMENT ? "" : await waitForAutopilot(inputs, self);
    return { ...inputs, passedBecause: passed + autopilot };
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
            "failureToleranceBefore",
            "targetVersion",
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
    credential?: pulumi.Input<RollCredentialValue>;
    failureToleranceBefore?: pulumi.Input<number>;
    targetVersion?: string;
}

/** Done when its node is healthy again; the next node's container depends on it. */
export class NodeReady extends pulumi.dynamic.Resource {
    declare readonly passedBecause: pulumi.Output<string>;

    constructor(name: string, args: NodeReadyArgs, opts?: pulumi.CustomResourceOptions) {
        const d = dynamicResourceArgs(args, opts, {
            outputs: ["passedBecause"],
            ...(args.credential ? { secret: ["credential"] } : {}),
        });
        super(nodeReadyProvider, name, d.props, d.opts, DYNAMIC_MODULE, "NodeReady");
    }
}
