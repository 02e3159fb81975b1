/**
 * Real-server alerting: the program's alert rules, mtail program and Prometheus / blackbox /
 * Alertmanager configuration, run by Debian's prometheus, prometheus-blackbox-exporter, mtail and
 * prometheus-alertmanager on loopback against the live Vault 1.21.1 cluster of this tier.
 *
 * Proves: every scrape job reaches the cluster with the least-privilege metrics token (metric names
 * are Vault 1.21.1's own), which a real `vault agent` (Vault 1.21.1, the program's rendered agent
 * config) keeps in the file Prometheus reads: the agent logs in with the declared bonito-metrics
 * AppRole and a secret ID issued through Pulumi's admin identity, and as each token reaches its max
 * TTL logs in again and rewrites the file, while every Vault target stays up (Prometheus re-reads
 * the file) and the replaced tokens stop working; that identity, bound to 127.0.0.1/32
 * (monitoringTokenBoundCidrs), is refused from 127.0.0.2 (both the token and a login with the
 * secret ID); a quiet minute of backend traffic raises no alert; each security event
 * (root token use and creation, policy write, auth method enable, secrets engine mount, sensitive
 * path access, audit device disable) reaches a webhook receiver as its named alert with its exact
 * summary within 2 minutes, Prometheus sending them to an Alertmanager whose API is behind basic auth
 * (the program's `--web.config.file` document, with the hash and password from the program's own
 * AlertmanagerWebCredentials provider serialised as the engine runs it): without the password, or
 * with a wrong one, `GET /api/v2/status`, `POST /api/v2/silences` and `POST /api/v2/alerts` answer
 * 401 and create nothing; a sealed node raises VaultNodeSealed; the audit shipper's own script
 * (components/audit/shipper.ts, real rclone) shipping rotated files while its confirmation log feeds
 * mtail keeps VaultAuditShippingStale quiet, and once it stops (killed) the alert reaches the
 * webhook for that node (rule rendered with a 20 s bound instead of auditShipMaxDelayMinutes, so
 * it fires in about 4 x 20 s); the snapshot uploader's own script (components/backup/uploaderConfig.ts,
 * real rclone) moving snapshots into a bucket while its log feeds mtail keeps VaultBackupStale quiet
 * (the rule of a stack with a bucket, rendered with a 15-second interval), and once it stops the
 * alert reaches the webhook. Measured event-to-webhook times go to out/alerts-timings.json and to
 * out/conformance.json (`alerts`).
 * Rewrites for the shipper, all here: its audit folder is a temporary one that this test fills with
 * rotated files (the rotator is not run: test/s3/audit-ship.test.ts runs it), and its `local`
 * archive remote (`audit:/archive/vault-0`) is an rclone `alias` to a temporary folder. For the
 * uploader: the test writes the snapshots into a temporary spool (no snapshot agent runs), already
 * older than the spool's 2-minute minimum age, and its bucket remote is an rclone `alias` to a
 * temporary folder (test/s3 runs it against an S3 server). For the agent: its file paths point into
 * the test's folder and its address at one standby node (a stack's single-host agent uses the service
 * name, which Docker resolves to every node), and the role is written with the declared inputs except
 * token_ttl 8 s and token_max_ttl 20 s, so that it logs in again several times within the test.
 * Does not prove: Slack or PagerDuty delivery (the receiver is a local webhook), the bundled
 * containers themselves (the Docker tier), the health rules that need hours or faults this tier
 * cannot make (commit latency, leadership churn, certificate expiry, local's snapshot-read backup rule: promtool's
 * unit tests cover those, test/unit/monitoring.rules.test.ts).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { bringUp, decryptShare, tearDown, type Live } from "./lib/bringup";
import { PORT_BASE, REPO, VAULT_BIN, call, rawRequest, waitUntil, type Node } from "./lib/cluster";
import * as zlib from "node:zlib";
import { CONFIRM_LOG, renderShipperScript } from "../../components/audit/shipper";
import {
    renderUploaderScript,
    SNAPSHOT_GLOB,
    UPLOAD_LOG_NAME,
    uploadIntervalSeconds,
} from "../../components/backup/uploaderConfig";
import { renderAlertRulesFile } from "../../components/monitoring/alertRules";
import { METRICS_POLICY } from "../../components/monitoring/metricsPolicy";
import { ALERTMANAGER_WEB_USER, alertmanagerWebProvider } from "../../components/monitoring/alertmanagerAuth";
import {
    asFile,
    renderAlertmanagerConfig,
    renderAlertmanagerWebConfig,
    renderBlackboxConfig,
    renderPrometheusConfig,
} from "../../components/monitoring/prometheusConfig";
import {
    DEFAULT_SENSITIVE_PATHS,
    renderMtailProgram,
    securityRules,
    type SecurityRule,
} from "../../components/monitoring/securityRules";
import { adminLogin } from "./lib/applySettings";
import { recordFigures } from "./lib/ops";
import { loadProvider } from "./lib/dynamic";
import * as pulumi from "@pulumi/pulumi";

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PORTS = {
    prometheus: PORT_BASE + 50,
    mtail: PORT_BASE + 51,
    blackbox: PORT_BASE + 52,
    webhook: PORT_BASE + 53,
    alertmanager: PORT_BASE + 54,
};
const OUT = path.join(REPO, "out");
const TWO_MINUTES = 120_000;
/** The shipping rule's bound in this test (production: auditShipMaxDelayMinutes, >= 2 min). */
const SHIP_BOUND_SECONDS = 20;
const SHIP_NODE = "vault-0";
/**
 * The backup interval of this test's VaultBackupStale (production: backupSchedule, >= 5 min): upload
 * rounds every 15 s, so stale = 15 + 15 + 15 = 45 s and `for` 30 s.
 */
