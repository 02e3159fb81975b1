/**
 * The snapshot uploader and the audit shipper against GCS and Azure emulators (`npm run test:s3`).
 *
 * Runs: fake-gcs-server v1.56.1 (GCS JSON API, filesystem backend; built from tools/gcs/go.mod) and
 * Azurite 3.37.0 (blob service, the npm devDependency) on 127.0.0.1, each behind a recording loopback
 * proxy, and the real rclone v1.76.0 with exactly what the program renders for `gcp` and `azure`:
 * components/backup/uploaderConfig.ts (renderRcloneConfig, uploaderSecretEnv, rcloneMoveArgs) and
 * components/audit/shipper.ts (renderShipperRcloneConfig, and the text of renderShipperScript run
 * with `sh -c`, as test/s3/audit-ship.test.ts runs it). GCS auth is rclone's real service-account
 * flow: the rendered `service_account_file` holds a key the test generated, rclone signs an RS256
 * JWT and trades it at the key's `token_uri`, a loopback token endpoint here that checks the
 * signature and claims and issues an opaque token; the proxy in front of fake-gcs-server lets only
 * requests bearing an issued token through. Azure auth is the account key (SharedKey), which
 * Azurite verifies itself.
 *
 * Proves, for each cloud:
 * - `rclone move` with the rendered args moves only finished snapshots (`raft-snapshot-*.snap`
 *   older than 2 minutes: a young snapshot and another file stay), each arrives with its bytes
 *   (a 20 MiB file: GCS resumable upload, Azure block list; and a small one) and the store's MD5 of
 *   it equals the local MD5 (GCS computes it; on Azure it is the Content-MD5 rclone sent, so
 *   `disable_checksum = false` takes effect); rclone's log shows each file copied before it is
 *   deleted locally; no DELETE reaches the store; a second round uploads nothing;
 * - with the emulator down, and with a wrong credential (GCS: a key the token endpoint refuses;
 *   Azure: a wrong account key, refused 403 by Azurite), a round fails and every spooled snapshot
 *   stays, byte for byte; the next good round moves it;
 * - the shipper script ships a rotated file to `<bucket|container>/vault-0/<day>/`, writes its
 *   `confirmed` line with the local size and a `caught-up` line, and moves the file to shipped/;
 *   after a crash between upload and mark the next round uploads nothing and marks it; with the
 *   emulator down (and with a wrong credential) a pending file is neither marked nor moved and no
 *   line is written, and it ships once the emulator is back;
 * - GCS only: every request carries a token from the JWT flow (the scope rclone asks for is
 *   printed and checked), and rclone needs nothing beyond GCP_WRITER_ROLES (components/backup/iam.ts):
 *   the proxy refuses object reads (storage.objects.get) and deletes (storage.objects.delete) with
 *   403, as GCS IAM would for those roles. That refusal is this test's restatement of the roles,
 *   not GCS's IAM.
 *
 * Does not prove (what the emulators do not do; checked in their sources):
 * - write-once: fake-gcs-server v1.56.1 has no bucket retention policy at all (no
 *   `retentionPolicy` in its bucket API; deletes and overwrites never consult retention or holds;
 *   only an object's own `retention` field is kept and guarded against being relaxed). Azurite
 *   3.37.0 lists "Blob Immutability Policy and Legal Hold" and "Version Level Worm" as not
 *   supported (README; its setImmutabilityPolicy/setLegalHold handlers throw NotImplemented), and
 *   container immutability policies are an Azure Resource Manager feature no emulator serves. So
 *   GCS locked retention and Azure immutability policies, which protect the objects here in
 *   production, are not exercised: an overwrite or delete would succeed on both emulators;
 * - IAM: fake-gcs-server checks no credential at all (the proxy's token check and grant
 *   refusals are ours); Azurite checks the shared key, which is account-wide (read, write, delete),
 *   so on Azure the writer's inability to delete rests on the immutability policy alone, which
 *   is not tested here;
 * - TLS to the real endpoints (the emulators speak plain HTTP on loopback), KMS/CMEK, real GCS
 *   or Azure error and throttling behaviour, the containers (image, uid, mounts).
 *
 * Rewrites of the rendered configuration for loopback, all of them here:
 * - GCS: `endpoint = http://127.0.0.1:<proxy>/storage/v1/` appended (rclone's GCS `endpoint`
 *   option, option.WithEndpoint); the rendered `service_account_file` path (the container's
 *   /etc/rclone/secrets/gcp-credentials.json) replaced by the test's 0400 copy, whose `token_uri`
 *   points at the loopback token endpoint;
 * - Azure: `endpoint = http://127.0.0.1:<proxy>/<account>` appended (Azurite's path-style URL);
 *   RCLONE_CONFIG_<REMOTE>_KEY read from the test's 0400 file (the container script's own step);
 * - BONITO_AUDIT_DIR, BONITO_SECRETS_DIR, RCLONE_CONFIG and the spool are temporary paths;
 * - only in the uploader's failing rounds, `--retries 1 --low-level-retries 2` is appended to the
 *   rendered move args: with rclone's defaults a round against a stopped GCS emulator took 103 s
 *   before failing (measured), which is harmless in production (the next round is minutes away)
 *   but too long for this tier. The shipper's script runs unmodified (it sets its own retries);
 * - Azurite runs with `--skipApiVersionCheck`: rclone v1.76.0's Azure SDK sends x-ms-version
 *   2026-12-06, newer than Azurite 3.37.0 knows, and Azurite refuses every such request with 400
 *   otherwise (real Azure accepts it).
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import type * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { after, before, describe, it } from "node:test";
import { CONFIRM_LOG, renderShipperRcloneConfig, renderShipperScript } from "../../components/audit/shipper";
import {
    rcloneMoveArgs,
    renderRcloneConfig,
    uploaderSecretEnv,
    UPLOADER_SECRET_FILES,
    type UploadTarget,
} from "../../components/backup/uploaderConfig";
import { azureRequest, startAzurite, startFakeGcs, startGateProxy, startTokenEndpoint, type Seen } from "./emulators";
import { BIN, ensureTools, readConfirmations, run, Scripts, stop, until as untilEvery, writeFileOfSize } from "./s3";

const MiB = 1024 * 1024;
const NODE = "vault-0";
const DELAY_MINUTES = 2;
/** Appended to the rendered move args only in the failing rounds (see the header). */
const FAST_FAIL = ["--retries", "1", "--low-level-retries", "1"];
const md5hex = (b: Buffer) => createHash("md5").update(b).digest("hex");
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000);
const until = <T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined) =>
    untilEvery(what, ms, probe, 500);
