/**
 * Upgrades and other rolling changes in the order HashiCorp's upgrade guide prescribes: the
 * standbys one at a time, then the active node handed over (`sys/step-down`) to an upgraded
 * standby, and the old active node replaced last: exactly one leadership change, and never from a
 * new version back to an old one.
 *
 * How the engine's graph and the run-time order fit together. Who is active is known only at run
 * time, and the engine replaces a container when every resource it depends on is done. So:
 *
 * - the order is computed when the program runs (`pulumi up` evaluates it just before the engine
 *   steps): {@link discoverActive} asks every node's unauthenticated `sys/health`, and
 *   {@link rollOrder} puts the standbys first (in node order) and the active node last. The chain of
 *   `dependsOn` edges (turn gate of node k after the ready gate of the node before it in that order)
 *   is built from that order, so the engine's graph *is* the run-time order; `dependsOn` is not an
 *   input, so a different order on the next run changes no resource;
 * - {@link RollCheck}, which every container depends on, runs before the first replacement
 *   whenever any node's container spec or the target version changes, and refuses (nothing is
 *   replaced) when the cluster is not healthy or the change is a downgrade;
 * - a {@link NodeTurn} gate runs right before its node's container is replaced: if that node is
 *   the active one (the last in the order, or one that became active since), it steps it down and
 *   waits until an upgraded node is active;
 * - the ready gate after each node (components/nodeReady.ts) waits, with the same identity, until
 *   autopilot calls the node a healthy voter within a small log lag of the leader and the failure
 *   tolerance is back to its value before the roll; it stops the roll otherwise.
 *
 * The identity: autopilot's state and `sys/step-down` need a token, while the containers exist
 * before Pulumi's admin identity does. {@link RollCredential} therefore generates a role ID and a
 * secret ID before any container, and the settings (components/settings/vaultSettings.ts) declare
 * the `bonito-rolling` AppRole with exactly those IDs and a policy that reads autopilot's state and
 * may step the active node down, nothing else. On the first `pulumi up` nothing is initialised and
 * none of this applies; on a cluster whose rolling identity does not exist yet, the gates fall back
 * to `sys/health` and say so.
 *
 * The logic is plain functions with the transport passed in, as in nodeReady.ts: the dynamic
 * providers serialise them, the unit tests drive them with a fake, the real-server tier runs them
 * against Vault 1.20.4 and 1.21.1 (test/conformance/upgrade.test.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { DYNAMIC_MODULE, dynamicResourceArgs } from "./dynamicResource";
import { bootstrapError } from "./settings/bootstrap";
import { appRoleLogin, bodyObject, nodeTransport, type HttpResponse, type Transport } from "./vault/http";

// ---------------------------------------------------------------------------------------------
// Versions

/** The version an image reference names (`repo:1.21.1`, `repo:1.21.1@sha256:…`), or "" for a digest alone. */
export function versionFromImage(image: string): string {
    const [ref] = image.split("@");
    const m = /:([^/:]+)$/.exec(ref);
    if (!m) return "";
    const v = /^v?(\d+\.\d+\.\d+)/.exec(m[1]);
    return v ? v[1] : "";
}

/** Compare two `x.y.z` versions (suffixes such as `+ent` or `-rc1` ignored): <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
    const parts = (v: string) => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1).map(Number);
    const pa = parts(a);
    const pb = parts(b);
    for (let i = 0; i < 3; i++) {
        const d = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Cluster state

export interface RollNode {
    name: string;
    /** How Pulumi reaches the node's API. */
    addr: string;
}

/** The rolling-change identity (an AppRole login). */
export interface RollCredentialValue {
    mount: string;
    roleId: string;
    secretId: string;
}

export interface AutopilotServer {
    id?: string;
    name?: string;
    status?: string;
    healthy?: boolean;
    last_index?: number;
    version?: string;
    node_status?: string;
}

export interface AutopilotState {
    healthy?: boolean;
    failure_tolerance?: number;
    leader?: string;
    servers?: Record<string, AutopilotServer>;
}

/** The failure tolerance a healthy cluster of `voters` voters has (Raft quorum: a majority). */
export function expectedFailureTolerance(voters: number): number {
    return Math.max(0, Math.floor((voters - 1) / 2));
}

