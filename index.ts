// bonito-vault: a production-hardened Vault for Bonito. See README.md.
import { buildProgram } from "./program";

const { outputs } = buildProgram();

export const vaultAddr = outputs.vaultAddr;
/** The way in: kind, name, what answers it, its health check, targets and pending steps. */
export const entryPoint = outputs.entryPoint;
export const nodeApiAddrs = outputs.nodeApiAddrs;
export const caCert = outputs.caCert;
export const nodeNames = outputs.nodeNames;
export const image = outputs.image;
/** The image this stack deployed after its checks: prod's promotion gate reads it from staging. */
export const verifiedImage = outputs.verifiedImage;
export const verifiedCommit = outputs.verifiedCommit;
export const engine = outputs.engine;
export const cloud = outputs.cloud;
export const sealType = outputs.sealType;
export const unsealKeyId = outputs.unsealKeyId;
export const unsealIdentity = outputs.unsealIdentity;
/** Steps on the Docker hosts that Pulumi cannot take (aws role: attach the instance profile, IMDSv2 hop limit 2). */
export const unsealHostSteps = outputs.unsealHostSteps;
export const kvMount = outputs.kvMount;
/** Secret. `pulumi stack output backendEnv --show-secrets` (README shows the dotenv form). */
export const backendEnv = outputs.backendEnv;
/** Secret, while migrationWindow is set: what `npm run migrate -- --target-login-file` reads. */
export const migrationLogin = outputs.migrationLogin;
/** Secret. */
export const recoveryKeys = outputs.recoveryKeys;
export const backupBucket = outputs.backupBucket;
/** bundled or external; with external, point your Prometheus at the next four (docs/monitoring.md). */
export const monitoring = outputs.monitoring;
export const monitoringScrapeConfig = outputs.monitoringScrapeConfig;
export const monitoringAlertRules = outputs.monitoringAlertRules;
export const monitoringMtailProgram = outputs.monitoringMtailProgram;
/** Secret: the token Prometheus reads sys/metrics with. */
export const monitoringMetricsLogin = outputs.monitoringMetricsLogin;
/** Secret: user `bonito`'s password for the bundled Alertmanager ("" with external). */
export const monitoringAlertmanagerPassword = outputs.monitoringAlertmanagerPassword;
export const backupWriter = outputs.backupWriter;
export const backupRetentionDays = outputs.backupRetentionDays;
export const backupSchedule = outputs.backupSchedule;
export const backupPendingSteps = outputs.backupPendingSteps;
export const auditArchive = outputs.auditArchive;
export const auditArchiveWriter = outputs.auditArchiveWriter;
export const auditShipMaxDelayMinutes = outputs.auditShipMaxDelayMinutes;
export const auditArchivePendingSteps = outputs.auditArchivePendingSteps;
