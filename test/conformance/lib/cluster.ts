/**
 * Runs the declared containers' processes on this machine, as close to Docker as loopback allows.
 *
 * Each container gets its own mount namespace (`unshare --mount`) in which a per-container folder
 * is bound onto `/vault`, so the server sees exactly the paths the program declares (config, TLS
 * files, data and audit volumes): no path is rewritten. The declared entrypoint runs verbatim
 * (`chown`/`chmod` of the volume roots, then `su-exec vault vault server …`), with Debian's `gosu`
 * standing in for Alpine's `su-exec` and a local `vault` system account for the image's.
 *
 * What cannot be the same without Docker is rewritten, and every rewrite is listed in
 * {@link LOOPBACK_REWRITES} and done in this file only: addresses and ports (Docker DNS names and
 * fixed in-container ports become 127.0.0.1 and distinct ports), the seal token and certificate
 * contents (the mock runtime holds stand-ins), and the numeric owner of uploaded files.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { nodeTransport, sendRaw, type HttpResponse, type Transport } from "../../../components/vault/http";
import type { DeclaredContainer } from "./declared";

export const REPO = path.resolve(__dirname, "..", "..", "..");
/** The built binary (scripts/build-vault.sh); BONITO_VAULT_BIN points elsewhere, e.g. from a second worktree. */
export const VAULT_BIN = process.env.BONITO_VAULT_BIN || path.join(REPO, "tools", "bin", "vault");

/** Every difference between what the program declares and what this tier runs, with its reason. */
export const LOOPBACK_REWRITES = [
    "NodeReady gate addr/peers https://127.0.0.1:8200+i -> each node's loopback API port; caCert -> the test CA (tlsServerName unchanged)",
    "api_addr https://<node>:8200 -> https://127.0.0.1:<api port of node>: no Docker DNS on loopback",
    "cluster_addr https://<node>:8201 -> https://127.0.0.1:<cluster port of node>",
    "listener[*].address / cluster_address 0.0.0.0:<port> -> 127.0.0.1:<distinct port>: three nodes share one host",
    "storage.raft.retry_join[*].leader_api_addr https://<peer>:8202 -> https://127.0.0.1:<peer's join port> (leader_tls_servername unchanged, so SANs are still checked)",
    "seal.transit.address http://<unsealer>:8200 -> http://127.0.0.1:<unsealer port>",
    "unsealer listener 0.0.0.0:8200 -> 127.0.0.1:<unsealer port>; its api_addr likewise",
    "container env VAULT_TOKEN: the mock's stand-in -> the seal token UnsealerInit created on the live unsealer",
    "container env VAULT_ADDR: https://127.0.0.1:8200 -> the node's own loopback API port",
    "NodeTls caCertPem/certPem/keyPem: the mock's stand-in PEMs -> test certificates with the declared SANs and key usages",
    "NodeTls dockerHost (the Pulumi host's Docker daemon) -> a stand-in Engine API on a unix socket (lib/engine.ts: inspect, stat, extract, kill); containerId unchanged",
    "NodeTls addr https://127.0.0.1:8200+i -> each node's loopback API port (tlsServerName unchanged)",
    "NodeTls's exec of `kill -HUP <the server>` as the vault user -> SIGHUP to the node's process (no PID namespace here: `pidof vault` would find every cluster's servers)",
    "before the first start, the pushed TLS files are laid for `vault operator diagnose` and removed again, so the entrypoint waits for NodeTls as in a new container",
    "uploaded and pushed files' owner 100:1000 (the image's vault user) -> this machine's vault system account",
    "su-exec (Alpine) -> gosu (Debian), same call form",
    "Docker's capability drop and no-new-privileges -> setpriv --bounding-set=<declared adds only> --no-new-privs",
    "bootstrap endpoint addr -> node 0's loopback API port; caCert -> the test CA (tlsServerName unchanged)",
    "backendEnv VAULT_ADDR https://<serviceName>:8200 -> node 0's loopback API port (TLS name still <serviceName>, a SAN)",
    "backendEnv VAULT_CACERT /etc/bonito/vault-ca.pem -> a file in the test's temp folder (same write command)",
] as const;

export interface Ports {
    api: number;
    cluster: number;
    peer: number;
    peerCluster: number;
}

/**
 * Loopback ports start at BONITO_CONFORMANCE_PORT_BASE (default 18200): node i uses base+10i..base+10i+3,
 * the transit unsealer base+90. Two clusters on one machine (a CI clone beside a developer's run) need two
 * bases at least 100 apart.
 */
