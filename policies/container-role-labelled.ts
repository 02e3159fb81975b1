import type { ResourceValidationPolicy } from "@pulumi/policy";
import { CONTAINER_ROLES, ROLE_LABEL, TYPES, looksLikeVault, roleOf, vaultRole } from "./lib/common";

/**
 * The pack finds each kind of container by its `bonito.role` label (the Vault servers, the audit
 * shippers, Prometheus, mtail…), which the program sets through the one builder every container
 * goes through (components/container.ts). A container without the label, or with a role the pack
 * does not know, would be judged by guesswork; a container labelled as a sidecar that runs Vault
 * would hide from the Vault-only rules (vaultRole still judges it as Vault, and this rule says why).
 *
 * One-field changes that would undo the same protection, each covered here: the role label
 * removed (or every label removed); the role set to a value the pack does not know; a Vault server
 * relabelled as a sidecar.
 */
export const containerRoleLabelled: ResourceValidationPolicy = {
    name: "container-role-labelled",
    description: `Every container carries a ${ROLE_LABEL} label naming a known kind (${CONTAINER_ROLES.join(", ")}), and only Vault containers are labelled vault-server or vault-unsealer.`,
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["docker", "inventory"],
    remediationSteps:
        "Declare the container with hardenedContainer() (components/container.ts) and the role of its kind; a new kind of container needs a new role there and in policies/lib/common.ts CONTAINER_ROLES.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container) return;
        const role = roleOf(args.props);
        if (role === undefined) {
            report(
                `The container has no ${ROLE_LABEL} label, so the policies cannot tell what it is; declare it through hardenedContainer() with its role.`,
            );
            return;
        }
        if (!(CONTAINER_ROLES as readonly string[]).includes(role)) {
            report(
                `The container's ${ROLE_LABEL} is "${role}", which the policies do not know; use one of ${CONTAINER_ROLES.join(", ")}.`,
            );
            return;
        }
        // The metrics agent runs the Vault image as `vault agent` (lib/common.ts vaultRole): not a server.
        const agent = role === "metrics-agent" && vaultRole(args.props) === undefined;
        if (role !== "vault-server" && role !== "vault-unsealer" && !agent && looksLikeVault(args.props))
            report(
                `The container is labelled ${ROLE_LABEL}=${role} but runs Vault (a server command, a Vault image or a Vault config upload); label it vault-server or vault-unsealer.`,
            );
    },
};
