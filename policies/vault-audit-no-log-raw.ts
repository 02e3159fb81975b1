import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, explicitlyFalse, obj, serverConfigs, str, truthy, vaultRole, type Props } from "./lib/common";
import { AUDIT_TYPE, configAuditDevices } from "./vault-audit-devices-redundant";

function check(where: string, options: Props, report: (m: string) => void): void {
    if (truthy(options.log_raw))
        report(`${where} sets log_raw; secrets would be written to the audit log in plain text. Remove log_raw.`);
    if (explicitlyFalse(options.hmac_accessor))
        report(`${where} sets hmac_accessor=false; token accessors would be logged in plain text. Remove it.`);
}

/**
 * Seed §3: audit entries are HMAC-hashed by default; log_raw turns that off for every secret.
 *
 * One-field changes that would undo the same protection, each covered here: `log_raw` as true,
 * `"true"`, `"1"` or 1; `hmac_accessor` as false, `"false"`, `"0"` or 0; on any device, the vault.Audit
 * resources and OpenBao's config-declared devices alike.
 */
export const vaultAuditNoLogRaw: ResourceValidationPolicy = {
    name: "vault-audit-no-log-raw",
    description: "No audit device (vault.Audit or a config-declared device) sets log_raw, or hmac_accessor=false.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "audit", "seed-3"],
    remediationSteps: "Remove `log_raw` (and `hmac_accessor: false`) from the audit device options.",
    validateResource: (args, report) => {
        if (args.type === AUDIT_TYPE) {
            check(
                `Audit device ${str(args.props.path) ?? args.name} (${str(args.props.type) ?? "?"})`,
                obj(args.props.options) ?? {},
                report,
            );
        } else if (args.type === TYPES.container && vaultRole(args.props) !== undefined) {
            for (const cfg of serverConfigs(args.props, () => undefined))
                for (const d of configAuditDevices(cfg.json))
                    check(`${cfg.file}: audit device ${d.type} "${d.path}"`, d.options, report);
        }
    },
};
