/**
 * The local unsealer's HTTP conversation, as data plus one small executor.
 *
 * The requests are plain values (tested exactly); `runBootstrap` and `ensureUnsealed` drive them
 * through an injected `fetch` wrapped by the project's Vault HTTP client (../vault/http.ts), so unit
 * tests use a fake server and the dynamic provider the real one. Nothing here logs or echoes a
 * request body: unseal keys and tokens never reach an error.
 */
import {
    bodyObject,
    fetchTransport,
    retry,
    vaultError,
    vaultErrors,
    type FetchLike,
    type HttpRequest,
} from "../vault/http";

/** The dynamic resource that initialises the local unsealer (components/unseal/local.ts); scripts/reunseal.ts finds it in state by this. */
export const UNSEALER_INIT_KIND = "UnsealerInit";

export type { FetchLike, FetchResponse } from "../vault/http";

/** A request to the unsealer (its token, when needed, is passed to {@link send}). */
export type VaultRequest = Omit<HttpRequest, "token">;

export interface TransitSetup {
    /** Mount path of the transit engine, without slashes ("transit"). */
    mountPath: string;
    keyName: string;
    policyName: string;
    /** Vault duration: the token's period. */
    tokenPeriod: string;
    /** Vault duration: the transit key's auto-rotation period. */
    autoRotatePeriod: string;
    /** The ACL policy text (HCL). */
    policy: string;
}

export interface BootstrapResult {
    unsealKey: string;
    transitToken: string;
}

export const STATUS_REQUEST: VaultRequest = { method: "GET", path: "sys/init" };
/** One share, threshold one: the unsealer's key lives only in this stack's (encrypted) state. */
export const INIT_REQUEST: VaultRequest = {
    method: "PUT",
    path: "sys/init",
    body: { secret_shares: 1, secret_threshold: 1 },
};
export const HEALTH_REQUEST: VaultRequest = { method: "GET", path: "sys/health" };
export const SEAL_STATUS_REQUEST: VaultRequest = { method: "GET", path: "sys/seal-status" };
export const REVOKE_SELF_REQUEST: VaultRequest = { method: "POST", path: "auth/token/revoke-self" };

export function unsealRequest(key: string): VaultRequest {
    return { method: "PUT", path: "sys/unseal", body: { key } };
}

/** What the root token does, in order, before it is revoked. */
export function setupRequests(s: TransitSetup): VaultRequest[] {
    return [
        {
            method: "POST",
            path: `sys/mounts/${s.mountPath}`,
            body: { type: "transit", description: "bonito-vault auto-unseal" },
        },
        {
            method: "POST",
            path: `${s.mountPath}/keys/${s.keyName}`,
            // Not exportable, not deletable (the defaults, stated): the key never leaves the unsealer.
            body: {
                type: "aes256-gcm96",
                exportable: false,
                allow_plaintext_backup: false,
                auto_rotate_period: s.autoRotatePeriod,
            },
        },
        { method: "PUT", path: `sys/policies/acl/${s.policyName}`, body: { policy: s.policy } },
    ];
}

/** An orphan periodic token with only the seal policy (not even `default`). */
export function tokenRequest(s: TransitSetup): VaultRequest {
    return {
        method: "POST",
        path: "auth/token/create-orphan",
        body: {
            policies: [s.policyName],
            no_default_policy: true,
            period: s.tokenPeriod,
            renewable: true,
            display_name: "bonito-vault-transit-seal",
        },
    };
}

export type VaultHttpError = Error & { name: "VaultHttpError"; request: string; status: number };

/** A non-2xx answer (a plain `Error`, see `vaultError`; the dynamic provider host reports only `e.message`). */
export function vaultHttpError(request: string, status: number, detail: string): VaultHttpError {
    const e = vaultError("VaultHttpError", `${request} answered ${status}${detail ? `: ${detail}` : ""}`);
    return Object.assign(e, { request, status });
}

/** Send one request; non-2xx throws with Vault's `errors` text only (never the request body). */
export async function send(
    fetchFn: FetchLike,
    address: string,
    req: VaultRequest,
    token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetchTransport(fetchFn, address)({ ...req, token });
    const body = bodyObject(res.body);
    // sys/health reports state through its status code; the caller reads it.
    if ((res.status < 200 || res.status > 299) && req !== HEALTH_REQUEST)
        throw vaultHttpError(`${req.method} /v1/${req.path}`, res.status, vaultErrors(body));
    return { status: res.status, body };
}

