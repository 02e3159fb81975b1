/**
 * Unseal keys. Owned by the unseal area; see section.ts for the contract.
 *
 * `cloud` (a core key) picks where the auto-unseal key lives; the keys here refine it. Keys named
 * `<cloud>…` apply only when `cloud` is that cloud and are ignored otherwise, so one stack file can
 * carry settings for several clouds while a test overrides `cloud`.
 */
import { baseName } from "../naming";
import type { CoreConfig } from "./core";
import { type Secret, duration, durationSeconds, integer, oneOf, secretText, stringList, text } from "./fields";
import { key, section, type BuildContext, type SectionValues } from "./section";
import {
    AWS_KEY_DELETION_WINDOW,
    KEY_ROTATION_DAYS,
    awsKeyDeletionWindowReason,
    keyRotationReason,
} from "../../policies/lib/limits";

export interface AwsUnseal {
    cloud: "aws";
    region: string;
    /** `role`: IAM role + instance profile for EC2 hosts; `user`: IAM user with an access key (Pulumi secret). */
    identity: "role" | "user";
    /** An existing key to adopt (no key, key policy or alias is created). */
    keyArn?: string;
    deletionWindowDays: number;
    rotationDays: number;
    /** Name prefix for the alias and IAM objects. */
    baseName: string;
}

export interface AzureUnseal {
    cloud: "azure";
    location: string;
    resourceGroup: string;
    /** undefined: the tenant of the azure-native provider. */
    tenantId?: string;
    vaultName: string;
    keyName: string;
    /** An existing key (ARM resource id) to adopt: only the role assignment is created. */
    keyId?: string;
    sku: "standard" | "premium";
    identity: "managedIdentity" | "servicePrincipal";
    /** servicePrincipal only. */
    servicePrincipal?: { clientId: string; objectId: string; clientSecret: Secret };
    network: { defaultAction: "Deny" | "Allow"; ipRules: string[]; subnetIds: string[] };
    rotationDays: number;
    baseName: string;
}

export interface GcpUnseal {
    cloud: "gcp";
    project: string;
    location: string;
    keyRing: string;
    cryptoKey: string;
    /** True when keyRing/cryptoKey name an existing key (from gcpKeyId) that is adopted, not created. */
    adopt: boolean;
    protectionLevel: "SOFTWARE" | "HSM";
    /** `attached`: the service account is attached to the GCE hosts; `key`: a JSON key file (Pulumi secret). */
    identity: "attached" | "key";
    serviceAccountId: string;
    /** Project-level custom role holding exactly the three permissions the seal needs. */
    roleId: string;
    rotationDays: number;
    baseName: string;
}

export interface LocalUnseal {
    cloud: "local";
    /** Host port (on 127.0.0.1) of the unsealer's API, used by the Pulumi host only. */
    port: number;
    /** Period of the transit token; Vault renews it, and it dies if the cluster stays down longer. */
    tokenPeriod: string;
    keyName: string;
    rotationDays: number;
    baseName: string;
}

export type UnsealSettings = AwsUnseal | AzureUnseal | GcpUnseal | LocalUnseal;

export interface UnsealConfig {
    unseal: UnsealSettings;
}

/** The transit key's fixed name on the local unsealer. */
export const LOCAL_TRANSIT_KEY = "bonito-vault-unseal";

const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const AWS_KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AZURE_VAULT_NAME = /^(?=.{3,24}$)[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$/;
const AZURE_KEY_NAME = /^[a-zA-Z0-9-]{1,127}$/;
const AZURE_KEY_ID =
    /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+\/keys\/[^/]+$/i;
const AZURE_SUBNET_ID =
    /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;
const IPV4_OR_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}(\/([0-9]|[12]\d|3[0-2]))?$/;
const GCP_PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const GCP_NAME = /^[a-zA-Z0-9_-]{1,63}$/;
const GCP_LOCATION = /^[a-z0-9-]+$/;
const GCP_KEY_ID =
    /^projects\/([a-z][a-z0-9-]{4,28}[a-z0-9])\/locations\/([a-z0-9-]+)\/keyRings\/([a-zA-Z0-9_-]{1,63})\/cryptoKeys\/([a-zA-Z0-9_-]{1,63})$/;
const GCP_ACCOUNT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** The KMS key's region when neither awsRegion nor awsKeyArn says otherwise. */
export const DEFAULT_AWS_REGION = "us-east-1";

/** Longest rotation period any cloud may use: keys rotate at least quarterly. */
export const MAX_ROTATION_DAYS = KEY_ROTATION_DAYS.max;

