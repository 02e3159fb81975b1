/**
 * The pin on the pack's one undocumented-SDK reliance (policies/lib/sdkInternals.ts): a remediation
 * sees whether a property is a Pulumi secret only through the SDK's proxies (no supported API:
 * pulumi/pulumi-policy#241).
 * Proves: the @pulumi/policy the pack locks and installs is the version the reliance was verified
 * against (an upgrade fails here, naming both versions, until someone re-verifies and bumps
 * VERIFIED_POLICY_SDK); and, through the SDK's own Remediate handler (server.js
 * makeRemediateRpcFun, the function its gRPC server registers) fed a real AnalyzeRequest whose
 * properties carry secrets in their wire form, that the real pack leaves a container whose
 * credentials are secrets alone, and marks a plain credential env or key upload secret in the
 * properties it sends back to the engine, keeping the secrets it was given. If the proxies changed
 * so that rawProperty no longer saw `Secret`s, the first case would be remediated (or the others
 * not), and this file would fail.
 * Does not prove: that the Pulumi CLI sends remediation requests this way (its gRPC side is not
 * run here) or stores the result encrypted.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { describe, it } from "node:test";
import type * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";
import { POLICIES } from "../../policies/policies";
import { VERIFIED_POLICY_SDK } from "../../policies/lib/sdkInternals";
import * as f from "./fixtures";
import { SECRET_SIG, SIG_KEY, urnOf } from "./harness";

const PACK = path.join(__dirname, "..", "..", "policies");
const requireFromPack = createRequire(path.join(PACK, "package.json"));
const requireFromSdk = createRequire(requireFromPack.resolve("@pulumi/policy/package.json"));

/** The SDK's protobuf classes, from the copies its server loads. */
const proto: typeof analyzer = requireFromSdk("@pulumi/pulumi/proto/analyzer_pb");
const { Struct }: typeof structPb = requireFromSdk("google-protobuf/google/protobuf/struct_pb");
type Remediate = (
    call: { request: analyzer.AnalyzeRequest },
    callback: (err: Error | undefined, resp: analyzer.RemediateResponse | undefined) => void,
) => Promise<void>;
const server: {
    makeRemediateRpcFun(name: string, version: string, level: string, policies: typeof POLICIES): Remediate;
} = requireFromSdk("./server");

const POLICY = "container-secrets-marked-secret";
const WHAT = "policies/lib/sdkInternals.ts (secret-ness seen through the SDK's remediation proxies)";

describe("@pulumi/policy is the version the pack's SDK reliance was verified against", () => {
    const verify = (found: string, where: string) =>
        assert.equal(
            found.replace(/^v/, ""),
            VERIFIED_POLICY_SDK,
            `${where} has @pulumi/policy ${found}; ${WHAT} was verified against ${VERIFIED_POLICY_SDK}. ` +
                "Check pulumi/pulumi-policy#241 for a supported API, re-read the SDK's secret.js and proxy.js, " +
                "run this file, then set VERIFIED_POLICY_SDK.",
        );

    it("in policies/package-lock.json", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(PACK, "package-lock.json"), "utf8"));
        verify(String(lock.packages?.["node_modules/@pulumi/policy"]?.version), "policies/package-lock.json");
    });

    it("as installed where the pack loads it", () => {
        const pkg = JSON.parse(fs.readFileSync(requireFromPack.resolve("@pulumi/policy/package.json"), "utf8"));
        verify(String(pkg.version), path.relative(process.cwd(), requireFromPack.resolve("@pulumi/policy")));
    });
});

/** Wire-form props (secrets as the engine sends them) through the SDK's own Remediate handler. */
async function remediateViaSdk(props: Record<string, unknown>) {
    const r = f.container("vault-0");
    const req = new proto.AnalyzeRequest()
        .setUrn(urnOf("staging", r))
        .setType(r.type)
        .setName(r.name)
        .setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(props))))
        .setOptions(new proto.AnalyzerResourceOptions());
    const resp = await new Promise<analyzer.RemediateResponse>((resolve, reject) => {
        void server.makeRemediateRpcFun(
            "bonito-vault",
            "0.1.0",
            "mandatory",
            POLICIES,
        )({ request: req }, (err, out) => (err || !out ? reject(err ?? new Error("no response")) : resolve(out)));
    });
    return resp.getRemediationsList().map((x) => ({
        policy: x.getPolicyname(),
        diagnostic: x.getDiagnostic(),
        properties: x.getProperties()?.toJavaScript(),
    }));
}

const wireSecret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });
const KEY = "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n";

describe(`${POLICY} through the SDK's own Remediate handler`, () => {
    it("leaves a container whose credential env and key upload are secrets alone", async () => {
        const props = f.container("vault-0").props;
        assert.ok(JSON.stringify(props.envs).includes(SECRET_SIG), "the fixture's envs are a secret");
        assert.deepEqual(await remediateViaSdk(props), []);
    });

    it("marks a plain credential env secret, and sends the key upload back still secret", async () => {
        const props = f.container(
            "vault-0",
            (x) => (x.envs = ["VAULT_ADDR=https://127.0.0.1:8200", "AWS_SECRET_ACCESS_KEY=abc"]),
        ).props;
        const out = await remediateViaSdk(props);
        assert.deepEqual(
            out.map((x) => x.policy),
            [POLICY],
        );
        const fixed = out[0].properties;
        assert.ok(fixed);
        assert.deepEqual(fixed.envs, wireSecret(["VAULT_ADDR=https://127.0.0.1:8200", "AWS_SECRET_ACCESS_KEY=abc"]));
        assert.deepEqual(fixed.uploads, props.uploads, "the uploads, their secret key file included, as they came");
    });

    it("marks a plain private-key upload secret, as a whole, and keeps the envs secret", async () => {
        const props = f.container("vault-0", (x) => (x.uploads[2].content = KEY)).props;
        const out = await remediateViaSdk(props);
        assert.deepEqual(
            out.map((x) => x.policy),
            [POLICY],
        );
        const fixed = out[0].properties;
        assert.ok(fixed);
        assert.deepEqual(fixed.uploads, wireSecret(props.uploads));
        assert.deepEqual(fixed.envs, props.envs);
    });
});
