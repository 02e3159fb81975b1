/**
 * Vault ACL policies as JSON documents (Vault accepts JSON wherever it accepts policy HCL).
 *
 * Pure: plain data in, plain data out, so the real-server tier writes exactly these documents.
 * Paths are enumerated; no policy here grants `*` on `sys/`.
 */
import type { AuditDevice } from "./audit";

export type Capability = "create" | "read" | "update" | "patch" | "delete" | "list" | "sudo" | "deny";

export interface AclPolicy {
    path: Record<string, { capabilities: Capability[] }>;
}

/** Names other areas rely on (the backups area logs in as `snapshot-agent` on `approle/`). */
export const NAMES = {
    approleMount: "approle",
    backendRole: "bonito-backend",
    backendPolicy: "bonito-backend",
    snapshotRole: "snapshot-agent",
    snapshotPolicy: "snapshot-agent",
    adminMount: "pulumi-admin",
    adminRole: "pulumi-admin",
    adminPolicy: "pulumi-admin",
    metricsPolicy: "bonito-metrics",
    metricsRole: "bonito-metrics",
    /** The token role of stacks deployed before the metrics agent (retired: see renderAdminPolicy). */
    metricsTokenRole: "bonito-metrics",
    migrationRole: "bonito-migration",
    migrationPolicy: "bonito-migration",
    rollingRole: "bonito-rolling",
    rollingPolicy: "bonito-rolling",
} as const;

/** The path the snapshot agent reads (GET streams a Raft snapshot). */
export const SNAPSHOT_PATH = "sys/storage/raft/snapshot";
export const AUTOPILOT_PATH = "sys/storage/raft/autopilot/configuration";

/**
 * The Bonito backend: the seed's grants plus `delete` on `<mount>/metadata/*`, because the backend's
 * client deletes a secret with `DELETE <mount>/metadata/<path>` (all versions and metadata), which
 * the seed's list/read would refuse.
 *
 * No `path "*" { deny }` (the seed has one): Vault already denies whatever no rule grants, and a
 * catch-all deny is not inert. For a LIST, Vault also checks the path without its trailing slash,
 * so `LIST <mount>/metadata/` is matched against `<mount>/metadata`, which only `*` matches: the
 * deny then refuses listing the mount's root (and the default policy's `LIST cubbyhole/`). Proven
 * on Vault 1.21.1 in test/conformance.
 */
export function renderBackendPolicy(mount: string): AclPolicy {
    return {
        path: {
            [`${mount}/data/*`]: { capabilities: ["create", "read", "update"] },
            [`${mount}/metadata/*`]: { capabilities: ["read", "list", "delete"] },
        },
    };
}

/**
 * `npm run migrate` on the target: write every version with check-and-set (data), carry each
 * secret's settings and remove a secret the source deleted or `--overwrite` replaces (metadata),
 * soft-delete and destroy versions to match the source (delete/, destroy/). Nothing outside the
 * stack's KV mount; no `sudo`; the backend's policy is not widened.
 */
export function renderMigrationPolicy(mount: string): AclPolicy {
    return {
        path: {
            [`${mount}/data/*`]: { capabilities: ["create", "read", "update"] },
            [`${mount}/metadata/*`]: { capabilities: ["create", "read", "update", "list", "delete"] },
            [`${mount}/delete/*`]: { capabilities: ["update"] },
            [`${mount}/destroy/*`]: { capabilities: ["update"] },
        },
    };
}

/** Autopilot's view of the cluster, which the rolling-change gates judge each node by. */
export const AUTOPILOT_STATE_PATH = "sys/storage/raft/autopilot/state";

/**
 * The rolling-change gates (components/rolling.ts): read autopilot's state, and hand the active
 * node's role over before its container is replaced (`sys/step-down` is root-protected: `sudo`).
 * Nothing else: no secret, no configuration, no token of anyone else.
 */
export function renderRollingPolicy(): AclPolicy {
    return {
        path: {
            [AUTOPILOT_STATE_PATH]: { capabilities: ["read"] },
            "sys/step-down": { capabilities: ["update", "sudo"] },
        },
    };
}

/** The snapshot agent may only stream a Raft snapshot. */
export function renderSnapshotAgentPolicy(): AclPolicy {
    return { path: { [SNAPSHOT_PATH]: { capabilities: ["read"] } } };
}

export interface AdminScope {
    kvMount: string;
    /** Audit devices this program enables through the API ([] when the server config declares them). */
    apiAuditDevices: readonly Pick<AuditDevice, "path">[];
    /** Autopilot is managed only with Raft storage. */
    autopilot: boolean;
}

