/**
 * NodeTls: one node's CA bundle, certificate and key, written into its running container and
 * reloaded with SIGHUP: a renewed certificate reaches the node without replacing or restarting it.
 *
 * Why not the container's `uploads`: the Docker provider marks `upload` ForceNew ("the container is
 * mutated once, and never updated later", terraform-provider-docker
 * internal/provider/resource_docker_container.go), so a renewed certificate replaced every node
 * container (a restart each, an election when the active one went). `ignoreChanges` on the uploads
 * is no way out: the engine then sends the old inputs from state on every later update *and* on a
 * replacement (pulumi/pulumi#2657: "replaces the values of input properties in the goal state with
 * old inputs"), so an image upgrade would start the new container with the stale, maybe expired,
 * certificate.
 *
 * So the node container declares no TLS material at all. Its entrypoint waits until
 * `PATHS.tlsPushed` exists (components/runtime.ts), and this resource, which depends on the
 * container, talks to the node's Docker daemon (the stack's `dockerHosts` URI, as the Docker
 * provider does; components/tls/dockerEngine.ts):
 *
 * 1. `GET /containers/{id}/json`: the container exists and runs;
 * 2. `HEAD /containers/{id}/archive?path=<marker>`: was anything pushed into this container before;
 * 3. `PUT /containers/{id}/archive?path=/`: a tar built in memory (components/tls/archive.ts) with the
 *    CA bundle (0444), the certificate (0444), the key (0400), then the marker (0444: the serial and
 *    fingerprint, nothing secret), all owned by the server's user; the key exists only in this
 *    process's memory and on the connection, never in a file on the Pulumi host, a command line or
 *    a log;
 * 4. only when the marker was there (Vault runs on the old files): SIGHUP to the server, sent by an
 *    exec as the server's own user (`POST /containers/{id}/exec`, `POST /exec/{id}/start`, then
 *    `GET /exec/{id}/json` until it exits 0), which finds the server as the audit rotation loop does
 *    (the vault/bao process whose parent is PID 1). Not `POST /containers/{id}/kill?signal=SIGHUP`:
 *    Docker delivers that to the container's init (tini), which forwards it only because the
 *    container holds CAP_KILL (components/runtime.ts START_CAPABILITIES); without it tini treats the
 *    refused forward as fatal and the container exits (seen in the Docker tier), and the exec's exit
 *    code is the only proof that the server itself got the signal. Vault
 *    reloads every TCP listener's certificate and key on SIGHUP (Vault 1.21.1
 *    internalshared/listenerutil TLSConfig: `cg.Reload`). On a fresh container the entrypoint is
 *    still waiting and starts Vault on the pushed files itself;
 * 5. new TLS handshakes with the node at its admin address (as NodeReady reaches it) until it serves
 *    the pushed serial, verified against the pushed CA bundle under the admin TLS name.
 *
 * What SIGHUP does not reload: the join listener's `tls_client_ca_file` and retry_join's
 * `leader_ca_cert_file` are read when Vault starts; so a CA change is a two-step procedure that ends
 * with a restart (docs/runbook.md "Rotating certificates").
 *
 * The wait and the request sequence are plain functions with the engine and the TLS probe passed in:
 * unit tests drive them with fakes, the Docker tier with a real dockerd, the real-server tier with
 * Vault 1.21.1. Serialised into the dynamic provider (components/vault/http.ts lists the rules).
 */
import * as pulumi from "@pulumi/pulumi";
import { dynamicResourceArgs, DYNAMIC_MODULE } from "../dynamicResource";
import { PATHS } from "../topology";
import { tarArchive, type ArchiveEntry } from "./archive";
import { dockerHostTarget, engineCall, engineMessage, type EngineCall } from "./dockerEngine";

export interface NodeTlsInputs {
    /** The node's name, for messages. */
    node: string;
    /** The node's Docker daemon URI (config `dockerHosts`); "" = the Pulumi host's DOCKER_HOST. */
    dockerHost: string;
    /** The running container the files go into: a new container means a new push. */
    containerId: string;
    /** The CA bundle the node trusts (join listener, retry_join, its own CLI) and clients verify with. */
    caCertPem: string;
    certPem: string;
    /** Secret. */
    keyPem: string;
    /** The server's user and group in the image (components/runtime.ts RUNTIME_USER). */
    uid: number;
    gid: number;
    /** How Pulumi reaches the node's API (config `nodeAdminAddrs`), to see the new certificate served. */
    addr: string;
    /** A SAN of every node certificate (config `adminTlsServerName`). */
    tlsServerName: string;
    timeoutSeconds: number;
}

