/**
 * The one Vault HTTP client of this project: the request and response shapes, the transport over
 * node:http/node:https (cluster CA, SNI name, TLS 1.2 or later, a timeout per request), retries with
 * exponential backoff, Vault's error text, redaction of secrets, and errors that survive being
 * serialised into a dynamic provider.
 *
 * Used by the bootstrap (settings/bootstrap.ts, settings/vaultInit.ts), the rolling-change gate
 * (nodeReady.ts), the transit unsealer
 * (unseal/transit.ts), the restore (backup/restore.ts) and the real-server tier
 * (test/conformance/lib). No Pulumi types here.
 *
 * Pulumi serialises the dynamic providers together with every function they reach, so this file
 * follows the closure serialiser's rules: no classes (a class extending `Error` loses its message,
 * see {@link vaultError}), and node's modules are `require`d inside the functions that use them (a
 * module object captured from an `import` would be serialised by value).
 */

export type Method = "GET" | "PUT" | "POST" | "LIST" | "DELETE";

export interface HttpRequest {
    method: Method;
    /** Path below /v1/, with an optional query string. */
    path: string;
    body?: Record<string, unknown>;
    /** Sent as X-Vault-Token; absent for unauthenticated endpoints. */
    token?: string;
}

export interface HttpResponse {
    status: number;
    body: unknown;
}

/** Sends one request to one Vault; rejects only when no HTTP answer arrived. */
export type Transport = (req: HttpRequest) => Promise<HttpResponse>;

export interface Endpoint {
    /** https://host:port (or http:// when TLS terminates at a trusted proxy). */
    addr: string;
    /** PEM of the CA that signed the server certificate; "" = system roots. */
    caCert: string;
    /** Name checked against the server certificate (SNI and hostname verification). */
    tlsServerName: string;
}

// ---------------------------------------------------------------------------------------------
// Errors and redaction

/**
 * An error as a plain `Error` with `name` set, never a subclass: Pulumi's closure serialiser turns
 * a class that extends `Error` into a function whose `super(message)` becomes
 * `Error.call(this, message)`, which returns a new object and leaves `this.message` unset; the
 * dynamic provider host reports only `e.message`, so the operator would see an empty error.
 * The message passes through {@link redactPatterns}.
 */
export function vaultError<N extends string>(name: N, message: string): Error & { name: N } {
    const e = new Error(redactPatterns(message));
    e.name = name;
    return Object.assign(e, { name });
}

/** Replace every occurrence of each secret in `text` with `[redacted]` (values shorter than 4 are left). */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
    let out = text;
    for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
    return out;
}

/**
 * Redact what looks like a secret whatever its value: an `X-Vault-Token` header, and the JSON or
 * `k=v` fields Vault uses for secrets (tokens, secret IDs, unseal and recovery keys). A second line
 * of defence behind {@link redact}, which knows the values.
 */
