/**
 * AuditShipping on local under Pulumi mocks. Proves: each node's shipper copies into its own
 * protected archive volume (protect + retainOnDelete) on its own host, with no credential and no
 * cloud resource; a one-shot step per node on the Vault image, with no capability, mounts the new
 * archive volume on the image's vault-owned data folder (Docker copies its owner into the empty
 * volume) and makes it 0700 before the shipper starts (a new volume is root's 0755: the Docker tier
 * saw "mkdir /archive/vault-0: permission denied" without it; the Docker tier proves the copy-up). Does not prove write-once: a Docker volume
 * is not (README says so).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { setupMocks, type MockRun } from "../helpers/mocks";
import { declareShipping } from "./auditShipping.clouds.helper";

const raw = { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" };
let run: MockRun;
let d: Awaited<ReturnType<typeof declareShipping>>;

before(async () => {
    run = setupMocks("staging", raw);
    d = await declareShipping("staging", raw);
});

describe("local audit archive", () => {
    it("one protected archive volume per node, mounted at /archive beside the node's audit volume", () => {
        const vols = run
            .ofType("docker:index/volume:Volume")
            .filter((v) => String(v.inputs.name).endsWith("-audit-archive"));
        assert.deepStrictEqual(
            vols.map((v) => v.inputs.name),
            [0, 1, 2].map((i) => `bonito-vault-staging-vault-${i}-audit-archive`),
        );
        for (const i of [0, 1, 2]) {
            const o = d.options.get(`audit-shipping-vault-${i}-archive`);
            assert.equal(o?.protect, true, "protect");
            assert.equal(o?.retainOnDelete, true, "retainOnDelete");
        }
        d.volumes.forEach((v, i) =>
            assert.deepStrictEqual(v, [
                { volumeName: `bonito-vault-staging-vault-${i}-audit`, containerPath: "/vault/audit" },
                { volumeName: `bonito-vault-staging-vault-${i}-audit-archive`, containerPath: "/archive" },
            ]),
        );
        assert.equal(d.writer, "docker-volume (not write-once)");
        assert.match(d.url, /^docker-volume:\/\/host-0\/bonito-vault-staging-vault-0-audit-archive /);
    });

    it("rclone's local backend, no credential, no cloud resource", () => {
        for (const u of d.uploads)
            assert.deepStrictEqual(
                u.map((x) => [x.file, x.content]),
                [["/etc/rclone/rclone.conf", "[audit]\ntype = local\n"]],
            );
        assert.match(d.entrypoints[2][2], /^DEST=audit:\/archive\/vault-2$/m);
        assert.doesNotMatch(d.entrypoints[0][2], /RCLONE_CONFIG_AUDIT_/);
        assert.deepStrictEqual(
            run.resources.filter((r) => /^(aws|gcp|azure-native):/.test(r.type)),
            [],
        );
    });

    it("gives each archive volume to the shipper's user (100:1000, 0700) in a one-shot step with no capability, which the shipper waits for", () => {
        const inits = run
            .ofType("docker:index/container:Container")
            .filter((c) => String(c.inputs.name).endsWith("-audit-archive-init"));
        assert.deepStrictEqual(
            inits.map((c) => c.inputs.name),
            [0, 1, 2].map((i) => `bonito-vault-staging-vault-${i}-audit-archive-init`),
        );
        for (const [i, c] of inits.entries()) {
            assert.deepStrictEqual(c.inputs.entrypoints, [
                "/bin/sh",
                "-c",
                'chmod 0700 /vault/file && test -w /vault/file && test "$(stat -c %u /vault/file)" = 100',
                "audit-archive-init",
            ]);
            assert.equal(c.inputs.user, "100:1000");
            assert.deepStrictEqual(c.inputs.capabilities, { drops: ["ALL"] });
            assert.deepStrictEqual(c.inputs.securityOpts, ["no-new-privileges:true"]);
            assert.equal(c.inputs.attach, true, "Pulumi waits for it to exit");
            assert.equal(c.inputs.mustRun, false);
            assert.deepStrictEqual(c.inputs.volumes, [
                { volumeName: `bonito-vault-staging-vault-${i}-audit-archive`, containerPath: "/vault/file" },
            ]);
            const deps = (d.options.get(`audit-shipping-vault-${i}`)?.dependsOn ?? []) as unknown[];
            assert.equal(deps.length, 1, "the shipper depends on its archive's step");
        }
    });
});
