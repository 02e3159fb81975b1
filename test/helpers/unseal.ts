/**
 * Shared set-up of the unseal tests (test/mocks/unseal-<cloud>.test.ts): one UnsealKey built from
 * short config keys on a stand-in Docker network, under the mock runtime the caller installed.
 */
import type * as pulumi from "@pulumi/pulumi";
import { settle, valueOf, type MockRun } from "./mocks";

export async function buildUnsealKey(
    name: string,
    keys: Record<string, string>,
    opts: {
        transformations: pulumi.ResourceTransformation[];
        secretKeys?: string[];
        stack?: string;
        networkName?: string;
    },
) {
    const { loadConfig } = await import("../../components/config");
    const docker = await import("@pulumi/docker");
    const { UnsealKey } = await import("../../components/unseal/unsealKey");
    const { planPlatform } = await import("../../components/plan");
    // The unseal key alone: no entry point (staging would otherwise need a load balancer's keys).
    const raw = Object.fromEntries(
        Object.entries({ entryPoint: "none", ...keys }).map(([k, v]) => [`bonito-vault:${k}`, v]),
    );
    const config = loadConfig(opts.stack ?? "staging", raw, new Set(opts.secretKeys ?? []));
    const network = new docker.Network(`${name}-net`, { name: opts.networkName ?? `${name}-net` });
    const unseal = new UnsealKey(
        name,
        { ...planPlatform(config).unseal, targets: [{ provider: undefined, network, host: "default" }] },
        { transformations: opts.transformations },
    );
    await settle(unseal);
    return unseal;
}

/** `<type> <name>` of every resource the UnsealKey `prefix` declared (the stand-in network excluded). */
export function childrenOf(run: MockRun, prefix: string): string[] {
    return run.resources
        .filter((r) => r.name.startsWith(`${prefix}-`) && r.name !== `${prefix}-net`)
        .map((r) => `${r.type} ${r.name}`);
}

/** Build the whole program under the installed mocks and return every node's rendered server config. */
export async function programServerConfigs(): Promise<string[]> {
    const { buildProgram } = await import("../../program");
    const { platform } = buildProgram();
    await settle(platform);
    return Promise.all(platform.cluster.serverConfigs.map((c) => valueOf(c)));
}
