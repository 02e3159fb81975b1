import type { ResourceValidationPolicy } from "@pulumi/policy";
import { str } from "./lib/common";
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
 * - `sudo` on the snapshot path, or any other path (`auth/token/create`, `bonito/data/*`).
 */
export const vaultPolicySnapshotAgentLeastPrivilege: ResourceValidationPolicy = {
    name: "vault-policy-snapshot-agent-least-privilege",
    description:
        "The snapshot agent's Vault policies (config `snapshotPolicies`, default snapshot-agent) grant only read on sys/storage/raft/snapshot and the token self paths: no restore, no forced restore, nothing else.",
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
        },
    },
    remediationSteps:
        'Render the snapshot agent\'s policy as exactly `path "sys/storage/raft/snapshot" { capabilities = ["read"] }`; restores are an operator task with an operator token.',
    validateResource: (args, report) => {
        if (args.type !== VAULT_POLICY) return;
        const name = str(args.props.name) ?? args.name;
        const c = args.getConfig<{ snapshotPolicies?: string[] }>();
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
