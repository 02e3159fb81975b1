/**
 * The prod stack with `monitoring: bundled` under mocks.
 * Proves: Prometheus, blackbox_exporter and Alertmanager on the first Docker host's provider and
 * network, hardened like the other sidecars, with protected data volumes; one mtail per node on that
 * node's host, its audit volume mounted read-only (node 0's also the snapshot uploader's log volume,
 * which VaultBackupStale reads on a stack with a bucket); the metrics token and the receiver uploaded only
 * as secrets; the rendered Prometheus config targets every node and every mtail; the rule file
 * carries each node certificate's end date.
 * Does not prove: that Docker runs them (the Docker tier) or that the tools accept the files
 * (test/unit/monitoring.rules.test.ts and test/conformance/alerts.test.ts run them).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { isSecretInput, optionRecorder, setupMocks, stackConfig, valueOf, type MockRun } from "../helpers/mocks";
import { BUNDLED, BUNDLED_SECRET_KEYS } from "../policies/fixtures";

const C = "docker:index/container:Container";
let run: MockRun;
let rec: ReturnType<typeof optionRecorder>;
let outputs: Record<string, unknown>;

const role = (r: { inputs: Record<string, unknown> }) =>
    (r.inputs.labels as { label: string; value: string }[]).find((l) => l.label === "bonito.role")?.value;

describe("prod with monitoring: bundled", () => {
    before(async () => {
        run = setupMocks("prod", stackConfig("prod", BUNDLED), BUNDLED_SECRET_KEYS);
        rec = optionRecorder();
        const { buildProgram } = await import("../../program");
        const built = buildProgram(undefined, { transformations: rec.transformations }, { allowExampleKeys: true });
        outputs = {};
        for (const k of ["monitoring", "monitoringScrapeConfig", "monitoringAlertRules", "monitoringMtailProgram"])
            outputs[k] = await valueOf(built.outputs[k as keyof typeof built.outputs] as pulumi.Input<unknown>);
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

    it("uploads the metrics token and the receiver only as secrets", () => {
        for (const name of ["bonito-vault-prod-prometheus", "bonito-vault-prod-alertmanager"]) {
            const c = run.ofType(C).find((x) => x.inputs.name === name)!;
            assert.equal(isSecretInput(c.rawInputs.uploads), true, `${name}: uploads reach the engine as a secret`);
        }
        // The metrics token: a file only Prometheus's user (nobody) can read.
        const prom = run.ofType(C).find((x) => x.inputs.name === "bonito-vault-prod-prometheus")!;
        const token = (prom.inputs.uploads as Record<string, unknown>[]).find(
            (u) => u.file === "/etc/prometheus/vault-token",
        )!;
        assert.deepEqual([token.owner, token.group, token.permissions], ["65534", "65534", "0400"]);
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