/** One node's `sys/health`, reduced to what the roll needs. */
export interface NodeHealth {
    name: string;
    answered: boolean;
    initialized: boolean;
    sealed: boolean;
    active: boolean;
    version: string;
    /** Why it is not fit, in words; "" when it is. */
    problem: string;
}

export function readHealth(name: string, res: HttpResponse | Error): NodeHealth {
    if (res instanceof Error)
        return {
            name,
            answered: false,
            initialized: false,
            sealed: true,
            active: false,
            version: "",
            problem: `is not answering (${res.message})`,
        };
    const b = bodyObject(res.body);
    const initialized = b.initialized !== false && res.status !== 501;
    const sealed = b.sealed === true || res.status === 503;
    const active = res.status === 200 && b.standby !== true;
    const version = typeof b.version === "string" ? b.version : "";
    let problem = "";
    if (b.removed_from_cluster === true || res.status === 530) problem = "was removed from the Raft cluster";
    else if (!initialized) problem = "is not initialised";
    else if (sealed) problem = "is sealed";
    else if (res.status === 474 || (b.standby === true && b.ha_connection_healthy === false))
        problem = "is a standby without a connection to the active node";
    else if (res.status !== 200 && res.status !== 429) problem = `answers sys/health with HTTP ${res.status}`;
    return { name, answered: true, initialized, sealed, active, version, problem };
}

async function probe(t: Transport): Promise<HttpResponse | Error> {
    try {
        return await t({ method: "GET", path: "sys/health" });
    } catch (e) {
        return e instanceof Error ? e : new Error(String(e));
    }
}

/** Every node's health, in node order. */
export async function clusterHealth(nodes: readonly RollNode[], transports: Transport[]): Promise<NodeHealth[]> {
    const answers = await Promise.all(transports.map(probe));
    return nodes.map((n, i) => readHealth(n.name, answers[i]));
}

/** Standbys first, in node order; the active node (when known) last. */
export function rollOrder(nodes: readonly string[], active: string | undefined): string[] {
    const rest = nodes.filter((n) => n !== active);
    return active && nodes.includes(active) ? [...rest, active] : rest;
}

/** The active node's name, or undefined when none answers as active (first deployment, unreachable). */
export async function discoverActive(nodes: readonly RollNode[], transports: Transport[]): Promise<string | undefined> {
    const health = await clusterHealth(nodes, transports);
    return health.find((h) => h.active)?.name;
}

// ---------------------------------------------------------------------------------------------
// The check before the first replacement

export interface PreRollInput {
    nodes: string[];
    health: NodeHealth[];
    /** Autopilot's state; undefined when the rolling identity could not log in (see `identity`). */
    autopilot?: AutopilotState;
    /** The version the new image names; "" when only a digest pins it. */
    targetVersion: string;
    allowDowngrade: boolean;
}

export type PreRollVerdict =
    | { ok: true; firstDeployment: true }
    | {
          ok: true;
          firstDeployment: false;
          failureTolerance: number;
          active: string;
          versions: Record<string, string>;
      }
    | { ok: false; reason: string };

