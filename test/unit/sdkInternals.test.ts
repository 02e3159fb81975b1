/**
 * Pins the SDK internals components/sdkInternals.ts relies on. Proves: on the installed
 * @pulumi/pulumi, isConfigSecret tells a `--secret` key from a plain one, and outputState reads an
 * Output's known/secret state and value (known, secret, unknown). Fails, naming the function, when
 * an SDK upgrade moves them. Does not prove: the engine's own config plumbing (Pulumi sets the
 * secret-keys list from the stack file; here the runtime's setAllConfig does).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { VERIFIED_SDK_VERSION, isConfigSecret, outputState } from "../../components/sdkInternals";

describe("SDK internals (components/sdkInternals.ts)", () => {
    it("the installed @pulumi/pulumi is the version they were verified in", () => {
        const manifest = fs.readFileSync(
            path.join(__dirname, "../../node_modules/@pulumi/pulumi/package.json"),
            "utf8",
        );
        const installed = (JSON.parse(manifest) as { version: string }).version;
        assert.equal(
            installed,
            VERIFIED_SDK_VERSION,
            "@pulumi/pulumi changed: re-read isConfigSecret and Output's isKnown/isSecret/promise() in the new SDK, " +
                "run this file, then set VERIFIED_SDK_VERSION in components/sdkInternals.ts",
        );
    });

    it("isConfigSecret: a key set with --secret is secret, a plain one is not", () => {
        pulumi.runtime.setAllConfig({ "bonito-vault:recoveryPgpKeys": "k", "bonito-vault:nodes": "3" }, [
            "bonito-vault:recoveryPgpKeys",
        ]);
        assert.equal(isConfigSecret("bonito-vault:recoveryPgpKeys"), true);
        assert.equal(isConfigSecret("bonito-vault:nodes"), false);
        assert.equal(isConfigSecret("bonito-vault:unset"), false);
    });

    it("outputState: a known plain value", async () => {
        const s = outputState(pulumi.output("v"));
        assert.equal(await s.isKnown, true);
        assert.equal(await s.isSecret, false);
        assert.equal(await s.promise(), "v");
    });

    it("outputState: a secret", async () => {
        const s = outputState(pulumi.secret("s"));
        assert.equal(await s.isSecret, true);
        assert.equal(await s.promise(), "s");
    });

    it("outputState: an unknown value (what a preview shows as 'known after deploy')", async () => {
        const s = outputState(pulumi.output(pulumi.unknown));
        assert.equal(await s.isKnown, false);
    });
});
