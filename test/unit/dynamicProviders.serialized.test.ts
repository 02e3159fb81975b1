/**
 * The dynamic providers as the engine runs them: serialised with `pulumi.runtime.serializeFunction`
 * (what `pulumi.dynamic.Resource` does), loaded back the way the dynamic provider host loads them
 * (`require-from-string`, then `.handler()`), and driven over a real socket against a scripted
 * loopback server. The host reports only `e.message` to the operator, so every refusal and every
 * failed step must arrive with its exact text.
 * Proves: that text survives serialisation for VaultInit, VaultHandover and UnsealerInit
 * (all three reach Vault through components/vault/http.ts, which is serialised with them).
 * Does not prove: the gRPC hop between the host and the engine (it forwards `e.message` verbatim).
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { handoverProvider, initProvider } from "../../components/settings/vaultInit";
import { unsealerProvider } from "../../components/unseal/local";
import { startHttpVault, type HttpVault } from "../helpers/httpVault";

type Provider = Required<Pick<pulumi.dynamic.ResourceProvider, "create" | "update">>;

/** The dynamic provider host's loader (@pulumi/pulumi cmd/dynamic-provider getProvider). */
const requireFromString = createRequire(require.resolve("@pulumi/pulumi/package.json"))("require-from-string") as (
    code: string,
) => { handler(): Provider };

async function asTheHostLoadsIt(provider: pulumi.dynamic.ResourceProvider): Promise<Provider> {
    const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    return requireFromString(sf.text).handler();
}

/** The message the host would report: `e.message` of what the call rejected with. */
async function reported(p: Promise<unknown>): Promise<string> {
    try {
        await p;
    } catch (e) {
        return (e as { message?: unknown }).message as string;
    }
    assert.fail("expected the provider to refuse");
}

const ROOT = "hvs.ROOT-TOKEN-SECRET-123";
const admin = {
    mount: "pulumi-admin",
    roleName: "pulumi-admin",
    role: { token_ttl: "15m" },
    policyName: "pulumi-admin",
    policy: '{"path":{}}',
};

let vault: HttpVault;
let init: Provider;
let handover: Provider;
let unsealer: Provider;

before(async () => {
    delete process.env.BONITO_VAULT_ROOT_TOKEN;
    delete process.env.BONITO_VAULT_RECOVERY_REKEYED;
    vault = await startHttpVault();
    [init, handover, unsealer] = await Promise.all([
        asTheHostLoadsIt(initProvider),
        asTheHostLoadsIt(handoverProvider),
        asTheHostLoadsIt(unsealerProvider),
    ]);
});
after(() => vault.close());

describe("serialised dynamic providers report their refusals with the exact text", () => {
    it("VaultInit: an already-initialised cluster without a root token", async () => {
        vault.routes = { "GET sys/init": { status: 200, body: { initialized: true } } };
        const endpoint = { addr: vault.addr, caCert: "", tlsServerName: "vault" };
        const msg = await reported(
            init.create({ ...endpoint, recoveryShares: 1, recoveryThreshold: 1, recoveryPgpKeys: [] }),
        );
        assert.equal(
            msg,
            `Vault at ${vault.addr} is already initialised, but this stack's state holds no bootstrap record or admin credentials, ` +
                "so Pulumi did not initialise it and will not guess. If this cluster is yours, generate a one-time root token with " +
                '`vault operator generate-root` and the recovery keys (docs/runbook.md, "Emergency root token"), export it as ' +
                "BONITO_VAULT_ROOT_TOKEN and run `pulumi up` again: Pulumi then creates its admin identity and revokes that token. " +
                "Otherwise point adminAddr at an uninitialised cluster.",
        );
    });

    it("VaultInit: recovery settings changed after initialisation", async () => {
        const olds = { addr: vault.addr, recoveryShares: 3, recoveryThreshold: 2, recoveryPgpKeys: [] };
        const msg = await reported(init.update("id", olds, { ...olds, recoveryShares: 5 }));
        assert.equal(
            msg,
            "recoveryShares, recoveryThreshold and recoveryPgpKeys apply only at initialisation. Rekey the recovery keys by hand " +
                '(`vault operator rekey -target=recovery`, docs/runbook.md "Recovery keys"), then run `pulumi up` with ' +
                "BONITO_VAULT_RECOVERY_REKEYED=true to record the new settings; or revert the config.",
        );
    });

    it("VaultHandover: a failed step names the step and Vault's error, with the token redacted", async () => {
        vault.routes = {
            "PUT sys/policies/acl/pulumi-admin": {
                status: 403,
                body: { errors: [`permission denied for ${ROOT}`] },
            },
        };
        const msg = await reported(
            handover.create({ addr: vault.addr, caCert: "", tlsServerName: "vault", ...admin, rootToken: ROOT }),
        );
        assert.equal(
            msg,
            'Vault bootstrap step "write Pulumi\'s admin policy" (PUT /v1/sys/policies/acl/pulumi-admin) failed: ' +
                "HTTP 403: permission denied for [redacted]",
        );
    });

    it("VaultHandover: an admin policy change without a one-time root token", async () => {
        const olds = { addr: vault.addr, caCert: "", tlsServerName: "vault", ...admin, rootToken: ROOT };
        const msg = await reported(handover.update("id", olds, { ...olds, policy: '{"path":{"x":{}}}' }));
        assert.equal(
            msg,
            "Pulumi's admin policy or role changed (for example kvMount or the audit devices), and Pulumi's own identity may not " +
                "rewrite its own policy. Generate a one-time root token (`vault operator generate-root`, docs/runbook.md " +
                '"Emergency root token"), export it as BONITO_VAULT_ROOT_TOKEN and run `pulumi up` again; the token is revoked afterwards.',
        );
    });

    it("UnsealerInit: Vault refusing sys/init (VaultHttpError)", async () => {
        vault.routes = {
            "GET sys/init": { status: 200, body: { initialized: false } },
            "PUT sys/init": { status: 500, body: { errors: ["barrier setup failed"] } },
        };
        const msg = await reported(unsealer.create({ address: vault.addr, keyName: "k", mountPath: "transit" }));
        assert.equal(msg, "PUT /v1/sys/init answered 500: barrier setup failed");
    });

    it("UnsealerInit: an unsealer that is already initialised", async () => {
        vault.routes = { "GET sys/init": { status: 200, body: { initialized: true } } };
        const msg = await reported(unsealer.create({ address: vault.addr, keyName: "k", mountPath: "transit" }));
        assert.equal(
            msg,
            `the unsealer at ${vault.addr} is already initialised, but this stack holds none of its keys; ` +
                "if a previous run failed half-way, remove the unsealer's data volume and run `pulumi up` again (runbook: unseal)",
        );
    });

    it("UnsealerInit: a rejected unseal key after a restart (VaultHttpError)", async () => {
        vault.routes = {
            "GET sys/seal-status": { status: 200, body: { initialized: true, sealed: true } },
            "PUT sys/unseal": { status: 400, body: { errors: ["invalid key"] } },
        };
        const olds = { address: vault.addr, unsealKey: "a2V5", transitToken: "t" };
        const msg = await reported(unsealer.update("id", olds, { address: vault.addr }));
        assert.equal(msg, "PUT /v1/sys/unseal answered 400: invalid key");
    });
});
