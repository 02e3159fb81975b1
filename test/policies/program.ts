/**
 * The resources a committed stack declares under mocks, as the policy engine would see them:
 * every registration's type, name and inputs (secrets kept as the wire format records them), and
 * `protect` from the resource options (the mock monitor does not see options; a transformation
 * records them). One stack per process: the mock runtime is global.
 */
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { optionRecorder, setupMocks, stackConfig, valueOf } from "../helpers/mocks";
import type { TestResource } from "./harness";

export async function declaredResources(
    stack: string,
    overrides: Record<string, string | undefined> = {},
    secretKeys: string[] = [],
): Promise<TestResource[]> {
    const run = setupMocks(stack, stackConfig(stack, overrides), secretKeys);
    const recorder = optionRecorder();
    const { buildProgram } = await import("../../program");
    // The committed example operator keys are accepted under mocks only (program.ts).
    const built = buildProgram(undefined, { transformations: recorder.transformations }, { allowExampleKeys: true });
    // An output built from a value unknown during preview never resolves under mocks: wait for
    // each, but no longer than a moment.
    const settleOr = (p: Promise<unknown>) =>
        Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
    await Promise.all(Object.values(built.outputs).map((o) => settleOr(valueOf(o as pulumi.Input<unknown>))));
    for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
    // The mock monitor keeps each resource's state (inputs plus the provider outputs the mock
    // returns): stack policies see outputs, as the engine's analyzeStack does.
    const monitor = (settings as { getMonitor(): unknown }).getMonitor() as {
        getRegisteredResources?(): Map<string, { state: Record<string, unknown> }>;
    };
    const states = [...(monitor.getRegisteredResources?.() ?? new Map()).entries()];
    const stateOf = (type: string, name: string) =>
        states.find(([urn]) => urn.endsWith(`::${type}::${name}`) || urn.endsWith(`$${type}::${name}`))?.[1].state;
    return run.resources
        .filter((r) => !r.type.startsWith("pulumi:providers:"))
        .map((r) => ({
            type: r.type,
            name: r.name,
            // Terraform-bridged providers return `id` among the outputs the stack policies see.
            props: { ...r.inputs, id: r.id },
            protect: recorder.opts.get(r.name)?.protect === true,
            outputs: { ...r.inputs, ...stateOf(r.type, r.name), id: r.id },
        }));
}
