/**
 * The snapshot uploader against a real S3 server with Object Lock (`npm run test:s3`).
 *
 * Runs: versitygw v1.8.0 (posix backend, versioning dir, internal IAM) on 127.0.0.1, and the real
 * rclone v1.76.0 binary with exactly the rclone.conf, secret variables and `rclone move` arguments
 * that components/backup/uploaderConfig.ts renders for aws, through a loopback proxy that records
 * every request. Both binaries are built from tools/s3/go.mod by scripts/build-s3-tools.sh.
 *
 * Proves:
 * - every PutObject and every UploadPart rclone sends carries Content-MD5 equal to the MD5 of the
 *   bytes it sent (a 20 MiB single PUT and an 80 MiB multipart upload above the 64 MiB cutoff), so
 *   none would be refused by S3's Object Lock rule; the objects land with their bytes intact and
 *   locked under the bucket's default retention (COMPLIANCE, 1 day);
 * - rclone sends no HEAD, GET of an object or DELETE (the writer's policy allows none), moves only
 *   finished snapshots (`raft-snapshot-*.snap` older than 2 minutes) and deletes a spooled file only
 *   after its upload; a second round uploads nothing and a name already in the bucket is not
 *   written again;
 * - the writer (a versitygw IAM user whose bucket policy grants PutObject and ListBucket only)
 *   cannot delete a snapshot, and not even the root account can delete a locked version;
 * - the uploader container's script, the exact text renderUploaderScript renders (with the loopback
 *   rewrites below), writes one `uploaded` line per snapshot it moved, with its size, stamped no
 *   earlier than S3's 200 to its upload, and none for a snapshot still being written, a file that
 *   is not a snapshot, or a round S3 refused (wrong credentials: 403); Debian's mtail, running the
 *   program renderMtailProgram renders, turns that log into the gauge VaultBackupStale reads, with
 *   the last upload's time;
 * - the agent's old path, a plain PutObject without Content-MD5 (what aws-sdk-go-v2 s3 v1.58.3
 *   sends), is refused by S3's rule as the recorded request shows. versitygw 1.8.0 does not enforce
 *   that rule itself (s3api/middlewares/checksum.go never requires a checksum on streamed PutObject
 *   or UploadPart bodies), so this test applies it to the recorded requests (refusedByObjectLock).
 *
 * Does not prove: real AWS IAM or KMS evaluation (SSE-KMS headers are sent, versitygw ignores them),
 * the GCS and Azure backends (test/s3/clouds.test.ts runs those against emulators), or the containers
 * (image, volumes, file permissions across users).
 *
 * Rewrites of the rendered configuration for loopback, all of them here:
 * - `endpoint = https://127.0.0.1:<proxy port>` is appended to rclone.conf (AWS needs none); the
 *   proxy speaks HTTPS like AWS, because over plain HTTP the AWS SDK signs the payload's SHA-256
 *   and cannot (rclone's body is not seekable), so HTTP would test a different code path;
 * - `--ca-cert <proxy's self-signed certificate>` is added to the rclone arguments;
 * - the two RCLONE_CONFIG_SNAPSHOTS_* variables are read from the test's own 0400 files, as the
 *   container script does from /etc/rclone/secrets;
 * - the spool is a temporary directory instead of /snapshots, the config file a temporary path;
 *   for the script, BONITO_SPOOL_DIR, BONITO_SECRETS_DIR, BONITO_UPLOAD_LOG and RCLONE_CONFIG name
 *   them (the script's defaults are the container paths) and RCLONE_CA_CERT is rclone's --ca-cert.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import {
    rcloneMoveArgs,
    renderRcloneConfig,
    renderUploaderScript,
    uploaderSecretEnv,
    UPLOAD_LOG_NAME,
    UPLOADER_SECRET_FILES,
    type UploadTarget,
} from "../../components/backup/uploaderConfig";
import { renderMtailProgram, securityRules } from "../../components/monitoring/securityRules";
import {
    BIN,
    ensureTools,
    Scripts,
    freePort,
    md5b64,
    refusedByObjectLock,
    run,
    s3Request,
    selfSignedCert,
    startRecordingProxy,
    stop,
    waitForHttp,
    writeFileOfSize,
    type Credentials,
    type Recorded,
} from "./s3";

const REGION = "eu-west-1";
const BUCKET = "bonito-snapshots-test";
const MiB = 1024 * 1024;
const ROOT_CREDS: Credentials = { accessKeyId: "rootaccess", secretAccessKey: "rootsecret-not-for-production" };
const WRITER: Credentials = { accessKeyId: "snapshotwriter", secretAccessKey: "writersecret-not-for-production" };
const target: UploadTarget = {
    kind: "aws",
    bucket: BUCKET,
    region: REGION,
    kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/test",
};

let tmp: string;
let gateway: ChildProcess | undefined;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>> | undefined;
let tools: { rclone: string; versitygw: string };
let gwEndpoint: string;
let spool: string;
let configPath: string;
let certPath: string;
let rcloneEnv: Record<string, string>;
const payloads = new Map<string, Buffer>();

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000);
const root = (method: string, p: string, opts?: Parameters<typeof s3Request>[5]) =>
    s3Request(gwEndpoint, ROOT_CREDS, REGION, method, p, opts);
const asWriter = (method: string, p: string, opts?: Parameters<typeof s3Request>[5]) =>
    s3Request(gwEndpoint, WRITER, REGION, method, p, opts);

async function rcloneRound(): Promise<{ records: Recorded[]; log: string }> {
    const start = proxy!.records.length;
    const r = await run(tools.rclone, [...rcloneMoveArgs(target, spool, configPath), "--ca-cert", certPath], rcloneEnv);
    assert.equal(r.code, 0, `rclone failed:\n${r.stderr}`);
    return { records: proxy!.records.slice(start), log: r.stderr };
}

async function versionsOf(key: string): Promise<string[]> {
    const res = await root("GET", `/${BUCKET}?versions&prefix=${encodeURIComponent(key)}`);
    assert.equal(res.status, 200, res.text);
    return [...res.text.matchAll(/<Version>[\s\S]*?<VersionId>([^<]+)<\/VersionId>[\s\S]*?<\/Version>/g)].map(
        (m) => m[1],
    );
}

describe("snapshot uploader (rclone) into an Object Lock bucket on versitygw", { timeout: 30 * 60_000 }, () => {
    before(async () => {
        tools = ensureTools();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-s3-"));
        for (const d of ["gw", "versions", "iam", "spool", "secrets"]) fs.mkdirSync(path.join(tmp, d));
        spool = path.join(tmp, "spool");

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
                // Root keys by environment, never on the command line.
                env: {
                    PATH: process.env.PATH ?? "",
                    ROOT_ACCESS_KEY: ROOT_CREDS.accessKeyId,
                    ROOT_SECRET_KEY: ROOT_CREDS.secretAccessKey,
                },
                stdio: ["ignore", "ignore", "inherit"],
            },
        );
        await waitForHttp(gwEndpoint, gateway, 30_000);

        // The writer: a plain IAM user; what it may do comes from the bucket policy below.
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
        // The same grants as awsWriterPolicy (components/backup/iam.ts), as a bucket policy.
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

        // Exactly the rendered config plus the endpoint (rewrites listed at the top).
        configPath = path.join(tmp, "rclone.conf");
        fs.writeFileSync(configPath, renderRcloneConfig(target) + `endpoint = https://127.0.0.1:${proxy.httpsPort}\n`, {
            mode: 0o444,
        });
        // The container script's `NAME="$(cat <file>)"`, from the test's own 0400 files.
        const secretValues: Record<string, string> = {
            [UPLOADER_SECRET_FILES.awsAccessKeyId]: WRITER.accessKeyId,
            [UPLOADER_SECRET_FILES.awsSecretAccessKey]: WRITER.secretAccessKey,
        };
        rcloneEnv = {};
        for (const [name, containerPath] of Object.entries(uploaderSecretEnv(target))) {
            const local = path.join(tmp, "secrets", path.basename(containerPath));
            fs.writeFileSync(local, secretValues[containerPath], { mode: 0o400 });
            rcloneEnv[name] = fs.readFileSync(local, "utf8");
        }
        assert.deepStrictEqual(Object.keys(rcloneEnv), [
            "RCLONE_CONFIG_SNAPSHOTS_ACCESS_KEY_ID",
            "RCLONE_CONFIG_SNAPSHOTS_SECRET_ACCESS_KEY",
        ]);
    });

    after(async () => {
        await proxy?.close();
        await stop(gateway);
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("the bucket is versioned and locked by default (COMPLIANCE, 1 day)", async () => {
        const v = await root("GET", `/${BUCKET}?versioning`);
        assert.match(v.text, /<Status>Enabled<\/Status>/);
        const l = await root("GET", `/${BUCKET}?object-lock`);
        assert.match(l.text, /<Mode>COMPLIANCE<\/Mode>/);
        assert.match(l.text, /<Days>1<\/Days>/);
    });

    it("moves finished snapshots with Content-MD5 on every PUT and part; leaves the rest", async () => {
        const files: [string, number, Date][] = [
            ["raft-snapshot-2026-11-30T10-00-00Z.snap", 20 * MiB, ago(10)],
            ["raft-snapshot-2026-11-30T11-00-00Z.snap", 80 * MiB, ago(10)],
            // Still being written by the agent (younger than --min-age 2m): must wait.
            ["raft-snapshot-2026-11-30T12-00-00Z.snap", 1 * MiB, new Date()],
            // Not a snapshot: never uploaded.
            ["notes.txt", 1024, ago(10)],
        ];
        for (const [name, size, mtime] of files) {
            payloads.set(name, writeFileOfSize(path.join(spool, name), size));
            fs.utimesSync(path.join(spool, name), mtime, mtime);
        }

        const { records, log } = await rcloneRound();

        assert.deepStrictEqual(fs.readdirSync(spool).sort(), ["notes.txt", "raft-snapshot-2026-11-30T12-00-00Z.snap"]);

        const writes = records.filter((r) => r.method === "PUT");
        const single = writes.filter((r) => r.url.startsWith(`/${BUCKET}/raft-snapshot-2026-11-30T10-00-00Z.snap`));
        assert.equal(single.length, 1, log);
        assert.equal(
            single[0].headers["content-md5"],
            md5b64(payloads.get("raft-snapshot-2026-11-30T10-00-00Z.snap")!),
        );
        const parts = writes.filter((r) => r.url.includes("partNumber="));
        assert.equal(parts.length, 5, "80 MiB in 16 MiB parts");
        for (const r of writes) {
            assert.ok(r.headers["content-md5"], `${r.method} ${r.url} has Content-MD5`);
            assert.equal(r.headers["content-md5"], r.bodyMd5, `Content-MD5 of ${r.url} matches the bytes sent`);
            assert.equal(refusedByObjectLock(r), false);
            assert.ok((r.status ?? 0) < 300, `${r.url} → ${r.status}`);
        }
        assert.equal(writes.length, 6);
        // SSE-KMS under the bucket key is asked for where S3 takes it: the PUT and the multipart start.
        const starts = records.filter((r) => r.method === "POST" && r.url.includes("uploads"));
        assert.equal(starts.length, 1);
        for (const r of [...single, ...starts]) {
            assert.equal(r.headers["x-amz-server-side-encryption"], "aws:kms");
            assert.equal(r.headers["x-amz-server-side-encryption-aws-kms-key-id"], target.kmsKeyArn);
        }
        assert.deepStrictEqual(
            records.filter(
                (r) => r.method === "DELETE" || r.method === "HEAD" || (r.method === "GET" && /\.snap/.test(r.url)),
            ),
            [],
            "no delete, no HEAD, no object read",
        );

        for (const name of ["raft-snapshot-2026-11-30T10-00-00Z.snap", "raft-snapshot-2026-11-30T11-00-00Z.snap"]) {
            const got = await root("GET", `/${BUCKET}/${name}`);
            assert.equal(got.status, 200);
            assert.equal(got.body.length, payloads.get(name)!.length);
            assert.equal(md5b64(got.body), md5b64(payloads.get(name)!), `${name} intact`);
            assert.equal((await versionsOf(name)).length, 1);
        }
    });

    it("a second round uploads nothing; a name already in the bucket is not written again and stays local", async () => {
        const name = "raft-snapshot-2026-11-30T10-00-00Z.snap";
        // rclone applies --min-age to the bucket listing too (filters apply to both sides), so an
        // object younger than 2 minutes is invisible to it; the uploader's rounds are 5 minutes
        // apart. Age the object as the next round would see it: versitygw's posix backend takes
        // LastModified from the file's mtime.
        fs.utimesSync(path.join(tmp, "gw", BUCKET, name), ago(5), ago(5));
        writeFileOfSize(path.join(spool, name), 1024);
        fs.utimesSync(path.join(spool, name), ago(10), ago(10));
        const { records } = await rcloneRound();
        assert.deepStrictEqual(
            records.filter((r) => r.method !== "GET"),
            [],
            "only listings",
        );
        assert.ok(fs.existsSync(path.join(spool, name)));
        assert.equal((await versionsOf(name)).length, 1);
        fs.rmSync(path.join(spool, name));
    });

    it("the writer cannot delete a snapshot, neither the current object nor its version", async () => {
        const name = "raft-snapshot-2026-11-30T11-00-00Z.snap";
        const [version] = await versionsOf(name);
        const plain = await asWriter("DELETE", `/${BUCKET}/${name}`);
        assert.equal(plain.status, 403, plain.text);
        const versioned = await asWriter("DELETE", `/${BUCKET}/${name}?versionId=${encodeURIComponent(version)}`);
        assert.equal(versioned.status, 403, versioned.text);
        assert.equal((await root("GET", `/${BUCKET}/${name}`)).status, 200);
    });

    it("retention binds even the root account: deleting the locked version is refused", async () => {
        const name = "raft-snapshot-2026-11-30T10-00-00Z.snap";
        const [version] = await versionsOf(name);
        const res = await root("DELETE", `/${BUCKET}/${name}?versionId=${encodeURIComponent(version)}`);
        assert.ok(res.status >= 400, `${res.status} ${res.text}`);
        assert.match(res.text, /locked|AccessDenied/i);
        assert.deepStrictEqual(await versionsOf(name), [version]);
        assert.equal((await root("GET", `/${BUCKET}/${name}`)).status, 200);
    });

    it("the agent's old path, a PutObject without Content-MD5, is one S3 refuses on this bucket", async () => {
        const body = Buffer.alloc(64 * 1024, 7);
        const start = proxy!.records.length;
        const res = await s3Request(
            `http://127.0.0.1:${proxy!.httpPort}`,
            WRITER,
            REGION,
            "PUT",
            `/${BUCKET}/raft-snapshot-direct.snap`,
            { body },
        );
        const [rec] = proxy!.records.slice(start);
        assert.equal(rec.method, "PUT");
        assert.equal(rec.headers["content-md5"], undefined);
        assert.equal(
            refusedByObjectLock(rec),
            true,
            "AWS answers 400 InvalidRequest (Content-MD5 OR x-amz-checksum-*)",
        );
        // versitygw 1.8.0 itself accepts it (it does not enforce the rule): say so, so a newer
        // versitygw that does enforce it shows up here.
        assert.equal(res.status, 200, res.text);
    });

    describe("the container script and its log (VaultBackupStale's signal)", () => {
        let spool2: string;
        let logFile: string;
        const scripts = new Scripts();
        const lines = () =>
            fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").split("\n").filter(Boolean) : [];

        /** The rendered script for an hourly schedule (rounds 5 minutes apart: one round per run here). */
        function startUploader(secretsDir: string): ChildProcess {
            return scripts.start("sh", ["-c", renderUploaderScript(target, 3600), "snapshot-uploader"], {
                PATH: `${BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`,
                HOME: tmp,
                BONITO_SPOOL_DIR: spool2,
                BONITO_SECRETS_DIR: secretsDir,
                BONITO_UPLOAD_LOG: logFile,
                RCLONE_CONFIG: configPath,
                RCLONE_CA_CERT: certPath,
            });
        }
        /** Until the round is over: the script sleeps (the next command after the log lines) in its process group. */
        async function roundDone(p: ChildProcess, timeoutMs = 120_000): Promise<string> {
            const until = Date.now() + timeoutMs;
            while (Date.now() < until) {
                if (p.exitCode !== null) assert.fail(`uploader script exited ${p.exitCode}:\n${scripts.output(p)}`);
                const sleeping = spawnSync("pgrep", ["-g", String(p.pid), "-x", "sleep"]).status === 0;
                if (sleeping) return scripts.output(p);
                await new Promise((r) => setTimeout(r, 250));
            }
            assert.fail(`no round finished in ${timeoutMs} ms:\n${scripts.output(p)}`);
        }
        const kill = (p: ChildProcess) => scripts.stop(p);

        before(() => {
            spool2 = path.join(tmp, "spool-script");
            fs.mkdirSync(spool2);
            logFile = path.join(tmp, "upload-log", UPLOAD_LOG_NAME);
            fs.mkdirSync(path.dirname(logFile));
        });
        after(() => scripts.stopAll());

        it("wrong credentials (403): the round fails, nothing is logged, the snapshot stays", async () => {
            const wrong = path.join(tmp, "secrets-wrong");
            fs.mkdirSync(wrong);
            fs.writeFileSync(path.join(wrong, "aws-access-key-id"), WRITER.accessKeyId, { mode: 0o400 });
            fs.writeFileSync(path.join(wrong, "aws-secret-access-key"), "not-the-secret", { mode: 0o400 });
            const name = "raft-snapshot-2026-12-01T00-00-00Z.snap";
            writeFileOfSize(path.join(spool2, name), 64 * 1024);
            fs.utimesSync(path.join(spool2, name), ago(10), ago(10));
            const start = proxy!.records.length;
            const p = startUploader(wrong);
            const out = await roundDone(p);
            await kill(p);
            assert.match(out, /round failed \(rclone exit [1-9]/);
            assert.ok(
                proxy!.records.slice(start).some((r) => r.status === 403),
                "S3 answered 403 to the wrong signature",
            );
            assert.ok(fs.existsSync(logFile), "the log exists from the start (mtail finds it)");
            assert.deepStrictEqual(lines(), []);
            assert.ok(fs.existsSync(path.join(spool2, name)));
        });

        it("one `uploaded` line per snapshot moved, with its size, after S3's 200; none for the rest", async () => {
            const files: [string, number, Date][] = [
                ["raft-snapshot-2026-12-01T00-00-00Z.snap", 64 * 1024, ago(10)], // left by the failed round
                ["raft-snapshot-2026-12-01T01-00-00Z.snap", 3 * MiB, ago(10)],
                ["raft-snapshot-2026-12-01T02-00-00Z.snap", 1 * MiB, new Date()], // still being written
                ["notes.txt", 1024, ago(10)],
            ];
            for (const [name, size, mtime] of files.slice(1)) {
                writeFileOfSize(path.join(spool2, name), size);
                fs.utimesSync(path.join(spool2, name), mtime, mtime);
            }
            const start = proxy!.records.length;
            const p = startUploader(path.join(tmp, "secrets"));
            const out = await roundDone(p);
            await kill(p);
            assert.doesNotMatch(out, /round failed/);

            const got = lines().map((l) => {
                const m = /^(\d+) uploaded (\S+) (\d+) (\S+)$/.exec(l);
                assert.ok(m, `line format: ${l}`);
                return { t: Number(m[1]), name: m[2], size: Number(m[3]), dest: m[4] };
            });
            assert.deepStrictEqual(
                got.map(({ name, size, dest }) => ({ name, size, dest })).sort((a, b) => a.name.localeCompare(b.name)),
                files.slice(0, 2).map(([name, size]) => ({ name, size, dest: `snapshots:${BUCKET}` })),
            );
            const records = proxy!.records.slice(start);
            for (const g of got) {
                const put = records.find((r) => r.method === "PUT" && r.url.startsWith(`/${BUCKET}/${g.name}`));
                assert.ok(put?.status === 200 && put.answeredAt, `${g.name}: its PUT was answered 200`);
                assert.ok(g.t >= Math.floor(put.answeredAt / 1000), `${g.name}: logged after S3 answered`);
                const obj = await root("GET", `/${BUCKET}/${g.name}`);
                assert.equal(obj.body.length, g.size, `${g.name} in the bucket at the logged size`);
            }
            assert.deepStrictEqual(fs.readdirSync(spool2).sort(), [
                "notes.txt",
                "raft-snapshot-2026-12-01T02-00-00Z.snap",
            ]);
        });

        it("mtail, running the rendered program over this log, sets the gauge to the last upload's time", () => {
            const progs = path.join(tmp, "mtail-progs");
            fs.mkdirSync(progs);
            fs.writeFileSync(
                path.join(progs, "vault-audit.mtail"),
                renderMtailProgram(securityRules({ sensitivePaths: [], snapshotRoles: ["snapshot-agent"] })),
            );
            const out = execFileSync(
                "mtail",
                ["--logtostderr", "--one_shot", "--one_shot_format", "prometheus", "--progs", progs, "--logs", logFile],
                { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
            );
            const m = /^bonito_backup_last_upload_timestamp_seconds\{[^}]*\} (\S+)$/m.exec(out);
            assert.ok(m, out);
            assert.equal(Number(m[1]), Math.max(...lines().map((l) => Number(l.split(" ")[0]))));
        });
    });
});
