/** Azure built-in role definition ids (the GUID at the end of roleDefinitionId). */
export const AZURE_ROLES = {
    owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
    userAccessAdministrator: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    keyVaultAdministrator: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    keyVaultCryptoOfficer: "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    keyVaultCryptoUser: "12338af0-0e69-4776-bea7-57ae8d297424",
    keyVaultCryptoServiceEncryptionUser: "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    storageAccountContributor: "17d1049b-9a84-46fb-8f53-869881c3d3ab",
} as const;

export const ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment";
export const ROLE_DEFINITION = "azure-native:authorization:RoleDefinition";

export function roleGuid(roleDefinitionId: string): string {
    return (roleDefinitionId.split("/").pop() ?? "").toLowerCase();
}
