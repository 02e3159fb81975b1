/**
 * How the server starts in its container, per engine.
 * Proves: the exact entrypoint for HashiCorp Vault and OpenBao images (user, binary, the directories
 * chowned) and that the container starts as root only for it. Does not prove: that the images ship
 * su-exec (their Dockerfiles do: README "Security posture").
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { entrypoint } from "../../components/raftCluster";
import { START_CAPABILITIES, START_USER } from "../../components/runtime";

describe("server entrypoint", () => {
    it("drops to the vault user for HashiCorp images", () => {
        assert.deepEqual(entrypoint("vault"), [
            "/bin/sh",
            "-ec",
            'chown vault:vault /vault/data /vault/audit && su-exec vault chmod 0700 /vault/data /vault/audit && exec su-exec vault vault "$@"',
            "bonito-vault-entrypoint",
        ]);
    });

    it("drops to the openbao user and runs bao for OpenBao images", () => {
        assert.deepEqual(entrypoint("openbao"), [
            "/bin/sh",
            "-ec",
            'chown openbao:openbao /vault/data /vault/audit && su-exec openbao chmod 0700 /vault/data /vault/audit && exec su-exec openbao bao "$@"',
            "bonito-vault-entrypoint",
        ]);
    });

    it("starts as root with only the capabilities the entrypoint needs", () => {
        assert.equal(START_USER, "0:0");
        assert.deepEqual(START_CAPABILITIES, { adds: ["CHOWN", "IPC_LOCK", "SETGID", "SETUID"], drops: ["ALL"] });
    });
});