export function judgePreRoll(i: PreRollInput): PreRollVerdict {
    if (i.health.every((h) => h.answered && !h.initialized) || i.health.every((h) => !h.answered))
        // Nothing initialised answers: a first deployment (or nothing created yet), no availability to keep.
        return { ok: true, firstDeployment: true };
    const unfit = i.health.filter((h) => h.problem);
    if (unfit.length > 0) return { ok: false, reason: unfit.map((h) => `node ${h.name} ${h.problem}`).join("; ") };
    const active = i.health.filter((h) => h.active).map((h) => h.name);
    if (active.length !== 1)
        return {
            ok: false,
            reason: `${active.length} nodes answer as the active node (${active.join(", ") || "none"})`,
        };
    const versions = Object.fromEntries(i.health.map((h) => [h.name, h.version]));
    const newest = Object.values(versions).reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b), "");
    if (i.targetVersion && newest && compareVersions(i.targetVersion, newest) < 0 && !i.allowDowngrade)
        return {
            ok: false,
            reason:
                `the image names Vault ${i.targetVersion}, older than the ${newest} the cluster runs: a downgrade. ` +
                "Vault does not support running older binaries on data a newer one wrote; restore the pre-upgrade " +
                'snapshot on the old version instead (docs/runbook.md "Upgrading Vault"), or set allowDowngrade: true ' +
                "if you know this downgrade is safe",
        };
    const expected = expectedFailureTolerance(i.nodes.length);
    if (i.autopilot) {
        const a = i.autopilot;
        if (a.healthy !== true) {
            const sick = Object.values(a.servers ?? {})
                .filter((s) => s.healthy !== true)
                .map((s) => s.name ?? s.id);
            return {
                ok: false,
                reason: `autopilot reports the cluster unhealthy (servers: ${sick.join(", ") || "?"})`,
            };
        }
        const missing = i.nodes.filter(
            (n) => !Object.values(a.servers ?? {}).some((s) => (s.name ?? s.id) === n && isVoter(s)),
        );
        if (missing.length > 0)
            return { ok: false, reason: `autopilot does not list ${missing.join(", ")} as a voter` };
        const ft = a.failure_tolerance ?? 0;
        if (ft < expected)
            return {
                ok: false,
                reason: `autopilot's failure tolerance is ${ft}, below the ${expected} that ${i.nodes.length} voters give`,
            };
        return { ok: true, firstDeployment: false, failureTolerance: ft, active: active[0], versions };
    }
    return { ok: true, firstDeployment: false, failureTolerance: -1, active: active[0], versions };
}

function isVoter(s: AutopilotServer): boolean {
    return s.status === "voter" || s.status === "leader";
}

// ---------------------------------------------------------------------------------------------
// After a node: autopilot's view of it

/** How far (in Raft log indexes) a node may trail the leader and still count as caught up. */
export const MAX_LAG_INDEXES = 100;

export function judgeNodeAfter(
    node: string,
    a: AutopilotState,
    failureToleranceBefore: number,
    maxLag = MAX_LAG_INDEXES,
): { ok: boolean; reason: string } {
    const servers = Object.values(a.servers ?? {});
    const me = servers.find((s) => (s.name ?? s.id) === node);
    if (!me) return { ok: false, reason: "is not in autopilot's server list yet" };
    if (!isVoter(me)) return { ok: false, reason: `is a ${me.status ?? "server of unknown status"}, not a voter yet` };
    if (me.healthy !== true) return { ok: false, reason: "is not healthy in autopilot's view yet" };
    const leader = servers.find((s) => s.status === "leader");
    const lag = (leader?.last_index ?? 0) - (me.last_index ?? 0);
    if (lag > maxLag) return { ok: false, reason: `trails the leader by ${lag} log entries (at most ${maxLag})` };
    const ft = a.failure_tolerance ?? 0;
    if (failureToleranceBefore >= 0 && ft < failureToleranceBefore)
        return {
            ok: false,
            reason: `is a healthy voter, but the failure tolerance is ${ft}, below the ${failureToleranceBefore} before the roll`,
        };
    if (a.healthy !== true)
        return { ok: false, reason: "is a healthy voter, but autopilot reports the cluster unhealthy" };
    return { ok: true, reason: `is a healthy voter ${lag} entries behind the leader; failure tolerance ${ft}` };
}

/**
 * Log in with the rolling identity: the token, or undefined when the identity does not exist (yet)
 * in Vault (400/403 on login: a cluster deployed before this identity, or settings not applied).
 */
export async function rollLogin(t: Transport, c: RollCredentialValue): Promise<string | undefined> {
    if (!c.roleId || !c.secretId) return undefined;
    try {
        return await appRoleLogin(t, c.mount, c.roleId, c.secretId);
    } catch (e) {
        const status = (e as { status?: number }).status;
        if (status === 400 || status === 403) return undefined;
        throw e;
    }
}

export async function readAutopilot(t: Transport, token: string): Promise<AutopilotState> {
    const res = await t({ method: "GET", path: "sys/storage/raft/autopilot/state", token });
    if (res.status !== 200) throw new Error(`GET sys/storage/raft/autopilot/state answered ${res.status}`);
    const b = bodyObject(res.body);
    return bodyObject(b.data ?? b) as AutopilotState;
}

