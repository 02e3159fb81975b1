/**
 * The snapshot uploader's rendered artefacts per cloud, exactly: rclone.conf, the secret variables
 * and the files they come from, the `rclone move` arguments and the container script.
 * Proves: the settings that make every S3 upload carry Content-MD5 (checksums never disabled,
 * SSE-KMS named so rclone does not mistake the ETag for an MD5, no HEAD or bucket check the writer
 * may not do), that nothing is ever deleted remotely (`move`, never `sync`), that no credential
 * value is in the config, the arguments or the script (only file paths), and the interval.
 * Does not prove: that rclone sends Content-MD5 with this config (test/s3 runs the real binary
 * against a real S3 server) nor that AWS, GCS or Azure accept the credentials.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    rcloneMoveArgs,
    renderRcloneConfig,
    renderUploaderScript,
    uploaderSecretEnv,
    uploadIntervalSeconds,
    type UploadTarget,
} from "../../components/backup/uploaderConfig";

const aws: UploadTarget = {
    kind: "aws",
    bucket: "snaps",
    region: "eu-west-1",
    kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k",
};
const gcp: UploadTarget = { kind: "gcp", bucket: "snaps" };
const azure: UploadTarget = { kind: "azure", accountName: "bonitosnaps", container: "snapshots" };

describe("renderRcloneConfig", () => {
    it("aws: S3 with MD5 on, SSE-KMS under the bucket key, no bucket check, no HEAD, 64Mi cutoff", () => {
        assert.equal(
            renderRcloneConfig(aws),
            [
                "[snapshots]",
                "type = s3",
                "provider = AWS",
                "env_auth = false",
                "region = eu-west-1",
                "server_side_encryption = aws:kms",
                "sse_kms_key_id = arn:aws:kms:eu-west-1:123456789012:key/k",
                "no_check_bucket = true",
                "no_head = true",
                "upload_cutoff = 64Mi",
                "chunk_size = 16Mi",
                "upload_concurrency = 4",
                "disable_checksum = false",
                "use_data_integrity_protections = true",
                "",
            ].join("\n"),
        );
    });

    it("gcp: key file path, uniform bucket-level access, no bucket check", () => {
        assert.equal(
            renderRcloneConfig(gcp),
            [
                "[snapshots]",
                "type = google cloud storage",
                "service_account_file = /etc/rclone/secrets/gcp-credentials.json",
                "bucket_policy_only = true",
                "no_check_bucket = true",
                "",
            ].join("\n"),
        );
    });

    it("azure: account name only, no container check, MD5 on", () => {
        assert.equal(
            renderRcloneConfig(azure),
            [
                "[snapshots]",
                "type = azureblob",
                "account = bonitosnaps",
                "env_auth = false",
                "no_check_container = true",
                "disable_checksum = false",
                "",
            ].join("\n"),
        );
    });

    it("never names a credential option", () => {
        for (const t of [aws, gcp, azure])
            assert.doesNotMatch(renderRcloneConfig(t), /^(access_key_id|secret_access_key|key|sas_url)\s*=/m);
    });
});

describe("uploaderSecretEnv", () => {
    it("maps each RCLONE_CONFIG_SNAPSHOTS_* variable to its 0400 file", () => {
        assert.deepStrictEqual(uploaderSecretEnv(aws), {
            RCLONE_CONFIG_SNAPSHOTS_ACCESS_KEY_ID: "/etc/rclone/secrets/aws-access-key-id",
            RCLONE_CONFIG_SNAPSHOTS_SECRET_ACCESS_KEY: "/etc/rclone/secrets/aws-secret-access-key",
        });
        assert.deepStrictEqual(uploaderSecretEnv(gcp), {});
        assert.deepStrictEqual(uploaderSecretEnv(azure), {
            RCLONE_CONFIG_SNAPSHOTS_KEY: "/etc/rclone/secrets/azure-account-key",
        });
    });
});

describe("rcloneMoveArgs", () => {
    it("moves only the agent's finished snapshots from the spool; never sync, never overwrite", () => {
        const expected = (dest: string) => [
            "move",
            "/snapshots",
            dest,
            "--config",
            "/etc/rclone/rclone.conf",
            "--include",
            "raft-snapshot-*.snap",
            "--max-depth",
            "1",
            "--min-age",
            "2m",
            "--ignore-existing",
            "--use-server-modtime",
            "--log-level",
            "INFO",
            "--stats-one-line",
        ];
        assert.deepStrictEqual(rcloneMoveArgs(aws), expected("snapshots:snaps"));
        assert.deepStrictEqual(rcloneMoveArgs(gcp), expected("snapshots:snaps"));
        assert.deepStrictEqual(rcloneMoveArgs(azure), expected("snapshots:snapshots"));
        for (const t of [aws, gcp, azure]) {
            const args = rcloneMoveArgs(t);
            assert.ok(!args.includes("sync") && !args.some((a) => a.startsWith("--delete")));
        }
    });
});

describe("renderUploaderScript", () => {
    it("aws, hourly schedule: secrets from files, a round every 5 minutes, a line per upload", () => {
        assert.equal(
            renderUploaderScript(aws, 3600),
            [
                "set -u",
                'SPOOL="${BONITO_SPOOL_DIR:-/snapshots}"',
                'SECRETS_DIR="${BONITO_SECRETS_DIR:-/etc/rclone/secrets}"',
                'RCLONE_CONFIG="${RCLONE_CONFIG:-/etc/rclone/rclone.conf}"; export RCLONE_CONFIG',
                'LOG="${BONITO_UPLOAD_LOG:-/var/log/snapshot-uploader/snapshot-uploader.log}"',
                'RCLONE_CONFIG_SNAPSHOTS_ACCESS_KEY_ID="$(cat "$SECRETS_DIR/aws-access-key-id")"; export RCLONE_CONFIG_SNAPSHOTS_ACCESS_KEY_ID',
                'RCLONE_CONFIG_SNAPSHOTS_SECRET_ACCESS_KEY="$(cat "$SECRETS_DIR/aws-secret-access-key")"; export RCLONE_CONFIG_SNAPSHOTS_SECRET_ACCESS_KEY',
                "DEST=snapshots:snaps",
                "INTERVAL=300",
                "# Exists from the start, readable by mtail (another user), before the first line.",
                'umask 022; : >> "$LOG" || echo "snapshot-uploader: cannot create $LOG" >&2',
                "while :; do",
                '  if [ "$(stat -c %s "$LOG" 2>/dev/null || echo 0)" -gt 262144 ]; then mv -f "$LOG" "$LOG.1"; : >> "$LOG"; fi',
                "  # The snapshots waiting now, with their sizes (a name never holds a space: raft-snapshot-<time>.snap).",
                '  waiting=$(cd "$SPOOL" && for f in raft-snapshot-*.snap; do [ -f "$f" ] && echo "$f $(stat -c %s "$f")"; done)',
                '  rclone move "$SPOOL" snapshots:snaps --config "$RCLONE_CONFIG" --include \'raft-snapshot-*.snap\' --max-depth 1 --min-age 2m --ignore-existing --use-server-modtime --log-level INFO --stats-one-line',
                "  rc=$?",
                "  # Every listed file that is gone was uploaded: record it (VaultBackupStale's signal).",
                '  printf "%s\\n" "$waiting" | while read -r name size; do',
                '    [ -n "$name" ] && [ ! -e "$SPOOL/$name" ] || continue',
                '    echo "$(date +%s) uploaded $name $size $DEST" >> "$LOG" || echo "snapshot-uploader: cannot append to $LOG" >&2',
                "  done",
                '  [ "$rc" -eq 0 ] || echo "snapshot-uploader: round failed (rclone exit $rc); files stay in $SPOOL for the next round" >&2',
                '  sleep "$INTERVAL"',
                "done",
                "",
            ].join("\n"),
        );
    });

    it("gcp has no variable to load; a schedule shorter than 5 minutes sets the interval", () => {
        const script = renderUploaderScript(gcp, 120);
        assert.doesNotMatch(script, /RCLONE_CONFIG_SNAPSHOTS_/);
        assert.match(script, /\nINTERVAL=120\n/);
    });

    it("uploadIntervalSeconds: the schedule, capped at 300 s, refuses nonsense", () => {
        assert.equal(uploadIntervalSeconds(86400), 300);
        assert.equal(uploadIntervalSeconds(300), 300);
        assert.equal(uploadIntervalSeconds(60), 60);
        assert.throws(() => uploadIntervalSeconds(0), /^Error: scheduleSeconds must be a whole number > 0, got 0$/);
    });
});
