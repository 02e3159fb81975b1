/**
 * Real-server tier: `npm run migrate` (scripts/migrate.ts) run as the operator runs it, as its own
 * process, from two real Vault 1.21.1 sources into the hardened 3-node cluster of the rendered
 * `local` stack (tier-1 harness), logged in with the program's `bonito-migration` AppRole.
 *
 * The sources: `vault server -dev` (Bonito's docker compose: in memory, root token
 * bonito-dev-token) and a file-storage server initialised with one Shamir share and unsealed the way
 * Bonito's Railway entrypoint does it (init 1/1, unseal with the printed key). On each: two KV v2
 * mounts and one KV v1, nesting six deep, names with spaces and unicode, a 500 KiB value, versions
 * soft-deleted and destroyed, per-secret settings and custom metadata, two secrets with one base
 * name. The source token is a read/list-only token, not the root token.
 *
 * What this proves: the target holds every planted version with its number, data (compared by this
 * test's own reading, not only the tool's verify), deletion state and settings; a planted canary is
 * in no file under the tool's working directory or the repository, no process's command line or
 * environment while the tool runs, the tool's output, or any file of the target cluster (audit logs,
 * Raft data); bad input is refused with one line and writes nothing; a conflict is refused (nothing
 * written) and --overwrite replaces it; after `kill -9` mid-copy a re-run finishes with every version
 * exactly once; a second run writes nothing; a catch-up pass copies exactly the changed set. The
 * migration AppRole can write under the KV mount and nothing else asked of it here.
 *
 * What it does not prove: a real Railway deployment (no network here; its entrypoint's HTTP calls are
 * repeated on loopback), sources other than Vault 1.21.1, or the times on other hardware
 * (firstCopySeconds and finalPassSeconds are recorded, not asserted).
 *
 * Rewrites: the migrationLogin output's addr (adminAddr) → node 0's loopback API port, caCert → the
 * test CA (its tlsServerName, the node's name, is kept).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { nodeTransport, type Transport } from "../../components/vault/http";
import { bringUp, tearDown, type Live } from "./lib/bringup";
import { PORT_BASE, REPO, VAULT_BIN, call, makeTempBase, waitUntil } from "./lib/cluster";
import { backendLogin, pool, recordFigures, type Body } from "./lib/ops";

const DEV_PORT = PORT_BASE + 80; // a dev server also binds port + 1
const RAILWAY_PORT = PORT_BASE + 83;
/** Secrets in the timed bulk set (10,000 in CI; a smaller run for a quick look needs at least 1,000). */
const BULK = Math.max(1000, Number(process.env.BONITO_MIGRATE_BULK ?? 10_000));
const CANARY = `CANARY-${randomBytes(12).toString("hex")}`;
const base = makeTempBase("bonito-migrate-");
const work = path.join(base, "work");
fs.mkdirSync(work, { mode: 0o700 });
const procs: ChildProcess[] = [];
let live: Live | undefined;

// ---------------------------------------------------------------------------------------------
// Sources

interface Source {
    addr: string;
    http: Transport;
    root: string;
    /** A token with read and list on the KV mounts and read on sys/mounts, sys/auth (the documented source policy). */
    reader: string;
    unsealKey?: string;
}

function startVault(args: string[], dir: string): ChildProcess {
    const log = fs.openSync(path.join(dir, "vault.log"), "a");
    const p = spawn(VAULT_BIN, args, {
        stdio: ["ignore", log, log],
        env: { PATH: process.env.PATH, HOME: dir },
        detached: true,
    });
    fs.closeSync(log);
    procs.push(p);
    return p;
}

async function ok(
    t: Transport,
    token: string,
    method: "GET" | "POST" | "PUT" | "DELETE",
    p: string,
    body?: Body,
): Promise<Body> {
    const r = await t({ method: method as "GET", path: p, token, body });
    assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return (r.body ?? {}) as Body;
}

/** docker compose's dev Vault: in memory, KV v2 at secret/, root token bonito-dev-token. */
async function devSource(): Promise<Source> {
    const dir = path.join(base, "dev");
    fs.mkdirSync(dir);
    startVault(
        ["server", "-dev", `-dev-listen-address=127.0.0.1:${DEV_PORT}`, "-dev-root-token-id=bonito-dev-token"],
        dir,
    );
    const addr = `http://127.0.0.1:${DEV_PORT}`;
    const http = nodeTransport({ addr, caCert: "", tlsServerName: "" });
    await waitUntil("the dev server", 30000, async () =>
        (await http({ method: "GET", path: "sys/health" }).catch(() => undefined))?.status === 200 ? true : undefined,
    );
    return { addr, http, root: "bonito-dev-token", reader: "" };
}

