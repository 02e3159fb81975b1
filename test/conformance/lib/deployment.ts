/**
 * One deployment of the backend as Railway runs it: clients/python/tests/live_deployment.py in its
 * own process, with the backend's environment (the caller's, already rewritten for this tier). It
 * writes and reads until SIGTERM, then prints one JSON summary (calls, failures, logins).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { REPO } from "./cluster";
import type { Body } from "./ops";

export interface Deployment {
    /** Resolves once the first write and read succeeded (its healthcheck); rejects if it exits or times out first. */
    ready: Promise<void>;
    exited: Promise<{ code: number | null; summary: Body; stderr: string }>;
    terminate(): void;
}

// A test that fails mid-way must not leave a deployment running past its process (ports, CPU).
const running = new Set<ReturnType<typeof spawn>>();
process.on("exit", () => {
    for (const p of running) p.kill("SIGKILL");
});

export function deployBackend(env: NodeJS.ProcessEnv, prefix: string, readyTimeoutMs = 30000): Deployment {
    const proc = spawn("/usr/bin/python3", [path.join("tests", "live_deployment.py")], {
        cwd: path.join(REPO, "clients", "python"),
        env: { ...env, LIVE_PREFIX: prefix },
    });
    running.add(proc);
    let stdout = "";
    let stderr = "";
    let onReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    proc.stdout.on("data", (d: Buffer) => {
        stdout += d.toString("utf8");
        if (/^ready$/m.test(stdout)) onReady();
    });
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const exited = new Promise<{ code: number | null; summary: Body; stderr: string }>((resolve) =>
        proc.on("close", (code) => {
            running.delete(proc);
            const line = stdout
                .split("\n")
                .filter((l) => l.startsWith("{"))
                .pop();
            resolve({ code, summary: line ? (JSON.parse(line) as Body) : {}, stderr });
        }),
    );
    const timedReady = Promise.race([
        ready,
        exited.then((e) => {
            throw new Error(`deployment exited before ready (${e.code}): ${e.stderr.slice(-2000)}`);
        }),
        new Promise<void>((_, reject) =>
            setTimeout(
                () => reject(new Error(`deployment not ready in ${readyTimeoutMs / 1000} s: ${stderr.slice(-2000)}`)),
                readyTimeoutMs,
            ),
        ),
    ]);
    return { ready: timedReady, exited, terminate: () => proc.kill("SIGTERM") };
}
