import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, isVaultContainer, obj, str, truthy, type Props } from "./lib/common";

/**
 * What the Vault image's entrypoint needs to start as root, chown its volumes, drop to the vault
 * user (su-exec) and lock memory, and what its init (tini, root) needs to forward `docker stop`'s
 * SIGTERM to the server's uid (KILL). Every other container of the stack adds nothing.
 */
export const VAULT_CAPABILITIES = ["CHOWN", "IPC_LOCK", "KILL", "SETGID", "SETUID"];
/** Host paths a container may bind-mount: the host's syslog socket (the syslog audit device). */
export const HOST_PATHS_ALLOWED = ["/dev/log"];
const NO_NEW_PRIVILEGES = /^no-new-privileges([:=]true)?$/i;
const NAMESPACES = ["networkMode", "pidMode", "ipcMode", "usernsMode", "cgroupnsMode"] as const;

export function capabilityName(c: unknown): string {
    return String(c).trim().toUpperCase().replace(/^CAP_/, "");
}

function hostPaths(props: Props): string[] {
    const binds = arr(props.volumes)
        .map((v) => str(obj(v)?.hostPath))
        .filter((p): p is string => p !== undefined && p !== "");
    for (const m of arr(props.mounts).map((x) => obj(x) ?? {}))
        if (str(m.type) === "bind" && str(m.source)) binds.push(str(m.source)!);
    return binds;
}

/**
 * A container is a process on the Docker host with the host kernel's privileges minus what Docker
 * takes away. Every container of the stack keeps Docker's fences up: no capability beyond an
 * allow-list, every default capability dropped, no privilege gain through setuid binaries, no host
 * namespace, no host device or host directory beyond the syslog socket.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `capabilities.adds` gains SYS_ADMIN, SYS_PTRACE, DAC_READ_SEARCH, NET_ADMIN, `ALL`, or the same
 *   with a `CAP_` prefix or in lower case (all normalised before the allow-list is applied);
 * - `capabilities.drops` loses `ALL` (or is removed, or lists only some capabilities);
 * - `securityOpts` loses `no-new-privileges` (or is removed, or says `no-new-privileges:false`),
 *   or gains `seccomp=unconfined`, `apparmor=unconfined`, `label=disable`, `systempaths=unconfined`
 *   (only the no-new-privileges forms are allowed);
 * - `privileged: true` (or `"true"`), which hands over every capability and device;
 * - `networkMode`, `pidMode`, `ipcMode`, `usernsMode` or `cgroupnsMode` set to `host` (and
 *   `networkMode: container:<x>`, which shares another container's network stack);
 * - `devices` gains a host device; `volumes[].hostPath` or a `bind` mount reaches the host's
 *   filesystem (`/`, `/var/run/docker.sock`, `/proc`) beyond {@link HOST_PATHS_ALLOWED}.
 */
export const containerSecurityLeastPrivilege: ResourceValidationPolicy = {
    name: "container-security-least-privilege",
    description:
        "Every container drops ALL capabilities and adds none beyond Vault's CHOWN, IPC_LOCK, KILL, SETGID, SETUID (Vault containers) or none (others); sets no-new-privileges and no other security option; is not privileged; shares no host namespace; maps no host device and bind-mounts nothing but /dev/log.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["docker", "hardening", "least-privilege"],
    remediationSteps:
        'Declare `capabilities: { adds: [<only what the process needs>], drops: ["ALL"] }`, `securityOpts: ["no-new-privileges:true"]`, no `privileged`, no `host` namespace modes, no `devices`, and Docker volumes instead of host paths.',
    validateResource: (args, report) => {
        if (args.type !== TYPES.container) return;
        const p = args.props;
        const allowed = isVaultContainer(p) ? VAULT_CAPABILITIES : [];
        const caps = obj(p.capabilities);
        const extra = arr(caps?.adds)
            .map(capabilityName)
            .filter((c) => !allowed.includes(c));
        if (extra.length > 0)
            report(
                `The container adds capabilities ${extra.join(", ")}; allowed here: ${allowed.join(", ") || "none"}. Remove them.`,
            );
        if (!arr(caps?.drops).map(capabilityName).includes("ALL"))
            report('The container keeps Docker\'s default capabilities; set `capabilities.drops: ["ALL"]`.');
        const opts = arr(p.securityOpts).map(String);
        if (!opts.some((o) => NO_NEW_PRIVILEGES.test(o.trim())))
            report(
                'The container can gain privileges through setuid binaries; add securityOpts "no-new-privileges:true".',
            );
        for (const o of opts.filter((x) => !NO_NEW_PRIVILEGES.test(x.trim())))
            report(`The container sets security option "${o}"; only "no-new-privileges:true" is allowed. Remove it.`);
        if (truthy(p.privileged)) report("The container is privileged; remove `privileged`.");
        for (const ns of NAMESPACES) {
            const mode = str(p[ns])?.trim().toLowerCase() ?? "";
            if (mode === "host" || (ns === "networkMode" && mode.startsWith("container:")))
                report(`The container sets ${ns} "${str(p[ns])}", sharing a namespace it must not; remove ${ns}.`);
        }
        if (arr(p.devices).length > 0) report("The container maps host devices; remove `devices`.");
        for (const h of hostPaths(p).filter((x) => !HOST_PATHS_ALLOWED.includes(x.replace(/\/+$/, ""))))
            report(`The container bind-mounts the host path ${h}; use a Docker volume instead.`);
    },
};
