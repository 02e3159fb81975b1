/**
 * Pure renderers of the snapshot uploader: an rclone sidecar that moves each snapshot the agent
 * wrote to the shared spool volume into the write-once bucket.
 *
 * Why not the agent's own upload: S3 refuses a PutObject (and every UploadPart) into a bucket with
 * default Object Lock retention unless it carries Content-MD5 or an x-amz-checksum-* header, and
 * vault-raft-snapshot-agent v0.12.0 (also v0.12.5) uploads with aws-sdk-go-v2 service/s3 v1.58.3 and
 * feature/s3/manager v1.17.10, which send neither. rclone v1.76.0 (backend/s3/s3.go) sets
 * Content-MD5 on a single PutObject whenever the source's MD5 is known (the local backend always
 * knows it; `disable_checksum` only affects multipart), and on every UploadPart unconditionally.
 *
 * Secrets never appear here: the config file holds settings only, and the credentials reach rclone
 * as RCLONE_CONFIG_<REMOTE>_<OPTION> variables that the container's script reads from 0400 files
 * (rclone docs "Config file" / "Precedence": such a variable beats the config file).
 */

/** The remote's name in rclone.conf; upper-cased in RCLONE_CONFIG_SNAPSHOTS_* variables. */
export const UPLOADER_REMOTE = "snapshots";
export const UPLOADER_CONFIG_PATH = "/etc/rclone/rclone.conf";
export const UPLOADER_SECRETS_DIR = "/etc/rclone/secrets";
/** The agent writes here (its `local` storage) and the uploader moves from here: one shared volume. */
export const SPOOL_PATH = "/snapshots";
/** The agent's file names (agentConfig.ts namePrefix/nameSuffix); nothing else is ever uploaded. */
export const SNAPSHOT_GLOB = "raft-snapshot-*.snap";
/**
 * The agent writes a snapshot into the spool with os.Create + io.Copy from its temp file
 * (storage/local.go), so a file younger than this may still be growing. A local copy of even a
 * large Raft snapshot takes seconds.
 */
export const SPOOL_MIN_AGE_SECONDS = 120;
export const SPOOL_MIN_AGE = `${SPOOL_MIN_AGE_SECONDS / 60}m`;
/** The uploader checks the spool at least this often, so a snapshot waits minutes, not a whole interval. */
export const MAX_UPLOAD_INTERVAL_SECONDS = 300;

/**
 * S3 sizes. Above UPLOAD_CUTOFF rclone uploads in CHUNK_SIZE parts (each with its own
 * Content-MD5, plus the whole file's MD5 in X-Amz-Meta-Md5chksum); it buffers
 * UPLOAD_CONCURRENCY chunks in memory, well under the container's limit.
 */
export const S3_UPLOAD_CUTOFF = "64Mi";
export const S3_CHUNK_SIZE = "16Mi";
export const S3_UPLOAD_CONCURRENCY = 4;

export const UPLOADER_SECRET_FILES = {
    awsAccessKeyId: `${UPLOADER_SECRETS_DIR}/aws-access-key-id`,
    awsSecretAccessKey: `${UPLOADER_SECRETS_DIR}/aws-secret-access-key`,
    azureAccountKey: `${UPLOADER_SECRETS_DIR}/azure-account-key`,
    gcpCredentials: `${UPLOADER_SECRETS_DIR}/gcp-credentials.json`,
} as const;

/** Where the uploader puts snapshots, per cloud (plain data, no secret). */
export type UploadTarget =
    | { kind: "aws"; bucket: string; region: string; kmsKeyArn: string }
    | { kind: "gcp"; bucket: string }
    | { kind: "azure"; accountName: string; container: string };

