/**
 * Stack-level pack checks shared by test/policies/stack-<name>.test.ts (one stack per process).
 * (1) Every resource a committed stack declares under mocks passes every policy.
 * Remediation-only checks are reported, not asserted: the mock runtime records inputs without
 * their secret marking, so `container-secrets-marked-secret` cannot judge them here (its own
 * tests in policies.test.ts prove it).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { POLICIES } from "../../policies/policies";
import { runPack, type TestResource } from "./harness";
import { declaredResources } from "./program";

export function describeStackPolicies(
    stack: string,
    overrides: Record<string, string> = {},
    secretKeys: string[] = [],
): void {
    let resources: TestResource[] = [];
    let result: Awaited<ReturnType<typeof runPack>>;
    before(async () => {
        resources = await declaredResources(stack, overrides, secretKeys);
        result = await runPack(POLICIES, resources, stack);
    });
    const what = Object.keys(overrides).length > 0 ? ` with ${JSON.stringify(overrides)}` : "";
    describe(`policy pack on the committed ${stack} stack${what}`, () => {
        it("declares Vault servers for the pack to check", () => {
            assert.ok(resources.some((r) => r.type === "docker:index/container:Container"));
        });
        it("has zero violations", () => {
            assert.deepEqual(Object.fromEntries(result.violations), {});
        });
        it("every policy could run (no unknown values)", () => {
            assert.deepEqual(result.advisories, []);
        });
    });
}
