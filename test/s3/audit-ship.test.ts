/**
 * Audit shipping against a real S3 server with Object Lock (`npm run test:s3`).
 *
 * Runs: versitygw v1.8.0 (posix backend, versioning, internal IAM) on 127.0.0.1 behind the
 * recording HTTPS proxy of s3.ts, the real rclone v1.76.0, and the two scripts exactly as the
 * program renders them for a 2-minute delay bound (auditShipMaxDelayMinutes 2, the minimum):
 * the shipper's script (components/audit/shipper.ts, the text the shipper container runs) and the
 * rotation loop (components/settings/audit.ts, the text each Vault container runs). The rotator
 * runs in its own PID namespace (`unshare --pid`), where its SIGHUP (no Vault process there: it
 * falls back to PID 1, itself) is ignored instead of reaching this machine's init.
 *
 * Proves:
 * - a writer appending audit lines for 75 s while both loops run: every line arrives in the bucket,
 *   each exactly once, within the 2-minute bound (the largest measured delay is printed), in at
 *   least two rotated files under `vault-0/<day>/`, every PUT with Content-MD5 of its bytes, no
 *   DELETE, no HEAD, no object read by the shipper; each shipped file is moved to shipped/;
 * - the shipper's credentials (a versitygw user granted PutObject and ListBucket, as
 *   awsWriterPolicy) get 403 on deleting a shipped object and its version;
 * - with the S3 server unreachable, a pending file stays pending (not deleted, not marked), while
 *   the rotator deletes an expired file from shipped/ and leaves the expired pending one alone; a
 *   `.gz.tmp` (compression under way) is never shipped; once S3 answers, the file is shipped;
 * - a crash between upload and mark (a shipped file put back as pending): the next round uploads
 *   nothing (one version) and marks it.
 *
 * Does not prove: the containers (image, uid 100, mounts: the Docker tier's area), GCS, Azure
 * (test/s3/clouds.test.ts runs the shipper script against their emulators) or the local-volume archive, real AWS IAM/KMS, or Vault's own SIGHUP handling (the writer here
 * opens the file for each line, as Vault after its reopen).
 *
 * Rewrites for loopback, all here: `endpoint = https://127.0.0.1:<proxy>` appended to the rendered
 * rclone.conf; RCLONE_CA_CERT (rclone's --ca-cert) for the proxy's certificate; BONITO_AUDIT_DIR,
 * BONITO_SECRETS_DIR and RCLONE_CONFIG pointing at temporary files (the scripts' own defaults are
 * the container paths).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { after, before, describe, it } from "node:test";
import {
    CONFIRM_LOG,
    renderShipperRcloneConfig,
    renderShipperScript,
    shipTimings,
} from "../../components/audit/shipper";
import type { UploadTarget } from "../../components/backup/uploaderConfig";
import { renderAuditRotatorScript } from "../../components/settings/audit";
import {
    BIN,
    ensureTools,
    freePort,
    md5b64,
    refusedByObjectLock,
    run,
    s3Request,
    selfSignedCert,
    startRecordingProxy,
    stop,
    readConfirmations,
    Scripts,
    until,
    waitForHttp,
    type Credentials,
} from "./s3";

const REGION = "eu-west-1";
const BUCKET = "bonito-audit-test";
const NODE = "vault-0";
const DELAY_MINUTES = 2;
const ROOT_CREDS: Credentials = { accessKeyId: "rootaccess", secretAccessKey: "rootsecret-not-for-production" };
const WRITER: Credentials = { accessKeyId: "auditwriter", secretAccessKey: "auditwriter-not-for-production" };
const target: UploadTarget = {
    kind: "aws",
    bucket: BUCKET,
    region: REGION,
    kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/audit-test",
};
const timings = shipTimings(DELAY_MINUTES);
const SHIPPER_SCRIPT = renderShipperScript(target, NODE, DELAY_MINUTES);
const ROTATOR_SCRIPT = renderAuditRotatorScript(
    { rotateSizeMb: 100, rotateMaxAgeHours: 24, retentionDays: 1 },
    timings,
);

let tmp: string;
let auditDir: string;
let shippedDir: string;
let gateway: ChildProcess | undefined;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>> | undefined;
let gwEndpoint: string;
let certPath: string;
let liveConfig: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = (method: string, p: string, opts?: Parameters<typeof s3Request>[5]) =>
    s3Request(gwEndpoint, ROOT_CREDS, REGION, method, p, opts);
const asWriter = (method: string, p: string) => s3Request(gwEndpoint, WRITER, REGION, method, p);

function scriptEnv(configPath: string): Record<string, string> {
    return {
        PATH: `${BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        HOME: tmp,
        BONITO_AUDIT_DIR: auditDir,
        BONITO_SECRETS_DIR: path.join(tmp, "secrets"),
        RCLONE_CONFIG: configPath,
        RCLONE_CA_CERT: certPath,
    };
}

const scripts = new Scripts();
const startScript = scripts.start.bind(scripts);
const stopScript = scripts.stop.bind(scripts);

const startShipper = (configPath: string) => startScript("sh", ["-c", SHIPPER_SCRIPT], scriptEnv(configPath));
/** The rotator in a new PID namespace (it is PID 1 there), so its SIGHUP fallback hits only itself. */
const startRotator = () =>
    startScript(
        "unshare",
        [
            ...(process.getuid?.() === 0 ? [] : ["--user", "--map-root-user"]),
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "sh",
            "-c",
            ROTATOR_SCRIPT,
        ],
        scriptEnv(liveConfig),
    );