const BACKUP_INTERVAL_SECONDS = 15;

interface Received {
    at: number;
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

let live: Live;
let root: string;
let rules: SecurityRule[];
const procs: ChildProcess[] = [];
const received: Received[] = [];
let webhook: http.Server;
/** The metrics agent's secret ID and the file its sink writes. */
let metricsSecretId = "";
let sinkFile = "";
let agentNode: Node;
/** Alertmanager's basic auth, as the program's AlertmanagerWebCredentials provider created it. */
let amPassword = "";
const timings: Record<string, number> = {};
let shipper: ChildProcess | undefined;
let feeder: NodeJS.Timeout | undefined;
let shipDir: string;
let uploader: ChildProcess | undefined;
let snapshotFeeder: NodeJS.Timeout | undefined;
let uploadLog: string;

async function leader(): Promise<Node> {
    return waitUntil("an active node", 30000, async () => {
        for (const n of live.nodes) if ((await call(n.http, "GET", "sys/health")).status === 200) return n;
        return undefined;
    });
}

/** `operator generate-root` with a PGP-encrypted recovery share (the runbook's emergency procedure). */
async function generateRoot(): Promise<string> {
    const key = decryptShare(live, live.init.recoveryKeys[0]);
    const n = await leader();
    await call(n.http, "DELETE", "sys/generate-root/attempt");
    const start = await call(n.http, "PUT", "sys/generate-root/attempt", undefined, {});
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const { otp, nonce } = start.body as Body;
    const upd = await call(n.http, "PUT", "sys/generate-root/update", undefined, { key, nonce });
    assert.equal((upd.body as Body).complete, true);
    const enc = Buffer.from(String((upd.body as Body).encoded_token), "base64");
    const pad = Buffer.from(String(otp));
    return Buffer.from(enc.map((b, i) => b ^ pad[i])).toString("utf8");
}

function run(
    bin: string,
    args: string[],
    logName: string,
    env?: Record<string, string>,
    detached = false,
): ChildProcess {
    const log = fs.openSync(path.join(live.base, "logs", `${logName}.log`), "a");
    const p = spawn(bin, args, { stdio: ["ignore", log, log], env: env ?? process.env, detached });
    procs.push(p);
    return p;
}

/** Stops the shipper's process group (the script and any rclone it runs). */
function stopShipper(): void {
    if (feeder) clearInterval(feeder);
    feeder = undefined;
    if (shipper?.pid && shipper.exitCode === null && shipper.signalCode === null) {
        try {
            process.kill(-shipper.pid, "SIGKILL");
        } catch {
            /* gone */
        }
    }
}

/** Stops the snapshot uploader's process group (the script and any rclone it runs) and its feeder. */
function stopUploader(): void {
    if (snapshotFeeder) clearInterval(snapshotFeeder);
    snapshotFeeder = undefined;
    if (uploader?.pid && uploader.exitCode === null && uploader.signalCode === null) {
        try {
            process.kill(-uploader.pid, "SIGKILL");
        } catch {
            /* gone */
        }
    }
}

async function getJson(port: number, p: string): Promise<Body> {
    return new Promise((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path: p, timeout: 5000 }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (d: Buffer) => chunks.push(d));
            res.on("end", () => {
                try {
                    resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Body);
                } catch (e) {
                    reject(e as Error);
                }
            });
        }).on("error", reject);
    });
}

