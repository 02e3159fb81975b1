/**
 * The entry point's contract against a real Vault 1.21.1 cluster (the local stack as declared,
 * brought up by lib/bringup.ts on loopback).
 *
 * Proves, with the exact health path every load balancer the program declares uses
 * (ENTRY_POINT_HEALTH_PATH, shared with the aws/gcp/azure components and the policy pack):
 *  - it answers 200 on the active node and on each standby, and a standby answers 429 without
 *    `standbyok=true` (so the query string is what keeps standbys in the pool);
 *  - a request sent to a standby — through a TCP passthrough like the load balancers', TLS
 *    verified against the cluster CA under the entry point's name — is served: the backend logs
 *    in and writes and reads a secret there, which the standby forwards to the active node;
 *  - a sealed node answers 503 on it (a load balancer takes it out of rotation).
 * Does not prove: that a cloud load balancer probes and routes this way (only a real cloud can),
 * DNS, security groups or firewall rules; the passthrough here is a local TCP pipe, not an NLB.
 */
import assert from "node:assert/strict";
import * as net from "node:net";
import { after, before, describe, it } from "node:test";
import { ENTRY_POINT_HEALTH_PATH } from "../../policies/lib/limits";
import { bringUp, decryptShare, tearDown, type Live } from "./lib/bringup";
import { call, rawRequest, waitUntil, type Node } from "./lib/cluster";

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let live: Live;
let proxy: net.Server | undefined;

/** The health path as the load balancers send it: a GET over HTTPS, the node's certificate checked. */
async function probe(n: Node, p = ENTRY_POINT_HEALTH_PATH) {
    return rawRequest(n.ports.api, "GET", p, live.caPem, live.declared.config.entryPoint.name);
}

async function active(): Promise<Node> {
    return waitUntil("an active node", 30000, async () => {
        for (const n of live.nodes) if ((await probe(n, "/v1/sys/health")).status === 200) return n;
        return undefined;
    });
}

/** A TCP passthrough to one node's API port, as a passthrough load balancer forwards a connection. */
function passthrough(to: Node): Promise<number> {
    proxy = net.createServer((client) => {
        const upstream = net.connect(to.ports.api, "127.0.0.1");
        client.pipe(upstream).pipe(client);
        client.on("error", () => upstream.destroy());
        upstream.on("error", () => client.destroy());
    });
    return new Promise((resolve) =>
        proxy!.listen(0, "127.0.0.1", () => resolve((proxy!.address() as net.AddressInfo).port)),
    );
}

async function generateRoot(encryptedShare: string): Promise<string> {
    const key = decryptShare(live, encryptedShare);
    const n = await active();
    await call(n.http, "DELETE", "sys/generate-root/attempt");
    const start = await call(n.http, "PUT", "sys/generate-root/attempt", undefined, {});
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const { otp, nonce } = start.body as Body;
    const upd = await call(n.http, "PUT", "sys/generate-root/update", undefined, { key, nonce });
    assert.equal((upd.body as Body).complete, true, JSON.stringify(upd.body));
    const enc = Buffer.from(String((upd.body as Body).encoded_token), "base64");
    const pad = Buffer.from(String(otp));
    return Buffer.from(enc.map((b, i) => b ^ pad[i])).toString("utf8");
}

describe("real Vault 1.21.1: the entry point's health path and forwarding", { timeout: 10 * 60_000 }, () => {
    before(async () => {
        try {
            live = await bringUp();
        } catch (e) {
            await tearDown(undefined);
            throw e;
        }
    });
    after(async () => {
        proxy?.close();
        await tearDown(live);
    });

    it("the load balancers' health path is /v1/sys/health?standbyok=true&perfstandbyok=true", () => {
        assert.equal(ENTRY_POINT_HEALTH_PATH, "/v1/sys/health?standbyok=true&perfstandbyok=true");
    });

    it("answers 200 on the active node and on every standby; a standby needs standbyok (429 without)", async () => {
        const leader = await active();
        const standbys = live.nodes.filter((n) => n.name !== leader.name);
        assert.equal(standbys.length, 2);
        const a = await probe(leader);
        assert.equal(a.status, 200, JSON.stringify(a.body));
        assert.equal(a.body.standby, false);
        for (const s of standbys) {
            const r = await probe(s);
            assert.equal(r.status, 200, `${s.name}: ${JSON.stringify(r.body)}`);
            assert.equal(r.body.standby, true, s.name);
            assert.equal(r.body.sealed, false, s.name);
            assert.equal((await probe(s, "/v1/sys/health")).status, 429, `${s.name} without standbyok`);
        }
    });

    it("a request sent to a standby through a TCP passthrough is served (forwarded to the active node)", async () => {
        const leader = await active();
        const standby = live.nodes.find((n) => n.name !== leader.name)!;
        const port = await passthrough(standby);
        const name = live.declared.config.entryPoint.name;
        const env = live.backendEnv;
        const via = (method: string, p: string, opts: { token?: string; body?: unknown } = {}) =>
            rawRequest(port, method, `/v1/${p}`, live.caPem, name, opts);

        // The standby itself answers health (it is a standby), and TLS verifies under the entry name.
        const health = await via("GET", ENTRY_POINT_HEALTH_PATH.slice("/v1/".length));
        assert.equal(health.status, 200);
        assert.equal(health.body.standby, true, "the passthrough reaches the standby, not the active node");

        let secretId = env.VAULT_SECRET_ID;
        if (!secretId) {
            const un = await via("POST", "sys/wrapping/unwrap", { token: env.VAULT_WRAPPED_SECRET_ID });
            assert.equal(un.status, 200, JSON.stringify(un.body));
            secretId = (un.body as Body).data.secret_id as string;
        }
        const login = await via("POST", "auth/approle/login", {
            body: { role_id: env.VAULT_ROLE_ID, secret_id: secretId },
        });
        assert.equal(login.status, 200, JSON.stringify(login.body));
        const token = (login.body as Body).auth.client_token as string;
        const mount = env.VAULT_MOUNT;
        const w = await via("POST", `${mount}/data/entrypoint/check`, {
            token,
            body: { data: { v: "through-a-standby" } },
        });
        assert.equal(w.status, 200, JSON.stringify(w.body));
        const r = await via("GET", `${mount}/data/entrypoint/check`, { token });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal((r.body as Body).data.data.v, "through-a-standby");
        // The write landed on the cluster: the active node reads it back directly.
        const direct = await rawRequest(
            leader.ports.api,
            "GET",
            `/v1/${mount}/data/entrypoint/check`,
            live.caPem,
            name,
            {
                token,
            },
        );
        assert.equal((direct.body as Body).data.data.v, "through-a-standby");
    });

    it("answers 503 on a sealed node, so a load balancer takes it out of rotation", async () => {
        // Only the active node can be sealed through the API (a standby answers "restart instead").
        const leader = await active();
        const root = await generateRoot(live.init.recoveryKeys[0]);
        const sealed = await call(leader.http, "PUT", "sys/seal", root, {});
        assert.equal(sealed.status, 204, JSON.stringify(sealed.body));
        const r = await probe(leader);
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.equal(r.body.sealed, true);
        // The other two keep answering 200 (one became active), so the entry point keeps serving.
        const next = await active();
        assert.notEqual(next.name, leader.name);
        const others = live.nodes.filter((n) => n.name !== leader.name);
        assert.deepEqual(await Promise.all(others.map(async (n) => (await probe(n)).status)), [200, 200]);
        await call(next.http, "POST", "auth/token/revoke-self", root);
    });
});
