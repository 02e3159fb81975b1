/**
 * Docker tier: the `local` stack's containers run on a real Docker engine exactly as the program
 * declares them (the unredacted inputs recorded under the mock runtime, test/conformance/lib/declared.ts),
 * translated to Engine API calls by test/docker/lib/translate.ts, whose DIFFERENCES list every
 * departure with its reason. Run with `npm run test:docker` (root, Linux; installs docker.io,
 * busybox-static and gosu with apt and starts its own dockerd when none answers).
 *
 * Proves, by asking the kernel and the engine: the entrypoint drops to uid 100 with no effective
 * capability, the container's bounding set is the declared adds, core dumps are off, uploads land
 * with the declared owner and mode, the volume roots end 0700 vault-owned on the named volumes and
 * survive `docker rm` + re-create, every node turns healthy through its declared healthcheck, the
 * cluster returns to 3 unsealed voters after `docker restart` of each node and of the unsealer
 * (re-unsealed with the program's own ensureUnsealed), and the audit rotation loop survives
 * restarts and re-creation of its Vault container.
 * Does not prove: the Pulumi docker provider's own translation (the tier mirrors its API calls),
 * published ports, the syslog audit device, or anything cloud.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { declaredStack, type DeclaredStack } from "../conformance/lib/declared";
import { TestCa } from "../conformance/lib/pki";
import { ensureUnsealed, runBootstrap, type FetchLike, type TransitSetup } from "../../components/unseal/transit";
import { UNSEALER_API_PORT } from "../../components/unseal/local";
import { startEngine, until, type Engine } from "./lib/engine";
import { IMAGE, buildImage } from "./lib/image";
import { DIFFERENCES, PROCEDURE, translate, uploadTar, type DifferenceId, type Translated } from "./lib/translate";

const started = Date.now();
let engine: Engine;
let d: DeclaredStack;
let network = "";
let imageBuilt = false;
let pkiDir = "";
const created = new Set<string>();
const volumes = new Set<string>();
const applied = new Map<string, DifferenceId[]>();
let transitToken = "";
let unsealKey = "";
let rootToken = "";
let files: Record<string, Record<string, { content: string; because: DifferenceId }>> = {};

/**
 * The transit setup UnsealerInit was declared with, checked: each field runBootstrap reads must be a
 * string in the recorded inputs; a different shape fails naming the input.
 */
function declaredTransitSetup(inputs: Record<string, unknown>): TransitSetup {
    const text = (key: keyof TransitSetup): string => {
        const v = inputs[key];
        if (typeof v !== "string")
            throw new Error(`UnsealerInit input ${key}: expected a string, got ${JSON.stringify(v)}`);
        return v;
    };
    return {
        mountPath: text("mountPath"),
        keyName: text("keyName"),
        policyName: text("policyName"),
        tokenPeriod: text("tokenPeriod"),
        autoRotatePeriod: text("autoRotatePeriod"),
        policy: text("policy"),
    };
}

const WAIT = { sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), attempts: 120, intervalMs: 500 };

/** The unsealer's API from inside its own container (busybox wget): the internal network is unreachable from here. */
function execFetch(container: string): FetchLike {
    return async (url, init) => {
        const headers = Object.entries(init.headers).flatMap(([k, v]) => ["--header", `${k}: ${v}`]);
        const post = init.method === "GET" ? [] : ["--post-file=/dev/stdin"];
        const r = await engine.docker(
            ["exec", "-i", container, "wget", "-S", "-q", "-O", "-", ...headers, ...post, url],
            {
                input: init.body ?? "",
                allowFail: true,
            },
        );
        const codes = [...r.stderr.matchAll(/HTTP\/1\.[01] (\d{3})/g)];
        if (!codes.length && r.code !== 0)
            throw new Error(`no HTTP answer from ${url}: ${r.stderr.trim().slice(0, 200)}`);
        const status = codes.length ? Number(codes[codes.length - 1][1]) : 200;
        return { status, text: async () => r.stdout };
    };
}

/** A shell line in the container: as its user (root without DAC_OVERRIDE, so not into 0700 vault folders) or `user`. */
async function exec(container: string, script: string, env: string[] = [], user?: string) {
    const u = user ? ["-u", user] : [];
    return engine.docker(["exec", ...u, ...env.flatMap((e) => ["-e", e]), container, "sh", "-c", script], {
        allowFail: true,
    });
}

const VAULT_USER = "100:1000";

