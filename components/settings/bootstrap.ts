/**
 * Day-zero bootstrap as data: the HTTP requests that initialise Vault and hand over from the root
 * token to Pulumi's own least-privilege identity, and a tiny executor that sends them through the
 * project's Vault HTTP client (../vault/http.ts).
 *
 * No Pulumi types here: the dynamic resources in vaultInit.ts serialise these functions into
 * their provider, and the unit tests drive them with a fake transport. Two rules hold throughout:
 * no secret value is ever logged or put into an error message (errors name the step, the method,
 * the path and Vault's own error text, with every known secret value redacted), and every step
 * can run again after a partial failure.
 */

import {
    bodyObject,
    redact,
    retry,
    transient,
    vaultError,
    vaultErrors,
    type Backoff,
    type HttpRequest,
    type HttpResponse,
    type Transport,
} from "../vault/http";

export interface Step<C> {
    /** What the step does, in words; it appears in errors, never a value. */
    name: string;
    /** Skip the step unless this holds. */
    when?: (c: C) => boolean;
    request: (c: C) => HttpRequest;
    /** Statuses that mean success. */
    ok: number[];
    /** Read what later steps need from the response body. */
    capture?: (c: C, body: Record<string, unknown>) => void;
    /** Keep trying while the server is unreachable or answers with a non-ok status (startup, election). */
    waitUntilOk?: { attempts: number; delayMs: number };
}

export interface RunOptions {
    /** Attempts for a step that fails with a network error, a 5xx or a 429 (default 4). */
    retries?: number;
    /** The first wait before a retry (default 2000); it doubles with each further retry, up to 30 s. */
    retryDelayMs?: number;
    sleep?: (ms: number) => Promise<void>;
    /** Progress lines: step names only. */
    log?: (line: string) => void;
}

/** A refusal or failed step: a plain `Error` named "BootstrapError" (see `vaultError` for why not a subclass). */
export type BootstrapError = Error & { name: "BootstrapError" };

export function bootstrapError(message: string): BootstrapError {
    return vaultError("BootstrapError", message);
}

/**
 * Run `steps` in order against `send`. `secrets(c)` lists the values to keep out of any error
 * (it is called when an error is built, so values captured so far are covered).
 */
export async function runPlan<C>(
    steps: readonly Step<C>[],
    ctx: C,
    send: Transport,
    secrets: (c: C) => (string | undefined)[],
    opts: RunOptions = {},
): Promise<C> {
    for (const step of steps) {
        if (step.when && !step.when(ctx)) continue;
        opts.log?.(`bootstrap: ${step.name}`);
        const req = step.request(ctx);
        const where = `${req.method} /v1/${req.path.split("?")[0]}`;
        // Waiting for start-up polls at a fixed interval; a transient failure backs off.
        const backoff: Backoff = step.waitUntilOk
            ? { ...step.waitUntilOk, sleep: opts.sleep }
            : {
                  attempts: opts.retries ?? 4,
                  delayMs: opts.retryDelayMs ?? 2000,
                  factor: 2,
                  maxDelayMs: 30000,
                  sleep: opts.sleep,
              };
        const outcome = await retry<HttpResponse>(backoff, async () => {
            let res: HttpResponse;
            try {
                res = await send(req);
            } catch (e) {
                return { retry: `network error: ${e instanceof Error ? e.message : String(e)}` };
            }
            if (step.ok.includes(res.status)) return { value: res };
            const errors = vaultErrors(res.body);
            const last = `HTTP ${res.status}${errors ? `: ${errors}` : ""}`;
            return step.waitUntilOk || transient(res) ? { retry: last } : { stop: last };
        });
        if ("failed" in outcome)
            throw bootstrapError(
                redact(`Vault bootstrap step "${step.name}" (${where}) failed: ${outcome.failed}`, secrets(ctx)),
            );
        step.capture?.(ctx, bodyObject(outcome.value.body));
    }
    return ctx;
}

// ---------------------------------------------------------------------------------------------
// Initialisation

export interface InitInputs {
    recoveryShares: number;
    recoveryThreshold: number;
    /** Base64 binary PGP public keys, one per share; [] = plain shares. */
    recoveryPgpKeys: string[];
}

export interface InitContext extends InitInputs {
    initialized?: boolean;
    rootToken?: string;
    recoveryKeys?: string[];
}

/** Wait for the API, read sys/init. */
export function statusPlan(): Step<InitContext>[] {
    return [
        {
            name: "wait for the Vault API and read the initialisation status",
            request: () => ({ method: "GET", path: "sys/init" }),
            ok: [200],
            capture: (c, b) => {
                c.initialized = b.initialized === true;
            },
            waitUntilOk: { attempts: 90, delayMs: 2000 },
        },
    ];
}

