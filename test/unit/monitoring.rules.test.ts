/**
 * The alert rules and the security rules, run by the tools that evaluate them in production:
 * promtool (Debian's prometheus) checks the rendered rule file and unit-tests every alert with a
 * passing and a firing case and its exact messages; mtail (Debian's mtail) runs the generated
 * program over every line of real Vault 1.21.1 audit output (test/fixtures/audit, captured from the
 * conformance cluster while performing each security event), one line at a time, and must count
 * exactly the lines a plain reading of the JSON says each rule is about; it also reads the audit
 * shipper's confirmation log lines (components/audit/shipper.ts) into the shipping gauge, and the
 * snapshot uploader's log lines (components/backup/uploaderConfig.ts) into the backup upload gauge.
 * Does not prove: that Vault emits these metrics (test/conformance/alerts.test.ts scrapes a live
 * cluster), or delivery to a receiver (same file).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { requireTools } from "../helpers/tools";
import { renderAlertRulesFile } from "../../components/monitoring/alertRules";
import { DEFAULT_SENSITIVE_PATHS, renderMtailProgram, securityRules } from "../../components/monitoring/securityRules";
import { UPLOAD_LOG_NAME } from "../../components/backup/uploaderConfig";

requireTools("promtool", "mtail");

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const FIXTURE = path.join(__dirname, "..", "fixtures", "audit", "vault-1.21.1-events.log");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-rules-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const rules = securityRules({ sensitivePaths: DEFAULT_SENSITIVE_PATHS, snapshotRoles: ["snapshot-agent"] });
const CERT_NOT_AFTER = 40 * 86400;
const CA_NOT_AFTER = 400 * 86400;
const ruleFile = path.join(dir, "rules.yml");
fs.writeFileSync(
    ruleFile,
    renderAlertRulesFile({
        security: rules,
        certificateNotAfter: { "vault-0": CERT_NOT_AFTER },
        certificateWarnSeconds: 30 * 86400,
        caNotAfter: { "ca-a": CA_NOT_AFTER },
        caWarnSeconds: 365 * 86400,
        backupIntervalSeconds: 3600,
        auditShipping: { maxDelaySeconds: 300, nodes: ["vault-0", "vault-1"] },
    }),
);
/**
 * A stack with a bucket (aws, gcp, azure): VaultBackupStale reads the uploader's confirmed uploads
 * (hourly snapshots, 5-minute upload rounds, the spool's 2-minute minimum age). Every other rule is
 * the same as in the file above.
 */
const uploadRuleFile = path.join(dir, "rules-upload.yml");
fs.writeFileSync(
    uploadRuleFile,
    renderAlertRulesFile({
        security: rules,
        certificateNotAfter: { "vault-0": CERT_NOT_AFTER },
        certificateWarnSeconds: 30 * 86400,
        caNotAfter: { "ca-a": CA_NOT_AFTER },
        caWarnSeconds: 365 * 86400,
        backupIntervalSeconds: 3600,
        backupUpload: { roundSeconds: 300, minAgeSeconds: 120 },
        auditShipping: { maxDelaySeconds: 300, nodes: ["vault-0", "vault-1"] },
    }),
);

/** The exact summaries, written out here rather than read from the rule data. */
const SUMMARY: Record<string, string> = {
    VaultRootTokenUsed: "A request to Vault used a root token",
    VaultRootTokenCreated: "A root token was created (generate-root completed or a root token was issued)",
    VaultPolicyChanged: "An ACL policy was created, updated or deleted",
    VaultAuthMethodChanged: "An auth method was enabled, disabled or tuned",
    VaultSecretsEngineChanged: "A secrets engine was mounted, unmounted or moved",
    VaultAuditDeviceDisabled: "An audit device was disabled",
    VaultSensitivePathAccessed: "A sensitive Vault path was accessed",
};

interface Case {
    name: string;
    series: { series: string; values: string }[];
    at: string;
    alert: string;
    /** Expected alerts: labels beyond alertname, and the summary (description/runbook are checked from the file). */
    exp: { labels: Record<string, string>; summary: string; description?: string }[];
    /** The rule file of a stack with a bucket (uploadRuleFile) instead of the local one. */
    upload?: true;
    /**
     * promtool's evaluation (and series) interval; default 1m. The certificate cases evaluate weeks
     * ahead: at 1m, promtool evaluates every rule tens of thousands of times (135 s for the CA case).
     */
    step?: string;
}

