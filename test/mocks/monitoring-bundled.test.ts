/**
 * The prod stack with `monitoring: bundled` under mocks.
 * Proves: Prometheus, blackbox_exporter and Alertmanager on the first Docker host's provider and
 * network, hardened like the other sidecars, with protected data volumes; one mtail per node on that
 * node's host, its audit volume mounted read-only (node 0's also the snapshot uploader's log volume,
 * which VaultBackupStale reads on a stack with a bucket); the metrics token and the receiver uploaded only
 * as secrets; Alertmanager's API behind basic auth (`--web.config.file` with the generated bcrypt
 * hash), Prometheus sending alerts with that user's password from a file, every secret file 0400
 * owned by nobody, the password a secret stack output and in no plain input; the rendered Prometheus
 * config targets every node and every mtail; the rule file
 * carries each node certificate's end date; with the backend's tokens bound to its range, the metrics
 * token role is bound to Prometheus's (monitoringTokenBoundCidrs).
 * Does not prove: that Docker runs them (the Docker tier) or that the tools accept the files
 * (test/unit/monitoring.rules.test.ts and test/conformance/alerts.test.ts run them).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
    isSecretInput,
    MOCK_ALERTMANAGER_HASH,
    MOCK_ALERTMANAGER_PASSWORD,
    optionRecorder,
    setupMocks,
    stackConfig,
    valueOf,
    type MockRun,
} from "../helpers/mocks";
import { BUNDLED, BUNDLED_SECRET_KEYS } from "../policies/fixtures";

const C = "docker:index/container:Container";
let run: MockRun;
let rec: ReturnType<typeof optionRecorder>;
let outputs: Record<string, unknown>;
let passwordOutput: pulumi.Output<string>;

const role = (r: { inputs: Record<string, unknown> }) =>
    (r.inputs.labels as { label: string; value: string }[]).find((l) => l.label === "bonito.role")?.value;

describe("prod with monitoring: bundled", () => {
    before(async () => {
        // The backend's tokens bound to its range, so the metrics token must be bound too (config validation).
        const bound = {
            ...BUNDLED,
            approleTokenBoundCidrs: '["10.20.0.0/16"]',
            monitoringTokenBoundCidrs: '["10.30.0.0/24"]',
        };
        run = setupMocks("prod", stackConfig("prod", bound), BUNDLED_SECRET_KEYS);
        rec = optionRecorder();
        const { buildProgram } = await import("../../program");
        const built = buildProgram(undefined, { transformations: rec.transformations }, { allowExampleKeys: true });
        outputs = {};
        for (const k of ["monitoring", "monitoringScrapeConfig", "monitoringAlertRules", "monitoringMtailProgram"])
            outputs[k] = await valueOf(built.outputs[k as keyof typeof built.outputs] as pulumi.Input<unknown>);
        passwordOutput = built.outputs.monitoringAlertmanagerPassword;
        outputs.monitoringAlertmanagerPassword = await valueOf(passwordOutput);
        for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
    });

    it("declares Prometheus, blackbox_exporter and Alertmanager on host 0, and an mtail per node on its host", () => {
        const mon = run
            .ofType(C)
            .filter((c) => ["prometheus", "alertmanager", "blackbox", "mtail"].includes(role(c) ?? ""));
        assert.deepEqual(mon.map((c) => c.inputs.name).sort(), [
            "bonito-vault-prod-alertmanager",
            "bonito-vault-prod-blackbox",
            "bonito-vault-prod-prometheus",
            "bonito-vault-prod-vault-0-mtail",
            "bonito-vault-prod-vault-1-mtail",
            "bonito-vault-prod-vault-2-mtail",
        ]);
        const server0 = run.ofType(C).find((c) => c.inputs.name === "bonito-vault-prod-vault-0")!;
        for (const c of mon.filter((x) => role(x) !== "mtail"))
            assert.equal(c.provider, server0.provider, String(c.inputs.name));
        for (const i of [0, 1, 2]) {
            const server = run.ofType(C).find((c) => c.inputs.name === `bonito-vault-prod-vault-${i}`)!;
            const m = mon.find((c) => c.inputs.name === `bonito-vault-prod-vault-${i}-mtail`)!;
            assert.equal(m.provider, server.provider);
            const audit = (server.inputs.volumes as { containerPath: string; volumeName: string }[]).find(
                (v) => v.containerPath === "/vault/audit",
            )!;
            assert.deepEqual(m.inputs.volumes, [
                { volumeName: audit.volumeName, containerPath: "/vault/audit", readOnly: true },
                // Node 0's mtail (host 0, beside the uploader) also reads the uploader's log: that volume only, never the spool.
                ...(i === 0
                    ? [
                          {
                              volumeName: "bonito-vault-prod-snapshot-upload-log",
                              containerPath: "/var/log/snapshot-uploader",
                              readOnly: true,
                          },
                      ]
                    : []),
            ]);
            assert.equal(m.inputs.user, "100:1000");
        }
        for (const c of mon) {
            assert.deepEqual(c.inputs.capabilities, { drops: ["ALL"] });
            assert.deepEqual(c.inputs.securityOpts, ["no-new-privileges:true"]);
            assert.equal(c.inputs.memory, c.inputs.memorySwap);
        }
    });

    it("binds the metrics AppRole (tokens and secret ID) to monitoringTokenBoundCidrs, the backend's role to approleTokenBoundCidrs; declares no token role", () => {
        assert.equal(run.ofType("vault:tokenauth/authBackendRole:AuthBackendRole").length, 0);
        const roles = run.ofType("vault:appRole/authBackendRole:AuthBackendRole");
        const metrics = roles.find((r) => r.inputs.roleName === "bonito-metrics")!;
        assert.deepEqual(
            {
                backend: metrics.inputs.backend,
                tokenPolicies: metrics.inputs.tokenPolicies,
                tokenNoDefaultPolicy: metrics.inputs.tokenNoDefaultPolicy,
                tokenTtl: metrics.inputs.tokenTtl,
                tokenMaxTtl: metrics.inputs.tokenMaxTtl,
                tokenBoundCidrs: metrics.inputs.tokenBoundCidrs,
                secretIdBoundCidrs: metrics.inputs.secretIdBoundCidrs,
                secretIdTtl: metrics.inputs.secretIdTtl,
                bindSecretId: metrics.inputs.bindSecretId,
                tokenPeriod: metrics.inputs.tokenPeriod,
            },
            {
                backend: "approle",
                tokenPolicies: ["bonito-metrics"],
                tokenNoDefaultPolicy: true,
                tokenTtl: 900,
                tokenMaxTtl: 3600,
                tokenBoundCidrs: ["10.30.0.0/24"],
                secretIdBoundCidrs: ["10.30.0.0/24"],
                secretIdTtl: 0,
                bindSecretId: true,
                tokenPeriod: undefined,
            },
        );
        const backend = roles.find((r) => r.inputs.roleName === "bonito-backend");
        assert.deepEqual(backend?.inputs.tokenBoundCidrs, ["10.20.0.0/16"]);
    });

    it("runs the metrics agent beside Prometheus: the stack's Vault binary as nobody, AppRole files 0400, its sink on an in-memory volume Prometheus mounts read-only", () => {
        const agent = run.ofType(C).find((x) => x.inputs.name === "bonito-vault-prod-metrics-agent")!;
        const prom = run.ofType(C).find((x) => x.inputs.name === "bonito-vault-prod-prometheus")!;
        assert.equal(agent.provider, prom.provider, "same Docker host");
        assert.equal(agent.inputs.user, "65534:65534");
        assert.deepEqual(agent.inputs.entrypoints, ["/bin/vault"]);
        assert.deepEqual(agent.inputs.command, ["agent", "-config=/etc/vault-agent/agent.json"]);
        assert.equal(isSecretInput(agent.rawInputs.uploads), true, "the secret ID reaches the engine as a secret");
        const uploads = agent.inputs.uploads as Record<string, string>[];
        assert.deepEqual(
            uploads.map((u) => [u.file, u.owner, u.group, u.permissions]),
            [
                ["/etc/vault-agent/agent.json", undefined, undefined, "0444"],
                ["/etc/vault-agent/vault-ca.pem", undefined, undefined, "0444"],
                ["/etc/vault-agent/role-id", "65534", "65534", "0400"],
                ["/etc/vault-agent/secret-id", "65534", "65534", "0400"],
            ],
        );
        assert.equal(uploads[2].content, "mock-role-id-bonito-vault-monitoring-role");
        assert.equal(uploads[3].content, "mock-secret-id-bonito-vault-monitoring-secret-id");
        const cfg = JSON.parse(uploads[0].content);
        // prod runs a node per Docker host: the agent logs in at the node on its own host (host 0).
        assert.equal(cfg.vault.address, "https://vault-0.bonito.internal:8200");
        assert.equal(cfg.vault.ca_cert, "/etc/vault-agent/vault-ca.pem");
        assert.deepEqual(cfg.auto_auth.sink, [
            { type: "file", config: { path: "/run/bonito-metrics/token", mode: 256 } },
        ]);
        const vol = run
            .ofType("docker:index/volume:Volume")
            .find((v) => v.inputs.name === "bonito-vault-prod-metrics-token")!;
        assert.deepEqual(vol.inputs.driverOpts, {
            type: "tmpfs",
            device: "tmpfs",
            o: "size=1m,uid=65534,gid=65534,mode=0700",
        });
        assert.deepEqual(agent.inputs.volumes, [
            { volumeName: "bonito-vault-prod-metrics-token", containerPath: "/run/bonito-metrics" },
        ]);
        assert.deepEqual(
            (prom.inputs.volumes as Record<string, unknown>[]).find((v) => v.containerPath === "/run/bonito-metrics"),
            { volumeName: "bonito-vault-prod-metrics-token", containerPath: "/run/bonito-metrics", readOnly: true },
        );
        const pc = JSON.parse((prom.inputs.uploads as { file: string; content: string }[])[0].content);
        const job = pc.scrape_configs.find((j: { job_name: string }) => j.job_name === "vault");
        assert.deepEqual(job.authorization, { type: "Bearer", credentials_file: "/run/bonito-metrics/token" });
    });

    it("keeps Prometheus's and Alertmanager's data on protected, retained volumes", () => {
        for (const v of ["prometheus-data", "alertmanager-data"]) {
            const vol = run
                .ofType("docker:index/volume:Volume")
                .find((x) => x.inputs.name === `bonito-vault-prod-${v}`)!;
            const o = rec.opts.get(vol.name)!;
            assert.equal(o.protect, true, v);
            assert.equal(o.retainOnDelete, true, v);
        }
    });

    it("uploads the receiver only as a secret; Prometheus receives no token file (its agent writes it)", () => {
        for (const name of ["bonito-vault-prod-prometheus", "bonito-vault-prod-alertmanager"]) {
            const c = run.ofType(C).find((x) => x.inputs.name === name)!;
            assert.equal(isSecretInput(c.rawInputs.uploads), true, `${name}: uploads reach the engine as a secret`);
        }
        const am = run.ofType(C).find((x) => x.inputs.name === "bonito-vault-prod-alertmanager")!;
        const cfg = JSON.parse((am.inputs.uploads as { content: string }[])[0].content);
        assert.deepEqual(cfg.receivers[0].webhook_configs, [
            { url: "https://alerts.bonito.example/hooks/vault", send_resolved: true },
        ]);
    });

    it("a stack with a bucket (prod, aws): VaultBackupStale reads the uploader's confirmed uploads, not snapshot reads", () => {
        const uploader = run.ofType(C).find((c) => c.inputs.name === "bonito-vault-prod-snapshot-uploader")!;
        const m0 = run.ofType(C).find((c) => c.inputs.name === "bonito-vault-prod-vault-0-mtail")!;
        assert.equal(uploader.provider, m0.provider, "the uploader and node 0's mtail share host 0 (a local volume)");
        assert.deepEqual(
            (uploader.inputs.volumes as { volumeName: string; containerPath: string }[]).find(
                (v) => v.containerPath === "/var/log/snapshot-uploader",
            ),
            { volumeName: "bonito-vault-prod-snapshot-upload-log", containerPath: "/var/log/snapshot-uploader" },
        );
        const doc = JSON.parse(String(outputs.monitoringAlertRules)) as {
            groups: { rules: { alert: string; expr: string; for?: string }[] }[];
        };
        const backup = doc.groups.flatMap((g) => g.rules).find((r) => r.alert === "VaultBackupStale")!;
        // prod's hourly schedule: gap = 3600 + 120 (spool minimum age) + 300 (upload round) s.
        assert.deepEqual(
            { expr: backup.expr, for: backup.for },
            {
                expr: 'time() - max(bonito_backup_last_upload_timestamp_seconds{job="vault-audit"}) > 7620 or absent(bonito_backup_last_upload_timestamp_seconds{job="vault-audit"})',
                for: "67m",
            },
        );
    });

    it("puts Alertmanager's API behind basic auth: the hash in its web config, the password in Prometheus's file, both 0400 nobody", () => {
        const files = (name: string) =>
            (run.ofType(C).find((x) => x.inputs.name === name)!.inputs.uploads as Record<string, unknown>[]).map(
                (u) => [u.file, u.owner, u.group, u.permissions],
            );
        const am = run.ofType(C).find((x) => x.inputs.name === "bonito-vault-prod-alertmanager")!;
        assert.deepEqual(am.inputs.command, [
            "--config.file=/etc/alertmanager/alertmanager.yml",
            "--storage.path=/alertmanager",
            "--web.listen-address=:9093",
            "--web.config.file=/etc/alertmanager/web.yml",
            "--cluster.listen-address=",
        ]);
        assert.deepEqual(files("bonito-vault-prod-alertmanager"), [
            ["/etc/alertmanager/alertmanager.yml", "65534", "65534", "0400"],
            ["/etc/alertmanager/web.yml", "65534", "65534", "0400"],
        ]);
        const web = (am.inputs.uploads as { file: string; content: string }[]).find(
            (u) => u.file === "/etc/alertmanager/web.yml",
        )!;
        // The mock's credentials (test/helpers/mocks.ts): what the provider would have created.
        assert.deepEqual(JSON.parse(web.content), { basic_auth_users: { bonito: MOCK_ALERTMANAGER_HASH } });
        assert.deepEqual(files("bonito-vault-prod-prometheus"), [
            ["/etc/prometheus/prometheus.yml", undefined, undefined, "0444"],
            ["/etc/prometheus/rules/bonito-vault.yml", undefined, undefined, "0444"],
            ["/etc/prometheus/vault-ca.pem", undefined, undefined, "0444"],
            ["/etc/prometheus/alertmanager-password", "65534", "65534", "0400"],
        ]);
        const prom = run.ofType(C).find((x) => x.inputs.name === "bonito-vault-prod-prometheus")!;
        const pw = (prom.inputs.uploads as { file: string; content: string }[]).find(
            (u) => u.file === "/etc/prometheus/alertmanager-password",
        )!;
        assert.equal(pw.content, MOCK_ALERTMANAGER_PASSWORD);
        const pc = JSON.parse(String(outputs.monitoringScrapeConfig));
        assert.deepEqual(pc.alerting.alertmanagers, [
            {
                basic_auth: { username: "bonito", password_file: "/etc/prometheus/alertmanager-password" },
                static_configs: [{ targets: ["bonito-vault-prod-alertmanager:9093"] }],
            },
        ]);
    });

    it("keeps the password and its hash secret: in state, in the stack output, and in no plain input or command line", async () => {
        const creds = run.ofType("pulumi-nodejs:dynamic/bonito:AlertmanagerWebCredentials");
        assert.equal(creds.length, 1);
        assert.deepEqual(
            [creds[0].inputs.username, creds[0].inputs.cost, creds[0].inputs.password, creds[0].inputs.passwordHash],
            ["bonito", 10, undefined, undefined],
        );
        const o = rec.opts.get(creds[0].name) as { additionalSecretOutputs?: string[] };
        assert.deepEqual(o.additionalSecretOutputs, ["password", "passwordHash"]);
        assert.equal(outputs.monitoringAlertmanagerPassword, MOCK_ALERTMANAGER_PASSWORD);
        assert.equal(await pulumi.isSecret(passwordOutput), true, "the stack output is a secret");
        for (const r of run.resources) {
            const secretUploads = isSecretInput(r.rawInputs.uploads);
            const plain = JSON.stringify({
                ...r.inputs,
                uploads: secretUploads ? undefined : r.inputs.uploads,
                __provider: undefined,
            });
            assert.ok(!plain.includes(MOCK_ALERTMANAGER_PASSWORD), `${r.name}: the password in a plain input`);
            assert.ok(!plain.includes(MOCK_ALERTMANAGER_HASH), `${r.name}: the hash in a plain input`);
        }
    });

    it("exports the mode, a scrape config for every node and mtail, the rules with certificate dates, the mtail program", () => {
        assert.equal(outputs.monitoring, "bundled");
        const pc = JSON.parse(String(outputs.monitoringScrapeConfig));
        const job = (n: string) => pc.scrape_configs.find((j: { job_name: string }) => j.job_name === n);
        assert.deepEqual(job("vault").static_configs[0].targets, [
            "vault-0.bonito.internal:8200",
            "vault-1.bonito.internal:8200",
            "vault-2.bonito.internal:8200",
        ]);
        assert.deepEqual(job("vault-audit").static_configs[0].targets, [
            "vault-0.bonito.internal:3903",
            "vault-1.bonito.internal:3903",
            "vault-2.bonito.internal:3903",
        ]);
        const rules = String(outputs.monitoringAlertRules);
        assert.match(rules, /The TLS certificate of vault-2 expires at 2027-11-30T12:00:00.000Z/);
        assert.match(String(outputs.monitoringMtailProgram), /counter bonito_vault_audit_root_token_use_total/);
    });

    it("audit shipping on (prod): mtail also reads the shipper's confirmation log, and the stale rule covers every node at 2 x auditShipMaxDelayMinutes", () => {
        for (const i of [0, 1, 2]) {
            const m = run.ofType(C).find((c) => c.inputs.name === `bonito-vault-prod-vault-${i}-mtail`)!;
            const cmd = m.inputs.command as string[];
            assert.equal(
                cmd[cmd.indexOf("--logs") + 1],
                "/vault/audit/audit.log,/vault/audit/audit-shipper.log" +
                    (i === 0 ? ",/var/log/snapshot-uploader/snapshot-uploader.log" : ""),
            );
        }
        const doc = JSON.parse(String(outputs.monitoringAlertRules)) as {
            groups: { rules: { alert: string; expr: string; for?: string }[] }[];
        };
        const stale = doc.groups.flatMap((g) => g.rules).find((r) => r.alert === "VaultAuditShippingStale")!;
        const max = Number(outputs.auditShipMaxDelayMinutes ?? 5) * 60;
        assert.equal(
            stale.expr,
            `max by (node) ((time() - bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit"} > ${2 * max})` +
                [0, 1, 2]
                    .map(
                        (i) =>
                            ` or absent(bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",node="vault-${i}"})`,
                    )
                    .join("") +
                ")",
        );
        assert.equal(stale.for, `${(2 * max) / 60}m`);
        assert.match(
            String(outputs.monitoringMtailProgram),
            /gauge bonito_audit_shipper_last_success_timestamp_seconds by node/,
        );
    });
});