export function redactPatterns(text: string): string {
    const fields =
        "token|client_token|root_token|secret_id|secret_id_accessor|key|keys|keys_base64|recovery_keys|recovery_keys_base64|unseal_key|encoded_token|otp";
    return text
        .replace(/(X-Vault-Token\s*[:=]\s*)[^\s,;"']+/gi, "$1[redacted]")
        .replace(new RegExp(`("(?:${fields})"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|\\[[^\\]]*\\])`, "g"), '$1"[redacted]"')
        .replace(new RegExp(`(\\b(?:${fields})=)[^\\s&,;"']+`, "g"), "$1[redacted]");
}

/** Vault's `errors` array as one line ("" when the body has none). */
export function vaultErrors(body: unknown): string {
    if (body && typeof body === "object" && "errors" in body && Array.isArray(body.errors))
        return body.errors.map(String).join("; ");
    return "";
}

/** The body as an object ({} for anything else), for reading fields. */
export function bodyObject(body: unknown): Record<string, unknown> {
    return body && typeof body === "object" && !Array.isArray(body) ? { ...body } : {};
}

function parseJson(text: string): unknown {
    try {
        return text ? JSON.parse(text) : {};
    } catch {
        return {};
    }
}

// ---------------------------------------------------------------------------------------------
// Retries

export interface Backoff {
    /** Tries in all (1 = no retry). */
    attempts: number;
    /** Wait after the first failed try. */
    delayMs: number;
    /** Each further wait is this many times the previous one (default 1: a fixed interval). */
    factor?: number;
    /** No wait longer than this (default: no cap). */
    maxDelayMs?: number;
    /** Injected in tests (a fake clock). */
    sleep?: (ms: number) => Promise<void>;
}

/** The wait after failed try number `attempt` (1-based). */
export function backoffDelay(b: Pick<Backoff, "delayMs" | "factor" | "maxDelayMs">, attempt: number): number {
    const d = b.delayMs * Math.pow(b.factor ?? 1, attempt - 1);
    return Math.min(d, b.maxDelayMs ?? d);
}

export function realSleep(ms: number): Promise<void> {
    return new Promise<void>((r) => setTimeout(r, ms));
}

/** What one try ended with: a value, a failure worth another try, or one that is not. */
export type Attempt<T> = { value: T } | { retry: string } | { stop: string };

/**
 * Run `once` until it yields a value, up to `b.attempts` tries with backoff between them. A thrown
 * error counts as `{ retry: message }`. Resolves with the value, or with the last failure's text.
 */
export async function retry<T>(
    b: Backoff,
    once: (attempt: number) => Promise<Attempt<T>>,
): Promise<{ value: T } | { failed: string }> {
    const sleep = b.sleep ?? realSleep;
    let last = "";
    for (let i = 1; i <= b.attempts; i++) {
        let a: Attempt<T>;
        try {
            a = await once(i);
        } catch (e) {
            a = { retry: e instanceof Error ? e.message : String(e) };
        }
        if ("value" in a) return { value: a.value };
        if ("stop" in a) return { failed: a.stop };
        last = a.retry;
        if (i < b.attempts) await sleep(backoffDelay(b, i));
    }
    return { failed: last };
}

/** A network error, a 5xx or a 429 (rate limit, or a performance standby): worth another try. */
export function transient(res: HttpResponse | undefined): boolean {
    return !res || res.status >= 500 || res.status === 429;
}

// ---------------------------------------------------------------------------------------------
// Transports

export interface RawRequest {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: string | Buffer;
    /** PEM of the CA to trust for https (undefined = Node's bundled roots). */
    caCert?: string;
    /** SNI and the name checked against the certificate (default: the URL's host). */
    servername?: string;
    timeoutMs: number;
}

export interface RawResponse {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    bytes: Buffer;
}

/**
 * One request over node:http or node:https, the only place in the project that opens a connection
 * to Vault. https trusts only `caCert` (when given) and requires TLS 1.2 or later; a request that
 * gets no answer within `timeoutMs` fails with "no answer within … ms".
 */
export function sendRaw(r: RawRequest): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
        const url = new URL(r.url);
        const secure = url.protocol === "https:";
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const lib: typeof import("https") = secure ? require("https") : require("http");
        const headers = { ...r.headers };
        if (r.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(r.body));
        const req = lib.request(
            {
                method: r.method,
                hostname: url.hostname.replace(/^\[|\]$/g, ""),
                port: url.port || (secure ? 443 : 80),
                path: `${url.pathname}${url.search}`,
                headers,
                timeout: r.timeoutMs,
                ...(secure
                    ? { ca: r.caCert || undefined, servername: r.servername || undefined, minVersion: "TLSv1.2" }
                    : {}),
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (d: Buffer) => chunks.push(d));
                res.on("error", (e: Error) => reject(new Error(e.message)));
                res.on("end", () =>
                    resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }),
                );
            },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer within ${r.timeoutMs} ms`)));
        // A fresh Error: the socket's own carries fields (the request object) that do not serialise.
        req.on("error", (e: Error) => reject(new Error(redactPatterns(e.message))));
        req.end(r.body);
    });
}

function jsonHeaders(req: HttpRequest): { headers: Record<string, string>; body?: string } {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (req.token) headers["X-Vault-Token"] = req.token;
    if (req.body === undefined) return { headers };
    headers["Content-Type"] = "application/json";
    return { headers, body: JSON.stringify(req.body) };
}

/** A {@link Transport} to `ep` over {@link sendRaw}; JSON in, JSON out (a non-JSON body reads as {}). */
export function nodeTransport(ep: Endpoint, timeoutMs = 15000): Transport {
    return async (req) => {
        const { headers, body } = jsonHeaders(req);
        const res = await sendRaw({
            method: req.method,
            url: `${ep.addr.replace(/\/+$/, "")}/v1/${req.path}`,
            headers,
            body,
            caCert: ep.caCert,
            servername: ep.tlsServerName,
            timeoutMs,
        });
        return { status: res.status, body: parseJson(res.bytes.toString("utf8")) };
    };
}

/** The part of the WHATWG `fetch` a {@link Transport} needs (the unsealer speaks plain http on loopback). */
export interface FetchResponse {
    status: number;
    text(): Promise<string>;
}
export type FetchLike = (
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<FetchResponse>;

/** A {@link Transport} over a `fetch` function (global `fetch`, or a fake in tests). */
export function fetchTransport(fetchFn: FetchLike, addr: string): Transport {
    return async (req) => {
        const { headers, body } = jsonHeaders(req);
        delete headers.Accept;
        headers["X-Vault-Request"] = "true";
        const res = await fetchFn(`${addr.replace(/\/+$/, "")}/v1/${req.path}`, {
            method: req.method,
            headers,
            body,
        });
        return { status: res.status, body: parseJson(await res.text()) };
    };
}

// ---------------------------------------------------------------------------------------------
// Calls that recur

/** `POST auth/<mount>/login` with an AppRole's credentials: the client token, or an error (with `status`) naming the status. */
export async function appRoleLogin(t: Transport, mount: string, roleId: string, secretId: string): Promise<string> {
    const res = await t({
        method: "POST",
        path: `auth/${mount}/login`,
        body: { role_id: roleId, secret_id: secretId },
    });
    const auth = bodyObject(bodyObject(res.body).auth);
    const token = typeof auth.client_token === "string" ? auth.client_token : "";
    if (res.status !== 200 || !token) {
        const why = vaultErrors(res.body);
        const e = vaultError(
            "VaultHttpError",
            redact(`POST /v1/auth/${mount}/login answered ${res.status}${why ? `: ${why}` : ""}`, [roleId, secretId]),
        );
        throw Object.assign(e, { status: res.status });
    }
    return token;
}
