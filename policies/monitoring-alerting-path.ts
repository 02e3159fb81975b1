import type { StackValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, isProdStack, obj, roleOf, str, vaultServers, type Props } from "./lib/common";
import { APPROLE_ROLE } from "./vault-approle-token-ttl";
import { VAULT_POLICY } from "./vault-policy-backend-least-privilege";
import { METRICS_POLICY_NAME } from "./vault-policy-metrics-least-privilege";

function upload(p: Props, suffix: string): Props | undefined {
    const u = arr(p.uploads)
        .map((x) => obj(x))
        .find((x) => str(x?.file)?.endsWith(suffix));
    const text = str(u?.content);
    if (text === undefined) return undefined;
    try {
        return obj(JSON.parse(text));
    } catch {
        return undefined;
    }
}

/**
 * Seed §3 ("monitor for …") and a cluster someone is paged about: a production stack has the
 * alerting path. Always: the metrics reader (policy bonito-metrics) and the AppRole role its agent
 * logs in with. With the
 * bundled monitoring (a Prometheus container): an Alertmanager with at least one receiver whose API
 * needs a password (`--web.config.file` naming an uploaded file with `basic_auth_users`: without it
 * anyone on the Docker network can silence every alert), Prometheus's Vault token read from the
 * file a metrics agent's sink writes on a volume both mount, a Prometheus config that loads rules, alerts to Alertmanager and scrapes the three jobs (vault,
 * vault-health, vault-audit), and an mtail container per Vault server on that server's audit volume.
 * With `monitoring: external` the same pieces are stack outputs for the team's own Prometheus.
 *
 * One-field changes that would undo the same protection, each covered here: the metrics policy
 * or AppRole role removed; Prometheus's credentials_file pointed at a static token (an upload) or
 * the agent's sink moved or its volume not shared; the Alertmanager's receivers emptied; the Alertmanager removed; its
 * `--web.config.file` dropped; Prometheus sending alerts without basic auth; the rule files
 * or a scrape job dropped from Prometheus; an mtail container removed or pointed at no audit volume.
 */
