/**
 * `npm run render`: the offline render of a committed stack.
 * Proves: it writes one server config per node (identical to what the containers receive) and a
 * resource list in which every value the program marked secret is hidden. Does not prove: that a
 * real preview declares the same (it runs the same program, under the mock runtime).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { markPlaceholders, render } from "../../scripts/render";

describe("render local", () => {
    it("writes node configs and a redacted resource list", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
        try {
            const files = await render("local", {}, dir);
            assert.deepEqual(
                files.map((f) => path.relative(dir, f)),
                [
                    "local/vault-0.server.json",
                    "local/vault-1.server.json",
                    "local/vault-2.server.json",
                    "local/vault-settings.json",
                    "local/backups.json",
                    "local/outputs.json",
                    "local/resources.json",
                    "local/resources.txt",
                ],
            );
            const cfg = JSON.parse(fs.readFileSync(path.join(dir, "local/vault-1.server.json"), "utf8"));
            assert.equal(cfg.storage.raft.node_id, "vault-1");
            assert.deepEqual(Object.keys(cfg.seal), ["transit"]);
            const settings = JSON.parse(fs.readFileSync(path.join(dir, "local/vault-settings.json"), "utf8"));
            assert.equal(settings.kvMount.path, "bonito");
            const backups = JSON.parse(fs.readFileSync(path.join(dir, "local/backups.json"), "utf8"));
            assert.equal(backups.schedule, "24h");
            assert.doesNotMatch(JSON.stringify([settings, backups]), /mock-|PRIVATE KEY/);
            const outputs = JSON.parse(fs.readFileSync(path.join(dir, "local/outputs.json"), "utf8"));
            assert.equal(outputs.backendEnv, "[secret]");
            assert.equal(outputs.recoveryKeys, "[secret]");
            assert.equal(outputs.sealType, "transit");
            // The mock's certificate is marked; values the program decides are not.
            assert.equal(
                outputs.caCert,
                "[placeholder] -----BEGIN CERTIFICATE-----\nMOCK-bonito-vault-tls-ca\n-----END CERTIFICATE-----\n",
            );
            assert.equal(outputs.vaultAddr, "https://vault:8200");
            const unmarked = (v: unknown): string[] =>
                typeof v === "string"
                    ? v.startsWith("[placeholder] ")
                        ? []
                        : [v]
                    : typeof v === "object" && v !== null
                      ? Object.values(v).flatMap(unmarked)
                      : [];
            assert.deepEqual(
                unmarked(outputs).filter((v) => /mock|123456789012/i.test(v)),
                [],
            );
            const listing = fs.readFileSync(path.join(dir, "local/resources.json"), "utf8");
            // The mock runtime's stand-ins for every secret (test/helpers/mocks.ts) must not appear.
            assert.doesNotMatch(
                listing,
                /mock-(root-token|admin-secret-id|secret-id|transit-token|unsealer-key|recovery)|PRIVATE KEY/,
            );
            const resources = JSON.parse(listing) as { type: string; inputs: Record<string, unknown> }[];
            const servers = resources.filter(
                (r) =>
                    r.type === "docker:index/container:Container" &&
                    JSON.stringify(r.inputs.labels ?? []).includes("vault-server"),
            );
            assert.equal(servers.length, 3);
            for (const s of servers) {
                assert.deepEqual(s.inputs.envs, [
                    "VAULT_TOKEN=[secret]",
                    "VAULT_ADDR=[secret]",
                    "VAULT_CACERT=[secret]",
                ]);
                assert.deepEqual(
                    (s.inputs.uploads as { file: string; content: string }[]).map((u) => [u.file, u.content]),
                    [
                        ["/vault/config/server.json", "[see <node>.server.json]"],
                        // Every other upload's content is left out of the listing; no TLS file is an upload.
                        ["/vault/config/audit-rotator.sh", "[secret]"],
                    ],
                );
            }
            // The TLS files go through NodeTls: its key input is a secret, the certificates are not.
            const pushes = resources.filter((r) => r.type.endsWith(":NodeTls"));
            assert.equal(pushes.length, 3);
            for (const p of pushes) {
                assert.equal(p.inputs.keyPem, "[secret]");
                assert.match(String(p.inputs.certPem), /BEGIN CERTIFICATE/);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("render with a bad config", () => {
    it("prints the problem list and nothing after it, exit status 1", () => {
        const r = spawnSync(
            process.execPath,
            ["--import", "tsx", "scripts/render.ts", "local", "nodes=4", "nodeCount=3", "image=hashicorp/vault:latest"],
            { cwd: path.join(__dirname, "..", ".."), encoding: "utf8" },
        );
        assert.equal(r.status, 1, r.stderr);
        assert.equal(r.stdout, "");
        assert.equal(
            r.stderr,
            [
                'Stack "local" has 3 configuration problems; nothing was declared:',
                "  - bonito-vault:nodeCount is not a key of this project; did you mean bonito-vault:nodes? (docs/configuration.md lists every key)",
                '  - bonito-vault:nodes must be one of 1, 3, 5, 7 (got "4")',
                '  - bonito-vault:image must be an image pinned by digest (repo@sha256:<64 hex>) or an exact version tag (repo:1.21.1); latest, no tag and floating tags are refused (got "hashicorp/vault:latest")',
                "",
            ].join("\n"),
        );
    });
});

describe("markPlaceholders", () => {
    it("prefixes every string holding a mock stand-in or a mock resource id, and keeps the shape", () => {
        assert.deepEqual(
            markPlaceholders(
                {
                    arn: "arn:aws:kms:us-east-1:123456789012:key/k",
                    list: ["https://vault:8200", "open security group web-sg-id to the hosts"],
                    n: 3,
                    none: null,
                    pem: "-----BEGIN CERTIFICATE-----\nMOCK-ca\n-----END CERTIFICATE-----\n",
                },
                ["web-sg-id"],
            ),
            {
                arn: "[placeholder] arn:aws:kms:us-east-1:123456789012:key/k",
                list: ["https://vault:8200", "[placeholder] open security group web-sg-id to the hosts"],
                n: 3,
                none: null,
                pem: "[placeholder] -----BEGIN CERTIFICATE-----\nMOCK-ca\n-----END CERTIFICATE-----\n",
            },
        );
    });
});