function remoteOptions(t: UploadTarget): [string, string | number | boolean][] {
    switch (t.kind) {
        case "aws":
            return [
                ["type", "s3"],
                ["provider", "AWS"],
                // Credentials come from RCLONE_CONFIG_SNAPSHOTS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY only.
                ["env_auth", false],
                ["region", t.region],
                // The bucket default is SSE-KMS under this key. Naming it makes rclone treat the
                // ETag as not an MD5 (s3.go etagIsNotMD5) instead of reporting every upload as
                // corrupted; without the key id S3 would use the aws/s3 key instead.
                ["server_side_encryption", "aws:kms"],
                ["sse_kms_key_id", t.kmsKeyArn],
                // The writer may not create buckets or read objects back (no s3:GetObject): skip
                // the bucket check and the HEAD after upload. Integrity is S3's Content-MD5 check.
                ["no_check_bucket", true],
                ["no_head", true],
                ["upload_cutoff", S3_UPLOAD_CUTOFF],
                ["chunk_size", S3_CHUNK_SIZE],
                ["upload_concurrency", S3_UPLOAD_CONCURRENCY],
                // Never turn off the MD5 rclone computes (Content-MD5 and multipart metadata).
                ["disable_checksum", false],
                // rclone's AWS default (provider/AWS.yaml quirks), pinned so that a change of rclone's
                // defaults cannot change the requests test/s3 recorded: over HTTPS, every PutObject
                // and UploadPart with Content-MD5 and an UNSIGNED-PAYLOAD signature (no body seek).
                ["use_data_integrity_protections", true],
            ];
        case "gcp":
            return [
                ["type", "google cloud storage"],
                ["service_account_file", UPLOADER_SECRET_FILES.gcpCredentials],
                // Uniform bucket-level access: object ACLs must not be sent.
                ["bucket_policy_only", true],
                ["no_check_bucket", true],
            ];
        case "azure":
            return [
                ["type", "azureblob"],
                ["account", t.accountName],
                // The shared key comes from RCLONE_CONFIG_SNAPSHOTS_KEY only.
                ["env_auth", false],
                ["no_check_container", true],
                ["disable_checksum", false],
            ];
    }
}

/** rclone.conf for the uploader: settings only, no credential. Deterministic for equal input. */
export function renderRcloneConfig(t: UploadTarget, remote = UPLOADER_REMOTE): string {
    const lines = remoteOptions(t).map(([k, v]) => `${k} = ${String(v)}`);
    return [`[${remote}]`, ...lines, ""].join("\n");
}

/** Environment variable rclone reads → the 0400 file inside the container its value comes from. */
export function uploaderSecretEnv(t: UploadTarget, remote = UPLOADER_REMOTE): Record<string, string> {
    const prefix = `RCLONE_CONFIG_${remote.toUpperCase()}_`;
    switch (t.kind) {
        case "aws":
            return {
                [`${prefix}ACCESS_KEY_ID`]: UPLOADER_SECRET_FILES.awsAccessKeyId,
                [`${prefix}SECRET_ACCESS_KEY`]: UPLOADER_SECRET_FILES.awsSecretAccessKey,
            };
        case "gcp":
            // rclone reads the key file itself (service_account_file).
            return {};
        case "azure":
            return { [`${prefix}KEY`]: UPLOADER_SECRET_FILES.azureAccountKey };
    }
}

/** `snapshots:<bucket>` or `snapshots:<container>`. */
export function uploadDestination(t: UploadTarget): string {
    return `${UPLOADER_REMOTE}:${t.kind === "azure" ? t.container : t.bucket}`;
}

/**
 * One upload round: `rclone move`, which copies each snapshot, checks it (size, and MD5 where the
 * destination reports one), and only then deletes the local file. It never deletes anything on the
 * remote (that is `sync`). `--ignore-existing`: a name already in the bucket is never written
 * again (no second version of a locked object) and its local file is kept for a person to look at.
 */
export function rcloneMoveArgs(t: UploadTarget, source = SPOOL_PATH, configPath = UPLOADER_CONFIG_PATH): string[] {
    return [
        "move",
        source,
        uploadDestination(t),
        "--config",
        configPath,
        "--include",
        SNAPSHOT_GLOB,
        "--max-depth",
        "1",
        "--min-age",
        SPOOL_MIN_AGE,
        "--ignore-existing",
        // Modification times from the bucket listing: without it rclone HEADs every object to
        // read its mtime metadata, which the writer may not (no s3:GetObject).
        "--use-server-modtime",
        "--log-level",
        "INFO",
        "--stats-one-line",
    ];
}

/** Seconds between upload rounds: the backup schedule, but at most MAX_UPLOAD_INTERVAL_SECONDS. */
export function uploadIntervalSeconds(scheduleSeconds: number): number {
    if (!Number.isInteger(scheduleSeconds) || scheduleSeconds <= 0)
        throw new Error(`scheduleSeconds must be a whole number > 0, got ${scheduleSeconds}`);
    return Math.min(scheduleSeconds, MAX_UPLOAD_INTERVAL_SECONDS);
}

export const shellQuote = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Where the uploader writes its confirmation log: its own small volume, which node 0's mtail reads. */
export const UPLOAD_LOG_DIR = "/var/log/snapshot-uploader";
/** The confirmation log's file name (VaultBackupStale's signal on aws, gcp and azure). */
export const UPLOAD_LOG_NAME = "snapshot-uploader.log";
/** Above this the confirmation log is renamed to `.1` (one old copy; about 2 000 lines). */
export const UPLOAD_LOG_MAX_BYTES = 262144;

