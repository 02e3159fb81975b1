/**
 * NodeTls (components/tls/nodeTls.ts) without Docker or Vault: the archive it builds, the Engine API
 * request sequence for a fresh and for a running container, the wait for the pushed serial, every
 * refusal's text; the Docker host URIs it understands and the ssh call it makes; its Engine API
 * client over a unix socket and over a stand-in `ssh` (stdio); and the provider serialised as the
 * engine serialises it, end to end against a stand-in engine and a TLS server that reloads its
 * certificate on "SIGHUP", as Vault does.
 * Does not prove: that a real dockerd extracts the archive with the declared owner and modes, or that
 * Vault reloads on SIGHUP (the Docker tier, test/docker/local.test.ts, and the real-server tier,
 * test/conformance/certs.test.ts, do).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { readTarArchive, tarArchive } from "../../components/tls/archive";
import {
    dockerHostTarget,
    engineCall,
    sshDialCommand,
    type EngineCall,
    type EngineResponse,
} from "../../components/tls/dockerEngine";
import {
    certIdentity,
    markerText,
    nodeTlsProvider,
    normalSerial,
    pushNodeTls,
    SIGHUP_SERVER_SCRIPT,
    tlsEntries,
    type NodeTlsInputs,
    type Served,
} from "../../components/tls/nodeTls";
import { dynamicType } from "../../components/dynamicResource";
import { TYPES } from "../../policies/lib/common";
import { TestCa } from "../conformance/lib/pki";

const DECLARED = {
    commonName: "vault-0",
    dnsNames: ["vault-0", "vault", "localhost"],
    ipAddresses: ["127.0.0.1"],
    allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
    validityHours: 24,
};
const CA_DECL = { ...DECLARED, commonName: "test CA", dnsNames: [], ipAddresses: [], allowedUses: ["cert_signing"] };

let dir: string;
let ca: TestCa;
let first: { cert: string; key: string };
let second: { cert: string; key: string };

before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-nodetls-"));
    ca = new TestCa(path.join(dir, "ca"), CA_DECL, "bonito-vault-test");
    const read = (i: { cert: string; key: string }) => ({
        cert: fs.readFileSync(i.cert, "utf8"),
        key: fs.readFileSync(i.key, "utf8"),
    });
    first = read(ca.issue("first", DECLARED, "bonito-vault-test"));
    second = read(ca.issue("second", DECLARED, "bonito-vault-test"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function inputs(over: Partial<NodeTlsInputs> = {}): NodeTlsInputs {
    return {
        node: "vault-0",
        dockerHost: "",
        containerId: "c0ffee0000000000000000000000000000000000000000000000000000000000",
        caCertPem: ca.pem,
        certPem: second.cert,
        keyPem: second.key,
        uid: 100,
        gid: 1000,
        addr: "https://127.0.0.1:8200",
        tlsServerName: "vault",
        timeoutSeconds: 10,
        ...over,
    };
}

interface Call {
    method: string;
    path: string;
    body?: Buffer;
    contentType?: string;
}

/** An engine that answers by `METHOD path-without-query` and records every call. */
function fakeEngine(answers: Record<string, Partial<EngineResponse> & { status: number }>): EngineCall & {
    calls: Call[];
} {
    const calls: Call[] = [];
    const f = async (method: string, p: string, body?: Buffer, contentType?: string): Promise<EngineResponse> => {
        calls.push({ method, path: p, body, contentType });
        const a = answers[`${method} ${p.split("?")[0]}`] ?? {
            status: 500,
            body: Buffer.from('{"message":"unexpected"}'),
        };
        return { headers: {}, body: Buffer.alloc(0), ...a };
    };
    return Object.assign(f, { calls });
}

const EXEC_CREATED = { status: 201, body: Buffer.from('{"Id":"e1"}') };
const EXEC_DONE = { status: 200, body: Buffer.from('{"Running":false,"ExitCode":0}') };
const RUNNING = { status: 200, body: Buffer.from(JSON.stringify({ State: { Running: true, Status: "running" } })) };
const ID = inputs().containerId;