export async function revoke(t: Transport, token: string): Promise<void> {
    try {
        await t({ method: "POST", path: "auth/token/revoke-self", token });
    } catch {
        // The token expires on its own (15 minutes).
    }
}

/** The environment variable that lets a roll start on an unhealthy cluster (to replace a broken node). */
export const ROLL_FORCE_ENV = "BONITO_ROLL_UNHEALTHY";

export interface RollCheckInputs {
    nodes: RollNode[];
    caCert: string;
    tlsServerName: string;
    /** Per node, a digest of its container's declared inputs: a change means a replacement. */
    specs: string[];
    targetVersion: string;
    allowDowngrade: boolean;
    credential: RollCredentialValue;
}

export interface RollCheckState extends RollCheckInputs {
    /** Autopilot's failure tolerance before the roll; -1 when unknown (first deployment, no identity yet). */
    failureTolerance: number;
    /** The active node when the check ran ("" on a first deployment). */
    activeBefore: string;
    /** What was checked, in words. */
    checked: string;
}

export async function preRollCheck(
    i: Pick<RollCheckInputs, "nodes" | "targetVersion" | "allowDowngrade" | "credential">,
    transports: Transport[],
    env: Record<string, string | undefined>,
): Promise<Pick<RollCheckState, "failureTolerance" | "activeBefore" | "checked">> {
    const health = await clusterHealth(i.nodes, transports);
    const initialised = health.find((h) => h.answered && h.initialized && !h.sealed);
    let autopilot: AutopilotState | undefined;
    let identity = "no node could be asked";
    if (initialised) {
        const t = transports[health.indexOf(initialised)];
        const token = await rollLogin(t, i.credential);
        if (token) {
            try {
                autopilot = await readAutopilot(t, token);
                identity = "autopilot's state";
            } finally {
                await revoke(t, token);
            }
        } else
            identity = "sys/health only (the rolling identity does not exist in Vault yet: it is declared by this run)";
    }
    const verdict = judgePreRoll({
        nodes: i.nodes.map((n) => n.name),
        health,
        autopilot,
        targetVersion: i.targetVersion,
        allowDowngrade: i.allowDowngrade,
    });
    if (!verdict.ok) {
        if (env[ROLL_FORCE_ENV] === "true" && !/downgrade/.test(verdict.reason))
            return { failureTolerance: -1, activeBefore: "", checked: `forced past: ${verdict.reason}` };
        throw bootstrapError(
            `Rolling change refused before any node was replaced: ${verdict.reason}. Nothing was changed. ` +
                "Bring the cluster back to health first (docs/runbook.md), or, to replace a broken node on purpose, " +
                `run \`pulumi up\` with ${ROLL_FORCE_ENV}=true.`,
        );
    }
    if (verdict.firstDeployment)
        return { failureTolerance: -1, activeBefore: "", checked: "first deployment: no availability to keep" };
    return {
        failureTolerance: verdict.failureTolerance,
        activeBefore: verdict.active,
        checked: `every node unsealed and connected; ${identity}`,
    };
}

function transportsFor(i: { nodes: RollNode[]; caCert: string; tlsServerName: string }): Transport[] {
    return i.nodes.map((n) => nodeTransport({ addr: n.addr, caCert: i.caCert, tlsServerName: i.tlsServerName }, 5000));
}

export const rollCheckProvider: pulumi.dynamic.ResourceProvider<RollCheckInputs, RollCheckState> = {
    async create(inputs) {
        const r = await preRollCheck(inputs, transportsFor(inputs), process.env);
        return { id: "roll-check", outs: { ...inputs, ...r } };
    },
    async diff(_id, olds, news) {
        const keys = ["nodes", "specs", "targetVersion", "allowDowngrade"] as const;
        const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    },
    async update(_id, _olds, news) {
        return { outs: { ...news, ...(await preRollCheck(news, transportsFor(news), process.env)) } };
    },
    async delete() {
        // Only a check.
    },
};

export interface RollCheckArgs {
    nodes: pulumi.Input<RollNode>[];
    caCert: pulumi.Input<string>;
    tlsServerName: pulumi.Input<string>;
    specs: pulumi.Input<string>[];
    targetVersion: string;
    allowDowngrade: boolean;
    credential: pulumi.Input<RollCredentialValue>;
}

