/**
 * Audit shipping keys and paces, without Pulumi. Proves: the defaults per stack (on, 5 minutes,
 * 365 days on prod, 30 elsewhere), each refused value with a message naming key, value and what
 * is allowed, and that for every allowed delay bound the loops' worst case leaves a margin for
 * compression and upload. Does not prove the loops keep the bound: test/s3/audit-ship.test.ts
 * measures it with the real scripts and rclone against a real S3 server.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../components/config";
import { shipTimings } from "../../components/audit/shipper";
import { stackConfig } from "../helpers/mocks";

const prod = (over: Record<string, string | undefined> = {}) =>
    loadConfig("prod", stackConfig("prod", over), new Set(), { allowExampleKeys: true });
const problems = (fn: () => unknown): string[] => {
    try {
        fn();
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    return [];
};

describe("audit shipping config", () => {
    it("defaults: shipping on everywhere, 5-minute bound, archive 365 days on prod and 30 elsewhere", () => {
        assert.deepStrictEqual(prod().auditShipping, {
            enabled: true,
            maxDelayMinutes: 5,
            retentionDays: 365,
            bucketName: undefined,
        });
        const staging = loadConfig("staging", stackConfig("staging"), new Set(), { allowExampleKeys: true });
        assert.equal(staging.auditShipping.enabled, true);
        assert.equal(staging.auditShipping.retentionDays, 30);
    });

    it("prod refuses shipping off, a bound above 15 minutes and an archive under 90 days, each named", () => {
        assert.deepStrictEqual(
            problems(() =>
                prod({ auditShipping: "false", auditShipMaxDelayMinutes: "30", auditArchiveRetentionDays: "30" }),
            ),
            [
                'bonito-vault:auditShipping must be true on the prod stack: seed §3 asks for audit logs in an immutable store, and the policy pack refuses a prod stack without an audit shipper (got "false")',
                'bonito-vault:auditShipMaxDelayMinutes must be at most 15 on the prod stack: an audit line must leave the node within minutes (got "30")',
                'bonito-vault:auditArchiveRetentionDays must be at least 90 days on a production stack: shipped audit logs are the compliance record and must outlive an incident investigation (got "30")',
            ],
        );
    });

    it("refuses a bound outside 2..1440 minutes, and an archive bucket equal to the backup bucket", () => {
        assert.deepStrictEqual(
            problems(() => prod({ auditShipMaxDelayMinutes: "1" })),
            ['bonito-vault:auditShipMaxDelayMinutes must be a whole number from 2 to 1440 (got "1")'],
        );
        const cfg = stackConfig("prod");
        const backupName = cfg["bonito-vault:backupBucketName"];
        if (backupName !== undefined)
            assert.deepStrictEqual(
                problems(() => prod({ auditArchiveBucketName: backupName })),
                [
                    `bonito-vault:auditArchiveBucketName must differ from backupBucketName: the archive has its own bucket, retention and writer (got "${backupName}")`,
                ],
            );
        assert.deepStrictEqual(
            problems(() => prod({ auditArchiveBucketName: "Bad_Name" })),
            [
                'bonito-vault:auditArchiveBucketName must be 3-63 characters of a-z, 0-9 and -, starting and ending with a letter or digit (got "Bad_Name")',
            ],
        );
    });

    it("staging may turn shipping off; then an archive bucket name is refused as unused", () => {
        const s = (over: Record<string, string | undefined>) =>
            loadConfig("staging", stackConfig("staging", over), new Set(), { allowExampleKeys: true });
        assert.equal(s({ auditShipping: "false" }).auditShipping.enabled, false);
        assert.deepStrictEqual(
            problems(() => s({ auditShipping: "false", auditArchiveBucketName: "bonito-audit-x" })),
            [
                'bonito-vault:auditArchiveBucketName is only used when auditShipping is true (it is false) (got "bonito-audit-x")',
            ],
        );
    });
});

describe("shipping paces", () => {
    it("5 minutes: rotate at 150 s (checked every 30 s), ship every 60 s; worst case 245 s, 55 s left", () => {
        assert.deepStrictEqual(shipTimings(5), {
            rotateSeconds: 150,
            checkSeconds: 30,
            shipIntervalSeconds: 60,
            worstCaseSeconds: 245,
            marginSeconds: 55,
        });
    });

    it("every allowed bound leaves at least 15 s and a seventh of the bound beyond the loops' worst case", () => {
        for (let m = 2; m <= 1440; m++) {
            const t = shipTimings(m);
            assert.ok(t.marginSeconds >= 15, `${m} min: margin ${t.marginSeconds} s`);
            assert.ok(t.marginSeconds >= Math.floor((m * 60) / 7), `${m} min: margin ${t.marginSeconds} s`);
            assert.ok(t.checkSeconds <= 60 && t.shipIntervalSeconds <= 60);
        }
        assert.throws(() => shipTimings(1), /maxDelayMinutes must be a whole number >= 2, got 1/);
    });
});
