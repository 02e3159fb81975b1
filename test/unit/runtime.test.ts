/**
 * How the server starts in its container, per engine.
 * Proves: the exact entrypoint for HashiCorp Vault and OpenBao images (user, binary, the directories
 * chowned, the audit rotation loop started in the background as the runtime user), that the
 * unsealer's entrypoint starts no loop, that with TLS at Vault the server starts only once NodeTls
 * has written the TLS files (the wait survives a SIGHUP, in busybox's sh as in the images), the
 * `vault status` healthcheck per TLS mode and engine, and that the container starts as root only for it. Does not prove: that the images ship
 * su-exec (their Dockerfiles do: docs/architecture.md "Security posture").
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../../components/config";
import { entrypoint, healthcheck } from "../../components/raftCluster";
import { START_CAPABILITIES, START_USER, dropRootEntrypoint } from "../../components/runtime";

describe("server entrypoint", () => {
    const WAIT =
        ' && trap : HUP && { [ -s /vault/tls/pushed ] || echo "bonito-vault-entrypoint: waiting for /vault/tls/pushed (written by Pulumi\'s NodeTls once the container runs)" >&2; }' +
        " && until [ -s /vault/tls/pushed ]; do sleep 1; done";

    it("drops to the vault user for HashiCorp images, once the TLS files are there", () => {
        assert.deepEqual(entrypoint("vault"), [
            "/bin/sh",
            "-ec",
            "chown vault:vault /vault/data /vault/audit && su-exec vault chmod 0700 /vault/data /vault/audit" +
                WAIT +
                ' && (su-exec vault /bin/sh /vault/config/audit-rotator.sh &) && exec su-exec vault vault "$@"',
            "bonito-vault-entrypoint",
        ]);
    });

    it("waits for no TLS file when TLS terminates upstream", () => {
        assert.deepEqual(
            entrypoint("vault", false)[2],
            'chown vault:vault /vault/data /vault/audit && su-exec vault chmod 0700 /vault/data /vault/audit && (su-exec vault /bin/sh /vault/config/audit-rotator.sh &) && exec su-exec vault vault "$@"',
        );
    });

    it("the wait (busybox sh, as in the images): says so once, survives SIGHUP, goes on when the marker appears", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-wait-"));
        try {
            const marker = path.join(dir, "pushed");
            const script = dropRootEntrypoint("vault", [], "t", undefined, marker)[2]
                .replace(/^chown .*? && su-exec vault chmod 0700 +&& /, "")
                .replace(/ && exec su-exec .*$/, " && echo started");
            const sh = fs.existsSync("/bin/busybox") ? ["/bin/busybox", "sh"] : ["/bin/sh"];
            const p = spawn(sh[0], [...sh.slice(1), "-ec", script]);
            let out = "";
            p.stdout.on("data", (d: Buffer) => (out += d.toString()));
            p.stderr.on("data", (d: Buffer) => (out += d.toString()));
            const exited = new Promise<number | null>((r) => p.on("exit", (code) => r(code)));
            await new Promise((r) => setTimeout(r, 1500));
            p.kill("SIGHUP");
            await new Promise((r) => setTimeout(r, 1500));
            assert.equal(p.exitCode, null, `still waiting after SIGHUP: ${out}`);
            fs.writeFileSync(marker, "serial 01\n");
            assert.equal(await exited, 0, out);
            assert.equal(
                out,
                `t: waiting for ${marker} (written by Pulumi's NodeTls once the container runs)\nstarted\n`,
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("drops to the openbao user and runs bao for OpenBao images", () => {
        assert.deepEqual(entrypoint("openbao"), [
            "/bin/sh",
            "-ec",
            "chown openbao:openbao /vault/data /vault/audit && su-exec openbao chmod 0700 /vault/data /vault/audit" +
                WAIT +
                ' && (su-exec openbao /bin/sh /vault/config/audit-rotator.sh &) && exec su-exec openbao bao "$@"',
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
        assert.deepEqual(START_CAPABILITIES, {
            adds: ["CHOWN", "IPC_LOCK", "KILL", "SETGID", "SETUID"],
            drops: ["ALL"],
        });
    });
});
