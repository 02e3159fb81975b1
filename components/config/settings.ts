/**
 * Settings keys: how Pulumi reaches the Vault API, the recovery keys, the audit devices, the KV
 * mount, the backend's AppRole and autopilot. Owned by the settings area; see section.ts for the
 * contract. Every default is written here once; the renderers in components/settings/ only read
 * the typed result.
 */
import { apiScheme } from "../naming";
import type { CoreConfig } from "./core";
import type { EntryPointSection } from "./entryPoint";
import { DURATION, boolean, duration, durationSeconds, integer, oneOf, stringList, text } from "./fields";
import { isExamplePgpKey } from "./exampleKeys";
import { checkPgpKey } from "./pgpKey";
import { key, section, type BuildContext, type SectionValues } from "./section";
import { MIGRATION_WINDOW_SECONDS, RECOVERY, migrationWindowReason } from "../../policies/lib/limits";

export type AuditSecondDevice = "syslog" | "socket" | "file";
export type AuditSocketType = "tcp" | "udp" | "unix";

export interface RecoveryConfig {
    shares: number;
    threshold: number;
    /** Base64 of each operator's binary PGP public key, one per share, in share order; [] = plain shares. */
    pgpKeys: string[];
}

export interface AuditConfig {
    second: AuditSecondDevice;
    /** host:port for tcp/udp, a path for unix; set only when `second` is socket. */
    socketAddress?: string;
    socketType: AuditSocketType;
    retentionDays: number;
    rotateSizeMb: number;
    rotateMaxAgeHours: number;
}

export interface ApproleConfig {
    /** Vault duration or "0" (never expires). */
    secretIdTtl: string;
    secretIdNumUses: number;
    secretIdBoundCidrs: string[];
    tokenBoundCidrs: string[];
    /** Deliver the backend's secret ID response-wrapped with this TTL; undefined = plain. */
    wrappingTtl?: string;
}

/** While a migration is under way (`npm run migrate`): how long its AppRole's secret ID lives. */
export interface MigrationConfig {
    /** Vault duration: the migration secret ID's secret_id_ttl. */
    window: string;
}

export interface AutopilotConfig {
    cleanupDeadServers: boolean;
    lastContactThreshold: string;
    deadServerLastContactThreshold: string;
    serverStabilizationTime: string;
    /** undefined when dead-server cleanup is off (Vault then ignores it). */
    minQuorum?: number;
}

export interface SettingsConfig {
    /** URL Pulumi uses to reach the Vault API (bootstrap and the @pulumi/vault provider). */
    adminAddr: string;
    /** Name checked against the server certificate when Pulumi calls adminAddr (a certificate SAN). */
    adminTlsServerName: string;
    /** How Pulumi reaches each node's API, in node order (the rolling-change health gate). */
    nodeAdminAddrs: string[];
    /** How long a rolling change waits for one replaced node to be healthy again, in seconds. */
    rollingNodeTimeoutSeconds: number;
    /** The stack states that an image older than the running Vault may replace it (components/rolling.ts). */
    allowDowngrade: boolean;
    /** VAULT_ADDR handed to the backend. */
    backendAddr: string;
    /** Where the backend's container keeps the CA file: VAULT_CACERT (a path, as every Vault client reads it). */
    backendCaCertPath: string;
    /** KV v2 mount path without slashes; the backend's VAULT_MOUNT. */
    kvMount: string;
    recovery: RecoveryConfig;
    audit: AuditConfig;
    approle: ApproleConfig;
    autopilot: AutopilotConfig;
    /** Set only while `migrationWindow` is: the migration AppRole, its policy and secret ID exist. */
    migration?: MigrationConfig;
}

const URL_PATTERN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/;
const MOUNT = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Mount paths Vault owns or this program uses for something else. */
const RESERVED_MOUNTS = ["sys", "auth", "identity", "cubbyhole", "secret", "approle", "pulumi-admin", "audit"];
const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
/** A base64 string (the binary PGP public key exported with `gpg --export <id> | base64 -w0`). */
const BASE64 = /^[A-Za-z0-9+/]{40,}={0,2}$/;
const TTL_OR_ZERO = new RegExp(`^0$|${DURATION.source}`);
const SOCKET_ADDR = /^(([A-Za-z0-9.-]+:\d{1,5})|(\/[^\s]+))$/;

