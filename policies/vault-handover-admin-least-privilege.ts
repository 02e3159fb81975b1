import type { ResourceValidationPolicy } from "@pulumi/policy";
import { arr, explicitlyFalse, obj, seconds, str } from "./lib/common";
import { grants, parseVaultPolicy } from "./lib/vaultPolicy";

/** The dynamic resource that hands Vault over from the root token to Pulumi's admin AppRole. */
export const HANDOVER_TYPE = "pulumi-nodejs:dynamic/bonito:VaultHandover";

/** The longest an admin token may live (the AppRole rule's token_max_ttl bound). */
const MAX_SECONDS = 4 * 3600;

/** A path that matches more than one named endpoint: a glob (`*`) or a wildcard segment (`+`). */
const isGlob = (p: string) => p.includes("*") || p.includes("+");
/** Catch-alls: everything, everything under sys/ or auth/ or identity/, or every ACL policy. */
const CATCH_ALL = /^(\+\/)*(\*|\+|(sys|auth|identity|sys\/policies|sys\/policies\/acl|auth\/token)\/[*+].*)$/;

/**
 * After init, Pulumi talks to Vault as the admin AppRole the hand-over creates (the root token is
 * revoked). The @pulumi/vault provider keeps that token in state, so the role must still need its
 * secret id, its tokens must end within hours, and its policy names the endpoints it manages.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `bind_secret_id` off (`false`, `"false"`, `0`): the role id alone logs in;
 * - `token_max_ttl` or `token_ttl` removed or 0 (the mount's 768h), or raised past 4h;
 *   `token_period` set (renews forever); `token_explicit_max_ttl` above 4h;
 * - `token_policies` naming root or any policy besides the hand-over's own;
 * - the admin policy granting `sudo` on any glob path, anything on a catch-all (`*`, `sys/*`,
 *   `auth/*`, `sys/policies/acl/*`), or a `*` capability.
 */
export const vaultHandoverAdminLeastPrivilege: ResourceValidationPolicy = {
    name: "vault-handover-admin-least-privilege",
    description:
        "The admin AppRole Pulumi uses after init keeps bind_secret_id on, token_ttl and token_max_ttl set and ≤ 4h, no period, only its own policy; that policy grants no sudo on a glob path, nothing on a catch-all path and no `*` capability.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "approle", "bootstrap", "least-privilege"],
    remediationSteps:
        "Keep the hand-over the program renders (components/settings/plan.ts): bind_secret_id true, token_ttl/token_max_ttl 2h, token_policies [pulumi-admin], and name each admin path exactly.",
    validateResource: (args, report) => {
        if (args.type !== HANDOVER_TYPE) return;
        const role = obj(args.props.role) ?? {};
        const policyName = str(args.props.policyName);
        if (explicitlyFalse(role.bind_secret_id))
            report(
                "The admin role's bind_secret_id is off, so its role id alone logs in as Pulumi's admin; set it to true.",
            );
        for (const k of ["token_ttl", "token_max_ttl"]) {
            const s = seconds(role[k]);
            if (!s)
                report(
                    `The admin role's ${k} is ${String(role[k] ?? "unset")}, which means the mount default (768h, renewable); set it to at most ${MAX_SECONDS}s.`,
                );
            else if (s > MAX_SECONDS) report(`The admin role's ${k} is ${s}s; at most ${MAX_SECONDS}s (4h).`);
        }
        const explicit = seconds(role.token_explicit_max_ttl);
        if (explicit && explicit > MAX_SECONDS)
            report(`The admin role's token_explicit_max_ttl is ${explicit}s; at most ${MAX_SECONDS}s.`);
        if (seconds(role.token_period))
            report("The admin role sets token_period: its tokens renew forever; remove it.");
        const others = arr(role.token_policies)
            .map(String)
            .filter((p) => p !== policyName);
        if (others.length > 0)
            report(
                `The admin role's tokens also carry ${others.join(", ")}; give them only the hand-over policy ${policyName ?? ""}.`,
            );
        const rules = parseVaultPolicy(str(args.props.policy) ?? "");
        if (!rules) {
            report("The admin policy could not be parsed; render it as JSON.");
            return;
        }
        for (const r of rules) {
            if (!grants(r)) continue;
            if (r.capabilities.includes("*"))
                report(`The admin policy grants "*" on "${r.path}"; list the capabilities each path needs.`);
            if (r.capabilities.includes("sudo") && isGlob(r.path))
                report(`The admin policy grants sudo on "${r.path}", a glob path; grant sudo only on named endpoints.`);
            else if (CATCH_ALL.test(r.path))
                report(
                    `The admin policy grants ${r.capabilities.join(", ")} on the catch-all "${r.path}"; name each path Pulumi manages.`,
                );
        }
    },
};
