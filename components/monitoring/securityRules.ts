/**
 * Security rules over Vault's audit stream, as data, in one place.
 *
 * Vault's metrics carry neither request paths nor token policies, so these rules read the audit
 * file device's JSON lines. They are evaluated by mtail (Google's log-to-metrics processor, Debian
 * package `mtail`): {@link renderMtailProgram} turns every rule into one counter, and one Prometheus
 * alert per rule ({@link securityAlertRules}) fires when its counter increases. The unit tier runs
 * mtail itself over real audit lines captured from Vault 1.21.1 (test/fixtures/audit), and the
 * conformance tier runs it over a live cluster's audit files.
 *
 * The regular expressions are RE2 (mtail's engine) and rely on what Vault 1.21.1 writes: one JSON
 * object per line with keys in alphabetical order (`auth`, `error`, `request`, `response`, `time`,
 * `type`), `type` last; request paths, operations and token policies in clear; every string value
 * of request and response data HMAC-hashed (so policy names in a request body never match).
 */

import { UPLOAD_LOG_NAME } from "../backup/uploaderConfig";

export interface SecurityRule {
    /** Prometheus alert name. */
    alert: string;
    /** mtail counter (and Prometheus metric) name. */
    metric: string;
    /** The alert's summary, exactly as it reaches the receiver. */
    summary: string;
    /** What it means, one sentence (also the runbook's first line). */
    description: string;
    /** RE2 expressions that must all match one audit line. */
    when: string[];
    /** RE2 expressions any of which excludes the line. */
    unless?: string[];
}

const REQUEST = '"type":"request"\\}$';
const RESPONSE = '"type":"response"\\}$';
const WRITE_OP = '"operation":"(create|update|delete)"';
/** A list of strings containing "root", e.g. `"token_policies":["default","root"]`. */
const HAS_ROOT = (key: string) => `"${key}":\\[("[^"]*",)*"root"[,\\]]`;
const PATH = (re: string) => `"path":"${re}"`;

const SNAPSHOT_PATH = "sys/storage/raft/snapshot";
/** Seconds since the epoch of the last successful snapshot read (mtail gauge). */
export const SNAPSHOT_GAUGE = "bonito_vault_audit_snapshot_read_timestamp_seconds";

/**
 * Seconds since the epoch of the end of a node's last shipping round in which every waiting file's
 * upload was confirmed (mtail gauge, label `node`), from the shipper's `caught-up` lines in its
 * confirmation log (components/audit/shipper.ts explains when it writes one).
 */
export const SHIPPER_GAUGE = "bonito_audit_shipper_last_success_timestamp_seconds";
/** The shipper's confirmation log's name; only lines of a file of this name set the gauge. */
export const SHIPPER_LOG_NAME = "audit-shipper.log";
/**
 * Seconds since the epoch of the snapshot uploader's last confirmed upload into the bucket (mtail
 * gauge), from the `uploaded` lines of its log (components/backup/uploaderConfig.ts
 * renderUploaderScript explains when it writes one). Only node 0's mtail reads that log.
 */
export const UPLOAD_GAUGE = "bonito_backup_last_upload_timestamp_seconds";

/** The admin AppRole's secret-id paths and Raft snapshots: the defaults of `monitoringSensitivePaths`. */
export const DEFAULT_SENSITIVE_PATHS = [
    "auth/pulumi-admin/role/pulumi-admin/secret-id*",
    "sys/storage/raft/snapshot*",
] as const;

/** A Vault path glob (`*` at the end or inside matches any characters) as RE2 matching a `"path":"…"` value. */
export function pathGlobRegex(glob: string): string {
    const parts = glob.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"));
    return parts.join('[^"]*');
}

export interface SecurityRuleOptions {
    /** Vault path globs whose every access is reported. */
    sensitivePaths: readonly string[];
    /** AppRole role names whose reads of Raft snapshots are the scheduled backup, not an alert. */
    snapshotRoles: readonly string[];
}