async function listKeys(prefix = `${NODE}/`): Promise<string[]> {
    const res = await root("GET", `/${BUCKET}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
    assert.equal(res.status, 200, res.text);
    return [...res.text.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]).sort();
}

async function versionsOf(key: string): Promise<string[]> {
    const res = await root("GET", `/${BUCKET}?versions&prefix=${encodeURIComponent(key)}`);
    assert.equal(res.status, 200, res.text);
    return [...res.text.matchAll(/<VersionId>([^<]+)<\/VersionId>/g)].map((m) => m[1]);
}

const confirmations = () => readConfirmations(auditDir, CONFIRM_LOG);

const gz = (lines: string[]) => zlib.gzipSync(Buffer.from(lines.map((l) => `${l}\n`).join("")));
const daysAgo = (d: number) => new Date(Date.now() - d * 86400_000);

describe(
    "audit shipping (rendered shipper + rotator scripts, rclone) into an Object Lock bucket on versitygw",
    { timeout: 20 * 60_000 },
    () => {
        before(async () => {
            const tools = ensureTools();
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-audit-s3-"));
            for (const d of ["gw", "versions", "iam", "audit", "secrets"]) fs.mkdirSync(path.join(tmp, d));
            auditDir = path.join(tmp, "audit");
            shippedDir = path.join(auditDir, "shipped");

            const port = await freePort();
            gwEndpoint = `http://127.0.0.1:${port}`;
            gateway = spawn(
                tools.versitygw,
                [
                    "--port",
                    `127.0.0.1:${port}`,
                    "--region",
                    REGION,
                    "--iam-dir",
                    path.join(tmp, "iam"),
                    "posix",
                    "--versioning-dir",
                    path.join(tmp, "versions"),
                    path.join(tmp, "gw"),
                ],
                {
                    env: {
                        PATH: process.env.PATH ?? "",
                        ROOT_ACCESS_KEY: ROOT_CREDS.accessKeyId,
                        ROOT_SECRET_KEY: ROOT_CREDS.secretAccessKey,
                    },
                    stdio: ["ignore", "ignore", "inherit"],
                },
            );
            await waitForHttp(gwEndpoint, gateway, 30_000);
            const created = await run(
                tools.versitygw,
                [
                    "admin",
                    "--endpoint-url",
                    gwEndpoint,
                    "--region",
                    REGION,
                    "create-user",
                    "--access",
                    WRITER.accessKeyId,
                    "--secret",
                    WRITER.secretAccessKey,
                    "--role",
                    "user",
                ],
                { ADMIN_ACCESS_KEY: ROOT_CREDS.accessKeyId, ADMIN_SECRET_KEY: ROOT_CREDS.secretAccessKey },
            );
            assert.equal(created.code, 0, created.stderr + created.stdout);

            const bucket = await root("PUT", `/${BUCKET}`, { headers: { "x-amz-bucket-object-lock-enabled": "true" } });
            assert.equal(bucket.status, 200, bucket.text);
            const lock = Buffer.from(
                '<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled>' +
                    "<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>",
            );
            const locked = await root("PUT", `/${BUCKET}?object-lock`, {
                body: lock,
                headers: { "content-md5": md5b64(lock) },
            });
            assert.equal(locked.status, 200, locked.text);
            // The grants of awsWriterPolicy (components/backup/iam.ts) as a bucket policy: add and list, nothing else.
            const policy = JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { AWS: [WRITER.accessKeyId] },
                        Action: ["s3:PutObject"],
                        Resource: [`arn:aws:s3:::${BUCKET}/*`],
                    },
                    {
                        Effect: "Allow",
                        Principal: { AWS: [WRITER.accessKeyId] },
                        Action: ["s3:ListBucket"],
                        Resource: [`arn:aws:s3:::${BUCKET}`],
                    },
                ],
            });
            const granted = await root("PUT", `/${BUCKET}?policy`, { body: policy });
            assert.ok(granted.status === 200 || granted.status === 204, granted.text);

            const tls = selfSignedCert(tmp);
            certPath = tls.certPath;
            proxy = await startRecordingProxy(port, tls);
            liveConfig = path.join(tmp, "rclone.conf");
            fs.writeFileSync(
                liveConfig,
                renderShipperRcloneConfig(target) + `endpoint = https://127.0.0.1:${proxy.httpsPort}\n`,
                { mode: 0o444 },
            );
            // The files the script cats (the container's /etc/rclone/secrets/*), 0400.
            fs.writeFileSync(path.join(tmp, "secrets", "aws-access-key-id"), WRITER.accessKeyId, { mode: 0o400 });
            fs.writeFileSync(path.join(tmp, "secrets", "aws-secret-access-key"), WRITER.secretAccessKey, {
                mode: 0o400,
            });
        });

        after(async () => {
            await scripts.stopAll();
            await proxy?.close();
            await stop(gateway);
            if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        });

        it("renders the paces the test relies on: rotate at 60 s, check every 12 s, ship every 24 s", () => {
            assert.deepEqual(timings, {
                rotateSeconds: 60,
                checkSeconds: 12,
                shipIntervalSeconds: 24,
                worstCaseSeconds: 101,
                marginSeconds: 19,
            });
            assert.match(ROTATOR_SCRIPT, /^MAX_AGE=60$/m);
            assert.match(ROTATOR_SCRIPT, /^INTERVAL=12$/m);
            assert.match(SHIPPER_SCRIPT, /^INTERVAL=24$/m);
            assert.match(SHIPPER_SCRIPT, /^DEST=audit:bonito-audit-test\/vault-0$/m);
        });

        it("every audit line written during 75 s reaches the bucket exactly once, within the 2-minute bound", async () => {
            const start = proxy!.records.length;
            const rotator = startRotator();
            const shipper = startShipper(liveConfig);
            const written = new Map<string, number>();
            const arrived = new Map<string, number>();
            const seen = new Set<string>();
            const log = path.join(auditDir, "audit.log");
            let n = 0;
            const writer = setInterval(() => {
                const line = JSON.stringify({
                    type: "request",
                    n: n++,
                    path: "secret/data/x",
                    time: new Date().toISOString(),
                });
                fs.appendFileSync(log, `${line}\n`, { mode: 0o600 });
                written.set(line, Date.now());
            }, 100);
            const poll = async () => {
                for (const key of await listKeys()) {
                    if (seen.has(key)) continue;
                    seen.add(key);
                    const at = Date.now();
                    const got = await root("GET", `/${BUCKET}/${key}`);
                    assert.equal(got.status, 200, key);
                    for (const l of zlib.gunzipSync(got.body).toString("utf8").split("\n").filter(Boolean)) {
                        assert.ok(!arrived.has(l), `line shipped twice: ${l}`);
                        arrived.set(l, at);
                    }
                }
            };
            const writeUntil = Date.now() + 75_000;
            while (Date.now() < writeUntil) {
                await poll();
                await sleep(2000);
            }
            clearInterval(writer);
            await until("every written line in the bucket", 4 * 60_000, async () => {
                await poll();
                return [...written.keys()].every((l) => arrived.has(l)) || undefined;
            });
            // The upload is in; the confirmation (a listing) and the move to shipped/ follow within the round.
            const expected = [...seen].map((k) => k.split("/").pop()!).sort();
            await until(
                "every shipped file marked",
                60_000,
                () => expected.every((n) => fs.existsSync(path.join(shippedDir, n))) || undefined,
            );
            await stopScript(shipper);
            await stopScript(rotator);

            assert.equal(arrived.size, written.size, "nothing but the written lines arrived");
            const delays = [...written].map(([l, t]) => arrived.get(l)! - t);
            const worst = Math.max(...delays);
            console.log(
                `# audit lines: ${written.size}, objects: ${seen.size}, largest write-to-archive delay ${(worst / 1000).toFixed(1)} s (bound ${DELAY_MINUTES * 60} s)`,
            );
            assert.ok(worst <= DELAY_MINUTES * 60_000, `largest delay ${worst} ms exceeds the bound`);
            assert.ok(seen.size >= 2, `at least two rotations shipped (got ${[...seen].join(", ")})`);
            for (const key of seen) assert.match(key, /^vault-0\/\d{8}\/audit\.log\.\d{8}T\d{6}Z\.gz$/);

            // Local state: every rotated file is in shipped/, nothing pending, nothing deleted.
            const shipped = fs.readdirSync(shippedDir).sort();
            assert.deepEqual(shipped, expected);
            assert.deepEqual(
                fs.readdirSync(auditDir).filter((f) => f.endsWith(".gz") || f.includes(".gz.")),
                [],
            );

            const recs = proxy!.records.slice(start);
            const puts = recs.filter((r) => r.method === "PUT");
            assert.equal(puts.length, seen.size, "one PUT per file");

            // The confirmation log: one `confirmed` line per shipped file, with its bytes, stamped no
            // earlier than S3's answer to its PUT; and `caught-up` rounds.
            const conf = confirmations();
            const confirmedLines = conf.filter((c) => c.kind === "confirmed");
            assert.deepEqual(confirmedLines.map((c) => c.name).sort(), expected, "one confirmed line per shipped file");
            for (const c of confirmedLines) {
                assert.equal(c.node, NODE);
                assert.equal(c.size, fs.statSync(path.join(shippedDir, c.name!)).size, `${c.name}: the local size`);
                const put = puts.find((r) => r.url.includes(c.name!))!;
                assert.ok(put.status === 200 && put.answeredAt, `${c.name}: its PUT was answered 200`);
                assert.ok(c.t >= Math.floor(put.answeredAt / 1000), `${c.name}: confirmed after S3 answered the PUT`);
            }
            const caught = conf.filter((c) => c.kind === "caught-up" && c.n! > 0);
            assert.equal(
                caught.reduce((a, c) => a + c.n!, 0),
                seen.size,
                "the caught-up rounds count every shipped file",
            );
            for (const r of puts) {
                assert.equal(r.headers["content-md5"], r.bodyMd5, `${r.url} carries the MD5 of its bytes`);
                assert.equal(refusedByObjectLock(r), false);
                assert.equal(r.headers["x-amz-server-side-encryption"], "aws:kms");
            }
            assert.deepEqual(
                recs.filter(
                    (r) => r.method === "DELETE" || r.method === "HEAD" || (r.method === "GET" && /\.gz/.test(r.url)),
                ),
                [],
                "no delete, no HEAD, no object read",
            );
        });

        it("the shipper's credentials cannot delete a shipped file: 403 on the object and on its version", async () => {
            const [key] = await listKeys();
            const [version] = await versionsOf(key);
            const plain = await asWriter("DELETE", `/${BUCKET}/${key}`);
            assert.equal(plain.status, 403, plain.text);
            const versioned = await asWriter("DELETE", `/${BUCKET}/${key}?versionId=${encodeURIComponent(version)}`);
            assert.equal(versioned.status, 403, versioned.text);
            assert.equal((await root("GET", `/${BUCKET}/${key}`)).status, 200);
            assert.equal((await versionsOf(key)).length, 1);
        });

        it("S3 unreachable: a pending file is neither deleted nor marked, however old; once S3 answers it is shipped", async () => {
            const pendingName = "audit.log.20261101T000000Z.gz";
            const pending = path.join(auditDir, pendingName);
            const body = gz(['{"type":"request","n":"pending-1"}', '{"type":"response","n":"pending-2"}']);
            fs.writeFileSync(pending, body, { mode: 0o600 });
            fs.utimesSync(pending, daysAgo(30), daysAgo(30));
            const expiredShipped = path.join(shippedDir, "audit.log.20261031T000000Z.gz");
            fs.writeFileSync(expiredShipped, gz(["old"]), { mode: 0o600 });
            fs.utimesSync(expiredShipped, daysAgo(30), daysAgo(30));
            const compressing = path.join(auditDir, "audit.log.20261101T010000Z.gz.tmp");
            fs.writeFileSync(compressing, "partial", { mode: 0o600 });

            // The same rendered config, pointed at a port where nothing listens.
            const deadConfig = path.join(tmp, "rclone-dead.conf");
            fs.writeFileSync(
                deadConfig,
                renderShipperRcloneConfig(target) + `endpoint = https://127.0.0.1:${await freePort()}\n`,
                { mode: 0o444 },
            );
            const linesBefore = confirmations().length;
            const shipper = startShipper(deadConfig);
            const rotator = startRotator();
            await until(
                "the shipper reports the failed upload",
                120_000,
                () => /audit\.log\.20261101T000000Z\.gz not confirmed/.test(scripts.output(shipper)) || undefined,
            );
            await until(
                "the rotator deletes the expired confirmed file",
                60_000,
                () => !fs.existsSync(expiredShipped) || undefined,
            );
            await stopScript(shipper);
            await stopScript(rotator);
            assert.ok(fs.existsSync(pending), "the unconfirmed file is still pending");
            assert.equal(md5b64(fs.readFileSync(pending)), md5b64(body));
            assert.ok(!fs.existsSync(path.join(shippedDir, pendingName)), "not marked shipped");
            assert.ok(fs.existsSync(compressing));
            assert.deepEqual(confirmations().slice(linesBefore), [], "S3 unreachable: no confirmation line");

            // Wrong credentials: S3 answers 403 to the PUT; still no line.
            const badSecrets = path.join(tmp, "secrets-wrong");
            fs.mkdirSync(badSecrets, { recursive: true });
            fs.writeFileSync(path.join(badSecrets, "aws-access-key-id"), WRITER.accessKeyId, { mode: 0o400 });
            fs.writeFileSync(path.join(badSecrets, "aws-secret-access-key"), "not-the-secret", { mode: 0o400 });
            const denied = startScript("sh", ["-c", SHIPPER_SCRIPT], {
                ...scriptEnv(liveConfig),
                BONITO_SECRETS_DIR: badSecrets,
            });
            await until(
                "the shipper reports the refused upload",
                120_000,
                () => /audit\.log\.20261101T000000Z\.gz not confirmed/.test(scripts.output(denied)) || undefined,
            );
            await stopScript(denied);
            assert.ok(fs.existsSync(pending) && !fs.existsSync(path.join(shippedDir, pendingName)));
            assert.deepEqual(confirmations().slice(linesBefore), [], "wrong credentials: no confirmation line");

            const live = startShipper(liveConfig);
            await until(
                "the pending file is shipped",
                120_000,
                () => fs.existsSync(path.join(shippedDir, pendingName)) || undefined,
            );
            await stopScript(live);
            const key = `${NODE}/20261101/${pendingName}`;
            const got = await root("GET", `/${BUCKET}/${key}`);
            assert.equal(got.status, 200);
            assert.equal(md5b64(got.body), md5b64(body));
            const after = confirmations().slice(linesBefore);
            assert.deepEqual(
                after.filter((c) => c.kind === "confirmed").map((c) => [c.name, c.size]),
                [[pendingName, body.length]],
                "once S3 answers: the confirmed line",
            );
            assert.ok(!(await listKeys()).some((k) => k.endsWith(".tmp")), "a .gz.tmp is never shipped");
            fs.rmSync(compressing);
        });

        it("a crash between upload and mark: the next round uploads nothing and marks the file", async () => {
            const name = "audit.log.20261101T000000Z.gz";
            const key = `${NODE}/20261101/${name}`;
            fs.renameSync(path.join(shippedDir, name), path.join(auditDir, name));
            const start = proxy!.records.length;
            const shipper = startShipper(liveConfig);
            await until("the file is marked", 120_000, () => fs.existsSync(path.join(shippedDir, name)) || undefined);
            await stopScript(shipper);
            assert.match(scripts.output(shipper), /audit-shipper: shipped audit\.log\.20261101T000000Z\.gz/);
            assert.deepEqual(
                proxy!.records
                    .slice(start)
                    .filter((r) => r.method !== "GET")
                    .map((r) => `${r.method} ${r.url}`),
                [],
                "only listings",
            );
            assert.equal((await versionsOf(key)).length, 1);
        });
    },
);
