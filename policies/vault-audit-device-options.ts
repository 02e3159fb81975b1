import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, obj, serverConfigs, str, truthy, vaultRole, type Props } from "./lib/common";
import { AUDIT_TYPE, configAuditDevices } from "./vault-audit-devices-redundant";

/** `file_path` values that write no file (Vault's special targets). */
const NOT_A_FILE = ["discard", "stdout", "stderr", "/dev/null", "/dev/stdout", "/dev/stderr"];
const MOUNT_TYPES = ["vault:index/mount:Mount", "vault:index/authBackend:AuthBackend"];

function fileProblems(options: Props): string[] {
    const out: string[] = [];
    const path = str(options.file_path) ?? str(options.path);
    if (path === undefined || NOT_A_FILE.includes(path.trim().toLowerCase()) || !path.startsWith("/"))
        out.push(
            `file_path ${JSON.stringify(path ?? "unset")} writes no file on the audit volume; use an absolute path such as /vault/audit/audit.log`,
        );
    if (options.mode !== undefined) {
        const raw = String(options.mode).trim();
        const mode = /^[0-7]{1,4}$/.test(raw) ? parseInt(raw, 8) : NaN;
        if (Number.isNaN(mode)) out.push(`mode ${JSON.stringify(options.mode)} is not an octal file mode`);
        else if (mode === 0) out.push('mode "0000" stops Vault from setting the file\'s mode; use "0600"');
        else if ((mode & 0o077) !== 0)
            out.push(`mode ${raw} lets other users read the audit log; use "0600" or stricter`);
    }
    return out;
}

/** Options of any device that log less than every request and response, HMAC-hashed. */
function weakening(options: Props): string[] {
    const out: string[] = [];
    if (truthy(options.elide_list_responses)) out.push("elide_list_responses drops the keys of list responses");
    for (const k of ["exclude", "filter"])
        if (options[k] !== undefined && String(options[k]).trim() !== "" && String(options[k]).trim() !== "[]")
            out.push(`${k} leaves entries out of the log`);
    const format = str(options.format);
    if (format !== undefined && !["json", "jsonx"].includes(format)) out.push(`format ${format} is not json`);
    return out;
}

/**
 * Seed §3: every request and response is logged, HMAC-hashed, to a file only Vault reads. A file
 * device whose `file_path` is `discard` or `stdout` writes nothing to the audit volume (nothing is
 * rotated, shipped or alerted on); a looser `mode` lets any user on the host read the log (request
 * paths, HMACs an insider can compare against guesses); options that filter or elide entries, and
 * mounts that exempt request or response keys from HMAC, log less than the seed asks.
 *
 * One-field changes that would undo the same protection, each covered here: `mode` "0644", "0640",
 * "0666", "0000" or not octal; `file_path` "discard", "stdout", "stderr", "/dev/null" or relative;
 * `elide_list_responses` true; a non-empty `exclude` or `filter`; a `format` other than json;
 * `auditNonHmacRequestKeys`/`auditNonHmacResponseKeys` on a mount or auth method (those values are
 * then written in plain text). `log_raw`/`hmac_accessor`: `vault-audit-no-log-raw`.
 */
export const vaultAuditDeviceOptions: ResourceValidationPolicy = {
    name: "vault-audit-device-options",
    description:
        "File audit devices write a real file (no discard/stdout) with mode 0600 or stricter; no device filters, excludes or elides entries; no mount or auth method exempts keys from HMAC (audit_non_hmac_*_keys).",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "audit", "seed-3"],
    remediationSteps:
        'Keep the file device the program declares: file_path /vault/audit/audit.log, mode "0600", format json, no exclude/filter/elide_list_responses; declare mounts without auditNonHmac*Keys.',
    validateResource: (args, report) => {
        const judge = (where: string, type: string, options: Props) => {
            const problems = [...(type === "file" ? fileProblems(options) : []), ...weakening(options)];
            for (const p of problems) report(`${where}: ${p}.`);
        };
        if (args.type === AUDIT_TYPE) {
            judge(
                `Audit device ${str(args.props.path) ?? args.name} (${str(args.props.type) ?? "?"})`,
                str(args.props.type) ?? "",
                obj(args.props.options) ?? {},
            );
        } else if (args.type === TYPES.container && vaultRole(args.props) !== undefined) {
            for (const cfg of serverConfigs(args.props, () => undefined))
                for (const d of configAuditDevices(cfg.json))
                    judge(`${cfg.file}: audit device ${d.type} "${d.path}"`, d.type, d.options);
        } else if (MOUNT_TYPES.includes(args.type)) {
            const tune = obj(arr(args.props.tune)[0]) ?? obj(args.props.tune) ?? {};
            for (const k of ["auditNonHmacRequestKeys", "auditNonHmacResponseKeys"]) {
                const keys = [...arr(args.props[k]), ...arr(tune[k])].map(String);
                if (keys.length > 0)
                    report(
                        `${args.type.split(":").pop()} ${str(args.props.path) ?? args.name} sets ${k} ${JSON.stringify(keys)}: those values are written to the audit log in plain text; remove it.`,
                    );
            }
        }
    },
};
