/** The two seams of the load test: how it talks to Vault and how it tells time. */

export type Method = "GET" | "POST" | "DELETE";

export interface VaultRequest {
    method: Method;
    /** Path after `/v1/`, e.g. "bonito/data/loadtest/run/1". */
    path: string;
    token?: string;
    /** Sent as JSON. */
    body?: unknown;
}

export interface VaultResponse {
    status: number;
    /** Parsed JSON, or undefined for an empty or non-JSON body. */
    body?: unknown;
}

/** Resolves with any HTTP status; rejects only when no response arrived (its `code`, if any, is reported). */
export type HttpClient = (req: VaultRequest) => Promise<VaultResponse>;

export interface Clock {
    /** Milliseconds on a monotonic scale; only differences matter. */
    now(): number;
    /** Calls fn once after ms; returns a function that cancels it. */
    setTimer(ms: number, fn: () => void): () => void;
}

/** The transport error code of a rejected request ("ECONNRESET", "ETIMEDOUT", …), or "network". */
export function errorCode(err: unknown): string {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === "string" && /^[A-Z0-9_]+$/.test(code) ? code : "network";
}

/** Vault's `errors` array as one line, for messages; never the request (which may carry secrets). */
export function vaultErrors(body: unknown): string {
    const errors = (body as { errors?: unknown } | undefined)?.errors;
    return Array.isArray(errors) && errors.length > 0 ? errors.map(String).join("; ") : "no error message";
}
