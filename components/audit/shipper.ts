/**
 * Pure renderers of the audit shipper: an rclone container beside each Vault node that copies the
 * node's rotated audit files into the write-once archive and marks each one shipped only after a
 * listing of the archive shows it there with the local size. The rotation loop in the Vault
 * container (components/settings/audit.ts) deletes a rotated file only from `shipped/`.
 *
 * The life of a rotated file on the audit volume (each step one rename or one upload, so a crash
 * at any point leaves a file where the next round picks it up again; nothing is deleted unconfirmed):
 *
 *   audit.log                       live, written by Vault
 *   audit.log.<UTC stamp>           renamed by the rotator, SIGHUP, still open in Vault for <= 5 s
 *   audit.log.<stamp>.gz.tmp        compressing (never shipped: the shipper matches `*.gz` only)
 *   audit.log.<stamp>.gz            whole (renamed from .tmp), waiting for the shipper
 *   shipped/audit.log.<stamp>.gz    upload confirmed; the rotator deletes it after auditRetentionDays
 *
 * A crash between upload and the move to shipped/ leaves the file pending; the next round's copy
 * finds the object already there with the same size (`--size-only`), uploads nothing, and moves
 * it. An object of the same name but another size is not overwritten: S3 would keep a second
 * version, GCS and Azure refuse the write, and the file stays pending (logged every round).
 *
 * The confirmation log (VaultAuditShippingStale's signal), `audit-shipper.log` on the same volume:
 *
 *   <unix seconds> confirmed <node> <file name> <bytes> <destination>/<day>/    one per upload
 *   <unix seconds> caught-up <node> <files confirmed this round>               end of a clean round
 *
 * A `confirmed` line is written after the listing shows the object with the local size and before
 * the file moves to `shipped/` (so before the rotator may ever delete it); a failed copy, a failed
 * listing or a size mismatch returns before it. A `caught-up` line ends a round in which every
 * waiting file was confirmed, and at least one was, or the live audit files are empty: a standby
 * forwards requests to the active node and writes no audit line, so it has nothing to ship, and
 * without this it would look stale forever. A round with any unconfirmed file writes no
 * `caught-up` line, so one stuck file is not hidden by other files' uploads; neither is a dead
 * rotator on a node whose audit file fills (no file to ship, and the live file is not empty).
 * mtail, which already reads the audit file from this volume (bundled: read-only; external: the
 * team's own mtail), turns `caught-up` lines into the gauge
 * bonito_audit_shipper_last_success_timestamp_seconds{node} (securityRules.ts renderMtailProgram).
 * A file beside the audit file is the simplest carrier that both monitoring modes can read: no
 * extra port, exporter or credential. Above CONFIRM_LOG_MAX_BYTES it is renamed to
 * `audit-shipper.log.1` (one old copy) and mtail follows the rename to the new file. The rotator
 * never touches it (it matches `audit.log.*`).
 *
 * Object keys: `<node>/<YYYYMMDD>/audit.log.<stamp>.gz`. A per-day prefix keeps each round's
 * listing small however long the retention. Credentials as the snapshot uploader: rclone reads
 * RCLONE_CONFIG_AUDIT_* variables that the script fills from 0400 files, never on a command line.
 */
import {
    UPLOADER_SECRET_FILES,
    renderRcloneConfig,
    shellQuote,
    uploaderSecretEnv,
    type UploadTarget,
} from "../backup/uploaderConfig";
import { SHIPPER_LOG_NAME } from "../monitoring/securityRules";
import { AUDIT_DIR } from "../settings/audit";

/** The remote's name in the shipper's rclone.conf (RCLONE_CONFIG_AUDIT_* variables). */
export const SHIPPER_REMOTE = "audit";
export const SHIPPER_CONFIG_PATH = "/etc/rclone/rclone.conf";
export const SHIPPER_SECRETS_DIR = "/etc/rclone/secrets";
/** Where the node's audit volume is mounted in the shipper (the same path as in Vault's container). */
export const SHIPPER_AUDIT_DIR = AUDIT_DIR;
/** The confirmed-upload folder on the audit volume (relative to it). */
export const SHIPPED_DIR = "shipped";
/** The confirmation log on the audit volume (relative to it): one line per confirmed upload. */
export const CONFIRM_LOG = SHIPPER_LOG_NAME;
/** Above this the confirmation log is renamed to `.1` (about 3 000 lines; one line per rotated file). */
export const CONFIRM_LOG_MAX_BYTES = 262144;
/** local only: where the per-node archive volume is mounted in the shipper. */
export const LOCAL_ARCHIVE_PATH = "/archive";
/** The Vault image's unprivileged account (uid 100, gid 1000), which owns the audit volume (0700). */
export const SHIPPER_USER = { uid: "100", gid: "1000" } as const;
/** rclone holds one small gzip file at a time (below the 64 MiB multipart cutoff): 128 MiB is ample. */
export const SHIPPER_MEMORY_MB = 128;
/** The archive volume's one-shot owner step (a shell, chmod, exit). */
export const ARCHIVE_INIT_MEMORY_MB = 32;
/** Seconds the rotator waits after SIGHUP before compressing (Vault lets go of the old file). */
export const HUP_GRACE_SECONDS = 5;

