/**
 * DockerHosts + ClusterTls + RaftCluster under Pulumi's mock runtime, with a stand-in seal.
 * Proves: exact container inputs (command, entrypoint with the in-container audit rotation loop and
 * the wait for the TLS files, capabilities, ulimits, mounts, uploads without any TLS material, the
 * `vault status` healthcheck, ports), one NodeTls push per node (its container, this node's
 * certificate and key, the key secret, after the container and before the node's gate), certificate
 * SANs and usages, protected volumes, secrets kept secret.
 * Does not prove: that Docker or Vault accept them.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { SealDelivery, SealStanza } from "../../components/seal";
import { renderAuditRotatorScript } from "../../components/settings/audit";
import { isSecretInput, optionRecorder, setupMocks, settle, valueOf, type MockRun } from "../helpers/mocks";

const run: MockRun = setupMocks("local", {});
const recorder = optionRecorder();
let built: Awaited<ReturnType<typeof build>>;

async function build() {
    const { loadConfig } = await import("../../components/config");
    const { planNodes } = await import("../../components/topology");
    const { planPlatform } = await import("../../components/plan");
    const { DockerHosts } = await import("../../components/dockerHosts");
    const { ClusterTls } = await import("../../components/clusterTls");
    const { RaftCluster } = await import("../../components/raftCluster");
    const { renderServerConfigJson } = await import("../../components/serverConfig");
    const config = {
        ...loadConfig("local", { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" }),
        stack: "local",
    };
    const stanza: SealStanza = { type: "transit", config: { address: "http://unsealer:8200", key_name: "k" } };
    const seal: SealDelivery = {
        stanza: pulumi.output(stanza) as pulumi.Output<SealStanza>,
        env: pulumi.secret(["VAULT_TOKEN=s.fake"]),
        files: [],
        dependsOn: [],
        keyId: pulumi.output("k"),
        identity: pulumi.output("transit-policy"),
    };
    const nodes = planNodes(config);
    const opts = { transformations: recorder.transformations };
    const plan = planPlatform(config);
    const hosts = new DockerHosts("t-docker", plan.dockerHosts, opts);
    const tls = new ClusterTls("t-tls", { ...plan.tls!, nodes }, opts);
    const cluster = new RaftCluster(
        "t-raft",
        {
            settings: config,
            nodes,
            hosts: hosts.perNode,
            tls: { caCertPem: tls.caCertPem, nodeCerts: tls.nodeCerts },
            seal,
        },
        opts,
    );
    await settle(cluster, tls, hosts, ...cluster.containers, ...cluster.tlsPushes);
    const expectedConfigs = nodes.map((node) =>
        renderServerConfigJson({
            config,
            node,
            nodes,
            seal: { type: "transit", config: { address: "http://unsealer:8200", key_name: "k" } },
        }),
    );
    return { cluster, tls, nodes, expectedConfigs, config };
}

const servers = () =>
    run
        .ofType("docker:index/container:Container")
        .filter((c) => JSON.stringify(c.inputs.labels ?? []).includes('"vault-server"'));

before(async () => {
    built = await build();
});

describe("RaftCluster", () => {
    it("declares one network, one image and three containers, each with its own two volumes", () => {
        assert.equal(run.ofType("docker:index/network:Network").length, 1);
        assert.equal(run.ofType("docker:index/remoteImage:RemoteImage").length, 1);
        assert.equal(servers().length, 3);
        // No sidecar: the audit rotation loop runs inside each Vault container (components/settings/audit.ts).
        assert.equal(run.ofType("docker:index/container:Container").length, 3);
        assert.deepEqual(
            run.ofType("docker:index/volume:Volume").map((v) => v.inputs.name),
            [
                "bonito-vault-local-vault-0-data",
                "bonito-vault-local-vault-0-audit",
                "bonito-vault-local-vault-1-data",
                "bonito-vault-local-vault-1-audit",
                "bonito-vault-local-vault-2-data",
                "bonito-vault-local-vault-2-audit",
            ],
        );
    });

    it("protects every volume from replacement and destroy", () => {
        for (const v of run.ofType("docker:index/volume:Volume")) {
            const o = recorder.opts.get(v.name);
            assert.equal(o?.protect, true, `${v.name} protect`);
            assert.equal(o?.retainOnDelete, true, `${v.name} retainOnDelete`);
        }
    });

    it("runs each container hardened, exactly", async () => {
        for (const [i, c] of servers().entries()) {
            const node = built.nodes[i];
            const inputs = c.inputs as Record<string, unknown>;
            assert.deepEqual(inputs.command, ["server", "-config=/vault/config/server.json"]);
            assert.ok(!JSON.stringify(inputs.command).includes("-dev"));
            assert.deepEqual(inputs.entrypoints, [
                "/bin/sh",
                "-ec",
                "chown vault:vault /vault/data /vault/audit && su-exec vault chmod 0700 /vault/data /vault/audit" +
                    ' && trap : HUP && { [ -s /vault/tls/pushed ] || echo "bonito-vault-entrypoint: waiting for /vault/tls/pushed (written by Pulumi\'s NodeTls once the container runs)" >&2; }' +
                    " && until [ -s /vault/tls/pushed ]; do sleep 1; done" +
                    ' && (su-exec vault /bin/sh /vault/config/audit-rotator.sh &) && exec su-exec vault vault "$@"',
                "bonito-vault-entrypoint",
            ]);
            // Root only until su-exec: explicit, because openbao/openbao's image ends with USER openbao.
            assert.equal(inputs.user, "0:0");
            assert.deepEqual(inputs.capabilities, {
                adds: ["CHOWN", "IPC_LOCK", "KILL", "SETGID", "SETUID"],
                drops: ["ALL"],
            });
            assert.deepEqual(inputs.ulimits, [
                { name: "core", soft: 0, hard: 0 },
                { name: "nofile", soft: 65536, hard: 65536 },
            ]);
            assert.deepEqual(inputs.securityOpts, ["no-new-privileges:true"]);
            assert.deepEqual(
                [inputs.memory, inputs.memorySwap, inputs.restart, inputs.init],
                [1024, 1024, "unless-stopped", true],
            );
            assert.deepEqual(inputs.healthcheck, {
                tests: [
                    "CMD-SHELL",
                    "vault status -address=https://127.0.0.1:8200 -ca-cert=/vault/tls/ca.pem -tls-server-name=vault >/dev/null || exit 1",
                ],
                interval: "10s",
                timeout: "5s",
                retries: 3,
                startPeriod: "30s",
            });
            assert.deepEqual(inputs.volumes, [
                { volumeName: node.dataVolumeName, containerPath: "/vault/data" },
                { volumeName: node.auditVolumeName, containerPath: "/vault/audit" },
            ]);
            // The default second audit device is syslog, through the host's socket: a `mounts` bind,
            // which Docker refuses when the host has no /dev/log (a `volumes` hostPath would create an
            // empty folder there, and the device would fail only when Vault enables it).
            assert.deepEqual(inputs.mounts, [{ type: "bind", source: "/dev/log", target: "/dev/log" }]);
            assert.deepEqual(inputs.ports, [{ internal: 8200, external: 8200 + i, ip: "127.0.0.1", protocol: "tcp" }]);
            assert.deepEqual(inputs.networksAdvanced, [{ name: "bonito-vault-local", aliases: [node.name, "vault"] }]);
            assert.equal(inputs.hostname, node.name);
            assert.equal(inputs.name, node.containerName);
            const uploads = inputs.uploads as Record<string, unknown>[];
            assert.deepEqual(
                uploads.map((u) => [u.file, u.owner, u.group, u.permissions]),
                [
                    ["/vault/config/server.json", "100", "1000", "0440"],
                    ["/vault/config/audit-rotator.sh", "100", "1000", "0440"],
                ],
            );
            assert.equal(uploads[0].content, built.expectedConfigs[i]);
            // Audit shipping is on (the default): the rotator paces itself for the 5-minute bound.
            assert.equal(
                uploads[1].content,
                renderAuditRotatorScript(built.config.audit, { rotateSeconds: 150, checkSeconds: 30 }),
            );
            assert.deepEqual(inputs.envs, [
                "VAULT_TOKEN=s.fake",
                "VAULT_ADDR=https://127.0.0.1:8200",
                "VAULT_CACERT=/vault/tls/ca.pem",
            ]);
        }
    });

    it("keeps credentials out of the command line and the rendered config", () => {
        for (const c of servers()) {
            const line = JSON.stringify([c.inputs.command, c.inputs.entrypoints]);
            assert.doesNotMatch(line, /s\.fake|PRIVATE KEY|token/i);
            const cfg = String((c.inputs.uploads as { content: string }[])[0].content);
            assert.doesNotMatch(cfg, /s\.fake|PRIVATE KEY/);
        }
    });

    it("pushes each node's own certificate and key into its container, after it and before its gate", () => {
        const pushes = run.resources.filter((r) => r.type.endsWith(":NodeTls"));
        assert.deepEqual(
            pushes.map((p) => p.name),
            built.nodes.map((n) => `t-raft-${n.name}-tls`),
        );
        for (const [i, p] of pushes.entries()) {
            const node = built.nodes[i];
            const { __provider, ...inputs } = p.inputs;
            assert.match(String(__provider), /kill -HUP/);
            assert.deepEqual(inputs, {
                node: node.name,
                dockerHost: "",
                containerId: `t-raft-${node.name}-id`,
                caCertPem: "-----BEGIN CERTIFICATE-----\nMOCK-t-tls-ca\n-----END CERTIFICATE-----\n",
                certPem: `-----BEGIN CERTIFICATE-----\nMOCK-t-tls-${node.name}-cert\n-----END CERTIFICATE-----\n`,
                keyPem: `-----BEGIN PRIVATE KEY-----\nMOCK-t-tls-${node.name}-key\n-----END PRIVATE KEY-----\n`,
                uid: 100,
                gid: 1000,
                addr: `https://127.0.0.1:${8200 + i}`,
                tlsServerName: "vault",
                timeoutSeconds: built.config.rollingNodeTimeoutSeconds,
            });
            assert.equal(isSecretInput(p.rawInputs.keyPem), true, "the key reaches the engine as a secret");
            assert.equal(isSecretInput(p.rawInputs.certPem), false);
            const deps = recorder.opts.get(p.name)?.dependsOn as pulumi.Resource[] | undefined;
            assert.deepEqual(deps, [built.cluster.containers[i]], `${p.name} waits for its container`);
            const gateDeps = recorder.opts.get(`t-raft-${node.name}-ready`)?.dependsOn as pulumi.Resource[] | undefined;
            assert.deepEqual(gateDeps, [built.cluster.tlsPushes[i]], `the gate of ${node.name} waits for its push`);
        }
    });

    it("marks the environment and the key secret; no container holds TLS material", async () => {
        for (const c of servers()) {
            assert.equal(isSecretInput(c.rawInputs.envs), true, "envs reach the engine as a secret");
            assert.doesNotMatch(JSON.stringify(c.inputs), /PRIVATE KEY|MOCK-t-tls/);
        }
        for (const c of built.cluster.containers) {
            assert.equal(await pulumi.isSecret(c.envs), true);
        }
        for (const nc of built.tls.nodeCerts) assert.equal(await pulumi.isSecret(nc.keyPem), true);
        assert.equal(await pulumi.isSecret(built.tls.caCertPem), false);
    });
});

describe("ClusterTls", () => {
    it("declares an ECDSA CA and one server+client certificate per node with the node's SANs", async () => {
        assert.equal(run.ofType("tls:index/privateKey:PrivateKey").length, 4);
        const ca = run.byName("t-tls-ca").inputs;
        assert.equal(ca.isCaCertificate, true);
        assert.deepEqual(ca.allowedUses, ["cert_signing", "crl_signing", "digital_signature"]);
        assert.equal(ca.validityPeriodHours, 87600);
        const csrs = run.ofType("tls:index/certRequest:CertRequest");
        assert.deepEqual(
            csrs.map((c) => [c.inputs.dnsNames, c.inputs.ipAddresses]),
            [0, 1, 2].map((i) => [[`vault-${i}`, "vault", "localhost"], ["127.0.0.1"]]),
        );
        for (const cert of run.ofType("tls:index/locallySignedCert:LocallySignedCert")) {
            assert.deepEqual(cert.inputs.allowedUses, [
                "digital_signature",
                "key_encipherment",
                "server_auth",
                "client_auth",
            ]);
            assert.deepEqual([cert.inputs.validityPeriodHours, cert.inputs.earlyRenewalHours], [8760, 720]);
        }
        for (const k of run.ofType("tls:index/privateKey:PrivateKey")) {
            assert.deepEqual([k.inputs.algorithm, k.inputs.ecdsaCurve], ["ECDSA", "P256"]);
        }
        assert.match(await valueOf(built.tls.caCertPem), /BEGIN CERTIFICATE/);
    });
});
