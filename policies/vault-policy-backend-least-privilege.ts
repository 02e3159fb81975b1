import type { ResourceValidationPolicy } from "@pulumi/policy";
import { str } from "./lib/common";
import { grants, parseVaultPolicy } from "./lib/vaultPolicy";

export const VAULT_POLICY = "vault:index/policy:Policy";

/**
 * Seed §4: the backend's policy reaches its own KV paths only. `sudo` and `sys/` are operator
 * powers; a grant on a catch-all path (`*`, `+/…`) reaches every mount. A catch-all `sudo` is
 * refused in every policy.
 */
export const vaultPolicyBackendLeastPrivilege: ResourceValidationPolicy = {
    name: "vault-policy-backend-least-privilege",
    description:
        "The backend's Vault policies (config `backendPolicies`, default bonito-backend) grant no sudo, nothing under sys/ and nothing on a catch-all path; no policy grants sudo on a catch-all path.",
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
        const catchAll = (p: string) => p === "*" || p.startsWith("+") || p === "";
        for (const r of rules)
            if (catchAll(r.path) && r.capabilities.includes("sudo"))
                report(`Vault policy ${name} grants sudo on "${r.path}", which reaches every path.`);
        const backend = args.getConfig<{ backendPolicies?: string[] }>().backendPolicies ?? ["bonito-backend"];
        if (!backend.includes(name)) return;
        for (const r of rules) {
            if (!grants(r)) continue;
            if (r.capabilities.includes("sudo"))
                report(`Backend policy ${name} grants sudo on "${r.path}"; the backend needs no root-protected paths.`);
            if (/^sys(\/|$|\*)/.test(r.path) || /^\+\/?sys/.test(r.path))
                report(
                    `Backend policy ${name} grants ${r.capabilities.join(", ")} on "${r.path}"; the backend may not touch sys/.`,
                );
            if (catchAll(r.path))
                report(
                    `Backend policy ${name} grants ${r.capabilities.join(", ")} on the catch-all path "${r.path}"; deny it and grant only the KV paths.`,
                );
        }
    },
};
