/**
 * The migration switch (`migrationWindow`) under Pulumi's mock runtime: while set, the
 * bonito-migration policy, AppRole role and secret ID exist and `migrationLogin` carries what
 * `npm run migrate --target-login-file` reads, as a secret; the backend's role and policy are the
 * same with and without it; the admin policy grants the migration role and policy either way (so
 * switching needs no root token). Bad windows are refused naming the key.
 *
 * Does not prove: that Vault accepts the policy, that the role can write and nothing else, or that
 * the tool works with these credentials: test/conformance/migrate.test.ts does, on Vault 1.21.1.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { setupMocks, settle, stackConfig, valueOf, type MockRun } from "../helpers/mocks";

const RAW = { ...stackConfig("local"), "bonito-vault:migrationWindow": "24h" };
const run: MockRun = setupMocks("local", RAW);
type Settings = import("../../components/settings/vaultSettings").VaultSettings;
let on: Settings;
let off: Settings;

before(async () => {
    const { loadConfig } = await import("../../components/config");
    const { VaultSettings } = await import("../../components/settings/vaultSettings");
    on = new VaultSettings("m", { settings: loadConfig("local", RAW), caCert: "PEM" });
    off = new VaultSettings("n", { settings: loadConfig("local", stackConfig("local")), caCert: "PEM" });
    await settle(on);
    await settle(off);
});

describe("VaultSettings with migrationWindow", () => {
    it("declares the migration policy: data, metadata, delete and destroy under the KV mount only", () => {
        const p = run.byName("m-policy-bonito-migration").inputs;
        assert.equal(p.name, "bonito-migration");
        assert.deepEqual(JSON.parse(String(p.policy)), {
            path: {
                "bonito/data/*": { capabilities: ["create", "read", "update"] },
                "bonito/metadata/*": { capabilities: ["create", "read", "update", "list", "delete"] },
                "bonito/delete/*": { capabilities: ["update"] },
                "bonito/destroy/*": { capabilities: ["update"] },
            },
        });
    });

    it("declares the role: 1-hour tokens, a secret ID that dies with the window", () => {
        const r = run.byName("m-role-bonito-migration").inputs;
        assert.deepEqual(
            [
                r.roleName,
                r.tokenPolicies,
                r.tokenTtl,
                r.tokenMaxTtl,
                r.bindSecretId,
                r.secretIdTtl,
                r.secretIdNumUses,
                r.tokenType,
            ],
            ["bonito-migration", ["bonito-migration"], 3600, 3600, true, 86400, 0, "service"],
        );
        const sid = run.byName("m-secret-id-bonito-migration");
        assert.equal(sid.inputs.roleName, "bonito-migration");
    });

    it("migrationLogin is a secret with the fields the tool's --target-login-file reads", async () => {
        assert.ok(on.migrationLogin);
        assert.equal(await pulumi.isSecret(on.migrationLogin), true);
        const login = await valueOf(on.migrationLogin);
        assert.deepEqual(Object.keys(login).sort(), [
            "addr",
            "approleMount",
            "caCert",
            "kvMount",
            "roleId",
            "secretId",
            "tlsServerName",
        ]);
        assert.equal(login.addr, "https://127.0.0.1:8200");
        assert.equal(login.approleMount, "approle");
        assert.equal(login.caCert, "PEM");
        const { parseLoginFile } = await import("../../scripts/migrate/args");
        assert.deepEqual(parseLoginFile("--target-login-file", JSON.stringify(login)), login);
    });

    it("without the key: no migration policy, role, secret ID or login; the backend's role and policy unchanged", () => {
        assert.equal(off.migrationLogin, undefined);
        for (const n of ["n-policy-bonito-migration", "n-role-bonito-migration", "n-secret-id-bonito-migration"])
            assert.throws(() => run.byName(n), new RegExp(n));
        assert.deepEqual(run.byName("m-policy-bonito-backend").inputs, run.byName("n-policy-bonito-backend").inputs);
        const { roleName: _a, ...onRole } = run.byName("m-role-bonito-backend").inputs;
        const { roleName: _b, ...offRole } = run.byName("n-role-bonito-backend").inputs;
        void _a;
        void _b;
        assert.deepEqual(onRole, offRole);
    });

    it("the admin policy is the same with and without the key, and reaches the migration role and policy", () => {
        assert.deepEqual(on.plan.admin.policy, off.plan.admin.policy);
        const paths = Object.keys(on.plan.admin.policy.path);
        for (const p of [
            "sys/policies/acl/bonito-migration",
            "auth/approle/role/bonito-migration",
            "auth/approle/role/bonito-migration/secret-id",
            "auth/approle/role/bonito-migration/role-id",
        ])
            assert.ok(paths.includes(p), p);
    });
});

describe("migrationWindow validation", () => {
    it("refuses windows outside 1h..168h and non-durations, naming the key", async () => {
        const { loadConfig } = await import("../../components/config");
        const bad = (v: string) => () =>
            loadConfig("local", { ...stackConfig("local"), "bonito-vault:migrationWindow": v });
        const msg = (v: string) =>
            `  - bonito-vault:migrationWindow must be from 1h to 168h: long enough for a first copy and the cutover, short enough that the write credential dies with the migration (got "${v}")`;
        assert.throws(bad("30m"), (e: Error) => e.message.split("\n")[1] === msg("30m"));
        assert.throws(bad("400h"), (e: Error) => e.message.split("\n")[1] === msg("400h"));
        assert.throws(bad("a day"), /migrationWindow/);
        assert.doesNotThrow(bad("168h"));
    });
});
