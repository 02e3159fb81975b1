/**
 * Helpers of the GCS and Azure part of the S3 tier (test/s3/clouds.test.ts): the two emulators,
 * a loopback OAuth token endpoint for rclone's service-account (JWT) flow, a recording proxy that
 * can refuse requests, and a SharedKey client for the few Azure calls the test makes itself.
 *
 * fake-gcs-server is built from tools/gcs/go.mod by scripts/build-s3-tools.sh; Azurite is installed
 * by the same script into tools/azurite (its own package.json and lock).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, createPublicKey, createVerify, type KeyObject } from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { BIN, ROOT, freePort, waitForHttp } from "./s3";

/** fake-gcs-server (JSON API) on 127.0.0.1 over plain HTTP, objects on disk under `dir`. */
export async function startFakeGcs(
    dir: string,
    externalUrl: (port: number) => string,
): Promise<{ proc: ChildProcess; port: number }> {
    const port = await freePort();
    const proc = spawn(
        path.join(BIN, "fake-gcs-server"),
        [
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            String(port),
            "-backend",
            "filesystem",
            "-filesystem-root",
            dir,
            // Resumable uploads continue at the Location the server returns: the proxy's address.
            "-external-url",
            externalUrl(port),
            "-log-level",
            "error",
        ],
        { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "ignore", "inherit"] },
    );
    await waitForHttp(`http://127.0.0.1:${port}/storage/v1/b`, proc, 30_000);
    return { proc, port };
}

/** Azurite's blob service on 127.0.0.1 (path-style URLs: http://127.0.0.1:<port>/<account>/…). */
export async function startAzurite(
    dir: string,
    account: string,
    key: string,
): Promise<{ proc: ChildProcess; port: number }> {
    const port = await freePort();
    const proc = spawn(
        process.execPath,
        [
            path.join(ROOT, "tools", "azurite", "node_modules", "azurite", "dist", "src", "blob", "main.js"),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            String(port),
            "--location",
            dir,
            "--silent",
            "--disableTelemetry",
            "--disableProductStyleUrl",
            // rclone v1.76.0's Azure SDK (azblob v1.8.2) sends x-ms-version 2026-12-06, newer than
            // the newest Azurite 3.37.0 knows: without this every request is refused 400.
            "--skipApiVersionCheck",
        ],
        {
            // The storage account and its key (Azurite's documented AZURITE_ACCOUNTS), not on a command line.
            env: { PATH: process.env.PATH ?? "", AZURITE_ACCOUNTS: `${account}:${key}` },
            stdio: ["ignore", "ignore", "inherit"],
        },
    );
    await waitForHttp(`http://127.0.0.1:${port}/${account}?comp=list`, proc, 30_000);
    return { proc, port };
}

/** One Azure Blob REST call signed with the account's shared key (the documented SharedKey scheme). */
export async function azureRequest(
    endpoint: string,
    account: string,
    key: string,
    method: string,
    pathAndQuery: string,
    body?: Buffer,
): Promise<{ status: number; text: string; body: Buffer }> {
    const url = new URL(`${endpoint}/${account}${pathAndQuery}`);
    const headers: Record<string, string> = {
        "x-ms-date": new Date().toUTCString(),
        "x-ms-version": "2021-12-02",
    };
    if (body) headers["x-ms-blob-type"] = "BlockBlob";
    const length = body && body.length > 0 ? String(body.length) : "";
    const canonHeaders = Object.keys(headers)
        .filter((h) => h.startsWith("x-ms-"))
        .sort()
        .map((h) => `${h}:${headers[h]}\n`)
        .join("");
    const params = [...url.searchParams.keys()].map((k) => k.toLowerCase()).sort();
    const canonResource =
        `/${account}${url.pathname}` +
        params.map((k) => `\n${k}:${url.searchParams.getAll(k).sort().join(",")}`).join("");
    const toSign =
        [method, "", "", length, "", "", "", "", "", "", "", ""].join("\n") + "\n" + canonHeaders + canonResource;
    const sig = createHmac("sha256", Buffer.from(key, "base64")).update(toSign, "utf8").digest("base64");
    const res = await fetch(url, {
        method,
        headers: { ...headers, authorization: `SharedKey ${account}:${sig}` },
        body: method === "GET" || method === "HEAD" ? undefined : (body ?? Buffer.alloc(0)),
    });
    const buf = Buffer.from(await res.arrayBuffer());
    return { status: res.status, text: buf.toString("utf8"), body: buf };
}