/** A fake clock: `sleep` advances it. */
function clock() {
    let t = 1_700_000_000_000;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

function servedSequence(...xs: (Served | Error)[]): () => Promise<Served> {
    let i = 0;
    return async () => {
        const x = xs[Math.min(i++, xs.length - 1)];
        if (x instanceof Error) throw x;
        return x;
    };
}

async function message(p: Promise<unknown>): Promise<string> {
    try {
        await p;
    } catch (e) {
        return (e as Error).message;
    }
    assert.fail("expected a refusal");
}

describe("the archive", () => {
    it("holds each file with its owner, group and mode, the marker last; GNU tar reads it the same", () => {
        const entries = tlsEntries(inputs());
        assert.deepEqual(
            entries.map((e) => [e.path, e.mode.toString(8), e.uid, e.gid]),
            [
                ["/vault/tls/ca.pem", "444", 100, 1000],
                ["/vault/tls/node.pem", "444", 100, 1000],
                ["/vault/tls/node-key.pem", "400", 100, 1000],
                ["/vault/tls/pushed", "444", 100, 1000],
            ],
        );
        const tar = tarArchive(entries, 1_700_000_000);
        assert.equal(tar.length % 512, 0);
        assert.deepEqual(readTarArchive(tar), entries);
        const listing = execFileSync("tar", ["--numeric-owner", "-tvf", "-"], { input: tar, encoding: "utf8" })
            .trim()
            .split("\n")
            .map((l) => l.split(/\s+/))
            .map((f) => [f[0], f[1], f[f.length - 1]]);
        assert.deepEqual(listing, [
            ["-r--r--r--", "100/1000", "vault/tls/ca.pem"],
            ["-r--r--r--", "100/1000", "vault/tls/node.pem"],
            ["-r--------", "100/1000", "vault/tls/node-key.pem"],
            ["-r--r--r--", "100/1000", "vault/tls/pushed"],
        ]);
        const extracted = execFileSync("tar", ["-xOf", "-", "vault/tls/node-key.pem"], {
            input: tar,
            encoding: "utf8",
        });
        assert.equal(extracted, second.key);
    });

    it("the marker names the certificate (serial, fingerprint) and holds nothing secret", () => {
        const text = markerText(second.cert);
        const id = certIdentity(second.cert);
        assert.equal(text, `serial ${id.serial}\nsha256 ${id.sha256}\n`);
        assert.doesNotMatch(text, /PRIVATE|BEGIN/);
        assert.equal(normalSerial("00:0a:BC"), "ABC");
    });

    it("refuses paths the ustar name field cannot hold or that climb out", () => {
        const e = { content: "x", mode: 0o444, uid: 0, gid: 0 };
        assert.throws(() => tarArchive([{ ...e, path: `/${"a".repeat(100)}` }], 0), /not allowed/);
        assert.throws(() => tarArchive([{ ...e, path: "/vault/../etc/passwd" }], 0), /not allowed/);
    });
});

describe("the request sequence", () => {
    it("fresh container: inspect, look for the marker, write the files; no SIGHUP (the entrypoint starts Vault on them)", async () => {
        const engine = fakeEngine({
            [`GET /containers/${ID}/json`]: RUNNING,
            [`HEAD /containers/${ID}/archive`]: { status: 404 },
            [`PUT /containers/${ID}/archive`]: { status: 200 },
        });
        const c = clock();
        const r = await pushNodeTls(inputs(), {
            engine,
            served: servedSequence(new Error("ECONNREFUSED"), {
                serial: certIdentity(second.cert).serial,
                verified: true,
            }),
            ...c,
        });
        assert.deepEqual(r, { serial: certIdentity(second.cert).serial, reload: "start" });
        assert.deepEqual(
            engine.calls.map((x) => `${x.method} ${x.path}`),
            [
                `GET /containers/${ID}/json`,
                `HEAD /containers/${ID}/archive?path=%2Fvault%2Ftls%2Fpushed`,
                `PUT /containers/${ID}/archive?path=%2F&noOverwriteDirNonDir=true`,
            ],
        );
        const put = engine.calls[2];
        assert.equal(put.contentType, "application/x-tar");
        assert.deepEqual(readTarArchive(put.body!), tlsEntries(inputs()));
    });

    it("running node: the files, then SIGHUP, then new handshakes until the new serial is served", async () => {
        const engine = fakeEngine({
            [`GET /containers/${ID}/json`]: RUNNING,
            [`HEAD /containers/${ID}/archive`]: { status: 200 },
            [`PUT /containers/${ID}/archive`]: { status: 200 },
            [`POST /containers/${ID}/exec`]: EXEC_CREATED,
            [`POST /exec/e1/start`]: { status: 200 },
            [`GET /exec/e1/json`]: EXEC_DONE,
        });
        const old = { serial: certIdentity(first.cert).serial, verified: true };
        const now = { serial: certIdentity(second.cert).serial, verified: true };
        let probes = 0;
        const r = await pushNodeTls(inputs(), {
            engine,
            served: async () => (++probes < 3 ? old : now),
            ...clock(),
        });
        assert.deepEqual(r, { serial: now.serial, reload: "sighup" });
        assert.equal(probes, 3);
        assert.deepEqual(
            engine.calls.map((x) => `${x.method} ${x.path}`),
            [
                `GET /containers/${ID}/json`,
                `HEAD /containers/${ID}/archive?path=%2Fvault%2Ftls%2Fpushed`,
                `PUT /containers/${ID}/archive?path=%2F&noOverwriteDirNonDir=true`,
                `POST /containers/${ID}/exec`,
                "POST /exec/e1/start",
                "GET /exec/e1/json",
            ],
        );
        // SIGHUP from inside, as the server's own user (tini, root without CAP_KILL, may not forward it).
        assert.deepEqual(JSON.parse(engine.calls[3].body!.toString("utf8")), {
            User: "100:1000",
            Cmd: ["/bin/sh", "-c", SIGHUP_SERVER_SCRIPT],
            AttachStdout: false,
            AttachStderr: false,
        });
        assert.deepEqual(JSON.parse(engine.calls[4].body!.toString("utf8")), { Detach: true, Tty: false });
        // The key travels in the PUT body only.
        for (const x of engine.calls.filter((c) => c.method !== "PUT"))
            assert.doesNotMatch(`${x.path} ${x.body?.toString("utf8") ?? ""}`, /PRIVATE/);
    });

    it("refuses, naming the node and the cause, without ever quoting the key", async () => {
        const key = second.key;
        const cases: [Record<string, Partial<EngineResponse> & { status: number }>, () => Promise<Served>, RegExp][] = [
            [
                {},
                servedSequence(new Error("x")),
                /NodeTls: node vault-0 \(container c0ffee000000\): inspecting the container answered 500: unexpected/,
            ],
            [
                { [`GET /containers/${ID}/json`]: { status: 404 } },
                servedSequence(new Error("x")),
                /the container does not exist on its Docker host \(removed outside Pulumi\? run `pulumi refresh`\)/,
            ],
            [
                {
                    [`GET /containers/${ID}/json`]: {
                        status: 200,
                        body: Buffer.from(JSON.stringify({ State: { Running: false, Status: "restarting" } })),
                    },
                },
                servedSequence(new Error("x")),
                /the container is not running \(restarting\); see `docker logs`/,
            ],
            [
                {
                    [`GET /containers/${ID}/json`]: RUNNING,
                    [`HEAD /containers/${ID}/archive`]: { status: 200 },
                    [`PUT /containers/${ID}/archive`]: {
                        status: 403,
                        body: Buffer.from('{"message":"container rootfs is marked read-only"}'),
                    },
                },
                servedSequence(new Error("x")),
                /writing the TLS files answered 403: container rootfs is marked read-only/,
            ],
            [
                {
                    [`GET /containers/${ID}/json`]: RUNNING,
                    [`HEAD /containers/${ID}/archive`]: { status: 200 },
                    [`PUT /containers/${ID}/archive`]: { status: 200 },
                    [`POST /containers/${ID}/exec`]: EXEC_CREATED,
                    [`POST /exec/e1/start`]: { status: 200 },
                    [`GET /exec/e1/json`]: EXEC_DONE,
                },
                servedSequence({ serial: "01", verified: true }),
                /after 10 s it serves serial 1, not the pushed serial [0-9A-F]+\. The files are in place: Vault did not reload them on SIGHUP; its log \(`docker logs`\) says why \(a key that does not match the certificate\?\)\. Fix the cause and run `pulumi up` again\./,
            ],
            [
                {
                    [`GET /containers/${ID}/json`]: RUNNING,
                    [`HEAD /containers/${ID}/archive`]: { status: 404 },
                    [`PUT /containers/${ID}/archive`]: { status: 200 },
                },
                servedSequence(new Error("connect ECONNREFUSED 127.0.0.1:8200")),
                /after 10 s it no TLS handshake at https:\/\/127\.0\.0\.1:8200 \(connect ECONNREFUSED 127\.0\.0\.1:8200\), not the pushed serial [0-9A-F]+\. The files are in place: Vault has not started on them; see `docker logs`\./,
            ],
            [
                {
                    [`GET /containers/${ID}/json`]: RUNNING,
                    [`HEAD /containers/${ID}/archive`]: { status: 200 },
                    [`PUT /containers/${ID}/archive`]: { status: 200 },
                    [`POST /containers/${ID}/exec`]: EXEC_CREATED,
                    [`POST /exec/e1/start`]: { status: 200 },
                    [`GET /exec/e1/json`]: EXEC_DONE,
                },
                servedSequence({
                    serial: certIdentity(second.cert).serial,
                    verified: false,
                    error: "ERR_TLS_CERT_ALTNAME_INVALID",
                }),
                /it serves the pushed certificate \(serial [0-9A-F]+\), but that does not verify against the pushed CA under vault: ERR_TLS_CERT_ALTNAME_INVALID/,
            ],
        ];
        cases.push([
            {
                [`GET /containers/${ID}/json`]: RUNNING,
                [`HEAD /containers/${ID}/archive`]: { status: 200 },
                [`PUT /containers/${ID}/archive`]: { status: 200 },
                [`POST /containers/${ID}/exec`]: EXEC_CREATED,
                [`POST /exec/e1/start`]: { status: 200 },
                [`GET /exec/e1/json`]: { status: 200, body: Buffer.from('{"Running":false,"ExitCode":3}') },
            },
            servedSequence(new Error("x")),
            /the files are in place, but no Vault process runs to reload them \(restarting\?\); see `docker logs`, then run `pulumi up` again\./,
        ]);
        for (const [answers, served, expected] of cases) {
            const m = await message(pushNodeTls(inputs(), { engine: fakeEngine(answers), served, ...clock() }));
            assert.match(m, expected);
            assert.ok(!m.includes(key.split("\n")[1]), "the key is never quoted");
        }
    });
});

describe("Docker hosts", () => {
    it("reads the URIs the stack config allows, as the Docker CLI does", () => {
        assert.deepEqual(dockerHostTarget("", {}), { kind: "unix", socketPath: "/var/run/docker.sock" });
        assert.deepEqual(dockerHostTarget(undefined, { DOCKER_HOST: "unix:///run/user/1000/docker.sock" }), {
            kind: "unix",
            socketPath: "/run/user/1000/docker.sock",
        });
        assert.deepEqual(dockerHostTarget("ssh://deploy@vault-0.bonito.internal", {}), {
            kind: "ssh",
            host: "vault-0.bonito.internal",
            user: "deploy",
        });
        assert.deepEqual(dockerHostTarget("ssh://h:2222", {}), { kind: "ssh", host: "h", port: 2222 });
        assert.deepEqual(dockerHostTarget("tcp://10.0.0.5:2375", {}), { kind: "tcp", host: "10.0.0.5", port: 2375 });
        const files: string[] = [];
        assert.deepEqual(
            dockerHostTarget("tcp://docker.internal", { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" }, (p) => {
                files.push(p);
                return `pem of ${p}`;
            }),
            {
                kind: "tcp",
                host: "docker.internal",
                port: 2376,
                tls: { ca: "pem of /certs/ca.pem", cert: "pem of /certs/cert.pem", key: "pem of /certs/key.pem" },
            },
        );
        assert.throws(
            () => dockerHostTarget("npipe:////./pipe/docker_engine", {}),
            /expected unix:\/\/\/path, tcp:\/\/host:port or ssh:\/\/\[user@\]host\[:port\]/,
        );
        assert.throws(() => dockerHostTarget("unix://relative.sock", {}), /must be absolute/);
    });

    it("dials ssh as the Docker CLI's connection helper does, without a prompt", () => {
        assert.deepEqual(sshDialCommand({ kind: "ssh", host: "vault-0.bonito.internal", user: "deploy", port: 2222 }), {
            file: "ssh",
            args: [
                "-T",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=30",
                "-l",
                "deploy",
                "-p",
                "2222",
                "--",
                "vault-0.bonito.internal",
                "docker",
                "system",
                "dial-stdio",
            ],
        });
    });
});

/** A stand-in Docker daemon on a unix socket: records requests, answers from `handler`. */
function fakeDaemon(
    socket: string,
    handler: (req: { method: string; url: string; body: Buffer }) => { status: number; body?: string },
): Promise<http.Server & { seen: { method: string; url: string; body: Buffer }[] }> {
    const seen: { method: string; url: string; body: Buffer }[] = [];
    const srv = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const r = { method: req.method ?? "", url: req.url ?? "", body: Buffer.concat(chunks) };
            seen.push(r);
            const a = handler(r);
            res.writeHead(a.status, { "Content-Type": "application/json" });
            res.end(a.body ?? "");
        });
    });
    return new Promise((resolve) => srv.listen(socket, () => resolve(Object.assign(srv, { seen }))));
}