interface Inspected {
    Id: string;
    State: { Running: boolean; StartedAt: string; Health?: { Status: string } };
    Mounts: { Type: string; Name: string; Destination: string }[];
}

async function inspect(container: string): Promise<Inspected> {
    return (JSON.parse((await engine.docker(["inspect", container])).stdout) as Inspected[])[0];
}

async function create(t: Translated): Promise<void> {
    const r = await engine.api("POST", `/containers/create?name=${encodeURIComponent(t.name)}`, t.body);
    if (r.status !== 201) throw new Error(`create ${t.name}: ${r.status} ${r.body}`);
    created.add(t.name);
    for (const b of (t.body.HostConfig as { Binds: string[] }).Binds) volumes.add(b.split(":")[0]);
    if (t.uploads.length) {
        const u = await engine.api(
            "PUT",
            `/containers/${encodeURIComponent(t.name)}/archive?path=/`,
            undefined,
            uploadTar(t.uploads),
        );
        if (u.status !== 200) throw new Error(`upload into ${t.name}: ${u.status} ${u.body}`);
    }
    applied.set(t.name, t.applied);
    await engine.docker(["start", t.name]);
}

function nodeContainer(n: string): Translated {
    return translate(d.nodes[n].raw, {
        image: IMAGE,
        nofileLimit: engine.nofileLimit,
        env: { VAULT_TOKEN: { value: transitToken, because: "transitToken" } },
        files: files[n],
    });
}

const names = () => d.nodeNames.map((n) => d.nodes[n].name);

/** `vault status` inside the container with its own VAULT_ADDR/VAULT_CACERT: 0 unsealed, 2 sealed, 1 error. */
async function status(container: string): Promise<{ code: number; json?: Record<string, unknown> }> {
    const r = await exec(container, "vault status -format=json");
    let json: Record<string, unknown> | undefined;
    try {
        json = JSON.parse(r.stdout);
    } catch {
        json = undefined;
    }
    return { code: r.code, json };
}

/** Autopilot's view: every server healthy and a voter (or the leader), the cluster healthy. */
async function healthyVoters(): Promise<string[] | undefined> {
    for (const c of names()) {
        const r = await exec(c, "vault operator raft autopilot state -format=json", [`VAULT_TOKEN=${rootToken}`]);
        if (r.code !== 0) continue;
        // The CLI prints the state with Go's field names (Healthy, Servers, ID, Status).
        const st = JSON.parse(r.stdout) as AutopilotState;
        if (!st.Healthy) return undefined;
        const servers = Object.values(st.Servers ?? {});
        if (!servers.every((x) => x.Healthy)) return undefined;
        return servers.filter((x) => x.Status === "voter" || x.Status === "leader").map((x) => x.ID);
    }
    return undefined;
}

interface AutopilotState {
    Healthy?: boolean;
    Servers?: Record<string, { ID: string; Healthy: boolean; Status: string }>;
}

/** The last log lines and status of every container, for a failure message. */
async function evidence(): Promise<string> {
    const out: string[] = [];
    for (const c of created) {
        const logs = await engine.docker(["logs", "--tail", "15", c], { allowFail: true });
        const st = await status(c);
        const ap = await exec(c, "vault operator raft autopilot state -format=json", [`VAULT_TOKEN=${rootToken}`]);
        out.push(
            `--- ${c}: status ${st.code} ${JSON.stringify(st.json ?? {})}`,
            logs.stdout,
            logs.stderr,
            ap.stdout.slice(0, 1500),
            ap.stderr,
        );
    }
    return out.join("\n");
}

