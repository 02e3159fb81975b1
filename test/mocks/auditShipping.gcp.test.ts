/**
 * AuditShipping on gcp under Pulumi mocks. Proves: the archive is its own Cloud Storage bucket under
 * a retention policy (locked on COMPLIANCE) for auditArchiveRetentionDays, with its own service
 * account (`-audit`, distinct from the backup writer) holding create + list only; each shipper gets
 * the key as a 0400 file and the rendered script. Does not prove: that GCP accepts the inputs.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { setupMocks, type MockRun } from "../helpers/mocks";
import { renderShipperScript } from "../../components/audit/shipper";
import { declareShipping } from "./auditShipping.clouds.helper";

const raw = {
    "bonito-vault:cloud": "gcp",
    "bonito-vault:image": "hashicorp/vault:1.21.1",
    // The entry point is its own area (test/mocks/entryPoint-*.test.ts); staging would default to a load balancer.
    "bonito-vault:entryPoint": "none",
    "bonito-vault:gcpProject": "bonito-prod-1",
    "bonito-vault:backupGcpLocation": "EU",
    "bonito-vault:backupLockMode": "COMPLIANCE",
    "bonito-vault:auditArchiveBucketName": "bonito-audit",
    "bonito-vault:auditArchiveRetentionDays": "400",
};
let run: MockRun;
let d: Awaited<ReturnType<typeof declareShipping>>;

before(async () => {
    run = setupMocks("staging", raw);
    d = await declareShipping("staging", raw);
});

describe("gcp audit archive", () => {
    it("its own bucket: locked 400-day retention, uniform access, public access prevented, lifecycle", () => {
        const [b] = run.ofType("gcp:storage/bucket:Bucket");
        assert.deepStrictEqual(b.inputs, {
            name: "bonito-audit",
            project: "bonito-prod-1",
            location: "EU",
            storageClass: "STANDARD",
            uniformBucketLevelAccess: true,
            publicAccessPrevention: "enforced",
            versioning: { enabled: false },
            retentionPolicy: { retentionPeriod: String(400 * 86400), isLocked: true },
            softDeletePolicy: { retentionDurationSeconds: 604800 },
            lifecycleRules: [{ action: { type: "Delete" }, condition: { age: 401 } }],
            forceDestroy: false,
        });
        assert.equal(d.url, "gs://bonito-audit");
    });

    it("its own writer: create + list only, on the archive only; no delete role", () => {
        assert.deepStrictEqual(run.ofType("gcp:serviceaccount/account:Account")[0].inputs, {
            project: "bonito-prod-1",
            accountId: "bonito-vault-staging-audit",
            displayName: "bonito-vault staging audit log writer (create and list only)",
        });
        const members = run.ofType("gcp:storage/bucketIAMMember:BucketIAMMember").map((m) => m.inputs);
        assert.deepStrictEqual(
            members.map((m) => [m.bucket, m.role]),
            [
                ["bonito-audit", "roles/storage.objectCreator"],
                ["bonito-audit", "roles/storage.legacyBucketReader"],
            ],
        );
        for (const m of members) assert.ok(!/admin|owner|objectUser|Writer/i.test(String(m.role)));
    });

    it("each shipper: the key as a 0400 file, the rendered script for its node", () => {
        for (const u of d.uploads)
            assert.deepStrictEqual(
                u.map((x) => [x.file, x.permissions]),
                [
                    ["/etc/rclone/rclone.conf", "0444"],
                    ["/etc/rclone/secrets/gcp-credentials.json", "0400"],
                ],
            );
        assert.match(d.uploads[0][0].content, /^\[audit\]\ntype = google cloud storage\n/);
        d.entrypoints.forEach((e, i) =>
            assert.deepStrictEqual(e, [
                "/bin/sh",
                "-c",
                renderShipperScript({ kind: "gcp", bucket: "bonito-audit" }, `vault-${i}`, 5),
                "audit-shipper",
            ]),
        );
    });
});