export interface NodeTlsState extends NodeTlsInputs {
    /** The serial the node serves after the push (upper-case hex). */
    serial: string;
    /** How Vault took the files: `sighup` (it was running) or `start` (the entrypoint was waiting for them). */
    reload: "sighup" | "start";
}

/**
 * The exec that sends the server SIGHUP, as its own user (same uid: no capability needed): the
 * vault or bao process whose parent is the container's init, as the audit rotation loop finds it
 * (components/settings/audit.ts). Exit 3: no server process (it is restarting).
 */
export const SIGHUP_SERVER_SCRIPT =
    "pid=''; for p in $(pidof vault bao 2>/dev/null); do [ \"$(cut -d' ' -f4 /proc/$p/stat)\" = 1 ] && pid=$p; done; " +
    '[ -n "$pid" ] || { echo "no server process" >&2; exit 3; }; kill -HUP "$pid"';

/** Modes of the pushed files: the key readable by the server's user only. */
export const TLS_FILE_MODES = { ca: 0o444, cert: 0o444, key: 0o400, marker: 0o444 } as const;

/** A certificate's serial as OpenSSL prints it (upper-case hex, no leading zeros), for comparisons. */
export function normalSerial(hex: string): string {
    return hex
        .replace(/[^0-9a-f]/gi, "")
        .toUpperCase()
        .replace(/^0+(?=.)/, "");
}

/** The serial and SHA-256 fingerprint of the first certificate in `pem`. */
export function certIdentity(pem: string): { serial: string; sha256: string } {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { X509Certificate } = require("node:crypto") as typeof import("node:crypto");
    const c = new X509Certificate(pem);
    return { serial: normalSerial(c.serialNumber), sha256: c.fingerprint256 };
}

/** The marker's text: which certificate was pushed (no secret). */
export function markerText(certPem: string): string {
    const id = certIdentity(certPem);
    return `serial ${id.serial}\nsha256 ${id.sha256}\n`;
}

/** The archive's entries, in extraction order: the marker last, so the entrypoint never sees a half-written set. */
export function tlsEntries(i: Pick<NodeTlsInputs, "caCertPem" | "certPem" | "keyPem" | "uid" | "gid">): ArchiveEntry[] {
    const own = { uid: i.uid, gid: i.gid };
    return [
        { path: PATHS.caCert, content: i.caCertPem, mode: TLS_FILE_MODES.ca, ...own },
        { path: PATHS.nodeCert, content: i.certPem, mode: TLS_FILE_MODES.cert, ...own },
        { path: PATHS.nodeKey, content: i.keyPem, mode: TLS_FILE_MODES.key, ...own },
        { path: PATHS.tlsPushed, content: markerText(i.certPem), mode: TLS_FILE_MODES.marker, ...own },
    ];
}

/** What one TLS handshake with the node showed. */
export interface Served {
    serial: string;
    /** Chain and name verified against the pushed CA bundle under tlsServerName. */
    verified: boolean;
    /** Why not, when not. */
    error?: string;
}

export interface PushDeps {
    engine: EngineCall;
    /** One new TLS handshake with the node; rejects when none completes. */
    served: () => Promise<Served>;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
    pollMs?: number;
}