const gz = (lines: string[]) => zlib.gzipSync(Buffer.from(lines.map((l) => `${l}\n`).join("")));

/** What the suite needs from one cloud's emulator. */
interface Cloud {
    kind: "gcp" | "azure";
    snapshots: UploadTarget;
    audit: UploadTarget;
    /** Starts the emulator and proxy, creates the bucket/container, writes the 0400 secret files to `secrets`. */
    start(tmp: string, secrets: string): Promise<void>;
    stopEmulator(): Promise<void>;
    startEmulator(): Promise<void>;
    close(): Promise<void>;
    /** The rendered config plus the loopback rewrites. */
    liveConfig(rendered: string): string;
    /** The value of each secret file, by its container path. */
    secretValues(): Record<string, string>;
    /** A secret set the store refuses, by container path (written to another folder). */
    wrongSecretValues(): Record<string, string>;
    /** A config whose credential the store refuses, when the credential lives in the config (GCS). */
    wrongConfig(rendered: string): string;
    /** Objects (name → {size, md5 hex as the store reports it}) under a prefix, read directly from the emulator. */
    list(bucket: string, prefix: string): Promise<Map<string, { size: number; md5: string }>>;
    get(bucket: string, name: string): Promise<Buffer>;
    seen(): Seen[];
}

