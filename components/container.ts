/**
 * hardenedContainer: the one place every Docker container of the stack is declared, so the
 * hardening a review looks for is written once and cannot drift between containers:
 *
 * - every Linux capability dropped (`drops: ["ALL"]`), adding back only what the caller names
 *   (the Vault images' entrypoint: CHOWN, IPC_LOCK, SETGID, SETUID; every sidecar: none);
 * - `no-new-privileges`, so no setuid binary in the image regains what was dropped;
 * - the `core` ulimit 0 (soft and hard): a crashing process writes no memory (keys, tokens,
 *   snapshot bytes) to disk; callers may add other limits after it, never replace it;
 * - no swap (`memorySwap` equal to `memory`), so secrets in memory never reach disk;
 * - json-file logs rotated at {@link LOG_OPTS}, so no container fills its host's disk;
 * - `restart: unless-stopped` (`no` for a one-shot step);
 * - labels: `bonito.role` (what the container is, {@link ContainerRole}; the policy pack finds
 *   every container by it), `bonito.stack`, and `bonito.node` for a container that belongs to
 *   one Vault node.
 *
 * It returns a plain `docker.Container` with the caller's name, parent and provider: no component
 * is put between the container and its parent, because a new parent changes the URN and would
 * replace the running containers of every deployed stack.
 */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { DockerTarget } from "./dockerHosts";

/** The `bonito.role` of each kind of container; policies/lib/common.ts lists the same values. */
export type ContainerRole =
    | "vault-server"
    | "vault-unsealer"
    | "snapshot-agent"
    | "snapshot-uploader"
    | "audit-shipper"
    | "prometheus"
    | "alertmanager"
    | "blackbox"
    | "mtail"
    | "metrics-agent"
    | "audit-archive-init";

export const ROLE_LABEL = "bonito.role";

/** Log rotation of every container: at most 5 files of 20 MB (100 MB) per container. */
export const LOG_OPTS = { "max-size": "20m", "max-file": "5" } as const;

/** No core dumps: a crashing process must not write keys, tokens or snapshot bytes to disk. */
export const NO_CORE_DUMPS = { name: "core", soft: 0, hard: 0 } as const;

/** The fields this builder decides; a caller cannot pass them. */
const DECIDED = [
    "capabilities",
    "securityOpts",
    "ulimits",
    "memorySwap",
    "logDriver",
    "logOpts",
    "restart",
    "labels",
    "privileged",
] as const;
type Decided = (typeof DECIDED)[number];

export interface HardenedContainerArgs extends Omit<docker.ContainerArgs, Decided> {
    /** What the container is (`bonito.role`). */
    role: ContainerRole;
    /** The stack name (`bonito.stack`). */
    stack: string;
    /** The Vault node the container belongs to (`bonito.node`); only for per-node containers. */
    node?: string;
    /** Memory limit in MB; swap is set equal (none). Required: every container has a bound. */
    memory: number;
    /** Capabilities added back after dropping ALL; default none. */
    addCapabilities?: string[];
    /** Limits after the core-dump one (e.g. nofile for Vault); default none. */
    extraUlimits?: docker.types.input.ContainerUlimit[];
    /** Labels after role, stack and node (e.g. the TLS mode the policy pack reads). */
    extraLabels?: docker.types.input.ContainerLabel[];
    /**
     * A step that runs once and exits (restart `no`) instead of a service (`unless-stopped`);
     * pair it with `attach: true` so that Pulumi waits for it to finish.
     */
    oneShot?: boolean;
}

/** The labels of a container: role, stack, node (when given), then the extras, in that order. */
export function containerLabels(a: {
    role: ContainerRole;
    stack: string;
    node?: string;
    extraLabels?: docker.types.input.ContainerLabel[];
}): docker.types.input.ContainerLabel[] {
    return [
        { label: ROLE_LABEL, value: a.role },
        { label: "bonito.stack", value: a.stack },
        ...(a.node !== undefined ? [{ label: "bonito.node", value: a.node }] : []),
        ...(a.extraLabels ?? []),
    ];
}

/** The container arguments with the hardening filled in (pure: no resource is created). */
export function hardenedContainerArgs(args: HardenedContainerArgs): docker.ContainerArgs {
    const { role, stack, node, addCapabilities, extraUlimits, extraLabels, oneShot, ...rest } = args;
    // A field decided here that reaches this function anyway (past the types) is dropped, not obeyed.
    const passed = Object.fromEntries(
        Object.entries(rest).filter(([k]) => !(DECIDED as readonly string[]).includes(k)),
    ) as Omit<docker.ContainerArgs, Decided>;
    return {
        ...passed,
        capabilities: { ...(addCapabilities?.length ? { adds: addCapabilities } : {}), drops: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        ulimits: [{ ...NO_CORE_DUMPS }, ...(extraUlimits ?? [])],
        memorySwap: args.memory,
        restart: oneShot ? "no" : "unless-stopped",
        logDriver: "json-file",
        logOpts: { ...LOG_OPTS },
        labels: containerLabels({ role, stack, node, extraLabels }),
    };
}

/** Declare a container through {@link hardenedContainerArgs}; name and options are the caller's. */
export function hardenedContainer(
    name: string,
    args: HardenedContainerArgs,
    opts: pulumi.CustomResourceOptions,
): docker.Container {
    return new docker.Container(name, hardenedContainerArgs(args), opts);
}

/**
 * One pulled image per Docker host, named `<prefix>-<i>` in the order the hosts are first asked
 * for (so a stack on one host keeps `<prefix>-0`), under `parent`, kept locally on destroy.
 */
export function imagePerHost(
    prefix: string,
    image: pulumi.Input<string>,
    parent: pulumi.Resource,
): (target: DockerTarget) => docker.RemoteImage {
    const images = new Map<DockerTarget, docker.RemoteImage>();
    return (target) => {
        let pulled = images.get(target);
        if (!pulled) {
            pulled = new docker.RemoteImage(
                `${prefix}-${images.size}`,
                { name: image, keepLocally: true },
                { parent, provider: target.provider },
            );
            images.set(target, pulled);
        }
        return pulled;
    };
}
