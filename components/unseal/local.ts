/**
 * local: a `transit` seal against a separate, persistent "unsealer" Vault (server mode, file
 * storage on a protected volume, never -dev) on the cluster's Docker network. A dynamic resource
 * initialises it once, enables transit, creates the key, a policy and an orphan periodic token,
 * then revokes the root token. The local cluster then restarts and unseals like prod.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { Engine } from "../config";
import type { LocalUnseal } from "../config/unseal";
import { type SealDelivery, transitStanza } from "../seal";
import type { DockerTarget } from "../dockerHosts";
import { RUNTIME_USER, START_CAPABILITIES, START_USER, dropRootEntrypoint } from "../runtime";
import { containerLabels, hardenedContainer } from "../container";
import { dockerName } from "../naming";
import { dynamicResourceArgs, DYNAMIC_MODULE } from "../dynamicResource";
import { transitPolicy } from "./iam";
import {
    DEFAULT_WAITER,
    diffUnsealer,
    ensureUnsealed,
    runBootstrap,
    type TransitSetup,
    UNSEALER_INIT_KIND,
} from "./transit";

export const UNSEALER_API_PORT = 8200;
export const UNSEALER_PATHS = { config: "/vault/config/unsealer.json", data: "/vault/file" } as const;
export const TRANSIT_MOUNT = "transit";
export const TRANSIT_POLICY = "bonito-vault-seal";

/** The unsealer's server config (JSON). No TLS: it listens only on the Docker network and 127.0.0.1. */
export function renderUnsealerConfig(a: { containerName: string }): string {
    return (
        JSON.stringify(
            {
                storage: { file: { path: UNSEALER_PATHS.data } },
                listener: [{ tcp: { address: `0.0.0.0:${UNSEALER_API_PORT}`, tls_disable: true } }],
                api_addr: `http://${a.containerName}:${UNSEALER_API_PORT}`,
                // Swap is off for the container (memorySwap = memory), as for the cluster nodes.
                disable_mlock: true,
                ui: false,
                log_level: "info",
                default_lease_ttl: "1h",
                // Bounds the periodic token's period.
                max_lease_ttl: "8760h",
            },
            null,
            2,
        ) + "\n"
    );
}

export function transitSetup(u: LocalUnseal): TransitSetup {
    return {
        mountPath: TRANSIT_MOUNT,
        keyName: u.keyName,
        policyName: TRANSIT_POLICY,
        tokenPeriod: u.tokenPeriod,
        autoRotatePeriod: `${u.rotationDays * 24}h`,
        policy: transitPolicy(TRANSIT_MOUNT, u.keyName),
    };
}

/**
 * The dynamic provider. Serialised into state by Pulumi: it may only capture the functions above
 * and globals (`fetch`), never config objects or resources.
 */
export const unsealerProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: TransitSetup & { address: string }) {
        const out = await runBootstrap(fetch, inputs.address, inputs, DEFAULT_WAITER);
        return { id: `unsealer-${inputs.keyName}`, outs: { ...inputs, ...out } };
    },
    async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
        return { ...diffUnsealer(olds, news), deleteBeforeReplace: true };
    },
    async update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
        // A replaced container starts sealed: unseal it with the key from state.
        await ensureUnsealed(fetch, String(news.address), String(olds.unsealKey), DEFAULT_WAITER);
        return { outs: { ...news, unsealKey: olds.unsealKey, transitToken: olds.transitToken } };
    },
    async delete() {
        // Nothing to undo: the unsealer's volume is retained, and with it the cluster's seal.
    },
};

interface UnsealerInitInputs extends TransitSetup {
    address: string;
    containerId: pulumi.Input<string>;
}

/** Holds the unsealer's unseal key and the seal token, both as secrets. */
export class UnsealerInit extends pulumi.dynamic.Resource {
    declare public readonly unsealKey: pulumi.Output<string>;
    declare public readonly transitToken: pulumi.Output<string>;
    constructor(name: string, args: UnsealerInitInputs, opts: pulumi.CustomResourceOptions) {
        const secret = ["unsealKey", "transitToken"] as const;
        const d = dynamicResourceArgs(args, opts, { outputs: secret, secret });
        super(unsealerProvider, name, d.props, d.opts, DYNAMIC_MODULE, UNSEALER_INIT_KIND);
    }
}

/** What the local unsealer container is made of: the cluster's engine and image, the stack's names. */
export interface UnsealerArgs {
    engine: Engine;
    image: string;
    clusterName: string;
    stack: string;
}

export function createLocalUnseal(
    name: string,
    parent: pulumi.Resource,
    cfg: UnsealerArgs,
    u: LocalUnseal,
    target: DockerTarget,
): SealDelivery {
    const child = { parent, provider: target.provider };
    const runtime = RUNTIME_USER[cfg.engine];
    const containerName = dockerName(cfg, "unsealer");
    const labels = containerLabels({ role: "vault-unsealer", stack: cfg.stack });

    // The transit key lives in this volume: losing it loses the cluster and every snapshot.
    const volume = new docker.Volume(
        `${name}-unsealer-data`,
        { name: dockerName(cfg, "unsealer-data"), driver: "local", labels },
        { ...child, protect: true, retainOnDelete: true },
    );
    const image = new docker.RemoteImage(`${name}-unsealer-image`, { name: cfg.image, keepLocally: true }, child);
    const container = hardenedContainer(
        `${name}-unsealer`,
        {
            name: containerName,
            image: image.imageId,
            hostname: "unsealer",
            user: START_USER,
            entrypoints: dropRootEntrypoint(cfg.engine, [UNSEALER_PATHS.data], "bonito-unsealer-entrypoint"),
            command: ["server", `-config=${UNSEALER_PATHS.config}`],
            init: true,
            addCapabilities: START_CAPABILITIES.adds,
            memory: 256,
            volumes: [{ volumeName: volume.name, containerPath: UNSEALER_PATHS.data }],
            uploads: [
                {
                    file: UNSEALER_PATHS.config,
                    content: renderUnsealerConfig({ containerName }),
                    owner: runtime.uid,
                    group: runtime.gid,
                    permissions: "0440",
                },
            ],
            // Loopback only: the Pulumi host initialises and re-unseals it; nothing else outside Docker.
            ports: [{ internal: UNSEALER_API_PORT, external: u.port, ip: "127.0.0.1", protocol: "tcp" }],
            networksAdvanced: [{ name: target.network.name, aliases: [containerName] }],
            role: "vault-unsealer",
            stack: cfg.stack,
            mustRun: true,
            wait: false,
        },
        { ...child, deleteBeforeReplace: true },
    );

    const setup = transitSetup(u);
    const init = new UnsealerInit(
        `${name}-unsealer-init`,
        { ...setup, address: `http://127.0.0.1:${u.port}`, containerId: container.id },
        // Its state holds the only copy of the unsealer's unseal key.
        { parent, protect: true, dependsOn: [container] },
    );

    return {
        stanza: pulumi.output(
            transitStanza(`http://${containerName}:${UNSEALER_API_PORT}`, `${TRANSIT_MOUNT}/`, u.keyName),
        ),
        env: pulumi.secret(init.transitToken.apply((t) => [`VAULT_TOKEN=${t}`])),
        files: [],
        dependsOn: [init],
        keyId: pulumi.output(`${containerName}:${TRANSIT_MOUNT}/keys/${u.keyName}`),
        identity: pulumi.output(`token policy ${TRANSIT_POLICY} (orphan, period ${u.tokenPeriod})`),
    };
}