const SEALED_I = "https://vault-0:8200/v1/sys/health?standbyok=true";
const healthCases: Case[] = [
    {
        name: "sealed: passing",
        series: [{ series: `probe_http_status_code{job="vault-health",instance="${SEALED_I}"}`, values: "200x20" }],
        at: "4m",
        alert: "VaultNodeSealed",
        exp: [],
    },
    {
        name: "sealed: firing",
        series: [
            { series: `probe_http_status_code{job="vault-health",instance="${SEALED_I}"}`, values: "200 200 503x20" },
        ],
        at: "4m",
        alert: "VaultNodeSealed",
        exp: [
            {
                labels: { severity: "page", job: "vault-health", instance: SEALED_I },
                summary: `Vault node ${SEALED_I} is sealed`,
            },
        ],
    },
    {
        name: "no active: passing",
        series: [{ series: 'vault_core_active{job="vault",instance="a",cluster="c"}', values: "1x20" }],
        at: "4m",
        alert: "VaultNoActiveNode",
        exp: [],
    },
    {
        name: "no active: firing",
        series: [{ series: 'vault_core_active{job="vault",instance="a",cluster="c"}', values: "1 0x20" }],
        at: "4m",
        alert: "VaultNoActiveNode",
        exp: [{ labels: { severity: "page" }, summary: "No Vault node is active" }],
    },
    {
        name: "no active: firing when no node answers at all",
        series: [{ series: 'up{job="vault",instance="a"}', values: "0x20" }],
        at: "4m",
        alert: "VaultNoActiveNode",
        exp: [{ labels: { severity: "page" }, summary: "No Vault node is active" }],
    },
    {
        name: "metrics unreadable: passing (a sealed cluster is not this alert)",
        series: [
            { series: 'up{job="vault",instance="a"}', values: "0x20" },
            { series: 'probe_success{job="vault-health",instance="h"}', values: "0x20" },
        ],
        at: "10m",
        alert: "VaultMetricsUnreadable",
        exp: [],
    },
    {
        name: "metrics unreadable: firing",
        series: [
            { series: 'up{job="vault",instance="a"}', values: "0x20" },
            { series: 'probe_success{job="vault-health",instance="h"}', values: "1x20" },
        ],
        at: "10m",
        alert: "VaultMetricsUnreadable",
        exp: [
            {
                labels: { severity: "page" },
                summary: "Prometheus cannot read Vault's metrics while Vault answers health checks",
            },
        ],
    },
    {
        name: "voter: passing",
        series: [
            { series: 'vault_autopilot_node_healthy{job="vault",instance="a",node_id="vault-1"}', values: "1x20" },
        ],
        at: "4m",
        alert: "VaultRaftNodeUnhealthy",
        exp: [],
    },
    {
        name: "voter: firing",
        series: [
            { series: 'vault_autopilot_node_healthy{job="vault",instance="a",node_id="vault-1"}', values: "1 0x20" },
            { series: 'vault_autopilot_node_healthy{job="vault",instance="a",node_id="vault-2"}', values: "1x20" },
        ],
        at: "4m",
        alert: "VaultRaftNodeUnhealthy",
        exp: [
            { labels: { severity: "page", node_id: "vault-1" }, summary: "Raft node vault-1 is not a healthy voter" },
        ],
    },
    {
        name: "audit failures: passing",
        series: [
            { series: 'vault_audit_log_request_failure{job="vault",instance="a"}', values: "0x20" },
            { series: 'vault_audit_log_response_failure{job="vault",instance="a"}', values: "0x20" },
        ],
        at: "4m",
        alert: "VaultAuditWriteFailures",
        exp: [],
    },
    {
        name: "audit failures: firing",
        series: [
            { series: 'vault_audit_log_request_failure{job="vault",instance="a"}', values: "0x20" },
            { series: 'vault_audit_log_response_failure{job="vault",instance="a"}', values: "0 0 0 2x20" },
        ],
        at: "4m",
        alert: "VaultAuditWriteFailures",
        exp: [{ labels: { severity: "page" }, summary: "Vault failed to write audit entries" }],
    },
    {
        name: "churn: passing",
        series: [{ series: 'vault_raft_state_leader{job="vault",instance="a"}', values: "1+0x100 2+0x200" }],
        at: "50m",
        alert: "VaultLeadershipChurn",
        exp: [],
    },
    {
        name: "churn: firing",
        series: [{ series: 'vault_raft_state_leader{job="vault",instance="a"}', values: "1 2 3 4 5 5" }],
        at: "5m",
        alert: "VaultLeadershipChurn",
        exp: [
            {
                labels: { severity: "ticket" },
                summary: "Vault leadership changed more than 3 times in an hour",
                description:
                    "The leader counter (vault_raft_state_leader) changed 4 times in the last hour: nodes are losing contact or restarting.",
            },
        ],
    },
    {
        name: "commit: passing",
        series: [{ series: 'vault_raft_commitTime{job="vault",instance="a",quantile="0.99"}', values: "120x40" }],
        at: "8m",
        alert: "VaultRaftCommitSlow",
        exp: [],
    },
    {
        name: "commit: firing",
        series: [{ series: 'vault_raft_commitTime{job="vault",instance="a",quantile="0.99"}', values: "750x40" }],
        at: "8m",
        alert: "VaultRaftCommitSlow",
        exp: [
            {
                labels: { severity: "ticket" },
                summary: "Raft commit time p99 is above 500 ms",
                description:
                    "vault_raft_commitTime (99th percentile) is 750 ms: the disk or the network between nodes is slow, and writes wait.",
            },
        ],
    },
    {
        name: "certificate: passing (40 days left)",
        series: [{ series: "x", values: "0" }],
        at: "0m",
        alert: "VaultCertificateExpiring",
        exp: [],
    },
    {
        name: "certificate: firing (29 days left)",
        series: [{ series: "x", values: "0" }],
        at: "264h",
        step: "1h",
        alert: "VaultCertificateExpiring",
        exp: [
            {
                labels: { severity: "ticket", node: "vault-0" },
                summary: "The TLS certificate of vault-0 expires at 1970-02-10T00:00:00.000Z",
            },
        ],
    },
    {
        name: "CA: passing (400 days left, the window is 365)",
        series: [{ series: "x", values: "0" }],
        at: "0m",
        alert: "VaultCaCertificateExpiring",
        exp: [],
    },
    {
        name: "CA: firing (362.5 days left)",
        series: [{ series: "x", values: "0" }],
        at: "900h",
        step: "1h",
        alert: "VaultCaCertificateExpiring",
        exp: [
            {
                labels: { severity: "ticket", ca: "ca-a" },
                summary: "The cluster CA ca-a expires at 1971-02-05T00:00:00.000Z",
            },
        ],
    },
    {
        name: "backup: passing (a snapshot every hour)",
        series: [
            {
                series: 'bonito_vault_audit_snapshot_read_timestamp_seconds{job="vault-audit",instance="m"}',
                values: "0+60x400",
            },
        ],
        at: "5h",
        alert: "VaultBackupStale",
        exp: [],
    },
    {
        name: "backup: firing (last snapshot at 0)",
        series: [
            {
                series: 'bonito_vault_audit_snapshot_read_timestamp_seconds{job="vault-audit",instance="m"}',
                values: "0x400",
            },
        ],
        at: "5h",
        alert: "VaultBackupStale",
        exp: [{ labels: { severity: "page" }, summary: "No Raft snapshot was taken in 2h (two backup intervals)" }],
    },
    // The gauge's value is the time of the shipper's last `caught-up` line (seconds); promtool's
    // clock starts at 0, so "0+60x100" is a node caught up every minute.
    {
        name: "shipping: passing (both nodes caught up every minute)",
        series: [
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m0",node="vault-0"}',
                values: "0+60x100",
            },
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m1",node="vault-1"}',
                values: "0+60x100",
            },
        ],
        at: "60m",
        alert: "VaultAuditShippingStale",
        exp: [],
    },
    {
        name: "shipping: passing (9m59s since the last success: under twice the 5-minute bound)",
        series: [
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m0",node="vault-0"}',
                values: "0+60x50 3001x20",
            },
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m1",node="vault-1"}',
                values: "0+60x100",
            },
        ],
        at: "60m",
        alert: "VaultAuditShippingStale",
        exp: [],
    },
    {
        name: "shipping: pending, not yet firing (stale since 20m, `for` 10m not yet held at 30m)",
        series: [
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m0",node="vault-0"}',
                values: "0+60x10 600x100",
            },
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m1",node="vault-1"}',
                values: "0+60x100",
            },
        ],
        at: "30m",
        alert: "VaultAuditShippingStale",
        exp: [],
    },
    {
        name: "shipping: firing for the stale node only (last success at 10m: fires at 31m, 4 x the bound)",
        series: [
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m0",node="vault-0"}',
                values: "0+60x10 600x100",
            },
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m1",node="vault-1"}',
                values: "0+60x100",
            },
        ],
        at: "31m",
        alert: "VaultAuditShippingStale",
        exp: [
            {
                labels: { severity: "page", node: "vault-0" },
                summary: "Audit logs of vault-0 have not been shipped in 10m (twice the bound delay)",
            },
        ],
    },
    {
        name: "shipping: firing for a shipping node whose gauge is absent (vault-1 never reported)",
        series: [
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m0",node="vault-0"}',
                values: "0+60x100",
            },
        ],
        at: "60m",
        alert: "VaultAuditShippingStale",
        exp: [
            {
                labels: { severity: "page", node: "vault-1" },
                summary: "Audit logs of vault-1 have not been shipped in 10m (twice the bound delay)",
            },
        ],
    },
    {
        name: "shipping: passing when the gauge is absent 9 min, then back (an mtail restart, under `for`)",
        series: [
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m0",node="vault-0"}',
                values: "0+60x100",
            },
            {
                series: 'bonito_audit_shipper_last_success_timestamp_seconds{job="vault-audit",instance="m1",node="vault-1"}',
                values: "_x9 540+60x100",
            },
        ],
        at: "15m",
        alert: "VaultAuditShippingStale",
        exp: [],
    },
];
/**
 * The uploader's gauge is the time of its last `uploaded` line. Hourly uploads: the gauge holds each
 * upload's time for 60 one-minute samples. Thresholds: gap = 3600 + 120 + 300 s = 67m (`for`),
 * stale = gap + 3600 s = 127m.
 */