/**
 * A GCP service-account id (6–30 chars, starts with a letter, no trailing hyphen) derived from the
 * cluster and stack names. Pure, so the name is stable across runs.
 */
export function gcpAccountId(clusterName: string, stack: string): string {
    const suffix = "-unseal";
    const base = baseName(clusterName, stack)
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-");
    const trimmed = base.slice(0, 30 - suffix.length).replace(/-+$/, "");
    const id = `${/^[a-z]/.test(trimmed) ? "" : "v"}${trimmed}${suffix}`;
    return id.length >= 6 ? id : `vault${id}`;
}

/** A default Azure Key Vault name (3–24 chars, globally unique: set azureVaultName on a clash). */
export function azureVaultName(clusterName: string, stack: string): string {
    const raw = baseName(clusterName, stack)
        .replace(/[^a-zA-Z0-9-]/g, "-")
        .replace(/-{2,}/g, "-");
    const name = raw.slice(0, 21).replace(/-+$/, "");
    return `${/^[a-zA-Z]/.test(name) ? "" : "v"}${name}-kv`;
}

/** A GCP custom role id ([a-zA-Z0-9_.], 3–64) for the stack. */
export function gcpRoleId(clusterName: string, stack: string): string {
    return `${clusterName}_${stack}_unseal`.replace(/[^a-zA-Z0-9_.]/g, "_").slice(0, 64);
}