/** A request that passed through (or was refused by) the gate proxy. */
export interface Seen {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    bytes: number;
    status?: number;
    /** Set when the proxy answered itself (the test's restatement of a grant), not the emulator. */
    refusedBy?: string;
}

/**
 * A loopback HTTP proxy in front of an emulator: records every request and, where `gate` returns a
 * reason, answers 403 itself instead of forwarding. Everything else is forwarded unchanged.
 */
export async function startGateProxy(
    upstreamPort: () => number,
    gate: (req: http.IncomingMessage) => string | undefined = () => undefined,
): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
    const seen: Seen[] = [];
    const srv = http.createServer((req, res) => {
        const rec: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, bytes: 0 };
        seen.push(rec);
        req.on("data", (c: Buffer) => (rec.bytes += c.length));
        const reason = gate(req);
        if (reason) {
            rec.refusedBy = reason;
            rec.status = 403;
            req.resume();
            req.on("end", () => {
                res.writeHead(403, { "content-type": "application/json" });
                res.end(JSON.stringify({ error: { code: 403, message: reason } }));
            });
            return;
        }
        const up = http.request(
            { host: "127.0.0.1", port: upstreamPort(), method: req.method, path: req.url, headers: req.headers },
            (r) => {
                rec.status = r.statusCode;
                res.writeHead(r.statusCode ?? 502, r.headers);
                r.pipe(res);
            },
        );
        up.on("error", () => res.destroy());
        req.pipe(up);
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    return {
        port: (srv.address() as net.AddressInfo).port,
        seen,
        close: () =>
            new Promise<void>((r) => {
                srv.closeAllConnections();
                srv.close(() => r());
            }),
    };
}

/**
 * A loopback OAuth 2.0 token endpoint for the service-account flow (RFC 7523 JWT bearer grant, as
 * Google's token endpoint): verifies the assertion's RS256 signature with the service account's
 * public key and its claims (iss = client_email, aud = this endpoint, a scope, a live exp), then
 * issues an opaque access token. Anything else: 400 invalid_grant.
 */
export async function startTokenEndpoint(sa: { clientEmail: string; publicKeyPem: string }): Promise<{
    url: string;
    issued: string[];
    grants: { scope: string; iss: string }[];
    refused: string[];
    close(): Promise<void>;
}> {
    const pub: KeyObject = createPublicKey(sa.publicKeyPem);
    const issued: string[] = [];
    const grants: { scope: string; iss: string }[] = [];
    const refused: string[] = [];
    let url = "";
    const srv = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
            const refuse = (why: string) => {
                refused.push(why);
                res.writeHead(400, { "content-type": "application/json" });
                res.end(JSON.stringify({ error: "invalid_grant", error_description: why }));
            };
            const form = new URLSearchParams(body);
            if (req.method !== "POST" || form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer")
                return refuse(`not a JWT bearer grant: ${req.method} ${body.slice(0, 80)}`);
            const [h, p, s] = (form.get("assertion") ?? "").split(".");
            if (!h || !p || !s) return refuse("malformed assertion");
            const header = JSON.parse(Buffer.from(h, "base64url").toString()) as { alg?: string };
            if (header.alg !== "RS256") return refuse(`alg ${header.alg}`);
            const ok = createVerify("RSA-SHA256").update(`${h}.${p}`).verify(pub, Buffer.from(s, "base64url"));
            if (!ok) return refuse("bad signature");
            const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as {
                iss?: string;
                aud?: string;
                scope?: string;
                exp?: number;
            };
            if (claims.iss !== sa.clientEmail) return refuse(`iss ${claims.iss}`);
            if (claims.aud !== url) return refuse(`aud ${claims.aud}`);
            if (!claims.scope) return refuse("no scope");
            if (!claims.exp || claims.exp * 1000 < Date.now()) return refuse("expired");
            const token = `fake-${issued.length}-${Date.now()}`;
            issued.push(token);
            grants.push({ scope: claims.scope, iss: claims.iss });
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 3600 }));
        });
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}/token`;
    return {
        url,
        issued,
        grants,
        refused,
        close: () =>
            new Promise<void>((r) => {
                srv.closeAllConnections();
                srv.close(() => r());
            }),
    };
}