const hourly = (hours: number) => Array.from({ length: hours }, (_, h) => `${h * 3600}x59`).join(" ");
const UPLOAD_SERIES = 'bonito_backup_last_upload_timestamp_seconds{job="vault-audit",instance="m0"}';
const UPLOAD_SUMMARY = "No Raft snapshot reached the backup bucket in 127m";
const uploadCases: Case[] = [
    {
        name: "backup upload: passing (one upload every hour)",
        series: [{ series: UPLOAD_SERIES, values: hourly(7) }],
        at: "6h",
        alert: "VaultBackupStale",
        exp: [],
        upload: true,
    },
    {
        name: "backup upload: passing (uploads every hour; the snapshot-read gauge, stale here, is not this stack's signal)",
        series: [
            { series: UPLOAD_SERIES, values: hourly(7) },
            {
                series: 'bonito_vault_audit_snapshot_read_timestamp_seconds{job="vault-audit",instance="m0"}',
                values: "0x400",
            },
        ],
        at: "6h",
        alert: "VaultBackupStale",
        exp: [],
        upload: true,
    },
    {
        name: "backup upload: pending, not firing (no upload since 0: stale from 128m, `for` 67m not held at 194m)",
        series: [{ series: UPLOAD_SERIES, values: "0x400" }],
        at: "194m",
        alert: "VaultBackupStale",
        exp: [],
        upload: true,
    },
    {
        name: "backup upload: firing (no upload since 0, at 196m)",
        series: [{ series: UPLOAD_SERIES, values: "0x400" }],
        at: "196m",
        alert: "VaultBackupStale",
        exp: [{ labels: { severity: "page" }, summary: UPLOAD_SUMMARY }],
        upload: true,
    },
    {
        name: "backup upload: firing (snapshots read every minute but none uploaded: a failing uploader pages)",
        series: [
            {
                series: 'bonito_vault_audit_snapshot_read_timestamp_seconds{job="vault-audit",instance="m0"}',
                values: "0+60x400",
            },
        ],
        at: "5h",
        alert: "VaultBackupStale",
        // The upload gauge is absent: absent() carries the selector's job label.
        exp: [{ labels: { severity: "page", job: "vault-audit" }, summary: UPLOAD_SUMMARY }],
        upload: true,
    },
    {
        name: "backup upload: passing (gauge absent for 60 min after an mtail restart, under `for`)",
        series: [{ series: UPLOAD_SERIES, values: `${hourly(5)} _x59 ${5 * 3600 + 3600}x59` }],
        at: "6h30m",
        alert: "VaultBackupStale",
        exp: [],
        upload: true,
    },
];
const securityCases: Case[] = rules.flatMap((r) => [
    {
        name: `${r.alert}: passing`,
        series: [{ series: `${r.metric}{job="vault-audit",instance="m"}`, values: "0x20" }],
        at: "2m",
        alert: r.alert,
        exp: [],
    },
    {
        name: `${r.alert}: firing`,
        series: [{ series: `${r.metric}{job="vault-audit",instance="m"}`, values: "0 0 0 1x20" }],
        at: "4m",
        alert: r.alert,
        exp: [{ labels: { severity: "page" }, summary: SUMMARY[r.alert] }],
    },
]);