async function threeUnsealedVoters(what: string): Promise<void> {
    await until(
        `3 unsealed healthy voters (${what})`,
        Number(process.env.BONITO_DOCKER_CLUSTER_WAIT_MS ?? 240_000),
        async () => {
            for (const c of names()) if ((await status(c)).code !== 0) return undefined;
            const v = await healthyVoters();
            return v && v.length === d.nodeNames.length ? true : undefined;
        },
        1000,
    ).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${await evidence()}`);
    });
}

async function healthy(container: string): Promise<void> {
    await until(
        `${container} healthy`,
        180_000,
        async () => {
            const s = (await inspect(container)).State;
            if (!s.Running) return undefined;
            return s.Health?.Status === "healthy" ? true : undefined;
        },
        1000,
    );
}

async function rotatorPid(container: string): Promise<string | undefined> {
    const r = await exec(container, "ps -o pid,user,args");
    // The loop itself (su-exec execs it): not PID 1's command line, which merely mentions the script.
    const loops = r.stdout
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.slice(2).join(" ") === "/bin/sh /vault/config/audit-rotator.sh");
    if (!loops.length) return undefined;
    assert.equal(loops.length, 1, `${container}: one rotation loop`);
    const [pid, user] = loops[0];
    assert.ok(user === "vault" || user === "100", `${container}: the rotation loop runs as vault, not ${user}`);
    return pid;
}

async function serverProc(container: string, file: string): Promise<string> {
    // The server: the vault process whose parent is the container's init (healthchecks run `vault status` beside it).
    const r = await exec(
        container,
        `for p in $(pidof vault); do [ "$(cut -d' ' -f4 /proc/$p/stat)" = 1 ] && cat /proc/$p/${file}; done; true`,
    );
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
}

before(async () => {
    engine = await startEngine();
    d = await declaredStack("local");
    assert.ok(d.unsealer && d.unsealerInit, "the local stack declares an unsealer");
    await buildImage(engine);
    imageBuilt = true;

    // The cluster network, --internal: the only network any container joins.
    network = (d.nodes[d.nodeNames[0]].raw.networksAdvanced as { name: string }[])[0].name;
    await engine.docker(["network", "create", "--internal", network]);

    // Certificates for the declared names and usages.
    pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-docker-pki-"));
    const org = `${d.config.clusterName}-${d.stack}`;
    const ca = new TestCa(pkiDir, d.ca, org);
    files = {};
    for (const n of d.nodeNames) {
        const issued = ca.issue(n, d.nodeCerts[n], org);
        const because = "certificates" as const;
        files[n] = {
            "/vault/tls/ca.pem": { content: ca.pem, because },
            "/vault/tls/node.pem": { content: fs.readFileSync(issued.cert, "utf8"), because },
            "/vault/tls/node-key.pem": { content: fs.readFileSync(issued.key, "utf8"), because },
        };
    }

    // The unsealer, bootstrapped with the program's own runBootstrap over its own listener.
    const unsealer = translate(d.unsealer.raw, { image: IMAGE, nofileLimit: engine.nofileLimit });
    await create(unsealer);
    const setup = declaredTransitSetup(d.unsealerInit.inputs);
    const boot = await runBootstrap(execFetch(unsealer.name), `http://127.0.0.1:${UNSEALER_API_PORT}`, setup, WAIT);
    transitToken = boot.transitToken;
    unsealKey = boot.unsealKey;

    for (const n of d.nodeNames) await create(nodeContainer(n));
    const first = names()[0];
    await until(
        "the first node's API",
        120_000,
        async () => ((await status(first)).code === 2 ? true : undefined),
        1000,
    );
    // With the recovery split VaultInit declares (the CLI, not the dynamic provider: the API is only
    // reachable through docker exec); the cluster auto-unseals through transit.
    const { recoveryShares, recoveryThreshold } = d.vaultInit.inputs as {
        recoveryShares: number;
        recoveryThreshold: number;
    };
    const init = await exec(
        first,
        `vault operator init -recovery-shares=${recoveryShares} -recovery-threshold=${recoveryThreshold} -format=json`,
    );
    assert.equal(init.code, 0, init.stderr);
    rootToken = JSON.parse(init.stdout).root_token;
    await threeUnsealedVoters("first start");
});

after(async () => {
    if (!engine) return;
    for (const c of created) await engine.docker(["rm", "-f", "-v", c], { allowFail: true });
    for (const v of volumes) await engine.docker(["volume", "rm", "-f", v], { allowFail: true });
    if (network) await engine.docker(["network", "rm", network], { allowFail: true });
    if (imageBuilt) await engine.docker(["image", "rm", "-f", IMAGE], { allowFail: true });
    await engine.stop();
    if (pkiDir) fs.rmSync(pkiDir, { recursive: true, force: true });
    console.log(`# docker tier wall time: ${Math.round((Date.now() - started) / 1000)} s`);
});

