/**
 * The seam between an unseal-key implementation (one per cloud) and the rest of the program.
 *
 * The renderer only ever sees {@link SealStanza}: identifiers, never credentials (HashiCorp's
 * hardening guide: no cleartext credentials in the seal stanza). Credentials travel as Pulumi
 * secrets, as container environment variables or uploaded files.
 */
import type * as docker from "@pulumi/docker";
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

/** A Docker daemon the cluster uses, with the cluster network on it. */
export interface DockerTarget {
    /** undefined: the default provider (the Pulumi host's DOCKER_HOST). */
    provider: docker.Provider | undefined;
    network: docker.Network;
    /** The host URI, or "default". */
    host: string;
}
