/**
 * A small Docker Engine API client for the NodeTls dynamic provider: the same daemons the Docker
 * provider reaches (the stack's `dockerHosts` URIs, or DOCKER_HOST), with the same transports:
 *
 * - `unix:///path/docker.sock` (and no URI: DOCKER_HOST, else `/var/run/docker.sock`);
 * - `tcp://host:port`, with TLS from DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) when
 *   DOCKER_TLS_VERIFY is set, as the Docker CLI does;
 * - `ssh://[user@]host[:port]`: `ssh … -- host docker system dial-stdio`, the Docker CLI's own
 *   connection helper (github.com/docker/cli connhelper), so the remote host needs the `docker` CLI
 *   and the user's ssh configuration and known_hosts apply. One ssh process per request.
 *
 * Requests carry no secret on any command line: a body (the TLS archive) travels on the connection
 * only. Unversioned API paths: the daemon serves its current version (a pinned old version would be
 * refused by Docker Engine 29, whose minimum is API 1.44).
 *
 * Serialised into the dynamic provider with it: node modules are `require`d inside the functions,
 * no classes (components/vault/http.ts says why).
 */

export type DockerHostTarget =
    | { kind: "unix"; socketPath: string }
    | { kind: "tcp"; host: string; port: number; tls?: { ca: string; cert: string; key: string } }
    | { kind: "ssh"; host: string; user?: string; port?: number };

export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/**
 * Where a Docker host URI points. `host` empty or undefined: the Pulumi host's own daemon
 * (`env.DOCKER_HOST`, else the default socket), as the Docker provider without a `host` does.
 * `readFile` reads the TLS files of a `tcp://` host (injected for tests).
 */