export const PORT_BASE = portBase(process.env.BONITO_CONFORMANCE_PORT_BASE);

function portBase(given: string | undefined): number {
    if (given === undefined || given === "") return 18200;
    const n = Number(given);
    if (!Number.isInteger(n) || n < 1024 || n > 65000) {
        throw new Error(`BONITO_CONFORMANCE_PORT_BASE=${given}: expected an integer port from 1024 to 65000`);
    }
    return n;
}

export function portsFor(index: number, base = PORT_BASE): Ports {
    const b = base + index * 10;
    return { api: b, cluster: b + 1, peer: b + 2, peerCluster: b + 3 };
}
export const UNSEALER_PORT = PORT_BASE + 90;

/** The declared in-container ports, as the renderer uses them for the `local` stack. */
export interface DeclaredPorts {
    api: number;
    cluster: number;
    peer: number;
}

/** Rewrite one node's rendered server.json for loopback (see LOOPBACK_REWRITES). */
export function rewriteServerConfig(
    json: string,
    node: string,
    nodes: readonly string[],
    declared: DeclaredPorts,
    unsealerHostPort: string,
): Record<string, unknown> {
    const cfg = JSON.parse(json) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const idx = (n: string) => {
        const i = nodes.indexOf(n);
        if (i < 0) throw new Error(`rewrite: unknown node ${n}`);
        return i;
    };
    const mine = portsFor(idx(node));
    const swap = (addr: string): string => {
        const m = /^(https?):\/\/([^:/]+):(\d+)$/.exec(addr);
        if (!m) throw new Error(`rewrite: unexpected address ${addr}`);
        const [, scheme, host, port] = m;
        const p = portsFor(idx(host));
        const map: Record<number, number> = {
            [declared.api]: p.api,
            [declared.cluster]: p.cluster,
            [declared.peer]: p.peer,
        };
        if (!map[Number(port)]) throw new Error(`rewrite: unexpected port in ${addr}`);
        return `${scheme}://127.0.0.1:${map[Number(port)]}`;
    };
    cfg.api_addr = swap(cfg.api_addr);
    cfg.cluster_addr = swap(cfg.cluster_addr);
    for (const l of cfg.listener as { tcp: Record<string, string> }[]) {
        const port = Number(l.tcp.address.split(":").pop());
        const ours: Record<number, [number, number]> = {
            [declared.api]: [mine.api, mine.cluster],
            [declared.peer]: [mine.peer, mine.peerCluster],
        };
        if (!ours[port]) throw new Error(`rewrite: unexpected listener ${l.tcp.address}`);
        l.tcp.address = `127.0.0.1:${ours[port][0]}`;
        if (l.tcp.cluster_address) l.tcp.cluster_address = `127.0.0.1:${ours[port][1]}`;
    }
    for (const j of cfg.storage?.raft?.retry_join ?? []) j.leader_api_addr = swap(j.leader_api_addr);
    if (cfg.seal?.transit) cfg.seal.transit.address = `http://${unsealerHostPort}`;
    return cfg;
}

export function rewriteUnsealerConfig(json: string, port: number): Record<string, unknown> {
    const cfg = JSON.parse(json) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const l of cfg.listener) l.tcp.address = `127.0.0.1:${port}`;
    cfg.api_addr = `http://127.0.0.1:${port}`;
    return cfg;
}

// ---------------------------------------------------------------------------------------------
// Prerequisites and processes

export function vaultAccount(): { uid: number; gid: number } {
    const line = execFileSync("getent", ["passwd", "vault"], { encoding: "utf8" }).trim();
    const [, , uid, gid] = line.split(":");
    return { uid: Number(uid), gid: Number(gid) };
}

/** Fails with what to install when this machine lacks what the tier needs. */
export function checkPrerequisites(): void {
    const missing: string[] = [];
    if (!fs.existsSync(VAULT_BIN)) missing.push(`${VAULT_BIN} (run scripts/build-vault.sh)`);
    for (const tool of ["gosu", "unshare", "openssl", "gpg"])
        try {
            execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
        } catch {
            missing.push(tool);
        }
    try {
        vaultAccount();
    } catch {
        missing.push("a `vault` system account (useradd --system --user-group vault)");
    }
    if (process.getuid?.() !== 0) missing.push("root (mount namespaces and chown)");
    if (missing.length)
        throw new Error(
            `the real-server tier needs: ${missing.join(", ")}. scripts/conformance-prereqs.sh installs them.`,
        );
    fs.mkdirSync("/vault", { recursive: true });
}