/**
 * The Railway container: file storage, `vault operator init -key-shares=1 -key-threshold=1`, then
 * `vault operator unseal` with the printed key (here the same two HTTP calls, on loopback).
 */
async function railwaySource(): Promise<Source> {
    const dir = path.join(base, "railway");
    fs.mkdirSync(dir);
    const addr = `http://127.0.0.1:${RAILWAY_PORT}`;
    fs.writeFileSync(
        path.join(dir, "config.json"),
        JSON.stringify({
            storage: { file: { path: path.join(dir, "data") } },
            listener: [{ tcp: { address: `127.0.0.1:${RAILWAY_PORT}`, tls_disable: true } }],
            disable_mlock: true,
            api_addr: addr,
        }),
    );
    startVault(["server", `-config=${path.join(dir, "config.json")}`], dir);
    const http = nodeTransport({ addr, caCert: "", tlsServerName: "" });
    await waitUntil("the file-storage server", 30000, async () =>
        (await http({ method: "GET", path: "sys/seal-status" }).catch(() => undefined))?.status === 200
            ? true
            : undefined,
    );
    const init = (await http({ method: "PUT", path: "sys/init", body: { secret_shares: 1, secret_threshold: 1 } }))
        .body as Body;
    const unsealKey = init.keys[0] as string;
    await ok(http, "", "PUT", "sys/unseal", { key: unsealKey });
    await ok(http, init.root_token as string, "POST", "sys/mounts/secret", { type: "kv", options: { version: "2" } });
    return { addr, http, root: init.root_token as string, reader: "", unsealKey };
}

/** The source policy docs/migration.md gives: read and list on the KV mounts, plus the listings the report reads. */
const READER_POLICY = {
    path: {
        "secret/*": { capabilities: ["read", "list"] },
        "team/*": { capabilities: ["read", "list"] },
        "legacy/*": { capabilities: ["read", "list"] },
        "bulk/*": { capabilities: ["read", "list"] },
        "sys/mounts": { capabilities: ["read"] },
        "sys/auth": { capabilities: ["read"] },
        "sys/policies/acl": { capabilities: ["list"] },
        "auth/token/lookup-self": { capabilities: ["read"] },
    },
};

async function readerToken(s: Source): Promise<string> {
    await ok(s.http, s.root, "PUT", "sys/policies/acl/migration-reader", { policy: JSON.stringify(READER_POLICY) });
    // As docs/migration.md makes it: without the default policy (no per-request templating on the source).
    const auth = (
        await ok(s.http, s.root, "POST", "auth/token/create", {
            policies: ["migration-reader"],
            no_default_policy: true,
            ttl: "4h",
        })
    ).auth;
    assert.deepEqual(auth.policies, ["migration-reader"]);
    return auth.client_token as string;
}

// ---------------------------------------------------------------------------------------------
// Planted data and what the target must then hold

type State = "live" | "deleted" | "destroyed";
interface Planted {
    kind: "kv1" | "kv2";
    mount: string;
    path: string;
    versions: { data: Body; state: State }[];
    settings?: Body;
}

const big = randomBytes(384 * 1024).toString("base64"); // 512 KiB of text

function plantedSet(tag: string): Planted[] {
    const v = (data: Body, state: State = "live") => ({ data, state });
    return [
        {
            kind: "kv2",
            mount: "secret",
            path: "app/config",
            versions: [v({ a: 1 }), v({ a: 2 }), v({ a: 3, nested: { list: [1, "two", { three: 3 }] } })],
        },
        { kind: "kv2", mount: "secret", path: "l1/l2/l3/l4/l5/l6", versions: [v({ depth: 6, tag })] },
        {
            kind: "kv2",
            mount: "secret",
            path: "names/with space/ünïcödé ключ",
            versions: [v({ "key with space": "välue ✓", tag })],
        },
        { kind: "kv2", mount: "secret", path: "big/blob", versions: [v({ blob: big })] },
        {
            kind: "kv2",
            mount: "secret",
            path: "history/doc",
            versions: [v({ h: 1 }), v({ h: 2 }, "deleted"), v({ h: 3 }, "destroyed"), v({ h: 4 })],
        },
        {
            kind: "kv2",
            mount: "secret",
            path: "meta/tagged",
            versions: [v({ m: 1 }), v({ m: 2 })],
            settings: {
                max_versions: 5,
                cas_required: true,
                delete_version_after: "768h0m0s",
                custom_metadata: { owner: "payments", tier: "1" },
            },
        },
        { kind: "kv2", mount: "secret", path: "canary/key", versions: [v({ token: CANARY })] },
        { kind: "kv2", mount: "secret", path: "x/collide", versions: [v({ from: "x" })] },
        { kind: "kv2", mount: "secret", path: "y/collide", versions: [v({ from: "y" })] },
        { kind: "kv2", mount: "secret", path: "conflict/x", versions: [v({ owner: "source" })] },
        { kind: "kv2", mount: "team", path: "svc/one", versions: [v({ n: 1 }), v({ n: 2 })] },
        { kind: "kv2", mount: "team", path: "svc/two", versions: [v({ n: 1 }, "deleted")] },
        { kind: "kv1", mount: "legacy", path: "old/flat", versions: [v({ flat: "yes", tag })] },
        { kind: "kv1", mount: "legacy", path: "old/nested/deeper/key", versions: [v({ deep: "v1 value" })] },
    ];
}

