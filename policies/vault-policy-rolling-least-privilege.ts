import type { ResourceValidationPolicy } from "@pulumi/policy";
import { arr, str } from "./lib/common";
import { APPROLE_ROLE } from "./vault-approle-token-ttl";
import { TOKEN_SELF_PATHS, describeAllowList, reportBeyondAllowList, type AllowList } from "./lib/vaultPolicy";
import { VAULT_POLICY } from "./vault-policy-backend-least-privilege";

/**
 * The rolling-change gates (components/rolling.ts) read autopilot's state and step the active node
 * down before its container is replaced; nothing else.
 */
export const ROLLING_ALLOW_LIST: AllowList = {
    "sys/storage/raft/autopilot/state": ["read"],
    "sys/step-down": ["update", "sudo"],
    ...TOKEN_SELF_PATHS,
};

/**
 * The rolling identity's secret ID is a credential of the stack that exists before the cluster
 * (a Pulumi secret): whoever holds the stack's state holds it. It may look at the cluster's health
 * and hand leadership over, which is an availability lever, never a read of any secret or a change
 * of configuration.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `sudo` or `update` on `sys/storage/raft/autopilot/configuration` (dead-server cleanup, quorum),
 *   on `sys/storage/raft/remove-peer`, `sys/storage/raft/snapshot*`, `sys/seal`;
 * - a grant on `sys/storage/raft/*`, `sys/*` or `*`, or on any KV path;
 * - the rolling AppRole (config `rollingRoles`) carrying any policy besides the rolling policy, or none.
 */
export const vaultPolicyRollingLeastPrivilege: ResourceValidationPolicy = {
    name: "vault-policy-rolling-least-privilege",
    description:
        "The rolling-change identity's Vault policies (config `rollingPolicies`, default bonito-rolling) grant only read on sys/storage/raft/autopilot/state, update+sudo on sys/step-down and the token self paths; its AppRole (config `rollingRoles`) carries no other policy.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "policy", "availability", "least-privilege"],
    configSchema: {
        properties: {
            rollingPolicies: {
                type: "array",
                items: { type: "string" },
                default: ["bonito-rolling"],
                description: "Names of the rolling identity's policies.",
            },
            rollingRoles: {
                type: "array",
                items: { type: "string" },
                default: ["bonito-rolling"],
                description: "Names of the rolling identity's AppRole roles.",
            },
        },
    },
    remediationSteps:
        'Render the rolling policy as exactly `path "sys/storage/raft/autopilot/state" { capabilities = ["read"] }` and `path "sys/step-down" { capabilities = ["update", "sudo"] }` (components/settings/acl.ts renderRollingPolicy).',
    validateResource: (args, report) => {
        const c = args.getConfig<{ rollingPolicies?: string[]; rollingRoles?: string[] }>();
        if (args.type === APPROLE_ROLE) {
            const role = str(args.props.roleName) ?? "";
            if (!(c.rollingRoles ?? ["bonito-rolling"]).includes(role)) return;
            const allowed = c.rollingPolicies ?? ["bonito-rolling"];
            const policies = arr(args.props.tokenPolicies).map(String);
            const others = policies.filter((p) => !allowed.includes(p));
            if (others.length > 0 || policies.length === 0)
                report(
                    `The rolling identity's AppRole ${role} gives its tokens ${policies.length === 0 ? "no policy" : others.join(", ")}; it may carry only ${allowed.join(", ")}.`,
                );
            return;
        }
        if (args.type !== VAULT_POLICY) return;
        const name = str(args.props.name) ?? args.name;
        if (!(c.rollingPolicies ?? ["bonito-rolling"]).includes(name)) return;
        reportBeyondAllowList(
            name,
            str(args.props.policy) ?? "",
            ROLLING_ALLOW_LIST,
            (beyond) =>
                `Rolling identity policy ${name} grants ${beyond}; it may only read autopilot's state and step the active node down: ${describeAllowList(ROLLING_ALLOW_LIST)}.`,
            report,
        );
    },
};