/** `PUT sys/init` with recovery shares (auto-unseal), then wait until the node is unsealed. */
export function initPlan(): Step<InitContext>[] {
    return [
        {
            name: "initialise Vault with recovery key shares",
            when: (c) => c.initialized === false,
            request: (c) => ({
                method: "PUT",
                path: "sys/init",
                body: {
                    recovery_shares: c.recoveryShares,
                    recovery_threshold: c.recoveryThreshold,
                    ...(c.recoveryPgpKeys.length > 0 ? { recovery_pgp_keys: c.recoveryPgpKeys } : {}),
                },
            }),
            ok: [200],
            capture: (c, b) => {
                c.rootToken = typeof b.root_token === "string" ? b.root_token : undefined;
                const keys = b.recovery_keys_base64 ?? b.recovery_keys;
                c.recoveryKeys = Array.isArray(keys) ? keys.map(String) : [];
                c.initialized = true;
            },
        },
        {
            name: "wait until Vault is auto-unsealed and answers as active or standby",
            request: () => ({ method: "GET", path: "sys/health?standbyok=true" }),
            ok: [200],
            waitUntilOk: { attempts: 90, delayMs: 2000 },
        },
    ];
}

export const ROOT_TOKEN_ENV = "BONITO_VAULT_ROOT_TOKEN";

