/**
 * The load test's Vault identity: AppRole login, renewal at 2/3 of the token's TTL, and a fresh
 * login when renewal fails or no longer extends the token (its max TTL is reached).
 *
 * Renewal is checked before each request rather than on a timer, so a fake clock drives it
 * deterministically and a run never renews a token it has stopped using.
 */
import { errorCode, vaultErrors, type Clock, type HttpClient, type VaultResponse } from "./types";

/** When a token obtained (or renewed) at `obtainedAt` with a TTL of `ttlMs` is due: 2/3 of the way. */
export function renewAt(obtainedAt: number, ttlMs: number): number {
    return ttlMs > 0 ? obtainedAt + (ttlMs * 2) / 3 : Number.POSITIVE_INFINITY;
}

/**
 * A renewal that moves the expiry by less than this is treated as "max TTL reached": Vault caps
 * a renewal at the token's max TTL instead of refusing it, so the capped renewals would otherwise
 * come ever closer together until the token dies.
 */
export const MIN_RENEWAL_GAIN_MS = 1000;

export class AuthError extends Error {}

export interface AuthStats {
    logins: number;
    renewals: number;
    /** Renewals Vault refused or that could not extend the token; each is followed by a login. */
    renewalsFailed: number;
    /** Whether the last token was revoked at the end (revoke-self, allowed by Vault's default policy). */
    revoked: boolean;
}

export interface TokenSessionOptions {
    client: HttpClient;
    clock: Clock;
    approlePath: string;
    roleId: string;
    secretId: string;
    /** Told every token as it is issued, so output can be redacted. */
    onToken?: (token: string) => void;
    log?: (line: string) => void;
}

interface TokenState {
    token: string;
    renewable: boolean;
    ttlMs: number;
    expiresAt: number;
    dueAt: number;
}

interface AuthBlock {
    client_token?: unknown;
    lease_duration?: unknown;
    renewable?: unknown;
}

export class TokenSession {
    readonly stats: AuthStats = { logins: 0, renewals: 0, renewalsFailed: 0, revoked: false };
    private state?: TokenState;
    private inflight?: Promise<void>;

    constructor(private readonly o: TokenSessionOptions) {}

    /** Log in with the role and secret ID. Throws AuthError with Vault's message (never the ids). */
    async login(): Promise<void> {
        const path = `auth/${this.o.approlePath}/login`;
        let res: VaultResponse;
        try {
            res = await this.o.client({
                method: "POST",
                path,
                body: { role_id: this.o.roleId, secret_id: this.o.secretId },
            });
        } catch (err) {
            throw new AuthError(`AppRole login (POST /v1/${path}) failed: ${describeTransport(err)}`);
        }
        const auth = (res.body as { auth?: AuthBlock } | undefined)?.auth;
        if (res.status !== 200 || typeof auth?.client_token !== "string")
            throw new AuthError(
                `AppRole login (POST /v1/${path}) failed: HTTP ${res.status} (${vaultErrors(res.body)}); check the role ID, the secret ID (expired? out of uses? bound CIDRs?) and --approle-path`,
            );
        this.o.onToken?.(auth.client_token);
        this.stats.logins++;
        this.accept(auth.client_token, auth);
    }

    /** The current token, renewed or replaced first when its time has come. Concurrent callers share one refresh. */
    async token(): Promise<string> {
        if (!this.state) throw new AuthError("not logged in");
        if (this.o.clock.now() >= this.state.dueAt) {
            this.inflight ??= this.refresh().finally(() => (this.inflight = undefined));
            await this.inflight;
        }
        return this.state.token;
    }

    /** When the next renewal or login is due, on the clock's scale (Infinity for a token without TTL). */
    get dueAt(): number {
        return this.state?.dueAt ?? Number.NEGATIVE_INFINITY;
    }

    /** Best effort: a load-test token should not outlive the run. */
    async revoke(): Promise<void> {
        if (!this.state) return;
        try {
            const res = await this.o.client({
                method: "POST",
                path: "auth/token/revoke-self",
                token: this.state.token,
            });
            this.stats.revoked = res.status === 204 || res.status === 200;
        } catch {
            this.stats.revoked = false;
        }
    }

    private async refresh(): Promise<void> {
        const s = this.state as TokenState;
        if (s.renewable) {
            const why = await this.renew(s);
            if (why === undefined) return;
            this.stats.renewalsFailed++;
            this.o.log?.(`token renewal: ${why}; logging in again`);
        }
        await this.login();
    }

    /** undefined when renewed, else why not. */
    private async renew(s: TokenState): Promise<string | undefined> {
        let res: VaultResponse;
        try {
            res = await this.o.client({ method: "POST", path: "auth/token/renew-self", token: s.token, body: {} });
        } catch (err) {
            return `renew-self failed: ${describeTransport(err)}`;
        }
        const auth = (res.body as { auth?: AuthBlock } | undefined)?.auth;
        if (res.status !== 200 || !auth) return `renew-self answered HTTP ${res.status} (${vaultErrors(res.body)})`;
        const ttlMs = seconds(auth.lease_duration) * 1000;
        const expiresAt = this.o.clock.now() + ttlMs;
        if (expiresAt < s.expiresAt + MIN_RENEWAL_GAIN_MS) return "the token's max TTL is reached";
        this.stats.renewals++;
        this.accept(typeof auth.client_token === "string" ? auth.client_token : s.token, auth);
        return undefined;
    }

    private accept(token: string, auth: AuthBlock): void {
        const now = this.o.clock.now();
        const ttlMs = seconds(auth.lease_duration) * 1000;
        this.state = {
            token,
            renewable: auth.renewable !== false,
            ttlMs,
            expiresAt: ttlMs > 0 ? now + ttlMs : Number.POSITIVE_INFINITY,
            dueAt: renewAt(now, ttlMs),
        };
    }
}

function seconds(v: unknown): number {
    return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0;
}

export function describeTransport(err: unknown): string {
    const msg = err instanceof Error ? err.message : String(err);
    const code = errorCode(err);
    const tls = /CERT|SELF_SIGNED|UNABLE_TO|TLS|SSL/.test(code) || /certificate/i.test(msg);
    return `${msg}${code !== "network" && !msg.includes(code) ? ` (${code})` : ""}${tls ? "; is --cacert the CA that signed Vault's certificate, and does --addr match a name in it?" : ""}`;
}
