/**
 * Pure renderers for the unseal area: policy documents, the seal stanzas and the credential guard.
 * Plain data in, plain data out — no Pulumi types — so they are tested exactly without mocks and
 * quoted verbatim in the README.
 */
import { SEAL_CREDENTIAL_FIELDS, type SealStanza } from "../seal";

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

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: Record<string, unknown>[];
}

/** The statement letting the Vault identity use a key: also what an adopted key's policy must hold. */
export function awsVaultKeyStatement(identityArn: string): Record<string, unknown> {
    return {
        Sid: "VaultIdentityUsesKey",
        Effect: "Allow",
        Principal: { AWS: identityArn },
        Action: [...AWS_VAULT_KMS_ACTIONS],
        Resource: "*",
    };
}

/** The key policy: the account administers the key, only the Vault identity uses it. */
export function awsKeyPolicy(a: { partition: string; accountId: string; identityArn: string }): PolicyDocument {
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
export function awsIdentityPolicy(keyArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Sid: "VaultAutoUnseal", Effect: "Allow", Action: [...AWS_VAULT_KMS_ACTIONS], Resource: keyArn }],
    };
}

/** Trust policy of the role: only EC2 instances (through the instance profile) assume it. */
export function awsEc2TrustPolicy(): PolicyDocument {
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

/** Throws when a stanza carries a credential field (a programming error, never a user one). */
export function assertNoCredentials(stanza: SealStanza): SealStanza {
    const bad = SEAL_CREDENTIAL_FIELDS[stanza.type].filter((f) => f in stanza.config);
    if (bad.length > 0)
        throw new Error(
            `seal "${stanza.type}" stanza must not carry ${bad.join(", ")}: credentials go to env or files`,
        );
    return stanza;
}

export function awsStanza(region: string, keyId: string): SealStanza {
    return assertNoCredentials({ type: "awskms", config: { region, kms_key_id: keyId } });
}

export function azureStanza(tenantId: string, vaultName: string, keyName: string): SealStanza {
    return assertNoCredentials({
        type: "azurekeyvault",
        config: { tenant_id: tenantId, vault_name: vaultName, key_name: keyName },
    });
}

export function gcpStanza(project: string, region: string, keyRing: string, cryptoKey: string): SealStanza {
    return assertNoCredentials({
        type: "gcpckms",
        config: { project, region, key_ring: keyRing, crypto_key: cryptoKey },
    });
}

/** `disable_renewal` is a string in Vault's seal config ("false"), not a JSON boolean. */
export function transitStanza(address: string, mountPath: string, keyName: string): SealStanza {
    return assertNoCredentials({
        type: "transit",
        config: { address, mount_path: mountPath, key_name: keyName, disable_renewal: "false" },
    });
}
