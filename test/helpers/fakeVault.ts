/**
 * A small in-memory model of the Vault API the load test uses, for its tests: AppRole login,
 * renew-self and revoke-self with TTL and max TTL, and KV v2 data read/write and metadata delete
 * under the Bonito backend's grants (create/read/update on `<mount>/data/*`, delete on
 * `<mount>/metadata/*`, everything else denied). It checks the token on every request.
 * It models answers, not performance, and is not a substitute for a real server.
 */
import { randomBytes } from "node:crypto";
import type { VaultRequest, VaultResponse } from "../../scripts/loadtest/types";

export interface FakeVaultOptions {
    roleId: string;
    secretId: string;
    approlePath?: string;
    mount?: string;
    /** Seconds. */
    ttl: number;
    maxTtl: number;
    renewable?: boolean;
    /** Milliseconds, the same scale for every call. */
    now: () => number;
    /** Return a status to fail this request with it; `update` is true for a write to an existing key. */
    fail?: (req: VaultRequest, ctx: { update: boolean }) => number | undefined;
}

interface Token {
    expiresAt: number;
    maxAt: number;
}

const denied = (): VaultResponse => ({ status: 403, body: { errors: ["permission denied"] } });

export class FakeVault {
    readonly tokens = new Map<string, Token>();
    /** Every token ever issued, to look for it in output. */
    readonly issued: string[] = [];
    /** Path (after the mount's data/ or metadata/) → versions. */
    readonly kv = new Map<string, unknown[]>();
    /** Every key path ever created, and every one deleted through metadata. */
    readonly created = new Set<string>();
    readonly deleted = new Set<string>();
    readonly log: { method: string; path: string; status: number }[] = [];
    readonly counts = { logins: 0, renewals: 0, revocations: 0 };
    private readonly approle: string;
    private readonly mount: string;

    constructor(private readonly o: FakeVaultOptions) {
        this.approle = o.approlePath ?? "approle";
        this.mount = o.mount ?? "bonito";
    }

    handle(req: VaultRequest): VaultResponse {
        const res = this.answer(req);
        this.log.push({ method: req.method, path: req.path, status: res.status });
        return res;
    }

    private answer(req: VaultRequest): VaultResponse {
        const now = this.o.now();
        if (req.method === "POST" && req.path === `auth/${this.approle}/login`) {
            const b = (req.body ?? {}) as { role_id?: unknown; secret_id?: unknown };
            if (b.role_id !== this.o.roleId || b.secret_id !== this.o.secretId)
                return { status: 400, body: { errors: ["invalid role or secret ID"] } };
            const token = `hvs.fake${randomBytes(16).toString("hex")}`;
            this.tokens.set(token, { expiresAt: now + this.o.ttl * 1000, maxAt: now + this.o.maxTtl * 1000 });
            this.issued.push(token);
            this.counts.logins++;
            return { status: 200, body: { auth: this.authBlock(token, this.o.ttl) } };
        }
        const t = req.token ? this.tokens.get(req.token) : undefined;
        if (!req.token || !t || t.expiresAt <= now) return denied();

        if (req.method === "POST" && req.path === "auth/token/renew-self") {
            if (this.o.renewable === false) return { status: 400, body: { errors: ["lease is not renewable"] } };
            t.expiresAt = Math.min(now + this.o.ttl * 1000, t.maxAt);
            this.counts.renewals++;
            return { status: 200, body: { auth: this.authBlock(req.token, Math.round((t.expiresAt - now) / 1000)) } };
        }
        if (req.method === "POST" && req.path === "auth/token/revoke-self") {
            this.tokens.delete(req.token);
            this.counts.revocations++;
            return { status: 204 };
        }

        const data = `${this.mount}/data/`;
        const meta = `${this.mount}/metadata/`;
        if (req.path.startsWith(data) && req.path.length > data.length) {
            const key = req.path.slice(data.length);
            const versions = this.kv.get(key);
            const failed = this.o.fail?.(req, { update: versions !== undefined });
            if (failed) return { status: failed, body: { errors: ["injected failure"] } };
            if (req.method === "GET") {
                if (!versions) return { status: 404, body: { errors: [] } };
                return {
                    status: 200,
                    body: { data: { data: versions[versions.length - 1], metadata: { version: versions.length } } },
                };
            }
            if (req.method === "POST") {
                const value = (req.body as { data?: unknown } | undefined)?.data;
                if (typeof value !== "object" || value === null)
                    return { status: 400, body: { errors: ["no data provided"] } };
                const list = versions ?? [];
                list.push(value);
                this.kv.set(key, list);
                this.created.add(key);
                return { status: 200, body: { data: { version: list.length } } };
            }
            return denied();
        }
        if (req.method === "DELETE" && req.path.startsWith(meta) && req.path.length > meta.length) {
            const key = req.path.slice(meta.length);
            this.kv.delete(key);
            this.deleted.add(key);
            return { status: 204 };
        }
        return denied();
    }

    private authBlock(token: string, leaseDuration: number) {
        return {
            client_token: token,
            accessor: "fake-accessor",
            policies: ["default", "bonito-backend"],
            lease_duration: leaseDuration,
            renewable: this.o.renewable !== false,
        };
    }
}
