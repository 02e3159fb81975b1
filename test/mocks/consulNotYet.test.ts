/**
 * `storage: consul` validates, but the program does not declare the Consul containers yet (#30).
 * Proves: a valid consul stack under mocks is refused with a message naming the issue, before any
 * resource is registered, so no Vault is ever deployed pointed at a Consul that is not there.
 * Does not prove anything about Consul itself (test/conformance/consul.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RunError } from "@pulumi/pulumi/errors";
import { setupMocks, stackConfig } from "../helpers/mocks";

const run = setupMocks("local", stackConfig("local", { storage: "consul", consulMode: "bundled" }));

describe("storage consul before the Consul room is complete", () => {
    it("is refused before anything is declared", async () => {
        const { buildProgram } = await import("../../program");
        assert.throws(
            () => buildProgram(undefined, undefined, { allowExampleKeys: true }),
            (e: Error) => {
                // A RunError: Pulumi prints its message alone, without a stack trace.
                assert.ok(RunError.isInstance(e));
                assert.equal(
                    e.message,
                    'Stack "local": storage consul is not deployable yet: the Consul room (containers, ACL bootstrap, snapshots) is unfinished (issue #30); use storage raft',
                );
                return true;
            },
        );
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(run.resources, []);
    });
});
