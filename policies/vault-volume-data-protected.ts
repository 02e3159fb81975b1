import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, obj, serverConfigs, storageOf, str, vaultServers } from "./lib/common";

/**
 * Raft data and audit logs must outlive any container: each node keeps its own Docker volume, and
 * the volume is `protect`ed so replacing a node or `pulumi destroy` cannot delete it.
 * (`retainOnDelete` is not visible to policies: the engine passes only `protect` in the options.)
 *
 * One-field changes that would undo the same protection, each covered here: `protect` removed from
 * a data or audit volume; /vault/data moved to a host bind mount (`hostPath`, or a `bind`/`tmpfs`
 * mount) or to an unmounted path (the storage `path` changed); two nodes mounting the same volume;
 * a volume the stack does not declare.
 */
export const vaultVolumeDataProtected: StackValidationPolicy = {
    name: "vault-volume-data-protected",
    description:
        "Each Vault server keeps its storage path on its own Docker volume (not shared, not a bind mount), and every Docker volume mounted into a Vault server is declared with protect.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "durability"],
    remediationSteps:
        "Declare one docker.Volume per node for /vault/data (and /vault/audit) with `{ protect: true, retainOnDelete: true }` and mount it with `volumes: [{ volumeName, containerPath }]`.",
    validateStack: (args, report) => {
        const volumes = new Map<string, PolicyResource>();
        for (const r of args.resources) if (r.type === TYPES.volume) volumes.set(str(r.props.name) ?? r.name, r);
        const owners = new Map<string, string>();
        for (const s of vaultServers(args)) {
            const mounts = arr(s.props.volumes).map((v) => obj(v) ?? {});
            for (const m of arr(s.props.mounts).map((v) => obj(v) ?? {}))
                if (str(m.type) === "volume") mounts.push({ volumeName: m.source, containerPath: m.target });
                else mounts.push({ hostPath: m.source, containerPath: m.target });
            for (const cfg of serverConfigs(s.props, (m) => report(m, s.urn))) {
                const path = str(storageOf(cfg.json)?.settings.path);
                if (path === undefined) continue;
                const m = mounts.find((x) => str(x.containerPath) === path);
                if (!m)
                    report(
                        `${s.name} keeps its storage path ${path} in the container's writable layer; mount a protected Docker volume there.`,
                        s.urn,
                    );
                else if (!str(m.volumeName))
                    report(
                        `${s.name} keeps ${path} on a bind mount (${str(m.hostPath) ?? "?"}); use a protected Docker volume.`,
                        s.urn,
                    );
            }
            for (const m of mounts) {
                const name = str(m.volumeName);
                if (!name) continue;
                const other = owners.get(name);
                if (other !== undefined && other !== s.name)
                    report(
                        `Volume ${name} is mounted by ${other} and ${s.name}; each node needs its own data volume.`,
                        s.urn,
                    );
                owners.set(name, s.name);
                const vol = volumes.get(name);
                if (!vol)
                    report(
                        `${s.name} mounts volume ${name}, which this stack does not declare; declare it as a protected docker.Volume.`,
                        s.urn,
                    );
                else if (!vol.opts.protect)
                    report(
                        `Volume ${name} (${str(m.containerPath) ?? "?"} of ${s.name}) is not protected; declare it with { protect: true, retainOnDelete: true }.`,
                        vol.urn,
                    );
            }
        }
    },
};