async function plant(s: Source, set: Planted[]): Promise<void> {
    const t = s.http;
    for (const m of ["team", "legacy"])
        await ok(t, s.root, "POST", `sys/mounts/${m}`, {
            type: "kv",
            options: { version: m === "legacy" ? "1" : "2" },
        });
    await ok(t, s.root, "POST", "sys/mounts/transit", { type: "transit" });
    const enc = (p: string) => p.split("/").map(encodeURIComponent).join("/");
    for (const p of set) {
        if (p.kind === "kv1") {
            await ok(t, s.root, "POST", `${p.mount}/${enc(p.path)}`, p.versions[0].data);
            continue;
        }
        if (p.settings) await ok(t, s.root, "POST", `${p.mount}/metadata/${enc(p.path)}`, p.settings);
        for (const [i, ver] of p.versions.entries())
            await ok(t, s.root, "POST", `${p.mount}/data/${enc(p.path)}`, { options: { cas: i }, data: ver.data });
        const del = p.versions.flatMap((x, i) => (x.state === "deleted" ? [i + 1] : []));
        const destroy = p.versions.flatMap((x, i) => (x.state === "destroyed" ? [i + 1] : []));
        if (del.length) await ok(t, s.root, "POST", `${p.mount}/delete/${enc(p.path)}`, { versions: del });
        if (destroy.length) await ok(t, s.root, "PUT", `${p.mount}/destroy/${enc(p.path)}`, { versions: destroy });
    }
}

/**
 * This test's own reading of the target against what it planted: each version's number, data and
 * state, and the settings. Independent of the tool's verify.
 */
async function assertTargetHolds(
    kv: string,
    prefixOf: (mount: string) => string,
    set: Planted[],
    token: string,
): Promise<number> {
    const t = live!.nodes[0].http;
    const enc = (p: string) => p.split("/").map(encodeURIComponent).join("/");
    let versions = 0;
    for (const p of set) {
        const where = `${kv}/${prefixOf(p.mount)}/${p.path}`;
        const tp = enc(`${prefixOf(p.mount)}/${p.path}`);
        const meta = (await ok(t, token, "GET", `${kv}/metadata/${tp}`)).data as Body;
        assert.equal(meta.current_version, p.versions.length, `${where}: current version`);
        for (const [i, ver] of p.versions.entries()) {
            versions++;
            const vm = meta.versions[String(i + 1)] as Body;
            assert.equal(vm.destroyed, ver.state === "destroyed", `${where} v${i + 1}: destroyed`);
            // delete_version_after writes a future deletion_time on every version: deleted means it has passed.
            const deleted = vm.deletion_time !== "" && Date.parse(vm.deletion_time) <= Date.now();
            assert.equal(deleted, ver.state === "deleted", `${where} v${i + 1}: deleted`);
            if (ver.state !== "live") continue;
            const r = await t({ method: "GET", path: `${kv}/data/${tp}?version=${i + 1}`, token });
            assert.equal(r.status, 200, `${where} v${i + 1}`);
            assert.deepEqual((r.body as Body).data.data, ver.data, `${where} v${i + 1}: data`);
        }
        if (p.settings) {
            assert.equal(meta.max_versions, p.settings.max_versions, `${where}: max_versions`);
            assert.equal(meta.cas_required, p.settings.cas_required, `${where}: cas_required`);
            assert.equal(meta.delete_version_after, p.settings.delete_version_after, `${where}: delete_version_after`);
            assert.deepEqual(meta.custom_metadata, p.settings.custom_metadata, `${where}: custom_metadata`);
        }
    }
    return versions;
}

