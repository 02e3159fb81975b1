/** The backup bucket's store settings, for the per-cloud implementations (types.ts StoreSpec). */
import type { BackupConfig } from "../config/backup";
import { AZURE_CONTAINER } from "./iam";
import type { StoreSpec } from "./types";

/** The backup bucket's store settings (backup* keys). */
export function backupStore(backup: BackupConfig["backup"]): StoreSpec {
    return {
        bucketName: backup.bucketName,
        retentionDays: backup.retentionDays,
        lockMode: backup.lockMode,
        contents: "Raft snapshots",
        writerLabel: "snapshot writer",
        accountSuffix: "-backup",
        container: AZURE_CONTAINER,
        lifecycleId: "expire-snapshots",
    };
}