/** The request sequence and the wait (see the file comment); resolves with what the node serves. */
export async function pushNodeTls(
    i: NodeTlsInputs,
    deps: PushDeps,
): Promise<{ serial: string; reload: NodeTlsState["reload"] }> {
    const now = deps.now ?? (() => Date.now());
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const pollMs = deps.pollMs ?? 500;
    const id = encodeURIComponent(i.containerId);
    const where = `node ${i.node} (container ${i.containerId.slice(0, 12)})`;
    const fail = (m: string) => new Error(`NodeTls: ${where}: ${m}`);
    const expected = certIdentity(i.certPem).serial;

    const inspect = await deps.engine("GET", `/containers/${id}/json`);
    if (inspect.status === 404)
        throw fail("the container does not exist on its Docker host (removed outside Pulumi? run `pulumi refresh`).");
    if (inspect.status !== 200)
        throw fail(`inspecting the container answered ${inspect.status}: ${engineMessage(inspect)}`);
    const state = (JSON.parse(inspect.body.toString("utf8")) as { State?: { Running?: boolean; Status?: string } })
        .State;
    if (!state?.Running)
        throw fail(`the container is not running (${state?.Status ?? "no state"}); see \`docker logs\`.`);

    const marker = `/containers/${id}/archive?path=${encodeURIComponent(PATHS.tlsPushed)}`;
    const before = await deps.engine("HEAD", marker);
    if (before.status !== 200 && before.status !== 404)
        throw fail(`looking for ${PATHS.tlsPushed} answered ${before.status}: ${engineMessage(before)}`);
    const running = before.status === 200;

    const tar = tarArchive(tlsEntries(i), Math.floor(now() / 1000));
    const put = await deps.engine(
        "PUT",
        `/containers/${id}/archive?path=%2F&noOverwriteDirNonDir=true`,
        tar,
        "application/x-tar",
    );
    if (put.status !== 200) throw fail(`writing the TLS files answered ${put.status}: ${engineMessage(put)}`);

    if (running) {
        const body = Buffer.from(
            JSON.stringify({
                User: `${i.uid}:${i.gid}`,
                Cmd: ["/bin/sh", "-c", SIGHUP_SERVER_SCRIPT],
                AttachStdout: false,
                AttachStderr: false,
            }),
        );
        const created = await deps.engine("POST", `/containers/${id}/exec`, body);
        if (created.status !== 201)
            throw fail(`creating the SIGHUP exec answered ${created.status}: ${engineMessage(created)}`);
        const execId = encodeURIComponent(String((JSON.parse(created.body.toString("utf8")) as { Id?: string }).Id));
        const started = await deps.engine(
            "POST",
            `/exec/${execId}/start`,
            Buffer.from(JSON.stringify({ Detach: true, Tty: false })),
        );
        if (started.status !== 200)
            throw fail(`starting the SIGHUP exec answered ${started.status}: ${engineMessage(started)}`);
        const execDeadline = now() + 30000;
        for (;;) {
            const st = await deps.engine("GET", `/exec/${execId}/json`);
            const x = (st.status === 200 ? JSON.parse(st.body.toString("utf8")) : {}) as {
                Running?: boolean;
                ExitCode?: number | null;
            };
            if (st.status === 200 && x.Running === false) {
                if (x.ExitCode !== 0)
                    throw fail(
                        x.ExitCode === 3
                            ? "the files are in place, but no Vault process runs to reload them (restarting?); see `docker logs`, then run `pulumi up` again."
                            : `sending SIGHUP to Vault exited ${String(x.ExitCode)}.`,
                    );
                break;
            }
            if (now() >= execDeadline) throw fail("the SIGHUP exec did not finish in 30 s.");
            await sleep(200);
        }
    }

    const deadline = now() + i.timeoutSeconds * 1000;
    let last = "no handshake yet";
    for (;;) {
        try {
            const s = await deps.served();
            if (normalSerial(s.serial) === expected) {
                if (!s.verified)
                    throw fail(
                        `it serves the pushed certificate (serial ${expected}), but that does not verify against the pushed CA under ${i.tlsServerName}: ${s.error ?? "unverified"}. Check tlsCaCert/tlsCert (provided) or adminTlsServerName.`,
                    );
                return { serial: expected, reload: running ? "sighup" : "start" };
            }
            last = `serves serial ${normalSerial(s.serial)}`;
        } catch (e) {
            if (e instanceof Error && e.message.startsWith("NodeTls:")) throw e;
            last = `no TLS handshake at ${i.addr} (${e instanceof Error ? e.message : String(e)})`;
        }
        if (now() >= deadline)
            throw fail(
                `after ${i.timeoutSeconds} s it ${last}, not the pushed serial ${expected}. The files are in place: ` +
                    (running
                        ? "Vault did not reload them on SIGHUP; its log (`docker logs`) says why (a key that does not match the certificate?)."
                        : "Vault has not started on them; see `docker logs`.") +
                    " Fix the cause and run `pulumi up` again.",
            );
        await sleep(pollMs);
    }
}

