/**
 * A loopback HTTP server that answers Vault API paths from a table, for code that talks to Vault
 * over a real socket (the dynamic providers, serialised as the engine serialises them). It models
 * answers, not Vault: each test scripts exactly the answers its path needs.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface Answer {
    status: number;
    body?: unknown;
}

/** "METHOD path" (path below /v1/, with its query string) → answer; unknown paths answer 404. */
export type Routes = Record<string, Answer | ((body: unknown) => Answer)>;

export interface HttpVault {
    /** http://127.0.0.1:<port> */
    addr: string;
    /** Every request, as "METHOD path". */
    seen: string[];
    routes: Routes;
    close(): Promise<void>;
}

export async function startHttpVault(routes: Routes = {}): Promise<HttpVault> {
    const state: HttpVault = { addr: "", seen: [], routes, close: async () => {} };
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const key = `${req.method} ${(req.url ?? "").replace(/^\/v1\//, "")}`;
            state.seen.push(key);
            const text = Buffer.concat(chunks).toString("utf8");
            const route = state.routes[key];
            const answer: Answer =
                typeof route === "function"
                    ? route(text ? JSON.parse(text) : undefined)
                    : (route ?? { status: 404, body: { errors: [] } });
            res.writeHead(answer.status, { "Content-Type": "application/json" });
            res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    state.addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    state.close = () =>
        new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
        });
    return state;
}
