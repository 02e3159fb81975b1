/**
 * A bad stack config fails before anything is declared.
 * Proves: the whole program, run under mocks with an invalid config, throws the ConfigError and
 * registers no resource at all. How Pulumi prints it: test/unit/configError.printed.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setupMocks, stackConfig } from "../helpers/mocks";

const run = setupMocks(
    "prod",
    stackConfig("prod", { nodes: "2", image: "hashicorp/vault:latest", tlsMinVersion: "tls12" }),
);

describe("bad config", () => {
    it("throws the config error and declares nothing", async () => {
        const { buildProgram } = await import("../../program");
        assert.throws(
            () => buildProgram(undefined, undefined, { allowExampleKeys: true }),
            (e: Error) => {
                assert.equal(e.name, "ConfigError");
                assert.match(e.message, /^Stack "prod" has \d+ configuration problems; nothing was declared:/);
                assert.match(e.message, /bonito-vault:nodes must be one of 1, 3, 5, 7 \(got "2"\)/);
                assert.match(e.message, /bonito-vault:image must be an image pinned by digest/);
                return true;
            },
        );
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(run.resources, []);
    });
});
