/**
 * Pure renderer of the snapshot agent's configuration file.
 *
 * Agent: Argelbargel/vault-raft-snapshot-agent (README "Configuration", testdata/complete.yaml,
 * internal/agent/vault/config.go, internal/agent/storage/local.go). It reads
 * JSON, YAML or TOML through viper; we render JSON (also valid YAML) so nothing hand-writes a
 * format. Secrets never appear here: every credential is a `file://` reference to a file uploaded
 * with mode 0400 (the agent's "external property sources"), and the CA comes through VAULT_CACERT.
 *
 * Vault addresses: `vault.nodes.urls` lists every node and `vault.nodes.autoDetectLeader` lets the
 * agent follow /sys/leader to the active one (v0.12.0 internal/agent/vault/{config,client}.go:
 * connectToLeader tries each URL in turn), so a snapshot is taken while any node is up.
 *
 * Storage: always the agent's `local` storage. On aws, gcp and azure that is a spool volume shared
 * with the uploader (uploaderConfig.ts), which moves each snapshot into the write-once bucket: the
 * agent's own S3 client (aws-sdk-go-v2 s3 v1.58.3) sends no Content-MD5, which an Object Lock
 * bucket requires. On the local stack it is the backup volume itself.
 */

export const AGENT_CONFIG_PATH = "/etc/vault.d/snapshots.json";
export const AGENT_SECRETS_DIR = "/etc/vault.d/secrets";
export const AGENT_CA_PATH = "/etc/vault.d/vault-ca.pem";
/** The image's entrypoint adds every file here to the system trust store (README "Add self-signed-certificates"). */
export const AGENT_TRUST_DIR = "/tmp/certs";
/** The agent's `local` storage: the spool (aws, gcp, azure) or the backup volume (local). */
export const AGENT_LOCAL_PATH = "/snapshots";

export const SECRET_FILES = {
    roleId: `${AGENT_SECRETS_DIR}/approle-role-id`,
    secretId: `${AGENT_SECRETS_DIR}/approle-secret-id`,
} as const;

export interface AgentConfigInput {
    /** Every node's API address; the agent tries them in turn and follows /sys/leader to the active one. */
    vaultUrls: string[];
    /** Mount of the AppRole auth method (without `auth/`). */
    approlePath: string;
    /** Go duration: `1h`, `24h`, `1h30m`. */
    frequency: string;
    /**
     * Snapshots the agent keeps in its local storage (it deletes older ones). 0 = it never deletes:
     * on a spool, only the uploader removes a snapshot, and only once it is in the bucket.
     */
    retain: number;
    /** Snapshot timeout, Go duration. */
    timeout: string;
    /** Directory of the agent's local storage. */
    path: string;
}

const file = (path: string) => `file://${path}`;

/** The agent's configuration file content (JSON), deterministic for equal input. */
export function renderAgentConfig(input: AgentConfigInput): string {
    if (!Number.isInteger(input.retain) || input.retain < 0)
        throw new Error(`retain must be a whole number ≥ 0, got ${input.retain}`);
    if (input.vaultUrls.length === 0) throw new Error("vaultUrls must list at least one node");
    const doc = {
        vault: {
            nodes: { urls: input.vaultUrls, autoDetectLeader: true },
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
            storages: { local: { path: input.path } },
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
