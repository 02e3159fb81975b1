/** Every rule of the pack, in the order docs/policy-pack.md lists them. Safe to import (starts nothing). */
import type { Policies } from "@pulumi/policy";
import { awsIamPolicyNoWildcards } from "./aws-iam-policy-no-wildcards";
import { awsIamUnsealLeastPrivilege } from "./aws-iam-unseal-least-privilege";
import { awsKmsKeyRotation } from "./aws-kms-key-rotation";
import { azureKeyVaultPurgeProtection } from "./azure-keyvault-purge-protection";
import { azureKeyVaultRoleUnsealLeastPrivilege } from "./azure-keyvault-role-unseal-least-privilege";
import { backupBucketNoPublicAccess } from "./backup-bucket-no-public-access";
import { backupBucketTlsOnly } from "./backup-bucket-tls-only";
import { backupBucketVersioning } from "./backup-bucket-versioning";
import { backupBucketWorm } from "./backup-bucket-worm";
import { backupWriterNoDelete } from "./backup-writer-no-delete";
import { containerNoCredentialsOnCommandLine } from "./container-no-credentials-on-command-line";
import { containerSecretsMarkedSecret } from "./container-secrets-marked-secret";
import { gcpKmsCryptoKeyRotation } from "./gcp-kms-cryptokey-rotation";
import { gcpKmsIamUnsealLeastPrivilege } from "./gcp-kms-iam-unseal-least-privilege";
import { vaultAppRoleTokenTtl } from "./vault-approle-token-ttl";
import { vaultAuditDevicesRedundant } from "./vault-audit-devices-redundant";
import { vaultAuditNoLogRaw } from "./vault-audit-no-log-raw";
import { vaultAuditShipped } from "./vault-audit-shipped";
import { vaultContainerCoreDumpsDisabled } from "./vault-container-core-dumps-disabled";
import { vaultContainerImagePinned } from "./vault-container-image-pinned";
import { vaultContainerIpcLock } from "./vault-container-ipc-lock";
import { vaultContainerNoDevMode } from "./vault-container-no-dev-mode";
import { vaultListenerMtlsProd } from "./vault-listener-mtls-prod";
import { vaultListenerTlsMinVersion } from "./vault-listener-tls-min-version";
import { vaultListenerTlsRequired } from "./vault-listener-tls-required";
import { vaultPolicyBackendLeastPrivilege } from "./vault-policy-backend-least-privilege";
import { vaultRaftNodeCount } from "./vault-raft-node-count";
import { vaultSealAutoUnseal } from "./vault-seal-auto-unseal";
import { vaultSealNoInlineCredentials } from "./vault-seal-no-inline-credentials";
import { vaultVolumeDataProtected } from "./vault-volume-data-protected";
import { awsKmsKeyPolicyLeastPrivilege } from "./aws-kms-key-policy-least-privilege";
import { backupBucketDestroyProtected } from "./backup-bucket-destroy-protected";
import { backupBucketKmsEncryption } from "./backup-bucket-kms-encryption";
import { containerSecurityLeastPrivilege } from "./container-security-least-privilege";
import { containerRoleLabelled } from "./container-role-labelled";
import { kmsKeyDeletionProtected } from "./kms-key-deletion-protected";
import { vaultAppRoleSecretIdRequired } from "./vault-approle-secret-id-required";
import { vaultConfigNoUnsafeOptions } from "./vault-config-no-unsafe-options";
import { vaultContainerSwapDisabled } from "./vault-container-swap-disabled";
import { vaultPolicySnapshotAgentLeastPrivilege } from "./vault-policy-snapshot-agent-least-privilege";
import { vaultEntryPointClientAllowList } from "./vault-entry-point-client-allow-list";
import { vaultEntryPointHealthChecked } from "./vault-entry-point-health-checked";
import { vaultEntryPointTlsPassthrough } from "./vault-entry-point-tls-passthrough";
import { vaultPolicyMetricsLeastPrivilege } from "./vault-policy-metrics-least-privilege";
import { vaultPolicyMigrationLeastPrivilege } from "./vault-policy-migration-least-privilege";
import { vaultPolicyRollingLeastPrivilege } from "./vault-policy-rolling-least-privilege";
import { monitoringAlertingPath } from "./monitoring-alerting-path";
import { vaultTokenRoleMetricsLeastPrivilege } from "./vault-tokenrole-metrics-least-privilege";
import { vaultHandoverAdminLeastPrivilege } from "./vault-handover-admin-least-privilege";
import { backupSidecarDestinationDeclared } from "./backup-sidecar-destination-declared";
import { backupBucketLifecycleRetention } from "./backup-bucket-lifecycle-retention";
import { vaultAuditDeviceOptions } from "./vault-audit-device-options";
import { containerVaultClientTlsVerified } from "./container-vault-client-tls-verified";
import { tlsCertificateLimits } from "./tls-certificate-limits";
import { vaultListenerTlsCipherSuites } from "./vault-listener-tls-cipher-suites";
import { containerRuntimeHardened } from "./container-runtime-hardened";
import { vaultSettingsHardened } from "./vault-settings-hardened";

export const POLICIES: Policies = [
    vaultContainerNoDevMode,
    vaultContainerImagePinned,
    vaultContainerIpcLock,
    vaultContainerCoreDumpsDisabled,
    vaultContainerSwapDisabled,
    containerSecurityLeastPrivilege,
    containerRoleLabelled,
    containerRuntimeHardened,
    containerVaultClientTlsVerified,
    vaultConfigNoUnsafeOptions,
    vaultSettingsHardened,
    vaultListenerTlsRequired,
    vaultListenerTlsMinVersion,
    vaultListenerTlsCipherSuites,
    tlsCertificateLimits,
    vaultListenerMtlsProd,
    vaultRaftNodeCount,
    vaultEntryPointHealthChecked,
    vaultEntryPointClientAllowList,
    vaultEntryPointTlsPassthrough,
    vaultVolumeDataProtected,
    vaultSealAutoUnseal,
    vaultSealNoInlineCredentials,
    vaultAuditDevicesRedundant,
    vaultAuditNoLogRaw,
    vaultAuditDeviceOptions,
    vaultAuditShipped,
    awsKmsKeyRotation,
    gcpKmsCryptoKeyRotation,
    azureKeyVaultPurgeProtection,
    kmsKeyDeletionProtected,
    awsKmsKeyPolicyLeastPrivilege,
    awsIamUnsealLeastPrivilege,
    awsIamPolicyNoWildcards,
    gcpKmsIamUnsealLeastPrivilege,
    azureKeyVaultRoleUnsealLeastPrivilege,
    backupBucketVersioning,
    backupBucketWorm,
    backupBucketNoPublicAccess,
    backupBucketTlsOnly,
    backupBucketKmsEncryption,
    backupBucketDestroyProtected,
    backupWriterNoDelete,
    backupBucketLifecycleRetention,
    backupSidecarDestinationDeclared,
    vaultAppRoleTokenTtl,
    vaultAppRoleSecretIdRequired,
    vaultHandoverAdminLeastPrivilege,
    vaultTokenRoleMetricsLeastPrivilege,
    vaultPolicyBackendLeastPrivilege,
    vaultPolicySnapshotAgentLeastPrivilege,
    vaultPolicyMetricsLeastPrivilege,
    vaultPolicyMigrationLeastPrivilege,
    vaultPolicyRollingLeastPrivilege,
    monitoringAlertingPath,
    containerNoCredentialsOnCommandLine,
    containerSecretsMarkedSecret,
];
