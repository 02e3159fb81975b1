/**
 * Pure renderer of the snapshot agent's configuration file.
 *
 * Agent: Argelbargel/vault-raft-snapshot-agent (README "Configuration", testdata/complete.yaml,
 * internal/agent/vault/config.go, internal/agent/storage/{aws,azure,gcp,local}.go). It reads
 * JSON, YAML or TOML through viper; we render JSON (also valid YAML) so nothing hand-writes a
 * format. Secrets never appear here: every credential is a `file://` reference to a file uploaded
 * with mode 0400 (the agent's "external property sources"), and the CA comes through VAULT_CACERT.
 *
 * Unconfirmed: `vault.nodes.urls` + `vault.nodes.autoDetectLeader` are the keys of the agent's
 * newer releases (vault/config.go where `Nodes` is required; the Helm chart's values.yaml renders
 * them); older releases used `vault.url`. The pinned image (v0.12.0) is the newest release the
 * Helm index lists; the repository snapshot we read does not tie a release tag to config.go.
 */

export const AGENT_CONFIG_PATH = "/etc/vault.d/snapshots.json";
export const AGENT_SECRETS_DIR = "/etc/vault.d/secrets";
export const AGENT_CA_PATH = "/etc/vault.d/vault-ca.pem";
/** The image's entrypoint adds every file here to the system trust store (README "Add self-signed-certificates"). */
export const AGENT_TRUST_DIR = "/tmp/certs";
export const AGENT_LOCAL_PATH = "/snapshots";

export const SECRET_FILES = {
    roleId: `${AGENT_SECRETS_DIR}/approle-role-id`,
    secretId: `${AGENT_SECRETS_DIR}/approle-secret-id`,
    awsAccessKeyId: `${AGENT_SECRETS_DIR}/aws-access-key-id`,
    awsSecretAccessKey: `${AGENT_SECRETS_DIR}/aws-secret-access-key`,
    azureAccountKey: `${AGENT_SECRETS_DIR}/azure-account-key`,
    gcpCredentials: `${AGENT_SECRETS_DIR}/gcp-credentials.json`,
} as const;

export type AgentStorage =
    | { kind: "aws"; bucket: string; region: string }
    | { kind: "gcp"; bucket: string }
    | { kind: "azure"; accountName: string; container: string }
    | { kind: "local"; path: string };

export interface AgentConfigInput {
    /** Where the agent first connects; it follows /sys/leader to the active node from there. */
    vaultUrl: string;
    /** Mount of the AppRole auth method (without `auth/`). */
    approlePath: string;
    /** Go duration: `1h`, `24h`, `1h30m`. */
    frequency: string;
    /**
     * Snapshots the agent keeps (it deletes older ones). 0 = it never deletes, which is what a
     * write-once bucket needs: the writer has no delete permission and the lifecycle expires them.
     */
    retain: number;
    /** Snapshot timeout, Go duration. */
    timeout: string;
    storage: AgentStorage;
}

const file = (path: string) => `file://${path}`;

function storageSection(s: AgentStorage): Record<string, unknown> {
    switch (s.kind) {
        case "aws":
            // useServerSideEncryption would force SSE-S3 (AES256) on each PUT and override the
            // bucket's SSE-KMS default; leaving it false lets the bucket default apply.
            return {
                aws: {
                    bucket: s.bucket,
                    region: s.region,
                    accessKeyId: file(SECRET_FILES.awsAccessKeyId),
                    accessKey: file(SECRET_FILES.awsSecretAccessKey),
                    useServerSideEncryption: false,
                },
            };
        case "gcp":
            // The agent's GCS client uses Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS
            // names the uploaded key file (set in the container env, a path, not a secret).
            return { gcp: { bucket: s.bucket } };
        case "azure":
            // The agent authenticates to Blob Storage with a shared key only (storage/azure.go).
            return {
                azure: {
                    accountName: s.accountName,
                    accountKey: file(SECRET_FILES.azureAccountKey),
                    container: s.container,
                },
            };
        case "local":
            return { local: { path: s.path } };
    }
}

/** The agent's configuration file content (JSON), deterministic for equal input. */
export function renderAgentConfig(input: AgentConfigInput): string {
    if (!Number.isInteger(input.retain) || input.retain < 0)
        throw new Error(`retain must be a whole number ≥ 0, got ${input.retain}`);
    if (input.storage.kind !== "local" && input.retain !== 0)
        throw new Error(
            "a write-once bucket needs retain 0: the writer cannot delete, the bucket lifecycle expires snapshots",
        );
    const doc = {
        vault: {
            nodes: { urls: [input.vaultUrl], autoDetectLeader: true },
            timeout: input.timeout,
            auth: {
                approle: {
                    path: input.approlePath,
                    role: file(SECRET_FILES.roleId),
                    secret: file(SECRET_FILES.secretId),
                },
            },
        },
        snapshots: {
            frequency: input.frequency,
            retain: input.retain,
            timeout: input.timeout,
            namePrefix: "raft-snapshot-",
            nameSuffix: ".snap",
            storages: storageSection(input.storage),
        },
    };
    return JSON.stringify(doc, null, 2) + "\n";
}

/**
 * Snapshots to keep on the local volume so that the newest `retentionDays` are covered: the agent
 * counts snapshots, not days.
 */
export function localRetainCount(retentionDays: number, scheduleSeconds: number): number {
    return Math.max(1, Math.ceil((retentionDays * 86400) / scheduleSeconds));
}