/**
 * Where Pulumi finds the first node's published API port: the publish address when it is a
 * concrete one, else the first Docker host's name (ssh:// or tcp://), else the first node address.
 */
export function adminHost(
    c: Pick<CoreConfig, "publishAddress" | "dockerHosts" | "nodeAddresses" | "multiHost">,
): string {
    if (c.publishAddress !== "0.0.0.0") return c.publishAddress;
    const host = c.dockerHosts[0] && /^(ssh|tcp):\/\/(?:[^@/]*@)?([^:/]+)/.exec(c.dockerHosts[0]);
    if (host) return host[2];
    return c.multiHost ? c.nodeAddresses[0] : "127.0.0.1";
}

/**
 * Where Pulumi finds each node's published API port. One node: adminAddr itself. One Docker host:
 * the nodes publish hostPortBase, hostPortBase+1, ... on adminAddr's host. Several hosts: every node
 * publishes hostPortBase on its own host (its Docker host's name, else its node address).
 */
export function defaultNodeAdminAddrs(
    c: Pick<CoreConfig, "nodes" | "hostPortBase" | "dockerHosts" | "nodeAddresses" | "multiHost">,
    adminAddr: string,
    scheme: string,
): string[] {
    if (c.nodes === 1) return [adminAddr];
    if (!c.multiHost) {
        const host = new URL(adminAddr).hostname;
        return Array.from({ length: c.nodes }, (_, i) => `${scheme}://${host}:${c.hostPortBase + i}`);
    }
    return Array.from({ length: c.nodes }, (_, i) => {
        const docker = c.dockerHosts[i] && /^(ssh|tcp):\/\/(?:[^@/]*@)?([^:/]+)/.exec(c.dockerHosts[i]);
        return `${scheme}://${docker ? docker[2] : c.nodeAddresses[i]}:${c.hostPortBase}`;
    });
}