type RuleDoc = { groups: { rules: Body[] }[] };
const ruleDoc = JSON.parse(fs.readFileSync(ruleFile, "utf8")) as RuleDoc;
const uploadRuleDoc = JSON.parse(fs.readFileSync(uploadRuleFile, "utf8")) as RuleDoc;
const byAlert = (name: string, doc = ruleDoc) => doc.groups.flatMap((g) => g.rules).find((r) => r.alert === name)!;

function promtoolTest(c: Case): { status: number | null; output: string } {
    const f = path.join(dir, `${c.name.replace(/[^a-z0-9]+/gi, "-")}.test.yml`);
    const rule = byAlert(c.alert, c.upload ? uploadRuleDoc : ruleDoc);
    const doc = {
        rule_files: [c.upload ? uploadRuleFile : ruleFile],
        evaluation_interval: c.step ?? "1m",
        tests: [
            {
                interval: c.step ?? "1m",
                input_series: c.series,
                alert_rule_test: [
                    {
                        eval_time: c.at,
                        alertname: c.alert,
                        exp_alerts: c.exp.map((e) => ({
                            exp_labels: e.labels,
                            exp_annotations: {
                                summary: e.summary,
                                description: e.description ?? rule.annotations.description,
                                runbook: rule.annotations.runbook,
                            },
                        })),
                    },
                ],
            },
        ],
    };
    fs.writeFileSync(f, JSON.stringify(doc, null, 2));
    const out = spawnSync("promtool", ["test", "rules", f], { encoding: "utf8" });
    return { status: out.status, output: out.stdout + out.stderr };
}

