import type { ResourceValidationPolicy } from "@pulumi/policy";
import { arr, str } from "./lib/common";
import { MIGRATION_WINDOW_SECONDS } from "./lib/limits";
import { TOKEN_SELF_PATHS, describeAllowList, reportBeyondAllowList, type AllowList } from "./lib/vaultPolicy";
import { APPROLE_ROLE } from "./vault-approle-token-ttl";
import { VAULT_POLICY } from "./vault-policy-backend-least-privilege";

const MIGRATION_POLICIES = ["bonito-migration"];

/** What `npm run migrate` needs on the target: write versions, carry settings, delete and destroy versions. */
export function migrationAllowList(mount: string): AllowList {
    return {
        [`${mount}/data/*`]: ["create", "read", "update"],
        [`${mount}/metadata/*`]: ["create", "read", "update", "list", "delete"],
        [`${mount}/delete/*`]: ["update"],
        [`${mount}/destroy/*`]: ["update"],
        ...TOKEN_SELF_PATHS,
    };
}

/**
 * The migration identity (`migrationWindow`) writes every secret of the stack: it may do that and
 * nothing else, and only for a bounded time.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - a grant outside the KV mount (`sys/*`, `auth/*`, another mount, a catch-all) or `sudo` anywhere;
 * - `undelete/*` or an extra capability on an allowed path;
 * - the role's secret ID made permanent (`secretIdTtl` 0 or unset) or longer than the window's bound;
 * - the role's tokens given any policy but the migration policy (default aside).
 */
export const vaultPolicyMigrationLeastPrivilege: ResourceValidationPolicy = {
    name: "vault-policy-migration-least-privilege",
    description:
        "The migration policy (config `migrationPolicies`, default bonito-migration) grants only the KV paths `npm run migrate` writes under <kvMount>; its AppRole carries only that policy and a secret ID that expires within 168h.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "policy", "migration", "least-privilege"],
    configSchema: {
        properties: {
            migrationPolicies: {
                type: "array",
                items: { type: "string" },
                default: MIGRATION_POLICIES,
                description: "Names of the migration identity's policies.",
            },
            kvMount: { type: "string", default: "bonito", description: "The backend's KV v2 mount path." },
        },
    },
    remediationSteps:
        "Declare the migration credentials only through `migrationWindow` (1h to 168h) and unset it when the move is done; the policy is rendered from the KV mount path.",
    validateResource: (args, report) => {
        const c = args.getConfig<{ migrationPolicies?: string[]; kvMount?: string }>();
        const names = c.migrationPolicies ?? MIGRATION_POLICIES;
        if (args.type === VAULT_POLICY) {
            const name = str(args.props.name) ?? args.name;
            if (!names.includes(name)) return;
            const allowed = migrationAllowList(c.kvMount ?? "bonito");
            reportBeyondAllowList(
                name,
                str(args.props.policy) ?? "",
                allowed,
                (beyond) =>
                    `Migration policy ${name} grants ${beyond}; it may only write under the KV mount: ${describeAllowList(allowed)}.`,
                report,
            );
            return;
        }
        if (args.type !== APPROLE_ROLE) return;
        const policies = arr(args.props.tokenPolicies).map(String);
        if (!policies.some((p) => names.includes(p))) return;
        const others = policies.filter((p) => !names.includes(p) && p !== "default");
        if (others.length > 0)
            report(
                `The migration role also gives its tokens ${others.join(", ")}; it may carry only ${names.join(", ")}.`,
            );
        const ttl =
            typeof args.props.secretIdTtl === "number"
                ? args.props.secretIdTtl
                : Number(args.props.secretIdTtl ?? 0) || 0;
        if (ttl <= 0 || ttl > MIGRATION_WINDOW_SECONDS.max)
            report(
                `The migration role's secret ID lives ${ttl <= 0 ? "forever (secretIdTtl 0 or unset)" : `${ttl} s`}; it must expire within ${MIGRATION_WINDOW_SECONDS.max / 3600}h (migrationWindow).`,
            );
    },
};