export function dockerHostTarget(
    host: string | undefined,
    env: Record<string, string | undefined>,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    readFile: (p: string) => string = (p) => (require("node:fs") as typeof import("node:fs")).readFileSync(p, "utf8"),
): DockerHostTarget {
    const uri = host || env.DOCKER_HOST || `unix://${DEFAULT_DOCKER_SOCKET}`;
    if (uri.startsWith("unix://")) {
        const socketPath = uri.slice("unix://".length);
        if (!socketPath.startsWith("/")) throw new Error(`Docker host ${uri}: a unix socket path must be absolute`);
        return { kind: "unix", socketPath };
    }
    const m = /^(tcp|ssh):\/\/(?:([^@/:]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(uri);
    if (!m) throw new Error(`Docker host ${uri}: expected unix:///path, tcp://host:port or ssh://[user@]host[:port]`);
    const [, scheme, user, rawHost, port] = m;
    const h = rawHost.replace(/^\[|\]$/g, "");
    if (scheme === "ssh")
        return { kind: "ssh", host: h, ...(user ? { user } : {}), ...(port ? { port: Number(port) } : {}) };
    if (user) throw new Error(`Docker host ${uri}: tcp:// takes no user`);
    const verify = !!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== "0";
    if (!verify) return { kind: "tcp", host: h, port: port ? Number(port) : 2375 };
    const dir = env.DOCKER_CERT_PATH || `${env.HOME ?? ""}/.docker`;
    return {
        kind: "tcp",
        host: h,
        port: port ? Number(port) : 2376,
        tls: { ca: readFile(`${dir}/ca.pem`), cert: readFile(`${dir}/cert.pem`), key: readFile(`${dir}/key.pem`) },
    };
}

/**
 * The ssh call of the Docker CLI's connection helper: no terminal, no password prompt (Pulumi runs
 * without one; keys come from the agent or ~/.ssh), a bounded connect.
 */
export function sshDialCommand(t: Extract<DockerHostTarget, { kind: "ssh" }>): { file: string; args: string[] } {
    return {
        file: "ssh",
        args: [
            "-T",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=30",
            ...(t.user ? ["-l", t.user] : []),
            ...(t.port ? ["-p", String(t.port)] : []),
            "--",
            t.host,
            "docker",
            "system",
            "dial-stdio",
        ],
    };
}

export interface EngineResponse {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
}

/** One Engine API request; rejects only when no HTTP answer arrived. */
export type EngineCall = (method: string, path: string, body?: Buffer, contentType?: string) => Promise<EngineResponse>;

/** What `ssh` is spawned with (tests replace it with a stand-in that records its arguments). */
export interface EngineOptions {
    timeoutMs?: number;
    sshBinary?: string;
}

/** A client for one Docker daemon. */
export function engineCall(target: DockerHostTarget, opts: EngineOptions = {}): EngineCall {
    const timeoutMs = opts.timeoutMs ?? 60000;
    return (method, path, body, contentType) =>
        new Promise<EngineResponse>((resolve, reject) => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const http = require("node:http") as typeof import("node:http");
            const headers: Record<string, string | number> = { Host: "docker", Connection: "close" };
            if (body) {
                headers["Content-Type"] = contentType ?? "application/json";
                headers["Content-Length"] = body.length;
            }
            const base = { method, path, headers };
            let child: import("node:child_process").ChildProcess | undefined;
            let stderr = "";
            // Declared before the closures that clear it: Pulumi's closure serialiser refuses a
            // captured variable that is declared after the function capturing it.
            // eslint-disable-next-line prefer-const
            let timer: ReturnType<typeof setTimeout> | undefined;
            let options: import("node:http").RequestOptions;
            if (target.kind === "unix") options = { ...base, socketPath: target.socketPath };
            else if (target.kind === "tcp" && !target.tls)
                options = { ...base, host: target.host, port: target.port, agent: false };
            else if (target.kind === "tcp") {
                const tlsOpts = target.tls!;
                options = {
                    ...base,
                    agent: false,
                    createConnection: () =>
                        // eslint-disable-next-line @typescript-eslint/no-require-imports
                        (require("node:tls") as typeof import("node:tls")).connect({
                            host: target.host,
                            port: target.port,
                            servername: target.host,
                            ca: tlsOpts.ca,
                            cert: tlsOpts.cert,
                            key: tlsOpts.key,
                            minVersion: "TLSv1.2",
                        }),
                };
            } else {
                const cmd = sshDialCommand(target);
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const { spawn } = require("node:child_process") as typeof import("node:child_process");
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const { Duplex } = require("node:stream") as typeof import("node:stream");
                const proc = spawn(opts.sshBinary ?? cmd.file, cmd.args, { stdio: ["pipe", "pipe", "pipe"] });
                child = proc;
                proc.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString("utf8")).slice(-2000)));
                const stream = new Duplex({
                    read() {},
                    write(chunk, _enc, cb) {
                        proc.stdin!.write(chunk, cb);
                    },
                    final(cb) {
                        proc.stdin!.end();
                        cb();
                    },
                });
                proc.stdout!.on("data", (d: Buffer) => stream.push(d));
                proc.stdout!.on("end", () => stream.push(null));
                proc.on("error", (e) => stream.destroy(e));
                options = { ...base, createConnection: () => stream as unknown as import("node:net").Socket };
            }
            const where =
                target.kind === "unix"
                    ? `unix://${target.socketPath}`
                    : `${target.kind}://${target.kind === "ssh" && target.user ? `${target.user}@` : ""}${target.host}`;
            const fail = (e: Error) => {
                child?.kill();
                const extra = stderr.trim() ? ` (ssh: ${stderr.trim().split("\n").slice(-3).join(" / ")})` : "";
                reject(
                    new Error(
                        `Docker Engine API at ${where}: ${method} ${path.split("?")[0]} failed: ${e.message}${extra}`,
                    ),
                );
            };
            const req = http.request(options, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    clearTimeout(timer);
                    child?.kill();
                    resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
                });
                res.on("error", fail);
            });
            timer = setTimeout(() => req.destroy(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
            req.on("error", (e) => {
                clearTimeout(timer);
                fail(e);
            });
            req.end(body);
        });
}

/** The Engine API's error text (`{"message": "..."}`), else the body's start. */
export function engineMessage(r: EngineResponse): string {
    const text = r.body.toString("utf8");
    try {
        const m = (JSON.parse(text) as { message?: unknown }).message;
        if (typeof m === "string") return m;
    } catch {
        /* not JSON */
    }
    return text.slice(0, 300).trim() || `HTTP ${r.status}`;
}