describe("alert rules, by promtool", () => {
    it("promtool check rules accepts the rendered file", () => {
        const out = execFileSync("promtool", ["check", "rules", ruleFile], { encoding: "utf8" });
        assert.match(out, /SUCCESS: 18 rules found/);
        const up = execFileSync("promtool", ["check", "rules", uploadRuleFile], { encoding: "utf8" });
        assert.match(up, /SUCCESS: 18 rules found/);
    });
    it("the two files differ in VaultBackupStale only", () => {
        const strip = (d: RuleDoc) =>
            JSON.stringify(d.groups.map((g) => g.rules.filter((r) => r.alert !== "VaultBackupStale")));
        assert.equal(strip(uploadRuleDoc), strip(ruleDoc));
        assert.deepEqual(
            {
                expr: byAlert("VaultBackupStale", uploadRuleDoc).expr,
                for: byAlert("VaultBackupStale", uploadRuleDoc).for,
            },
            {
                expr: 'time() - max(bonito_backup_last_upload_timestamp_seconds{job="vault-audit"}) > 7620 or absent(bonito_backup_last_upload_timestamp_seconds{job="vault-audit"})',
                for: "67m",
            },
        );
    });
    it("every alert has a passing and a firing case", () => {
        for (const [doc, upload] of [
            [ruleDoc, false],
            [uploadRuleDoc, true],
        ] as const) {
            const all = doc.groups.flatMap((g) => g.rules.map((r) => r.alert as string));
            for (const a of new Set(all)) {
                const cs = [...healthCases, ...uploadCases, ...securityCases].filter(
                    (c) => c.alert === a && (a !== "VaultBackupStale" || (c.upload ?? false) === upload),
                );
                assert.ok(cs.some((c) => c.exp.length === 0) && cs.some((c) => c.exp.length > 0), `${a} (${upload})`);
            }
        }
    });
    for (const c of [...healthCases, ...uploadCases, ...securityCases])
        it(`promtool test rules: ${c.name}`, () => {
            const r = promtoolTest(c);
            assert.equal(r.status, 0, r.output);
        });
    it("a wrong expected message fails promtool (the checks above compare text)", () => {
        const c = securityCases.find((x) => x.exp.length > 0)!;
        const r = promtoolTest({ ...c, name: "negative", exp: [{ ...c.exp[0], summary: "something else" }] });
        assert.notEqual(r.status, 0);
    });
});

