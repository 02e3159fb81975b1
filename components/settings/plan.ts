/**
 * Every Vault setting this program declares, as plain data in Vault's own API field names.
 *
 * The component (vaultSettings.ts) turns this into @pulumi/vault resources; the real-server tier
 * writes the same data with plain HTTP; `npm run render` prints it. Nothing here knows Pulumi.
 */
import type { CoreConfig } from "../config/core";
import { durationSeconds } from "../config/fields";
import type { SettingsConfig } from "../config/settings";
import { renderAuditDevices, type AuditDevice } from "./audit";
import {
    NAMES,
    renderAdminPolicy,
    renderBackendPolicy,
    renderMigrationPolicy,
    renderRollingPolicy,
    renderSnapshotAgentPolicy,
    type AclPolicy,
} from "./acl";

export type SettingsInput = SettingsConfig & Pick<CoreConfig, "engine" | "nodes" | "storage">;

/** An AppRole role exactly as `POST auth/<mount>/role/<name>` takes it. */
export interface ApproleRole {
    mount: string;
    name: string;
    token_policies: string[];
    token_ttl: number;
    token_max_ttl: number;
    token_type: "service";
    token_num_uses: number;
    token_bound_cidrs: string[];
    bind_secret_id: true;
    secret_id_ttl: number;
    secret_id_num_uses: number;
    secret_id_bound_cidrs: string[];
    /** True: tokens carry only token_policies (the role's policy grants what the default policy would). */
    token_no_default_policy?: true;
}

/** `POST sys/storage/raft/autopilot/configuration`. */
export interface AutopilotSettings {
    cleanup_dead_servers: boolean;
    last_contact_threshold: string;
    dead_server_last_contact_threshold: string;
    server_stabilization_time: string;
    max_trailing_logs: number;
    min_quorum?: number;
}

export interface VaultSettingsPlan {
    kvMount: { path: string; type: "kv"; options: { version: "2" }; description: string };
    /** Every audit device the cluster runs. */
    auditDevices: AuditDevice[];
    /** True for HashiCorp Vault (API, `vault.Audit`); false for OpenBao (server-config `audit` stanzas). */
    auditViaApi: boolean;
    authBackends: { path: string; type: "approle"; description: string }[];
    policies: Record<string, AclPolicy>;
    roles: ApproleRole[];
    /** Undefined without Raft storage. */
    autopilot?: AutopilotSettings;
    /** Created by the bootstrap with the root token; Pulumi's own identity afterwards. */
    admin: { mount: string; role: ApproleRole; policyName: string; policy: AclPolicy };
}

const ttl = (d: string): number => (d === "0" ? 0 : durationSeconds(d));

/** The Bonito backend's role (seed §4): 1h tokens, 4h max, secret ID limits from config. */
export function backendRole(s: Pick<SettingsConfig, "approle">): ApproleRole {
    return {
        mount: NAMES.approleMount,
        name: NAMES.backendRole,
        token_policies: [NAMES.backendPolicy],
        token_ttl: 3600,
        token_max_ttl: 14400,
        token_type: "service",
        token_num_uses: 0,
        token_bound_cidrs: [...s.approle.tokenBoundCidrs],
        bind_secret_id: true,
        secret_id_ttl: ttl(s.approle.secretIdTtl),
        secret_id_num_uses: s.approle.secretIdNumUses,
        secret_id_bound_cidrs: [...s.approle.secretIdBoundCidrs],
    };
}

/**
 * A machine identity with 15-minute tokens (1h max) and a secret ID that does not expire: the
 * holder logs in again when its token runs out, and the secret ID is a credential of the stack,
 * kept as a Pulumi secret.
 */
function machineRole(
    mount: string,
    name: string,
    policy: string,
    ttl: { token_ttl: number; token_max_ttl: number } = { token_ttl: 900, token_max_ttl: 3600 },
): ApproleRole {
    return {
        mount,
        name,
        token_policies: [policy],
        ...ttl,
        token_type: "service",
        token_num_uses: 0,
        token_bound_cidrs: [],
        bind_secret_id: true,
        secret_id_ttl: 0,
        secret_id_num_uses: 0,
        secret_id_bound_cidrs: [],
    };
}

/** The backups area's snapshot agent: short tokens, snapshot read only. */
export function snapshotAgentRole(): ApproleRole {
    return machineRole(NAMES.approleMount, NAMES.snapshotRole, NAMES.snapshotPolicy);
}

/**
 * Prometheus's identity (components/monitoring): the Vault Agent beside Prometheus logs in with it
 * and keeps the token file Prometheus reads fresh. 15-minute tokens (1h max), so a leaked token ends
 * within the hour; no default policy (the metrics policy grants lookup-self and renew-self, which the
 * agent uses); tokens and secret ID bound to `cidrs` (monitoringTokenBoundCidrs: where Prometheus and
 * its agent reach Vault from; [] = any address).
 */
export function metricsRole(cidrs: readonly string[]): ApproleRole {
    return {
        ...machineRole(NAMES.approleMount, NAMES.metricsRole, NAMES.metricsPolicy),
        token_bound_cidrs: [...cidrs],
        secret_id_bound_cidrs: [...cidrs],
        token_no_default_policy: true,
    };
}

/**
 * The rolling-change gates' identity (components/rolling.ts): 15-minute tokens, a secret ID that is
 * a credential of the stack (generated before the containers, a Pulumi secret), autopilot state and
 * step-down only.
 */
export function rollingRole(): ApproleRole {
    return machineRole(NAMES.approleMount, NAMES.rollingRole, NAMES.rollingPolicy);
}