export function alreadyInitialisedError(addr: string): BootstrapError {
    return bootstrapError(
        `Vault at ${addr} is already initialised, but this stack's state holds no bootstrap record or admin credentials, ` +
            `so Pulumi did not initialise it and will not guess. If this cluster is yours, generate a one-time root token with ` +
            `\`vault operator generate-root\` and the recovery keys (docs/runbook.md, "Emergency root token"), export it as ` +
            `${ROOT_TOKEN_ENV} and run \`pulumi up\` again: Pulumi then creates its admin identity and revokes that token. ` +
            `Otherwise point adminAddr at an uninitialised cluster.`,
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-over from the root token to Pulumi's admin identity

export interface HandoverInputs {
    /** Auth mount of Pulumi's AppRole (`pulumi-admin`). */
    mount: string;
    roleName: string;
    /** Role fields as `POST auth/<mount>/role/<name>` takes them. */
    role: Record<string, unknown>;
    policyName: string;
    /** The policy text (JSON). */
    policy: string;
}

export interface HandoverContext extends HandoverInputs {
    /** A root (or generate-root) token; revoked by the last step. */
    token: string;
    /** false on updates: keep the existing secret ID. */
    issueSecretId: boolean;
    mountExists?: boolean;
    roleId?: string;
    secretId?: string;
    secretIdAccessor?: string;
    checkToken?: string;
}

export function handoverPlan(): Step<HandoverContext>[] {
    return [
        {
            name: "write Pulumi's admin policy",
            request: (c) => ({
                method: "PUT",
                path: `sys/policies/acl/${c.policyName}`,
                token: c.token,
                body: { policy: c.policy },
            }),
            ok: [200, 204],
        },
        {
            name: "list auth methods",
            request: (c) => ({ method: "GET", path: "sys/auth", token: c.token }),
            ok: [200],
            capture: (c, b) => {
                const data = b.data && typeof b.data === "object" ? (b.data as Record<string, unknown>) : b;
                c.mountExists = `${c.mount}/` in data;
            },
        },
        {
            name: "enable the AppRole auth method for Pulumi",
            when: (c) => c.mountExists === false,
            request: (c) => ({
                method: "POST",
                path: `sys/auth/${c.mount}`,
                token: c.token,
                body: { type: "approle", description: "Pulumi's own identity (bonito-vault bootstrap)" },
            }),
            ok: [200, 204],
        },
        {
            name: "write Pulumi's AppRole role",
            request: (c) => ({
                method: "POST",
                path: `auth/${c.mount}/role/${c.roleName}`,
                token: c.token,
                body: c.role,
            }),
            ok: [200, 204],
        },
        {
            name: "read Pulumi's role ID",
            request: (c) => ({ method: "GET", path: `auth/${c.mount}/role/${c.roleName}/role-id`, token: c.token }),
            ok: [200],
            capture: (c, b) => {
                c.roleId = String((b.data as Record<string, unknown> | undefined)?.role_id ?? "");
            },
        },
        {
            name: "issue Pulumi's secret ID",
            when: (c) => c.issueSecretId,
            request: (c) => ({
                method: "POST",
                path: `auth/${c.mount}/role/${c.roleName}/secret-id`,
                token: c.token,
                body: {},
            }),
            ok: [200],
            capture: (c, b) => {
                const d = (b.data ?? {}) as Record<string, unknown>;
                c.secretId = String(d.secret_id ?? "");
                c.secretIdAccessor = String(d.secret_id_accessor ?? "");
            },
        },
        {
            // Prove the new identity works before the root token goes away.
            name: "log in as Pulumi's admin identity",
            when: (c) => c.issueSecretId,
            request: (c) => ({
                method: "POST",
                path: `auth/${c.mount}/login`,
                body: { role_id: c.roleId, secret_id: c.secretId },
            }),
            ok: [200],
            capture: (c, b) => {
                c.checkToken = String((b.auth as Record<string, unknown> | undefined)?.client_token ?? "");
            },
        },
        {
            name: "revoke the check login's token",
            when: (c) => c.issueSecretId,
            request: (c) => ({ method: "POST", path: "auth/token/revoke-self", token: c.checkToken }),
            ok: [200, 204],
        },
        {
            name: "revoke the root token",
            request: (c) => ({ method: "POST", path: "auth/token/revoke-self", token: c.token }),
            ok: [200, 204],
        },
    ];
}

export function handoverSecrets(c: HandoverContext): (string | undefined)[] {
    return [c.token, c.roleId, c.secretId, c.secretIdAccessor, c.checkToken];
}

export function initSecrets(c: InitContext): (string | undefined)[] {
    return [c.rootToken, ...(c.recoveryKeys ?? [])];
}

// ---------------------------------------------------------------------------------------------
// The operations the dynamic providers run, with the transport and environment passed in (tests
// drive them with a fake Vault).

export interface InitRecord {
    rootToken: string;
    recoveryKeys: string[];
    recoveryKeysEncrypted: boolean;
    adopted: boolean;
}

/** Initialise once; adopt an initialised cluster only with an operator's root token in `env`. */
export async function initialise(
    addr: string,
    inputs: InitInputs,
    send: Transport,
    env: Record<string, string | undefined>,
    opts?: RunOptions,
): Promise<InitRecord> {
    const ctx: InitContext = { ...inputs };
    await runPlan(statusPlan(), ctx, send, initSecrets, opts);
    let adopted = false;
    if (ctx.initialized) {
        const token = env[ROOT_TOKEN_ENV];
        if (!token) throw alreadyInitialisedError(addr);
        ctx.rootToken = token;
        ctx.recoveryKeys = [];
        adopted = true;
    }
    await runPlan(initPlan(), ctx, send, initSecrets, opts);
    if (!ctx.rootToken) throw bootstrapError("Vault answered sys/init without a root token; nothing was stored");
    return {
        rootToken: ctx.rootToken,
        recoveryKeys: ctx.recoveryKeys ?? [],
        recoveryKeysEncrypted: inputs.recoveryPgpKeys.length > 0,
        adopted,
    };
}

export interface AdminCredentials {
    roleId: string;
    secretId: string;
}

/** First hand-over: admin policy, mount, role, a secret ID proven by a login, root token revoked. */
export async function handOver(
    inputs: HandoverInputs,
    rootToken: string,
    send: Transport,
    opts?: RunOptions,
): Promise<AdminCredentials> {
    const ctx: HandoverContext = { ...inputs, token: rootToken, issueSecretId: true };
    await runPlan(handoverPlan(), ctx, send, handoverSecrets, opts);
    if (!ctx.roleId || !ctx.secretId)
        throw bootstrapError("Vault returned no role ID or secret ID for Pulumi's admin role");
    return { roleId: ctx.roleId, secretId: ctx.secretId };
}

export function adminChangeNeedsRootError(): BootstrapError {
    return bootstrapError(
        `Pulumi's admin policy or role changed (for example kvMount or the audit devices), and Pulumi's own identity may not ` +
            `rewrite its own policy. Generate a one-time root token (\`vault operator generate-root\`, docs/runbook.md ` +
            `"Emergency root token"), export it as ${ROOT_TOKEN_ENV} and run \`pulumi up\` again; the token is revoked afterwards.`,
    );
}

/** Later change of the admin policy or role: needs a one-time root token from `env`; keeps the secret ID. */
export async function reapplyAdmin(
    inputs: HandoverInputs,
    send: Transport,
    env: Record<string, string | undefined>,
    opts?: RunOptions,
): Promise<{ roleId: string }> {
    const token = env[ROOT_TOKEN_ENV];
    if (!token) throw adminChangeNeedsRootError();
    const ctx: HandoverContext = { ...inputs, token, issueSecretId: false };
    await runPlan(handoverPlan(), ctx, send, handoverSecrets, opts);
    return { roleId: ctx.roleId ?? "" };
}
