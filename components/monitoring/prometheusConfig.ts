/**
 * Prometheus, blackbox_exporter and Alertmanager configuration as plain data (JSON, which both read
 * as YAML). Pure: the bundled containers upload exactly this, `monitoring: external` exports it, and
 * the conformance tier runs Debian's prometheus, prometheus-blackbox-exporter and
 * prometheus-alertmanager with it (addresses rewritten for loopback there).
 */

export interface ScrapeInput {
    /** host:port of every Vault node's API listener. */
    vaultTargets: string[];
    /** host:port of every mtail (one per node's audit file). */
    auditTargets: string[];
    /** host:port of the blackbox exporter. */
    blackboxAddress: string;
    /** host:port of each Alertmanager. */
    alertmanagers: string[];
    /** Name every node certificate carries (the service name), checked on every connection. */
    tlsServerName: string;
    /** Paths inside the Prometheus container. */
    caFile: string;
    tokenFile: string;
    ruleFiles: string[];
    /**
     * Basic auth Prometheus presents to Alertmanager (the bundled Alertmanager's web config), the
     * password read from a file on every request. Absent: no credentials (`external`).
     */
    alertmanagerAuth?: { username: string; passwordFile: string };
    scrapeInterval?: string;
    evaluationInterval?: string;
}

export const METRICS_PATH = "/v1/sys/metrics";
export const HEALTH_PATH = "/v1/sys/health?standbyok=true";
export const BLACKBOX_MODULE = "vault_health";

export function renderPrometheusConfig(i: ScrapeInput): Record<string, unknown> {
    return {
        global: {
            scrape_interval: i.scrapeInterval ?? "15s",
            evaluation_interval: i.evaluationInterval ?? "15s",
        },
        rule_files: i.ruleFiles,
        alerting: {
            alertmanagers: [
                {
                    ...(i.alertmanagerAuth
                        ? {
                              basic_auth: {
                                  username: i.alertmanagerAuth.username,
                                  password_file: i.alertmanagerAuth.passwordFile,
                              },
                          }
                        : {}),
                    static_configs: [{ targets: i.alertmanagers }],
                },
            ],
        },
        scrape_configs: [
            {
                job_name: "vault",
                metrics_path: METRICS_PATH,
                params: { format: ["prometheus"] },
                scheme: "https",
                // A standby answers 307 to the active node; the scrape follows (and re-sends the token).
                follow_redirects: true,
                authorization: { type: "Bearer", credentials_file: i.tokenFile },
                tls_config: { ca_file: i.caFile, server_name: i.tlsServerName },
                static_configs: [{ targets: i.vaultTargets }],
            },
            {
                job_name: "vault-health",
                metrics_path: "/probe",
                params: { module: [BLACKBOX_MODULE] },
                static_configs: [{ targets: i.vaultTargets.map((t) => `https://${t}${HEALTH_PATH}`) }],
                relabel_configs: [
                    { source_labels: ["__address__"], target_label: "__param_target" },
                    { source_labels: ["__param_target"], target_label: "instance" },
                    { target_label: "__address__", replacement: i.blackboxAddress },
                ],
            },
            { job_name: "vault-audit", static_configs: [{ targets: i.auditTargets }] },
        ],
    };
}

/** blackbox_exporter: sys/health must answer 200 (active or standby); the status code is kept either way. */
export function renderBlackboxConfig(i: { caFile: string; tlsServerName: string }): Record<string, unknown> {
    return {
        modules: {
            [BLACKBOX_MODULE]: {
                prober: "http",
                timeout: "5s",
                http: {
                    method: "GET",
                    valid_status_codes: [200],
                    fail_if_not_ssl: true,
                    tls_config: { ca_file: i.caFile, server_name: i.tlsServerName },
                },
            },
        },
    };
}

/** Where Alertmanager sends alerts: at least one of the three. */
export interface ReceiverConfig {
    webhookUrl?: string;
    slack?: { apiUrl: string; channel: string };
    pagerdutyRoutingKey?: string;
}

export interface AlertmanagerTiming {
    groupWait: string;
    groupInterval: string;
    repeatInterval: string;
}

export const PROD_TIMING: AlertmanagerTiming = { groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" };

export function renderAlertmanagerConfig(
    r: ReceiverConfig,
    t: AlertmanagerTiming = PROD_TIMING,
): Record<string, unknown> {
    const receiver: Record<string, unknown> = { name: "bonito-vault" };
    if (r.webhookUrl) receiver.webhook_configs = [{ url: r.webhookUrl, send_resolved: true }];
    if (r.slack)
        receiver.slack_configs = [
            {
                api_url: r.slack.apiUrl,
                channel: r.slack.channel,
                send_resolved: true,
                title: "{{ .CommonLabels.alertname }}",
                text: "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
            },
        ];
    if (r.pagerdutyRoutingKey)
        receiver.pagerduty_configs = [
            { routing_key: r.pagerdutyRoutingKey, description: "{{ .CommonAnnotations.summary }}" },
        ];
    return {
        route: {
            receiver: "bonito-vault",
            group_by: ["alertname", "instance", "node_id", "node"],
            group_wait: t.groupWait,
            group_interval: t.groupInterval,
            repeat_interval: t.repeatInterval,
        },
        receivers: [receiver],
    };
}

/**
 * Alertmanager's `--web.config.file` (exporter-toolkit): every request to its API and UI must carry
 * this user's password (HTTP basic auth); the file holds only the bcrypt hash.
 */
export function renderAlertmanagerWebConfig(u: { username: string; passwordHash: string }): Record<string, unknown> {
    if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(u.passwordHash))
        throw new Error(
            `Alertmanager web config: the password hash for ${u.username} is not a bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters), which is the only form basic_auth_users accepts`,
        );
    return { basic_auth_users: { [u.username]: u.passwordHash } };
}

export function asFile(doc: Record<string, unknown>): string {
    return JSON.stringify(doc, null, 2) + "\n";
}