const unsealKeys = {
    keyRotationDays: key(integer({ def: MAX_ROTATION_DAYS, min: 1, max: 3650 }), {
        type: "integer",
        description:
            "Days between automatic rotations of the unseal key (aws: exactly 90, the KMS minimum; azure: 7 to 90; gcp and local: 1 to 90). Old versions stay usable for decryption.",
        default: "90",
    }),
    awsRegion: key(text({ pattern: AWS_REGION, describe: "an AWS region such as eu-west-1" }), {
        type: "string",
        description: "cloud aws: region of the KMS key (the seal's region).",
        default: "the region of awsKeyArn, else us-east-1",
    }),
    awsIdentity: key(oneOf(["role", "user"], "role"), {
        type: "string",
        description:
            "cloud aws: role (IAM role + instance profile, for nodes on EC2 hosts; no static credential) or user (IAM user whose access key reaches the containers as a secret, for nodes outside AWS).",
        default: "role",
    }),
    awsKeyArn: key(
        text({
            pattern: AWS_KMS_KEY_ARN,
            describe: "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<uuid>)",
        }),
        {
            type: "string",
            description:
                "cloud aws: adopt this existing KMS key instead of creating one; its key policy must let the Vault identity use it (docs/unseal.md).",
            default: "none (a key is created)",
        },
    ),
    awsKeyDeletionWindowDays: key(
        integer({
            def: AWS_KEY_DELETION_WINDOW.prodMin,
            min: 1,
            max: AWS_KEY_DELETION_WINDOW.max,
        }),
        {
            type: "integer",
            description:
                "cloud aws: days a scheduled key deletion waits before it is final (7 to 30; prod must keep 30).",
            default: "30",
        },
    ),
    azureLocation: key(text({ pattern: /^[a-z0-9]+$/, describe: "an Azure region name such as westeurope" }), {
        type: "string",
        description: "cloud azure: region of the Key Vault and the managed identity.",
        default: "required when cloud is azure",
    }),
    azureResourceGroup: key(text({ pattern: /^[-\w.()]{1,90}$/, describe: "an Azure resource group name" }), {
        type: "string",
        description: "cloud azure: existing resource group that holds the Key Vault and the identity.",
        default: "required when cloud is azure",
    }),
    azureTenantId: key(text({ pattern: UUID, describe: "a tenant id (GUID)" }), {
        type: "string",
        description: "cloud azure: Entra tenant of the Key Vault and of the identity.",
        default: "the azure-native provider's tenant",
    }),
    azureVaultName: key(
        text({
            pattern: AZURE_VAULT_NAME,
            describe: "a Key Vault name: 3 to 24 letters, digits and single hyphens, starting with a letter",
        }),
        {
            type: "string",
            description:
                "cloud azure: Key Vault name (globally unique; a purged name stays reserved for the soft-delete retention).",
            default: "<clusterName>-<stack>-kv",
        },
    ),
    azureKeyName: key(text({ def: "vault-unseal", pattern: AZURE_KEY_NAME, describe: "letters, digits and hyphens" }), {
        type: "string",
        description: "cloud azure: name of the RSA key in the Key Vault.",
        default: "vault-unseal",
    }),
    azureKeyId: key(
        text({
            pattern: AZURE_KEY_ID,
            describe:
                "a key resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<vault>/keys/<key>)",
        }),
        {
            type: "string",
            description:
                "cloud azure: adopt this existing key (its vault must use RBAC authorization); only the role assignment is created.",
            default: "none (a vault and key are created)",
        },
    ),
    azureSku: key(oneOf(["standard", "premium"]), {
        type: "string",
        description: "cloud azure: Key Vault SKU; premium keeps the key in an HSM (RSA-HSM).",
        default: "premium on prod, standard elsewhere",
    }),
    azureIdentity: key(oneOf(["managedIdentity", "servicePrincipal"], "managedIdentity"), {
        type: "string",
        description:
            "cloud azure: managedIdentity (a user-assigned identity you attach to the Azure VM hosts; no secret) or servicePrincipal (an existing app registration given by azureClientId, azurePrincipalId and azureClientSecret).",
        default: "managedIdentity",
    }),
    azureClientId: key(text({ pattern: UUID, describe: "an application (client) id (GUID)" }), {
        type: "string",
        description: "cloud azure, servicePrincipal: the application (client) id Vault signs in as.",
        default: "required when azureIdentity is servicePrincipal",
    }),
    azurePrincipalId: key(text({ pattern: UUID, describe: "an object id (GUID)" }), {
        type: "string",
        description:
            "cloud azure, servicePrincipal: the service principal's object id, which the role assignment names.",
        default: "required when azureIdentity is servicePrincipal",
    }),
    azureClientSecret: key(secretText({ describe: "a client secret" }), {
        type: "string",
        description:
            "cloud azure, servicePrincipal: the client secret; reaches the containers only as a secret env var. Secret.",
        default: "required when azureIdentity is servicePrincipal",
        secret: true,
    }),
    azureNetworkDefault: key(oneOf(["deny", "allow"], "deny"), {
        type: "string",
        description:
            "cloud azure: Key Vault firewall default; deny admits only azureAllowedIps and azureSubnetIds (prod must deny).",
        default: "deny",
    }),
    azureAllowedIps: key(stringList({ def: [], item: IPV4_OR_CIDR, describe: "an IPv4 address or CIDR range" }), {
        type: "array",
        description: "cloud azure: public addresses (the Vault hosts' egress) the Key Vault firewall admits.",
        default: "[]",
    }),
    azureSubnetIds: key(stringList({ def: [], item: AZURE_SUBNET_ID, describe: "a subnet resource id" }), {
        type: "array",
        description:
            "cloud azure: virtual-network subnets (with the Microsoft.KeyVault service endpoint) the firewall admits.",
        default: "[]",
    }),
    gcpProject: key(text({ pattern: GCP_PROJECT, describe: "a GCP project id" }), {
        type: "string",
        description: "cloud gcp: project of the key ring, the service account and its custom role.",
        default: "required when cloud is gcp",
    }),
    gcpLocation: key(
        text({
            def: "global",
            pattern: GCP_LOCATION,
            describe: "a Cloud KMS location such as global or europe-west1",
        }),
        {
            type: "string",
            description: "cloud gcp: Cloud KMS location of the key ring (the seal's region).",
            default: "global",
        },
    ),
    gcpKeyRing: key(text({ pattern: GCP_NAME, describe: "letters, digits, _ and -" }), {
        type: "string",
        description: "cloud gcp: key ring name (key rings can never be deleted, so the name is used once).",
        default: "<clusterName>-<stack>",
    }),
    gcpCryptoKey: key(text({ def: "vault-unseal", pattern: GCP_NAME, describe: "letters, digits, _ and -" }), {
        type: "string",
        description: "cloud gcp: crypto key name.",
        default: "vault-unseal",
    }),
    gcpKeyId: key(
        text({
            pattern: GCP_KEY_ID,
            describe: "a key id (projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>)",
        }),
        {
            type: "string",
            description:
                "cloud gcp: adopt this existing ENCRYPT_DECRYPT key in gcpProject instead of creating a ring and key.",
            default: "none (a key ring and key are created)",
        },
    ),
    gcpProtectionLevel: key(oneOf(["SOFTWARE", "HSM"]), {
        type: "string",
        description: "cloud gcp: protection level of the key versions.",
        default: "HSM on prod, SOFTWARE elsewhere",
    }),
    gcpIdentity: key(oneOf(["attached", "key"], "attached"), {
        type: "string",
        description:
            "cloud gcp: attached (the service account is attached to the GCE hosts; no key file) or key (a JSON key, a Pulumi secret uploaded into the containers, for nodes outside GCP).",
        default: "attached",
    }),
    gcpServiceAccountId: key(
        text({ pattern: GCP_ACCOUNT_ID, describe: "a service-account id (6 to 30 of a-z, 0-9, -)" }),
        {
            type: "string",
            description: "cloud gcp: id of the service account Vault uses.",
            default: "<clusterName>-<stack>-unseal (shortened to 30)",
        },
    ),
    localUnsealerPort: key(integer({ def: 8210, min: 1024, max: 65535 }), {
        type: "integer",
        description:
            "cloud local: port on 127.0.0.1 where the transit unsealer's API is published for the Pulumi host.",
        default: "8210",
    }),
    localTokenPeriod: key(duration("720h"), {
        type: "string",
        description:
            "cloud local: period of the transit token; Vault renews it while running, and it expires if the cluster stays down longer.",
        default: "720h",
    }),
};