const settingsKeys = {
    adminAddr: key(text({ pattern: URL_PATTERN, describe: "an http(s) URL such as https://127.0.0.1:8200" }), {
        type: "string",
        description:
            "URL Pulumi uses to reach the Vault API for bootstrap and settings; must be https unless tlsMode is upstream-proxy.",
        default: "https://<publishAddress, else the first Docker host's name>:<hostPortBase> (the first node's API)",
    }),
    adminTlsServerName: key(text({ pattern: /^[a-z0-9.-]+$/, describe: "a DNS name" }), {
        type: "string",
        description:
            "Name Pulumi checks the server certificate against when calling adminAddr; must be a SAN of the node certificates.",
        default: "serviceName",
    }),
    nodeAdminAddrs: key(stringList({ item: URL_PATTERN, describe: "an http(s) URL such as https://10.0.1.10:8200" }), {
        type: "array",
        description:
            "URL Pulumi uses to reach each node's API, in node order: a rolling change waits on each replaced node here before it touches the next. Same scheme rules as adminAddr.",
        default:
            "one node: [adminAddr]; one Docker host: https://<adminAddr's host>:<hostPortBase + i>; several hosts: https://<Docker host i's name, else nodeAddresses[i]>:<hostPortBase>",
    }),
    rollingNodeTimeout: key(duration("10m"), {
        type: "string",
        description:
            "How long a rolling change waits for one replaced node to be unsealed and connected to the active node again before it stops (the nodes after it are left untouched).",
        default: "10m",
    }),
    allowDowngrade: key(boolean(false), {
        type: "boolean",
        description:
            'Let an image older than the Vault the cluster runs replace it. A rolling change refuses a downgrade without it: Vault does not support older binaries on data a newer one wrote; the rollback is restoring the pre-upgrade snapshot (docs/runbook.md "Upgrading Vault").',
        default: "false",
    }),
    backendAddr: key(text({ pattern: URL_PATTERN, describe: "an http(s) URL such as https://vault.internal:8200" }), {
        type: "string",
        description: "VAULT_ADDR handed to the Bonito backend in backendEnv.",
        default: "the entry point: https://<entryPointName>:<port>",
    }),
    backendCaCertPath: key(
        text({
            def: "/etc/bonito/vault-ca.pem",
            pattern: /^\/[A-Za-z0-9._/-]+$/,
            describe: "an absolute file path such as /etc/bonito/vault-ca.pem",
        }),
        {
            type: "string",
            description:
                "Path of the CA file inside the backend's container, emitted as VAULT_CACERT (Vault clients read it as a path); the PEM itself travels as VAULT_CACERT_BYTES.",
            default: "/etc/bonito/vault-ca.pem",
        },
    ),
    kvMount: key(text({ def: "bonito", pattern: MOUNT, describe: "a mount path of a-z, 0-9, _ and - (no slashes)" }), {
        type: "string",
        description: "Path of the KV v2 mount the backend uses; emitted as VAULT_MOUNT.",
        default: "bonito",
    }),
    recoveryShares: key(integer({ min: 1, max: 10 }), {
        type: "integer",
        description: "Number of recovery key shares created at initialisation (auto-unseal recovery keys).",
        default: "5 on prod, 3 on staging, 1 elsewhere",
    }),
    recoveryThreshold: key(integer({ min: 1, max: 10 }), {
        type: "integer",
        description: "Recovery key shares needed for generate-root or rekey; at most recoveryShares.",
        default: "3 on prod, 2 on staging, 1 elsewhere",
    }),
    recoveryPgpKeys: key(
        stringList({
            item: BASE64,
            describe: "a base64-encoded binary PGP public key (gpg --export <id> | base64 -w0)",
        }),
        {
            type: "array",
            description:
                "Operators' PGP public keys (base64 of the binary key), one per recovery share; the shares in state are encrypted to them. Required on prod.",
            default: "[] (required on prod)",
        },
    ),
    auditSecondDevice: key(oneOf(["syslog", "socket", "file"], "syslog"), {
        type: "string",
        description:
            "Second audit device beside the file device: syslog (tag vault, facility AUTH; the Docker host must have /dev/log, or the node container is refused), socket (auditSocketAddress), or file (a second file on the audit volume, for hosts without syslog such as Docker Desktop).",
        default: "syslog",
    }),
    auditSocketAddress: key(
        text({ pattern: SOCKET_ADDR, describe: "host:port, or an absolute path for a unix socket" }),
        {
            type: "string",
            description: "Log shipper the socket audit device writes to; required when auditSecondDevice is socket.",
            default: "none",
        },
    ),
    auditSocketType: key(oneOf(["tcp", "udp", "unix"], "tcp"), {
        type: "string",
        description: "Transport of the socket audit device.",
        default: "tcp",
    }),
    auditRetentionDays: key(integer({ min: 1, max: 3650 }), {
        type: "integer",
        description: "Days rotated audit files are kept on each node's audit volume before deletion.",
        default: "90 on prod, 14 elsewhere",
    }),
    auditRotateSizeMb: key(integer({ def: 100, min: 1, max: 10240 }), {
        type: "integer",
        description: "Rotate the audit file when it reaches this size (MiB).",
        default: "100",
    }),
    auditRotateMaxAgeHours: key(integer({ def: 24, min: 1, max: 8760 }), {
        type: "integer",
        description: "Rotate the audit file at least this often (hours), even when small.",
        default: "24",
    }),
    approleSecretIdTtl: key(
        text({ def: "0", pattern: TTL_OR_ZERO, describe: "0 (never expires) or a duration such as 720h" }),
        {
            type: "string",
            description:
                "secret_id_ttl of the bonito-backend role; 0 means the secret ID never expires (seed value), a duration forces rotation by pulumi up.",
            default: "0",
        },
    ),
    approleSecretIdNumUses: key(integer({ def: 0, min: 0, max: 1000000 }), {
        type: "integer",
        description: "secret_id_num_uses of the bonito-backend role; 0 means unlimited logins (seed value).",
        default: "0",
    }),
    approleSecretIdBoundCidrs: key(stringList({ def: [], item: CIDR, describe: "an IPv4 CIDR such as 10.0.0.0/8" }), {
        type: "array",
        description: "CIDRs allowed to log in with the backend's secret ID (secret_id_bound_cidrs).",
        default: "[] (any address)",
    }),
    approleTokenBoundCidrs: key(stringList({ def: [], item: CIDR, describe: "an IPv4 CIDR such as 10.0.0.0/8" }), {
        type: "array",
        description: "CIDRs allowed to use the backend's tokens (token_bound_cidrs).",
        default: "[] (any address)",
    }),
    approleWrappingTtl: key(duration(), {
        type: "string",
        description:
            "Deliver the backend's secret ID response-wrapped with this TTL (backendEnv then carries VAULT_WRAPPED_SECRET_ID).",
        default: "none (plain secret ID)",
    }),
    migrationWindow: key(duration(), {
        type: "string",
        description:
            "While set, declares the bonito-migration AppRole (write under kvMount only) and a secret ID that expires after this long, for `npm run migrate` (docs/migration.md); unset it when the move is done.",
        default: "none (no migration credentials)",
    }),
    autopilotCleanupDeadServers: key(boolean(), {
        type: "boolean",
        description: "Let autopilot remove nodes that stay unreachable past autopilotDeadServerLastContactThreshold.",
        default: "true with 3 or more nodes, false otherwise",
    }),
    autopilotLastContactThreshold: key(duration("10s"), {
        type: "string",
        description: "Autopilot marks a node unhealthy after this long without contact from the leader.",
        default: "10s",
    }),
    autopilotDeadServerLastContactThreshold: key(duration("24h"), {
        type: "string",
        description: "Autopilot removes a node after this long without contact (Vault requires at least 1m).",
        default: "24h",
    }),
    autopilotServerStabilizationTime: key(duration("10s"), {
        type: "string",
        description: "How long a new node must be healthy before autopilot promotes it to voter.",
        default: "10s",
    }),
};