/** A script word: a `$VARIABLE` in double quotes (expanded), anything else quoted literally. */
const scriptWord = (s: string) => (/^\$[A-Z_]+$/.test(s) ? `"${s}"` : shellQuote(s));

/**
 * The container's script (`/bin/sh -c <script>`): load the credentials from their 0400 files into
 * rclone's environment (never on a command line, never in `docker inspect`), then one round per
 * interval forever. A failed round leaves the files in the spool for the next one.
 *
 * The confirmation log (VaultBackupStale's signal), one line per snapshot that left the spool:
 *
 *   <unix seconds> uploaded <file name> <bytes> <destination>
 *
 * Before each round the script lists the finished-looking snapshots with their sizes; after
 * `rclone move` every listed file that is gone was uploaded. Nothing else removes a file from the
 * spool (the agent's retention is 0 on a spool), and rclone removes one only after its upload
 * succeeded: S3 answered the PutObject (or CompleteMultipartUpload) whose Content-MD5 it checked,
 * GCS and Azure the upload rclone then compared (size, and MD5 where the store reports one). A file
 * skipped by `--ignore-existing` stays (rclone v1.76.0 fs/sync/sync.go: "Not removing source file
 * as destination file exists and --ignore-existing is set"), so it is never counted. A round that
 * failed part-way still records the files it did upload. A line is written after the round, so
 * its time is no earlier than the upload. mtail (node 0's, bundled) turns the last line into
 * bonito_backup_last_upload_timestamp_seconds. The log lives on its own volume, not in the spool:
 * mtail may read it and nothing else, and the agent's folder is left as the agent made it.
 *
 * Paths come from variables with the container's paths as defaults (BONITO_SPOOL_DIR,
 * BONITO_SECRETS_DIR, BONITO_UPLOAD_LOG, RCLONE_CONFIG), so the S3 tier runs this exact text
 * against a real S3 server with temporary folders.
 */
export function renderUploaderScript(t: UploadTarget, scheduleSeconds: number): string {
    const interval = uploadIntervalSeconds(scheduleSeconds);
    const exports = Object.entries(uploaderSecretEnv(t)).map(
        ([name, file]) => `${name}="$(cat "$SECRETS_DIR/${file.split("/").pop()!}")"; export ${name}`,
    );
    const move = ["rclone", ...rcloneMoveArgs(t, "$SPOOL", "$RCLONE_CONFIG")].map(scriptWord).join(" ");
    return [
        "set -u",
        `SPOOL="\${BONITO_SPOOL_DIR:-${SPOOL_PATH}}"`,
        `SECRETS_DIR="\${BONITO_SECRETS_DIR:-${UPLOADER_SECRETS_DIR}}"`,
        `RCLONE_CONFIG="\${RCLONE_CONFIG:-${UPLOADER_CONFIG_PATH}}"; export RCLONE_CONFIG`,
        `LOG="\${BONITO_UPLOAD_LOG:-${UPLOAD_LOG_DIR}/${UPLOAD_LOG_NAME}}"`,
        ...exports,
        `DEST=${shellQuote(uploadDestination(t))}`,
        `INTERVAL=${interval}`,
        "# Exists from the start, readable by mtail (another user), before the first line.",
        'umask 022; : >> "$LOG" || echo "snapshot-uploader: cannot create $LOG" >&2',
        "while :; do",
        `  if [ "$(stat -c %s "$LOG" 2>/dev/null || echo 0)" -gt ${UPLOAD_LOG_MAX_BYTES} ]; then mv -f "$LOG" "$LOG.1"; : >> "$LOG"; fi`,
        "  # The snapshots waiting now, with their sizes (a name never holds a space: raft-snapshot-<time>.snap).",
        `  waiting=$(cd "$SPOOL" && for f in ${SNAPSHOT_GLOB}; do [ -f "$f" ] && echo "$f $(stat -c %s "$f")"; done)`,
        `  ${move}`,
        "  rc=$?",
        "  # Every listed file that is gone was uploaded: record it (VaultBackupStale's signal).",
        '  printf "%s\\n" "$waiting" | while read -r name size; do',
        '    [ -n "$name" ] && [ ! -e "$SPOOL/$name" ] || continue',
        '    echo "$(date +%s) uploaded $name $size $DEST" >> "$LOG" || echo "snapshot-uploader: cannot append to $LOG" >&2',
        "  done",
        `  [ "$rc" -eq 0 ] || echo "snapshot-uploader: round failed (rclone exit $rc); files stay in $SPOOL for the next round" >&2`,
        '  sleep "$INTERVAL"',
        "done",
        "",
    ].join("\n");
}
