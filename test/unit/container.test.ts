/**
 * The hardened-container builder (components/container.ts), pure.
 * Proves: the exact hardening every container gets (capabilities, no-new-privileges, core 0 before
 * any other limit, no swap, log rotation, restart, labels in a fixed order), and that a caller who
 * slips a hardening field past the types (a cast) is overridden, not obeyed.
 * Does not prove: that every container of a stack goes through it (test/mocks/containers-*.test.ts
 * sweep the declared stacks) or that Docker applies it (the Docker tier).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hardenedContainerArgs, type HardenedContainerArgs } from "../../components/container";

describe("hardenedContainerArgs", () => {
    it("fills in the hardening of a sidecar, exactly", () => {
        const out = hardenedContainerArgs({ name: "x", image: "img", memory: 64, role: "mtail", stack: "prod" });
        assert.deepStrictEqual(out, {
            name: "x",
            image: "img",
            memory: 64,
            capabilities: { drops: ["ALL"] },
            securityOpts: ["no-new-privileges:true"],
            ulimits: [{ name: "core", soft: 0, hard: 0 }],
            memorySwap: 64,
            restart: "unless-stopped",
            logDriver: "json-file",
            logOpts: { "max-size": "20m", "max-file": "5" },
            labels: [
                { label: "bonito.role", value: "mtail" },
                { label: "bonito.stack", value: "prod" },
            ],
        });
    });

    it("adds only the named capabilities, keeps core 0 first, and orders labels role, stack, node, extras", () => {
        const out = hardenedContainerArgs({
            name: "v",
            image: "img",
            memory: 1024,
            role: "vault-server",
            stack: "staging",
            node: "vault-1",
            addCapabilities: ["CHOWN", "IPC_LOCK"],
            extraUlimits: [{ name: "nofile", soft: 65536, hard: 65536 }],
            extraLabels: [{ label: "bonito.tls-mode", value: "internal" }],
        });
        assert.deepStrictEqual(out.capabilities, { adds: ["CHOWN", "IPC_LOCK"], drops: ["ALL"] });
        assert.deepStrictEqual(out.ulimits, [
            { name: "core", soft: 0, hard: 0 },
            { name: "nofile", soft: 65536, hard: 65536 },
        ]);
        assert.deepStrictEqual(out.labels, [
            { label: "bonito.role", value: "vault-server" },
            { label: "bonito.stack", value: "staging" },
            { label: "bonito.node", value: "vault-1" },
            { label: "bonito.tls-mode", value: "internal" },
        ]);
        for (const k of ["role", "stack", "node", "addCapabilities", "extraUlimits", "extraLabels"])
            assert.ok(!(k in out), `${k} must not reach Docker`);
    });

    it("overrides hardening fields a caller passes anyway", () => {
        const base: HardenedContainerArgs = {
            name: "x",
            image: "img",
            memory: 64,
            role: "snapshot-agent",
            stack: "prod",
        };
        const smuggled: object = {
            privileged: true,
            capabilities: { adds: ["SYS_ADMIN"] },
            securityOpts: [],
            ulimits: [{ name: "core", soft: -1, hard: -1 }],
            memorySwap: -1,
            restart: "no",
            logOpts: {},
            labels: [],
        };
        const out = hardenedContainerArgs(Object.assign({ ...base }, smuggled));
        assert.deepStrictEqual(out.capabilities, { drops: ["ALL"] });
        assert.deepStrictEqual(out.securityOpts, ["no-new-privileges:true"]);
        assert.deepStrictEqual(out.ulimits, [{ name: "core", soft: 0, hard: 0 }]);
        assert.equal(out.memorySwap, 64);
        assert.equal(out.restart, "unless-stopped");
        assert.deepStrictEqual(out.logOpts, { "max-size": "20m", "max-file": "5" });
        assert.equal((out.labels as unknown[]).length, 2);
        assert.ok(!("privileged" in out));
    });
});
