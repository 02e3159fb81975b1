/**
 * A Docker engine for the Docker tier: the one DOCKER_HOST (or the default socket) names when it
 * answers, else a private `dockerd` started here (its own data-root, exec-root, socket and pidfile
 * under a temporary directory, no iptables, no default bridge) and stopped by `stop()`. Installs
 * Debian's docker.io, busybox-static and gosu with apt when they are missing.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";

export interface Engine {
    /** The unix socket of the daemon. */
    socket: string;
    /** The daemon's own open-files limit (hard), which caps every container's nofile. */
    nofileLimit: number;
    /** Run the docker CLI; rejects with its stderr. */
    docker(args: string[], opts?: { input?: string | Buffer; allowFail?: boolean }): Promise<CliResult>;
    /** One Engine API call over the socket. */
    api(method: string, urlPath: string, body?: unknown, raw?: Buffer): Promise<{ status: number; body: string }>;
    stop(): Promise<void>;
}

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

const APT_PACKAGES: Record<string, string> = {
    dockerd: "docker.io",
    busybox: "busybox-static",
    gosu: "gosu",
};

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            cmd,
            args,
            { env, maxBuffer: 64 * 1024 * 1024, encoding: "buffer" },
            (err, stdout, stderr) => {
                const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
                if (err && typeof err.code !== "number") return reject(err);
                resolve({ code, stdout: stdout.toString("utf8"), stderr: stderr.toString("utf8") });
            },
        );
        if (input !== undefined) child.stdin?.end(input);
        else child.stdin?.end();
    });
}

function which(bin: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])) {
        const p = path.join(dir, bin);
        if (fs.existsSync(p)) return p;
    }
    return undefined;
}

/** Install whichever of dockerd, busybox (static) and gosu is missing, with apt. */
export async function ensurePackages(): Promise<void> {
    const missing = Object.entries(APT_PACKAGES)
        .filter(([bin]) => (bin === "busybox" ? !fs.existsSync("/bin/busybox") : !which(bin)))
        .map(([, pkg]) => pkg);
    if (!missing.length) return;
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const update = await run("apt-get", ["update"], env);
    if (update.code !== 0) throw new Error(`apt-get update failed: ${update.stderr}`);
    const inst = await run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], env);
    if (inst.code !== 0) throw new Error(`apt-get install ${missing.join(" ")} failed: ${inst.stderr}`);
}

/** Poll `probe` every `everyMs` until it returns a value, or throw after `timeoutMs`. */
export async function until<T>(
    what: string,
    timeoutMs: number,
    probe: () => Promise<T | undefined>,
    everyMs = 500,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (e) {
            last = e instanceof Error ? e.message : String(e);
        }
        if (Date.now() > deadline)
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
        await new Promise((r) => setTimeout(r, everyMs));
    }
}

function apiCall(
    socket: string,
    method: string,
    urlPath: string,
    body?: unknown,
    raw?: Buffer,
): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const payload = raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
        const req = http.request(
            {
                socketPath: socket,
                method,
                path: urlPath,
                headers: {
                    ...(payload
                        ? {
                              "Content-Type": raw ? "application/x-tar" : "application/json",
                              "Content-Length": payload.length,
                          }
                        : {}),
                },
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () =>
                    resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
                );
            },
        );
        req.on("error", reject);
        req.end(payload);
    });
}

function hardNofile(pid: number | "self"): number {
    const line = fs
        .readFileSync(`/proc/${pid}/limits`, "utf8")
        .split("\n")
        .find((l) => l.startsWith("Max open files"));
    const hard = line?.trim().split(/\s+/)[4];
    return hard === undefined || hard === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(hard);
}

function engineFor(socket: string, env: NodeJS.ProcessEnv, nofileLimit: number, stop: () => Promise<void>): Engine {
    return {
        socket,
        nofileLimit,
        async docker(args, opts = {}) {
            const r = await run("docker", args, env, opts.input);
            if (r.code !== 0 && !opts.allowFail)
                throw new Error(`docker ${args.slice(0, 3).join(" ")} … exited ${r.code}: ${r.stderr.trim()}`);
            return r;
        },
        api: (method, urlPath, body, raw) => apiCall(socket, method, urlPath, body, raw),
        stop,
    };
}

/** The running daemon DOCKER_HOST (or /var/run/docker.sock) names, or a new private one. */
export async function startEngine(): Promise<Engine> {
    await ensurePackages();
    const given = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
    if (given.startsWith("unix://")) {
        const socket = given.slice("unix://".length);
        const env = { ...process.env, DOCKER_HOST: given };
        if (fs.existsSync(socket) && (await run("docker", ["info"], env)).code === 0) {
            // Not ours: its limit is unknown here; Docker refuses a container above it, which the tier reports.
            return engineFor(socket, env, Number.MAX_SAFE_INTEGER, async () => {});
        }
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-dockerd-"));
    const socket = path.join(dir, "docker.sock");
    const pidfile = path.join(dir, "dockerd.pid");
    const log = fs.openSync(path.join(dir, "dockerd.log"), "a");
    const daemon: ChildProcess = spawn(
        "dockerd",
        [
            `--data-root=${path.join(dir, "data")}`,
            `--exec-root=${path.join(dir, "exec")}`,
            `--pidfile=${pidfile}`,
            `--host=unix://${socket}`,
            // No host firewall changes and no default bridge: the tier's only network is --internal.
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
        ],
        { stdio: ["ignore", log, log], detached: false },
    );
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
    let exited = false;
    daemon.on("exit", () => (exited = true));
    const stop = async () => {
        if (!exited) {
            daemon.kill("SIGTERM");
            await until("dockerd to exit", 60_000, async () => (exited ? true : undefined), 200).catch(() => {
                daemon.kill("SIGKILL");
            });
        }
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    };
    try {
        await until("the private dockerd to answer", 60_000, async () => {
            if (exited) throw new Error(`dockerd exited; see ${path.join(dir, "dockerd.log")}`);
            return (await run("docker", ["info"], env)).code === 0 ? true : undefined;
        });
    } catch (e) {
        const text = fs.readFileSync(path.join(dir, "dockerd.log"), "utf8").slice(-2000);
        await stop();
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n${text}`);
    }
    return engineFor(socket, env, hardNofile(daemon.pid ?? "self"), stop);
}
