/**
 * How the server starts in its container, per engine.
 * Proves: the exact entrypoint for HashiCorp Vault and OpenBao images (user, binary, the directories
 * chowned, the audit rotation loop started in the background as the runtime user), that the
 * unsealer's entrypoint starts no loop, the `vault status` healthcheck per TLS mode and engine, and
 * that the container starts as root only for it. Does not prove: that the images ship
 * su-exec (their Dockerfiles do: docs/architecture.md "Security posture").
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../components/config";
import { entrypoint, healthcheck } from "../../components/raftCluster";
import { START_CAPABILITIES, START_USER, dropRootEntrypoint } from "../../components/runtime";

describe("server entrypoint", () => {
    it("drops to the vault user for HashiCorp images", () => {
        assert.deepEqual(entrypoint("vault"), [
            "/bin/sh",
            "-ec",
            'chown vault:vault /vault/data /vault/audit && su-exec vault chmod 0700 /vault/data /vault/audit && (su-exec vault /bin/sh /vault/config/audit-rotator.sh &) && exec su-exec vault vault "$@"',
            "bonito-vault-entrypoint",
        ]);
    });

    it("drops to the openbao user and runs bao for OpenBao images", () => {
        assert.deepEqual(entrypoint("openbao"), [
            "/bin/sh",
            "-ec",
            'chown openbao:openbao /vault/data /vault/audit && su-exec openbao chmod 0700 /vault/data /vault/audit && (su-exec openbao /bin/sh /vault/config/audit-rotator.sh &) && exec su-exec openbao bao "$@"',
            "bonito-vault-entrypoint",
        ]);
    });

    it("starts no background loop when none is given (the unsealer)", () => {
        assert.deepEqual(
            dropRootEntrypoint("vault", ["/vault/file"], "x")[2],
            'chown vault:vault /vault/file && su-exec vault chmod 0700 /vault/file && exec su-exec vault vault "$@"',
        );
    });

    it("probes health with the server's own CLI, verifying the certificate, failures mapped to 1", () => {
        const base = { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" };
        assert.deepEqual(healthcheck(loadConfig("local", base)), {
            tests: [
                "CMD-SHELL",
                "vault status -address=https://127.0.0.1:8200 -ca-cert=/vault/tls/ca.pem -tls-server-name=vault >/dev/null || exit 1",
            ],
            interval: "10s",
            timeout: "5s",
            retries: 3,
            startPeriod: "30s",
        });
        const proxy = loadConfig("local", {
            ...base,
            "bonito-vault:tlsMode": "upstream-proxy",
            "bonito-vault:tlsTerminatesAtTrustedProxy": "true",
            "bonito-vault:apiPort": "8300",
        });
        assert.deepEqual(healthcheck(proxy).tests, [
            "CMD-SHELL",
            "vault status -address=http://127.0.0.1:8300 >/dev/null || exit 1",
        ]);
    });

    it("starts as root with only the capabilities the entrypoint needs", () => {
        assert.equal(START_USER, "0:0");
        assert.deepEqual(START_CAPABILITIES, { adds: ["CHOWN", "IPC_LOCK", "SETGID", "SETUID"], drops: ["ALL"] });
    });
});
