/**
 * What `pulumi up` prints for a bad stack config. The SDK's run handler (@pulumi/pulumi
 * cmd/run/run.js, uncaughtHandler) logs `err.message` for a RunError and otherwise
 * "Running program … failed with an unhandled exception:" plus `defaultErrorMessage(err)`, which is
 * `util.inspect(err)` whenever `err.stack` is set. This test applies that same choice with the
 * SDK's own functions.
 * Proves: the printed text is exactly the problem list, with no stack trace and no object dump.
 * Does not prove: the CLI's own framing around the line (it prefixes "error: ").
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../../components/config";

// Marked @internal in the SDK, so absent from its typings; the run handler calls exactly this.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultErrorMessage } = require("@pulumi/pulumi/cmd/run/error") as { defaultErrorMessage(e: unknown): string };

/** The run handler's choice of text, as in @pulumi/pulumi cmd/run/run.js. */
function printedByPulumi(err: unknown): string {
    if (pulumi.RunError.isInstance(err)) return (err as Error).message;
    return `Running program '/work/bonito-vault' failed with an unhandled exception:\n${defaultErrorMessage(err)}`;
}

function thrown(f: () => unknown): unknown {
    try {
        f();
    } catch (e) {
        return e;
    }
    assert.fail("expected loadConfig to throw");
}

describe("a bad stack config as Pulumi prints it", () => {
    it("is the problem list and nothing else", () => {
        const err = thrown(() =>
            loadConfig("prod", {
                "bonito-vault:cloud": "aws",
                "bonito-vault:image": "hashicorp/vault:latest",
                "bonito-vault:nodes": "2",
            }),
        );
        const printed = printedByPulumi(err);
        assert.match(
            printed,
            /^Stack "prod" has \d+ configuration problems; nothing was declared:\n {2}- bonito-vault:/,
        );
        assert.match(printed, /\n {2}- bonito-vault:nodes must be one of 1, 3, 5, 7 \(got "2"\)/);
        assert.doesNotMatch(printed, /\n\s+at /, "no stack frames");
        assert.doesNotMatch(printed, /problems: \[|name: 'ConfigError'|\[prod\]/, "no object dump");
        assert.ok(
            printed
                .split("\n")
                .slice(1)
                .every((l) => l.startsWith("  - ")),
            printed,
        );
    });

    it("keeps the stack name and the problems readable by code", () => {
        const err = thrown(() => loadConfig("staging", { "bonito-vault:cloud": "nowhere" })) as {
            stackName: string;
            problems: string[];
            name: string;
        };
        assert.equal(err.name, "ConfigError");
        assert.equal(err.stackName, "staging");
        assert.ok(err.problems.length >= 1);
    });
});