/** Where the shipper writes: a cloud bucket (same settings as the snapshot uploader) or, on local, a volume. */
export type ShipTarget = UploadTarget | { kind: "local" };

/**
 * How often each loop runs for a delay bound of `maxDelayMinutes`:
 * - the rotator rotates a non-empty audit file once it is `rotateSeconds` old, checking every
 *   `checkSeconds`, then waits HUP_GRACE_SECONDS and compresses;
 * - the shipper looks for finished files every `shipIntervalSeconds`.
 * A line written just after a rotation is in the archive after at most `worstCaseSeconds` plus
 * the compression and upload times, which `marginSeconds` leaves room for (19 s at the 2-minute
 * minimum, 55 s at the 5-minute default). The size trigger (auditRotateSizeMb) only rotates sooner.
 */
export function shipTimings(maxDelayMinutes: number): {
    rotateSeconds: number;
    checkSeconds: number;
    shipIntervalSeconds: number;
    worstCaseSeconds: number;
    marginSeconds: number;
} {
    if (!Number.isInteger(maxDelayMinutes) || maxDelayMinutes < 2)
        throw new Error(`maxDelayMinutes must be a whole number >= 2, got ${maxDelayMinutes}`);
    const total = maxDelayMinutes * 60;
    const rotateSeconds = Math.floor(total / 2);
    const checkSeconds = Math.min(60, Math.floor(total / 10));
    const shipIntervalSeconds = Math.min(60, Math.floor(total / 5));
    const worstCaseSeconds = rotateSeconds + checkSeconds + HUP_GRACE_SECONDS + shipIntervalSeconds;
    return {
        rotateSeconds,
        checkSeconds,
        shipIntervalSeconds,
        worstCaseSeconds,
        marginSeconds: total - worstCaseSeconds,
    };
}

/** rclone.conf of the shipper: the snapshot uploader's settings under the `audit` remote; local: a plain folder. */
export function renderShipperRcloneConfig(t: ShipTarget): string {
    if (t.kind === "local") return [`[${SHIPPER_REMOTE}]`, "type = local", ""].join("\n");
    return renderRcloneConfig(t, SHIPPER_REMOTE);
}

/** `audit:<bucket>/<node>`, `audit:<container>/<node>`, or (local) `audit:/archive/<node>`. */
export function shipperDestination(t: ShipTarget, node: string): string {
    const root = t.kind === "local" ? LOCAL_ARCHIVE_PATH : t.kind === "azure" ? t.container : t.bucket;
    return `${SHIPPER_REMOTE}:${root}/${node}`;
}

/** The rclone arguments of one file's upload (after `rclone`), with shell variables for the file and day. */
/** A failed round is retried by the next one: rclone does not hold a round for minutes. */
const RCLONE_ROUND_RETRIES = ["--retries", "1", "--low-level-retries", "3", "--contimeout", "10s"];

export const SHIP_COPY_ARGS = [
    "copy",
    '"$AUDIT_DIR"',
    // The trailing slash: without it rclone's S3 backend HEADs `<node>/<day>` to see whether the
    // root is a file (backend/s3/s3.go NewFs), which the writer may not (no s3:GetObject).
    '"$DEST/$day/"',
    "--include",
    '"/$name"',
    "--max-depth",
    "1",
    // Skip an object already there with the same size (a crash after upload, before the move);
    // one of another size is attempted and refused by the store's lock instead of overwritten.
    "--size-only",
    // Modification times from the listing: no HEAD, which the writer may not (no s3:GetObject).
    "--use-server-modtime",
    ...RCLONE_ROUND_RETRIES,
    "--log-level",
    "INFO",
    "--stats-one-line",
];

