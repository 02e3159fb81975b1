/** The real seams: Vault over node:https (or node:http for a dev-mode server) and the process clock. */
import * as http from "node:http";
import * as https from "node:https";
import { performance } from "node:perf_hooks";
import type { Clock, HttpClient, VaultRequest, VaultResponse } from "./types";

export interface VaultHttpOptions {
    addr: string;
    /** PEM of the CA(s) that signed Vault's certificate; without it Node's bundled roots are used. */
    caCert?: string;
    /** Name checked against the certificate (SNI); default: the address's host. */
    servername?: string;
    /** Keep-alive sockets; the load test passes its concurrency so each worker keeps one connection. */
    maxSockets: number;
    timeoutMs: number;
    namespace?: string;
}

export interface VaultHttp {
    request: HttpClient;
    /** Closes the kept-alive sockets so the process can exit. */
    close(): void;
}

export function createVaultHttp(o: VaultHttpOptions): VaultHttp {
    const url = new URL(o.addr);
    const secure = url.protocol === "https:";
    const agent = secure
        ? new https.Agent({
              keepAlive: true,
              maxSockets: o.maxSockets,
              ca: o.caCert,
              minVersion: "TLSv1.2",
              ...(o.servername ? { servername: o.servername } : {}),
          })
        : new http.Agent({ keepAlive: true, maxSockets: o.maxSockets });
    const base = url.pathname.replace(/\/+$/, "");
    const send = secure ? https.request : http.request;

    const request = (req: VaultRequest): Promise<VaultResponse> =>
        new Promise((resolve, reject) => {
            const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
            const headers: Record<string, string> = {};
            if (req.token) headers["X-Vault-Token"] = req.token;
            if (o.namespace) headers["X-Vault-Namespace"] = o.namespace;
            if (payload) {
                headers["Content-Type"] = "application/json";
                headers["Content-Length"] = String(payload.length);
            }
            const r = send(
                {
                    agent,
                    protocol: url.protocol,
                    hostname: url.hostname.replace(/^\[|\]$/g, ""),
                    port: url.port || (secure ? 443 : 80),
                    method: req.method,
                    path: `${base}/v1/${req.path}`,
                    headers,
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("error", reject);
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        let body: unknown;
                        try {
                            body = text ? JSON.parse(text) : undefined;
                        } catch {
                            body = undefined;
                        }
                        resolve({ status: res.statusCode ?? 0, body });
                    });
                },
            );
            r.setTimeout(o.timeoutMs, () =>
                r.destroy(Object.assign(new Error(`no answer within ${o.timeoutMs} ms`), { code: "ETIMEDOUT" })),
            );
            r.on("error", reject);
            r.end(payload);
        });

    return { request, close: () => agent.destroy() };
}

export const processClock: Clock = {
    now: () => performance.now(),
    setTimer: (ms, fn) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
    },
};