export const monitoringAlertingPath: StackValidationPolicy = {
    name: "monitoring-alerting-path",
    description:
        "A production stack has the alerting path: the bonito-metrics policy and AppRole role, and with bundled monitoring Prometheus's token from its Vault Agent's sink, an Alertmanager with a receiver and its API behind basic auth, Prometheus loading rules and scraping vault, vault-health and vault-audit, and mtail on every server's audit volume.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["monitoring", "audit", "seed-3"],
    remediationSteps:
        "Keep components/monitoring as declared: set `monitoring` to bundled (with a receiver and monitoringMtailImage) or external (and load the exported scrape config, rules and mtail program in your Prometheus).",
    validateStack: (args, report) => {
        if (!isProdStack(args)) return;
        const servers = vaultServers(args);
        if (servers.length === 0) return;
        const rs = args.resources;
        if (!rs.some((r) => r.type === VAULT_POLICY && (str(r.props.name) ?? r.name) === METRICS_POLICY_NAME))
            report(
                `No Vault policy ${METRICS_POLICY_NAME}: nothing may read Vault's metrics, so no health alert can fire.`,
            );
        if (
            !rs.some(
                (r) =>
                    r.type === APPROLE_ROLE &&
                    arr(r.props.tokenPolicies).some((p) => String(p) === METRICS_POLICY_NAME),
            )
        )
            report(
                `No AppRole role issues the ${METRICS_POLICY_NAME} policy: no agent can log in for Prometheus, which cannot scrape sys/metrics.`,
            );
        const containers = rs.filter((r) => r.type === TYPES.container);
        const prom = containers.find((c) => roleOf(c.props) === "prometheus");
        if (!prom) return; // monitoring: external
        const am = containers.find((c) => roleOf(c.props) === "alertmanager");
        if (!am) report("Prometheus is declared without an Alertmanager: alerts go nowhere.");
        else {
            const cfg = upload(am.props, "alertmanager.yml");
            const receivers = arr(cfg?.receivers).map((r) => obj(r) ?? {});
            const wired = receivers.some((r) =>
                ["webhook_configs", "slack_configs", "pagerduty_configs"].some((k) => arr(r[k]).length > 0),
            );
            if (!wired) report("The Alertmanager has no webhook, Slack or PagerDuty receiver: alerts reach nobody.");
            const flag = arr(am.props.command)
                .map((a) => str(a) ?? "")
                .find((a) => a.startsWith("--web.config.file="));
            const webFile = flag?.slice("--web.config.file=".length);
            const users = webFile ? obj(upload(am.props, webFile)?.basic_auth_users) : undefined;
            if (!users || Object.keys(users).length === 0)
                report(
                    "The Alertmanager's API needs no password (no --web.config.file with basic_auth_users): anyone on the Docker network can read its config, silence every alert or post fake ones.",
                );
        }
        const pc = upload(prom.props, "prometheus.yml");
        if (arr(pc?.rule_files).length === 0) report("Prometheus loads no rule files: no alert is evaluated.");
        const ams = arr(obj(pc?.alerting)?.alertmanagers);
        if (ams.length === 0) report("Prometheus sends alerts to no Alertmanager.");
        else if (am && ams.some((a) => !str(obj(obj(a)?.basic_auth)?.password_file)))
            report(
                "Prometheus sends alerts to the Alertmanager without basic auth (alerting.alertmanagers[].basic_auth.password_file): they are refused with 401.",
            );
        // Prometheus's Vault token: the file the metrics agent's sink writes, on a volume both mount.
        const vaultJob = arr(pc?.scrape_configs).find((j) => str(obj(j)?.job_name) === "vault");
        const credFile = str(obj(obj(vaultJob)?.authorization)?.credentials_file);
        if (vaultJob && credFile) {
            const mountOf = (c: { props: Props }) =>
                arr(c.props.volumes)
                    .map((v) => obj(v) ?? {})
                    .find((v) => credFile.startsWith(`${str(v.containerPath) ?? "\u0000"}/`));
            const promMount = mountOf(prom);
            const writers = containers.filter((c) => {
                if (roleOf(c.props) !== "metrics-agent") return false;
                const agentFile = arr(c.props.command)
                    .map(String)
                    .find((x) => x.startsWith("-config="))
                    ?.slice("-config=".length);
                const sinks = arr(obj(upload(c.props, agentFile ?? "\u0000")?.auto_auth)?.sink).map((x) =>
                    str(obj(obj(x)?.config)?.path),
                );
                const m = mountOf(c);
                return sinks.includes(credFile) && m && promMount && str(m.volumeName) === str(promMount.volumeName);
            });
            if (writers.length === 0)
                report(
                    `Prometheus reads its Vault token from ${credFile}, which no metrics agent's sink writes on a volume they share: a token there is a static one no one renews or ends.`,
                );
        }
        const jobs = new Set(arr(pc?.scrape_configs).map((s) => str(obj(s)?.job_name)));
        for (const j of ["vault", "vault-health", "vault-audit"])
            if (!jobs.has(j)) report(`Prometheus does not scrape job ${j}; its alerts cannot fire.`);
        const auditVolumes = new Set(
            containers
                .filter((c) => roleOf(c.props) === "mtail")
                .flatMap((c) => arr(c.props.volumes).map((v) => str(obj(v)?.volumeName))),
        );
        for (const s of servers) {
            const audit = arr(s.props.volumes)
                .map((v) => obj(v) ?? {})
                .find((v) => str(v.containerPath) === "/vault/audit");
            const vol = str(audit?.volumeName);
            if (vol !== undefined && !auditVolumes.has(vol))
                report(`No mtail reads audit volume ${vol}: security events on that node raise no alert.`);
        }
    },
};