/** A request to Alertmanager's API on loopback, with or without basic auth; the status and body text. */
async function amRequest(
    method: string,
    p: string,
    auth?: { user: string; password: string },
    body?: unknown,
): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
        const headers: Record<string, string> = {};
        if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
        if (body !== undefined) headers["Content-Type"] = "application/json";
        const req = http.request(
            { host: "127.0.0.1", port: PORTS.alertmanager, path: p, method, headers, timeout: 5000 },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (d: Buffer) => chunks.push(d));
                res.on("end", () =>
                    resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
                );
            },
        );
        req.on("error", reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

async function promQuery(q: string): Promise<Body[]> {
    const r = await getJson(PORTS.prometheus, `/api/v1/query?query=${encodeURIComponent(q)}`);
    return (r.data?.result ?? []) as Body[];
}

/** Wait for a firing alert of this name at the webhook, received after `since`; returns ms from `since`. */
async function alertArrives(alertname: string, since: number, extra?: (r: Received) => boolean): Promise<Received> {
    return waitUntil(`${alertname} at the webhook`, TWO_MINUTES, async () =>
        received.find(
            (r) => r.at >= since && r.status === "firing" && r.labels.alertname === alertname && (!extra || extra(r)),
        ),
    );
}

describe(
    "real alerting: Prometheus, blackbox_exporter, mtail and Alertmanager on the live cluster",
    { timeout: 20 * 60_000 },
    () => {
        before(async () => {
            try {
                // The metrics token bound to where Prometheus scrapes from (loopback's 127.0.0.1 only).
                live = await bringUp({ config: { monitoringTokenBoundCidrs: '["127.0.0.1/32"]' } });
            } catch (e) {
                await tearDown(undefined);
                throw e;
            }
            const cfg = live.declared.config;
            root = await generateRoot();
            const L = await leader();
            // The metrics reader exactly as the program declares it, applied with Pulumi's admin identity
            // (its policy may write only these): the bonito-metrics policy, the token role, then the token
            // from the program's own MetricsToken provider, as the engine would run it.
            const admin = await adminLogin(
                { port: live.nodes[0].ports.api, ca: live.caPem, serverName: live.nodes[0].name },
                live.declared.plan,
                live.handover.roleId,
                live.handover.secretId,
            );
            const declaredPolicy = live.declared.resources.find(
                (r) => r.type === "vault:index/policy:Policy" && r.inputs.name === METRICS_POLICY,
            )!;
            const pol = await call(L.http, "PUT", `sys/policies/acl/${METRICS_POLICY}`, admin, {
                policy: String(declaredPolicy.inputs.policy),
            });
            assert.equal(pol.status, 204, JSON.stringify(pol.body));
            // The declared metrics AppRole role, with short tokens here (see the top of this file).
            const r = live.declared.resources.find(
                (x) =>
                    x.type === "vault:appRole/authBackendRole:AuthBackendRole" &&
                    x.inputs.roleName === "bonito-metrics",
            )!.inputs;
            assert.equal(r.tokenTtl, 900, "the declared role: 15-minute tokens");
            const roleRes = await call(L.http, "POST", `auth/${String(r.backend)}/role/${String(r.roleName)}`, admin, {
                token_policies: r.tokenPolicies,
                token_no_default_policy: r.tokenNoDefaultPolicy,
                token_ttl: 8,
                token_max_ttl: 20,
                token_type: r.tokenType,
                token_num_uses: r.tokenNumUses,
                token_bound_cidrs: r.tokenBoundCidrs,
                bind_secret_id: r.bindSecretId,
                secret_id_ttl: r.secretIdTtl,
                secret_id_num_uses: r.secretIdNumUses,
                secret_id_bound_cidrs: r.secretIdBoundCidrs,
            });
            assert.equal(roleRes.status, 204, JSON.stringify(roleRes.body));
            const roleId = await call(L.http, "GET", "auth/approle/role/bonito-metrics/role-id", admin);
            assert.equal(roleId.status, 200, JSON.stringify(roleId.body));
            const sid = await call(L.http, "POST", "auth/approle/role/bonito-metrics/secret-id", admin, {});
            assert.equal(sid.status, 200, JSON.stringify(sid.body));
            metricsSecretId = String((sid.body as Body).data.secret_id);

            const dir = path.join(live.base, "monitoring");
            fs.mkdirSync(dir, { recursive: true });
            const file = (name: string, content: string) => {
                const p = path.join(dir, name);
                fs.writeFileSync(p, content, { mode: 0o600 });
                return p;
            };
            const caFile = file("ca.pem", live.caPem);
            // The agent, from the program's rendered config with its paths in this folder.
            agentNode = live.nodes.find((n) => n !== L)!;
            const agentCfg = JSON.parse(live.declared.metricsAgentConfig) as Body;
            const method = agentCfg.auto_auth.method[0].config as Body;
            assert.equal(agentCfg.vault.tls_server_name, cfg.serviceName);
            agentCfg.vault.address = `https://127.0.0.1:${agentNode.ports.api}`;
            agentCfg.vault.ca_cert = caFile;
            method.role_id_file_path = file("agent-role-id", String((roleId.body as Body).data.role_id));
            method.secret_id_file_path = file("agent-secret-id", metricsSecretId);
            sinkFile = path.join(dir, "token");
            agentCfg.auto_auth.sink[0].config.path = sinkFile;
            const agentFile = file("agent.json", JSON.stringify(agentCfg, null, 2));
            run(VAULT_BIN, ["agent", `-config=${agentFile}`], "metrics-agent");
            const metricsToken = await waitUntil("the agent's first token in its sink", 30_000, async () =>
                fs.existsSync(sinkFile) ? fs.readFileSync(sinkFile, "utf8").trim() || undefined : undefined,
            );
            assert.equal(fs.statSync(sinkFile).mode & 0o777, 0o400, "the sink file is written 0400");
            const look = await call(L.http, "GET", "auth/token/lookup-self", metricsToken);
            assert.deepEqual(
                (look.body as Body).data.policies,
                [METRICS_POLICY],
                "the token carries bonito-metrics only",
            );
            assert.equal((look.body as Body).data.period, undefined, "not periodic");
            const tokenFile = sinkFile;
            // Alertmanager's one user, from the program's provider as the engine would run it.
            const webProvider = loadProvider(
                (await pulumi.runtime.serializeFunction(() => alertmanagerWebProvider, { allowSecrets: true })).text,
                ["create"],
            );
            const web = (await webProvider.create({ username: ALERTMANAGER_WEB_USER, cost: 10 })).outs as Body;
            amPassword = String(web.password);
            const amPasswordFile = file("alertmanager-password", amPassword);
            const amWebFile = file(
                "alertmanager-web.yml",
                asFile(
                    renderAlertmanagerWebConfig({
                        username: ALERTMANAGER_WEB_USER,
                        passwordHash: String(web.passwordHash),
                    }),
                ),
            );
            rules = securityRules({ sensitivePaths: DEFAULT_SENSITIVE_PATHS, snapshotRoles: ["snapshot-agent"] });
            const ruleFile = file(
                "rules.yml",
                renderAlertRulesFile({
                    security: rules,
                    certificateNotAfter: { "vault-0": Date.now() / 1000 + 365 * 86400 },
                    certificateWarnSeconds: cfg.tls.earlyRenewalHours * 3600,
                    // A stack with a bucket: the uploader's confirmed uploads. The feeder below writes
                    // snapshots already past the spool's 2-minute minimum age, so none waits for it.
                    backupIntervalSeconds: BACKUP_INTERVAL_SECONDS,
                    backupUpload: { roundSeconds: uploadIntervalSeconds(BACKUP_INTERVAL_SECONDS), minAgeSeconds: 0 },
                    auditShipping: { maxDelaySeconds: SHIP_BOUND_SECONDS, nodes: [SHIP_NODE] },
                    healthFor: "10s",
                    securityWindow: "2m",
                }),
            );
            const progs = path.join(dir, "mtail");
            fs.mkdirSync(progs);
            fs.writeFileSync(path.join(progs, "vault-audit.mtail"), renderMtailProgram(rules));
            const auditFiles = live.declared.nodeNames.map((n) => live.roots[n].hostPath("/vault/audit/audit.log"));

            // The audit shipper's script as rendered for vault-0 (a `local` archive), fed a rotated
            // file every 8 s (the rotator's output); it runs through every test below until the last.
            shipDir = path.join(dir, "ship");
            fs.mkdirSync(shipDir);
            const archive = path.join(dir, "archive");
            fs.mkdirSync(archive);
            const rcloneConf = file("rclone.conf", `[audit]\ntype = alias\nremote = ${archive}\n`);
            const feed = () => {
                const stamp = new Date()
                    .toISOString()
                    .replace(/[-:]/g, "")
                    .replace(/\.\d+Z$/, "Z");
                const f = path.join(shipDir, `audit.log.${stamp}.gz`);
                if (!fs.existsSync(f))
                    fs.writeFileSync(f, zlib.gzipSync(`{"time":"${stamp}","type":"request"}\n`), { mode: 0o600 });
            };
            feed();
            feeder = setInterval(feed, 8000);
            shipper = run(
                "sh",
                ["-c", renderShipperScript({ kind: "local" }, SHIP_NODE, 2)],
                "audit-shipper",
                {
                    PATH: `${path.join(REPO, "tools", "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
                    HOME: dir,
                    BONITO_AUDIT_DIR: shipDir,
                    RCLONE_CONFIG: rcloneConf,
                },
                true,
            );
            await waitUntil("the shipper's first caught-up line", 60_000, async () => {
                const f = path.join(shipDir, CONFIRM_LOG);
                return fs.existsSync(f) && /caught-up/.test(fs.readFileSync(f, "utf8")) ? true : undefined;
            });

            // The snapshot uploader's script as rendered (gcp: no credential variables to load), fed a
            // snapshot every 5 s (the agent's output, already 3 minutes old); its bucket remote
            // (`snapshots:bonito-snapshots`) is an rclone `alias` to a temporary folder. It runs
            // until the last test stops it.
            const spool = path.join(dir, "spool");
            const bucketRoot = path.join(dir, "bucket");
            fs.mkdirSync(spool);
            fs.mkdirSync(bucketRoot);
            uploadLog = path.join(dir, "upload-log", UPLOAD_LOG_NAME);
            fs.mkdirSync(path.dirname(uploadLog));
            const uploaderConf = file("uploader-rclone.conf", `[snapshots]\ntype = alias\nremote = ${bucketRoot}\n`);
            const feedSnapshot = () => {
                const f = path.join(spool, SNAPSHOT_GLOB.replace("*", new Date().toISOString().replace(/[:.]/g, "-")));
                fs.writeFileSync(f, Buffer.alloc(4096, 1));
                const old = new Date(Date.now() - 180_000);
                fs.utimesSync(f, old, old);
            };
            feedSnapshot();
            snapshotFeeder = setInterval(feedSnapshot, 5000);
            uploader = run(
                "sh",
                [
                    "-c",
                    renderUploaderScript({ kind: "gcp", bucket: "bonito-snapshots" }, BACKUP_INTERVAL_SECONDS),
                    "snapshot-uploader",
                ],
                "snapshot-uploader",
                {
                    PATH: `${path.join(REPO, "tools", "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
                    HOME: dir,
                    BONITO_SPOOL_DIR: spool,
                    BONITO_UPLOAD_LOG: uploadLog,
                    RCLONE_CONFIG: uploaderConf,
                },
                true,
            );
            await waitUntil("the uploader's first uploaded line", 60_000, async () =>
                fs.existsSync(uploadLog) && / uploaded raft-snapshot-/.test(fs.readFileSync(uploadLog, "utf8"))
                    ? true
                    : undefined,
            );
            const promFile = file(
                "prometheus.yml",
                asFile(
                    renderPrometheusConfig({
                        vaultTargets: live.nodes.map((n) => `127.0.0.1:${n.ports.api}`),
                        auditTargets: [`127.0.0.1:${PORTS.mtail}`],
                        blackboxAddress: `127.0.0.1:${PORTS.blackbox}`,
                        alertmanagers: [`127.0.0.1:${PORTS.alertmanager}`],
                        tlsServerName: cfg.serviceName,
                        caFile,
                        tokenFile,
                        ruleFiles: [ruleFile],
                        alertmanagerAuth: { username: ALERTMANAGER_WEB_USER, passwordFile: amPasswordFile },
                        scrapeInterval: "5s",
                        evaluationInterval: "5s",
                    }),
                ),
            );
            const bbFile = file(
                "blackbox.yml",
                asFile(renderBlackboxConfig({ caFile, tlsServerName: cfg.serviceName })),
            );
            const amFile = file(
                "alertmanager.yml",
                asFile(
                    renderAlertmanagerConfig(
                        { webhookUrl: `http://127.0.0.1:${PORTS.webhook}/hook` },
                        { groupWait: "1s", groupInterval: "5s", repeatInterval: "1h" },
                    ),
                ),
            );

            webhook = http.createServer((req, res) => {
                const chunks: Buffer[] = [];
                req.on("data", (d: Buffer) => chunks.push(d));
                req.on("end", () => {
                    const at = Date.now();
                    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Body;
                    for (const a of body.alerts as Body[])
                        received.push({ at, status: a.status, labels: a.labels, annotations: a.annotations });
                    res.end("ok");
                });
            });
            await new Promise<void>((r) => webhook.listen(PORTS.webhook, "127.0.0.1", r));

            run(
                "mtail",
                [
                    "--progs",
                    progs,
                    "--logs",
                    [...auditFiles, path.join(shipDir, CONFIRM_LOG), uploadLog].join(","),
                    "--address",
                    "127.0.0.1",
                    "--port",
                    String(PORTS.mtail),
                    "--logtostderr",
                ],
                "mtail",
            );
            run(
                "prometheus-blackbox-exporter",
                [`--config.file=${bbFile}`, `--web.listen-address=127.0.0.1:${PORTS.blackbox}`],
                "blackbox",
            );
            run(
                "prometheus-alertmanager",
                [
                    `--config.file=${amFile}`,
                    `--storage.path=${path.join(dir, "am-data")}`,
                    `--web.listen-address=127.0.0.1:${PORTS.alertmanager}`,
                    `--web.config.file=${amWebFile}`,
                    "--cluster.listen-address=",
                ],
                "alertmanager",
            );
            run(
                "prometheus",
                [
                    `--config.file=${promFile}`,
                    `--storage.tsdb.path=${path.join(dir, "prom-data")}`,
                    `--web.listen-address=127.0.0.1:${PORTS.prometheus}`,
                ],
                "prometheus",
            );
            const t0 = Date.now();
            await waitUntil("every scrape target up", 90_000, async () => {
                const r = await getJson(PORTS.prometheus, "/api/v1/targets");
                const t = (r.data?.activeTargets ?? []) as Body[];
                return t.length === 7 && t.every((x) => x.health === "up") ? true : undefined;
            });
            timings.targetsUpMs = Date.now() - t0;
        });

        after(async () => {
            stopShipper();
            stopUploader();
            for (const p of procs) p.kill("SIGTERM");
            webhook?.close();
            if (live) {
                fs.mkdirSync(OUT, { recursive: true });
                fs.writeFileSync(path.join(OUT, "alerts-timings.json"), JSON.stringify(timings, null, 2) + "\n");
                recordFigures({ alerts: timings });
            }
            await tearDown(live);
        });

        it("scrapes Vault 1.21.1's own metric names with the metrics token, the health probe and mtail", async () => {
            for (const name of [
                "vault_core_active",
                "vault_core_unsealed",
                "vault_autopilot_node_healthy",
                "vault_audit_log_request_failure",
                "vault_audit_log_response_failure",
                "vault_raft_state_leader",
                "vault_raft_commitTime_count",
                "probe_http_status_code",
                ...rules.map((r) => r.metric),
            ])
                await waitUntil(`${name} in Prometheus`, 30_000, async () =>
                    (await promQuery(name)).length > 0 ? true : undefined,
                );
            // The metrics token reads sys/metrics and nothing else.
            const t = (await fs.promises.readFile(sinkFile, "utf8")).trim();
            const L = await leader();
            const denied = await rawRequest(L.ports.api, "GET", "/v1/sys/mounts", live.caPem, L.name, { token: t });
            assert.equal(denied.status, 403);
        });

        it("the metrics agent logs in again as each token reaches its max TTL and rewrites the file; Prometheus follows: every Vault target stays up, replaced tokens stop working", async () => {
            const seen: string[] = [];
            const down: string[] = [];
            const end = Date.now() + 50_000;
            while (Date.now() < end) {
                const t = fs.readFileSync(sinkFile, "utf8").trim();
                if (t && seen.at(-1) !== t) seen.push(t);
                for (const x of await promQuery('up{job="vault"}'))
                    if ((x.value as string[])[1] !== "1") down.push(`${String(x.metric.instance)} at ${Date.now()}`);
                await new Promise((r) => setTimeout(r, 1000));
            }
            timings.metricsAgentTokensIn50s = seen.length;
            // 20 s max TTL: at least two new logins in 50 s.
            assert.ok(seen.length >= 3, `tokens the agent wrote in 50 s: ${seen.length}`);
            assert.deepEqual(down, [], "no Vault target went down while the token changed");
            const targets = await promQuery('up{job="vault"}');
            assert.equal(targets.length, live.nodes.length, "every node is a target");
            const L = await leader();
            const first = await call(L.http, "GET", "auth/token/lookup-self", seen[0]);
            assert.equal(first.status, 403, "the first token ended at its max TTL");
        });

        it("a quiet minute of backend traffic raises no alert", async () => {
            const env = live.backendEnv;
            let secretId = env.VAULT_SECRET_ID;
            if (!secretId) {
                const un = await call(live.backendHttp, "POST", "sys/wrapping/unwrap", env.VAULT_WRAPPED_SECRET_ID);
                secretId = (un.body as Body).data.secret_id as string;
            }
            const login = await call(live.backendHttp, "POST", "auth/approle/login", undefined, {
                role_id: env.VAULT_ROLE_ID,
                secret_id: secretId,
            });
            assert.equal(login.status, 200);
            const token = (login.body as Body).auth.client_token as string;
            const mount = env.VAULT_MOUNT;
            const end = Date.now() + 60_000;
            let ops = 0;
            while (Date.now() < end) {
                const w = await call(live.backendHttp, "POST", `${mount}/data/app/quiet`, token, {
                    data: { n: String(ops) },
                });
                assert.equal(w.status, 200, JSON.stringify(w.body));
                const r = await call(live.backendHttp, "GET", `${mount}/data/app/quiet`, token);
                assert.equal(r.status, 200);
                ops += 2;
                await new Promise((r) => setTimeout(r, 200));
            }
            timings.quietMinuteBackendOps = ops;
            const alerts = ((await getJson(PORTS.prometheus, "/api/v1/alerts")).data?.alerts ?? []) as Body[];
            assert.deepEqual(
                alerts.filter((a) => a.state === "firing").map((a) => a.labels.alertname),
                [],
                "no alert firing",
            );
            // Pending, and rightly so: no snapshot has been taken (no agent runs in this tier); it
            // fires only after two backup intervals.
            const pending = [...new Set(alerts.filter((a) => a.state === "pending").map((a) => a.labels.alertname))];
            assert.ok(
                pending.every((a) => a === "VaultBackupStale"),
                `pending: ${pending.join(", ")}`,
            );
            assert.deepEqual(received, [], "nothing reached the webhook");
        });

        it("each security event reaches the webhook as its named alert with its exact summary within 2 minutes", async () => {
            const L = await leader();
            const events: [string, () => Promise<void>][] = [
                [
                    "VaultRootTokenUsed",
                    async () => {
                        assert.equal((await call(L.http, "GET", "sys/auth", root)).status, 200);
                    },
                ],
                [
                    "VaultPolicyChanged",
                    async () => {
                        const r = await call(L.http, "PUT", "sys/policies/acl/alert-test", root, {
                            policy: 'path "alert-test/*" { capabilities = ["read"] }',
                        });
                        assert.equal(r.status, 204);
                    },
                ],
                [
                    "VaultAuthMethodChanged",
                    async () => {
                        assert.equal(
                            (await call(L.http, "POST", "sys/auth/alert-userpass", root, { type: "userpass" })).status,
                            204,
                        );
                    },
                ],
                [
                    "VaultSecretsEngineChanged",
                    async () => {
                        const r = await call(L.http, "POST", "sys/mounts/alert-kv", root, {
                            type: "kv",
                            options: { version: "2" },
                        });
                        assert.equal(r.status, 204);
                    },
                ],
                [
                    "VaultSensitivePathAccessed",
                    async () => {
                        const r = await call(L.http, "LIST", "auth/pulumi-admin/role/pulumi-admin/secret-id", root);
                        assert.ok([200, 404].includes(r.status), String(r.status));
                    },
                ],
                [
                    "VaultAuditDeviceDisabled",
                    async () => {
                        const second = live.declared.plan.auditDevices[1];
                        assert.equal((await call(L.http, "DELETE", `sys/audit/${second.path}`, root)).status, 204);
                        const back = await call(L.http, "PUT", `sys/audit/${second.path}`, root, {
                            type: second.type,
                            description: second.description,
                            options: second.options,
                        });
                        assert.equal(back.status, 204);
                    },
                ],
                [
                    "VaultRootTokenCreated",
                    async () => {
                        const again = await generateRoot();
                        assert.equal((await call(L.http, "POST", "auth/token/revoke-self", again)).status, 204);
                    },
                ],
            ];
            const started: Record<string, number> = {};
            for (const [name, act] of events) {
                started[name] = Date.now();
                await act();
            }
            for (const [name] of events) {
                const r = await alertArrives(name, started[name]);
                const rule = rules.find((x) => x.alert === name)!;
                assert.equal(r.annotations.summary, rule.summary);
                timings[`${name}Ms`] = r.at - started[name];
                assert.ok(r.at - started[name] <= TWO_MINUTES);
            }
        });

        it("Alertmanager's API answers 401 without the password (status, silences, alerts) while Prometheus's alerts get through with it", async () => {
            const good = { user: ALERTMANAGER_WEB_USER, password: amPassword };
            const wrong = { user: ALERTMANAGER_WEB_USER, password: `${amPassword}x` };
            const now = Date.now();
            const silence = {
                matchers: [{ name: "alertname", value: "VaultRootTokenUsed", isRegex: false }],
                startsAt: new Date(now).toISOString(),
                endsAt: new Date(now + 3600_000).toISOString(),
                createdBy: "conformance",
                comment: "an attacker on the network",
            };
            const fake = [{ labels: { alertname: "ConformanceFakeAlert" }, annotations: { summary: "fake" } }];
            for (const auth of [undefined, wrong]) {
                const who = auth ? "a wrong password" : "no credentials";
                const st = await amRequest("GET", "/api/v2/status", auth);
                assert.equal(st.status, 401, `GET /api/v2/status with ${who}`);
                assert.ok(!st.text.includes(String(PORTS.webhook)), "the 401 body carries no config");
                assert.equal((await amRequest("POST", "/api/v2/silences", auth, silence)).status, 401, who);
                assert.equal((await amRequest("POST", "/api/v2/alerts", auth, fake)).status, 401, who);
                assert.equal((await amRequest("GET", "/api/v2/alerts", auth)).status, 401, who);
            }
            // Nothing was created, and the same requests are well-formed: with the password they succeed.
            const silences = JSON.parse((await amRequest("GET", "/api/v2/silences", good)).text) as Body[];
            assert.deepEqual(silences, [], "no silence exists");
            const alerts = JSON.parse((await amRequest("GET", "/api/v2/alerts", good)).text) as Body[];
            assert.equal(alerts.filter((x) => x.labels.alertname === "ConformanceFakeAlert").length, 0);
            assert.ok(
                received.length > 0,
                "the webhook got the alerts above, which reach it only through Alertmanager",
            );
            const st = await amRequest("GET", "/api/v2/status", good);
            assert.equal(st.status, 200);
            const made = await amRequest("POST", "/api/v2/silences", good, {
                ...silence,
                matchers: [{ name: "alertname", value: "ConformanceNoSuchAlert", isRegex: false }],
            });
            assert.equal(made.status, 200, made.text);
            const id = String((JSON.parse(made.text) as Body).silenceID);
            assert.equal((await amRequest("DELETE", `/api/v2/silence/${id}`, good)).status, 200);
            // Prometheus: alerts sent to this Alertmanager, and never refused for want of credentials.
            const am = `http://127.0.0.1:${PORTS.alertmanager}/api/v2/alerts`;
            // (Prometheus's own counters: this tier does not scrape Prometheus, so they are read from /metrics.)
            const own = await new Promise<string>((resolve, reject) => {
                http.get({ host: "127.0.0.1", port: PORTS.prometheus, path: "/metrics", timeout: 5000 }, (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (d: Buffer) => chunks.push(d));
                    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
                }).on("error", reject);
            });
            const sentLine = own
                .split("\n")
                .find((l) => l.startsWith(`prometheus_notifications_sent_total{alertmanager="${am}"}`));
            assert.ok(Number(sentLine?.split(" ").pop()) > 0, `alerts sent: ${sentLine}`);
            const promLog = fs.readFileSync(path.join(live.base, "logs", "prometheus.log"), "utf8");
            assert.doesNotMatch(promLog, /401 Unauthorized/, "Prometheus was never refused");
            // Alertmanager 0.25 (Debian bookworm) still shows a webhook URL in clear to whoever holds the
            // password (its webhook `url` is not a secret type before 0.26, nor is `url_file` known): the
            // password is what guards it now (docs/monitoring.md).
            assert.ok(
                st.text.includes(`127.0.0.1:${PORTS.webhook}/hook`),
                "0.25 shows the webhook URL with the password",
            );
        });

        it("a sealed node raises VaultNodeSealed for that node", async () => {
            const active = await leader();
            const since = Date.now();
            const sealed = await call(active.http, "PUT", "sys/seal", root, {});
            assert.equal(sealed.status, 204, JSON.stringify(sealed.body));
            const r = await alertArrives("VaultNodeSealed", since, (x) =>
                x.labels.instance.includes(`:${active.ports.api}/`),
            );
            assert.equal(r.annotations.summary, `Vault node ${r.labels.instance} is sealed`);
            timings.VaultNodeSealedMs = r.at - since;
            assert.ok(r.at - since <= TWO_MINUTES);
        });

        it("the metrics identity, bound to 127.0.0.1/32, is refused from 127.0.0.2: its token, and a login with its secret ID", async () => {
            // The active node (node 0 was sealed above).
            const L = await leader();
            /** A request to the active node from the given loopback address: the status. */
            const from = (localAddress: string, method: string, p: string, token?: string, body?: unknown) =>
                new Promise<number>((resolve, reject) => {
                    const req = https.request(
                        {
                            host: "127.0.0.1",
                            port: L.ports.api,
                            method,
                            path: `/v1/${p}`,
                            localAddress,
                            ca: live.caPem,
                            servername: L.name,
                            headers: {
                                ...(token ? { "X-Vault-Token": token } : {}),
                                "Content-Type": "application/json",
                            },
                        },
                        (res) => {
                            res.resume();
                            resolve(res.statusCode ?? 0);
                        },
                    );
                    req.on("error", reject);
                    req.end(body === undefined ? undefined : JSON.stringify(body));
                });
            const METRICS = "sys/metrics?format=prometheus";
            const bound = fs.readFileSync(sinkFile, "utf8").trim();
            assert.equal(await from("127.0.0.1", "GET", METRICS, bound), 200, "Prometheus's address");
            assert.equal(await from("127.0.0.2", "GET", METRICS, bound), 403, "any other address (token_bound_cidrs)");
            const roleId = fs.readFileSync(path.join(live.base, "monitoring", "agent-role-id"), "utf8");
            const login = { role_id: roleId, secret_id: metricsSecretId };
            assert.equal(
                await from("127.0.0.2", "POST", "auth/approle/login", undefined, login),
                400,
                "secret_id_bound_cidrs",
            );
            assert.equal(await from("127.0.0.1", "POST", "auth/approle/login", undefined, login), 200);
        });

        it("audit shipping that stops raises VaultAuditShippingStale for that node (bound 20 s: about 4 x 20 s)", async () => {
            // Shipping worked until now: the gauge is fresh, files reached the archive, the alert never came.
            const gauge = await promQuery(`bonito_audit_shipper_last_success_timestamp_seconds{node="${SHIP_NODE}"}`);
            assert.equal(gauge.length, 1, "the gauge of vault-0 is in Prometheus");
            assert.ok(Date.now() / 1000 - Number(gauge[0].value[1]) < 2 * SHIP_BOUND_SECONDS, "and fresh");
            const log = () => fs.readFileSync(path.join(shipDir, CONFIRM_LOG), "utf8");
            const confirmedFiles = log().match(/ confirmed vault-0 audit\.log\.\S+\.gz \d+ /g) ?? [];
            assert.ok(confirmedFiles.length >= 2, `rotated files were shipped (${confirmedFiles.length})`);
            assert.ok(
                !received.some((r) => r.labels.alertname === "VaultAuditShippingStale"),
                "no shipping alert while it shipped",
            );

            const stoppedAt = Date.now();
            stopShipper();
            const last = Math.max(...[...log().matchAll(/^(\d+) caught-up /gm)].map((m) => Number(m[1])));
            const r = await alertArrives("VaultAuditShippingStale", stoppedAt, (x) => x.labels.node === SHIP_NODE);
            assert.equal(
                r.annotations.summary,
                `Audit logs of ${SHIP_NODE} have not been shipped in ${2 * SHIP_BOUND_SECONDS}s (twice the bound delay)`,
            );
            timings.VaultAuditShippingStaleMs = r.at - stoppedAt;
            timings.VaultAuditShippingStaleSinceLastSuccessMs = r.at - last * 1000;
            // Not before the rule allows: more than 2 x bound past the last success, then `for` 2 x bound.
            assert.ok(r.at - last * 1000 >= 4 * SHIP_BOUND_SECONDS * 1000, `fired ${r.at - last * 1000} ms after`);
            assert.ok(r.at - stoppedAt <= TWO_MINUTES);
        });

        it("a snapshot uploader that stops raises VaultBackupStale (interval 15 s: 45 s stale, held 30 s)", async () => {
            // Uploads worked until now: the gauge is fresh, snapshots reached the bucket, the alert never came.
            const gauge = await promQuery("bonito_backup_last_upload_timestamp_seconds");
            assert.equal(gauge.length, 1, "the upload gauge is in Prometheus");
            assert.ok(Date.now() / 1000 - Number(gauge[0].value[1]) < 3 * BACKUP_INTERVAL_SECONDS, "and fresh");
            const log = () => fs.readFileSync(uploadLog, "utf8");
            const uploads = [...log().matchAll(/^(\d+) uploaded raft-snapshot-\S+ 4096 snapshots:bonito-snapshots$/gm)];
            assert.ok(uploads.length >= 3, `snapshots were uploaded (${uploads.length} lines)`);
            assert.ok(
                !received.some((r) => r.labels.alertname === "VaultBackupStale"),
                "no backup alert while uploads went on",
            );

            const stoppedAt = Date.now();
            stopUploader();
            const last = Math.max(...[...log().matchAll(/^(\d+) uploaded /gm)].map((m) => Number(m[1])));
            const r = await alertArrives("VaultBackupStale", stoppedAt);
            assert.equal(r.annotations.summary, "No Raft snapshot reached the backup bucket in 45s");
            timings.VaultBackupStaleMs = r.at - stoppedAt;
            timings.VaultBackupStaleSinceLastUploadMs = r.at - last * 1000;
            // Not before the rule allows: 45 s past the last upload, then `for` 30 s.
            assert.ok(r.at - last * 1000 >= 75_000, `fired ${r.at - last * 1000} ms after the last upload`);
            assert.ok(r.at - stoppedAt <= TWO_MINUTES);
        });
    },
);