type UnsealValues = SectionValues<typeof unsealKeys>;

export const unsealSection = section(unsealKeys, buildUnseal);

function buildUnseal(v: UnsealValues, ctx: BuildContext, core: CoreConfig): UnsealConfig {
    const common = { rotationDays: v.keyRotationDays, baseName: baseName(core.clusterName, ctx.stack) };
    if (common.rotationDays > MAX_ROTATION_DAYS) ctx.issue("keyRotationDays", keyRotationReason());
    switch (core.cloud) {
        case "aws":
            return { unseal: awsUnseal(v, ctx, common) };
        case "azure":
            return { unseal: azureUnseal(v, ctx, core, common) };
        case "gcp":
            return { unseal: gcpUnseal(v, ctx, core, common) };
        case "local":
        default:
            return { unseal: localUnseal(v, ctx, core, common) };
    }
}

/** What every cloud's unseal settings share. */
interface UnsealCommon {
    rotationDays: number;
    baseName: string;
}

function requireKeys(v: UnsealValues, ctx: BuildContext, keys: (keyof UnsealValues)[], when: string): void {
    for (const k of keys) if (v[k] === undefined) ctx.issue(k, `is required when ${when}`);
}

function awsUnseal(v: UnsealValues, ctx: BuildContext, common: UnsealCommon): AwsUnseal {
    const { awsKeyDeletionWindowDays: deletionWindowDays, awsKeyArn: keyArn, awsRegion: region } = v;
    if (deletionWindowDays < AWS_KEY_DELETION_WINDOW.min)
        ctx.issue("awsKeyDeletionWindowDays", awsKeyDeletionWindowReason(false));
    else if (ctx.prod && deletionWindowDays < AWS_KEY_DELETION_WINDOW.prodMin)
        ctx.issue("awsKeyDeletionWindowDays", awsKeyDeletionWindowReason(true));
    if (common.rotationDays < 90 && keyArn === undefined)
        ctx.issue("keyRotationDays", `must be 90 when cloud is aws (the shortest AWS KMS rotation period)`);
    if (keyArn && region && keyArn.split(":")[3] !== region)
        ctx.issue("awsKeyArn", `names a key in ${keyArn.split(":")[3]}, but awsRegion is ${region}`);
    return {
        cloud: "aws",
        region: region ?? keyArn?.split(":")[3] ?? DEFAULT_AWS_REGION,
        identity: v.awsIdentity,
        keyArn,
        deletionWindowDays,
        ...common,
    };
}

function azureUnseal(v: UnsealValues, ctx: BuildContext, core: CoreConfig, common: UnsealCommon): AzureUnseal {
    requireKeys(v, ctx, ["azureLocation", "azureResourceGroup"], "cloud is azure");
    const servicePrincipal = azureServicePrincipal(v, ctx);
    if (common.rotationDays < 7)
        ctx.issue("keyRotationDays", `must be at least 7 when cloud is azure (the shortest Key Vault rotation policy)`);
    const network = azureNetwork(v, ctx);
    const keyId = v.azureKeyId;
    const adopted = keyId ? /\/vaults\/([^/]+)\/keys\/([^/]+)$/.exec(keyId) : null;
    return {
        cloud: "azure",
        location: v.azureLocation ?? "",
        resourceGroup: v.azureResourceGroup ?? "",
        tenantId: v.azureTenantId,
        vaultName: adopted?.[1] ?? v.azureVaultName ?? azureVaultName(core.clusterName, ctx.stack),
        keyName: adopted?.[2] ?? v.azureKeyName,
        keyId,
        sku: v.azureSku ?? (ctx.prod ? "premium" : "standard"),
        identity: v.azureIdentity,
        servicePrincipal,
        network,
        ...common,
    };
}

