import type { ResourceValidationPolicy } from "@pulumi/policy";
import { arr, str } from "./lib/common";
import { APPROLE_ROLE } from "./vault-approle-token-ttl";
import { TOKEN_SELF_PATHS, describeAllowList, reportBeyondAllowList, type AllowList } from "./lib/vaultPolicy";
import { VAULT_POLICY } from "./vault-policy-backend-least-privilege";

/** Taking a Raft snapshot is a read of sys/storage/raft/snapshot; nothing else. */
export const SNAPSHOT_AGENT_ALLOW_LIST: AllowList = {
    "sys/storage/raft/snapshot": ["read"],
    ...TOKEN_SELF_PATHS,
};

/**
 * The snapshot agent's credentials sit on a host beside the backups: they may take a snapshot and
 * nothing else. Restoring one (an `update` on the same path) rolls the whole cluster back to any
 * state an attacker keeps; `snapshot-force` restores a snapshot from another cluster's keys.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `update` (or `create`) added on `sys/storage/raft/snapshot`: restore;
 * - a grant on `sys/storage/raft/snapshot-force`: forced restore;
 * - a grant on `sys/storage/raft/*`, `sys/*` or `*` (remove-peer, autopilot, everything);
 * - `sudo` on the snapshot path, or any other path (`auth/token/create`, `bonito/data/*`);
 * - the snapshot agent's AppRole (config `snapshotRoles`) carrying any policy besides the snapshot
 *   policy (`bonito-backend`, `default` named explicitly, an admin policy), or none.
 */
export const vaultPolicySnapshotAgentLeastPrivilege: ResourceValidationPolicy = {
    name: "vault-policy-snapshot-agent-least-privilege",
    description:
        "The snapshot agent's Vault policies (config `snapshotPolicies`, default snapshot-agent) grant only read on sys/storage/raft/snapshot and the token self paths: no restore, no forced restore, nothing else; its AppRole (config `snapshotRoles`) carries no other policy.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "policy", "backup", "least-privilege"],
    configSchema: {
        properties: {
            snapshotPolicies: {
                type: "array",
                items: { type: "string" },
                default: ["snapshot-agent"],
                description: "Names of the snapshot agent's policies.",
            },
            snapshotRoles: {
                type: "array",
                items: { type: "string" },
                default: ["snapshot-agent"],
                description: "Names of the snapshot agent's AppRole roles.",
            },
        },
    },
    remediationSteps:
        'Render the snapshot agent\'s policy as exactly `path "sys/storage/raft/snapshot" { capabilities = ["read"] }`; restores are an operator task with an operator token.',
    validateResource: (args, report) => {
        const c = args.getConfig<{ snapshotPolicies?: string[]; snapshotRoles?: string[] }>();
        if (args.type === APPROLE_ROLE) {
            const role = str(args.props.roleName) ?? "";
            if (!(c.snapshotRoles ?? ["snapshot-agent"]).includes(role)) return;
            const allowed = c.snapshotPolicies ?? ["snapshot-agent"];
            const policies = arr(args.props.tokenPolicies).map(String);
            const others = policies.filter((p) => !allowed.includes(p));
            if (others.length > 0 || policies.length === 0)
                report(
                    `The snapshot agent's AppRole ${role} gives its tokens ${policies.length === 0 ? "no policy" : others.join(", ")}; it may carry only ${allowed.join(", ")}.`,
                );
            return;
        }
        if (args.type !== VAULT_POLICY) return;
        const name = str(args.props.name) ?? args.name;
        if (!(c.snapshotPolicies ?? ["snapshot-agent"]).includes(name)) return;
        reportBeyondAllowList(
            name,
            str(args.props.policy) ?? "",
            SNAPSHOT_AGENT_ALLOW_LIST,
            (beyond) =>
                `Snapshot agent policy ${name} grants ${beyond}; it may only take snapshots: ${describeAllowList(SNAPSHOT_AGENT_ALLOW_LIST)}.`,
            report,
        );
    },
};