function gcsCloud(): Cloud {
    let fake: { proc: ChildProcess; port: number } | undefined;
    let dataDir = "";
    let proxy: Awaited<ReturnType<typeof startGateProxy>>;
    let token: Awaited<ReturnType<typeof startTokenEndpoint>>;
    let saFile = "";
    let wrongSaFile = "";
    const snapshots: UploadTarget = { kind: "gcp", bucket: "bonito-snapshots-test" };
    const audit: UploadTarget = { kind: "gcp", bucket: "bonito-audit-test" };
    const email = "bonito-writer@bonito-test.iam.gserviceaccount.com";
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const direct = () => `http://127.0.0.1:${fake!.port}`;
    const saJson = (privateKeyPem: string, tokenUri: string) =>
        JSON.stringify({
            type: "service_account",
            project_id: "bonito-test",
            private_key_id: "test-key-1",
            private_key: privateKeyPem,
            client_email: email,
            client_id: "100000000000000000001",
            token_uri: tokenUri,
        });
    // GCP_WRITER_ROLES restated: objects.create, objects.list, buckets.get; no objects.get, no delete.
    const gate = (req: http.IncomingMessage): string | undefined => {
        const auth = String(req.headers.authorization ?? "");
        if (!token.issued.some((t) => auth === `Bearer ${t}`)) return "no token from the JWT flow";
        const u = new URL(req.url ?? "/", "http://x");
        if (req.method === "DELETE") return "storage.objects.delete not granted";
        if (
            req.method === "GET" &&
            (/^\/storage\/v1\/b\/[^/]+\/o\/.+/.test(u.pathname) || u.pathname.startsWith("/download/"))
        )
            return "storage.objects.get not granted";
        return undefined;
    };
    return {
        kind: "gcp",
        snapshots,
        audit,
        async start(tmp, secrets) {
            dataDir = path.join(tmp, "gcs-data");
            token = await startTokenEndpoint({
                clientEmail: email,
                publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
            });
            proxy = await startGateProxy(() => fake!.port, gate);
            await this.startEmulator();
            for (const b of [snapshots, audit]) {
                const res = await fetch(`${direct()}/storage/v1/b?project=bonito-test`, {
                    method: "POST",
                    headers: { "content-type": "application/json" },
                    body: JSON.stringify({ name: (b as { bucket: string }).bucket }),
                });
                assert.equal(res.status, 200, await res.text());
            }
            saFile = path.join(secrets, path.basename(UPLOADER_SECRET_FILES.gcpCredentials));
            fs.writeFileSync(
                saFile,
                saJson(keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), token.url),
                { mode: 0o400 },
            );
            const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
            wrongSaFile = path.join(tmp, "wrong-gcp-credentials.json");
            fs.writeFileSync(
                wrongSaFile,
                saJson(other.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), token.url),
                { mode: 0o400 },
            );
        },
        async startEmulator() {
            fake = await startFakeGcs(dataDir, () => `http://127.0.0.1:${proxy.port}`);
        },
        async stopEmulator() {
            await stop(fake?.proc);
        },
        async close() {
            await proxy?.close();
            await token?.close();
            await stop(fake?.proc);
        },
        liveConfig(rendered) {
            const line = `service_account_file = ${UPLOADER_SECRET_FILES.gcpCredentials}`;
            assert.ok(rendered.includes(`${line}\n`), "the rendered config names the container's key file");
            return (
                rendered.replace(line, `service_account_file = ${saFile}`) +
                `endpoint = http://127.0.0.1:${proxy.port}/storage/v1/\n`
            );
        },
        wrongConfig(rendered) {
            return this.liveConfig(rendered).replace(
                `service_account_file = ${saFile}`,
                `service_account_file = ${wrongSaFile}`,
            );
        },
        secretValues: () => ({}),
        wrongSecretValues: () => ({}),
        async list(bucket, prefix) {
            const res = await fetch(`${direct()}/storage/v1/b/${bucket}/o?prefix=${encodeURIComponent(prefix)}`);
            assert.equal(res.status, 200);
            const body = (await res.json()) as { items?: { name: string; size: string; md5Hash: string }[] };
            return new Map(
                (body.items ?? []).map((o) => [
                    o.name,
                    { size: Number(o.size), md5: Buffer.from(o.md5Hash, "base64").toString("hex") },
                ]),
            );
        },
        async get(bucket, name) {
            const res = await fetch(`${direct()}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`);
            assert.equal(res.status, 200);
            return Buffer.from(await res.arrayBuffer());
        },
        seen: () => proxy.seen,
        // Exposed for the GCS-only assertions.
        ...({ tokens: () => token } as object),
    } as Cloud;
}

