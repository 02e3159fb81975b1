/**
 * Sweep every Docker container a stack declares (under mocks) for the hardening of
 * components/container.ts. Shared by test/mocks/containers-*.test.ts (one stack per file: the mock
 * runtime is global to a process).
 * Proves: no container of the stack bypasses the builder's hardening or carries a role the policy
 * pack does not know. Does not prove: that Docker applies it (the Docker tier).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { setupMocks, stackConfig, valueOf, type MockRun } from "./mocks";
import { CONTAINER_ROLES } from "../../policies/lib/common";

/** Roles of containers that run once and exit (hardenedContainer's oneShot). */
const ONE_SHOT_ROLES = ["audit-archive-init"];

export function describeContainerSweep(
    stack: string,
    overrides: Record<string, string>,
    secretKeys: string[],
    expectRoles: string[],
): void {
    let run: MockRun;
    describe(`every container of ${stack} ${JSON.stringify(Object.keys(overrides))}`, () => {
        before(async () => {
            run = setupMocks(stack, stackConfig(stack, overrides), secretKeys);
            const { buildProgram } = await import("../../program");
            const built = buildProgram(undefined, undefined, { allowExampleKeys: true });
            for (const o of Object.values(built.outputs))
                await valueOf(o as pulumi.Input<unknown>).catch(() => undefined);
            for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
        });

        it("declares the expected kinds of container, each with a role the policy pack knows", () => {
            const roles = run.ofType("docker:index/container:Container").map((c) => {
                const labels = c.inputs.labels as { label: string; value: string }[];
                return labels.find((l) => l.label === "bonito.role")?.value ?? "(none)";
            });
            assert.deepEqual([...new Set(roles)].sort(), [...expectRoles].sort());
            for (const r of roles) assert.ok((CONTAINER_ROLES as readonly string[]).includes(r), r);
        });

        it("gives every container the same hardening, log rotation and labels", () => {
            const containers = run.ofType("docker:index/container:Container");
            assert.ok(containers.length > 0);
            for (const c of containers) {
                const i = c.inputs;
                const msg = c.name;
                const adds = (i.capabilities as { adds?: string[] }).adds;
                assert.deepStrictEqual(i.capabilities, adds ? { adds, drops: ["ALL"] } : { drops: ["ALL"] }, msg);
                assert.deepStrictEqual(i.securityOpts, ["no-new-privileges:true"], msg);
                assert.deepStrictEqual((i.ulimits as unknown[])[0], { name: "core", soft: 0, hard: 0 }, msg);
                assert.equal(typeof i.memory, "number", msg);
                assert.equal(i.memorySwap, i.memory, msg);
                // A one-shot step (the local archive's owner step) exits by design; every service restarts.
                const labelled = i.labels as { label: string; value: string }[];
                const oneShot = ONE_SHOT_ROLES.includes(labelled[0].value);
                assert.equal(i.restart, oneShot ? "no" : "unless-stopped", msg);
                if (oneShot) assert.equal(i.attach, true, `${msg}: Pulumi waits for a one-shot step`);
                assert.equal(i.logDriver, "json-file", msg);
                assert.deepStrictEqual(i.logOpts, { "max-size": "20m", "max-file": "5" }, msg);
                const labels = i.labels as { label: string; value: string }[];
                assert.equal(labels[0].label, "bonito.role", msg);
                assert.deepStrictEqual(labels[1], { label: "bonito.stack", value: stack }, msg);
                assert.equal(i.privileged, undefined, msg);
            }
        });

        it("labels each per-node container with its node", () => {
            for (const c of run.ofType("docker:index/container:Container")) {
                const labels = c.inputs.labels as { label: string; value: string }[];
                const role = labels[0].value;
                if (!["vault-server", "audit-shipper", "mtail", "audit-archive-init"].includes(role)) continue;
                assert.equal(labels[2].label, "bonito.node", c.name);
                assert.ok(c.name.includes(`-${labels[2].value}`), c.name);
            }
        });
    });
}
