/**
 * The upgrade order and its checks (components/rolling.ts) as plain functions, with fake transports
 * and a fake clock.
 * Proves: the version an image names; version order; standbys first and the active node last; the
 * check before the roll refuses (with the reason) a missing, sealed or removed node, two active
 * nodes, an unhealthy autopilot, a missing voter, a failure tolerance below what the node count
 * gives, and a downgrade unless allowDowngrade; passes a first deployment; falls back to sys/health
 * when the rolling identity cannot log in; the per-node judgement (voter, healthy, lag, tolerance);
 * and the turn gate steps the active node down and waits for another active node, and leaves a
 * standby alone.
 * Does not prove: what Vault answers during a real upgrade (the autopilot fields, step-down's
 * effect): test/conformance/upgrade.test.ts rolls a real cluster from 1.20.4 to 1.21.1 with these
 * gates.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    compareVersions,
    judgeNodeAfter,
    judgePreRoll,
    preRollCheck,
    readHealth,
    rollOrder,
    takeTurn,
    versionFromImage,
    type AutopilotState,
} from "../../components/rolling";
import type { HttpRequest, HttpResponse, Transport } from "../../components/vault/http";

const health = (status: number, extra: Record<string, unknown> = {}) => ({
    status,
    body: { initialized: true, sealed: false, standby: status !== 200, version: "1.21.1", ...extra },
});
const ACTIVE = health(200);
const STANDBY = health(429, { ha_connection_healthy: true });
const NODES = ["vault-0", "vault-1", "vault-2"];

function autopilot(over: Partial<AutopilotState> = {}, servers: Record<string, object> = {}): AutopilotState {
    const s = (name: string, status: string, last_index = 500) => ({
        id: name,
        name,
        status,
        healthy: true,
        last_index,
        version: "1.21.1",
    });
    return {
        healthy: true,
        failure_tolerance: 1,
        leader: "vault-0",
        servers: {
            "vault-0": { ...s("vault-0", "leader"), ...servers["vault-0"] },
            "vault-1": { ...s("vault-1", "voter"), ...servers["vault-1"] },
            "vault-2": { ...s("vault-2", "voter"), ...servers["vault-2"] },
        },
        ...over,
    };
}

const fit = (name: string, res: HttpResponse | Error) => readHealth(name, res);
const healthy3 = () => [fit("vault-0", ACTIVE), fit("vault-1", STANDBY), fit("vault-2", STANDBY)];

describe("versions", () => {
    it("reads the version an image tag names; a digest alone names none", () => {
        assert.equal(versionFromImage("hashicorp/vault:1.21.1"), "1.21.1");
        assert.equal(
            versionFromImage("registry.example:5000/hashicorp/vault:1.20.4@sha256:" + "a".repeat(64)),
            "1.20.4",
        );
        assert.equal(versionFromImage("hashicorp/vault@sha256:" + "a".repeat(64)), "");
        assert.equal(versionFromImage("registry.example:5000/vault"), "");
    });
    it("orders x.y.z numerically, ignoring suffixes", () => {
        assert.ok(compareVersions("1.21.1", "1.20.4") > 0);
        assert.ok(compareVersions("1.9.0", "1.10.0") < 0);
        assert.equal(compareVersions("1.21.1+ent", "1.21.1"), 0);
    });
});

describe("rollOrder", () => {
    it("standbys in node order, the active node last", () => {
        assert.deepEqual(rollOrder(NODES, "vault-0"), ["vault-1", "vault-2", "vault-0"]);
        assert.deepEqual(rollOrder(NODES, "vault-1"), ["vault-0", "vault-2", "vault-1"]);
        assert.deepEqual(rollOrder(NODES, undefined), NODES);
        assert.deepEqual(rollOrder(NODES, "elsewhere"), NODES);
    });
});

describe("judgePreRoll", () => {
    const base = { nodes: NODES, targetVersion: "1.21.1", allowDowngrade: false };
    it("a healthy cluster passes with autopilot's failure tolerance and the active node", () => {
        assert.deepEqual(judgePreRoll({ ...base, health: healthy3(), autopilot: autopilot() }), {
            ok: true,
            firstDeployment: false,
            failureTolerance: 1,
            active: "vault-0",
            versions: { "vault-0": "1.21.1", "vault-1": "1.21.1", "vault-2": "1.21.1" },
        });
    });
    it("nothing initialised, or nothing answering, is a first deployment", () => {
        const uninit = { status: 501, body: { initialized: false, sealed: true } };
        assert.deepEqual(judgePreRoll({ ...base, health: NODES.map((n) => fit(n, uninit)) }), {
            ok: true,
            firstDeployment: true,
        });
        assert.deepEqual(judgePreRoll({ ...base, health: NODES.map((n) => fit(n, new Error("ECONNREFUSED"))) }), {
            ok: true,
            firstDeployment: true,
        });
    });
    it("a node missing, sealed or removed is refused by name", () => {
        const h = healthy3();
        h[1] = fit("vault-1", new Error("connect ECONNREFUSED"));
        h[2] = fit("vault-2", { status: 503, body: { initialized: true, sealed: true } });
        assert.deepEqual(judgePreRoll({ ...base, health: h, autopilot: autopilot() }), {
            ok: false,
            reason: "node vault-1 is not answering (connect ECONNREFUSED); node vault-2 is sealed",
        });
        const r = healthy3();
        r[2] = fit("vault-2", { status: 530, body: { initialized: true, removed_from_cluster: true } });
        assert.match(
            String((judgePreRoll({ ...base, health: r }) as { reason: string }).reason),
            /vault-2 was removed/,
        );
    });
    it("autopilot unhealthy, a missing voter, or a failure tolerance below (n-1)/2 is refused", () => {
        const sick = autopilot({ healthy: false }, { "vault-2": { healthy: false } });
        assert.deepEqual(judgePreRoll({ ...base, health: healthy3(), autopilot: sick }), {
            ok: false,
            reason: "autopilot reports the cluster unhealthy (servers: vault-2)",
        });
        const nonVoter = autopilot({}, { "vault-2": { status: "non-voter" } });
        assert.deepEqual(judgePreRoll({ ...base, health: healthy3(), autopilot: nonVoter }), {
            ok: false,
            reason: "autopilot does not list vault-2 as a voter",
        });
        assert.deepEqual(
            judgePreRoll({ ...base, health: healthy3(), autopilot: autopilot({ failure_tolerance: 0 }) }),
            {
                ok: false,
                reason: "autopilot's failure tolerance is 0, below the 1 that 3 voters give",
            },
        );
    });
    it("a downgrade is refused unless allowDowngrade; an upgrade or a digest-only image is not", () => {
        const down = judgePreRoll({ ...base, targetVersion: "1.20.4", health: healthy3(), autopilot: autopilot() });
        assert.equal(down.ok, false);
        assert.match(
            (down as { reason: string }).reason,
            /^the image names Vault 1\.20\.4, older than the 1\.21\.1 .* allowDowngrade: true/,
        );
        assert.equal(
            judgePreRoll({
                ...base,
                targetVersion: "1.20.4",
                allowDowngrade: true,
                health: healthy3(),
                autopilot: autopilot(),
            }).ok,
            true,
        );
        assert.equal(
            judgePreRoll({ ...base, targetVersion: "1.22.0", health: healthy3(), autopilot: autopilot() }).ok,
            true,
        );
        assert.equal(judgePreRoll({ ...base, targetVersion: "", health: healthy3(), autopilot: autopilot() }).ok, true);
    });
    it("two active nodes are refused", () => {
        const h = [fit("vault-0", ACTIVE), fit("vault-1", ACTIVE), fit("vault-2", STANDBY)];
        assert.deepEqual(judgePreRoll({ ...base, health: h }), {
            ok: false,
            reason: "2 nodes answer as the active node (vault-0, vault-1)",
        });
    });
});

describe("judgeNodeAfter", () => {
    it("passes a healthy voter close to the leader with the tolerance restored", () => {
        assert.deepEqual(judgeNodeAfter("vault-1", autopilot(), 1), {
            ok: true,
            reason: "is a healthy voter 0 entries behind the leader; failure tolerance 1",
        });
    });
    it("waits while the node is missing, a non-voter, unhealthy, behind, or the tolerance is lower", () => {
        const cases: [AutopilotState, string][] = [
            [{ ...autopilot(), servers: {} }, "is not in autopilot's server list yet"],
            [autopilot({}, { "vault-1": { status: "non-voter" } }), "is a non-voter, not a voter yet"],
            [autopilot({}, { "vault-1": { healthy: false } }), "is not healthy in autopilot's view yet"],
            [autopilot({}, { "vault-1": { last_index: 300 } }), "trails the leader by 200 log entries (at most 100)"],
            [
                autopilot({ failure_tolerance: 0 }),
                "is a healthy voter, but the failure tolerance is 0, below the 1 before the roll",
            ],
        ];
        for (const [state, reason] of cases)
            assert.deepEqual(judgeNodeAfter("vault-1", state, 1), { ok: false, reason });
    });
});

/** A fake Vault per node: answers by path; records requests. */
function fakeNode(answers: Record<string, (req: HttpRequest) => HttpResponse>): Transport & { seen: string[] } {
    const seen: string[] = [];
    const t = async (req: HttpRequest): Promise<HttpResponse> => {
        seen.push(`${req.method} ${req.path}${req.token ? " (token)" : ""}`);
        const key = Object.keys(answers).find((k) => req.path.startsWith(k));
        if (!key) return { status: 404, body: {} };
        return answers[key](req);
    };
    return Object.assign(t, { seen });
}

