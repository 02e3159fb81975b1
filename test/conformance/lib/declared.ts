/**
 * What the program declares for a stack, read the way `npm run render` reads it: the whole program
 * runs under Pulumi's mock runtime, and every value the real-server tier starts Vault with comes
 * from the recorded resource inputs (server configs, the unsealer's config, certificate SANs and key
 * usages, the dynamic providers exactly as serialised into state, the settings plan, the backend's
 * environment). Nothing here restates the program.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, type StackConfig } from "../../../components/config";
import type { VaultSettingsPlan } from "../../../components/settings/plan";
import { setupMocks, stackConfig, valueOf, type Recorded } from "../../helpers/mocks";

export interface DeclaredCert {
    commonName: string;
    dnsNames: string[];
    ipAddresses: string[];
    allowedUses: string[];
    validityHours: number;
}

export interface DeclaredDynamic {
    /** The provider module text the engine stores in state (`__provider`). */
    providerText: string;
    /** The resource's other inputs, secrets unwrapped. */
    inputs: Record<string, unknown>;
}

export interface DeclaredUpload {
    file: string;
    content: string;
    owner?: string;
    group?: string;
    permissions?: string;
}

export interface DeclaredContainer {
    name: string;
    entrypoints: string[];
    command: string[];
    envs: string[];
    uploads: DeclaredUpload[];
    volumes: { containerPath: string; volumeName?: string; hostPath?: string }[];
    raw: Record<string, unknown>;
}

export interface DeclaredStack {
    stack: string;
    config: StackConfig;
    nodeNames: string[];
    /** Per node, by name: the rendered server.json text. */
    serverConfigs: Record<string, string>;
    nodes: Record<string, DeclaredContainer>;
    unsealer?: DeclaredContainer;
    ca: DeclaredCert;
    nodeCerts: Record<string, DeclaredCert>;
    unsealerInit?: DeclaredDynamic;
    vaultInit: DeclaredDynamic;
    vaultHandover: DeclaredDynamic;
    /** Per node, by name: the rolling-change gate (components/nodeReady.ts). */
    nodeReady: Record<string, DeclaredDynamic>;
    /** Per node, by name: the push of its TLS files into its container (components/tls/nodeTls.ts). */
    nodeTls: Record<string, DeclaredDynamic>;
    /** Per node, by name: the hand-over gate before its container (components/rolling.ts). */
    nodeTurn: Record<string, DeclaredDynamic>;
    /** The check before the first replacement of a roll (components/rolling.ts). */
    rollCheck: DeclaredDynamic;
    /** The metrics agent's configuration file (components/monitoring/metricsPolicy.ts). */
    metricsAgentConfig: string;
    plan: VaultSettingsPlan;
    resources: Recorded[];
}

function container(r: Recorded): DeclaredContainer {
    const i = r.inputs;
    return {
        name: String(i.name),
        entrypoints: (i.entrypoints as string[] | undefined) ?? [],
        command: (i.command as string[] | undefined) ?? [],
        envs: (i.envs as string[] | undefined) ?? [],
        uploads: (i.uploads as DeclaredUpload[] | undefined) ?? [],
        volumes: (i.volumes as DeclaredContainer["volumes"] | undefined) ?? [],
        raw: i,
    };
}

function dynamic(r: Recorded): DeclaredDynamic {
    const { __provider, ...inputs } = r.inputs;
    return { providerText: String(__provider), inputs };
}

/** Run the program for `stack` under mocks (with `overrides` on top of the committed stack file; `secretKeys` set as secret config). */
export async function declaredStack(
    stack: string,
    overrides: Record<string, string> = {},
    secretKeys: string[] = [],
): Promise<DeclaredStack> {
    const raw = stackConfig(stack, overrides);
    const config = loadConfig(stack, raw, new Set(secretKeys), { allowExampleKeys: true });
    const run = setupMocks(stack, raw, secretKeys);
    const { buildProgram } = await import("../../../program");
    const { platform } = buildProgram(undefined, undefined, { allowExampleKeys: true });
    await Promise.all(platform.cluster.containers.map((c) => valueOf(c.urn)));
    const configs = await Promise.all(platform.cluster.serverConfigs.map((c) => valueOf(c)));
    await valueOf(pulumi.output(platform.settings.backendEnv));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));

    const nodeNames = platform.nodes.map((n) => n.name);
    const byType = (suffix: string) => run.resources.filter((r) => r.type.endsWith(suffix));
    const containers = byType("docker:index/container:Container");
    const nodes: Record<string, DeclaredContainer> = {};
    for (const n of nodeNames) {
        const c = containers.find((r) => r.inputs.hostname === n && String(r.inputs.name).endsWith(`-${n}`));
        if (!c) throw new Error(`no container declared for node ${n}`);
        nodes[n] = container(c);
    }
    const unsealerRec = containers.find((r) => String(r.inputs.name).endsWith("-unsealer"));
    const cert = (csr: Recorded, signed: Recorded | undefined): DeclaredCert => {
        const subject = csr.inputs.subject as { commonName: string };
        return {
            commonName: subject.commonName,
            dnsNames: (csr.inputs.dnsNames as string[] | undefined) ?? [],
            ipAddresses: (csr.inputs.ipAddresses as string[] | undefined) ?? [],
            allowedUses: (signed?.inputs.allowedUses as string[] | undefined) ?? [],
            validityHours: Number(signed?.inputs.validityPeriodHours ?? 24),
        };
    };
    const caRec = byType("tls:index/selfSignedCert:SelfSignedCert")[0];
    if (!caRec) throw new Error("no CA certificate declared");
    const ca: DeclaredCert = {
        commonName: (caRec.inputs.subject as { commonName: string }).commonName,
        dnsNames: [],
        ipAddresses: [],
        allowedUses: caRec.inputs.allowedUses as string[],
        validityHours: Number(caRec.inputs.validityPeriodHours),
    };
    const nodeCerts: Record<string, DeclaredCert> = {};
    for (const csr of byType("tls:index/certRequest:CertRequest")) {
        const signed = byType("tls:index/locallySignedCert:LocallySignedCert").find(
            (s) => s.name === csr.name.replace(/-csr$/, "-cert"),
        );
        const c = cert(csr, signed);
        nodeCerts[c.commonName] = c;
    }
    const one = (suffix: string): Recorded => {
        const found = byType(suffix);
        if (found.length !== 1) throw new Error(`expected one ${suffix}, found ${found.length}`);
        return found[0];
    };
    const unsealerInitRec = byType(":UnsealerInit")[0];
    return {
        stack,
        config,
        nodeNames,
        serverConfigs: Object.fromEntries(nodeNames.map((n, i) => [n, configs[i]])),
        nodes,
        unsealer: unsealerRec ? container(unsealerRec) : undefined,
        ca,
        nodeCerts,
        unsealerInit: unsealerInitRec ? dynamic(unsealerInitRec) : undefined,
        vaultInit: dynamic(one(":VaultInit")),
        vaultHandover: dynamic(one(":VaultHandover")),
        nodeReady: Object.fromEntries(byType(":NodeReady").map((r) => [String(r.inputs.node), dynamic(r)])),
        nodeTls: Object.fromEntries(byType(":NodeTls").map((r) => [String(r.inputs.node), dynamic(r)])),
        nodeTurn: Object.fromEntries(byType(":NodeTurn").map((r) => [String(r.inputs.node), dynamic(r)])),
        rollCheck: dynamic(one(":RollCheck")),
        metricsAgentConfig: platform.monitoring.metricsAgentConfig,
        plan: platform.settings.plan,
        resources: run.resources,
    };
}
