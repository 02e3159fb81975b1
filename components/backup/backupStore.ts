/** The backup bucket's store settings, for the per-cloud implementations (types.ts StoreSpec). */
import type { StackConfig } from "../config";
import { AZURE_CONTAINER } from "./policies";
import type { StoreSpec } from "./types";

/** The backup bucket's store settings (backup* keys). */
export function backupStore(config: StackConfig): StoreSpec {
    return {
        bucketName: config.backup.bucketName,
        retentionDays: config.backup.retentionDays,
        lockMode: config.backup.lockMode,
        contents: "Raft snapshots",
        writerLabel: "snapshot writer",
        accountSuffix: "-backup",
        container: AZURE_CONTAINER,
        lifecycleId: "expire-snapshots",
    };
}
