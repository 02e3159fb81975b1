/**
 * The seam between an unseal-key implementation (one per cloud) and the rest of the program.
 *
 * The renderer only ever sees {@link SealStanza}: identifiers, never credentials (HashiCorp's
 * hardening guide: no cleartext credentials in the seal stanza). Credentials travel as Pulumi
 * secrets, as container environment variables or uploaded files.
 */
import type * as pulumi from "@pulumi/pulumi";

export type SealType = "awskms" | "azurekeyvault" | "gcpckms" | "transit";

/** A plain `seal "<type>" { … }` stanza. Values are identifiers and settings only. */
export interface SealStanza {
    type: SealType;
    config: Record<string, string | boolean>;
}

/** Names of the settings a stanza may never carry: these go to env or files instead. */
export const SEAL_CREDENTIAL_FIELDS: Readonly<Record<SealType, readonly string[]>> = {
    awskms: ["access_key", "secret_key", "session_token"],
    azurekeyvault: ["client_secret"],
    gcpckms: ["credentials"],
    transit: ["token"],
};

export interface SealFile {
    /** Absolute path inside the Vault container. */
    path: string;
    /** File content; a Pulumi secret. */
    content: pulumi.Output<string>;
}

/** What every unseal implementation hands to the cluster. */
export interface SealDelivery {
    stanza: pulumi.Output<SealStanza>;
    /** Environment for every Vault container, `NAME=value`; each value a secret. */
    env: pulumi.Output<string[]>;
    /** Files uploaded into every Vault container (for example a service-account key). */
    files: SealFile[];
    /** Resources the Vault containers must wait for (the local transit unsealer). */
    dependsOn: pulumi.Resource[];
    /** The key's identifier (ARN, key URL, key name) for stack outputs: not secret. */
    keyId: pulumi.Output<string>;
    /** The identity Vault uses (role ARN, principal, service-account email, policy name): not secret. */
    identity: pulumi.Output<string>;
    /**
     * What an operator must do on the Docker hosts, outside Pulumi, before Vault can unseal (stack
     * output `unsealHostSteps`): sentences with the command. Absent: nothing.
     */
    hostSteps?: pulumi.Output<string[]>;
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