/** The check every node container waits for: runs when any container is about to change. */
export class RollCheck extends pulumi.dynamic.Resource {
    declare readonly failureTolerance: pulumi.Output<number>;
    declare readonly activeBefore: pulumi.Output<string>;
    declare readonly checked: pulumi.Output<string>;

    constructor(name: string, args: RollCheckArgs, opts?: pulumi.CustomResourceOptions) {
        const d = dynamicResourceArgs(args, opts, {
            outputs: ["failureTolerance", "activeBefore", "checked"],
            secret: ["credential"],
        });
        super(rollCheckProvider, name, d.props, d.opts, DYNAMIC_MODULE, "RollCheck");
    }
}

// ---------------------------------------------------------------------------------------------
// A node's turn: hand the active role over before its container goes

export interface NodeTurnInputs {
    node: string;
    addr: string;
    /** Every other node. */
    peers: RollNode[];
    caCert: string;
    tlsServerName: string;
    /** A digest of this node's container inputs: a change means the container is about to be replaced. */
    spec: string;
    targetVersion: string;
    credential: RollCredentialValue;
    timeoutSeconds: number;
}

export interface NodeTurnState extends NodeTurnInputs {
    /** What the turn did, in words. */
    handedOver: string;
}

export interface TurnOptions {
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
    pollMs?: number;
    log?: (line: string) => void;
}

/**
 * If `node` is the active node: step it down and wait until another node is active (one that runs
 * the target version, when the image names one). Resolves with what happened.
 */
export async function takeTurn(
    i: Pick<NodeTurnInputs, "node" | "peers" | "targetVersion" | "credential" | "timeoutSeconds">,
    self: Transport,
    peers: Transport[],
    opts: TurnOptions = {},
): Promise<string> {
    const now = opts.now ?? (() => Date.now());
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const pollMs = opts.pollMs ?? 500;
    const me = readHealth(i.node, await probe(self));
    if (!me.answered || !me.initialized) return "not initialised or not answering: nothing to hand over";
    if (!me.active) return "a standby: nothing to hand over";
    const token = await rollLogin(self, i.credential);
    if (!token)
        return "the active node, replaced without a step-down: the rolling identity does not exist in Vault yet (one extra election)";
    const deadline = now() + i.timeoutSeconds * 1000;
    try {
        const res = await self({ method: "PUT", path: "sys/step-down", token });
        if (res.status !== 200 && res.status !== 204)
            throw bootstrapError(`Rolling change stopped at node ${i.node}: sys/step-down answered ${res.status}.`);
        opts.log?.(`node ${i.node} stepped down`);
        for (;;) {
            const next = (await clusterHealth(i.peers, peers)).find((h) => h.active);
            if (next) {
                const same = !i.targetVersion || compareVersions(next.version, i.targetVersion) === 0;
                return (
                    `the active node, stepped down: ${next.name} (${next.version}) is active now` +
                    (same ? "" : `, not on ${i.targetVersion} (was the order disturbed?)`)
                );
            }
            if (now() >= deadline)
                throw bootstrapError(
                    `Rolling change stopped at node ${i.node}: after stepping it down no other node became active within ` +
                        `${i.timeoutSeconds} s. Its container was not replaced. Look at the nodes' logs; rollingNodeTimeout sets the wait.`,
                );
            await sleep(pollMs);
        }
    } finally {
        await revoke(self, token);
    }
}

export const nodeTurnProvider: pulumi.dynamic.ResourceProvider<NodeTurnInputs, NodeTurnState> = {
    async create(inputs) {
        // The gate is new (first deployment, or a stack from before it): the container is being created, or was already there.
        return {
            id: `node-turn-${inputs.node}`,
            outs: { ...inputs, handedOver: "first run of this gate: nothing to hand over" },
        };
    },
    async diff(_id, olds, news) {
        // The spec changes exactly when the container is about to be replaced.
        const changed = olds.spec !== news.spec || olds.targetVersion !== news.targetVersion;
        return { changes: changed, replaces: [], deleteBeforeReplace: false };
    },
    async update(_id, _olds, news) {
        const t = (addr: string) =>
            nodeTransport({ addr, caCert: news.caCert, tlsServerName: news.tlsServerName }, 5000);
        const handedOver = await takeTurn(
            news,
            t(news.addr),
            news.peers.map((p) => t(p.addr)),
        );
        return { outs: { ...news, handedOver } };
    },
    async delete() {
        // Only a hand-over.
    },
};

