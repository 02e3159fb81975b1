/**
 * Prometheus alert rules as data: cluster health (Vault 1.21.1's own metrics, names checked against
 * a live cluster's `sys/metrics?format=prometheus` in test/conformance/alerts.test.ts), the audit
 * trail's security rules (securityRules.ts, counted by mtail), certificate expiry from what the
 * program knows, and backups. Rendered as JSON, which Prometheus reads as YAML.
 *
 * Scrape jobs the expressions rely on (prometheusConfig.ts declares them):
 * - `vault`: `/v1/sys/metrics?format=prometheus` of every node with the metrics token. A standby
 *   answers 307 to the active node and the scrape follows it, so every series is the active node's
 *   view; the rules aggregate with `max`.
 * - `vault-health`: blackbox_exporter probing `/v1/sys/health?standbyok=true` of every node (200 on
 *   active and standby nodes, 503 on a sealed one); a sealed node serves no metrics at all.
 * - `vault-audit`: mtail's counters over each node's audit file.
 */
import { SHIPPER_GAUGE, SNAPSHOT_GAUGE, UPLOAD_GAUGE, type SecurityRule } from "./securityRules";

export interface AlertRule {
    alert: string;
    expr: string;
    for?: string;
    labels: { severity: "page" | "ticket"; node?: string; ca?: string };
    annotations: { summary: string; description: string; runbook: string };
}

export interface RuleGroup {
    name: string;
    interval?: string;
    rules: AlertRule[];
}

export interface AlertRuleOptions {
    security: readonly SecurityRule[];
    /** Node name → certificate notAfter (seconds since the epoch) for every node certificate. */
    certificateNotAfter: Record<string, number>;
    /** Alert when a certificate has less than this left (the early-renewal window: `pulumi up` is overdue). */
    certificateWarnSeconds: number;
    /** CA name (`ca-a`, `ca-b`, `ca` when provided) → notAfter (seconds since the epoch) of every CA the nodes trust. */
    caNotAfter?: Record<string, number>;
    /** Alert when a CA has less than this left (its early-renewal window, a tenth of its life, at most a year). */
    caWarnSeconds?: number;
    /** The snapshot interval; the backup alert fires after two missed intervals. */
    backupIntervalSeconds: number;
    /**
     * Where snapshots end up, which decides the backup alert's signal: on a bucket (aws, gcp, azure)
     * the uploader's last confirmed upload (its log, read by node 0's mtail) with the uploader's
     * round interval and minimum file age; undefined on local, which has no upload: the snapshot
     * agent's last successful read of sys/storage/raft/snapshot in the audit trail.
     */
    backupUpload?: { roundSeconds: number; minAgeSeconds: number };
    /**
     * When the stack ships audit logs: the bound delay (auditShipMaxDelayMinutes) and the nodes with
     * a shipper. Each shipper's confirmation log becomes mtail's bonito_audit_shipper_last_success_timestamp_seconds{node}.
     */
    auditShipping?: { maxDelaySeconds: number; nodes: readonly string[] };
    /** How long a health condition must hold before it pages (tests shorten it). */
    healthFor?: string;
    /** Raft commit time (99th percentile, ms) above which the commit-latency alert fires. */
    raftCommitP99Ms?: number;
    /** Leadership changes in one hour above which the churn alert fires. */
    leadershipChangesPerHour?: number;
    /** Window of the security counters' increase (how long a security alert stays firing). */
    securityWindow?: string;
}

/** Each alert has a runbook section headed by its name (docs/runbook.md "Alerts"). */
function anchor(alert: string): string {
    return `docs/runbook.md#${alert.toLowerCase()}`;
}

function secondsText(s: number): string {
    if (s % 86400 === 0) return `${s / 86400}d`;
    if (s % 3600 === 0) return `${s / 3600}h`;
    if (s % 60 === 0) return `${s / 60}m`;
    return `${s}s`;
}