function azureCloud(): Cloud {
    const account = "bonitosnapshots";
    const key = randomBytes(64).toString("base64");
    const snapshots: UploadTarget = { kind: "azure", accountName: account, container: "snapshots" };
    const audit: UploadTarget = { kind: "azure", accountName: account, container: "audit" };
    let azurite: { proc: ChildProcess; port: number } | undefined;
    let dataDir = "";
    let proxy: Awaited<ReturnType<typeof startGateProxy>>;
    const direct = () => `http://127.0.0.1:${azurite!.port}`;
    const az = (method: string, p: string) => azureRequest(direct(), account, key, method, p);
    return {
        kind: "azure",
        snapshots,
        audit,
        async start(tmp) {
            dataDir = path.join(tmp, "azurite");
            fs.mkdirSync(dataDir);
            proxy = await startGateProxy(() => azurite!.port);
            await this.startEmulator();
            for (const c of ["snapshots", "audit"]) {
                const res = await az("PUT", `/${c}?restype=container`);
                assert.equal(res.status, 201, res.text);
            }
        },
        async startEmulator() {
            azurite = await startAzurite(dataDir, account, key);
        },
        async stopEmulator() {
            await stop(azurite?.proc);
        },
        async close() {
            await proxy?.close();
            await stop(azurite?.proc);
        },
        liveConfig: (rendered) => rendered + `endpoint = http://127.0.0.1:${proxy.port}/${account}\n`,
        wrongConfig: (rendered) => rendered + `endpoint = http://127.0.0.1:${proxy.port}/${account}\n`,
        secretValues: () => ({ [UPLOADER_SECRET_FILES.azureAccountKey]: key }),
        wrongSecretValues: () => ({ [UPLOADER_SECRET_FILES.azureAccountKey]: randomBytes(64).toString("base64") }),
        async list(container, prefix) {
            const res = await az(
                "GET",
                `/${container}?restype=container&comp=list&prefix=${encodeURIComponent(prefix)}`,
            );
            assert.equal(res.status, 200, res.text);
            const out = new Map<string, { size: number; md5: string }>();
            for (const m of res.text.matchAll(/<Blob>([\s\S]*?)<\/Blob>/g)) {
                const name = /<Name>([^<]+)<\/Name>/.exec(m[1])![1];
                const size = Number(/<Content-Length>(\d+)<\/Content-Length>/.exec(m[1])![1]);
                const md5b64 = /<Content-MD5>([^<]*)<\/Content-MD5>/.exec(m[1])?.[1] ?? "";
                out.set(name, { size, md5: Buffer.from(md5b64, "base64").toString("hex") });
            }
            return out;
        },
        async get(container, name) {
            const res = await az("GET", `/${container}/${name}`);
            assert.equal(res.status, 200, res.text);
            return res.body;
        },
        seen: () => proxy.seen,
    };
}

