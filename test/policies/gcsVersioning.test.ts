/**
 * backup-bucket-versioning on GCS: versioning, or a retention policy (GCS refuses the two together,
 * so a WORM bucket has only the retention policy). Proves: both are accepted and a bucket with
 * neither is reported with the exact message.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backupBucketVersioning } from "../../policies/backup-bucket-versioning";
import * as f from "./fixtures";
import { runPack } from "./harness";

describe("backup-bucket-versioning on GCS", () => {
    it("accepts a retention policy without versioning, and versioning without a retention policy", async () => {
        for (const bucket of [
            f.gcsBucket(),
            f.gcsBucket({ versioning: { enabled: true }, retentionPolicy: undefined }),
        ]) {
            const { violations } = await runPack([backupBucketVersioning], [bucket], "staging");
            assert.deepEqual(Object.fromEntries(violations), {});
        }
    });

    it("reports a bucket with neither", async () => {
        const { violations } = await runPack(
            [backupBucketVersioning],
            [f.gcsBucket({ versioning: { enabled: false }, retentionPolicy: undefined })],
            "staging",
        );
        assert.deepEqual(Object.fromEntries(violations), {
            "backup-bucket-versioning": [
                "GCS bucket snapshots has neither versioning nor a retention policy; set versioning: { enabled: true } or a retentionPolicy.",
            ],
        });
    });
});
