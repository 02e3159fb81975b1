import type { StackValidationPolicy } from "@pulumi/policy";
import { roleOf } from "./lib/common";
import { rcloneRemotes, rcloneTargets, storeOfTarget, storeWriters, stores, type Store } from "./lib/store";

/**
 * Snapshots and shipped audit logs are safe only in a write-once store this stack declares and
 * protects. The snapshot uploader and the audit shippers each write with rclone; each destination
 * they name must be such a store, and the two kinds never share one (the audit archive has its own
 * bucket, retention and writer: a snapshot uploader writing into the archive, or a shipper into
 * the backup bucket, mixes retentions and writers).
 *
 * One-field changes that would undo the same protection, each covered here: the destination bucket
 * renamed to one the stack does not declare (another account's, a typo that rclone creates); the
 * remote switched to `type = local` or another backend (a folder in the container is no archive);
 * an on-the-fly remote (`:s3:bucket`) that bypasses rclone.conf; a destination to a declared bucket
 * without Object Lock, retention or immutability; the uploader pointed at the audit archive or a
 * shipper at the backup bucket.
 */
export const backupSidecarDestinationDeclared: StackValidationPolicy = {
    name: "backup-sidecar-destination-declared",
    description:
        "The snapshot uploader and every audit shipper write only to write-once buckets (S3 Object Lock, GCS retention, Azure immutability) that this stack declares, and never to the same one.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["backup", "audit", "worm", "seed-3", "seed-6"],
    remediationSteps:
        "Let the program render the sidecars' rclone.conf and destination (components/backup/uploaderConfig.ts, components/audit/shipper.ts): the uploader writes to the backup bucket, the shippers to the audit archive.",
    validateStack: (args, report) => {
        const all = stores(args);
        // Without a cloud store (cloud local) the archive is a Docker volume: nothing to match.
        if (all.length === 0) return;
        const used = new Map<string, Set<Store>>();
        for (const c of storeWriters(args)) {
            const role = roleOf(c.props) ?? "";
            const remotes = rcloneRemotes(c.props);
            const targets = rcloneTargets(c.props, remotes);
            if (targets.length === 0) {
                report(`${role} ${c.name} names no rclone destination a policy can check.`, c.urn);
                continue;
            }
            for (const t of targets) {
                const { store, why } = storeOfTarget(all, remotes.get(t.remote), t.root);
                if (!store) {
                    report(
                        `${role} ${c.name} writes to ${t.remote.startsWith(":") ? `an on-the-fly remote ${t.remote}` : why}; it may write only to the stack's write-once ${role === "audit-shipper" ? "audit archive" : "backup bucket"}.`,
                        c.urn,
                    );
                    continue;
                }
                if (store.retentionDays <= 0)
                    report(
                        `${role} ${c.name} writes to ${store.name}, which is not write-once (no Object Lock retention, retention policy or immutability policy).`,
                        c.urn,
                    );
                used.set(role, new Set([...(used.get(role) ?? []), store]));
            }
        }
        const shared = [...(used.get("audit-shipper") ?? [])].filter((s) => used.get("snapshot-uploader")?.has(s));
        for (const s of shared)
            report(
                `The snapshot uploader and the audit shippers both write to ${s.name}; the audit archive and the backup bucket are separate stores with their own retention and writer.`,
                s.resource.urn,
            );
    },
};