/** A folder on this machine that plays one container's filesystem under /vault. */
export class ContainerRoot {
    readonly root: string;
    readonly binDir: string;
    constructor(
        readonly name: string,
        base: string,
    ) {
        this.root = path.join(base, name, "vault");
        this.binDir = path.join(base, name, "bin");
        fs.mkdirSync(this.root, { recursive: true });
        fs.mkdirSync(this.binDir, { recursive: true });
        // Alpine's su-exec and the image's vault binary, by the names the entrypoint calls.
        fs.symlinkSync(
            execFileSync("sh", ["-c", "command -v gosu"], { encoding: "utf8" }).trim(),
            path.join(this.binDir, "su-exec"),
        );
        fs.symlinkSync(VAULT_BIN, path.join(this.binDir, "vault"));
        fs.chmodSync(path.join(base, name), 0o755);
    }

    /** Host path of an in-container path below /vault. */
    hostPath(p: string): string {
        if (!p.startsWith("/vault/")) throw new Error(`only /vault/… is mapped here, not ${p}`);
        return path.join(this.root, p.slice("/vault/".length));
    }

    /** A Docker volume's root as Docker makes it: root-owned, 0755, before the entrypoint runs. */
    volume(containerPath: string): void {
        const p = this.hostPath(containerPath);
        fs.mkdirSync(p, { recursive: true });
        fs.chmodSync(p, 0o755);
    }

    /** Write an upload with its declared mode, owned by the local vault account. */
    upload(file: string, content: string, permissions: string | undefined): void {
        const p = this.hostPath(file);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, content);
        const { uid, gid } = vaultAccount();
        fs.chownSync(p, uid, gid);
        fs.chmodSync(p, parseInt(permissions ?? "0644", 8));
    }
}

/**
 * The declared capability set and no-new-privileges, as Docker would apply them: root in the
 * process keeps only the capabilities the container adds (ALL is dropped).
 */
export function confined(c: DeclaredContainer): string[] {
    const caps = c.raw.capabilities as { adds?: string[]; drops?: string[] } | undefined;
    if (!caps?.drops?.includes("ALL")) throw new Error(`${c.name}: expected capabilities.drops ["ALL"]`);
    const keep = (caps.adds ?? []).map((a) => `+${a.toLowerCase()}`);
    const nnp = ((c.raw.securityOpts as string[] | undefined) ?? []).includes("no-new-privileges:true");
    return [
        "setpriv",
        `--bounding-set=-all${keep.length ? "," + keep.join(",") : ""}`,
        "--inh-caps=-all",
        ...(nnp ? ["--no-new-privs"] : []),
        "--",
    ];
}

/**
 * How one declared container's process runs here: its own mount namespace with `root` bound onto
 * /vault, the declared capability set, then the declared entrypoint with `command` as arguments.
 */
