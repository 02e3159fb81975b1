/**
 * Docker tier: the `local` stack's containers run on a real Docker engine exactly as the program
 * declares them (the unredacted inputs recorded under the mock runtime, test/conformance/lib/declared.ts),
 * translated to Engine API calls by test/docker/lib/translate.ts, whose DIFFERENCES list every
 * departure with its reason. The stack runs with `monitoring: bundled` (the BUNDLED overrides, the
 * receiver URL as secret config) and audit shipping on (its default): the three nodes, the unsealer,
 * Prometheus and its metrics agent, Alertmanager, blackbox_exporter, an mtail and an audit shipper per node, and each local
 * archive's one-shot owner step. Run with `npm run test:docker` (root, Linux; installs docker.io,
 * busybox-static and gosu with apt and starts its own dockerd when none answers).
 *
 * Proves, by asking the kernel and the engine: the entrypoint drops to uid 100 with no effective
 * capability, the container's bounding set is the declared adds, core dumps are off, uploads land
 * with the declared owner and mode, the volume roots end 0700 vault-owned on the named volumes and
 * survive `docker rm` + re-create, NodeTls (the program's provider as serialised, against this
 * dockerd) writes each node's TLS files into its running container (key 0400 vault-owned; the first
 * time without a SIGHUP, the entrypoint waiting for them) and, for a renewed certificate, again with a
 * SIGHUP: the new serial is served from the same container (same ID, RestartCount 0, StartedAt
 * unchanged, the audit loop untouched), every node turns healthy through its declared healthcheck, the
 * cluster returns to 3 unsealed voters after `docker restart` of each node and of the unsealer
 * (re-unsealed with the program's own ensureUnsealed), and the audit rotation loop survives
 * restarts and re-creation of its Vault container.
 * Monitoring and shipping: every sidecar runs as its declared user with no capability in any set,
 * no-new-privileges and no core dumps (from /proc), uploads with declared owner and mode; the metrics
 * agent (`vault agent` on the Vault image, as nobody) logs in with the declared bonito-metrics AppRole
 * over TLS at the service name and writes Prometheus's token 0400 on the declared in-memory (tmpfs)
 * volume, which Prometheus mounts read-only and reads as nobody; Prometheus scrapes all three nodes' sys/metrics over TLS (up == 1), every
 * mtail and the blackbox health probes, loads every declared rule group and finds Alertmanager;
 * Alertmanager runs the declared config behind basic auth: without the password (or with a wrong one)
 * its status, silences and alerts API answers 401 to a container on the network, with the declared
 * password (Prometheus's 0400 file) it answers (the mock runtime's fixed password and a real bcrypt
 * hash of it, test/helpers/mocks.ts: the real provider's random pair is tested in test/unit and the
 * conformance tier); the receiver URL and the password are absent from `docker inspect`; mtail follows
 * the audit file across a rotation and counts a policy write, which reaches Alertmanager as
 * VaultPolicyChanged; the shipper moves a rotated file to shipped/ only once the archive volume holds
 * it byte for byte; with the rotator and the shipper both at 1-second periods under write load, every
 * request and response line lands in the archive exactly once, whole; Prometheus's, Alertmanager's
 * and the archive's volumes survive `docker rm` + re-create.
 * Does not prove: the Pulumi docker provider's own translation (the tier mirrors its API calls),
 * published ports, the syslog audit device, the snapshot agent, delivery to a real receiver (the
 * network is internal), the upstream images themselves (stand-ins with the same versions' binaries),
 * or anything cloud.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { declaredStack, type DeclaredContainer, type DeclaredStack } from "../conformance/lib/declared";
import { BUNDLED, BUNDLED_SECRET_KEYS } from "../policies/fixtures";
import { TestCa } from "../conformance/lib/pki";
import { ensureUnsealed, runBootstrap, type FetchLike, type TransitSetup } from "../../components/unseal/transit";
import { UNSEALER_API_PORT } from "../../components/unseal/local";
import { startEngine, until, type Engine } from "./lib/engine";
import { IMAGE, SIDECAR_ROLES, buildImage, buildSidecarImages, sidecarImage } from "./lib/image";
import { DIFFERENCES, PROCEDURE, translate, uploadTar, type DifferenceId, type Translated } from "./lib/translate";
import { loadProvider } from "../conformance/lib/dynamic";
import { certIdentity, normalSerial } from "../../components/tls/nodeTls";
import * as tls from "node:tls";

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
/** Each node's TLS material as last pushed (TestCa-issued), and NodeTls's state (its last outputs). */
let tlsFiles: Record<string, { caPem: string; cert: string; key: string }> = {};
const tlsState: Record<string, Record<string, unknown>> = {};
let testCa: TestCa;
let sidecarImages: string[] = [];
let caPem = "";
let metricsLogin = { roleId: "", secretId: "" };
/** The monitoring and audit-shipper containers the stack declares, by container name. */
const sidecars = new Map<string, DeclaredContainer & { role: string }>();
/** The rotated file the rotation test made, and on which node. */
let rotated: { node: string; container: string; file: string } | undefined;
/** A fake receiver URL, set as secret config (BUNDLED): it must appear in no container's inspect. */
const WEBHOOK = BUNDLED.monitoringWebhookUrl;
/** Findings printed as test diagnostics at the end. */
const diag: string[] = [];

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
    State: { Running: boolean; StartedAt: string; ExitCode?: number; Health?: { Status: string } };
    Mounts: { Type: string; Name: string; Destination: string }[];
}

async function inspect(container: string): Promise<Inspected> {
    return (JSON.parse((await engine.docker(["inspect", container])).stdout) as Inspected[])[0];
}

async function create(t: Translated, attach = false): Promise<void> {
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
    if (attach) {
        // `attach: true`: the provider waits for the one-shot container to exit, and fails on a non-zero code.
        const code = (await engine.docker(["wait", t.name])).stdout.trim();
        const logs = await engine.docker(["logs", t.name], { allowFail: true });
        assert.equal(code, "0", `${t.name} exited ${code}: ${logs.stdout}${logs.stderr}`);
    }
}

