/**
 * Shared by test/mocks/entryPoint-<cloud>.test.ts: build the whole program for a committed stack
 * under mocks and read back what the entry point and the clients are given.
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../../components/config";
import { optionRecorder, setupMocks, stackConfig, valueOf, type MockRun } from "./mocks";

export interface BuiltStack {
    run: MockRun;
    outputs: Record<string, unknown>;
    /** The backend's environment (a secret output, unwrapped here). */
    backendEnv: Record<string, string>;
    /** dnsNames of every node certificate request, in node order. */
    sans: string[][];
    /** The URLs the snapshot agent calls (its rendered config). */
    agentUrls: string[];
    adminAddr: string;
}

export async function buildStack(stack: string, overrides: Record<string, string | undefined>): Promise<BuiltStack> {
    const run = setupMocks(stack, stackConfig(stack, overrides));
    const recorder = optionRecorder();
    const { buildProgram } = await import("../../program");
    const built = buildProgram(undefined, { transformations: recorder.transformations }, { allowExampleKeys: true });
    const outputs = built.outputs as Record<string, unknown>;
    const resolved: Record<string, unknown> = {};
    for (const [k, o] of Object.entries(outputs)) resolved[k] = await valueOf(o as pulumi.Input<unknown>);
    for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
    const csrs = run.ofType("tls:index/certRequest:CertRequest");
    assert.ok(csrs.length > 0, "no certificate requests declared");
    const agent = JSON.parse(await valueOf(built.platform.snapshots.agentConfig)) as {
        vault: { nodes: { urls: string[] } };
    };
    const cfg = loadConfig(stack, stackConfig(stack, overrides), new Set(), { allowExampleKeys: true });
    return {
        run,
        outputs: resolved,
        backendEnv: resolved.backendEnv as Record<string, string>,
        sans: csrs.map((c) => c.inputs.dnsNames as string[]),
        agentUrls: agent.vault.nodes.urls,
        adminAddr: cfg.adminAddr,
    };
}
