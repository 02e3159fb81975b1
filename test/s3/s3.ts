/**
 * Helpers of the S3 tier: the pinned binaries, a versitygw process, a SigV4 client for the few
 * calls the test makes itself, and a loopback proxy that records every request rclone sends.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as path from "node:path";

export const ROOT = path.join(__dirname, "..", "..");
export const BIN = path.join(ROOT, "tools", "bin");

/** Builds rclone and versitygw once (scripts/build-s3-tools.sh reuses them when present). */
export function ensureTools(): { rclone: string; versitygw: string } {
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "build-s3-tools.sh")], { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`scripts/build-s3-tools.sh failed (exit ${r.status})`);
    return { rclone: path.join(BIN, "rclone"), versitygw: path.join(BIN, "versitygw") };
}

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/** Polls until `url` answers any HTTP status, or fails when the process exits or the deadline passes. */
export async function waitForHttp(url: string, proc: ChildProcess, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (proc.exitCode !== null) throw new Error(`process exited (${proc.exitCode}) before ${url} answered`);
        try {
            await fetch(url, { signal: AbortSignal.timeout(1000) });
            return;
        } catch {
            if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
            await new Promise((r) => setTimeout(r, 100));
        }
    }
}

/** Ends a process we started: SIGTERM, then SIGKILL after a grace period. */
export async function stop(proc: ChildProcess | undefined): Promise<void> {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
}