type SettingsValues = SectionValues<typeof settingsKeys>;

export const settingsSection = section(settingsKeys, buildSettings);

function buildSettings(v: SettingsValues, ctx: BuildContext, prior: CoreConfig & EntryPointSection): SettingsConfig {
    const tlsOff = prior.tls.mode === "upstream-proxy";
    const addresses = adminAddresses(v, ctx, prior, tlsOff);
    const backendAddr = (v.backendAddr ?? prior.entryPoint.url).replace(/\/$/, "");
    if (!tlsOff && !backendAddr.startsWith("https://"))
        ctx.issue("backendAddr", "must be an https URL: Vault terminates TLS (tlsMode is not upstream-proxy)");
    if (RESERVED_MOUNTS.includes(v.kvMount))
        ctx.issue("kvMount", `must not be one of ${RESERVED_MOUNTS.join(", ")} (reserved by Vault or this program)`);
    const recovery = recoveryOf(v, ctx);
    const audit = auditOf(v, ctx);
    if (v.approleWrappingTtl !== undefined && durationSeconds(v.approleWrappingTtl) > 7 * 24 * 3600)
        ctx.issue("approleWrappingTtl", "must be at most 168h: a wrapping token is a short-lived delivery envelope");
    const autopilot = autopilotOf(v, ctx, prior.nodes);
    if (v.migrationWindow !== undefined) {
        const secs = durationSeconds(v.migrationWindow);
        if (secs < MIGRATION_WINDOW_SECONDS.min || secs > MIGRATION_WINDOW_SECONDS.max)
            ctx.issue("migrationWindow", migrationWindowReason());
    }

    return {
        ...addresses,
        backendAddr,
        backendCaCertPath: v.backendCaCertPath,
        kvMount: v.kvMount,
        recovery,
        audit,
        approle: {
            secretIdTtl: v.approleSecretIdTtl,
            secretIdNumUses: v.approleSecretIdNumUses,
            secretIdBoundCidrs: v.approleSecretIdBoundCidrs,
            tokenBoundCidrs: v.approleTokenBoundCidrs,
            wrappingTtl: v.approleWrappingTtl,
        },
        autopilot,
        ...(v.migrationWindow !== undefined ? { migration: { window: v.migrationWindow } } : {}),
    };
}

