/**
 * Audit devices and the audit-file rotation script, as plain data.
 *
 * Two devices on every stack (seed §3: a blocked device stops Vault, so never rely on one):
 * a `file` device on the node's audit volume and a second one, syslog or socket. HMAC stays on
 * (`log_raw` false, `hmac_accessor` true). HashiCorp Vault gets them through the API
 * (`vault.Audit`); OpenBao ≥ 2.3 refuses API creation unless `unsafe_allow_api_audit_creation` is
 * set, so for OpenBao the server-config renderer writes the same list as `audit` stanzas
 * (https://openbao.org/docs/configuration/audit) and the API flag stays off.
 */
import type { AuditConfig } from "../config/settings";

export interface AuditDevice {
    type: "file" | "syslog" | "socket";
    /** Mount path of the device (`sys/audit/<path>`), without slashes. */
    path: string;
    description?: string;
    /** Vault takes every option as a string. */
    options: Record<string, string>;
}

/** Where each node's audit volume is mounted in the Vault container. */
export const AUDIT_DIR = "/vault/audit";
export const AUDIT_FILE = `${AUDIT_DIR}/audit.log`;
/** The second file device's file (auditSecondDevice: file), rotated together with the first. */
export const AUDIT_MIRROR_FILE = `${AUDIT_DIR}/audit-mirror.log`;
/** Where the rotation loop is uploaded in each Vault container (the entrypoint starts it). */
export const AUDIT_ROTATOR_SCRIPT = "/vault/config/audit-rotator.sh";

const HMAC_ON = { log_raw: "false", hmac_accessor: "true", format: "json" } as const;

export function renderAuditDevices(settings: { audit: AuditConfig }): AuditDevice[] {
    const a = settings.audit;
    const fileDevice = (path: string, filePath: string, description: string): AuditDevice => ({
        type: "file",
        path,
        description,
        options: { file_path: filePath, mode: "0600", ...HMAC_ON },
    });
    const file = fileDevice(
        "file",
        AUDIT_FILE,
        "Every request and response, HMAC-hashed, on the node's audit volume (rotated by the audit rotator).",
    );
    const mirror = fileDevice(
        "file-mirror",
        AUDIT_MIRROR_FILE,
        "Second device: a second file on the audit volume, for Docker hosts without syslog (rotated with the first).",
    );
    const second: AuditDevice =
        a.second === "file"
            ? mirror
            : a.second === "syslog"
              ? {
                    type: "syslog",
                    path: "syslog",
                    description: "Second device (seed §3): local syslog, tag vault, facility AUTH.",
                    options: { tag: "vault", facility: "AUTH", ...HMAC_ON },
                }
              : {
                    type: "socket",
                    path: "socket",
                    description: "Second device: the log shipper.",
                    options: {
                        address: a.socketAddress ?? "",
                        socket_type: a.socketType,
                        // A shipper that stalls must not hold requests for long; the file device still records them.
                        write_timeout: "2s",
                        ...HMAC_ON,
                    },
                };
    return [file, second];
}

/**
 * The audit rotation loop (busybox sh from the Vault image). It runs inside each Vault container,
 * started in the background by the entrypoint as the Vault user just before the server (see
 * `entrypoint` in raftCluster.ts): it renames the live file (Vault keeps writing to the renamed
 * inode), sends SIGHUP so Vault reopens `audit.log`, compresses the old file (through a `.gz.tmp`
 * name, so a `.gz` only ever appears whole), and deletes rotated files older than the retention.
 *
 * With `ship` (auditShipping, components/audit/shipper.ts) the loop rotates often enough for the
 * delay bound, and deletes only files the shipper moved to `shipped/` after their upload was
 * confirmed: a file waiting for the shipper is never deleted, however old. Each step leaves the
 * file where the next pass finds it: a rotated file a crash left uncompressed is compressed on
 * the next pass once nothing has written to it for a minute.
 *
 * Why not a sidecar container: one sharing Vault's PID namespace (`pidMode: container:<vault>`) is
 * killed when Vault's container restarts and cannot start again ("container … is not running"),
 * nor does Pulumi re-create it, so rotation stopped silently until the full audit volume blocked
 * Vault (found by the Docker tier, issue 11 defect 6). Inside the container the loop stops,
 * restarts and is replaced with Vault, signals it as the same user without any capability, and
 * needs no extra container, image or shared namespace.
 *
 * BONITO_AUDIT_DIR (unset in the container) lets the S3 tier run this exact text on a temporary folder.
 */