/** What each rule is about, read from the parsed JSON (an independent statement of the rules). */
function expected(e: Body, snapshotRoles: string[]): Set<string> {
    const out = new Set<string>();
    const req = e.request ?? {};
    const p = String(req.path ?? "");
    const op = String(req.operation ?? "");
    const write = ["create", "update", "delete"].includes(op);
    const rootIn = (xs: unknown) => Array.isArray(xs) && xs.includes("root");
    if (e.type === "request") {
        if (rootIn(e.auth?.token_policies)) out.add("VaultRootTokenUsed");
        if (write && /^sys\/(policies\/acl|policy)\/.+/.test(p)) out.add("VaultPolicyChanged");
        if (write && (/^sys\/auth\/.+/.test(p) || /^sys\/mounts\/auth\/.+\/tune$/.test(p)))
            out.add("VaultAuthMethodChanged");
        if (
            write &&
            ((/^sys\/mounts\/.+/.test(p) && !p.startsWith("sys/mounts/auth/") && !p.endsWith("/tune")) ||
                p === "sys/remount")
        )
            out.add("VaultSecretsEngineChanged");
        if (op === "delete" && /^sys\/audit\/.+/.test(p)) out.add("VaultAuditDeviceDisabled");
        const sensitive = DEFAULT_SENSITIVE_PATHS.some((g) => p.startsWith(g.replace(/\*$/, "")));
        const backup = p === "sys/storage/raft/snapshot" && snapshotRoles.includes(e.auth?.metadata?.role_name);
        if (sensitive && !backup) out.add("VaultSensitivePathAccessed");
    }
    if (e.type === "response") {
        if (
            (p === "sys/generate-root/update" && e.response?.data?.complete === true) ||
            rootIn(e.response?.auth?.token_policies)
        )
            out.add("VaultRootTokenCreated");
    }
    return out;
}

function mtailOutput(lines: string[], logName = "line.log"): string {
    const progs = path.join(dir, "progs");
    fs.mkdirSync(progs, { recursive: true });
    fs.writeFileSync(path.join(progs, "vault-audit.mtail"), renderMtailProgram(rules));
    const log = path.join(dir, logName);
    fs.writeFileSync(log, lines.join("\n") + "\n");
    return execFileSync(
        "mtail",
        ["--logtostderr", "--one_shot", "--one_shot_format", "prometheus", "--progs", progs, "--logs", log],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
}

function mtailCounts(lines: string[]): Record<string, number> {
    const out = mtailOutput(lines);
    const counts: Record<string, number> = {};
    for (const m of out.matchAll(/^(\w+)\{[^}]*\} (\S+)$/gm)) counts[m[1]] = Number(m[2]);
    return counts;
}

