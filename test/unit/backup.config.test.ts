/**
 * Backup keys through loadConfig: defaults per stack and the exact refusal messages.
 * Proves: what BackupConfig a stack gets and which inputs are refused, before any resource exists.
 * Does not prove: that a cloud accepts the resulting bucket settings (mocks and the cloud do).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../components/config";
import { DEFAULT_AGENT_IMAGE, DEFAULT_UPLOADER_IMAGE, scheduleSeconds } from "../../components/config/backup";

const base = {
    "bonito-vault:cloud": "aws",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    "bonito-vault:awsRegion": "eu-west-1",
    // Not about the entry point: staging would otherwise need a load balancer's keys.
    "bonito-vault:entryPoint": "none",
};
const prodBase = {
    ...base,
    "bonito-vault:dockerHosts": JSON.stringify(["ssh://a", "ssh://b", "ssh://c"]),
    "bonito-vault:nodeAddresses": JSON.stringify(["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
};

function problems(stack: string, raw: Record<string, string>): string[] {
    try {
        loadConfig(stack, raw);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    return [];
}

describe("backup config defaults", () => {
    it("staging: 7 days, daily, GOVERNANCE, pinned agent image, bucket in the seal's region", () => {
        const c = loadConfig("staging", base);
        assert.deepStrictEqual(c.backup, {
            retentionDays: 7,
            schedule: "24h",
            scheduleSeconds: 86400,
            lockMode: "GOVERNANCE",
            bucketName: undefined,
            agentImage: DEFAULT_AGENT_IMAGE,
            agentMemoryMb: 256,
            uploaderImage: "rclone/rclone:1.76.0",
            location: { cloud: "aws", region: "eu-west-1" },
        });
    });

    it("prod defaults are 30 days, hourly, COMPLIANCE (only backup problems are checked here)", () => {
        const backupProblems = problems("prod", prodBase).filter((p) => p.includes(":backup"));
        assert.deepStrictEqual(backupProblems, []);
    });

    it("scheduleSeconds reads h/m/s intervals and nothing else", () => {
        assert.equal(scheduleSeconds("1h30m"), 5400);
        assert.equal(scheduleSeconds("24h"), 86400);
        assert.equal(scheduleSeconds("daily"), undefined);
        assert.equal(scheduleSeconds(""), undefined);
    });
});

describe("backup config refusals (exact messages)", () => {
    it("retention 0 is refused everywhere", () => {
        assert.deepStrictEqual(problems("staging", { ...base, "bonito-vault:backupRetentionDays": "0" }), [
            'bonito-vault:backupRetentionDays must be a whole number from 1 to 36500 (got "0")',
        ]);
    });

    it("prod retention 7 is refused", () => {
        assert.ok(
            problems("prod", { ...prodBase, "bonito-vault:backupRetentionDays": "7" }).includes(
                'bonito-vault:backupRetentionDays must be at least 30 days on a production stack (snapshots must outlive a month of undetected damage) (got "7")',
            ),
        );
    });

    it("a cron expression is refused with the reason", () => {
        assert.deepStrictEqual(problems("staging", { ...base, "bonito-vault:backupSchedule": "0 * * * *" }), [
            'bonito-vault:backupSchedule must be an interval such as 1h or 24h: the snapshot agent schedules by interval and does not read cron expressions (got "0 * * * *")',
        ]);
    });

    it("an unknown schedule format is refused", () => {
        assert.deepStrictEqual(problems("staging", { ...base, "bonito-vault:backupSchedule": "daily" }), [
            'bonito-vault:backupSchedule must be an interval in hours, minutes and seconds such as 30m, 1h, 24h or 1h30m (got "daily")',
        ]);
    });

    it("a schedule under 5m is refused", () => {
        assert.deepStrictEqual(problems("staging", { ...base, "bonito-vault:backupSchedule": "1m" }), [
            'bonito-vault:backupSchedule must be at least 5m: each snapshot copies the whole Raft database (got "1m")',
        ]);
    });

    it("a schedule longer than the retention is refused", () => {
        assert.deepStrictEqual(
            problems("staging", {
                ...base,
                "bonito-vault:backupRetentionDays": "1",
                "bonito-vault:backupSchedule": "48h",
            }),
            [
                'bonito-vault:backupSchedule is longer than backupRetentionDays (1 days): there would be moments with no snapshot in the bucket (got "48h")',
            ],
        );
    });

    it("GOVERNANCE is refused on prod, allowed on staging", () => {
        assert.ok(
            problems("prod", { ...prodBase, "bonito-vault:backupLockMode": "GOVERNANCE" }).includes(
                'bonito-vault:backupLockMode must be COMPLIANCE on the prod stack: GOVERNANCE lets a privileged identity shorten or remove a snapshot\'s retention (got "GOVERNANCE")',
            ),
        );
        assert.equal(
            loadConfig("staging", { ...base, "bonito-vault:backupLockMode": "GOVERNANCE" }).backup.lockMode,
            "GOVERNANCE",
        );
    });

    it("an unknown lock mode is refused", () => {
        assert.deepStrictEqual(problems("staging", { ...base, "bonito-vault:backupLockMode": "LEGAL" }), [
            'bonito-vault:backupLockMode must be one of COMPLIANCE, GOVERNANCE (got "LEGAL")',
        ]);
    });

    it("a floating agent image tag is refused", () => {
        assert.deepStrictEqual(
            problems("staging", {
                ...base,
                "bonito-vault:backupAgentImage": "ghcr.io/argelbargel/vault-raft-snapshot-agent:latest",
            }),
            [
                'bonito-vault:backupAgentImage must be an image pinned by digest or exact version tag (repo:v0.12.0) (got "ghcr.io/argelbargel/vault-raft-snapshot-agent:latest")',
            ],
        );
    });

    it("a floating or partial uploader image tag is refused; an exact tag or a digest is taken", () => {
        assert.equal(DEFAULT_UPLOADER_IMAGE, "rclone/rclone:1.76.0");
        assert.deepStrictEqual(
            problems("staging", { ...base, "bonito-vault:backupUploaderImage": "rclone/rclone:latest" }),
            [
                'bonito-vault:backupUploaderImage must be an image pinned by digest or exact version tag (repo:1.76.0) (got "rclone/rclone:latest")',
            ],
        );
        assert.deepStrictEqual(
            problems("staging", { ...base, "bonito-vault:backupUploaderImage": "rclone/rclone:1.76" }),
            [
                'bonito-vault:backupUploaderImage must be an image pinned by digest or exact version tag (repo:1.76.0) (got "rclone/rclone:1.76")',
            ],
        );
        const pinned = `rclone/rclone@sha256:${"a".repeat(64)}`;
        assert.equal(
            loadConfig("staging", { ...base, "bonito-vault:backupUploaderImage": pinned }).backup.uploaderImage,
            pinned,
        );
    });

    it("gcp with the default global KMS location needs backupGcpLocation", () => {
        const raw = { ...base, "bonito-vault:cloud": "gcp", "bonito-vault:gcpProject": "bonito-prod-1" };
        assert.deepStrictEqual(problems("staging", raw), [
            "bonito-vault:backupGcpLocation is required when cloud is gcp and gcpLocation is global: a bucket needs a location such as US, EU or europe-west1",
        ]);
        assert.deepStrictEqual(
            loadConfig("staging", { ...raw, "bonito-vault:backupGcpLocation": "EU" }).backup.location,
            {
                cloud: "gcp",
                project: "bonito-prod-1",
                location: "EU",
            },
        );
    });
});