describe("the Engine API client", () => {
    it("over a unix socket and over `ssh … docker system dial-stdio` (a stand-in ssh piping to the socket)", async () => {
        const socket = path.join(dir, "docker.sock");
        const daemon = await fakeDaemon(socket, (r) =>
            r.method === "PUT" ? { status: 200 } : { status: 200, body: JSON.stringify({ got: r.url }) },
        );
        try {
            const direct = engineCall({ kind: "unix", socketPath: socket });
            const tar = tarArchive(tlsEntries(inputs()), 1);
            const put = await direct("PUT", "/containers/x/archive?path=%2F", tar, "application/x-tar");
            assert.equal(put.status, 200);
            assert.deepEqual(daemon.seen[0].body, tar);

            const argsFile = path.join(dir, "ssh-args.json");
            const fakeSsh = path.join(dir, "ssh");
            fs.writeFileSync(
                path.join(dir, "ssh.js"),
                `require("fs").writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)));
                 const s = require("net").connect(${JSON.stringify(socket)});
                 process.stdin.pipe(s); s.pipe(process.stdout);`,
            );
            fs.writeFileSync(fakeSsh, `#!/bin/sh\nexec ${process.execPath} ${path.join(dir, "ssh.js")} "$@"\n`, {
                mode: 0o755,
            });
            const viaSsh = engineCall(
                { kind: "ssh", host: "vault-1.bonito.internal", user: "deploy" },
                { sshBinary: fakeSsh },
            );
            const got = await viaSsh("GET", "/containers/abc/json");
            assert.equal(got.status, 200);
            assert.deepEqual(JSON.parse(got.body.toString("utf8")), { got: "/containers/abc/json" });
            const args = JSON.parse(fs.readFileSync(argsFile, "utf8")) as string[];
            assert.deepEqual(args.slice(-5), ["--", "vault-1.bonito.internal", "docker", "system", "dial-stdio"]);
            const put2 = await viaSsh("PUT", "/containers/abc/archive?path=%2F", tar, "application/x-tar");
            assert.equal(put2.status, 200);
            assert.deepEqual(daemon.seen[2].body, tar, "the archive arrives whole through ssh's stdio");
            // No secret on the command line.
            assert.doesNotMatch(fs.readFileSync(argsFile, "utf8"), /PRIVATE|BEGIN/);
        } finally {
            await new Promise((r) => daemon.close(r));
        }
    });
});

