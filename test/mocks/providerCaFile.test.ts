/**
 * `pulumi refresh` and `pulumi destroy` configure the @pulumi/vault provider from state, without
 * running the program: the CA file path the provider keeps in state must exist on whatever machine
 * runs them. This builds VaultSettings (local stack) under mocks, takes the provider's caCertFile
 * input (what the engine stores), then plays a fresh clone on another runner: a new, empty checkout
 * directory, the stack's state as `pulumi stack export` prints it, and the documented step
 * (`npm run ca-file`, scripts/caFile.ts → recreateCaFiles) with the stack's caCert output.
 * Proves: the stored path resolves inside any checkout and the documented step puts the CA there.
 * Does not prove: the engine's plugin working directory (Pulumi starts provider plugins in the
 * project directory; a real `pulumi refresh` on a fresh runner proves it end to end).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { setupMocks, settle, type MockRun } from "../helpers/mocks";

const BASE = { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" };
const CA = "-----BEGIN CERTIFICATE-----\nMOCK-CA-FOR-REFRESH\n-----END CERTIFICATE-----\n";
const ROOT = path.join(__dirname, "..", "..");
// A stack name of its own: other test files write the local stack's CA file concurrently.
const STACK = "ca-refresh";
const run: MockRun = setupMocks(STACK, BASE);
let stored: string;

before(async () => {
    const { loadConfig } = await import("../../components/config");
    const { VaultSettings } = await import("../../components/settings/vaultSettings");
    const settings = new VaultSettings("t-settings", { settings: loadConfig(STACK, BASE), caCert: CA });
    await settle(settings);
    const [p] = run.ofType("pulumi:providers:vault");
    stored = String(p.inputs.caCertFile);
});

describe("the Vault provider's CA file on a fresh runner", () => {
    it("the path kept in state is inside the checkout, not the machine's temp directory", () => {
        assert.ok(!path.isAbsolute(stored), `absolute path in provider state: ${stored}`);
        assert.ok(!path.normalize(stored).startsWith(".."), stored);
        // Inside the checkout (which may itself live under the temp directory, as a CI clone can).
        assert.ok(path.resolve(ROOT, stored).startsWith(path.resolve(ROOT) + path.sep), stored);
        // The program wrote it where the provider (started in the project directory) reads it.
        assert.equal(fs.readFileSync(path.join(ROOT, stored), "utf8"), CA);
        fs.rmSync(path.join(ROOT, stored));
    });

    it("the documented step recreates it from the stack's state and outputs alone", async () => {
        const { recreateCaFiles } = await import("../../components/settings/caFile");
        const checkout = fs.mkdtempSync(path.join(os.tmpdir(), "fresh-clone-"));
        try {
            const exported = {
                deployment: {
                    resources: [
                        { type: "pulumi:pulumi:Stack", inputs: {} },
                        { type: "pulumi:providers:vault", inputs: { caCertFile: stored, address: "https://x" } },
                    ],
                },
            };
            assert.ok(!fs.existsSync(path.join(checkout, stored)), "a fresh clone has no CA file");
            const written = recreateCaFiles(exported, CA, checkout);
            assert.deepEqual(written, [path.join(checkout, stored)]);
            assert.equal(fs.readFileSync(path.join(checkout, stored), "utf8"), CA);
        } finally {
            fs.rmSync(checkout, { recursive: true, force: true });
        }
    });

    it("refuses a state whose provider reads a CA outside the project, saying what to do", async () => {
        const { recreateCaFiles } = await import("../../components/settings/caFile");
        const exported = {
            deployment: { resources: [{ type: "pulumi:providers:vault", inputs: { caCertFile: "/tmp/x/ca.pem" } }] },
        };
        assert.throws(() => recreateCaFiles(exported, CA, os.tmpdir()), /outside the project; run `pulumi up` once/);
    });
});
