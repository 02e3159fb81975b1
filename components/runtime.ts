/**
 * How a Vault or OpenBao server process starts inside its container, shared by the cluster nodes
 * and the local transit unsealer.
 *
 * The container starts as root only to make fresh volume roots writable, then drops to the image's
 * unprivileged account for good with su-exec. Root must be explicit: the hashicorp/vault image has
 * no USER line, but openbao/openbao ends with `USER openbao`, under which the chown fails and the
 * container restarts forever. su-exec changing the uid also clears every capability, so the
 * server itself runs with none.
 */
import type { Engine } from "./config";

/** The unprivileged account of the official images (alpine `adduser -S`: uid 100, gid 1000). */
export const RUNTIME_USER: Record<Engine, { user: string; binary: string; uid: string; gid: string }> = {
    vault: { user: "vault", binary: "vault", uid: "100", gid: "1000" },
    openbao: { user: "openbao", binary: "bao", uid: "100", gid: "1000" },
};

/** The container's user: root, for the entrypoint's chown and su-exec only. */
export const START_USER = "0:0";

/**
 * Capabilities the entrypoint needs (chown the volumes, switch user) plus IPC_LOCK, and KILL for the
 * container's init: tini runs as root and forwards `docker stop`'s SIGTERM to the server, which runs
 * as uid 100; without CAP_KILL the kernel refuses that signal, tini exits on the refusal and Vault is
 * killed without its graceful shutdown (seen in the Docker tier). All else dropped; the server
 * itself holds none of them once su-exec has switched its user.
 */
export const START_CAPABILITIES = { adds: ["CHOWN", "IPC_LOCK", "KILL", "SETGID", "SETUID"], drops: ["ALL"] };

/**
 * The entrypoint: chown the given volume roots to the runtime user, close them to everyone else as
 * that user (0700: `vault operator diagnose` flags a Raft folder others can read; root without
 * CAP_FOWNER may not chmod a folder it no longer owns, as on every restart), then exec the server as that
 * user with the container's command as arguments. The image's own entrypoint is bypassed because
 * hashicorp/vault's adds `-config=/vault/config` (the whole directory), which would load our file
 * twice. No secret is ever part of it.
 */
export function dropRootEntrypoint(
    engine: Engine,
    writableDirs: readonly string[],
    label: string,
    /**
     * A shell script (a path in the container) started in the background as the runtime user just
     * before the server: it lives in the server's container, so it stops, restarts and is replaced
     * with it. The subshell exits at once, so the script's parent becomes the container's init.
     */
    background?: string,
    /**
     * A file the server must not start without (the TLS marker NodeTls writes after the container
     * starts): the entrypoint waits for it, once saying so on stderr. A SIGHUP meanwhile is caught
     * (`trap : HUP`), not fatal; `exec` restores the default, so the server installs its own handler.
     */
    waitFor?: string,
): string[] {
    const { user, binary } = RUNTIME_USER[engine];
    const dirs = writableDirs.join(" ");
    const wait = waitFor
        ? ` && trap : HUP && { [ -s ${waitFor} ] || echo "${label}: waiting for ${waitFor} (written by Pulumi's NodeTls once the container runs)" >&2; }` +
          ` && until [ -s ${waitFor} ]; do sleep 1; done`
        : "";
    const bg = background ? ` && (su-exec ${user} /bin/sh ${background} &)` : "";
    return [
        "/bin/sh",
        "-ec",
        `chown ${user}:${user} ${dirs} && su-exec ${user} chmod 0700 ${dirs}${wait}${bg} && exec su-exec ${user} ${binary} "$@"`,
        label,
    ];
}
