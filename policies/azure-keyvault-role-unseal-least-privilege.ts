import type { StackValidationPolicy } from "@pulumi/policy";
import { arr, explicitlyFalse, obj, str } from "./lib/common";
import { AZURE_KEY_VAULT } from "./azure-keyvault-purge-protection";
import { AZURE_ROLES, ROLE_ASSIGNMENT, ROLE_DEFINITION, roleGuid } from "./lib/azure";

const ALLOWED = [AZURE_ROLES.keyVaultCryptoUser, AZURE_ROLES.keyVaultCryptoServiceEncryptionUser] as string[];
const KEY_VAULT_DATA_ROLES = [
    AZURE_ROLES.keyVaultAdministrator,
    AZURE_ROLES.keyVaultCryptoOfficer,
    AZURE_ROLES.keyVaultCryptoUser,
    AZURE_ROLES.keyVaultCryptoServiceEncryptionUser,
] as string[];
/** Key permissions an access policy may give (Vault's seal reads, wraps and unwraps). */
const KEY_USE_PERMISSIONS = ["get", "wrapkey", "unwrapkey", "encrypt", "decrypt"];
const BROAD = [AZURE_ROLES.owner, AZURE_ROLES.contributor, AZURE_ROLES.userAccessAdministrator] as string[];
/** What Vault's azurekeyvault seal calls: read the key, wrap and unwrap. */
export const AZURE_UNSEAL_DATA_ACTIONS = [
    "Microsoft.KeyVault/vaults/keys/read",
    "Microsoft.KeyVault/vaults/keys/wrap/action",
    "Microsoft.KeyVault/vaults/keys/unwrap/action",
    "Microsoft.KeyVault/vaults/keys/encrypt/action",
    "Microsoft.KeyVault/vaults/keys/decrypt/action",
];

/**
 * Seed §2 on Azure: the identity Vault uses gets a crypto-user role scoped to the one key, not
 * the Key Vault, and nothing in the stack hands out Owner/Contributor.
 *
 * One-field changes that would undo the same protection, each covered here: the role widened
 * (Owner, Contributor, User Access Administrator anywhere; Crypto Officer or Administrator on the
 * vault); a custom role given more actions; the scope widened from the key to the vault, or to a
 * resource group or subscription (a Key Vault data role at any scope above one key); the vault's
 * `enableRbacAuthorization` turned off (access policies then decide, unseen by role checks), or an
 * access policy granting key permissions beyond get/wrap/unwrap/encrypt/decrypt (`all`, `purge`).
 */
export const azureKeyVaultRoleUnsealLeastPrivilege: StackValidationPolicy = {
    name: "azure-keyvault-role-unseal-least-privilege",
    description:
        "Role assignments on a Key Vault use Key Vault Crypto User / Crypto Service Encryption User (or a custom role limited to key read/wrap/unwrap/encrypt/decrypt), scoped to one key; no Owner, Contributor or User Access Administrator assignments.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["azure", "iam", "unseal", "least-privilege"],
    remediationSteps: "Assign Key Vault Crypto Service Encryption User with scope `<keyVaultId>/keys/<keyName>`.",
    validateStack: (args, report) => {
        for (const v of args.resources.filter((r) => r.type === AZURE_KEY_VAULT)) {
            const p = obj(v.props.properties) ?? {};
            if (explicitlyFalse(p.enableRbacAuthorization))
                report(
                    `Key Vault ${v.name} turns RBAC authorization off, so access policies bypass these role checks; set enableRbacAuthorization: true.`,
                    v.urn,
                );
            for (const ap of arr(p.accessPolicies)) {
                const keys = arr(obj(obj(ap)?.permissions)?.keys).map((k) => String(k));
                const extra = keys.filter((k) => !KEY_USE_PERMISSIONS.includes(k.toLowerCase()));
                if (extra.length > 0)
                    report(
                        `Key Vault ${v.name} has an access policy granting keys ${extra.join(", ")}; use RBAC with a crypto-user role on the one key.`,
                        v.urn,
                    );
            }
        }
        const custom = new Map<string, string[]>();
        for (const d of args.resources.filter((r) => r.type === ROLE_DEFINITION)) {
            const actions = arr(d.props.permissions).flatMap((p) =>
                [...arr(obj(p)?.actions), ...arr(obj(p)?.dataActions)].map(String),
            );
            for (const id of [str(d.props.roleDefinitionId), str(d.props.name), str(d.props.id)])
                if (id) custom.set(roleGuid(id), actions);
        }
        for (const a of args.resources.filter((r) => r.type === ROLE_ASSIGNMENT)) {
            const guid = roleGuid(str(a.props.roleDefinitionId) ?? "");
            const scope = str(a.props.scope) ?? "";
            if (BROAD.includes(guid)) {
                report(
                    `Role assignment ${a.name} grants a broad built-in role (${guid}) at ${scope}; grant a data-plane role on the one resource.`,
                    a.urn,
                );
                continue;
            }
            if (!/\/providers\/Microsoft\.KeyVault\/vaults\//i.test(scope)) {
                // A Key Vault data role on a resource group or subscription reaches every key in it.
                // (A scope that is not an ARM id yet, such as an unresolved output, is judged on apply.)
                if (KEY_VAULT_DATA_ROLES.includes(guid) && scope.startsWith("/"))
                    report(
                        `Role assignment ${a.name} grants a Key Vault role (${guid}) at ${scope}, above any one key; scope it to the unseal key (…/keys/<name>).`,
                        a.urn,
                    );
                continue;
            }
            if (!/\/keys\/[^/]+$/i.test(scope))
                report(
                    `Role assignment ${a.name} is scoped to the whole Key Vault (${scope}); scope it to the unseal key (…/keys/<name>).`,
                    a.urn,
                );
            if (ALLOWED.includes(guid)) continue;
            const actions = custom.get(guid);
            if (actions === undefined)
                report(
                    `Role assignment ${a.name} on the Key Vault uses role ${guid}; use Key Vault Crypto Service Encryption User or Crypto User.`,
                    a.urn,
                );
            else {
                const extra = actions.filter(
                    (x) => !AZURE_UNSEAL_DATA_ACTIONS.some((y) => y.toLowerCase() === x.toLowerCase()),
                );
                if (extra.length > 0)
                    report(`Custom role ${guid} assigned on the Key Vault also grants ${extra.join(", ")}.`, a.urn);
            }
        }
    },
};