export function renderAlertRules(o: AlertRuleOptions): { groups: RuleGroup[] } {
    const f = o.healthFor ?? "1m";
    const p99 = o.raftCommitP99Ms ?? 500;
    const churn = o.leadershipChangesPerHour ?? 3;
    const window = o.securityWindow ?? "5m";
    const health: AlertRule[] = [
        {
            alert: "VaultNodeSealed",
            expr: 'probe_http_status_code{job="vault-health"} == 503',
            for: f,
            labels: { severity: "page" },
            annotations: {
                summary: "Vault node {{ $labels.instance }} is sealed",
                description:
                    "sys/health answers 503 (sealed): the node serves no requests until auto-unseal succeeds or it is restarted.",
                runbook: anchor("VaultNodeSealed"),
            },
        },
        {
            alert: "VaultNoActiveNode",
            expr: '(max(vault_core_active{job="vault"}) or vector(0)) < 1',
            for: f,
            labels: { severity: "page" },
            annotations: {
                summary: "No Vault node is active",
                description:
                    "No scrape reached an active node (vault_core_active): the cluster has no leader or every node is sealed or unreachable.",
                runbook: anchor("VaultNoActiveNode"),
            },
        },
        {
            alert: "VaultMetricsUnreadable",
            expr: 'max(up{job="vault"}) == 0 and on() max(probe_success{job="vault-health"}) == 1',
            for: "5m",
            labels: { severity: "page" },
            annotations: {
                summary: "Prometheus cannot read Vault's metrics while Vault answers health checks",
                description:
                    "Every sys/metrics scrape fails although sys/health answers: the metrics agent cannot log in or renew (its secret ID destroyed, its AppRole changed, an address outside monitoringTokenBoundCidrs), or the CA changed.",
                runbook: anchor("VaultMetricsUnreadable"),
            },
        },
        {
            alert: "VaultRaftNodeUnhealthy",
            expr: 'max by (node_id) (vault_autopilot_node_healthy{job="vault"}) == 0',
            for: f,
            labels: { severity: "page" },
            annotations: {
                summary: "Raft node {{ $labels.node_id }} is not a healthy voter",
                description:
                    "Autopilot on the active node reports this server unhealthy (not in contact, behind on the log, or not a voter): one more loss may cost quorum.",
                runbook: anchor("VaultRaftNodeUnhealthy"),
            },
        },
        {
            alert: "VaultAuditWriteFailures",
            expr: '(max(increase(vault_audit_log_request_failure{job="vault"}[5m])) or vector(0)) + (max(increase(vault_audit_log_response_failure{job="vault"}[5m])) or vector(0)) > 0',
            labels: { severity: "page" },
            annotations: {
                summary: "Vault failed to write audit entries",
                description:
                    "vault_audit_log_request_failure or vault_audit_log_response_failure grew: an audit device is failing; if every device fails, Vault refuses requests.",
                runbook: anchor("VaultAuditWriteFailures"),
            },
        },
        {
            alert: "VaultLeadershipChurn",
            expr: `max(changes(vault_raft_state_leader{job="vault"}[1h])) > ${churn}`,
            labels: { severity: "ticket" },
            annotations: {
                summary: `Vault leadership changed more than ${churn} times in an hour`,
                description:
                    "The leader counter (vault_raft_state_leader) changed {{ $value }} times in the last hour: nodes are losing contact or restarting.",
                runbook: anchor("VaultLeadershipChurn"),
            },
        },
        {
            alert: "VaultRaftCommitSlow",
            expr: `max(vault_raft_commitTime{job="vault",quantile="0.99"}) > ${p99}`,
            for: "5m",
            labels: { severity: "ticket" },
            annotations: {
                summary: `Raft commit time p99 is above ${p99} ms`,
                description:
                    "vault_raft_commitTime (99th percentile) is {{ $value }} ms: the disk or the network between nodes is slow, and writes wait.",
                runbook: anchor("VaultRaftCommitSlow"),
            },
        },
    ];
    for (const [node, notAfter] of Object.entries(o.certificateNotAfter).sort()) {
        health.push({
            alert: "VaultCertificateExpiring",
            expr: `vector(${Math.floor(notAfter)}) - time() < ${o.certificateWarnSeconds}`,
            labels: { severity: "ticket", node },
            annotations: {
                summary: `The TLS certificate of ${node} expires at ${new Date(notAfter * 1000).toISOString()}`,
                description: `Less than ${secondsText(o.certificateWarnSeconds)} left: the next pulumi up renews it (tlsEarlyRenewalHours), and it has not run.`,
                runbook: anchor("VaultCertificateExpiring"),
            },
        });
    }
    for (const [ca, notAfter] of Object.entries(o.caNotAfter ?? {}).sort()) {
        const warn = o.caWarnSeconds ?? 365 * 86400;
        health.push({
            alert: "VaultCaCertificateExpiring",
            expr: `vector(${Math.floor(notAfter)}) - time() < ${warn}`,
            labels: { severity: "ticket", ca },
            annotations: {
                summary: `The cluster CA ${ca} expires at ${new Date(notAfter * 1000).toISOString()}`,
                description: `Less than ${secondsText(warn)} left. Every client that pins it fails once it expires: renew it (internal-ca: the next pulumi up, same key) and hand clients the new caCert before then, or change the CA in two steps.`,
                runbook: anchor("VaultCaCertificateExpiring"),
            },
        });
    }
    health.push(backupStaleRule(o));
    if (o.auditShipping) {
        // Margin: in steady state two `caught-up` rounds are at most one bound delay apart (shipper.ts
        // shipTimings: rotation + check + SIGHUP grace + ship interval fit inside it; a node with an
        // empty audit file is caught up every round). Twice the bound is
        // one whole missed round; `for` the same again covers an mtail restart, after which mtail
        // reads only new lines, so the gauge is absent until the next upload (at most one bound
        // later). A node whose shipping stopped therefore pages at most 4 x the bound after its last
        // confirmed upload (20 min at the 5-minute default), plus scrape and evaluation intervals.
        const late = 2 * o.auditShipping.maxDelaySeconds;
        const g = `${SHIPPER_GAUGE}{job="vault-audit"`;
        const absent = o.auditShipping.nodes.map((n) => ` or absent(${g},node="${n}"})`).join("");
        health.push({
            alert: "VaultAuditShippingStale",
            expr: `max by (node) ((time() - ${g}} > ${late})${absent})`,
            for: secondsText(late),
            labels: { severity: "page" },
            annotations: {
                summary: `Audit logs of {{ $labels.node }} have not been shipped in ${secondsText(late)} (twice the bound delay)`,
                description:
                    "The node's audit shipper confirmed no upload to the write-once archive (its confirmation log, read by mtail) in twice auditShipMaxDelayMinutes, or mtail has seen none since it started: rotated audit files pile up on the node's audit volume.",
                runbook: anchor("VaultAuditShippingStale"),
            },
        });
    }
    const security: AlertRule[] = o.security.map((r) => ({
        alert: r.alert,
        expr: `sum(increase(${r.metric}{job="vault-audit"}[${window}])) > 0`,
        labels: { severity: "page" },
        annotations: { summary: r.summary, description: r.description, runbook: anchor(r.alert) },
    }));
    return {
        groups: [
            { name: "bonito-vault-health", rules: health },
            { name: "bonito-vault-security", rules: security },
        ],
    };
}