/** How Pulumi reaches the API (https unless TLS ends at a trusted proxy), and how long it waits per node. */
function adminAddresses(
    v: SettingsValues,
    ctx: BuildContext,
    prior: CoreConfig,
    tlsOff: boolean,
): Pick<
    SettingsConfig,
    "adminAddr" | "adminTlsServerName" | "nodeAdminAddrs" | "rollingNodeTimeoutSeconds" | "allowDowngrade"
> {
    const scheme = apiScheme({ mode: tlsOff ? "upstream-proxy" : "internal-ca" });
    const adminAddr = (v.adminAddr ?? `${scheme}://${adminHost(prior)}:${prior.hostPortBase}`).replace(/\/$/, "");
    if (!tlsOff && !adminAddr.startsWith("https://"))
        ctx.issue("adminAddr", "must be an https URL: Vault terminates TLS (tlsMode is not upstream-proxy)");
    const nodeAdminAddrs = (v.nodeAdminAddrs ?? defaultNodeAdminAddrs(prior, adminAddr, scheme)).map((a) =>
        a.replace(/\/$/, ""),
    );
    if (nodeAdminAddrs.length !== prior.nodes)
        ctx.issue("nodeAdminAddrs", `lists ${nodeAdminAddrs.length} addresses but nodes is ${prior.nodes}`);
    if (!tlsOff && nodeAdminAddrs.some((a) => !a.startsWith("https://")))
        ctx.issue(
            "nodeAdminAddrs",
            "every address must be an https URL: Vault terminates TLS (tlsMode is not upstream-proxy)",
        );
    const rollingNodeTimeoutSeconds = durationSeconds(v.rollingNodeTimeout);
    if (rollingNodeTimeoutSeconds < 60 || rollingNodeTimeoutSeconds > 7200)
        ctx.issue(
            "rollingNodeTimeout",
            "must be from 1m to 2h (a node restart with auto-unseal takes seconds; less than a minute would stop healthy changes)",
        );
    return {
        adminAddr,
        adminTlsServerName: v.adminTlsServerName ?? prior.serviceName,
        nodeAdminAddrs,
        rollingNodeTimeoutSeconds,
        allowDowngrade: v.allowDowngrade,
    };
}

/** Recovery shares and threshold (stack-dependent defaults) and the operators' PGP keys. */
function recoveryOf(v: SettingsValues, ctx: BuildContext): RecoveryConfig {
    const shares = v.recoveryShares ?? (ctx.prod ? 5 : ctx.stack === "staging" ? 3 : 1);
    const threshold = v.recoveryThreshold ?? (ctx.prod ? 3 : ctx.stack === "staging" ? 2 : 1);
    if (threshold > shares)
        ctx.issue(
            "recoveryThreshold",
            `${threshold} exceeds recoveryShares (${shares}); use a number from 1 to ${shares}`,
        );
    else if (shares > 1 && threshold < RECOVERY.minThreshold)
        ctx.issue(
            "recoveryThreshold",
            `must be at least ${RECOVERY.minThreshold} when recoveryShares is ${shares} (Vault's Shamir split needs 2 or more)`,
        );
    if (ctx.prod && shares < RECOVERY.prodMinShares)
        ctx.issue(
            "recoveryShares",
            `must be at least ${RECOVERY.prodMinShares} on prod, so no single operator holds recovery`,
        );
    const pgpKeys = v.recoveryPgpKeys ?? [];
    const examples = pgpKeys.map((k, i) => (isExamplePgpKey(k) ? i : -1)).filter((i) => i >= 0);
    if (examples.length > 0 && !ctx.allowExampleKeys)
        ctx.issue(
            "recoveryPgpKeys",
            `entries ${examples.join(", ")} are the committed example keys, whose private halves were destroyed: replace them with your operators' keys (gpg --export <id> | base64 -w0) before any real preview or up`,
        );
    if (ctx.prod && pgpKeys.length === 0)
        ctx.issue(
            "recoveryPgpKeys",
            `is required on prod: list ${shares} operators' PGP public keys (base64 of gpg --export <id>), one per recovery share, so the shares in state are encrypted`,
        );
    else if (pgpKeys.length > 0 && pgpKeys.length !== shares)
        ctx.issue(
            "recoveryPgpKeys",
            v.recoveryShares === undefined
                ? `lists ${pgpKeys.length} keys but recoveryShares is ${shares} (its default on stack ${ctx.stack}); set recoveryShares: ${pgpKeys.length} and a recoveryThreshold (at least ${RECOVERY.minThreshold}), or give exactly one key per share`
                : `lists ${pgpKeys.length} keys but recoveryShares is ${shares}; give exactly one key per share, or set recoveryShares: ${pgpKeys.length}`,
        );
    const now = ctx.now ?? Math.floor(Date.now() / 1000);
    pgpKeys.forEach((k, i) => {
        const { fingerprint, problem } = checkPgpKey(k, now);
        if (problem !== undefined)
            ctx.issue(
                "recoveryPgpKeys",
                `entry ${i}${fingerprint ? ` (fingerprint ${fingerprint})` : ""} ${problem}; Vault could not encrypt a recovery share to it and sys/init would fail after every container exists`,
            );
    });
    return { shares, threshold, pgpKeys };
}

