/**
 * A stand-in Docker Engine API for the real-server tier, on a unix socket: the calls NodeTls
 * (components/tls/nodeTls.ts) makes, answered for the tier's "containers" (a ContainerRoot and the
 * process running its entrypoint), so the program's own provider, serialised as the engine runs it,
 * writes the certificate files and signals the real Vault 1.21.1:
 *
 * - `GET /containers/{id}/json`: running when the node's process has not exited;
 * - `HEAD /containers/{id}/archive?path=<p>`: 200 when the file exists under the node's /vault, else 404;
 * - `PUT /containers/{id}/archive?path=/`: each tar entry written where the container would see it,
 *   with its mode, owned by this machine's vault account (LOOPBACK_REWRITES: the image's 100:1000);
 * - `POST /containers/{id}/exec`, `POST /exec/{id}/start`, `GET /exec/{id}/json`: NodeTls's exec
 *   (`SIGHUP_SERVER_SCRIPT`, as the server's user) is checked to be exactly that script and played
 *   as what it does, SIGHUP to the node's Vault process (LOOPBACK_REWRITES: outside a PID namespace
 *   `pidof vault` would also find the other clusters' servers on this machine); exit 3 when the
 *   node's process is not running, as the script does.
 *
 * The real Engine API (extraction, ownership, tini) is the Docker tier's subject
 * (test/docker/local.test.ts); everything else here runs as in production.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { readTarArchive } from "../../../components/tls/archive";
import { SIGHUP_SERVER_SCRIPT } from "../../../components/tls/nodeTls";
import { vaultAccount, type ContainerRoot, type Running } from "./cluster";

export interface StandInContainer {
    root: ContainerRoot;
    /** The process now running the container's entrypoint (a restart replaces it). */
    proc: () => Running | undefined;
}

export interface StandInEngine {
    /** `unix://<socket>`: the NodeTls input `dockerHost`. */
    host: string;
    /** Every request, in order: `METHOD path` without the container id. */
    log: string[];
    /** SIGHUPs delivered, per container id. */
    hups: Map<string, number>;
    close(): Promise<void>;
}

/** Write a PUT archive's entries into a container root, as Docker extracts them (owner: the local vault account). */
export function extractInto(root: ContainerRoot, tar: Buffer): string[] {
    const { uid, gid } = vaultAccount();
    const written: string[] = [];
    for (const e of readTarArchive(tar)) {
        const p = root.hostPath(e.path);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        // Docker removes an existing file and creates it anew (pkg/archive createTarFile).
        fs.rmSync(p, { force: true });
        fs.writeFileSync(p, e.content, { mode: e.mode });
        fs.chmodSync(p, e.mode);
        fs.chownSync(p, uid, gid);
        written.push(e.path);
    }
    return written;
}

export async function startStandInEngine(
    socketPath: string,
    containers: Map<string, StandInContainer>,
): Promise<StandInEngine> {
    const log: string[] = [];
    const hups = new Map<string, number>();
    const execs = new Map<string, { container: string; exitCode: number }>();
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const url = new URL(req.url ?? "/", "http://docker");
            const answer = (status: number, body?: unknown) => {
                res.writeHead(status, { "Content-Type": "application/json" });
                res.end(body === undefined ? "" : JSON.stringify(body));
            };
            const e = /^\/exec\/([^/]+)\/(start|json)$/.exec(url.pathname);
            if (e) {
                log.push(`${req.method} /exec/${e[2]}`);
                const x = execs.get(e[1]);
                if (!x) return answer(404, { message: `No such exec instance: ${e[1]}` });
                if (e[2] === "json") return answer(200, { Running: false, ExitCode: x.exitCode });
                const c = containers.get(x.container)!;
                const p = c.proc();
                if (!p || p.proc.exitCode !== null || p.proc.signalCode !== null) x.exitCode = 3;
                else {
                    process.kill(p.proc.pid!, "SIGHUP");
                    hups.set(x.container, (hups.get(x.container) ?? 0) + 1);
                    x.exitCode = 0;
                }
                return answer(200);
            }
            const m = /^\/containers\/([^/]+)\/(json|archive|exec)$/.exec(url.pathname);
            const id = m ? decodeURIComponent(m[1]) : "";
            const c = containers.get(id);
            log.push(`${req.method} /${m?.[2] ?? url.pathname}`);
            if (!m || !c) return answer(404, { message: `No such container: ${id}` });
            const p = c.proc();
            const running = !!p && p.proc.exitCode === null && p.proc.signalCode === null;
            if (m[2] === "json" && req.method === "GET")
                return answer(200, { Id: id, State: { Running: running, Status: running ? "running" : "exited" } });
            if (m[2] === "archive" && req.method === "HEAD") {
                const file = url.searchParams.get("path") ?? "";
                return answer(fs.existsSync(c.root.hostPath(file)) ? 200 : 404);
            }
            if (m[2] === "archive" && req.method === "PUT") {
                if (url.searchParams.get("path") !== "/")
                    return answer(400, { message: "the tier extracts at / only" });
                extractInto(c.root, Buffer.concat(chunks));
                return answer(200);
            }
            if (m[2] === "exec" && req.method === "POST") {
                if (!running) return answer(409, { message: `Container ${id} is not running` });
                const spec = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { Cmd?: string[]; User?: string };
                if (JSON.stringify(spec.Cmd) !== JSON.stringify(["/bin/sh", "-c", SIGHUP_SERVER_SCRIPT]))
                    return answer(400, { message: "the stand-in plays NodeTls's SIGHUP exec only" });
                const execId = `exec-${execs.size + 1}`;
                execs.set(execId, { container: id, exitCode: -1 });
                return answer(201, { Id: execId });
            }
            return answer(405, { message: `${req.method} ${url.pathname} is not part of the stand-in` });
        });
    });
    fs.rmSync(socketPath, { force: true });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return {
        host: `unix://${socketPath}`,
        log,
        hups,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