/** One TLS handshake with `addr`: the certificate served, and whether it verifies against `caPem` under `servername`. */
export function tlsProbe(addr: string, caPem: string, servername: string, timeoutMs = 5000): () => Promise<Served> {
    return () =>
        new Promise<Served>((resolve, reject) => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const tls = require("node:tls") as typeof import("node:tls");
            const u = new URL(addr);
            const socket = tls.connect({
                host: u.hostname,
                port: Number(u.port || 443),
                servername,
                ca: caPem,
                minVersion: "TLSv1.2",
                // Read the certificate even when it does not verify; `authorized` says whether it did.
                rejectUnauthorized: false,
            });
            const timer = setTimeout(() => socket.destroy(new Error(`no handshake in ${timeoutMs} ms`)), timeoutMs);
            socket.once("secureConnect", () => {
                clearTimeout(timer);
                const cert = socket.getPeerCertificate();
                const out: Served = {
                    serial: cert?.serialNumber ?? "",
                    verified: socket.authorized,
                    ...(socket.authorized ? {} : { error: String(socket.authorizationError) }),
                };
                socket.end();
                resolve(out);
            });
            socket.once("error", (e) => {
                clearTimeout(timer);
                reject(e);
            });
        });
}

async function push(i: NodeTlsInputs): Promise<NodeTlsState> {
    const engine = engineCall(dockerHostTarget(i.dockerHost, process.env));
    const r = await pushNodeTls(i, { engine, served: tlsProbe(i.addr, i.caCertPem, i.tlsServerName) });
    return { ...i, ...r };
}

/** What makes a push necessary: new material, a new container, or a new way to reach either. */
export const NODE_TLS_PUSH_KEYS = [
    "dockerHost",
    "containerId",
    "caCertPem",
    "certPem",
    "keyPem",
    "uid",
    "gid",
    "addr",
    "tlsServerName",
] as const;

export const nodeTlsProvider: pulumi.dynamic.ResourceProvider<NodeTlsInputs, NodeTlsState> = {
    async create(inputs) {
        return { id: `node-tls-${inputs.node}`, outs: await push(inputs) };
    },
    async diff(_id, olds, news) {
        const changed = NODE_TLS_PUSH_KEYS.filter((k) => olds[k] !== news[k]);
        // Never a replacement: the same files are written again into the (possibly new) container.
        return { changes: changed.length > 0 || olds.timeoutSeconds !== news.timeoutSeconds, replaces: [] };
    },
    async update(_id, olds, news) {
        const changed = NODE_TLS_PUSH_KEYS.some((k) => olds[k] !== news[k]);
        return { outs: changed ? await push(news) : { ...news, serial: olds.serial, reload: olds.reload } };
    },
    async delete() {
        // Nothing to undo: the files live and go with the container.
    },
};

export interface NodeTlsArgs {
    node: string;
    dockerHost: string;
    containerId: pulumi.Input<string>;
    caCertPem: pulumi.Input<string>;
    certPem: pulumi.Input<string>;
    keyPem: pulumi.Input<string>;
    uid: number;
    gid: number;
    addr: pulumi.Input<string>;
    tlsServerName: pulumi.Input<string>;
    timeoutSeconds: number;
}

/** Writes the node's TLS files into its running container and has Vault reload them. */
export class NodeTls extends pulumi.dynamic.Resource {
    declare readonly serial: pulumi.Output<string>;
    declare readonly reload: pulumi.Output<string>;

    constructor(name: string, args: NodeTlsArgs, opts?: pulumi.CustomResourceOptions) {
        const d = dynamicResourceArgs({ ...args, keyPem: pulumi.secret(args.keyPem) }, opts, {
            outputs: ["serial", "reload"],
            secret: ["keyPem"],
        });
        super(nodeTlsProvider, name, d.props, d.opts, DYNAMIC_MODULE, "NodeTls");
    }
}