/** The confirmation: a listing of the day's prefix, printing the object's size only. */
export const SHIP_CONFIRM_ARGS = [
    "lsf",
    '"$DEST/$day/"',
    "--include",
    '"/$name"',
    "--max-depth",
    "1",
    "--files-only",
    "--format",
    "s",
    ...RCLONE_ROUND_RETRIES,
];

/**
 * The shipper container's script (`/bin/sh -c <script>`). Paths come from three variables with the
 * container's paths as defaults (BONITO_AUDIT_DIR, BONITO_SECRETS_DIR, RCLONE_CONFIG), so the S3
 * tier runs this exact text against a real S3 server with temporary folders.
 */
export function renderShipperScript(t: ShipTarget, node: string, maxDelayMinutes: number): string {
    const { shipIntervalSeconds } = shipTimings(maxDelayMinutes);
    const exports =
        t.kind === "local"
            ? []
            : Object.entries(uploaderSecretEnv(t, SHIPPER_REMOTE)).map(
                  ([name, file]) => `${name}="$(cat "$SECRETS_DIR/${file.split("/").pop()!}")"; export ${name}`,
              );
    return [
        "set -u",
        `AUDIT_DIR="\${BONITO_AUDIT_DIR:-${SHIPPER_AUDIT_DIR}}"`,
        `SECRETS_DIR="\${BONITO_SECRETS_DIR:-${SHIPPER_SECRETS_DIR}}"`,
        `RCLONE_CONFIG="\${RCLONE_CONFIG:-${SHIPPER_CONFIG_PATH}}"; export RCLONE_CONFIG`,
        ...exports,
        `DEST=${shellQuote(shipperDestination(t, node))}`,
        `SHIPPED="$AUDIT_DIR/${SHIPPED_DIR}"`,
        `CONFIRMED="$AUDIT_DIR/${CONFIRM_LOG}"`,
        `INTERVAL=${shipIntervalSeconds}`,
        "# One finished file: upload, confirm from a listing that the object has the local size, then mark it.",
        "ship() {",
        "  name=${1##*/}; stamp=${name%.gz}; stamp=${stamp##*.}; day=${stamp%%T*}",
        '  size=$(stat -c %s "$1") || return 1',
        `  rclone ${SHIP_COPY_ARGS.join(" ")} || return 1`,
        `  listed=$(rclone ${SHIP_CONFIRM_ARGS.join(" ")}) || return 1`,
        '  if [ "$listed" != "$size" ]; then echo "audit-shipper: $name is listed with size \'$listed\', local $size: not confirmed" >&2; return 1; fi',
        "  # Confirmed: record it (VaultAuditShippingStale's signal) before the file may ever be deleted.",
        `  echo "$(date +%s) confirmed ${node} $name $size $DEST/$day/" >> "$CONFIRMED" || echo "audit-shipper: cannot append to $CONFIRMED" >&2`,
        '  mv "$1" "$SHIPPED/$name" && echo "audit-shipper: shipped $name ($size bytes) to $DEST/$day/"',
        "}",
        'mkdir -p "$SHIPPED"',
        "# Exists from the start, so a reader (mtail) finds it before the first line.",
        ': >> "$CONFIRMED"',
        "while :; do",
        `  if [ "$(stat -c %s "$CONFIRMED" 2>/dev/null || echo 0)" -gt ${CONFIRM_LOG_MAX_BYTES} ]; then mv -f "$CONFIRMED" "$CONFIRMED.1"; : >> "$CONFIRMED"; fi`,
        "  found=0; failed=0",
        '  for f in "$AUDIT_DIR"/audit.log.*.gz "$AUDIT_DIR"/audit-mirror.log.*.gz; do',
        '    [ -f "$f" ] || continue',
        "    found=$((found + 1))",
        '    ship "$f" || { failed=$((failed + 1)); echo "audit-shipper: ${f##*/} not confirmed; it stays in $AUDIT_DIR for the next round" >&2; }',
        "  done",
        '  if [ "$failed" -eq 0 ] && { [ "$found" -gt 0 ] || { [ ! -s "$AUDIT_DIR/audit.log" ] && [ ! -s "$AUDIT_DIR/audit-mirror.log" ]; }; }; then',
        `    echo "$(date +%s) caught-up ${node} $found" >> "$CONFIRMED" || echo "audit-shipper: cannot append to $CONFIRMED" >&2`,
        "  fi",
        '  sleep "$INTERVAL"',
        "done",
        "",
    ].join("\n");
}

/** Secret files the shipper reads (the same names as the snapshot uploader's, in its own container). */
export { UPLOADER_SECRET_FILES as SHIPPER_SECRET_FILES };