export interface NodeTurnArgs {
    node: string;
    addr: pulumi.Input<string>;
    peers: pulumi.Input<RollNode>[];
    caCert: pulumi.Input<string>;
    tlsServerName: pulumi.Input<string>;
    spec: pulumi.Input<string>;
    targetVersion: string;
    credential: pulumi.Input<RollCredentialValue>;
    timeoutSeconds: number;
}

/** Runs right before its node's container is replaced; hands the active role over when it is that node's. */
export class NodeTurn extends pulumi.dynamic.Resource {
    declare readonly handedOver: pulumi.Output<string>;

    constructor(name: string, args: NodeTurnArgs, opts?: pulumi.CustomResourceOptions) {
        const d = dynamicResourceArgs(args, opts, { outputs: ["handedOver"], secret: ["credential", "spec"] });
        super(nodeTurnProvider, name, d.props, d.opts, DYNAMIC_MODULE, "NodeTurn");
    }
}

// ---------------------------------------------------------------------------------------------
// The identity, generated before any container

export interface RollCredentialState {
    roleId: string;
    secretId: string;
}

export const rollCredentialProvider: pulumi.dynamic.ResourceProvider<Record<string, never>, RollCredentialState> = {
    async create() {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { randomUUID } = require("node:crypto") as typeof import("node:crypto");
        return { id: "rolling-identity", outs: { roleId: randomUUID(), secretId: randomUUID() } };
    },
    async diff() {
        return { changes: false };
    },
    async delete() {
        // Vault keeps the role until the settings remove it.
    },
};

/** A role ID and secret ID for the `bonito-rolling` AppRole, generated once, kept as secrets. */
export class RollCredential extends pulumi.dynamic.Resource {
    declare readonly roleId: pulumi.Output<string>;
    declare readonly secretId: pulumi.Output<string>;

    constructor(name: string, opts?: pulumi.CustomResourceOptions) {
        const d = dynamicResourceArgs({}, opts, { outputs: ["roleId", "secretId"], secret: ["roleId", "secretId"] });
        super(rollCredentialProvider, name, d.props, d.opts, DYNAMIC_MODULE, "RollCredential");
    }
}

// ---------------------------------------------------------------------------------------------
// The order, when the program runs

type ActiveDiscovery = (nodes: RollNode[], caCert: string, tlsServerName: string) => Promise<string | undefined>;

let discovery: ActiveDiscovery | undefined;

/** Tests replace how the active node is found (the mock runtime has no cluster to ask). */
export function setActiveNodeDiscovery(fn: ActiveDiscovery | undefined): void {
    discovery = fn;
}

/**
 * The roll order for this run: the standbys in node order, then the node that answers as active.
 * Asked only when the engine will act (`pulumi up`, not a preview: a preview replaces nothing, and
 * the order changes no resource), each node with a 5-second limit; node order when none answers.
 */
export function activeNodeAtStart(
    nodes: RollNode[],
    caCert: pulumi.Input<string>,
    tlsServerName: string,
): Promise<string[]> {
    const names = nodes.map((n) => n.name);
    // A preview replaces nothing; and a new CA is unknown until `up` creates it (waiting for it would hang).
    if (!discovery && pulumi.runtime.isDryRun()) return Promise.resolve(names);
    const find: ActiveDiscovery =
        discovery ??
        ((ns, ca, sni) =>
            discoverActive(
                ns,
                ns.map((n) => nodeTransport({ addr: n.addr, caCert: ca, tlsServerName: sni }, 5000)),
            ));
    return new Promise<string>((resolve) => pulumi.output(caCert).apply((ca) => resolve(ca)))
        .then((ca) => find(nodes, ca, tlsServerName))
        .then(
            (active) => rollOrder(names, active),
            () => names,
        );
}
