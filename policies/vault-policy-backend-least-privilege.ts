import type { ResourceValidationPolicy } from "@pulumi/policy";
import { str } from "./lib/common";
import {
    TOKEN_SELF_PATHS,
    beyondAllowList,
    describeAllowList,
    grants,
    parseVaultPolicy,
    type AllowList,
    type Rule,
} from "./lib/vaultPolicy";

export const VAULT_POLICY = "vault:index/policy:Policy";

/** The backend's KV v2 paths under its mount: read and write secrets, list and destroy them. */
export function backendAllowList(mount: string): AllowList {
    return {
        [`${mount}/data/*`]: ["create", "read", "update"],
        [`${mount}/metadata/*`]: ["read", "list", "delete"],
        ...TOKEN_SELF_PATHS,
    };
}

const catchAll = (p: string) => p === "*" || p.startsWith("+") || p === "";

/** The most specific reason a backend rule is refused (sudo, sys/, catch-all, then the allow-list). */
function refusal(name: string, r: Rule, allowed: AllowList): string | undefined {
    if (!grants(r)) return undefined;
    if (r.capabilities.includes("sudo"))
        return `Backend policy ${name} grants sudo on "${r.path}"; the backend needs no root-protected paths.`;
    if (/^sys(\/|$|\*)/.test(r.path) || /^\+\/?sys/.test(r.path))
        return `Backend policy ${name} grants ${r.capabilities.join(", ")} on "${r.path}"; the backend may not touch sys/.`;
    if (catchAll(r.path))
        return `Backend policy ${name} grants ${r.capabilities.join(", ")} on the catch-all path "${r.path}"; deny it and grant only the KV paths.`;
    const beyond = beyondAllowList(r, allowed);
    return beyond === undefined
        ? undefined
        : `Backend policy ${name} grants ${beyond}, outside its KV mount; grant only ${describeAllowList(allowed)}.`;
}

/**
 * Seed §4: the backend's policy reaches its own KV paths only, as an allow-list: create/read/update
 * on `<mount>/data/*`, read/list/delete on `<mount>/metadata/*` and the token self-service paths.
 * A catch-all `sudo` is refused in every policy.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `sudo` added on any path (root-protected endpoints), or any grant under `sys/`;
 * - a grant on a catch-all (`*`, `+/…`) or on another mount (`secret/*`, `bonito/*` instead of
 *   `bonito/data/*`, `bonito/+/*`);
 * - `auth/token/create` (or `auth/token/create-orphan`, `auth/approle/role/*`): minting tokens or
 *   secret ids, i.e. escalating to any policy the backend can name;
 * - an extra capability on an allowed path (`list` on data, `sudo`/`deny`-less `*` on metadata);
 * - the catch-all `deny` removed: harmless by itself (Vault denies by default), so not refused.
 * Renaming the policy takes it out of `backendPolicies`; the AppRole role then names a policy this
 * rule does not know, which `vault-approle-secret-id-required` refuses.
 */
export const vaultPolicyBackendLeastPrivilege: ResourceValidationPolicy = {
    name: "vault-policy-backend-least-privilege",
    description:
        "The backend's Vault policies (config `backendPolicies`, default bonito-backend) grant only create/read/update on <kvMount>/data/*, read/list/delete on <kvMount>/metadata/* and the token self paths: no sudo, nothing under sys/, no catch-all, no other path; no policy grants sudo on a catch-all path.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "policy", "seed-4"],
    configSchema: {
        properties: {
            backendPolicies: {
                type: "array",
                items: { type: "string" },
                default: ["bonito-backend"],
                description: "Names of the application policies held to least privilege.",
            },
            kvMount: { type: "string", default: "bonito", description: "The backend's KV v2 mount path." },
        },
    },
    remediationSteps:
        "Render the backend policy from the KV mount path: create/update/read on <mount>/data/*, list/read/delete on <mount>/metadata/*, deny on everything else.",
    validateResource: (args, report) => {
        if (args.type !== VAULT_POLICY) return;
        const name = str(args.props.name) ?? args.name;
        const rules = parseVaultPolicy(str(args.props.policy) ?? "");
        if (!rules) {
            report(`Vault policy ${name} could not be parsed; render it as JSON.`);
            return;
        }
        for (const r of rules)
            if (catchAll(r.path) && r.capabilities.includes("sudo"))
                report(`Vault policy ${name} grants sudo on "${r.path}", which reaches every path.`);
        const c = args.getConfig<{ backendPolicies?: string[]; kvMount?: string }>();
        if (!(c.backendPolicies ?? ["bonito-backend"]).includes(name)) return;
        const allowed = backendAllowList(c.kvMount ?? "bonito");
        for (const r of rules) {
            const m = refusal(name, r, allowed);
            if (m !== undefined) report(m);
        }
    },
};