const LOGIN = { status: 200, body: { auth: { client_token: "t-rolling" } } };
const cred = { mount: "approle", roleId: "r", secretId: "s" };

describe("preRollCheck", () => {
    it("reads autopilot with the rolling identity, revokes the token, and records the tolerance and the active node", async () => {
        const n0 = fakeNode({
            "sys/health": () => ACTIVE,
            "auth/approle/login": () => LOGIN,
            "sys/storage/raft/autopilot/state": () => ({ status: 200, body: { data: autopilot() } }),
            "auth/token/revoke-self": () => ({ status: 204, body: {} }),
        });
        const sb = () => fakeNode({ "sys/health": () => STANDBY });
        const r = await preRollCheck(
            {
                nodes: NODES.map((name) => ({ name, addr: name })),
                targetVersion: "1.21.1",
                allowDowngrade: false,
                credential: cred,
            },
            [n0, sb(), sb()],
            {},
        );
        assert.deepEqual(r, {
            failureTolerance: 1,
            activeBefore: "vault-0",
            checked: "every node unsealed and connected; autopilot's state",
        });
        assert.deepEqual(n0.seen, [
            "GET sys/health",
            "POST auth/approle/login",
            "GET sys/storage/raft/autopilot/state (token)",
            "POST auth/token/revoke-self (token)",
        ]);
    });
    it("without the identity in Vault (login refused) it checks sys/health only and says so", async () => {
        const n0 = fakeNode({
            "sys/health": () => ACTIVE,
            "auth/approle/login": () => ({ status: 400, body: { errors: ["invalid role or secret ID"] } }),
        });
        const sb = () => fakeNode({ "sys/health": () => STANDBY });
        const r = await preRollCheck(
            {
                nodes: NODES.map((name) => ({ name, addr: name })),
                targetVersion: "1.21.1",
                allowDowngrade: false,
                credential: cred,
            },
            [n0, sb(), sb()],
            {},
        );
        assert.equal(r.failureTolerance, -1);
        assert.match(r.checked, /sys\/health only \(the rolling identity does not exist in Vault yet/);
    });
    it("refuses an unhealthy cluster with a message that names the node and the way past it", async () => {
        const n0 = fakeNode({
            "sys/health": () => ACTIVE,
            "auth/approle/login": () => LOGIN,
            "sys/storage/raft/autopilot/state": () => ({ status: 200, body: { data: autopilot() } }),
        });
        const broken: Transport = async () => {
            throw new Error("connect ECONNREFUSED");
        };
        const args = {
            nodes: NODES.map((name) => ({ name, addr: name })),
            targetVersion: "1.21.1",
            allowDowngrade: false,
            credential: cred,
        };
        await assert.rejects(preRollCheck(args, [n0, fakeNode({ "sys/health": () => STANDBY }), broken], {}), {
            message:
                "Rolling change refused before any node was replaced: node vault-2 is not answering (connect ECONNREFUSED). " +
                "Nothing was changed. Bring the cluster back to health first (docs/runbook.md), or, to replace a broken node on purpose, " +
                "run `pulumi up` with BONITO_ROLL_UNHEALTHY=true.",
        });
        const forced = await preRollCheck(args, [n0, fakeNode({ "sys/health": () => STANDBY }), broken], {
            BONITO_ROLL_UNHEALTHY: "true",
        });
        assert.equal(forced.checked, "forced past: node vault-2 is not answering (connect ECONNREFUSED)");
    });
});

describe("takeTurn", () => {
    const clock = () => {
        let t = 0;
        return { now: () => t, sleep: async (ms: number) => void (t += ms) };
    };
    const turn = {
        node: "vault-0",
        peers: [
            { name: "vault-1", addr: "1" },
            { name: "vault-2", addr: "2" },
        ],
        targetVersion: "1.21.1",
        credential: cred,
        timeoutSeconds: 30,
    };
    it("a standby is left alone", async () => {
        const self = fakeNode({ "sys/health": () => STANDBY });
        assert.equal(await takeTurn(turn, self, []), "a standby: nothing to hand over");
        assert.deepEqual(self.seen, ["GET sys/health"]);
    });
    it("the active node is stepped down, and the turn waits until an upgraded node is active", async () => {
        let stepped = false;
        let polls = 0;
        const self = fakeNode({
            "sys/health": () => (stepped ? STANDBY : ACTIVE),
            "auth/approle/login": () => LOGIN,
            "sys/step-down": () => {
                stepped = true;
                return { status: 204, body: {} };
            },
            "auth/token/revoke-self": () => ({ status: 204, body: {} }),
        });
        // vault-1 becomes active on the third poll after the step-down.
        const p1 = fakeNode({ "sys/health": () => (stepped && ++polls >= 3 ? ACTIVE : STANDBY) });
        const p2 = fakeNode({ "sys/health": () => STANDBY });
        const c = clock();
        assert.equal(
            await takeTurn(turn, self, [p1, p2], c),
            "the active node, stepped down: vault-1 (1.21.1) is active now",
        );
        assert.deepEqual(self.seen, [
            "GET sys/health",
            "POST auth/approle/login",
            "PUT sys/step-down (token)",
            "POST auth/token/revoke-self (token)",
        ]);
    });
    it("stops the roll when no other node becomes active in time", async () => {
        const self = fakeNode({
            "sys/health": () => ACTIVE,
            "auth/approle/login": () => LOGIN,
            "sys/step-down": () => ({ status: 204, body: {} }),
            "auth/token/revoke-self": () => ({ status: 204, body: {} }),
        });
        const p = () => fakeNode({ "sys/health": () => STANDBY });
        await assert.rejects(takeTurn(turn, self, [p(), p()], clock()), {
            message:
                /^Rolling change stopped at node vault-0: after stepping it down no other node became active within 30 s\. Its container was not replaced\./,
        });
        assert.equal(self.seen.at(-1), "POST auth/token/revoke-self (token)", "the token is revoked on failure too");
    });
    it("without the identity in Vault it says the active node goes without a step-down", async () => {
        const self = fakeNode({ "sys/health": () => ACTIVE, "auth/approle/login": () => ({ status: 400, body: {} }) });
        assert.match(await takeTurn(turn, self, []), /replaced without a step-down/);
    });
});