type Provider = Required<Pick<pulumi.dynamic.ResourceProvider, "create" | "update" | "diff">>;
const requireFromString = createRequire(require.resolve("@pulumi/pulumi/package.json"))("require-from-string") as (
    code: string,
) => { handler(): Provider };

describe("the provider as the engine runs it", () => {
    it("is the type the policy pack reads (policies/lib/common.ts TYPES.nodeTls)", () => {
        assert.equal(TYPES.nodeTls, dynamicType("NodeTls"));
    });

    it("serialised: writes into a stand-in engine, the 'node' reloads on SIGHUP, the new serial is verified; diff never replaces", async () => {
        const sf = await pulumi.runtime.serializeFunction(() => nodeTlsProvider, { allowSecrets: true });
        const provider = requireFromString(sf.text).handler();

        // The "node": a TLS server on the first certificate that loads the pushed files on SIGHUP.
        let files: Record<string, string> = {};
        const server = tls.createServer({ cert: first.cert, key: first.key }, (s) => s.end());
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as { port: number }).port;
        const socket = path.join(dir, "engine.sock");
        const running = new Set<string>();
        const daemon = await fakeDaemon(socket, (r) => {
            const [route] = r.url.split("?");
            if (r.method === "GET" && route.startsWith("/containers/") && route.endsWith("/json"))
                return { status: 200, body: JSON.stringify({ State: { Running: true } }) };
            if (r.method === "HEAD") return { status: running.has(route) ? 200 : 404 };
            if (r.method === "PUT") {
                for (const e of readTarArchive(r.body)) files[e.path] = e.content;
                running.add(route);
                return { status: 200 };
            }
            if (r.method === "POST" && route.endsWith("/exec")) return { status: 201, body: '{"Id":"x1"}' };
            if (r.method === "POST" && route === "/exec/x1/start") {
                // The exec's `kill -HUP`: the "node" reloads its files.
                server.setSecureContext({ cert: files["/vault/tls/node.pem"], key: files["/vault/tls/node-key.pem"] });
                return { status: 200 };
            }
            if (r.method === "GET" && route === "/exec/x1/json")
                return { status: 200, body: '{"Running":false,"ExitCode":0}' };
            return { status: 500 };
        });
        try {
            const base = inputs({
                dockerHost: `unix://${socket}`,
                addr: `https://127.0.0.1:${port}`,
                certPem: first.cert,
                keyPem: first.key,
            });
            const created = await provider.create(base);
            assert.equal(created.outs.reload, "start");
            assert.equal(created.outs.serial, certIdentity(first.cert).serial);
            files = {};
            const renewed = { ...base, certPem: second.cert, keyPem: second.key };
            const d = await provider.diff(created.id, created.outs, renewed);
            assert.deepEqual(d, { changes: true, replaces: [] });
            const updated = await provider.update(created.id, created.outs, renewed);
            assert.equal(updated.outs!.reload, "sighup");
            assert.equal(updated.outs!.serial, certIdentity(second.cert).serial);
            assert.equal(files["/vault/tls/node-key.pem"], second.key);
            assert.deepEqual(
                daemon.seen.map((s) => `${s.method} ${s.url.split("?")[0].replace(/^\/containers\/[^/]+/, "")}`),
                [
                    "GET /json",
                    "HEAD /archive",
                    "PUT /archive",
                    "GET /json",
                    "HEAD /archive",
                    "PUT /archive",
                    "POST /exec",
                    "POST /exec/x1/start",
                    "GET /exec/x1/json",
                ],
            );
            assert.deepEqual(await provider.diff(created.id, updated.outs!, renewed), { changes: false, replaces: [] });
            assert.deepEqual(await provider.diff(created.id, updated.outs!, { ...renewed, containerId: "new" }), {
                changes: true,
                replaces: [],
            });
        } finally {
            server.close();
            await new Promise((r) => daemon.close(r));
        }
    });
});