/** Runs a program to completion; resolves with its exit code and output. */
export function run(
    cmd: string,
    args: string[],
    env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const p = spawn(cmd, args, { env: { PATH: process.env.PATH ?? "", HOME: ROOT, ...env } });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        p.on("error", reject);
        p.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

export interface Credentials {
    accessKeyId: string;
    secretAccessKey: string;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
const rfc3986 = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * One AWS Signature Version 4 request (the documented algorithm: canonical request, string to
 * sign, derived key), sent with fetch. Only what the test needs: path-style, small bodies.
 */
export async function s3Request(
    endpoint: string,
    creds: Credentials,
    region: string,
    method: string,
    pathAndQuery: string,
    opts: { body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; body: Buffer; headers: Headers }> {
    const url = new URL(pathAndQuery, endpoint);
    const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.from(opts.body);
    const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
    const date = amzDate.slice(0, 8);
    const headers: Record<string, string> = {
        ...Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
        host: url.host,
        "x-amz-date": amzDate,
        "x-amz-content-sha256": sha256(body),
    };
    const names = Object.keys(headers).sort();
    const query = [...url.searchParams.entries()]
        .map(([k, v]) => [rfc3986(k), rfc3986(v)])
        .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
        .map(([k, v]) => `${k}=${v}`)
        .join("&");
    const canonical = [
        method,
        url.pathname
            .split("/")
            .map((s) => rfc3986(decodeURIComponent(s)))
            .join("/"),
        query,
        names.map((n) => `${n}:${headers[n].trim()}\n`).join(""),
        names.join(";"),
        headers["x-amz-content-sha256"],
    ].join("\n");
    const scope = `${date}/${region}/s3/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
    const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date), region), "s3"), "aws4_request");
    const signature = createHmac("sha256", key).update(toSign).digest("hex");
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
    delete headers.host;
    const res = await fetch(url, { method, headers, body: method === "GET" || method === "HEAD" ? undefined : body });
    const buf = Buffer.from(await res.arrayBuffer());
    return { status: res.status, text: buf.toString("utf8"), body: buf, headers: res.headers };
}

/** One request that passed through the recording proxy. */
export interface Recorded {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    /** Base64 MD5 of the body's data as the proxy saw it (aws-chunked framing removed), and its length. */
    bodyMd5: string;
    bytes: number;
    /** The aws-chunked trailer (`x-amz-checksum-crc32:…`), if any. */
    trailer: string;
    status?: number;
    /** When the server's answer arrived (ms since the epoch). */
    answeredAt?: number;
}

/** The data of an aws-chunked body (`<hex size>[;chunk-signature=…]\r\n<data>\r\n … 0\r\n<trailer>`). */
export function decodeAwsChunked(raw: Buffer): { data: Buffer; trailer: string } {
    const parts: Buffer[] = [];
    let off = 0;
    for (;;) {
        const eol = raw.indexOf("\r\n", off);
        if (eol < 0) throw new Error("aws-chunked body without a final chunk");
        const size = parseInt(raw.subarray(off, eol).toString("latin1").split(";")[0], 16);
        off = eol + 2;
        if (size === 0) return { data: Buffer.concat(parts), trailer: raw.subarray(off).toString("latin1").trim() };
        parts.push(raw.subarray(off, off + size));
        off += size + 2;
    }
}

/**
 * A loopback proxy in front of the S3 server, on HTTPS (what rclone talks to, as it does to AWS)
 * and on plain HTTP (for the test's own requests). It records method, URL, headers and the MD5 of
 * every request's data, and forwards everything unchanged (the Host header included, so SigV4
 * signatures stay valid) to the server's plain HTTP port.
 */
export async function startRecordingProxy(
    upstreamPort: number,
    tls: { key: Buffer; cert: Buffer },
): Promise<{ httpsPort: number; httpPort: number; records: Recorded[]; close(): Promise<void> }> {
    const records: Recorded[] = [];
    const handler: http.RequestListener = (req, res) => {
        const rec: Recorded = {
            method: req.method ?? "",
            url: req.url ?? "",
            headers: req.headers,
            bodyMd5: "",
            bytes: 0,
            trailer: "",
        };
        records.push(rec);
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const raw = Buffer.concat(chunks);
            const chunked =
                String(req.headers["x-amz-content-sha256"] ?? "").startsWith("STREAMING-") ||
                /aws-chunked/.test(String(req.headers["content-encoding"] ?? ""));
            const { data, trailer } = chunked ? decodeAwsChunked(raw) : { data: raw, trailer: "" };
            rec.bodyMd5 = createHash("md5").update(data).digest("base64");
            rec.bytes = data.length;
            rec.trailer = trailer;
        });
        const upstream = http.request(
            { host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
            (up) => {
                rec.status = up.statusCode;
                rec.answeredAt = Date.now();
                res.writeHead(up.statusCode ?? 502, up.headers);
                up.pipe(res);
            },
        );
        upstream.on("error", () => res.destroy());
        req.pipe(upstream);
    };
    const secure = https.createServer({ key: tls.key, cert: tls.cert }, handler);
    const plain = http.createServer(handler);
    await new Promise<void>((r) => secure.listen(0, "127.0.0.1", () => r()));
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", () => r()));
    const closeOne = (srv: http.Server | https.Server) =>
        new Promise<void>((r) => {
            srv.closeAllConnections();
            srv.close(() => r());
        });
    return {
        httpsPort: (secure.address() as net.AddressInfo).port,
        httpPort: (plain.address() as net.AddressInfo).port,
        records,
        close: async () => {
            await closeOne(secure);
            await closeOne(plain);
        },
    };
}

/** A throw-away self-signed certificate for 127.0.0.1 (openssl), for the proxy's HTTPS side. */
export function selfSignedCert(dir: string): { key: Buffer; cert: Buffer; certPath: string } {
    const keyPath = path.join(dir, "proxy-key.pem");
    const certPath = path.join(dir, "proxy-cert.pem");
    const r = spawnSync(
        "openssl",
        [
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            keyPath,
            "-out",
            certPath,
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr.toString()}`);
    return { key: fs.readFileSync(keyPath), cert: fs.readFileSync(certPath), certPath };
}

/**
 * AWS's rule for a bucket with Object Lock (S3 API reference, PutObject and UploadPart): the
 * request must carry Content-MD5 or an x-amz-checksum-* header. True when a request would be refused.
 */
export function refusedByObjectLock(r: Pick<Recorded, "method" | "url" | "headers">): boolean {
    const isPut = r.method === "PUT";
    const q = new URL(r.url, "http://x").searchParams;
    const isObjectWrite = isPut && !q.has("object-lock") && !q.has("policy") && !q.has("versioning");
    if (!isObjectWrite || r.headers["x-amz-copy-source"] !== undefined) return false;
    const hasChecksum =
        Object.keys(r.headers).some((h) => h.startsWith("x-amz-checksum-")) ||
        String(r.headers["x-amz-trailer"] ?? "").startsWith("x-amz-checksum-");
    return r.headers["content-md5"] === undefined && !hasChecksum;
}

export function writeFileOfSize(file: string, bytes: number): Buffer {
    const out = randomBytes(bytes);
    fs.writeFileSync(file, out);
    return out;
}

export const md5b64 = (b: Buffer) => createHash("md5").update(b).digest("base64");

/**
 * The rendered container scripts as processes: each runs in its own process group (so a kill
 * reaches rclone too), with its output kept for the assertions.
 */
export class Scripts {
    private readonly out = new Map<ChildProcess, string>();

    start(cmd: string, args: string[], env: Record<string, string>): ChildProcess {
        const p = spawn(cmd, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        this.out.set(p, "");
        const keep = (d: Buffer) => this.out.set(p, this.out.get(p)! + d.toString());
        p.stdout!.on("data", keep);
        p.stderr!.on("data", keep);
        return p;
    }

    /** Everything the process wrote so far (stdout and stderr). */
    output(p: ChildProcess): string {
        return this.out.get(p) ?? "";
    }

    async stop(p: ChildProcess): Promise<void> {
        if (p.exitCode === null && p.signalCode === null) {
            const exited = new Promise<void>((r) => p.once("exit", () => r()));
            try {
                process.kill(-p.pid!, "SIGKILL");
            } catch {
                /* already gone */
            }
            await exited;
        }
    }

    async stopAll(): Promise<void> {
        for (const p of this.out.keys()) await this.stop(p);
    }
}

/** Polls `probe` every `intervalMs` until it returns something other than undefined or false. */
export async function until<T>(
    what: string,
    ms: number,
    probe: () => Promise<T | undefined> | T | undefined,
    intervalMs = 1000,
): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
        const v = await probe();
        if (v !== undefined && v !== false) return v;
        if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}

/** One line of the audit shipper's confirmation log (components/audit/shipper.ts). */
export interface Confirmation {
    t: number;
    kind: "confirmed" | "caught-up";
    node: string;
    name?: string;
    size?: number;
    dest?: string;
    n?: number;
}

/** The shipper's confirmation log in `auditDir`, parsed: every line must be one of the two shapes. */
export function readConfirmations(auditDir: string, logName: string): Confirmation[] {
    const file = path.join(auditDir, logName);
    if (!fs.existsSync(file)) return [];
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => {
            const c = /^(\d+) confirmed (\S+) (\S+) (\d+) (\S+)$/.exec(l);
            if (c)
                return { t: Number(c[1]), kind: "confirmed", node: c[2], name: c[3], size: Number(c[4]), dest: c[5] };
            const u = /^(\d+) caught-up (\S+) (\d+)$/.exec(l);
            if (!u) throw new Error(`unexpected confirmation line: ${l}`);
            return { t: Number(u[1]), kind: "caught-up", node: u[2], n: Number(u[3]) };
        });
}
