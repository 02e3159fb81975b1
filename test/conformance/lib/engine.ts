/**
 * A stand-in Docker Engine API for the real-server tier, on a unix socket: the four calls NodeTls
 * (components/tls/nodeTls.ts) makes, answered for the tier's "containers" (a ContainerRoot and the
 * process running its entrypoint), so the program's own provider, serialised as the engine runs it,
 * writes the certificate files and signals the real Vault 1.21.1:
 *
 * - `GET /containers/{id}/json`: running when the node's process has not exited;
 * - `HEAD /containers/{id}/archive?path=<p>`: 200 when the file exists under the node's /vault, else 404;
 * - `PUT /containers/{id}/archive?path=/`: each tar entry written where the container would see it,
 *   with its mode, owned by this machine's vault account (LOOPBACK_REWRITES: the image's 100:1000);
 * - `POST /containers/{id}/kill?signal=SIGHUP`: SIGHUP to the node's process (Docker sends it to the
 *   container's init, tini, which forwards it to the same process: the entrypoint shell while it
 *   waits, Vault after its `exec`).
 *
 * The real Engine API (extraction, ownership, tini) is the Docker tier's subject
 * (test/docker/local.test.ts); everything else here runs as in production.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { readTarArchive } from "../../../components/tls/archive";
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
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const url = new URL(req.url ?? "/", "http://docker");
            const m = /^\/containers\/([^/]+)\/(json|archive|kill)$/.exec(url.pathname);
            const id = m ? decodeURIComponent(m[1]) : "";
            const c = containers.get(id);
            log.push(`${req.method} /${m?.[2] ?? url.pathname}`);
            const answer = (status: number, body?: unknown) => {
                res.writeHead(status, { "Content-Type": "application/json" });
                res.end(body === undefined ? "" : JSON.stringify(body));
            };
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
            if (m[2] === "kill" && req.method === "POST") {
                if (!running) return answer(409, { message: `Container ${id} is not running` });
                const signal = url.searchParams.get("signal") ?? "SIGKILL";
                process.kill(p!.proc.pid!, signal as NodeJS.Signals);
                if (signal === "SIGHUP") hups.set(id, (hups.get(id) ?? 0) + 1);
                return answer(204);
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
