/**
 * VaultSettings for an OpenBao image on one node with file storage, under
 * Pulumi's mock runtime.
 * Proves: no API audit device is declared (OpenBao ≥ 2.3 refuses them; the server config
 * declares the same two devices), no autopilot without Raft, the admin policy carries neither
 * sys/audit nor autopilot paths, and the server container's entrypoint starts the audit rotation
 * loop and the server as the openbao user.
 * Does not prove: that the server-config renderer writes the `audit` stanzas (its own tests) or
 * that OpenBao accepts them (real-server tier).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { setupMocks, settle, type MockRun } from "../helpers/mocks";

const RAW = {
    "bonito-vault:cloud": "local",
    "bonito-vault:image": "openbao/openbao:2.4.1",
    "bonito-vault:nodes": "1",
    "bonito-vault:storage": "file",
};
const run: MockRun = setupMocks("local", RAW);

before(async () => {
    const { loadConfig } = await import("../../components/config");
    const { VaultSettings } = await import("../../components/settings/vaultSettings");
    const config = loadConfig("local", RAW);
    const s = new VaultSettings("o", { settings: config, caCert: "PEM" });
    await settle(s);
});

describe("VaultSettings on OpenBao", () => {
    it("declares no API audit device and no autopilot", () => {
        assert.equal(run.ofType("vault:index/audit:Audit").length, 0);
        assert.equal(run.ofType("vault:index/raftAutopilot:RaftAutopilot").length, 0);
    });

    it("still declares mount, two policies, AppRole, two roles and two secret IDs", () => {
        const counts = [
            "vault:index/mount:Mount",
            "vault:index/policy:Policy",
            "vault:index/authBackend:AuthBackend",
            "vault:appRole/authBackendRole:AuthBackendRole",
            "vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId",
        ].map((t) => run.ofType(t).length);
        assert.deepEqual(counts, [1, 2, 1, 2, 2]);
    });

    it("hands over to an admin policy without sys/audit or autopilot paths", () => {
        const doc = JSON.parse(String(run.ofType("pulumi-nodejs:dynamic/bonito:VaultHandover")[0].inputs.policy));
        const paths = Object.keys(doc.path);
        assert.ok(!paths.some((p) => p.startsWith("sys/audit") || p.startsWith("sys/storage")), paths.join());
    });

    it("starts the audit rotation loop and the server as the openbao user, and probes health with bao", async () => {
        const { loadConfig } = await import("../../components/config");
        const { entrypoint, healthcheck } = await import("../../components/raftCluster");
        assert.match(entrypoint("openbao")[2], /\(su-exec openbao \/bin\/sh \/vault\/config\/audit-rotator\.sh &\)/);
        assert.match(healthcheck(loadConfig("local", RAW)).tests[1], /^bao status /);
    });
});