/**
 * VaultBackupStale. On local the signal is the snapshot read in the audit trail: two intervals
 * without one, held for as long again. On a bucket it is the uploader's last confirmed upload: in
 * steady state two uploads are at most one interval + the minimum file age + one upload round
 * apart (`gap`); `stale` allows one missed snapshot on top of that, and `for` (the gap again)
 * covers an mtail restart, after which the gauge is 0 until the next upload. A dead agent, a dead
 * uploader, refused credentials or a bucket that refuses writes therefore page at most
 * stale + gap after the last upload (3h14m at the 1-hour default).
 */
function backupStaleRule(o: AlertRuleOptions): AlertRule {
    if (!o.backupUpload) {
        const stale = 2 * o.backupIntervalSeconds;
        return {
            alert: "VaultBackupStale",
            expr: `time() - max(${SNAPSHOT_GAUGE}{job="vault-audit"}) > ${stale} or absent(${SNAPSHOT_GAUGE}{job="vault-audit"})`,
            for: secondsText(stale),
            labels: { severity: "page" },
            annotations: {
                summary: `No Raft snapshot was taken in ${secondsText(stale)} (two backup intervals)`,
                description:
                    "The audit trail shows no successful read of sys/storage/raft/snapshot by the snapshot agent: backups have stopped.",
                runbook: anchor("VaultBackupStale"),
            },
        };
    }
    const gap = o.backupIntervalSeconds + o.backupUpload.minAgeSeconds + o.backupUpload.roundSeconds;
    const stale = gap + o.backupIntervalSeconds;
    return {
        alert: "VaultBackupStale",
        expr: `time() - max(${UPLOAD_GAUGE}{job="vault-audit"}) > ${stale} or absent(${UPLOAD_GAUGE}{job="vault-audit"})`,
        for: secondsText(gap),
        labels: { severity: "page" },
        annotations: {
            summary: `No Raft snapshot reached the backup bucket in ${secondsText(stale)}`,
            description:
                "The snapshot uploader confirmed no upload (its log, read by mtail) in that time: the snapshot agent takes no snapshots, or the uploader cannot write them to the bucket (credentials, network, a refused write). Snapshots wait in the spool volume until it can.",
            runbook: anchor("VaultBackupStale"),
        },
    };
}

/** The rule file Prometheus loads (JSON is YAML). */
export function renderAlertRulesFile(o: AlertRuleOptions): string {
    return JSON.stringify(renderAlertRules(o), null, 2) + "\n";
}