function suite(cloud: Cloud): void {
    let tmp = "";
    let spool = "";
    let secrets = "";
    let wrongSecrets = "";
    let auditDir = "";
    let shippedDir = "";
    let uploaderConfig = "";
    let uploaderWrongConfig = "";
    let shipperConfig = "";
    let shipperWrongConfig = "";
    const payloads = new Map<string, Buffer>();
    const scripts = new Scripts();
    const bucketOf = (t: UploadTarget) => (t.kind === "azure" ? t.container : t.kind === "gcp" ? t.bucket : "");
    const SNAP_BUCKET = bucketOf(cloud.snapshots);
    const AUDIT_BUCKET = bucketOf(cloud.audit);
    const SHIPPER_SCRIPT = renderShipperScript(cloud.audit, NODE, DELAY_MINUTES);

    /** The container script's `NAME="$(cat <0400 file>)"` for the uploader's variables. */
    function uploaderEnv(dir: string): Record<string, string> {
        const env: Record<string, string> = {};
        for (const [name, containerPath] of Object.entries(uploaderSecretEnv(cloud.snapshots)))
            env[name] = fs.readFileSync(path.join(dir, path.basename(containerPath)), "utf8");
        return env;
    }

    async function moveRound(opts: { config?: string; secretsDir?: string; extra?: string[] } = {}) {
        const start = cloud.seen().length;
        const t0 = Date.now();
        const r = await run(
            path.join(BIN, "rclone"),
            [...rcloneMoveArgs(cloud.snapshots, spool, opts.config ?? uploaderConfig), ...(opts.extra ?? [])],
            uploaderEnv(opts.secretsDir ?? secrets),
        );
        return { ...r, seen: cloud.seen().slice(start), seconds: (Date.now() - t0) / 1000 };
    }

    function writeSecrets(dir: string, values: Record<string, string>): void {
        fs.mkdirSync(dir, { recursive: true });
        for (const [containerPath, value] of Object.entries(values))
            fs.writeFileSync(path.join(dir, path.basename(containerPath)), value, { mode: 0o400 });
    }

    function startShipper(config: string, secretsDir = secrets): ChildProcess {
        return scripts.start("sh", ["-c", SHIPPER_SCRIPT], {
            PATH: `${BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`,
            HOME: tmp,
            BONITO_AUDIT_DIR: auditDir,
            BONITO_SECRETS_DIR: secretsDir,
            RCLONE_CONFIG: config,
        });
    }
    const stopShipper = (p: ChildProcess) => scripts.stop(p);

    /** The confirmation log without the times (test/s3/audit-ship.test.ts checks those against S3's answers). */
    const confirmations = () => readConfirmations(auditDir, CONFIRM_LOG).map(({ t: _t, ...rest }) => rest);

    const writes = (seen: Seen[]) => seen.filter((r) => r.method === "PUT" || r.method === "POST");

    describe(
        `${cloud.kind}: snapshot uploader and audit shipper (rclone) on ${cloud.kind === "gcp" ? "fake-gcs-server" : "Azurite"}`,
        { timeout: 10 * 60_000 },
        () => {
            before(async () => {
                ensureTools();
                tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bonito-${cloud.kind}-`));
                spool = path.join(tmp, "spool");
                secrets = path.join(tmp, "secrets");
                wrongSecrets = path.join(tmp, "secrets-wrong");
                auditDir = path.join(tmp, "audit");
                shippedDir = path.join(auditDir, "shipped");
                for (const d of [spool, secrets, auditDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
                await cloud.start(tmp, secrets);
                writeSecrets(secrets, cloud.secretValues());
                writeSecrets(wrongSecrets, cloud.wrongSecretValues());
                const write = (name: string, text: string) => {
                    const p = path.join(tmp, name);
                    fs.writeFileSync(p, text, { mode: 0o444 });
                    return p;
                };
                uploaderConfig = write("uploader.conf", cloud.liveConfig(renderRcloneConfig(cloud.snapshots)));
                uploaderWrongConfig = write(
                    "uploader-wrong.conf",
                    cloud.wrongConfig(renderRcloneConfig(cloud.snapshots)),
                );
                shipperConfig = write("shipper.conf", cloud.liveConfig(renderShipperRcloneConfig(cloud.audit)));
                shipperWrongConfig = write(
                    "shipper-wrong.conf",
                    cloud.wrongConfig(renderShipperRcloneConfig(cloud.audit)),
                );
            });

            after(async () => {
                await scripts.stopAll();
                await cloud.close();
                if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
            });

            it("uploader: moves only finished snapshots, each copied before its local file is deleted, bytes and MD5 intact", async () => {
                const files: [string, number, Date][] = [
                    ["raft-snapshot-2026-11-30T10-00-00Z.snap", 20 * MiB, ago(10)],
                    ["raft-snapshot-2026-11-30T11-00-00Z.snap", 256 * 1024, ago(10)],
                    // Still being written by the agent (younger than --min-age 2m): must wait.
                    ["raft-snapshot-2026-11-30T12-00-00Z.snap", 64 * 1024, new Date()],
                    // Not a snapshot: never uploaded.
                    ["notes.txt", 1024, ago(10)],
                ];
                for (const [name, size, mtime] of files) {
                    payloads.set(name, writeFileOfSize(path.join(spool, name), size));
                    fs.utimesSync(path.join(spool, name), mtime, mtime);
                }
                const r = await moveRound();
                assert.equal(r.code, 0, r.stderr);
                console.log(`# ${cloud.kind} first move round: ${r.seconds.toFixed(1)} s, ${r.seen.length} requests`);
                assert.deepEqual(fs.readdirSync(spool).sort(), [
                    "notes.txt",
                    "raft-snapshot-2026-11-30T12-00-00Z.snap",
                ]);

                const objects = await cloud.list(SNAP_BUCKET, "");
                assert.deepEqual([...objects.keys()].sort(), [
                    "raft-snapshot-2026-11-30T10-00-00Z.snap",
                    "raft-snapshot-2026-11-30T11-00-00Z.snap",
                ]);
                for (const [name, o] of objects) {
                    const local = payloads.get(name)!;
                    assert.equal(o.size, local.length, `${name} size`);
                    assert.equal(o.md5, md5hex(local), `${name}: the store's MD5 is the local MD5`);
                    assert.equal(md5hex(await cloud.get(SNAP_BUCKET, name)), md5hex(local), `${name} bytes intact`);
                    // rclone's own order: the copy is logged before the delete of the local file.
                    const copied = r.stderr.search(new RegExp(`${name.replace(/\./g, "\\.")}: Copied \\(new\\)`));
                    const deleted = r.stderr.search(new RegExp(`${name.replace(/\./g, "\\.")}: Deleted`));
                    assert.ok(copied >= 0 && deleted > copied, `${name}: copied, then deleted locally\n${r.stderr}`);
                }
                assert.deepEqual(
                    r.seen.filter((s) => s.method === "DELETE"),
                    [],
                    "no delete reaches the store",
                );
                assert.ok(writes(r.seen).length >= 2, "uploads went through the proxy");
                // The 20 MiB snapshot took the large-object path: above the Google API client's 16 MiB
                // default chunk a resumable upload; above rclone's 4 MiB azureblob chunk a block list.
                const large = cloud.kind === "gcp" ? /uploadType=resumable/ : /comp=blocklist/;
                assert.ok(
                    writes(r.seen).some((s) => large.test(s.url)),
                    writes(r.seen)
                        .map((s) => `${s.method} ${s.url}`)
                        .join("\n"),
                );
                if (cloud.kind === "gcp")
                    // Uniform bucket-level access refuses an upload that names an object ACL (400):
                    // `bucket_policy_only = true` is what keeps rclone from sending its default `private`.
                    for (const s of writes(r.seen)) assert.doesNotMatch(s.url, /predefinedAcl/i, s.url);
                for (const s of writes(r.seen)) assert.ok((s.status ?? 0) < 300, `${s.method} ${s.url} → ${s.status}`);
            });

            it("uploader: a second round uploads nothing", async () => {
                const r = await moveRound();
                assert.equal(r.code, 0, r.stderr);
                assert.deepEqual(writes(r.seen), [], "no upload");
                assert.deepEqual(fs.readdirSync(spool).sort(), [
                    "notes.txt",
                    "raft-snapshot-2026-11-30T12-00-00Z.snap",
                ]);
            });

            it("uploader: emulator down, or a wrong credential: the round fails and every snapshot stays in the spool", async () => {
                const name = "raft-snapshot-2026-11-30T13-00-00Z.snap";
                const body = writeFileOfSize(path.join(spool, name), 128 * 1024);
                fs.utimesSync(path.join(spool, name), ago(10), ago(10));

                await cloud.stopEmulator();
                try {
                    // rclone's default retries (3 rounds of 10 low-level retries) hold a failed round
                    // for about 100 s (measured); fewer here only to keep the tier short.
                    const down = await moveRound({ extra: FAST_FAIL });
                    console.log(
                        `# ${cloud.kind} move round with the emulator down: exit ${down.code}, ${down.seconds.toFixed(1)} s`,
                    );
                    assert.notEqual(down.code, 0, "a failed round exits non-zero");
                    assert.equal(
                        md5hex(fs.readFileSync(path.join(spool, name))),
                        md5hex(body),
                        "still spooled, intact",
                    );
                } finally {
                    await cloud.startEmulator();
                }

                const denied = await moveRound({
                    config: uploaderWrongConfig,
                    secretsDir: wrongSecrets,
                    extra: FAST_FAIL,
                });
                assert.notEqual(denied.code, 0, `a refused credential fails the round\n${denied.stderr}`);
                if (cloud.kind === "azure")
                    // Azurite checks the SharedKey signature itself: the wrong key is answered 403.
                    assert.ok(
                        denied.seen.some((s) => s.status === 403),
                        denied.seen.map((s) => `${s.method} ${s.url} ${s.status}`).join("\n"),
                    );
                assert.ok(fs.existsSync(path.join(spool, name)), "still spooled after a refused credential");
                assert.ok(
                    !(await cloud.list(SNAP_BUCKET, name)).has(name),
                    "nothing written with the wrong credential",
                );

                const ok = await moveRound();
                assert.equal(ok.code, 0, ok.stderr);
                assert.ok(!fs.existsSync(path.join(spool, name)), "moved once the store answers");
                assert.equal(md5hex(await cloud.get(SNAP_BUCKET, name)), md5hex(body));
            });

            if (cloud.kind === "gcp") {
                it("GCS: every request carries a token from rclone's JWT flow; no object read or delete is needed", () => {
                    const tokens = (
                        cloud as unknown as { tokens(): Awaited<ReturnType<typeof startTokenEndpoint>> }
                    ).tokens();
                    assert.ok(tokens.issued.length >= 1, "rclone obtained a token");
                    const scopes = [...new Set(tokens.grants.map((g) => g.scope))];
                    console.log(`# gcp: ${tokens.issued.length} tokens issued, scopes asked: ${scopes.join(" | ")}`);
                    assert.deepEqual(scopes, ["https://www.googleapis.com/auth/devstorage.read_write"]);
                    assert.ok(
                        tokens.refused.some((w) => w === "bad signature"),
                        "the wrong key was refused at the token endpoint",
                    );
                    const refused = cloud.seen().filter((s) => s.refusedBy);
                    const noToken = refused.filter((s) => s.refusedBy === "no token from the JWT flow");
                    assert.deepEqual(noToken, [], "no request without a valid token");
                    console.log(
                        `# gcp: refused by the writer's grants: ${refused.map((s) => `${s.method} ${s.url.split("?")[0]}`).join(", ") || "none"}`,
                    );
                    assert.ok(!refused.some((s) => s.method === "DELETE"), "no delete attempted");
                });
            }

            it("shipper script: ships a rotated file, writes `confirmed` (local size) and `caught-up`, moves it to shipped/", async () => {
                const name = "audit.log.20261101T000000Z.gz";
                const body = gz(['{"type":"request","n":1}', '{"type":"response","n":1}']);
                fs.writeFileSync(path.join(auditDir, name), body, { mode: 0o600 });
                const start = cloud.seen().length;
                const shipper = startShipper(shipperConfig);
                await until(
                    "the file is marked shipped",
                    90_000,
                    () => fs.existsSync(path.join(shippedDir, name)) || undefined,
                );
                await until(
                    "the round's caught-up line",
                    30_000,
                    () => confirmations().some((c) => c.kind === "caught-up") || undefined,
                );
                await stopShipper(shipper);
                console.log(
                    `# ${cloud.kind} shipper round: ${cloud
                        .seen()
                        .slice(start)
                        .map((s) => `${s.method} ${decodeURIComponent(s.url.split("?")[0])} ${s.status}`)
                        .join(", ")}`,
                );
                const key = `${NODE}/20261101/${name}`;
                const objects = await cloud.list(AUDIT_BUCKET, `${NODE}/`);
                assert.deepEqual([...objects.keys()], [key], scripts.output(shipper));
                assert.equal(objects.get(key)!.size, body.length);
                assert.equal(md5hex(await cloud.get(AUDIT_BUCKET, key)), md5hex(body));
                assert.deepEqual(confirmations(), [
                    {
                        kind: "confirmed",
                        node: NODE,
                        name,
                        size: body.length,
                        dest: `audit:${AUDIT_BUCKET}/${NODE}/20261101/`,
                    },
                    { kind: "caught-up", node: NODE, n: 1 },
                ]);
                assert.ok(!fs.existsSync(path.join(auditDir, name)));
                assert.deepEqual(
                    cloud
                        .seen()
                        .slice(start)
                        .filter((s) => s.method === "DELETE"),
                    [],
                );
            });

            it("shipper script: after a crash between upload and mark, the next round uploads nothing and marks the file", async () => {
                const name = "audit.log.20261101T000000Z.gz";
                fs.renameSync(path.join(shippedDir, name), path.join(auditDir, name));
                const before = confirmations().length;
                const start = cloud.seen().length;
                const shipper = startShipper(shipperConfig);
                await until(
                    "the file is marked",
                    90_000,
                    () => fs.existsSync(path.join(shippedDir, name)) || undefined,
                );
                await stopShipper(shipper);
                assert.deepEqual(writes(cloud.seen().slice(start)), [], "no upload");
                assert.deepEqual(
                    confirmations()
                        .slice(before)
                        .filter((c) => c.kind === "confirmed")
                        .map((c) => [c.name, c.size]),
                    [[name, fs.statSync(path.join(shippedDir, name)).size]],
                );
            });

            it("shipper script: emulator down, or a wrong credential: nothing is marked and no line written; shipped once it is back", async () => {
                const name = "audit.log.20261102T000000Z.gz";
                const body = gz(['{"type":"request","n":"pending"}']);
                fs.writeFileSync(path.join(auditDir, name), body, { mode: 0o600 });
                const before = confirmations().length;
                const notConfirmed = (p: ChildProcess) =>
                    new RegExp(`${name.replace(/\./g, "\\.")} not confirmed`).test(scripts.output(p)) || undefined;

                await cloud.stopEmulator();
                try {
                    const down = startShipper(shipperConfig);
                    await until("the shipper reports the failed upload", 120_000, () => notConfirmed(down));
                    await stopShipper(down);
                } finally {
                    await cloud.startEmulator();
                }
                assert.ok(fs.existsSync(path.join(auditDir, name)), "still pending");
                assert.ok(!fs.existsSync(path.join(shippedDir, name)), "not marked");
                assert.deepEqual(confirmations().slice(before), [], "emulator down: no line");

                const denied = startShipper(shipperWrongConfig, wrongSecrets);
                await until("the shipper reports the refused upload", 120_000, () => notConfirmed(denied));
                await stopShipper(denied);
                assert.ok(fs.existsSync(path.join(auditDir, name)) && !fs.existsSync(path.join(shippedDir, name)));
                assert.deepEqual(confirmations().slice(before), [], "wrong credential: no line");
                assert.equal((await cloud.list(AUDIT_BUCKET, `${NODE}/20261102/`)).size, 0, "nothing written");

                const live = startShipper(shipperConfig);
                await until(
                    "the pending file is shipped",
                    90_000,
                    () => fs.existsSync(path.join(shippedDir, name)) || undefined,
                );
                await stopShipper(live);
                assert.equal(md5hex(await cloud.get(AUDIT_BUCKET, `${NODE}/20261102/${name}`)), md5hex(body));
                assert.deepEqual(
                    confirmations()
                        .slice(before)
                        .filter((c) => c.kind === "confirmed")
                        .map((c) => [c.name, c.size]),
                    [[name, body.length]],
                );
            });
        },
    );
}

suite(gcsCloud());
suite(azureCloud());
