/**
 * Pure renderers for the unseal area: who may use the key (AWS key and identity policies, the Azure
 * role, the GCP permissions, the transit policy) and the rotation periods; the seal stanzas are in
 * components/seal.ts.
 * Plain data in, plain data out — no Pulumi types — so they are tested exactly without mocks and
 * quoted verbatim in the README.
 */
import type { IamPolicy, IamStatement } from "../iam";

/** The only KMS actions the Vault identity gets (HashiCorp's awskms seal docs). */
export const AWS_VAULT_KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"] as const;

/**
 * What the account may do with the key: manage it, never use it. Without a root statement a key
 * can become unmanageable; without the `kms:Encrypt`/`kms:Decrypt` grant here, no IAM policy in the
 * account can give anyone but the Vault identity the use of the key.
 */
export const AWS_KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:Create*",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
] as const;

/** The statement letting the Vault identity use a key: also what an adopted key's policy must hold. */
export function awsVaultKeyStatement(identityArn: string): IamStatement {
    return {
        Sid: "VaultIdentityUsesKey",
        Effect: "Allow",
        Principal: { AWS: identityArn },
        Action: [...AWS_VAULT_KMS_ACTIONS],
        Resource: "*",
    };
}

/** The key policy: the account administers the key, only the Vault identity uses it. */
export function awsKeyPolicy(a: { partition: string; accountId: string; identityArn: string }): IamPolicy {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersKey",
                Effect: "Allow",
                Principal: { AWS: `arn:${a.partition}:iam::${a.accountId}:root` },
                Action: [...AWS_KEY_ADMIN_ACTIONS],
                Resource: "*",
            },
            awsVaultKeyStatement(a.identityArn),
        ],
    };
}

/** The Vault identity's own IAM policy: the three actions on this one key. */
export function awsIdentityPolicy(keyArn: string): IamPolicy {
    return {
        Version: "2012-10-17",
        Statement: [{ Sid: "VaultAutoUnseal", Effect: "Allow", Action: [...AWS_VAULT_KMS_ACTIONS], Resource: keyArn }],
    };
}

/** Trust policy of the role: only EC2 instances (through the instance profile) assume it. */
export function awsEc2TrustPolicy(): IamPolicy {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "Ec2HostsAssumeRole",
                Effect: "Allow",
                Principal: { Service: "ec2.amazonaws.com" },
                Action: "sts:AssumeRole",
            },
        ],
    };
}

/**
 * Azure "Key Vault Crypto Service Encryption User": data actions keys/read, keys/wrap/action and
 * keys/unwrap/action (plus Event Grid subscription management, meaningless at key scope). The
 * narrowest built-in role covering what the azurekeyvault seal does (get key, wrap, unwrap).
 */
export const AZURE_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6";

export function azureRoleDefinitionId(subscriptionId: string): string {
    return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${AZURE_CRYPTO_SERVICE_ENCRYPTION_USER}`;
}

/**
 * The GCP custom role's permissions: exactly what the gcpckms seal uses (encrypt, decrypt, read the
 * key). The predefined cryptoKeyEncrypterDecrypter lacks `cryptoKeys.get`, and adding
 * roles/cloudkms.viewer for it would also grant listing and reading every key version.
 */
export const GCP_SEAL_PERMISSIONS = [
    "cloudkms.cryptoKeyVersions.useToDecrypt",
    "cloudkms.cryptoKeyVersions.useToEncrypt",
    "cloudkms.cryptoKeys.get",
] as const;

/** Seconds string for a rotation period in days (`7776000s` for 90). */
export function gcpRotationPeriod(days: number): string {
    return `${days * 86400}s`;
}

/** ISO-8601 duration for Azure's rotation policy (`P90D`). */
export function azureRotationTrigger(days: number): string {
    return `P${days}D`;
}

/** Vault ACL policy (HCL) for the transit token: use the one key, renew and look up itself, nothing else. */
export function transitPolicy(mountPath: string, keyName: string): string {
    const mount = mountPath.replace(/\/+$/, "");
    return [
        `path "${mount}/encrypt/${keyName}" {`,
        `  capabilities = ["update"]`,
        `}`,
        `path "${mount}/decrypt/${keyName}" {`,
        `  capabilities = ["update"]`,
        `}`,
        `# The seal renews its periodic token (disable_renewal = false); these two come from the default`,
        `# policy, which the token does not get.`,
        `path "auth/token/renew-self" {`,
        `  capabilities = ["update"]`,
        `}`,
        `path "auth/token/lookup-self" {`,
        `  capabilities = ["read"]`,
        `}`,
        ``,
    ].join("\n");
}