/** The second audit device (a socket needs an address of the right shape) and file rotation. */
function auditOf(v: SettingsValues, ctx: BuildContext): AuditConfig {
    const { auditSecondDevice: second, auditSocketAddress: socketAddress, auditSocketType: socketType } = v;
    if (second === "socket" && socketAddress === undefined)
        ctx.issue("auditSocketAddress", "is required when auditSecondDevice is socket: the log shipper's host:port");
    if (second !== "socket" && socketAddress !== undefined)
        ctx.issue(
            "auditSocketAddress",
            `is only used when auditSecondDevice is socket (auditSecondDevice is ${second})`,
        );
    if (socketAddress !== undefined && (socketType === "unix") !== socketAddress.startsWith("/"))
        ctx.issue(
            "auditSocketAddress",
            socketType === "unix"
                ? "must be an absolute socket path when auditSocketType is unix"
                : `must be host:port when auditSocketType is ${socketType}`,
        );
    return {
        second,
        socketAddress,
        socketType,
        retentionDays: v.auditRetentionDays ?? (ctx.prod ? 90 : 14),
        rotateSizeMb: v.auditRotateSizeMb,
        rotateMaxAgeHours: v.auditRotateMaxAgeHours,
    };
}

/** Dead-server cleanup needs 3 nodes (min_quorum); a node is unhealthy before it is dead. */
function autopilotOf(v: SettingsValues, ctx: BuildContext, nodes: number): AutopilotConfig {
    const cleanup = v.autopilotCleanupDeadServers ?? nodes >= 3;
    if (cleanup && nodes < 3)
        ctx.issue(
            "autopilotCleanupDeadServers",
            `needs at least 3 nodes (nodes is ${nodes}): Vault requires min_quorum of 3 or more for dead-server cleanup`,
        );
    const { autopilotLastContactThreshold: lastContact, autopilotDeadServerLastContactThreshold: deadContact } = v;
    if (durationSeconds(deadContact) < 60)
        ctx.issue("autopilotDeadServerLastContactThreshold", "must be at least 1m (Vault's lower bound)");
    else if (durationSeconds(deadContact) <= durationSeconds(lastContact))
        ctx.issue(
            "autopilotDeadServerLastContactThreshold",
            `must exceed autopilotLastContactThreshold (${lastContact}): a node is unhealthy before it is dead`,
        );
    return {
        cleanupDeadServers: cleanup,
        lastContactThreshold: lastContact,
        deadServerLastContactThreshold: deadContact,
        serverStabilizationTime: v.autopilotServerStabilizationTime,
        minQuorum: cleanup ? nodes : undefined,
    };
}
