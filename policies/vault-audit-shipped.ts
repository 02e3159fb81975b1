import type { StackValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, TYPES, arr, isProdStack, obj, roleOf, str, vaultServers } from "./lib/common";

/** The label value of the program's audit shipper containers (components/audit/auditShipper.ts). */
export const AUDIT_SHIPPER_ROLE = "audit-shipper";
/** Where every Vault server's file audit device writes (components/settings/audit.ts AUDIT_DIR). */
export const AUDIT_MOUNT = "/vault/audit";

/** Volume names a container mounts at `path` (or anywhere, without `path`). */
function mountedVolumes(props: Record<string, unknown>, path?: string): string[] {
    return arr(props.volumes)
        .map((v) => obj(v))
        .filter((v) => v !== undefined && (path === undefined || str(v.containerPath) === path))
        .map((v) => str(v!.volumeName))
        .filter((n): n is string => n !== undefined);
}

/**
 * Seed §3: "Ship audit logs to an immutable store". On a production stack every Vault server's
 * audit volume is mounted by an audit shipper container (label bonito.role=audit-shipper) that
 * runs rclone, so the node's rotated audit files leave the node for the write-once archive; the
 * rotator deletes only files the shipper has confirmed.
 *
 * One-field changes that would undo the same protection, each covered here: a node's shipper
 * removed; a shipper pointed at another node's volume (so one node ships nothing); a shipper that
 * does not run rclone.
 */
export const vaultAuditShipped: StackValidationPolicy = {
    name: "vault-audit-shipped",
    description:
        "On production stacks every Vault server's audit volume is mounted by an audit shipper container (bonito.role=audit-shipper) running rclone, which copies the rotated audit files to write-once storage.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "audit", "seed-3"],
    remediationSteps:
        "Set auditShipping: true (the default): the program declares one rclone shipper per node (components/audit/auditShipper.ts) that mounts the node's audit volume and ships to the audit archive.",
    configSchema: PROD_SCHEMA,
    validateStack: (args, report) => {
        if (!isProdStack(args)) return;
        const shipped = new Set<string>();
        for (const r of args.resources) {
            if (r.type !== TYPES.container || roleOf(r.props) !== AUDIT_SHIPPER_ROLE) continue;
            const script = arr(r.props.entrypoints).map(String).join(" ");
            if (!/\brclone\s/.test(script)) {
                report(
                    `Audit shipper ${r.name} does not run rclone; its entrypoint must be the rendered shipper script.`,
                );
                continue;
            }
            for (const v of mountedVolumes(r.props)) shipped.add(v);
        }
        for (const s of vaultServers(args)) {
            const audit = mountedVolumes(s.props, AUDIT_MOUNT);
            if (audit.length === 0) {
                report(
                    `Vault server ${s.name} mounts no volume at ${AUDIT_MOUNT}, where its file audit device writes.`,
                );
                continue;
            }
            for (const v of audit)
                if (!shipped.has(v))
                    report(
                        `Vault server ${s.name}'s audit volume ${v} is mounted by no audit shipper; its audit logs never reach immutable storage (set auditShipping: true).`,
                    );
        }
    },
};