describe("security rules, by mtail, over real Vault 1.21.1 audit lines", () => {
    const lines = fs
        .readFileSync(FIXTURE, "utf8")
        .split("\n")
        .filter((l) => l.trim());
    // The snapshot agent's scheduled read: a real snapshot read line with the agent's AppRole identity.
    const snapshotLine = lines.find(
        (l) => l.includes('"path":"sys/storage/raft/snapshot"') && l.endsWith('"type":"request"}'),
    )!;
    const agentRead = snapshotLine
        .replace(
            /"auth":\{.*?"policies":\["root"\],/,
            '"auth":{"display_name":"approle","metadata":{"role_name":"snapshot-agent"},"policies":["default","snapshot-agent"],',
        )
        .replace(/"token_policies":\["root"\]/, '"token_policies":["default","snapshot-agent"]');

    it("the fixture holds every event, and ordinary traffic", () => {
        const seen = new Set(lines.flatMap((l) => [...expected(JSON.parse(l) as Body, ["snapshot-agent"])]));
        assert.deepEqual([...seen].sort(), rules.map((r) => r.alert).sort());
        assert.ok(lines.filter((l) => expected(JSON.parse(l) as Body, ["snapshot-agent"]).size === 0).length > 20);
    });

    for (const [i, line] of [...lines, agentRead].entries()) {
        const e = JSON.parse(line) as Body;
        const want = expected(e, ["snapshot-agent"]);
        it(`line ${i + 1}: ${e.type} ${e.request?.operation} ${e.request?.path}${i === lines.length ? " (the snapshot agent)" : ""} -> ${[...want].join(", ") || "no alert"}`, () => {
            const counts = mtailCounts([line]);
            for (const r of rules)
                assert.equal(counts[r.metric], want.has(r.alert) ? 1 : 0, `${r.alert} on line ${i + 1}`);
        });
    }

    it("a successful snapshot read sets the backup gauge; an ordinary line does not", () => {
        const resp = lines.find(
            (l) => l.includes('"path":"sys/storage/raft/snapshot"') && l.endsWith('"type":"response"}'),
        )!;
        assert.ok((mtailCounts([resp]).bonito_vault_audit_snapshot_read_timestamp_seconds ?? 0) > 1e9);
        assert.equal(mtailCounts([lines[0]]).bonito_vault_audit_snapshot_read_timestamp_seconds, undefined);
    });
});

describe("the audit shipper's confirmation log, by mtail", () => {
    const G = "bonito_audit_shipper_last_success_timestamp_seconds";
    const gauge = (out: string) =>
        [...out.matchAll(new RegExp(`^${G}\\{([^}]*)\\} (\\S+)$`, "gm"))].map((m) => ({
            node: /node="([^"]*)"/.exec(m[1])?.[1],
            value: Number(m[2]),
        }));
    // The exact lines renderShipperScript writes (components/audit/shipper.ts).
    const confirmed =
        "1764536400 confirmed vault-0 audit.log.20261130T210000Z.gz 4096 audit:bonito-audit/vault-0/20261130/";
    const caughtUp = (t: number, node: string, n: number) => `${t} caught-up ${node} ${n}`;

    it("a caught-up line sets the node's gauge to its time; the last line per node wins", () => {
        const out = mtailOutput(
            [
                confirmed,
                caughtUp(1764536401, "vault-0", 1),
                caughtUp(1764536460, "vault-0", 0),
                caughtUp(1764536470, "vault-1", 0),
            ],
            "audit-shipper.log",
        );
        assert.deepEqual(
            gauge(out).sort((a, b) => String(a.node).localeCompare(String(b.node))),
            [
                { node: "vault-0", value: 1764536460 },
                { node: "vault-1", value: 1764536470 },
            ],
        );
    });
    it("a confirmed line alone (a round that then failed another file) does not set it", () => {
        assert.deepEqual(gauge(mtailOutput([confirmed], "audit-shipper.log")), []);
    });
    it("the same caught-up line in any other file (the audit log) does not set it", () => {
        assert.deepEqual(gauge(mtailOutput([caughtUp(1764536401, "vault-0", 1)], "audit.log")), []);
    });
});

describe("the snapshot uploader's log, by mtail", () => {
    const G = "bonito_backup_last_upload_timestamp_seconds";
    const gauge = (out: string) =>
        [...out.matchAll(new RegExp(`^${G}\\{[^}]*\\} (\\S+)$`, "gm"))].map((m) => Number(m[1]));
    // The exact lines renderUploaderScript writes (components/backup/uploaderConfig.ts).
    const uploaded = (t: number, n: number) =>
        `${t} uploaded raft-snapshot-20261201T0${n}0000Z.snap ${1000 + n} snapshots:bonito-vault-prod-snapshots`;

    it("an uploaded line sets the gauge to its time; the last line wins", () => {
        assert.deepEqual(
            gauge(mtailOutput([uploaded(1764550800, 1), uploaded(1764554400, 2)], UPLOAD_LOG_NAME)),
            [1764554400],
        );
    });
    it("nothing uploaded: the gauge is absent (not 0), so absent() in VaultBackupStale sees it", () => {
        assert.deepEqual(gauge(mtailOutput([], UPLOAD_LOG_NAME)), []);
    });
    it("the same line in any other file (the audit log, the shipper's log) does not set it", () => {
        assert.deepEqual(gauge(mtailOutput([uploaded(1764550800, 1)], "audit.log")), []);
        assert.deepEqual(gauge(mtailOutput([uploaded(1764550800, 1)], "audit-shipper.log")), []);
    });
});