/**
 * `npm run migrate`'s identity while migrationWindow is set: 1-hour tokens (the tool logs in again),
 * one secret ID that expires with the window. Its policy writes only under the KV mount.
 */
export function migrationRole(window: string): ApproleRole {
    return {
        ...machineRole(NAMES.approleMount, NAMES.migrationRole, NAMES.migrationPolicy, {
            token_ttl: 3600,
            token_max_ttl: 3600,
        }),
        secret_id_ttl: durationSeconds(window),
    };
}

/**
 * How long Pulumi's admin token lives: the @pulumi/vault provider logs in once per run (authLogin,
 * skipChildToken) and never renews, and the engine configures it early in a run, before slow steps
 * such as image pulls and a rolling replacement of every node. Two hours outlives the longest
 * realistic run; the token is not renewable past it and is useless without the admin policy's paths.
 */
export const ADMIN_TOKEN_TTL_SECONDS = 7200;

/** Pulumi's identity: the @pulumi/vault provider logs in on each run and keeps no long-lived token. */
export function adminRole(): ApproleRole {
    return machineRole(NAMES.adminMount, NAMES.adminRole, NAMES.adminPolicy, {
        token_ttl: ADMIN_TOKEN_TTL_SECONDS,
        token_max_ttl: ADMIN_TOKEN_TTL_SECONDS,
    });
}

export function renderAutopilot(s: Pick<SettingsConfig, "autopilot">): AutopilotSettings {
    const a = s.autopilot;
    return {
        cleanup_dead_servers: a.cleanupDeadServers,
        last_contact_threshold: a.lastContactThreshold,
        dead_server_last_contact_threshold: a.deadServerLastContactThreshold,
        server_stabilization_time: a.serverStabilizationTime,
        max_trailing_logs: 1000,
        ...(a.minQuorum !== undefined ? { min_quorum: a.minQuorum } : {}),
    };
}

export function renderVaultSettings(s: SettingsInput): VaultSettingsPlan {
    const auditDevices = renderAuditDevices(s);
    const auditViaApi = s.engine === "vault";
    const raft = s.storage === "raft";
    return {
        kvMount: {
            path: s.kvMount,
            type: "kv",
            options: { version: "2" },
            description: "Bonito backend secrets (KV v2)",
        },
        auditDevices,
        auditViaApi,
        authBackends: [
            { path: NAMES.approleMount, type: "approle", description: "Bonito workloads (backend, snapshot agent)" },
        ],
        policies: {
            [NAMES.backendPolicy]: renderBackendPolicy(s.kvMount),
            [NAMES.snapshotPolicy]: renderSnapshotAgentPolicy(),
            ...(s.migration ? { [NAMES.migrationPolicy]: renderMigrationPolicy(s.kvMount) } : {}),
            ...(raft ? { [NAMES.rollingPolicy]: renderRollingPolicy() } : {}),
        },
        roles: [
            backendRole(s),
            snapshotAgentRole(),
            ...(s.migration ? [migrationRole(s.migration.window)] : []),
            ...(raft ? [rollingRole()] : []),
        ],
        autopilot: raft ? renderAutopilot(s) : undefined,
        admin: {
            mount: NAMES.adminMount,
            role: adminRole(),
            policyName: NAMES.adminPolicy,
            policy: renderAdminPolicy({
                kvMount: s.kvMount,
                apiAuditDevices: auditViaApi ? auditDevices : [],
                autopilot: raft,
            }),
        },
    };
}

export interface BackendEnvInput {
    addr: string;
    roleId: string;
    /** The secret ID, or the wrapping token when `wrapped`. */
    secret: string;
    wrapped: boolean;
    /** The CA PEM; "" when TLS terminates at a trusted proxy (no CA to pin). */
    caCert: string;
    /** Where the backend's container keeps the CA file (backendCaCertPath). */
    caCertPath: string;
    mount: string;
}

/**
 * What the backend's start command runs first (docs/vault-settings.md, "The backend bundle"): writes the PEM from
 * VAULT_CACERT_BYTES to the file VAULT_CACERT names. Railway and most PaaS deliver only variables.
 */
export const BACKEND_CA_WRITE_COMMAND =
    'mkdir -p "$(dirname "$VAULT_CACERT")" && printf \'%s\' "$VAULT_CACERT_BYTES" > "$VAULT_CACERT"';

/**
 * The backend's bundle (secret as a whole): the seed's variables plus the CA and the mount. Each
 * variable means what Vault's clients read it as: `VAULT_CACERT` is a file path (the Vault CLI, the
 * Go API client, hvac, and the backend's httpx client as `verify=<path>`), `VAULT_CACERT_BYTES` the
 * PEM text (Vault's Go client; the backend writes it to `VAULT_CACERT` at start, README).
 */
export function renderBackendEnv(i: BackendEnvInput): Record<string, string> {
    return {
        VAULT_ADDR: i.addr,
        VAULT_ROLE_ID: i.roleId,
        [i.wrapped ? "VAULT_WRAPPED_SECRET_ID" : "VAULT_SECRET_ID"]: i.secret,
        ...(i.caCert ? { VAULT_CACERT: i.caCertPath, VAULT_CACERT_BYTES: i.caCert } : {}),
        VAULT_MOUNT: i.mount,
    };
}

/** dotenv lines, values JSON-quoted so a PEM's newlines survive (`pulumi stack output … | …` prints the same). */
export function toDotenv(env: Record<string, string>): string {
    return Object.entries(env)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join("\n");
}