export interface Waiter {
    sleep(ms: number): Promise<void>;
    attempts: number;
    intervalMs: number;
}

export const DEFAULT_WAITER: Waiter = {
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    attempts: 60,
    intervalMs: 1000,
};

/** Poll until `probe` returns a value (not undefined); connection errors count as "not yet". */
export async function waitFor<T>(what: string, w: Waiter, probe: () => Promise<T | undefined>): Promise<T> {
    let lastError = "";
    const outcome = await retry<T>(
        { attempts: w.attempts, delayMs: w.intervalMs, sleep: (ms) => w.sleep(ms) },
        async () => {
            try {
                const v = await probe();
                if (v !== undefined) return { value: v };
            } catch (e) {
                lastError = e instanceof Error ? e.message : String(e);
            }
            return { retry: lastError };
        },
    );
    if ("value" in outcome) return outcome.value;
    throw new Error(`timed out waiting for ${what}${outcome.failed ? ` (last error: ${outcome.failed})` : ""}`);
}

async function initialized(fetchFn: FetchLike, address: string): Promise<boolean> {
    const { body } = await send(fetchFn, address, STATUS_REQUEST);
    return body.initialized === true;
}

async function waitActive(fetchFn: FetchLike, address: string, w: Waiter): Promise<void> {
    await waitFor("the unsealer to become active", w, async () => {
        const { status } = await send(fetchFn, address, HEALTH_REQUEST);
        return status === 200 ? true : undefined;
    });
}

/**
 * First start: initialise (once), unseal, set up transit, mint the seal token, revoke the root
 * token. Refuses an unsealer that is already initialised: its keys are not in this stack's state.
 */
export async function runBootstrap(
    fetchFn: FetchLike,
    address: string,
    setup: TransitSetup,
    w: Waiter = DEFAULT_WAITER,
): Promise<BootstrapResult> {
    const already = await waitFor("the unsealer API", w, () => initialized(fetchFn, address));
    if (already)
        throw new Error(
            `the unsealer at ${address} is already initialised, but this stack holds none of its keys; ` +
                "if a previous run failed half-way, remove the unsealer's data volume and run `pulumi up` again (runbook: unseal)",
        );
    const init = await send(fetchFn, address, INIT_REQUEST);
    const unsealKey = (init.body.keys_base64 as string[] | undefined)?.[0];
    const root = init.body.root_token as string | undefined;
    if (!unsealKey || !root) throw new Error("sys/init returned no unseal key or root token");
    await send(fetchFn, address, unsealRequest(unsealKey));
    await waitActive(fetchFn, address, w);
    for (const req of setupRequests(setup)) await send(fetchFn, address, req, root);
    const created = await send(fetchFn, address, tokenRequest(setup), root);
    const transitToken = (created.body.auth as { client_token?: string } | undefined)?.client_token;
    if (!transitToken) throw new Error("auth/token/create-orphan returned no token");
    // The root token has done its job; nothing in state may unlock the unsealer's configuration.
    await send(fetchFn, address, REVOKE_SELF_REQUEST, root);
    return { unsealKey, transitToken };
}

/** After a restart (container replaced, workstation rebooted): unseal with the stored key if sealed. */
export async function ensureUnsealed(
    fetchFn: FetchLike,
    address: string,
    unsealKey: string,
    w: Waiter = DEFAULT_WAITER,
): Promise<"unsealed" | "was-unsealed"> {
    const status = await waitFor(
        "the unsealer API",
        w,
        async () => (await send(fetchFn, address, SEAL_STATUS_REQUEST)).body,
    );
    if (status.initialized !== true)
        throw new Error(`the unsealer at ${address} is not initialised (its data volume is gone?)`);
    if (status.sealed !== true) return "was-unsealed";
    await send(fetchFn, address, unsealRequest(unsealKey));
    await waitActive(fetchFn, address, w);
    return "unsealed";
}

/** Inputs of the dynamic resource that decide what the unsealer holds: changing them needs a new one. */
export const REPLACE_ON = ["mountPath", "keyName", "policyName", "tokenPeriod", "autoRotatePeriod", "policy"] as const;

export function diffUnsealer(
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
): { changes: boolean; replaces: string[] } {
    const keys = [...REPLACE_ON, "address", "containerId"];
    const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    return {
        changes: changed.length > 0,
        replaces: changed.filter((k) => (REPLACE_ON as readonly string[]).includes(k)),
    };
}
