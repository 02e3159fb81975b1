import type { StackValidationPolicy } from "@pulumi/policy";
import { obj, serverConfigs, str, vaultServers } from "./lib/common";

export const AUDIT_TYPE = "vault:index/audit:Audit";

/** Audit devices a server config declares (OpenBao ≥ 2.3 declares them in the file): `[type, path]`. */
export function configAuditDevices(
    cfg: Record<string, unknown>,
): { type: string; path: string; options: Record<string, unknown> }[] {
    const out: { type: string; path: string; options: Record<string, unknown> }[] = [];
    const raw = cfg.audit;
    for (const item of Array.isArray(raw) ? raw : raw !== undefined ? [raw] : []) {
        for (const [type, byPath] of Object.entries(obj(item) ?? {})) {
            for (const [path, dev] of Object.entries(obj(byPath) ?? {}))
                out.push({ type, path, options: obj(obj(dev)?.options) ?? {} });
        }
    }
    return out;
}

/**
 * Seed §3: a blocking audit device that cannot write stops Vault, so keep at least two; a socket
 * device alone loses records whenever the shipper is down, so one must be file or syslog.
 *
 * One-field changes that would undo the same protection, each covered here: a device removed (one
 * left); every device turned into a socket device (lost whenever the shipper is down).
 */
export const vaultAuditDevicesRedundant: StackValidationPolicy = {
    name: "vault-audit-devices-redundant",
    description:
        "A stack with Vault servers declares at least two audit devices, at least one of them file or syslog (not socket).",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "audit", "seed-3"],
    remediationSteps:
        "Declare a `file` audit device on the audit volume and a second `syslog` or `socket` device (vault.Audit, or the config's audit stanza on OpenBao).",
    validateStack: (args, report) => {
        const servers = vaultServers(args);
        const apiDevices = args.resources
            .filter((r) => r.type === AUDIT_TYPE)
            .map((r) => ({ type: str(r.props.type) ?? "?", path: str(r.props.path) ?? r.name }));
        if (servers.length === 0 && apiDevices.length === 0) return;
        const fileDevices = new Map<string, string>();
        for (const s of servers.slice(0, 1))
            for (const cfg of serverConfigs(s.props, () => undefined))
                for (const d of configAuditDevices(cfg.json)) fileDevices.set(`${d.type}:${d.path}`, d.type);
        const devices = [...apiDevices.map((d) => d.type), ...fileDevices.values()];
        if (devices.length < 2)
            report(
                `The stack declares ${devices.length} audit device${devices.length === 1 ? "" : "s"} (${devices.join(", ") || "none"}); declare at least two, because a blocked device stops Vault.`,
            );
        if (devices.length > 0 && !devices.some((t) => t === "file" || t === "syslog"))
            report(
                `Every audit device is of type ${[...new Set(devices)].join(", ")}; add a file or syslog device so records survive a shipper outage.`,
            );
    },
};
