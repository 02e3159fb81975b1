import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { arr, str } from "./lib/common";

const KEY_IAM = ["gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding"];
const WIDE_IAM = [
    "gcp:kms/keyRingIAMMember:KeyRingIAMMember",
    "gcp:kms/keyRingIAMBinding:KeyRingIAMBinding",
    "gcp:projects/iAMMember:IAMMember",
    "gcp:projects/iAMBinding:IAMBinding",
];
const CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole";
/** What Vault's gcpckms seal calls: encrypt, decrypt, and read the key. */
export const GCP_UNSEAL_ROLES = ["roles/cloudkms.cryptoKeyEncrypterDecrypter", "roles/cloudkms.viewer"];
export const GCP_UNSEAL_PERMISSIONS = [
    "cloudkms.cryptoKeyVersions.useToEncrypt",
    "cloudkms.cryptoKeyVersions.useToDecrypt",
    "cloudkms.cryptoKeys.get",
];
const PUBLIC = ["allUsers", "allAuthenticatedUsers"];

function members(r: PolicyResource): string[] {
    return [str(r.props.member), ...arr(r.props.members).map(String)].filter((m): m is string => m !== undefined);
}

/**
 * Seed §2 on GCP: the unseal service account is bound at the key (not key ring or project) to the
 * least role that encrypts, decrypts and reads it.
 *
 * One-field changes that would undo the same protection, each covered here: the key binding's role
 * widened (`roles/cloudkms.admin`, `roles/owner`) or its custom role given more permissions; the
 * member changed to `allUsers`/`allAuthenticatedUsers`; a KMS, owner or editor role bound on the key
 * ring or project instead. Not covered: a `CryptoKeyIAMPolicy`/`KeyRingIAMPolicy` resource (a new
 * resource, not a field change), and broad members such as `domain:…`.
 */
export const gcpKmsIamUnsealLeastPrivilege: StackValidationPolicy = {
    name: "gcp-kms-iam-unseal-least-privilege",
    description:
        "KMS access is granted on the crypto key only, with roles/cloudkms.cryptoKeyEncrypterDecrypter, roles/cloudkms.viewer or a custom role limited to useToEncrypt/useToDecrypt/get; never KMS or owner/editor roles on a key ring or project, never to allUsers.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["gcp", "iam", "unseal", "least-privilege"],
    remediationSteps:
        "Bind the Vault service account with gcp.kms.CryptoKeyIAMMember and role roles/cloudkms.cryptoKeyEncrypterDecrypter (plus roles/cloudkms.viewer).",
    validateStack: (args, report) => {
        const custom = new Map<string, string[]>();
        for (const r of args.resources.filter((x) => x.type === CUSTOM_ROLE)) {
            const perms = arr(r.props.permissions).map(String);
            for (const id of [str(r.props.name), str(r.props.roleId), r.name]) if (id) custom.set(id, perms);
        }
        const customPerms = (role: string): string[] | undefined =>
            custom.get(role) ?? custom.get(role.split("/").pop() ?? "");
        for (const r of args.resources) {
            const role = str(r.props.role) ?? "";
            if (KEY_IAM.includes(r.type)) {
                for (const m of members(r))
                    if (PUBLIC.includes(m))
                        report(
                            `The crypto key grants ${role} to ${m}; grant it to the Vault service account only.`,
                            r.urn,
                        );
                if (GCP_UNSEAL_ROLES.includes(role)) continue;
                const perms = /\/roles\//.test(role) ? customPerms(role) : undefined;
                if (perms === undefined)
                    report(
                        `The crypto key grants ${role}; the unseal identity may only have ${GCP_UNSEAL_ROLES.join(" or ")} (or a custom role limited to ${GCP_UNSEAL_PERMISSIONS.join(", ")}).`,
                        r.urn,
                    );
                else {
                    const extra = perms.filter((p) => !GCP_UNSEAL_PERMISSIONS.includes(p));
                    if (extra.length > 0)
                        report(`Custom role ${role} on the crypto key also grants ${extra.join(", ")}.`, r.urn);
                }
            } else if (WIDE_IAM.includes(r.type)) {
                if (/^roles\/(cloudkms\.|owner$|editor$)/.test(role))
                    report(
                        `${r.type.split(":").pop()} grants ${role} above the key (key ring or project); bind KMS roles on the one crypto key.`,
                        r.urn,
                    );
            }
        }
    },
};
