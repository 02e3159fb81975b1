/**
 * UnsealKey on local (transit unsealer) under Pulumi's mock runtime, and the whole local program.
 * Proves: the unsealer is a server-mode container (never -dev) with file storage on a protected,
 * retained volume, published on 127.0.0.1 only, on the cluster network; the init resource is
 * protected, holds its secrets as additional secret outputs, and the cluster waits for it; the
 * transit stanza (no token) is in every node's config and the token env is a secret.
 * Does not prove: that the unsealer starts or that bootstrap works against real Vault (the HTTP
 * conversation is unit-tested with a fake in test/unit/unseal-policies.test.ts); under the mock the
 * dynamic resource's outputs are unknown, so the token's value is not checked here.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { optionRecorder, setupMocks, stackConfig, valueOf, type MockRun } from "../helpers/mocks";
import { buildUnsealKey, programServerConfigs } from "../helpers/unseal";

const run: MockRun = setupMocks("local", stackConfig("local", {}));
const recorder = optionRecorder();
let u: Awaited<ReturnType<typeof build>>;

async function build() {
    return buildUnsealKey(
        "l",
        { cloud: "local", image: "hashicorp/vault:1.21.1" },
        { ...recorder, stack: "local", networkName: "bonito-vault-local" },
    );
}
const children = () =>
    run.resources.filter((r) => r.name.startsWith("l-") && r.name !== "l-net").map((r) => `${r.type} ${r.name}`);

describe("local transit unsealer", () => {
    before(async () => {
        u = await build();
    });

    it("creates exactly: image, protected volume, container, init resource", () => {
        assert.deepEqual(children().sort(), [
            "docker:index/container:Container l-unsealer",
            "docker:index/remoteImage:RemoteImage l-unsealer-image",
            "docker:index/volume:Volume l-unsealer-data",
            "pulumi-nodejs:dynamic/bonito:UnsealerInit l-unsealer-init",
        ]);
        assert.equal(recorder.opts.get("l-unsealer-data")!.protect, true);
        assert.equal(recorder.opts.get("l-unsealer-data")!.retainOnDelete, true);
        assert.equal(recorder.opts.get("l-unsealer-init")!.protect, true);
        assert.deepEqual(
            (recorder.opts.get("l-unsealer-init") as pulumi.CustomResourceOptions).additionalSecretOutputs,
            ["unsealKey", "transitToken"],
        );
    });

    it("container: server mode with a file config, loopback-only port, cluster network, no swap", () => {
        const c = run.byName("l-unsealer").inputs;
        assert.deepEqual(c.command, ["server", "-config=/vault/config/unsealer.json"]);
        assert.ok(!JSON.stringify(c).includes("-dev"));
        assert.deepEqual(c.ports, [{ internal: 8200, external: 8210, ip: "127.0.0.1", protocol: "tcp" }]);
        assert.deepEqual(c.networksAdvanced, [
            { name: "bonito-vault-local", aliases: ["bonito-vault-local-unsealer"] },
        ]);
        assert.deepEqual(c.volumes, [{ volumeName: "bonito-vault-local-unsealer-data", containerPath: "/vault/file" }]);
        assert.equal(c.user, "0:0");
        assert.deepEqual(c.capabilities, { adds: ["CHOWN", "IPC_LOCK", "KILL", "SETGID", "SETUID"], drops: ["ALL"] });
        assert.deepEqual(c.securityOpts, ["no-new-privileges:true"]);
        assert.equal(c.memory, c.memorySwap);
        assert.equal(c.envs, undefined);
        const uploads = c.uploads as { file: string; content: string; permissions: string }[];
        assert.equal(uploads.length, 1);
        assert.deepEqual(JSON.parse(uploads[0].content), {
            storage: { file: { path: "/vault/file" } },
            listener: [{ tcp: { address: "0.0.0.0:8200", tls_disable: true } }],
            api_addr: "http://bonito-vault-local-unsealer:8200",
            disable_mlock: true,
            ui: false,
            log_level: "info",
            default_lease_ttl: "1h",
            max_lease_ttl: "8760h",
        });
    });

    it("init resource: bootstrap inputs only (no secret in its inputs), the exact transit policy", () => {
        const { __provider, containerId, policy, ...inputs } = run.byName("l-unsealer-init").inputs;
        assert.ok(__provider && policy);
        assert.ok(containerId === undefined || typeof containerId === "string");
        assert.deepEqual(inputs, {
            mountPath: "transit",
            keyName: "bonito-vault-unseal",
            policyName: "bonito-vault-seal",
            tokenPeriod: "720h",
            autoRotatePeriod: "2160h",
            address: "http://127.0.0.1:8210",
        });
        assert.match(
            String(policy),
            /^path "transit\/encrypt\/bonito-vault-unseal" \{\n {2}capabilities = \["update"\]\n\}/,
        );
    });

    it("delivery: transit stanza without token, token env secret, cluster waits for the init resource", async () => {
        const stanza = await valueOf(u.delivery.stanza);
        assert.deepEqual(stanza, {
            type: "transit",
            config: {
                address: "http://bonito-vault-local-unsealer:8200",
                mount_path: "transit/",
                key_name: "bonito-vault-unseal",
                disable_renewal: "false",
            },
        });
        assert.ok(!("token" in stanza.config));
        assert.equal(await pulumi.isSecret(u.delivery.env), true);
        assert.equal(u.delivery.dependsOn.length, 1);
        assert.match(
            await valueOf(u.delivery.dependsOn[0].urn),
            /pulumi-nodejs:dynamic\/bonito:UnsealerInit::l-unsealer-init$/,
        );
    });
});

describe("local, whole program", () => {
    it("renders the transit stanza into every node's config, and loads no cloud SDK", async () => {
        const configs = await programServerConfigs();
        assert.equal(configs.length, 3);
        for (const c of configs) {
            assert.deepEqual(JSON.parse(c).seal, {
                transit: {
                    address: "http://bonito-vault-local-unsealer:8200",
                    mount_path: "transit/",
                    key_name: "bonito-vault-unseal",
                    disable_renewal: "false",
                },
            });
            assert.ok(!/"token"/.test(c));
        }
        const loaded = Object.keys(require.cache);
        assert.deepEqual(
            loaded.filter((k) => /@pulumi[\\/](aws|azure-native|gcp)[\\/]/.test(k)),
            [],
        );
    });
});