export function securityRules(o: SecurityRuleOptions): SecurityRule[] {
    const sensitive = o.sensitivePaths.map((g) => pathGlobRegex(g)).join("|");
    return [
        {
            alert: "VaultRootTokenUsed",
            metric: "bonito_vault_audit_root_token_use_total",
            summary: "A request to Vault used a root token",
            description:
                "A request carried a token with the root policy; after bootstrap root tokens exist only during an emergency procedure.",
            when: [REQUEST, HAS_ROOT("token_policies")],
        },
        {
            alert: "VaultRootTokenCreated",
            metric: "bonito_vault_audit_root_token_created_total",
            summary: "A root token was created (generate-root completed or a root token was issued)",
            description:
                "Either `operator generate-root` completed, or a token with the root policy was issued by auth/token/create.",
            when: [RESPONSE],
            unless: [],
        },
        {
            alert: "VaultPolicyChanged",
            metric: "bonito_vault_audit_policy_change_total",
            summary: "An ACL policy was created, updated or deleted",
            description: "A write or delete on sys/policies/acl/<name> (or the legacy sys/policy/<name>).",
            when: [REQUEST, WRITE_OP, PATH('sys/(policies/acl|policy)/[^"]+')],
        },
        {
            alert: "VaultAuthMethodChanged",
            metric: "bonito_vault_audit_auth_method_change_total",
            summary: "An auth method was enabled, disabled or tuned",
            description: "A write or delete on sys/auth/<path>, sys/auth/<path>/tune or sys/mounts/auth/<path>/tune.",
            when: [REQUEST, WRITE_OP, PATH('sys/(auth/[^"]+|mounts/auth/[^"]+/tune)')],
        },
        {
            alert: "VaultSecretsEngineChanged",
            metric: "bonito_vault_audit_secrets_engine_change_total",
            summary: "A secrets engine was mounted, unmounted or moved",
            description: "A write or delete on sys/mounts/<path> (not a tune) or a call of sys/remount.",
            when: [REQUEST, WRITE_OP, PATH('sys/(mounts/[^"]+|remount)')],
            unless: [PATH('sys/mounts/auth/[^"]*'), PATH('sys/mounts/[^"]+/tune')],
        },
        {
            alert: "VaultAuditDeviceDisabled",
            metric: "bonito_vault_audit_device_disabled_total",
            summary: "An audit device was disabled",
            description:
                "A delete on sys/audit/<path>: one fewer copy of the audit trail (the rules read the file device).",
            when: [REQUEST, '"operation":"delete"', PATH('sys/audit/[^"]+')],
        },
        {
            alert: "VaultSensitivePathAccessed",
            metric: "bonito_vault_audit_sensitive_path_access_total",
            summary: "A sensitive Vault path was accessed",
            description: `A request on a path listed in monitoringSensitivePaths (${o.sensitivePaths.join(", ")}); the scheduled backup's own snapshot reads are not counted.`,
            when: [REQUEST, PATH(`(${sensitive})`)],
            unless:
                o.snapshotRoles.length > 0
                    ? [
                          `"metadata":\\{"role_name":"(${o.snapshotRoles.join("|")})"\\}.*${PATH("sys/storage/raft/snapshot")}`,
                      ]
                    : [],
        },
    ].map((r) =>
        r.alert === "VaultRootTokenCreated"
            ? {
                  ...r,
                  // Two shapes, so two programs' worth of alternatives in one expression (RE2 has no lookaround):
                  // generate-root's final update answers complete:true; auth/token/create* answers with a root auth.
                  when: [
                      RESPONSE,
                      `(${PATH("sys/generate-root/update")},.*"response":\\{"data":\\{"complete":true|"response":\\{"auth":\\{([^{}]|\\{[^{}]*\\})*${HAS_ROOT("token_policies")})`,
                  ],
              }
            : r,
    );
}

/** mtail's regex literals are slash-delimited: escape the slashes. */
function mtailRegex(re: string): string {
    return "/" + re.replace(/(?<!\\)\//g, "\\/") + "/";
}

/**
 * The mtail program: one counter per rule (exported at 0 from the start, so Prometheus sees the
 * first increase), nested conditions for `when` (all must match), `else` branches for `unless`.
 */
export function renderMtailProgram(rules: readonly SecurityRule[]): string {
    const lines = [
        "# Generated by components/monitoring/securityRules.ts: bonito-vault security rules over Vault's JSON audit lines.",
        "",
    ];
    for (const r of rules) lines.push(`counter ${r.metric}`);
    lines.push("");
    for (const r of rules) {
        lines.push(`# ${r.alert}: ${r.summary}`);
        let depth = 0;
        const ind = () => "  ".repeat(depth);
        for (const w of r.when) {
            lines.push(`${ind()}${mtailRegex(w)} {`);
            depth++;
        }
        const unless = r.unless ?? [];
        for (const u of unless) {
            lines.push(`${ind()}${mtailRegex(u)} {`, `${ind()}} else {`);
            depth++;
        }
        lines.push(`${ind()}${r.metric}++`);
        while (depth > 0) {
            depth--;
            lines.push(`${ind()}}`);
        }
        lines.push("");
    }
    // The backup alert's input: when the last snapshot stream succeeded (a response without an error).
    lines.push(
        `# VaultBackupStale's input: the time of the last successful read of ${SNAPSHOT_PATH}`,
        `gauge ${SNAPSHOT_GAUGE}`,
        `${mtailRegex(RESPONSE)} {`,
        `  ${mtailRegex('"operation":"read"')} {`,
        `    ${mtailRegex(PATH(SNAPSHOT_PATH))} {`,
        `      ${mtailRegex('"error":')} {`,
        "      } else {",
        `        ${SNAPSHOT_GAUGE} = timestamp()`,
        "      }",
        "    }",
        "  }",
        "}",
        "",
        // Only the shipper's own file: an audit line is JSON (starts with `{`) and could not match
        // anyway, but a request can never forge a confirmation this way.
        "# VaultAuditShippingStale's input: the end of each node's last round with every waiting file confirmed (the shipper's own log)",
        `gauge ${SHIPPER_GAUGE} by node`,
        `getfilename() =~ ${mtailRegex(`/${SHIPPER_LOG_NAME.replace(/\./g, "\\.")}$`)} {`,
        `  /^(?P<ts>\\d+) caught-up (?P<node>[A-Za-z0-9._-]+) / {`,
        `    ${SHIPPER_GAUGE}[$node] = $ts`,
        "  }",
        "}",
        "",
        // Likewise only the uploader's own file (its own volume, which no request can write to).
        "# VaultBackupStale's input on aws, gcp and azure: the time of the snapshot uploader's last confirmed upload (its own log)",
        `gauge ${UPLOAD_GAUGE}`,
        `getfilename() =~ ${mtailRegex(`/${UPLOAD_LOG_NAME.replace(/\./g, "\\.")}$`)} {`,
        `  /^(?P<ts>\\d+) uploaded raft-snapshot-/ {`,
        `    ${UPLOAD_GAUGE} = $ts`,
        "  }",
        "}",
        "",
    );
    return lines.join("\n");
}