// ---------------------------------------------------------------------------------------------
// Running the tool as its own process

const TSX = pathToFileURL(path.join(REPO, "node_modules", "tsx", "dist", "loader.mjs")).href;
const SCRIPT = path.join(REPO, "scripts", "migrate.ts");

interface Ran {
    code: number | null;
    signal: NodeJS.Signals | null;
    out: string;
    err: string;
    /** Whether the canary appeared in any process's command line or environment while it ran. */
    canaryInProc: boolean;
    ms: number;
}

function procHasCanary(): boolean {
    for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)))
        for (const f of ["cmdline", "environ"]) {
            try {
                if (fs.readFileSync(`/proc/${pid}/${f}`).includes(CANARY)) return true;
            } catch {
                /* gone, or not ours to read */
            }
        }
    return false;
}

function runTool(args: string[], env: Record<string, string>, opts: { killWhen?: () => boolean } = {}): Promise<Ran> {
    const t0 = Date.now();
    const child = spawn(process.execPath, ["--import", TSX, SCRIPT, ...args], {
        cwd: work,
        env: { PATH: process.env.PATH ?? "", HOME: work, CI: "true", ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    let canaryInProc = false;
    const sampler = setInterval(() => {
        canaryInProc ||= procHasCanary();
        if (opts.killWhen?.()) child.kill("SIGKILL");
    }, 100);
    return new Promise((resolve) =>
        child.on("exit", (code, signal) => {
            clearInterval(sampler);
            resolve({ code, signal, out, err, canaryInProc, ms: Date.now() - t0 });
        }),
    );
}

let loginFile = "";
function writeLoginFile(overrides: Body = {}): string {
    const l = live!;
    const file = path.join(work, `login-${randomBytes(4).toString("hex")}.json`);
    const login = {
        addr: `https://127.0.0.1:${l.nodes[0].ports.api}`,
        tlsServerName: l.nodes[0].name,
        caCert: l.caPem,
        approleMount: "approle",
        roleId: l.applied.roleIds["bonito-migration"],
        secretId: l.applied.secretIds["bonito-migration"],
        kvMount: l.backendEnv.VAULT_MOUNT,
        ...overrides,
    };
    fs.writeFileSync(file, JSON.stringify(login), { mode: 0o600 });
    return file;
}

function filesUnder(dir: string, skip: (p: string) => boolean, out: string[] = []): string[] {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (skip(p)) continue;
        if (e.isDirectory()) filesUnder(p, skip, out);
        else if (e.isFile()) out.push(p);
    }
    return out;
}

function filesWithCanary(dirs: string[]): string[] {
    const skip = (p: string) => /\/(node_modules|\.git|tools\/bin)$/.test(p);
    return dirs
        .flatMap((d) => filesUnder(d, skip))
        .filter((f) => {
            try {
                const st = fs.statSync(f);
                return st.size < 256 * 1024 * 1024 && fs.readFileSync(f).includes(CANARY);
            } catch {
                return false;
            }
        });
}

// ---------------------------------------------------------------------------------------------

const figures: Record<string, unknown> = {};
let dev: Source;
let railway: Source;
let kv = "";
const devSet = plantedSet("dev");
const railwaySet = plantedSet("railway");
const devMaps = ["--map", "secret=bonito/dev", "--map", "team=bonito/dev-team", "--map", "legacy=bonito/dev-legacy"];
const devPrefix = (m: string) => ({ secret: "dev", team: "dev-team", legacy: "dev-legacy" })[m]!;

describe(
    "real Vault 1.21.1: npm run migrate from dev and Railway sources into the hardened cluster",
    { timeout: 30 * 60_000 },
    () => {
        before(async () => {
            live = await bringUp({ config: { migrationWindow: "2h" } });
            kv = live.backendEnv.VAULT_MOUNT;
            dev = await devSource();
            railway = await railwaySource();
            await plant(dev, devSet);
            await plant(railway, railwaySet);
            dev.reader = await readerToken(dev);
            railway.reader = await readerToken(railway);
            loginFile = writeLoginFile();
        });

        after(async () => {
            for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
            await tearDown(live);
            if (process.env.BONITO_CONFORMANCE_KEEP !== "1") fs.rmSync(base, { recursive: true, force: true });
        });

        it("the migration AppRole writes under the KV mount and is refused elsewhere", async () => {
            const t = live!.nodes[0].http;
            const login = await call(t, "POST", "auth/approle/login", undefined, {
                role_id: live!.applied.roleIds["bonito-migration"],
                secret_id: live!.applied.secretIds["bonito-migration"],
            });
            assert.equal(login.status, 200);
            const auth = (login.body as Body).auth;
            assert.deepEqual(auth.policies, ["bonito-migration", "default"]);
            assert.equal(auth.lease_duration, 3600);
            const token = auth.client_token as string;
            for (const [method, p] of [
                ["GET", "sys/mounts"],
                ["GET", "sys/policies/acl/bonito-backend"],
                ["POST", "auth/approle/role/bonito-backend/secret-id"],
                ["POST", "sys/mounts/other"],
            ] as const)
                assert.equal(
                    (await call(t, method, p, token, method === "POST" ? {} : undefined)).status,
                    403,
                    `${method} ${p}`,
                );
            const sid = await call(
                t,
                "POST",
                "auth/approle/role/bonito-migration/secret-id/lookup",
                live!.applied.adminToken,
                {
                    secret_id: live!.applied.secretIds["bonito-migration"],
                },
            );
            assert.equal(
                (sid.body as Body).data.secret_id_ttl,
                7200,
                "the secret ID expires with migrationWindow (2h)",
            );
        });

        it("bad input: one line, exit 2, nothing written", async () => {
            const env = { SOURCE_VAULT_TOKEN: dev.reader };
            const cases: {
                args: string[];
                env?: Record<string, string>;
                want: RegExp;
                before?: () => Promise<void>;
                after?: () => Promise<void>;
            }[] = [
                {
                    args: ["--source-addr", `http://127.0.0.1:${PORT_BASE + 89}`],
                    want: /the source Vault at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/,
                },
                {
                    args: ["--source-addr", dev.addr],
                    env: { SOURCE_VAULT_TOKEN: "hvs.wrongwrongwrongwrongwrong" },
                    want: /the source refused GET \/v1\/auth\/token\/lookup-self \(403: .*permission denied.*\): the source token is wrong, expired/,
                },
                {
                    args: ["--source-addr", railway.addr],
                    env: { SOURCE_VAULT_TOKEN: railway.reader },
                    want: /the source Vault at http:\/\/127\.0\.0\.1:\d+ is sealed: unseal it, then run again/,
                    before: () => ok(railway.http, railway.root, "PUT", "sys/seal").then(() => undefined),
                    after: () =>
                        ok(railway.http, "", "PUT", "sys/unseal", { key: railway.unsealKey }).then(() => undefined),
                },
                {
                    args: ["--source-addr", dev.addr, "--map", "transit=bonito/x"],
                    want: /the source mount "transit\/" is a transit engine, not KV: only KV v1 and v2 mounts can be copied/,
                    env: { SOURCE_VAULT_TOKEN: dev.root },
                },
                {
                    args: ["--source-addr", "http://vault.railway.internal:8200"],
                    want: /--source-addr http:\/\/vault\.railway\.internal:8200: plain http to a non-loopback address/,
                },
                {
                    args: ["--source-addr", dev.addr, "--target-login-file", writeLoginFile({ caCert: "" })],
                    want: /TLS verification of the target \(https:\/\/127\.0\.0\.1:\d+\) failed: .*Pass the CA that signed its certificate with --target-ca <pem file>/,
                },
                {
                    args: [
                        "--source-addr",
                        dev.addr,
                        "--target-login-file",
                        writeLoginFile({ secretId: "not-the-secret-id" }),
                    ],
                    want: /the target refused the migration AppRole's login \(400: invalid role or secret ID\)/,
                },
            ];
            // An expired source token reads as refused too.
            const expiring = (
                await ok(dev.http, dev.root, "POST", "auth/token/create", { policies: ["migration-reader"], ttl: "1s" })
            ).auth.client_token as string;
            await new Promise((r) => setTimeout(r, 2100));
            cases.push({
                args: ["--source-addr", dev.addr],
                env: { SOURCE_VAULT_TOKEN: expiring },
                want: /the source refused GET \/v1\/auth\/token\/lookup-self \(403: .*permission denied.*\): the source token is wrong, expired/,
            });
            for (const c of cases) {
                await c.before?.();
                const args = ["copy", ...c.args];
                if (!args.includes("--target-login-file")) args.push("--target-login-file", loginFile);
                if (!args.includes("--map")) args.push(...devMaps);
                const r = await runTool(args, { ...env, ...c.env });
                await c.after?.();
                assert.equal(r.code, 2, `${c.want}: exit ${r.code}\n${r.out}${r.err}`);
                const lines = r.err.trim().split("\n");
                assert.equal(lines.length, 1, `one line: ${r.err}`);
                assert.match(lines[0], c.want);
            }
            const { token } = await backendLogin(live!);
            const listed = await call(live!.nodes[0].http, "GET", `${kv}/metadata/?list=true`, token);
            assert.equal(listed.status, 404, `nothing was written: ${JSON.stringify(listed.body)}`);
        });

        it("a target path holding different data is refused (nothing written); --overwrite replaces it", async () => {
            const { token } = await backendLogin(live!);
            await ok(live!.nodes[0].http, token, "POST", `${kv}/data/dev/conflict/x`, { data: { owner: "target" } });
            const refused = await runTool(
                ["copy", "--source-addr", dev.addr, ...devMaps, "--target-login-file", loginFile],
                { SOURCE_VAULT_TOKEN: dev.reader },
            );
            assert.equal(refused.code, 1, refused.out + refused.err);
            assert.match(
                refused.out,
                new RegExp(
                    `conflicts \\(1\\): the target already holds different data\\n  ${kv}/dev/conflict/x: version 1 holds different data on the target`,
                ),
            );
            assert.match(refused.out, /nothing was written\. Re-run with --overwrite/);
            const untouched = await call(live!.nodes[0].http, "GET", `${kv}/metadata/dev/app/config`, token);
            assert.equal(untouched.status, 404, "no other path was written");

            const r = await runTool(
                [
                    "copy",
                    "--source-addr",
                    dev.addr,
                    ...devMaps,
                    "--target-login-file",
                    loginFile,
                    "--overwrite",
                    "--report",
                    "report-dev.json",
                ],
                { SOURCE_VAULT_TOKEN: dev.reader },
            );
            assert.equal(r.code, 0, r.out + r.err);
            const report = JSON.parse(fs.readFileSync(path.join(work, "report-dev.json"), "utf8")) as Body;
            assert.deepEqual(
                report.entries.filter((e: Body) => e.action === "overwrite").map((e: Body) => e.target),
                [`${kv}/dev/conflict/x`],
            );
            assert.equal(report.differences.length, 0);
            assert.equal(fs.statSync(path.join(work, "report-dev.json")).mode & 0o777, 0o600);
            // Not moved, by name: the transit engine, the auth methods and the policies of the source.
            const notMoved = report.notMoved.map((n: Body) => `${n.kind} ${n.name}`);
            for (const want of [
                "secrets engine transit/",
                "secrets engine cubbyhole/",
                "auth method token/",
                "policy migration-reader",
                "policy default",
            ])
                assert.ok(notMoved.includes(want), `${want} in ${JSON.stringify(notMoved)}`);
            figures.devVersions = await assertTargetHolds(kv, devPrefix, devSet, token);
            assert.equal(
                r.canaryInProc || refused.canaryInProc,
                false,
                "the canary was in a process's command line or environment",
            );
            assert.ok(!(r.out + r.err).includes(CANARY));
        });

        it("the Railway file-storage source: every version, state and setting; verify clean; a second run writes nothing", async () => {
            const { token } = await backendLogin(live!);
            const maps = [
                "--map",
                "secret=bonito/railway",
                "--map",
                "team=bonito/railway-team",
                "--map",
                "legacy=bonito/railway-legacy",
            ];
            const args = ["copy", "--source-addr", railway.addr, ...maps, "--target-login-file", loginFile];
            const r = await runTool([...args, "--report", "report-railway.json"], {
                SOURCE_VAULT_TOKEN: railway.reader,
            });
            assert.equal(r.code, 0, r.out + r.err);
            const prefix = (m: string) => ({ secret: "railway", team: "railway-team", legacy: "railway-legacy" })[m]!;
            figures.railwayVersions = await assertTargetHolds(kv, prefix, railwaySet, token);
            const again = await runTool([...args, "--report", "report-railway-2.json"], {
                SOURCE_VAULT_TOKEN: railway.reader,
            });
            assert.equal(again.code, 0, again.out + again.err);
            const second = JSON.parse(fs.readFileSync(path.join(work, "report-railway-2.json"), "utf8")) as Body;
            assert.equal(second.versionsWritten, 0);
            assert.deepEqual([...new Set(second.entries.map((e: Body) => e.action))], ["unchanged"]);
            const v = await runTool(
                ["verify", "--source-addr", railway.addr, ...maps, "--target-login-file", loginFile],
                { SOURCE_VAULT_TOKEN: railway.reader },
            );
            assert.equal(v.code, 0, v.out + v.err);
            assert.match(v.out, /verify\s+paths\s+versions\s+bytes\s+differences/);
            assert.match(v.out, /secret=bonito\/railway\s+10\s+16\s+\d+\s+0/);
            assert.match(v.out, /legacy=bonito\/railway-legacy\s+2\s+2\s+\d+\s+0/);
            // A difference made on the target is found and named.
            await ok(live!.nodes[0].http, token, "POST", `${kv}/data/railway/x/collide`, {
                data: { from: "tampered" },
            });
            const bad = await runTool(
                ["verify", "--source-addr", railway.addr, ...maps, "--target-login-file", loginFile],
                { SOURCE_VAULT_TOKEN: railway.reader },
            );
            assert.equal(bad.code, 1);
            assert.match(bad.out, /differs: secret\/x\/collide: current version 1 on the source, 2 on the target/);
        });

        it(`kill -9 mid-copy, then a re-run: every version exactly once; ${BULK} secrets × 3 versions: first copy, 50 changed, final pass`, async () => {
            // The bulk set: BULK secrets in 10 folders, 3 versions each (the third is a change of the second).
            const t = dev.http;
            await ok(t, dev.root, "POST", "sys/mounts/bulk", { type: "kv", options: { version: "2" } });
            const key = (i: number) => `g${i % 10}/s${String(i).padStart(5, "0")}`;
            const t0 = Date.now();
            await pool(BULK, 32, async (i) => {
                for (let v = 0; v < 3; v++)
                    await ok(t, dev.root, "POST", `bulk/data/${key(i)}`, { data: { i, v, pad: "x".repeat(64) } });
            });
            figures.plantSeconds = (Date.now() - t0) / 1000;

            // Resume: one folder (BULK/10 secrets) into its own prefix, killed once the state file shows progress.
            const state = path.join(work, "resume-state.json");
            const resumeArgs = [
                "copy",
                "--source-addr",
                dev.addr,
                "--map",
                "bulk/g0=bonito/resume",
                "--target-login-file",
                loginFile,
                "--state",
                state,
                "--no-verify",
            ];
            const killed = await runTool(
                resumeArgs,
                { SOURCE_VAULT_TOKEN: dev.reader },
                { killWhen: () => fs.existsSync(state) },
            );
            assert.equal(killed.signal, "SIGKILL", `the copy finished before it could be killed: ${killed.out}`);
            const { token } = await backendLogin(live!);
            const partial = await call(live!.nodes[0].http, "GET", `${kv}/metadata/resume/?list=true`, token);
            const before = ((partial.body as Body).data?.keys ?? []).length as number;
            const resumed = await runTool(
                [...resumeArgs.filter((a) => a !== "--no-verify"), "--report", "report-resume.json"],
                { SOURCE_VAULT_TOKEN: dev.reader },
            );
            assert.equal(resumed.code, 0, resumed.out + resumed.err);
            const rr = JSON.parse(fs.readFileSync(path.join(work, "report-resume.json"), "utf8")) as Body;
            assert.equal(
                rr.differences.length,
                0,
                "verify after the resumed copy: every version once, same numbers, same data",
            );
            assert.ok(
                rr.versionsWritten < (BULK / 10) * 3,
                `the re-run wrote ${rr.versionsWritten}, less than the whole folder (${before} paths listed before)`,
            );
            // Independent of the tool: every secret of the folder is at version 3, with 3 versions.
            await pool(BULK / 10, 32, async (j) => {
                const i = j * 10;
                const m = (
                    await ok(live!.nodes[0].http, token, "GET", `${kv}/metadata/resume/s${String(i).padStart(5, "0")}`)
                ).data as Body;
                assert.equal(m.current_version, 3, key(i));
                assert.equal(Object.keys(m.versions).length, 3, key(i));
            });
            figures.resumedAfterKill = true;
            figures.resumeWrittenAfterKill = rr.versionsWritten;

            // The whole bulk set, timed: first copy, then 50 changes on the source, then the final pass.
            const bench = [
                "copy",
                "--source-addr",
                dev.addr,
                "--map",
                "bulk=bonito/bench",
                "--target-login-file",
                loginFile,
                "--no-verify",
            ];
            const first = await runTool([...bench, "--report", "report-bench-1.json"], {
                SOURCE_VAULT_TOKEN: dev.reader,
            });
            assert.equal(first.code, 0, first.out + first.err);
            const r1 = JSON.parse(fs.readFileSync(path.join(work, "report-bench-1.json"), "utf8")) as Body;
            assert.equal(r1.versionsWritten, BULK * 3);
            figures.firstCopySeconds = r1.copySeconds;
            // 4 on the source (metadata and 3 versions) and 3 writes on the target per secret, plus listings.
            figures.firstCopyRequestsPerSecret =
                Math.round(((r1.requests.source + r1.requests.target) / BULK) * 100) / 100;

            const changed = new Set<string>();
            for (let j = 0; j < 40; j++) {
                await ok(t, dev.root, "POST", `bulk/data/${key(j * 7)}`, { data: { changed: j } });
                changed.add(`bulk/${key(j * 7)}`);
            }
            for (let j = 0; j < 5; j++) {
                await ok(t, dev.root, "POST", `bulk/delete/${key(1000 + j)}`, { versions: [3] });
                changed.add(`bulk/${key(1000 + j)}`);
            }
            for (let j = 0; j < 3; j++) {
                await ok(t, dev.root, "PUT", `bulk/destroy/${key(2000 + j)}`, { versions: [1] });
                changed.add(`bulk/${key(2000 + j)}`);
            }
            await ok(t, dev.root, "POST", "bulk/data/g3/new-one", { data: { fresh: true } });
            changed.add("bulk/g3/new-one");
            await ok(t, dev.root, "DELETE", `bulk/metadata/${key(701)}`);
            changed.add(`bulk/${key(701)}`);
            assert.equal(changed.size, 50);

            const final = await runTool([...bench, "--report", "report-bench-2.json"], {
                SOURCE_VAULT_TOKEN: dev.reader,
            });
            assert.equal(final.code, 0, final.out + final.err);
            const r2 = JSON.parse(fs.readFileSync(path.join(work, "report-bench-2.json"), "utf8")) as Body;
            const touched = r2.entries
                .filter((e: Body) => e.action !== "unchanged")
                .map((e: Body) => e.source)
                .sort();
            assert.deepEqual(touched, [...changed].sort(), "the final pass touches exactly the changed set");
            assert.deepEqual(
                r2.entries.filter((e: Body) => e.action === "remove").map((e: Body) => e.target),
                [`${kv}/bench/${key(701)}`],
            );
            assert.equal(r2.versionsWritten, 41, "40 new versions and one new secret");
            figures.finalPassSeconds = r2.copySeconds;
            const v = await runTool(
                [
                    "verify",
                    "--source-addr",
                    dev.addr,
                    "--map",
                    "bulk=bonito/bench",
                    "--target-login-file",
                    loginFile,
                    "--report",
                    "report-bench-verify.json",
                ],
                { SOURCE_VAULT_TOKEN: dev.reader },
            );
            assert.equal(v.code, 0, v.out + v.err);
            const rv = JSON.parse(fs.readFileSync(path.join(work, "report-bench-verify.json"), "utf8")) as Body;
            figures.verifySeconds = rv.verifySeconds;
            figures.secrets = rv.paths;
            figures.versions = rv.verify.reduce((n: number, r: Body) => n + r.versions, 0);
            figures.differences = rv.differences.length;
            assert.equal(rv.differences.length, 0);
            assert.equal(rv.paths, BULK);
        });

        it("the canary is in no file under the working directory or the repository, and in no file of the target cluster", () => {
            const found = filesWithCanary([work, REPO, live!.base]);
            figures.canaryFound = found.length > 0;
            // Not vacuous: the dev copy above read the canary back from the target through the API (canary/key).
            assert.deepEqual(found, []);
        });

        it("records the figures", () => {
            recordFigures({
                migration: {
                    secrets: figures.secrets,
                    versions: figures.versions,
                    differences: figures.differences,
                    canaryFound: figures.canaryFound,
                    resumedAfterKill: figures.resumedAfterKill,
                    firstCopySeconds: figures.firstCopySeconds,
                    finalPassSeconds: figures.finalPassSeconds,
                    firstCopyRequestsPerSecret: figures.firstCopyRequestsPerSecret,
                    verifySeconds: figures.verifySeconds,
                    resumeWrittenAfterKill: figures.resumeWrittenAfterKill,
                    plantSeconds: figures.plantSeconds,
                    plantedVersionsChecked: Number(figures.devVersions ?? 0) + Number(figures.railwayVersions ?? 0),
                },
            });
        });
    },
);