function nodeContainer(n: string): Translated {
    return translate(d.nodes[n].raw, {
        image: IMAGE,
        nofileLimit: engine.nofileLimit,
        env: { VAULT_TOKEN: { value: transitToken, because: "transitToken" } },
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

/**
 * The declared metrics reader applied on the real cluster with the root token: the approle mount, the
 * bonito-metrics policy and AppRole role (its declared inputs); its role ID and a new secret ID.
 */
async function writeMetricsLogin(): Promise<{ roleId: string; secretId: string }> {
    const policy = d.resources.find(
        (x) => x.type === "vault:index/policy:Policy" && String(x.name).endsWith("-monitoring-policy"),
    )!.inputs as { name: string; policy: string };
    const role = d.resources.find(
        (x) => x.type === "vault:appRole/authBackendRole:AuthBackendRole" && x.inputs.roleName === "bonito-metrics",
    )!.inputs as Record<string, unknown>;
    const first = names()[0];
    const root = ["-e", `VAULT_TOKEN=${rootToken}`];
    const vault = async (args: string[], input?: string) => {
        const r = await engine.docker(["exec", ...(input ? ["-i"] : []), ...root, first, "vault", ...args], {
            input,
            allowFail: true,
        });
        assert.equal(r.code, 0, `vault ${args.join(" ")}: ${r.stderr}`);
        return r.stdout.trim();
    };
    await vault(["auth", "enable", `-path=${String(role.backend)}`, "approle"]);
    await vault(["policy", "write", policy.name, "-"], policy.policy);
    const list = (v: unknown) => ((v as string[] | undefined) ?? []).join(",");
    await vault([
        "write",
        `auth/${String(role.backend)}/role/${String(role.roleName)}`,
        `token_policies=${list(role.tokenPolicies)}`,
        `token_no_default_policy=${String(role.tokenNoDefaultPolicy)}`,
        `token_ttl=${String(role.tokenTtl)}`,
        `token_max_ttl=${String(role.tokenMaxTtl)}`,
        `token_type=${String(role.tokenType)}`,
        `token_bound_cidrs=${list(role.tokenBoundCidrs)}`,
        `bind_secret_id=${String(role.bindSecretId)}`,
        `secret_id_ttl=${String(role.secretIdTtl)}`,
        `secret_id_bound_cidrs=${list(role.secretIdBoundCidrs)}`,
    ]);
    const base = `auth/${String(role.backend)}/role/${String(role.roleName)}`;
    return {
        roleId: await vault(["read", "-field=role_id", `${base}/role-id`]),
        secretId: await vault(["write", "-f", "-field=secret_id", `${base}/secret-id`]),
    };
}

/** A monitoring or shipper container as declared, on its stand-in image, with the real token and CA. */
function sidecarContainer(c: DeclaredContainer & { role: string }, entrypoints?: string[]): Translated {
    const swap: Record<string, { content: string; because: DifferenceId }> = {};
    for (const u of c.uploads) {
        if (u.file.endsWith("/vault-agent/role-id"))
            swap[u.file] = { content: metricsLogin.roleId, because: "metricsLogin" };
        if (u.file.endsWith("/vault-agent/secret-id"))
            swap[u.file] = { content: metricsLogin.secretId, because: "metricsLogin" };
        if (u.file.endsWith("/vault-ca.pem")) swap[u.file] = { content: caPem, because: "caUpload" };
    }
    const raw = entrypoints ? { ...c.raw, entrypoints } : c.raw;
    return translate(raw, {
        image: sidecarImage(c.role),
        imageDifference: c.role === "audit-archive-init" || c.role === "metrics-agent" ? "image" : "sidecarImage",
        nofileLimit: engine.nofileLimit,
        files: swap,
    });
}

const sidecarsOf = (role: string) => [...sidecars.values()].filter((c) => c.role === role);
const one = (role: string) => {
    const [c] = sidecarsOf(role);
    assert.ok(c, `a declared ${role} container`);
    return c.name;
};

/** The kernel's view of a container's processes (from the host's /proc): its main process and that one's children. */
async function containerProcs(container: string): Promise<{ pid: number; status: string; limits: string }[]> {
    const pid = Number((await engine.docker(["inspect", "-f", "{{.State.Pid}}", container])).stdout.trim());
    assert.ok(pid > 0, `${container} is running`);
    const kids = fs
        .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    return [pid, ...kids].map((p) => ({
        pid: p,
        status: fs.readFileSync(`/proc/${p}/status`, "utf8"),
        limits: fs.readFileSync(`/proc/${p}/limits`, "utf8"),
    }));
}

/** GET on a URL from inside the Prometheus container (busybox wget, as in prom/prometheus): the network is internal. */
async function promGet(url: string): Promise<string> {
    const r = await engine.docker(["exec", one("prometheus"), "wget", "-q", "-O", "-", url], { allowFail: true });
    if (r.code !== 0) throw new Error(`GET ${url}: ${r.stderr.trim()}`);
    return r.stdout;
}

/** Alertmanager's API from inside the Prometheus container, with `auth` as HTTP basic auth (or none). */
async function amCall(
    p: string,
    auth?: { user: string; password: string },
    body?: unknown,
): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {};
    if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await execFetch(one("prometheus"))(`http://${one("alertmanager")}:9093${p}`, {
        method: body === undefined ? "GET" : "POST",
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, text: await r.text() };
}

/** The declared credentials Prometheus sends alerts with: user from its config, password from its 0400 file. */
function amAuth(): { user: string; password: string } {
    const prom = sidecars.get(one("prometheus"))!;
    const cfg = JSON.parse(prom.uploads.find((u) => u.file.endsWith("/prometheus.yml"))!.content) as {
        alerting: { alertmanagers: { basic_auth: { username: string; password_file: string } }[] };
    };
    const ba = cfg.alerting.alertmanagers[0].basic_auth;
    return { user: ba.username, password: prom.uploads.find((u) => u.file === ba.password_file)!.content };
}

async function promQuery(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const body = JSON.parse(await promGet(`http://127.0.0.1:9090/api/v1/query?query=${encodeURIComponent(q)}`));
    return body.data.result;
}

async function activeNode(): Promise<string> {
    for (const c of names()) if ((await status(c)).json?.is_self === true) return c;
    throw new Error("no active node");
}

/** The container's identity and restart record: what a replacement or a restart would change. */
async function inspectRestarts(c: string): Promise<{ Id: string; RestartCount: number; StartedAt: string }> {
    const x = JSON.parse((await engine.docker(["inspect", c])).stdout)[0] as {
        Id: string;
        RestartCount: number;
        State: { StartedAt: string };
    };
    return { Id: x.Id, RestartCount: x.RestartCount, StartedAt: x.State.StartedAt };
}

/** The node's address on the cluster network, as this host reaches it over the bridge. */
async function nodeAddress(n: string): Promise<string> {
    const ip = (
        await engine.docker([
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            d.nodes[n].name,
        ])
    ).stdout.trim();
    assert.ok(ip, `${n} has an address`);
    return ip;
}

/** The serial a new TLS handshake with the node's API gets, verified against the CA under the admin TLS name. */
async function servedSerial(n: string): Promise<string> {
    const host = await nodeAddress(n);
    const servername = String(d.nodeTls[n].inputs.tlsServerName);
    return new Promise((resolve, reject) => {
        const s = tls.connect({ host, port: d.config.apiPort, servername, ca: tlsFiles[n].caPem });
        s.once("secureConnect", () => {
            const serial = normalSerial(s.getPeerCertificate().serialNumber);
            s.end();
            resolve(serial);
        });
        s.once("error", reject);
    });
}

/**
 * The program's NodeTls provider for one node, as serialised into state, run as `pulumi up` runs it
 * after the container exists (create the first time, update after), against this tier's dockerd and
 * the node's real container ID (DIFFERENCES.nodeTls).
 */
async function pushTls(n: string): Promise<Record<string, unknown>> {
    const decl = d.nodeTls[n];
    const c = d.nodes[n].name;
    const provider = loadProvider(decl.providerText);
    const inputs = {
        ...decl.inputs,
        dockerHost: `unix://${engine.socket}`,
        containerId: (await inspect(c)).Id,
        addr: `https://${await nodeAddress(n)}:${d.config.apiPort}`,
        caCertPem: tlsFiles[n].caPem,
        certPem: tlsFiles[n].cert,
        keyPem: tlsFiles[n].key,
    };
    const olds = tlsState[n];
    let outs: Record<string, unknown>;
    if (!olds) outs = (await provider.create(inputs)).outs as Record<string, unknown>;
    else {
        const diff = (await provider.diff(`node-tls-${n}`, olds, inputs)) as { changes?: boolean; replaces?: string[] };
        assert.deepEqual(diff.replaces, [], "NodeTls never replaces");
        outs = (await provider.update(`node-tls-${n}`, olds, inputs)).outs as Record<string, unknown>;
    }
    tlsState[n] = outs;
    applied.set(c, [...new Set([...(applied.get(c) ?? []), "nodeTls" as DifferenceId])]);
    return outs;
}

before(async () => {
    engine = await startEngine();
    // The committed local stack has monitoring external; auditShipping defaults to true.
    d = await declaredStack("local", BUNDLED, BUNDLED_SECRET_KEYS);
    assert.equal(d.config.monitoring.mode, "bundled");
    assert.equal(d.config.auditShipping.enabled, true);
    for (const r of d.resources.filter((x) => x.type === "docker:index/container:Container")) {
        const role = (r.inputs.labels as { label: string; value: string }[]).find(
            (l) => l.label === "bonito.role",
        )?.value;
        if (role && SIDECAR_ROLES.includes(role)) {
            const i = r.inputs;
            sidecars.set(String(i.name), {
                role,
                name: String(i.name),
                entrypoints: (i.entrypoints as string[] | undefined) ?? [],
                command: (i.command as string[] | undefined) ?? [],
                envs: (i.envs as string[] | undefined) ?? [],
                uploads: (i.uploads as DeclaredContainer["uploads"] | undefined) ?? [],
                volumes: (i.volumes as DeclaredContainer["volumes"] | undefined) ?? [],
                raw: i,
            });
        }
    }
    assert.ok(d.unsealer && d.unsealerInit, "the local stack declares an unsealer");
    await buildImage(engine);
    imageBuilt = true;
    sidecarImages = await buildSidecarImages(engine);

    // The cluster network, --internal: the only network any container joins.
    network = (d.nodes[d.nodeNames[0]].raw.networksAdvanced as { name: string }[])[0].name;
    // A subnet of its own: NodeTls reaches each node's API from this host on the bridge (DIFFERENCES.nodeTls).
    const subnet = `10.${200 + (process.pid % 50)}.${(process.pid >> 6) % 256}.0/24`;
    await engine.docker(["network", "create", "--internal", "--subnet", subnet, network]);

    // Certificates for the declared names and usages.
    pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-docker-pki-"));
    const org = `${d.config.clusterName}-${d.stack}`;
    testCa = new TestCa(pkiDir, d.ca, org);
    caPem = testCa.pem;
    tlsFiles = {};
    for (const n of d.nodeNames) {
        const issued = testCa.issue(n, d.nodeCerts[n], org);
        tlsFiles[n] = { caPem, cert: fs.readFileSync(issued.cert, "utf8"), key: fs.readFileSync(issued.key, "utf8") };
    }

    // The unsealer, bootstrapped with the program's own runBootstrap over its own listener.
    const unsealer = translate(d.unsealer.raw, { image: IMAGE, nofileLimit: engine.nofileLimit });
    await create(unsealer);
    const setup = declaredTransitSetup(d.unsealerInit.inputs);
    const boot = await runBootstrap(execFetch(unsealer.name), `http://127.0.0.1:${UNSEALER_API_PORT}`, setup, WAIT);
    transitToken = boot.transitToken;
    unsealKey = boot.unsealKey;

    for (const n of d.nodeNames) {
        await create(nodeContainer(n));
        await pushTls(n);
    }
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

    // The metrics reader as declared (policy and AppRole role, applied with the root token): its agent's login.
    metricsLogin = await writeMetricsLogin();
    // Volumes declared with driver options (the metrics agent's in-memory sink), created as declared.
    for (const v of d.resources.filter((x) => x.type === "docker:index/volume:Volume" && x.inputs.driverOpts)) {
        const opts = Object.entries(v.inputs.driverOpts as Record<string, string>).flatMap(([k, x]) => [
            "--opt",
            `${k}=${x}`,
        ]);
        await engine.docker(["volume", "create", "--driver", String(v.inputs.driver), ...opts, String(v.inputs.name)]);
        volumes.add(String(v.inputs.name));
    }
    // One-shot steps first (the program's shippers depend on them), each awaited as `attach: true` does.
    const oneShots = [...sidecars.values()].filter((c) => c.raw.attach === true);
    for (const c of oneShots) await create(sidecarContainer(c), true);
    for (const c of sidecars.values()) if (c.raw.attach !== true) await create(sidecarContainer(c));
});

after(async () => {
    if (!engine) return;
    for (const c of created) await engine.docker(["rm", "-f", "-v", c], { allowFail: true });
    for (const v of volumes) await engine.docker(["volume", "rm", "-f", v], { allowFail: true });
    if (network) await engine.docker(["network", "rm", network], { allowFail: true });
    if (imageBuilt) await engine.docker(["image", "rm", "-f", IMAGE, ...sidecarImages], { allowFail: true });
    await engine.stop();
    if (pkiDir) fs.rmSync(pkiDir, { recursive: true, force: true });
    for (const x of diag) console.log(`# ${x}`);
    console.log(`# docker tier wall time: ${Math.round((Date.now() - started) / 1000)} s`);
});

describe("Docker tier: the local stack as declared", () => {
    it("runs every declared container, departing only where DIFFERENCES says why", (t) => {
        assert.deepEqual([...created].sort(), [d.unsealer!.name, ...names(), ...sidecars.keys()].sort());
        assert.deepEqual([...new Set([...sidecars.values()].map((c) => c.role))].sort(), [...SIDECAR_ROLES].sort());
        const where = new Map<DifferenceId, string[]>();
        for (const [c, ids] of applied) {
            for (const id of ids) {
                assert.ok(id in DIFFERENCES, `${c}: ${id} is listed`);
                where.set(id, [...(where.get(id) ?? []), c]);
            }
        }
        for (const [id, cs] of where) {
            const x = DIFFERENCES[id];
            t.diagnostic(`${x.input} [${cs.join(", ")}]: declared ${x.declared}; run ${x.run} (${x.reason})`);
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
        // CHOWN 0, KILL 5, SETGID 6, SETUID 7, IPC_LOCK 14 (linux/capability.h).
        const declaredAdds = d.nodes[d.nodeNames[0]].raw.capabilities as { adds: string[] };
        const bit: Record<string, number> = { CHOWN: 0, KILL: 5, SETGID: 6, SETUID: 7, IPC_LOCK: 14 };
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

    it("lands every upload with its declared owner and mode, and NodeTls's files likewise (key 0400)", async () => {
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
            const pushed = await exec(
                c,
                "stat -c '%n %a %u %g' /vault/tls/ca.pem /vault/tls/node.pem /vault/tls/node-key.pem /vault/tls/pushed",
            );
            assert.deepEqual(pushed.stdout.trim().split("\n"), [
                "/vault/tls/ca.pem 444 100 1000",
                "/vault/tls/node.pem 444 100 1000",
                "/vault/tls/node-key.pem 400 100 1000",
                "/vault/tls/pushed 444 100 1000",
            ]);
            // The first push found Vault not started (the entrypoint waiting for the files): no SIGHUP.
            assert.equal(tlsState[n].reload, "start", `${c}: first push`);
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

    it("rotates each node's certificate in its running container: new serial served; same container, RestartCount 0, StartedAt unchanged", async () => {
        const org = `${d.config.clusterName}-${d.stack}`;
        const rows: string[] = [];
        for (const n of d.nodeNames) {
            const c = d.nodes[n].name;
            const before = await inspectRestarts(c);
            const loop = await rotatorPid(c);
            const served = await servedSerial(n);
            const renewed = testCa.issue(`${n}-renewed`, d.nodeCerts[n], org);
            tlsFiles[n] = {
                caPem,
                cert: fs.readFileSync(renewed.cert, "utf8"),
                key: fs.readFileSync(renewed.key, "utf8"),
            };
            const t0 = Date.now();
            const outs = await pushTls(n);
            const seconds = (Date.now() - t0) / 1000;
            assert.equal(outs.reload, "sighup", `${c}: Vault was running, so SIGHUP`);
            const expected = certIdentity(tlsFiles[n].cert).serial;
            assert.equal(outs.serial, expected);
            assert.equal(await servedSerial(n), expected, `${c} serves the new serial`);
            assert.notEqual(served, expected);
            const after = await inspectRestarts(c);
            assert.deepEqual(after, before, `${c}: same container, not restarted`);
            assert.equal(after.RestartCount, 0);
            assert.equal(await rotatorPid(c), loop, `${c}: the audit loop untouched (the SIGHUP went to Vault only)`);
            assert.equal((await status(c)).code, 0, `${c} unsealed`);
            const key = await exec(c, "stat -c '%a %u %g' /vault/tls/node-key.pem");
            assert.equal(key.stdout.trim(), "400 100 1000");
            rows.push(
                `${c}: serial ${served} -> ${expected} in ${seconds.toFixed(1)} s, Id ${after.Id.slice(0, 12)}, RestartCount ${after.RestartCount}, StartedAt ${after.StartedAt}`,
            );
        }
        await threeUnsealedVoters("after the certificate rotation");
        for (const c of names()) await healthy(c);
        diag.push(...rows);
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
        const gz = (once.stdout + once.stderr).match(/rotated to \/vault\/audit\/(audit\.log\.\d{8}T\d{6}Z\.gz)/)![1];
        const node = d.nodeNames.find((n) => d.nodes[n].name === active)!;
        rotated = { node, container: active, file: gz };
    });

    it("ships the rotated file to the node's archive volume and moves it to shipped/ only after, byte for byte", async () => {
        assert.ok(rotated, "the rotation test rotated a file");
        const { node, file } = rotated;
        const shipper = sidecarsOf("audit-shipper").find((c) => c.name.endsWith(`-${node}-audit-shipper`))!.name;
        const day = file.match(/\.(\d{8})T/)![1];
        const archived = `/archive/${node}/${day}/${file}`;
        // The shipper looks every shipIntervalSeconds (60 s at the 5-minute default).
        await until(
            `${file} in shipped/ on ${node}`,
            150_000,
            async () => ((await exec(shipper, `test -f /vault/audit/shipped/${file}`)).code === 0 ? true : undefined),
            2000,
        ).catch(async (e: Error) => {
            const logs = await engine.docker(["logs", "--tail", "30", shipper], { allowFail: true });
            throw new Error(`${e.message}\n${logs.stdout}${logs.stderr}`);
        });
        const r = await exec(
            shipper,
            `test ! -e /vault/audit/${file} && sha256sum /vault/audit/shipped/${file} ${archived} | cut -d' ' -f1 && gzip -t ${archived}`,
        );
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const [a, b] = r.stdout.trim().split("\n");
        assert.equal(a, b, "the archived copy is the shipped file, byte for byte");
        const logs = await engine.docker(["logs", shipper]);
        assert.match(
            logs.stdout + logs.stderr,
            new RegExp(`audit-shipper: shipped ${file.replace(/\./g, "\\.")} \\(\\d+ bytes\\)`),
        );
    });

    it("the metrics agent logs in with the declared AppRole and writes Prometheus's token 0400 on an in-memory volume Prometheus reads as its user; Prometheus scrapes all three nodes over TLS, every mtail and the health probes; loads every rule group", async () => {
        const prom = sidecars.get(one("prometheus"))!;
        const cfg = JSON.parse(prom.uploads.find((u) => u.file.endsWith("/prometheus.yml"))!.content) as {
            scrape_configs: { job_name: string; authorization?: { credentials_file: string } }[];
        };
        const tokenFile = cfg.scrape_configs.find((j) => j.job_name === "vault")!.authorization!.credentials_file;
        const st = await until(
            "the agent's token file",
            60_000,
            async () => {
                const r = await exec(
                    prom.name,
                    `stat -c '%a %u %g' ${tokenFile} && id -u && grep ' ${path.dirname(tokenFile)} ' /proc/mounts`,
                );
                return r.code === 0 ? r.stdout.trim().split("\n") : undefined;
            },
            1000,
        );
        assert.deepEqual(st.slice(0, 2), ["400 65534 65534", String(prom.raw.user).split(":")[0]]);
        assert.match(st[2], /^tmpfs \S+ tmpfs ro,/, "an in-memory volume, read-only in Prometheus");
        const agentLogs = await engine.docker(["logs", one("metrics-agent")]);
        assert.match(agentLogs.stdout + agentLogs.stderr, /authentication successful/);
        const want = {
            vault: d.nodeNames.length,
            "vault-health": d.nodeNames.length,
            "vault-audit": d.nodeNames.length,
        };
        const targets = await until(
            "every Prometheus target up",
            90_000,
            async () => {
                const body = JSON.parse(await promGet("http://127.0.0.1:9090/api/v1/targets"));
                const active = body.data.activeTargets as {
                    labels: { job: string; instance: string };
                    health: string;
                    lastError: string;
                }[];
                for (const [job, n] of Object.entries(want))
                    if (active.filter((t) => t.labels.job === job && t.health === "up").length !== n) return undefined;
                return active;
            },
            2000,
        ).catch(async (e: Error) => {
            const body = await promGet("http://127.0.0.1:9090/api/v1/targets").catch((x: Error) => x.message);
            throw new Error(`${e.message}\n${body.slice(0, 4000)}`);
        });
        assert.deepEqual(
            targets
                .filter((t) => t.labels.job === "vault")
                .map((t) => t.labels.instance)
                .sort(),
            d.nodeNames.map((n) => `${n}:8200`).sort(),
        );
        const up = await promQuery('up{job="vault"}');
        assert.deepEqual(
            up.map((x) => x.value[1]),
            d.nodeNames.map(() => "1"),
        );
        // Vault's own metrics came through the token (the scrape of sys/metrics, not only an open port).
        assert.ok((await promQuery("vault_core_unsealed")).length > 0, "vault_core_unsealed scraped");
        const rulesUpload = prom.uploads.find((u) => u.file.endsWith("/bonito-vault.yml"))!;
        const declaredGroups = (JSON.parse(rulesUpload.content) as { groups: { name: string; rules: unknown[] }[] })
            .groups;
        const loaded = JSON.parse(await promGet("http://127.0.0.1:9090/api/v1/rules")).data.groups as {
            name: string;
            rules: { name: string; health: string }[];
        }[];
        assert.deepEqual(
            loaded.map((g) => [g.name, g.rules.length]),
            declaredGroups.map((g) => [g.name, g.rules.length]),
        );
        for (const g of loaded) for (const r of g.rules) assert.equal(r.health === "err", false, `${g.name}/${r.name}`);
        const ams = JSON.parse(await promGet("http://127.0.0.1:9090/api/v1/alertmanagers")).data.activeAlertmanagers;
        assert.deepEqual(
            ams.map((a: { url: string }) => a.url),
            [`http://${one("alertmanager")}:9093/api/v2/alerts`],
        );
    });

    it("Alertmanager runs the declared config behind basic auth: 401 without the password (status, silences, alerts); the receiver and the password are in uploaded files only", async () => {
        const am = one("alertmanager");
        const auth = amAuth();
        const inspected = (await engine.docker(["inspect", am, one("prometheus")])).stdout;
        assert.ok(!inspected.includes(WEBHOOK), "the webhook URL is not in docker inspect (Cmd, Env, Labels)");
        assert.ok(!inspected.includes(auth.password), "the password is not in docker inspect");
        const st = await until(
            "Alertmanager's status API with the declared password",
            60_000,
            async () => {
                const r = await amCall("/api/v2/status", auth);
                return r.status === 200 ? (JSON.parse(r.text) as Record<string, any>) : undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
            },
            1000,
        );
        assert.equal(st.cluster.status, "disabled", "--cluster.listen-address= (no gossip)");
        assert.match(st.config.original, /receiver: bonito-vault/);
        const now = Date.now();
        const silence = {
            matchers: [{ name: "alertname", value: "VaultRootTokenUsed", isRegex: false }],
            startsAt: new Date(now).toISOString(),
            endsAt: new Date(now + 3600_000).toISOString(),
            createdBy: "docker-tier",
            comment: "a container on the cluster network",
        };
        const fake = [{ labels: { alertname: "DockerTierFakeAlert" } }];
        for (const a of [undefined, { user: auth.user, password: `${auth.password}x` }]) {
            const who = a ? "a wrong password" : "no credentials";
            const r = await amCall("/api/v2/status", a);
            assert.equal(r.status, 401, `GET /api/v2/status with ${who}`);
            assert.ok(!r.text.includes(WEBHOOK), `no receiver URL in the answer to ${who}`);
            assert.equal((await amCall("/api/v2/silences", a, silence)).status, 401, `POST silences, ${who}`);
            assert.equal((await amCall("/api/v2/alerts", a, fake)).status, 401, `POST alerts, ${who}`);
        }
        assert.deepEqual(JSON.parse((await amCall("/api/v2/silences", auth)).text), [], "no silence was created");
        const web = sidecars.get(am)!.uploads.find((u) => u.file.endsWith("/web.yml"))!;
        assert.ok(String(sidecars.get(am)!.command).includes(`--web.config.file=${web.file}`));
        diag.push(
            `Alertmanager: 401 without the password on status, silences and alerts; with it the status shows the receiver as ${st.config.original.includes(WEBHOOK) ? "the URL in clear (0.25: webhook url is not a secret type)" : "<secret>"}`,
        );
    });

    it("mtail follows the rotated audit file and counts a policy write; the alert reaches Alertmanager through Prometheus", async () => {
        const active = await activeNode();
        const node = d.nodeNames.find((n) => d.nodes[n].name === active)!;
        const mtail = sidecarsOf("mtail").find((c) => c.name.endsWith(`-${node}-mtail`))!.name;
        const metric = "bonito_vault_audit_policy_change_total";
        const count = async () => {
            const text = await promGet(`http://${mtail}:3903/metrics`);
            const line = text.split("\n").find((l) => l.startsWith(metric));
            return line ? Number(line.trim().split(/\s+/).pop()) : undefined;
        };
        const before = await until(`${mtail} exports ${metric}`, 60_000, count, 1000);
        const started = Date.now();
        const w = await exec(
            active,
            'echo \'path "secret/*" { capabilities = ["read"] }\' | vault policy write docker-tier-event -',
            [`VAULT_TOKEN=${rootToken}`],
        );
        assert.equal(w.code, 0, w.stderr);
        await until(
            `${metric} on ${mtail} above ${before}`,
            30_000,
            async () => ((await count())! > before ? true : undefined),
            500,
        );
        const alert = await until(
            "VaultPolicyChanged in Alertmanager",
            120_000,
            async () => {
                const alerts = JSON.parse((await amCall("/api/v2/alerts", amAuth())).text) as {
                    labels: Record<string, string>;
                    annotations: Record<string, string>;
                }[];
                return alerts.find((a) => a.labels.alertname === "VaultPolicyChanged");
            },
            2000,
        );
        diag.push(`policy write → VaultPolicyChanged in Alertmanager: ${Math.round((Date.now() - started) / 1000)} s`);
        assert.ok(alert.annotations.summary, "the alert carries its summary");
    });

    it("rotator and shipper racing under write load: every audit line reaches the archive exactly once, no file shipped half-written or removed unshipped", async () => {
        const active = await activeNode();
        const node = d.nodeNames.find((n) => d.nodes[n].name === active)!;
        const decl = sidecarsOf("audit-shipper").find((c) => c.name.endsWith(`-${node}-audit-shipper`))!;
        // The declared loops out of the way (the shipper is started again below; the node's loop comes back
        // with the node's restart in the next test), then both at 1-second periods (PROCEDURE).
        await engine.docker(["stop", decl.name]);
        const loop = await rotatorPid(active);
        assert.ok(loop, "the node's rotation loop runs");
        assert.equal((await exec(active, `kill ${loop}`, [], VAULT_USER)).code, 0);
        const ep = decl.raw.entrypoints as string[];
        const script = ep[2].replace(/^INTERVAL=\d+$/m, "INTERVAL=1");
        assert.notEqual(script, ep[2], "the shipper script has an INTERVAL line");
        const race = sidecarContainer({
            ...decl,
            name: `${decl.name}-race`,
            raw: { ...decl.raw, name: `${decl.name}-race`, entrypoints: [ep[0], ep[1], script, ep[3]] },
        });
        await create(race);
        const bg = await engine.docker([
            "exec",
            "-d",
            "-u",
            VAULT_USER,
            active,
            "sh",
            "-c",
            'sed -e "s/^MAX_BYTES=.*/MAX_BYTES=1/" -e "s/^INTERVAL=.*/INTERVAL=1/" /vault/config/audit-rotator.sh > /tmp/rotate-race.sh && exec sh /tmp/rotate-race.sh > /tmp/rotate-race.log 2>&1',
        ]);
        assert.equal(bg.code, 0);
        const N = 60;
        const started = Date.now();
        const w = await exec(
            active,
            `i=0; while [ $i -lt ${N} ]; do i=$((i+1)); echo 'path "x/*" { capabilities = ["read"] }' | vault policy write race-$i - >/dev/null || echo FAIL $i; done`,
            [`VAULT_TOKEN=${rootToken}`],
        );
        assert.equal(w.code, 0, w.stderr);
        assert.equal(w.stdout.trim(), "", "every write answered");
        const writeSeconds = Math.round((Date.now() - started) / 1000);
        // Every race line in a finished .gz (pending or shipped): none left in the live file or an uncompressed one.
        await until(
            "the race lines all rotated and compressed",
            60_000,
            async () =>
                (
                    await exec(
                        active,
                        "cat /vault/audit/audit.log $(ls /vault/audit/audit.log.*Z 2>/dev/null) | grep -c 'policies/acl/race-'",
                        [],
                        VAULT_USER,
                    )
                ).stdout.trim() === "0"
                    ? true
                    : undefined,
            1000,
        );
        const rk = await exec(
            active,
            "for p in $(pidof sh); do [ $p != $$ ] && grep -q rotate-race.sh /proc/$p/cmdline && kill $p; done; cat /tmp/rotate-race.log",
            [],
            VAULT_USER,
        );
        const rotations = (rk.stdout.match(/audit-rotator: rotated to/g) ?? []).length;
        assert.doesNotMatch(rk.stdout, /failed/, rk.stdout);
        await until(
            "the race shipper drained every finished file",
            60_000,
            async () =>
                (await exec(race.name, "ls /vault/audit/*.gz 2>/dev/null | wc -l")).stdout.trim() === "0"
                    ? true
                    : undefined,
            1000,
        );
        await engine.docker(["rm", "-f", race.name]);
        created.delete(race.name);
        await engine.docker(["start", decl.name]);
        // Every shipped file has its archived copy, byte for byte and whole; nothing half-written in the archive.
        const check = await exec(
            decl.name,
            `cd /vault/audit/shipped && for f in audit.log.*.gz; do day=$(echo $f | sed 's/^audit.log.\\([0-9]*\\)T.*/\\1/'); a=/archive/${node}/$day/$f; [ "$(sha256sum < $f)" = "$(sha256sum < $a)" ] && gzip -t $a || echo "MISMATCH $f"; done; find /archive -type f ! -name 'audit.log.*Z.gz'`,
        );
        assert.equal(check.code, 0, check.stderr);
        assert.equal(
            check.stdout.trim(),
            "",
            "every shipped file archived whole and identical; no partial file in the archive",
        );
        // A leadership change during the writes sends the rest to the new active node's own audit file
        // (seen in a run): count every race line across all three nodes (archive, pending, live and
        // uncompressed rotated files, each node's read in one shell line), and on the race node its archive.
        const seen = new Map<string, number>();
        let onRaceNode = 0;
        for (const n of d.nodeNames) {
            const sh = sidecarsOf("audit-shipper").find((c) => c.name.endsWith(`-${n}-audit-shipper`))!.name;
            const text = await exec(
                sh,
                `cd /vault/audit; { for f in /archive/${n}/*/audit.log.*.gz *.gz; do [ -f "$f" ] && zcat "$f"; done; for f in audit.log audit.log.*Z; do [ -f "$f" ] && cat "$f"; done; } 2>/dev/null; true`,
            );
            for (const line of text.stdout.split("\n").filter(Boolean)) {
                const j = JSON.parse(line) as { type: string; request?: { path?: string } };
                const m = j.request?.path?.match(/^sys\/policies\/acl\/(race-\d+)$/);
                if (!m) continue;
                seen.set(`${j.type} ${m[1]}`, (seen.get(`${j.type} ${m[1]}`) ?? 0) + 1);
                if (n === node) onRaceNode++;
            }
        }
        const missing: string[] = [];
        for (let i = 1; i <= N; i++)
            for (const t of ["request", "response"])
                if (seen.get(`${t} race-${i}`) !== 1)
                    missing.push(`${t} race-${i}: ${seen.get(`${t} race-${i}`) ?? 0}`);
        assert.deepEqual(missing.slice(0, 10), [], `each line exactly once (${missing.length} not)`);
        assert.ok(onRaceNode > 0 && rotations >= 2, `the race node archived race lines over ${rotations} rotations`);
        diag.push(
            `rotator/shipper race: ${N} policy writes in ${writeSeconds} s, ${rotations} rotations on ${node}, ${onRaceNode} of ${2 * N} lines archived there, all present exactly once across the nodes`,
        );
    });

    it("runs every monitoring and shipper container as its declared user, with no capability, no-new-privileges and no core dumps (kernel's view)", async () => {
        for (const c of sidecars.values()) {
            if (c.raw.attach === true) {
                // Exited: the engine's record of how it ran, and the archive root it left.
                const hc = JSON.parse((await engine.docker(["inspect", "-f", "{{json .HostConfig}}", c.name])).stdout);
                const caps = c.raw.capabilities as { adds: string[]; drops: string[] };
                assert.deepEqual(
                    [hc.CapAdd ?? [], hc.CapDrop, hc.SecurityOpt, hc.Privileged],
                    [caps.adds ?? [], caps.drops, c.raw.securityOpts, false],
                );
                const shipper = c.name.replace(/-audit-archive-init$/, "-audit-shipper");
                assert.equal((await exec(shipper, "stat -c '%a %u %g' /archive")).stdout.trim(), "700 100 1000");
                continue;
            }
            const [uid, gid] = String(c.raw.user).split(":");
            const procs = await containerProcs(c.name);
            assert.equal(procs.length >= 1, true);
            for (const p of procs) {
                const field = (k: string) => p.status.match(new RegExp(`^${k}:\\s*(.*)$`, "m"))?.[1].trim();
                const what = `${c.name} pid ${p.pid} (${field("Name")})`;
                assert.deepEqual(field("Uid")?.split(/\s+/), [uid, uid, uid, uid], `${what} Uid`);
                assert.deepEqual(field("Gid")?.split(/\s+/), [gid, gid, gid, gid], `${what} Gid`);
                for (const k of ["CapEff", "CapPrm", "CapBnd", "CapAmb"])
                    assert.equal(BigInt(`0x${field(k)}`), 0n, `${what} ${k}`);
                assert.equal(field("NoNewPrivs"), "1", `${what} no-new-privileges`);
                assert.match(p.limits, /^Max core file size\s+0\s+0\s/m, `${what} core dumps off`);
            }
            const hc = JSON.parse((await engine.docker(["inspect", "-f", "{{json .HostConfig}}", c.name])).stdout);
            assert.equal(hc.ReadonlyRootfs, c.raw.readOnly === true, `${c.name} read-only rootfs as declared`);
            assert.deepEqual(
                [hc.Memory, hc.MemorySwap],
                [Number(c.raw.memory) * 1024 * 1024, Number(c.raw.memorySwap) * 1024 * 1024],
            );
            for (const u of c.uploads) {
                const r = await exec(c.name, `stat -c '%a %u %g' ${u.file}`);
                assert.equal(
                    r.stdout.trim(),
                    `${Number.parseInt(u.permissions ?? "0644", 8).toString(8)} ${u.owner ?? 0} ${u.group ?? 0}`,
                    `${c.name}:${u.file}`,
                );
            }
        }
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

    it("docker stop shuts the server down gracefully: tini forwards SIGTERM (CAP_KILL), Vault logs its shutdown and exits 0", async () => {
        // Without CAP_KILL the kernel refuses tini's forward to uid 100; tini then exits 1 with
        // "[FATAL tini (1)] ... Operation not permitted" and Vault dies without its shutdown.
        const c = names()[1];
        const since = String(Math.floor(Date.now() / 1000) - 1);
        await engine.docker(["stop", c]);
        const st = (await inspect(c)).State;
        const logs = await engine.docker(["logs", "--since", since, c], { allowFail: true });
        const after = logs.stdout + logs.stderr;
        assert.doesNotMatch(after, /FATAL tini/, after.slice(-2000));
        assert.match(after, /Vault shutdown triggered/, after.slice(-2000));
        assert.equal(st.ExitCode, 0, after.slice(-2000));
        await engine.docker(["start", c]);
        await threeUnsealedVoters(`after stopping and starting ${c}`);
        await healthy(c);
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
            // A new container ID: NodeTls writes the files again (its entrypoint waits until then).
            assert.equal((await pushTls(n)).reload, "start");
            assert.notEqual((await inspect(c)).Id, oldId);
            const r = await exec(c, "cat /vault/data/.tier /vault/audit/.tier", [], VAULT_USER);
            assert.deepEqual(r.stdout.trim().split("\n"), [mark, mark]);
            await threeUnsealedVoters(`after re-creating ${c}`);
            assert.ok(await until(`${c} rotation loop after re-create`, 30_000, () => rotatorPid(c)));
        }
        for (const c of names()) await healthy(c);
    });

    it("keeps Prometheus's, Alertmanager's and the shippers' volumes (nobody-owned data, the archive) across docker rm + re-create", async () => {
        const marks = new Map<string, string>();
        const withVolumes = [...sidecars.values()].filter(
            (c) => c.volumes.some((v) => v.volumeName) && c.role !== "mtail" && c.raw.attach !== true,
        );
        for (const c of withVolumes) {
            const own = c.volumes.find((v) => !v.containerPath.startsWith("/vault/"))!;
            const mark = `tier-${Date.now()}`;
            const w = await exec(
                c.name,
                `stat -c '%a %u %g' ${own.containerPath} && echo ${mark} > ${own.containerPath}/.tier`,
            );
            assert.equal(w.code, 0, `${c.name}: its user writes to ${own.containerPath}: ${w.stdout}${w.stderr}`);
            diag.push(`${c.name}: ${own.containerPath} is ${w.stdout.trim()}`);
            marks.set(c.name, `${own.containerPath}/.tier ${mark}`);
            await engine.docker(["rm", "-f", c.name]);
            await create(sidecarContainer(c));
        }
        for (const c of withVolumes) {
            const [file, mark] = marks.get(c.name)!.split(" ");
            assert.equal((await exec(c.name, `cat ${file}`)).stdout.trim(), mark, `${c.name} kept ${file}`);
        }
        // The archive still holds what was shipped before the re-create.
        assert.ok(rotated);
        const shipper = sidecarsOf("audit-shipper").find((c) =>
            c.name.endsWith(`-${rotated!.node}-audit-shipper`),
        )!.name;
        assert.equal((await exec(shipper, `ls /archive/${rotated.node}/*/${rotated.file}`)).code, 0);
        // Prometheus comes back on its old TSDB and scrapes again.
        await until(
            "Prometheus scraping after re-create",
            90_000,
            async () => {
                const up = await promQuery('up{job="vault"}').catch(() => []);
                return up.length === d.nodeNames.length && up.every((x) => x.value[1] === "1") ? true : undefined;
            },
            2000,
        );
    });
});
