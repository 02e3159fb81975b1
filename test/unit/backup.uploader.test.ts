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
    it("aws, hourly schedule: secrets from files, a round every 5 minutes", () => {
        assert.equal(
            renderUploaderScript(aws, 3600),
            [
                'RCLONE_CONFIG_SNAPSHOTS_ACCESS_KEY_ID="$(cat /etc/rclone/secrets/aws-access-key-id)"; export RCLONE_CONFIG_SNAPSHOTS_ACCESS_KEY_ID',
                'RCLONE_CONFIG_SNAPSHOTS_SECRET_ACCESS_KEY="$(cat /etc/rclone/secrets/aws-secret-access-key)"; export RCLONE_CONFIG_SNAPSHOTS_SECRET_ACCESS_KEY',
                "while :; do",
                "    rclone move /snapshots snapshots:snaps --config /etc/rclone/rclone.conf --include 'raft-snapshot-*.snap' --max-depth 1 --min-age 2m --ignore-existing --use-server-modtime --log-level INFO --stats-one-line || echo \"snapshot upload round failed (exit $?); files stay in /snapshots for the next round\" >&2",
                "    sleep 300",
                "done",
                "",
            ].join("\n"),
        );
    });

    it("gcp has no variable to load; a schedule shorter than 5 minutes sets the interval", () => {
        const script = renderUploaderScript(gcp, 120);
        assert.ok(script.startsWith("while :; do\n"));
        assert.match(script, /\n {4}sleep 120\n/);
    });

    it("uploadIntervalSeconds: the schedule, capped at 300 s, refuses nonsense", () => {
        assert.equal(uploadIntervalSeconds(86400), 300);
        assert.equal(uploadIntervalSeconds(300), 300);
        assert.equal(uploadIntervalSeconds(60), 60);
        assert.throws(() => uploadIntervalSeconds(0), /^Error: scheduleSeconds must be a whole number > 0, got 0$/);
    });
});
