/**
 * azure: a Key Vault (RBAC authorization, purge protection, 90-day soft delete, firewall) with an
 * RSA key used only for wrap/unwrap and rotated by policy — or an adopted key — and one role
 * assignment, scoped to the key, for the identity Vault signs in as.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as pulumi from "@pulumi/pulumi";
import type { AzureUnseal } from "../config/unseal";
import { type SealDelivery, azureStanza } from "../seal";
import { azureRoleDefinitionId, azureRotationTrigger } from "./iam";

export function createAzureUnseal(name: string, parent: pulumi.Resource, u: AzureUnseal): SealDelivery {
    const child = { parent };
    const tags = { "bonito-purpose": "vault-auto-unseal" };
    const client = authorization.getClientConfigOutput(child);
    const tenantId = u.tenantId !== undefined ? pulumi.output(u.tenantId) : client.tenantId;

    let keyScope: pulumi.Output<string>;
    if (u.keyId) {
        keyScope = pulumi.output(u.keyId);
    } else {
        const vault = new keyvault.Vault(
            `${name}-key-vault`,
            {
                vaultName: u.vaultName,
                resourceGroupName: u.resourceGroup,
                location: u.location,
                properties: {
                    tenantId,
                    sku: { family: "A", name: u.sku },
                    enableRbacAuthorization: true,
                    enableSoftDelete: true,
                    softDeleteRetentionInDays: 90,
                    // Once on, purge protection can never be turned off: a deleted key stays recoverable.
                    enablePurgeProtection: true,
                    enabledForDeployment: false,
                    enabledForDiskEncryption: false,
                    enabledForTemplateDeployment: false,
                    publicNetworkAccess: "Enabled",
                    networkAcls: {
                        defaultAction: u.network.defaultAction,
                        // ARM-side key operations (create, rotation policy) come through the Key Vault
                        // resource provider, a trusted service; data access still needs the role below.
                        bypass: "AzureServices",
                        ipRules: u.network.ipRules.map((value) => ({ value })),
                        virtualNetworkRules: u.network.subnetIds.map((id) => ({ id })),
                    },
                },
                tags,
            },
            { ...child, protect: true, retainOnDelete: true },
        );
        const key = new keyvault.Key(
            `${name}-kms-key`,
            {
                vaultName: vault.name,
                resourceGroupName: u.resourceGroup,
                keyName: u.keyName,
                properties: {
                    kty: u.sku === "premium" ? "RSA-HSM" : "RSA",
                    keySize: 4096,
                    keyOps: ["wrapKey", "unwrapKey"],
                    attributes: { enabled: true },
                    rotationPolicy: {
                        lifetimeActions: [
                            {
                                action: { type: "rotate" },
                                trigger: { timeAfterCreate: azureRotationTrigger(u.rotationDays) },
                            },
                        ],
                    },
                },
                tags,
            },
            // Losing the key loses every snapshot: never delete it from here, never replace it.
            { ...child, protect: true, retainOnDelete: true },
        );
        keyScope = key.id;
    }

    let principalId: pulumi.Output<string>;
    let identityRef: pulumi.Output<string>;
    let env: pulumi.Output<string[]>;
    if (u.identity === "managedIdentity") {
        const identity = new managedidentity.UserAssignedIdentity(
            `${name}-identity`,
            { resourceName: `${u.baseName}-unseal`, resourceGroupName: u.resourceGroup, location: u.location, tags },
            child,
        );
        principalId = identity.principalId;
        identityRef = identity.id;
        // AZURE_CLIENT_ID picks this identity when the VM has several; no secret exists.
        env = pulumi.secret(
            pulumi
                .all([tenantId, identity.clientId])
                .apply(([t, c]) => [`AZURE_TENANT_ID=${t}`, `AZURE_CLIENT_ID=${c}`]),
        );
    } else {
        const sp = u.servicePrincipal!;
        principalId = pulumi.output(sp.objectId);
        identityRef = pulumi.output(`servicePrincipal:${sp.objectId} (client ${sp.clientId})`);
        const secret = pulumi.secret(sp.clientSecret.reveal());
        env = pulumi.secret(
            pulumi
                .all([tenantId, secret])
                .apply(([t, s]) => [
                    `AZURE_TENANT_ID=${t}`,
                    `AZURE_CLIENT_ID=${sp.clientId}`,
                    `AZURE_CLIENT_SECRET=${s}`,
                ]),
        );
    }

    const assignment = new authorization.RoleAssignment(
        `${name}-key-role`,
        {
            scope: keyScope,
            roleDefinitionId: client.subscriptionId.apply(azureRoleDefinitionId),
            principalId,
            // Managed identities and app registrations are both service principals; saying so avoids
            // the replication-delay failure of a principal lookup right after creation.
            principalType: "ServicePrincipal",
            description: "Vault auto-unseal: read, wrap and unwrap this one key",
        },
        child,
    );

    return {
        stanza: tenantId.apply((t) => azureStanza(t, u.vaultName, u.keyName)),
        env,
        files: [],
        dependsOn: [assignment],
        keyId: keyScope,
        identity: identityRef,
    };
}