/** azureIdentity servicePrincipal needs all three of its keys; managedIdentity takes none of them. */
function azureServicePrincipal(v: UnsealValues, ctx: BuildContext): AzureUnseal["servicePrincipal"] {
    const spKeys: (keyof UnsealValues)[] = ["azureClientId", "azurePrincipalId", "azureClientSecret"];
    if (v.azureIdentity !== "servicePrincipal") {
        for (const k of spKeys)
            if (v[k] !== undefined)
                ctx.issue(k, "is only used when azureIdentity is servicePrincipal (azureIdentity is managedIdentity)");
        return undefined;
    }
    requireKeys(v, ctx, spKeys, "azureIdentity is servicePrincipal");
    const { azureClientId: clientId, azurePrincipalId: objectId, azureClientSecret: clientSecret } = v;
    return clientId && objectId && clientSecret ? { clientId, objectId, clientSecret } : undefined;
}

/** The Key Vault firewall: deny by default (always on prod), which then needs a way in. */
function azureNetwork(v: UnsealValues, ctx: BuildContext): AzureUnseal["network"] {
    const defaultAction = v.azureNetworkDefault === "allow" ? "Allow" : "Deny";
    const { azureAllowedIps: ipRules, azureSubnetIds: subnetIds } = v;
    if (defaultAction === "Allow" && ctx.prod)
        ctx.issue(
            "azureNetworkDefault",
            "must be deny on the prod stack: admit the Vault hosts with azureAllowedIps or azureSubnetIds",
        );
    if (defaultAction === "Deny" && ipRules.length === 0 && subnetIds.length === 0 && v.azureKeyId === undefined)
        ctx.issue(
            "azureAllowedIps",
            "is required when azureNetworkDefault is deny: list the Vault hosts' public addresses (or set azureSubnetIds), or Vault cannot reach the key",
        );
    return { defaultAction, ipRules, subnetIds };
}

function gcpUnseal(v: UnsealValues, ctx: BuildContext, core: CoreConfig, common: UnsealCommon): GcpUnseal {
    requireKeys(v, ctx, ["gcpProject"], "cloud is gcp");
    const project = v.gcpProject ?? "";
    const m = v.gcpKeyId ? GCP_KEY_ID.exec(v.gcpKeyId) : null;
    if (m && project && m[1] !== project)
        ctx.issue(
            "gcpKeyId",
            `must name a key in gcpProject (${project}): the custom role it is bound with lives there`,
        );
    return {
        cloud: "gcp",
        project,
        location: m?.[2] ?? v.gcpLocation,
        keyRing: m?.[3] ?? v.gcpKeyRing ?? common.baseName,
        cryptoKey: m?.[4] ?? v.gcpCryptoKey,
        adopt: m !== null,
        protectionLevel: v.gcpProtectionLevel ?? (ctx.prod ? "HSM" : "SOFTWARE"),
        identity: v.gcpIdentity,
        serviceAccountId: v.gcpServiceAccountId ?? gcpAccountId(core.clusterName, ctx.stack),
        roleId: gcpRoleId(core.clusterName, ctx.stack),
        ...common,
    };
}

function localUnseal(v: UnsealValues, ctx: BuildContext, core: CoreConfig, common: UnsealCommon): LocalUnseal {
    if (ctx.prod)
        ctx.issue(
            "cloud",
            "must not be local on the prod stack: a transit unsealer beside the cluster is not production auto-unseal",
        );
    if (core.multiHost || core.dockerHosts.some((h) => h !== undefined && !/^(unix|npipe):\/\//.test(h)))
        ctx.issue(
            "dockerHosts",
            "must name only the local Docker daemon (unix:// or npipe://) when cloud is local: the transit unsealer is reached on 127.0.0.1 and over one Docker network",
        );
    if (durationSeconds(v.localTokenPeriod) < 3600)
        ctx.issue("localTokenPeriod", "must be at least 1h: Vault renews the transit token at about half its period");
    return {
        cloud: "local",
        port: v.localUnsealerPort,
        tokenPeriod: v.localTokenPeriod,
        keyName: LOCAL_TRANSIT_KEY,
        ...common,
    };
}