export function renderAuditRotatorScript(
    a: Pick<AuditConfig, "rotateSizeMb" | "rotateMaxAgeHours" | "retentionDays"> & { second?: AuditConfig["second"] },
    ship?: { rotateSeconds: number; checkSeconds: number },
    checkSeconds = 60,
): string {
    // With a second file device, both files rotate in the same step (one SIGHUP reopens both).
    const mirror = a.second === "file";
    const maxAge = Math.min(a.rotateMaxAgeHours * 3600, ship?.rotateSeconds ?? Infinity);
    const names = mirror ? "\\( -name 'audit.log.*' -o -name 'audit-mirror.log.*' \\)" : "-name 'audit.log.*'";
    return [
        "set -u",
        `AUDIT_DIR="\${BONITO_AUDIT_DIR:-${AUDIT_DIR}}"`,
        'LOG="$AUDIT_DIR/audit.log"',
        ...(mirror ? ['MIRROR="$AUDIT_DIR/audit-mirror.log"'] : []),
        ...(ship ? ['SHIPPED="$AUDIT_DIR/shipped"'] : []),
        `MAX_BYTES=${a.rotateSizeMb * 1024 * 1024}`,
        `MAX_AGE=${maxAge}`,
        `KEEP_DAYS=${a.retentionDays}`,
        `INTERVAL=${ship ? Math.min(checkSeconds, ship.checkSeconds) : checkSeconds}`,
        "# F -> F.gz through F.gz.tmp; F goes last. Already compressed (a crash after the rename): F only goes.",
        "compress() {",
        ship
            ? '  if [ -e "$1.gz" ] || [ -e "$SHIPPED/${1##*/}.gz" ]; then rm -f "$1"; return 0; fi'
            : '  if [ -e "$1.gz" ]; then rm -f "$1"; return 0; fi',
        '  gzip -c "$1" > "$1.gz.tmp" && mv "$1.gz.tmp" "$1.gz" && rm -f "$1"',
        "}",
        ...(ship ? ['mkdir -p "$SHIPPED"'] : []),
        "last=$(date +%s)",
        "while true; do",
        "  now=$(date +%s)",
        "  # Rotated files left uncompressed by a crash, once nothing has written to them for a minute.",
        `  for f in $(find "$AUDIT_DIR" -maxdepth 1 -type f ${names} ! -name '*.gz' ! -name '*.gz.tmp' -mmin +1); do compress "$f"; done`,
        "  size=0",
        '  [ -f "$LOG" ] && size=$(stat -c %s "$LOG")',
        '  if [ "$size" -ge "$MAX_BYTES" ] || { [ "$size" -gt 0 ] && [ $((now - last)) -ge "$MAX_AGE" ]; }; then',
        '    dest="$LOG.$(date -u +%Y%m%dT%H%M%SZ)"',
        ...(mirror ? ['    mdest="$MIRROR.${dest##*.}"'] : []),
        '    if mv "$LOG" "$dest"; then',
        ...(mirror ? ['      [ -f "$MIRROR" ] && mv "$MIRROR" "$mdest"'] : []),
        // Signal the server itself: the vault/bao process whose parent is the container's init (PID 1). Not
        // just any: the healthcheck's `vault status` and operators' `docker exec … vault` run beside it (as
        // root, which this loop may not signal). Without an init the server is PID 1, the fallback.
        "      pid=''; for p in $(pidof vault bao 2>/dev/null); do [ \"$(cut -d' ' -f4 /proc/$p/stat)\" = 1 ] && pid=$p; done",
        '      kill -HUP "${pid:-1}" || echo "audit-rotator: SIGHUP failed" >&2',
        "      sleep 5",
        ...(mirror ? ['      [ -f "$mdest" ] && compress "$mdest"'] : []),
        '      if compress "$dest"; then echo "audit-rotator: rotated to $dest.gz"; else echo "audit-rotator: compressing $dest failed; retried next pass" >&2; fi',
        "    fi",
        "    last=$now",
        "  fi",
        ship
            ? `  find "$SHIPPED" -maxdepth 1 -type f ${names} -mtime +$((KEEP_DAYS - 1)) -exec rm -f {} +`
            : `  find "$AUDIT_DIR" -maxdepth 1 -type f ${names} -mtime +$((KEEP_DAYS - 1)) -exec rm -f {} +`,
        '  sleep "$INTERVAL"',
        "done",
        "",
    ].join("\n");
}