describe("Docker tier: the local stack as declared", () => {
    it("runs every declared container, departing only where DIFFERENCES says why", (t) => {
        assert.deepEqual([...created].sort(), [d.unsealer!.name, ...names()].sort());
        for (const [c, ids] of applied) {
            for (const id of ids) {
                assert.ok(id in DIFFERENCES, `${c}: ${id} is listed`);
                const x = DIFFERENCES[id];
                t.diagnostic(`${c}: ${x.input}: declared ${x.declared}; run ${x.run} (${x.reason})`);
            }
        }
        for (const x of PROCEDURE)
            t.diagnostic(`procedure: ${x.input}: declared ${x.declared}; run ${x.run} (${x.reason})`);
    });

    it("gives each node the declared memory limit and no swap beyond it", async () => {
        for (const n of d.nodeNames) {
            const hc = JSON.parse(
                (await engine.docker(["inspect", "-f", "{{json .HostConfig}}", d.nodes[n].name])).stdout,
            );
            const mb = 1024 * 1024;
            assert.deepEqual([hc.Memory / mb, hc.MemorySwap / mb], [d.nodes[n].raw.memory, d.nodes[n].raw.memorySwap]);
            assert.equal(hc.RestartPolicy.Name, d.nodes[n].raw.restart);
            assert.equal(hc.Init, true);
        }
    });

    it("drops the server to uid 100 with no effective capability; the bounding set is the declared adds; no core dumps", async () => {
        // CHOWN 0, SETGID 6, SETUID 7, IPC_LOCK 14.
        const declaredAdds = d.nodes[d.nodeNames[0]].raw.capabilities as { adds: string[] };
        const bit: Record<string, number> = { CHOWN: 0, SETGID: 6, SETUID: 7, IPC_LOCK: 14 };
        const bounding = declaredAdds.adds.reduce((m, c) => m | (1 << bit[c]), 0);
        for (const c of [...names(), d.unsealer!.name]) {
            const st = await serverProc(c, "status");
            const field = (k: string) => st.match(new RegExp(`^${k}:\\s*(.*)$`, "m"))?.[1].trim();
            assert.deepEqual(field("Uid")?.split(/\s+/), ["100", "100", "100", "100"], `${c} Uid`);
            assert.deepEqual(field("Gid")?.split(/\s+/), ["1000", "1000", "1000", "1000"], `${c} Gid`);
            assert.equal(BigInt(`0x${field("CapEff")}`), 0n, `${c} CapEff`);
            assert.equal(BigInt(`0x${field("CapPrm")}`), 0n, `${c} CapPrm`);
            assert.equal(BigInt(`0x${field("CapBnd")}`), BigInt(bounding), `${c} CapBnd`);
            assert.equal(field("NoNewPrivs"), "1", `${c} no-new-privileges`);
            const limits = await serverProc(c, "limits");
            assert.match(limits, /^Max core file size\s+0\s+0\s/m, `${c} core dumps off`);
            if (names().includes(c)) {
                const nofile = Math.min(65536, engine.nofileLimit);
                assert.match(limits, new RegExp(`^Max open files\\s+${nofile}\\s+${nofile}\\s`, "m"), `${c} nofile`);
            }
        }
    });

    it("lands every upload with its declared owner and mode", async () => {
        for (const n of d.nodeNames) {
            const c = d.nodes[n].name;
            for (const u of d.nodes[n].uploads) {
                const r = await exec(c, `stat -c '%a %u %g' ${u.file}`);
                assert.equal(
                    r.stdout.trim(),
                    `${Number.parseInt(u.permissions ?? "0644", 8).toString(8)} ${u.owner} ${u.group}`,
                    `${c}:${u.file}`,
                );
            }
            const key = await exec(c, "stat -c '%a %u %g' /vault/tls/node-key.pem");
            assert.equal(key.stdout.trim(), "400 100 1000");
        }
    });

    it("keeps data and audit on the named volumes, roots 0700 owned by vault", async () => {
        for (const n of d.nodeNames) {
            const c = d.nodes[n].name;
            const r = await exec(c, "stat -c '%n %a %U %u %g' /vault/data /vault/audit");
            assert.deepEqual(r.stdout.trim().split("\n"), [
                "/vault/data 700 vault 100 1000",
                "/vault/audit 700 vault 100 1000",
            ]);
            const mounts = (await inspect(c)).Mounts;
            const declared = d.nodes[n].volumes.map((v) => [v.volumeName, v.containerPath]);
            assert.deepEqual(
                mounts
                    .filter((m) => m.Type === "volume")
                    .map((m) => [m.Name, m.Destination])
                    .sort(),
                declared.sort(),
            );
        }
    });

    it("turns every node healthy through its declared healthcheck", async () => {
        for (const c of names()) await healthy(c);
    });

    it("runs the audit rotation loop as vault inside each node", async () => {
        for (const c of names()) assert.ok(await until(`${c} rotation loop`, 30_000, () => rotatorPid(c)));
    });

    it("rotates the audit file with the uploaded loop and Vault reopens it on the SIGHUP the loop sends", async () => {
        let active = "";
        for (const c of names()) if ((await status(c)).json?.is_self === true) active = c;
        assert.ok(active, "one node is active");
        const root = [`VAULT_TOKEN=${rootToken}`];
        const file = d.plan.auditDevices.find((a) => a.type === "file")!;
        const opts = Object.entries(file.options).map(([k, v]) => `${k}=${v}`);
        const en = await exec(active, `vault audit enable -path=${file.path} file ${opts.join(" ")}`, root);
        assert.equal(en.code, 0, en.stderr);
        assert.equal((await exec(active, "vault token lookup >/dev/null", root)).code, 0);
        // The uploaded loop, once, with a 1-byte threshold (the declared 100 MiB would take too long), as vault.
        const once = await engine.docker(
            [
                "exec",
                "-u",
                "100:1000",
                active,
                "sh",
                "-c",
                'sed -e "s/^MAX_BYTES=.*/MAX_BYTES=1/" -e "s/^INTERVAL=.*/INTERVAL=3600/" /vault/config/audit-rotator.sh > /tmp/rotate-once.sh && timeout 20 sh /tmp/rotate-once.sh',
            ],
            { allowFail: true },
        );
        assert.match(
            once.stdout + once.stderr,
            /audit-rotator: rotated to \/vault\/audit\/audit\.log\.\d{8}T\d{6}Z\.gz/,
        );
        assert.doesNotMatch(once.stderr, /SIGHUP failed/);
        assert.equal((await exec(active, "vault token lookup >/dev/null", root)).code, 0);
        // Vault reopened audit.log (a new file), and the rotated one is compressed beside it.
        const ls = await exec(active, "ls /vault/audit && test -s /vault/audit/audit.log", [], VAULT_USER);
        assert.equal(ls.code, 0, ls.stdout + ls.stderr);
        assert.match(ls.stdout, /audit\.log\.\d{8}T\d{6}Z\.gz/);
    });

    it("returns to 3 unsealed voters after docker restart of each node, the loop restarted with it", async () => {
        for (const c of names()) {
            const before = (await inspect(c)).State.StartedAt;
            await engine.docker(["restart", c]);
            assert.notEqual((await inspect(c)).State.StartedAt, before);
            await threeUnsealedVoters(`after restarting ${c}`);
            await healthy(c);
            assert.ok(await until(`${c} rotation loop after restart`, 30_000, () => rotatorPid(c)));
        }
    });

    it("re-unseals the restarted unsealer with the program's ensureUnsealed; a node restarted then unseals through it", async () => {
        const u = d.unsealer!.name;
        await engine.docker(["restart", u]);
        const result = await ensureUnsealed(execFetch(u), `http://127.0.0.1:${UNSEALER_API_PORT}`, unsealKey, WAIT);
        assert.equal(result, "unsealed");
        await engine.docker(["restart", names()[1]]);
        await threeUnsealedVoters("after the unsealer's restart");
    });

    it("keeps data and audit across docker rm + re-create; the loop comes back in the new container", async () => {
        for (const [i, n] of d.nodeNames.entries()) {
            const c = d.nodes[n].name;
            const mark = `tier-${i}-${Date.now()}`;
            const w = await engine.docker(
                [
                    "exec",
                    "-u",
                    "100:1000",
                    c,
                    "sh",
                    "-c",
                    `echo ${mark} > /vault/data/.tier && echo ${mark} > /vault/audit/.tier`,
                ],
                { allowFail: true },
            );
            assert.equal(w.code, 0, w.stderr);
            const oldId = (await inspect(c)).Id;
            await engine.docker(["rm", "-f", c]);
            await create(nodeContainer(n));
            assert.notEqual((await inspect(c)).Id, oldId);
            const r = await exec(c, "cat /vault/data/.tier /vault/audit/.tier", [], VAULT_USER);
            assert.deepEqual(r.stdout.trim().split("\n"), [mark, mark]);
            await threeUnsealedVoters(`after re-creating ${c}`);
            assert.ok(await until(`${c} rotation loop after re-create`, 30_000, () => rotatorPid(c)));
        }
        for (const c of names()) await healthy(c);
    });
});
