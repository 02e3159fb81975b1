import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, sealsOf, serverConfigs, vaultRole } from "./lib/common";

/** Settings a seal stanza may never carry (HashiCorp: no cleartext credentials in the seal stanza). */
export const SEAL_CREDENTIAL_FIELDS: Record<string, string[]> = {
    awskms: ["access_key", "secret_key", "session_token"],
    azurekeyvault: ["client_secret"],
    gcpckms: ["credentials"],
    transit: ["token"],
    ocikms: ["auth_type_api_key"],
    alicloudkms: ["access_key", "secret_key"],
};

/** gcpckms `credentials` may name a file (an absolute path); anything else set is an inline secret. */
function isInline(type: string, field: string, v: unknown): boolean {
    if (v === undefined || v === "") return false;
    return !(type === "gcpckms" && field === "credentials" && typeof v === "string" && /^\/[^\s{]*$/.test(v));
}

/**
 * One-field changes that would undo the same protection, each covered here: any of the seal's
 * credential fields (access/secret key, session token, client secret, transit token, inline GCP
 * credentials JSON rather than a file path) written into the stanza; the seal written as a list; a
 * second config file under /vault/config/ carrying it (every uploaded config file is read).
 */
export const vaultSealNoInlineCredentials: ResourceValidationPolicy = {
    name: "vault-seal-no-inline-credentials",
    description:
        "No seal stanza in a rendered Vault config carries a credential (access/secret keys, client secret, credentials file content, transit token).",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "unseal", "secrets"],
    remediationSteps:
        "Deliver seal credentials as secret container environment variables or secret uploaded files; the stanza holds identifiers only.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || vaultRole(args.props) === undefined) return;
        for (const cfg of serverConfigs(args.props, () => undefined))
            for (const seal of sealsOf(cfg.json))
                for (const field of SEAL_CREDENTIAL_FIELDS[seal.type] ?? [])
                    if (isInline(seal.type, field, seal.settings[field]))
                        report(
                            `${cfg.file}: seal "${seal.type}" carries ${field} in the config file; pass it as a secret environment variable or file instead.`,
                        );
    },
};