export function containerProcess(
    c: DeclaredContainer,
    root: ContainerRoot,
    env: Record<string, string>,
    command: readonly string[],
    opts: ContainerOptions = {},
): { file: string; args: string[]; env: Record<string, string> } {
    return {
        file: "unshare",
        args: [
            "--mount",
            "--propagation",
            "private",
            // As Docker does: the entrypoint is PID 1 of its own PID namespace (then the server, which it
            // execs) and /proc shows only the container's processes.
            ...(opts.pidNamespace ? ["--pid", "--fork", "--mount-proc"] : []),
            "--",
            "/bin/sh",
            "-c",
            'mount --bind "$1" /vault && shift && exec "$@"',
            "bind",
            root.root,
            ...confined(c),
            ...c.entrypoints,
            ...command,
        ],
        env: { PATH: `${root.binDir}:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: "/nonexistent", ...env },
    };
}

export interface ContainerOptions {
    /**
     * Run in a new PID namespace, as Docker does. Off by default (tier 1 predates it); the audit
     * rotation check needs it: the rotation loop signals the server by PID (1 in a container), and
     * outside a namespace `pidof vault` would also see every other Vault on this machine.
     */
    pidNamespace?: boolean;
}

export interface Running {
    name: string;
    proc: ChildProcess;
    logFile: string;
    exited: Promise<number | null>;
}

const running = new Set<Running>();

/**
 * Start a declared container's entrypoint + command in its own mount namespace with `root`
 * bound onto /vault. `env` is the container's env (already rewritten).
 */
export function startContainer(
    c: DeclaredContainer,
    root: ContainerRoot,
    env: Record<string, string>,
    logDir: string,
    opts: ContainerOptions = {},
): Running {
    const logFile = path.join(logDir, `${root.name}.log`);
    const out = fs.openSync(logFile, "a");
    const run = containerProcess(c, root, env, c.command, opts);
    const proc = spawn(run.file, run.args, { detached: true, stdio: ["ignore", out, out], env: run.env });
    fs.closeSync(out);
    const exited = new Promise<number | null>((resolve) =>
        proc.on("exit", (code) => {
            // As in a container whose main process ends: nothing it started outlives it (the
            // entrypoint's background audit rotation loop shares its process group).
            try {
                process.kill(-proc.pid!, "SIGKILL");
            } catch {
                /* the group is already gone */
            }
            resolve(code);
        }),
    );
    const r: Running = { name: root.name, proc, logFile, exited };
    running.add(r);
    void exited.then(() => running.delete(r));
    return r;
}

/**
 * Run a declared container's entrypoint once with another command (as `docker run --rm … <cmd>`),
 * return its exit status and output. Its whole process group goes when the command ends, as a
 * container's would (the entrypoint also starts the audit rotation loop in the background).
 */
export async function runOnce(
    c: DeclaredContainer,
    root: ContainerRoot,
    env: Record<string, string>,
    command: readonly string[],
    logDir: string,
    timeoutMs = 120000,
): Promise<{ status: number | null; output: string }> {
    const logFile = path.join(logDir, `${root.name}.${command[0]}.log`);
    const out = fs.openSync(logFile, "w");
    const run = containerProcess(c, root, env, command);
    const proc = spawn(run.file, run.args, { detached: true, stdio: ["ignore", out, out], env: run.env });
    fs.closeSync(out);
    const killGroup = () => {
        try {
            process.kill(-proc.pid!, "SIGKILL");
        } catch {
            /* gone */
        }
    };
    const timer = setTimeout(killGroup, timeoutMs);
    const status = await new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
    clearTimeout(timer);
    killGroup();
    return { status, output: fs.readFileSync(logFile, "utf8") };
}

export async function stop(r: Running, signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15000): Promise<void> {
    if (r.proc.exitCode !== null || r.proc.signalCode !== null) return;
    try {
        process.kill(-r.proc.pid!, signal);
    } catch {
        return;
    }
    const t = setTimeout(() => {
        try {
            process.kill(-r.proc.pid!, "SIGKILL");
        } catch {
            /* gone */
        }
    }, timeoutMs);
    await r.exited;
    clearTimeout(t);
}

export async function stopAll(): Promise<void> {
    await Promise.all([...running].map((r) => stop(r)));
}

// Whatever happens to the test process, no server outlives it.
process.on("exit", () => {
    for (const r of running)
        try {
            process.kill(-r.proc.pid!, "SIGKILL");
        } catch {
            /* gone */
        }
});

export function makeTempBase(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    // The servers run as the vault account, which must reach their folders and the binary's link.
    fs.chmodSync(dir, 0o755);
    return dir;
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Node {
    name: string;
    ports: Ports;
    /** The program's own transport (components/vault/http.ts) with the test CA. */
    http: Transport;
}

export function transport(port: number, caPem: string, serverName: string): Transport {
    return nodeTransport({ addr: `https://127.0.0.1:${port}`, caCert: caPem, tlsServerName: serverName });
}

export interface RawResponse {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Record<string, unknown>;
}

/**
 * One request with full control of headers (wrapping TTL) and access to the response headers,
 * through the program's Vault HTTP client. A body that is not JSON reads as `{ raw: text }`.
 */
export async function rawRequest(
    port: number,
    method: string,
    p: string,
    caPem: string,
    serverName: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers["X-Vault-Token"] = opts.token;
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    const res = await sendRaw({
        method,
        url: `https://127.0.0.1:${port}${p}`,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        caCert: caPem,
        servername: serverName,
        timeoutMs: 10000,
    });
    const text = res.bytes.toString("utf8");
    let body: Record<string, unknown> = {};
    try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
        body = { raw: text };
    }
    return { status: res.status, headers: res.headers, body };
}

/** Poll `probe` until it returns a value other than undefined; no fixed sleeps elsewhere. */
export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (e) {
            last = e instanceof Error ? e.message : String(e);
        }
        await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last: ${last})` : ""}`);
}

export async function call(
    t: Transport,
    method: "GET" | "PUT" | "POST" | "LIST" | "DELETE",
    p: string,
    token?: string,
    body?: Record<string, unknown>,
): Promise<HttpResponse> {
    return t({ method, path: p, token, body });
}