/** Everything the provider touches for one AppRole role: the role, its role ID, its secret IDs. */
function roleAccess(mount: string, role: string): AclPolicy["path"] {
    const base = `auth/${mount}/role/${role}`;
    return {
        [base]: { capabilities: ["create", "read", "update", "delete"] },
        [`${base}/role-id`]: { capabilities: ["read"] },
        // secret-id generation and the lookup/destroy endpoints are POST-only (update).
        [`${base}/secret-id`]: { capabilities: ["update"] },
        [`${base}/secret-id/lookup`]: { capabilities: ["update"] },
        [`${base}/secret-id/destroy`]: { capabilities: ["update"] },
        [`${base}/secret-id-accessor/lookup`]: { capabilities: ["update"] },
        [`${base}/secret-id-accessor/destroy`]: { capabilities: ["update"] },
    };
}

/**
 * The identity Pulumi uses after bootstrap: exactly the audit devices, mount, auth method,
 * policies, roles and autopilot this program declares. It cannot touch its own policy or its own
 * auth mount (that would let it grant itself anything): changing those needs a root token from
 * `operator generate-root` (runbook). `sudo` appears only where Vault demands it (audit and auth
 * method management are root-protected paths).
 */
export function renderAdminPolicy(scope: AdminScope): AclPolicy {
    const path: AclPolicy["path"] = {};
    if (scope.apiAuditDevices.length > 0) {
        // Listing audit devices (the provider's read) is itself root-protected.
        path["sys/audit"] = { capabilities: ["read", "sudo"] };
        for (const d of scope.apiAuditDevices)
            path[`sys/audit/${d.path}`] = { capabilities: ["create", "update", "delete", "sudo"] };
    }
    path["sys/mounts"] = { capabilities: ["read"] };
    path[`sys/mounts/${scope.kvMount}`] = { capabilities: ["create", "read", "update", "delete"] };
    path[`sys/mounts/${scope.kvMount}/tune`] = { capabilities: ["read", "update"] };
    path["sys/auth"] = { capabilities: ["read"] };
    path[`sys/auth/${NAMES.approleMount}`] = { capabilities: ["create", "read", "update", "delete", "sudo"] };
    path[`sys/auth/${NAMES.approleMount}/tune`] = { capabilities: ["read", "update", "sudo"] };
    // The provider updates an existing auth mount through the generic mount-tune endpoint
    // (terraform-provider-vault: updateAuthMount → TuneMount("auth/<path>")).
    path[`sys/mounts/auth/${NAMES.approleMount}/tune`] = { capabilities: ["update"] };
    // The migration role and policy are granted whether or not migrationWindow is set: Pulumi's
    // identity cannot rewrite its own policy, so switching the migration on and off must not need it.
    for (const p of [NAMES.backendPolicy, NAMES.snapshotPolicy, NAMES.migrationPolicy])
        path[`sys/policies/acl/${p}`] = { capabilities: ["create", "read", "update", "delete"] };
    Object.assign(path, roleAccess(NAMES.approleMount, NAMES.backendRole));
    Object.assign(path, roleAccess(NAMES.approleMount, NAMES.snapshotRole));
    Object.assign(path, roleAccess(NAMES.approleMount, NAMES.migrationRole));
    if (scope.autopilot) {
        path[AUTOPILOT_PATH] = { capabilities: ["read", "update"] };
        // The rolling-change identity: its IDs are generated before the containers exist
        // (components/rolling.ts), so Pulumi writes the role ID and a custom secret ID.
        path[`sys/policies/acl/${NAMES.rollingPolicy}`] = { capabilities: ["create", "read", "update", "delete"] };
        Object.assign(path, roleAccess(NAMES.approleMount, NAMES.rollingRole));
        const base = `auth/${NAMES.approleMount}/role/${NAMES.rollingRole}`;
        path[`${base}/role-id`] = { capabilities: ["read", "update"] };
        path[`${base}/custom-secret-id`] = { capabilities: ["update"] };
    }
    // The metrics reader (components/monitoring): its policy and its AppRole role (the Vault Agent beside
    // Prometheus logs in with it).
    path[`sys/policies/acl/${NAMES.metricsPolicy}`] = { capabilities: ["create", "read", "update", "delete"] };
    Object.assign(path, roleAccess(NAMES.approleMount, NAMES.metricsRole));
    // Retiring what stacks deployed before the agent still hold: the periodic token's role (deleted)
    // and the token itself (the old MetricsToken resource revokes it by naming it, so only a caller
    // holding the token can). Nothing of this program creates either any more.
    path[`auth/token/roles/${NAMES.metricsTokenRole}`] = { capabilities: ["read", "delete"] };
    path["auth/token/revoke"] = { capabilities: ["update"] };
    return { path };
}

/** The text Vault stores: stable key order, two-space JSON. */
export function policyText(doc: AclPolicy): string {
    return JSON.stringify(doc, null, 2);
}
