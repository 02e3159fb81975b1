/**
 * Brings up the `local` stack as the program declares it, on loopback, with a real Vault 1.21.1:
 * the transit unsealer (bootstrapped by the UnsealerInit dynamic provider), three Raft nodes from
 * their rendered server configs, the one-time init (VaultInit) and the hand-over to Pulumi's admin
 * AppRole (VaultHandover), then the settings plan. Every dynamic provider runs from the text the
 * program serialised (`__provider`), as the engine would run it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { BACKEND_CA_WRITE_COMMAND, renderBackendEnv } from "../../../components/settings/plan";
import { applySettings, type Applied } from "./applySettings";
import {
    ContainerRoot,
    runOnce,
    LOOPBACK_REWRITES,
    UNSEALER_PORT,
    call,
    checkPrerequisites,
    makeTempBase,
    portsFor,
    rewriteServerConfig,
    rewriteUnsealerConfig,
    startContainer,
    stopAll,
    transport,
    waitUntil,
    type ContainerOptions,
    type Node,
    type Running,
} from "./cluster";
import type { Transport } from "../../../components/vault/http";
import { declaredStack, type DeclaredContainer, type DeclaredStack } from "./declared";
import { loadProvider } from "./dynamic";
import { extractInto, startStandInEngine, type StandInEngine } from "./engine";
import { TestCa, type Issued } from "./pki";
import { tarArchive } from "../../../components/tls/archive";
import { tlsEntries } from "../../../components/tls/nodeTls";
import { PATHS } from "../../../components/topology";

/**
 * Config set on top of Pulumi.local.yaml, with why. Each changes only Vault-side settings that the
 * committed local stack leaves at a value this tier could not check.
 */
export const STACK_OVERRIDES = {
    /** So the tier can prove the shares are PGP-encrypted and decrypt one (prod requires it). */
    recoveryPgpKeys: "<a test key made with gpg at run time>",
    /** So the tier can prove the backend's wrapped secret ID unwraps exactly once. */
    approleWrappingTtl: "10m",
    /**
     * The audit devices' files are read in place by "7. audit": with shipping's 5-minute default the
     * rotation loop would move them out every 150 s (no shipper runs here). 1440: once in 12 hours.
     */
    auditShipMaxDelayMinutes: "1440",
} as const;

export interface RaftServer {
    node_id: string;
    address: string;
    leader: boolean;
    voter: boolean;
}

export interface Live {
    base: string;
    /** Why each node's rolling-change gate passed on the first deployment (before init). */
    firstGates: Record<string, string>;
    /** How each node took its first TLS files (NodeTls `reload`: `start`, the entrypoint was waiting). */
    firstPushes: Record<string, string>;
    declared: DeclaredStack;
    ca: TestCa;
    caPem: string;
    /** A CA the cluster does not trust, with a client certificate. */
    stranger: { cert: string; key: string };
    gnupgHome: string;
    unsealer: Running;
    unsealerRoot: ContainerRoot;
    transitToken: string;
    unsealKey: string;
    roots: Record<string, ContainerRoot>;
    procs: Record<string, Running>;
    /** The stand-in Docker Engine API NodeTls writes through (lib/engine.ts). */
    engine: StandInEngine;
    /** Each node's certificate and key files as last pushed, and the CA bundle with them. */
    tls: Record<string, Issued & { caPem: string }>;
    /** Each node's NodeTls state as the engine would hold it (the provider's last outputs). */
    tlsState: Record<string, Record<string, unknown>>;
    nodes: Node[];
    envOf: Record<string, Record<string, string>>;
    init: {
        rootToken: string;
        recoveryKeys: string[];
        recoveryKeysEncrypted: boolean;
        inputs: Record<string, unknown>;
    };
    handover: { roleId: string; secretId: string; inputs: Record<string, unknown> };
    applied: Applied;
    backendEnv: Record<string, string>;
    /** The backend's client: VAULT_ADDR's host as the TLS name, the CA from the file its start step wrote. */
    backendHttp: Transport;
    /** The CA file the backend's start step wrote (VAULT_CACERT, rewritten into the temp folder). */
    backendCaFile: string;
    /** Diagnose output per node, run through the declared entrypoint before the node's first start. */
    diagnose: Record<string, { status: number | null; output: string }>;
    raftServers: RaftServer[];
    /** Byte size of each process's log when bring-up ended. */
    logMarks: Record<string, number>;
    timings: Record<string, number>;
    rewrites: readonly string[];
}

function envMap(c: DeclaredContainer): Record<string, string> {
    return Object.fromEntries(
        c.envs.map((e) => {
            const i = e.indexOf("=");
            return [e.slice(0, i), e.slice(i + 1)];
        }),
    );
}

function gpgTestKey(home: string): string {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const env = { ...process.env, GNUPGHOME: home };
    execFileSync(
        "gpg",
        [
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            "conformance@bonito.test",
            "rsa2048",
            "encr",
            "1d",
        ],
        { env, stdio: "ignore" },
    );
    return execFileSync("gpg", ["--export", "conformance@bonito.test"], { env }).toString("base64");
}

/** Decrypt a PGP-encrypted recovery share (base64 of the binary message) with the test key. */
export function decryptShare(live: Live, share: string): string {
    const out = spawnSync("gpg", ["--batch", "--decrypt"], {
        input: Buffer.from(share, "base64"),
        env: { ...process.env, GNUPGHOME: live.gnupgHome },
    });
    if (out.status !== 0) throw new Error(`gpg --decrypt failed: ${out.stderr.toString()}`);
    return out.stdout.toString("utf8").trim();
}

/** Put a declared container's volumes and uploads into its root (`files` replaces the listed rewrites). */
function lay(root: ContainerRoot, c: DeclaredContainer, files: Record<string, string>): void {
    for (const v of c.volumes) if (v.containerPath.startsWith("/vault/")) root.volume(v.containerPath);
    for (const u of c.uploads) {
        // Uploads not rewritten (e.g. the audit rotation script) go in exactly as declared.
        const content = files[u.file] ?? u.content;
        root.upload(u.file, content, u.permissions);
    }
}

/**
 * The program's rolling-change gate for one node (components/nodeReady.ts), as serialised into
 * state, with its addresses rewritten to the loopback ports (LOOPBACK_REWRITES).
 */
export function nodeGate(
    declared: DeclaredStack,
    caPem: string,
    name: string,
    overrides: Record<string, unknown> = {},
): { provider: ReturnType<typeof loadProvider>; inputs: Record<string, unknown> } {
    const d = declared.nodeReady[name];
    if (!d) throw new Error(`no NodeReady gate declared for ${name}`);
    const loopback = (i: number) => `https://127.0.0.1:${portsFor(i).api}`;
    const index = declared.nodeNames.indexOf(name);
    const inputs = {
        ...d.inputs,
        addr: loopback(index),
        peers: declared.nodeNames
            .map((_, i) => i)
            .filter((i) => i !== index)
            .map(loopback),
        caCert: caPem,
        ...overrides,
    };
    return { provider: loadProvider(d.providerText), inputs };
}

/**
 * The program's NodeTls push for one node (components/tls/nodeTls.ts), as serialised into state,
 * with the tier's rewrites (LOOPBACK_REWRITES): the stand-in engine, the node's loopback port and
 * the given test material.
 */
export function nodeTlsPush(
    declared: DeclaredStack,
    engineHost: string,
    name: string,
    material: { caPem: string; cert: string; key: string },
    overrides: Record<string, unknown> = {},
): { provider: ReturnType<typeof loadProvider>; inputs: Record<string, unknown> } {
    const d = declared.nodeTls[name];
    if (!d) throw new Error(`no NodeTls declared for ${name}`);
    const index = declared.nodeNames.indexOf(name);
    const inputs = {
        ...d.inputs,
        dockerHost: engineHost,
        addr: `https://127.0.0.1:${portsFor(index).api}`,
        caCertPem: material.caPem,
        certPem: material.cert,
        keyPem: material.key,
        ...overrides,
    };
    return { provider: loadProvider(d.providerText), inputs };
}

/**
 * Push new TLS material to a running node as `pulumi up` would after a renewal: the declared
 * provider's update (diff first: it must be an update, never a replacement), Vault reloading on SIGHUP.
 */
export async function pushTls(
    live: Live,
    name: string,
    material: Issued & { caPem: string },
): Promise<Record<string, unknown>> {
    const files = {
        caPem: material.caPem,
        cert: fs.readFileSync(material.cert, "utf8"),
        key: fs.readFileSync(material.key, "utf8"),
    };
    const p = nodeTlsPush(live.declared, live.engine.host, name, files);
    const olds = live.tlsState[name];
    const id = `node-tls-${name}`;
    const d = (await p.provider.diff(id, olds, p.inputs)) as { changes?: boolean; replaces?: string[] };
    if (d.replaces?.length) throw new Error(`NodeTls diff for ${name} wants a replacement: ${d.replaces.join(", ")}`);
    const outs = (await p.provider.update(id, olds, p.inputs)).outs as Record<string, unknown>;
    live.tlsState[name] = outs;
    live.tls[name] = material;
    return outs;
}

export async function healthStatus(n: Node): Promise<number> {
    return (await call(n.http, "GET", "sys/health?standbyok=true")).status;
}

export interface BringUpOptions {
    /**
     * Reuse this cluster's running transit unsealer, its seal token and so its transit key: a fresh
     * cluster (new data, CA, certificates, init) that shares only the seal key with `unsealerOf`.
     * Its nodes use the same loopback ports, so stop that cluster's nodes first.
     */
    unsealerOf?: Live;
    /** More config on top of Pulumi.local.yaml and STACK_OVERRIDES (e.g. migrationWindow), listed by the test that sets it. */
    config?: Record<string, string>;
}

export async function bringUp(opts: BringUpOptions = {}): Promise<Live> {
    checkPrerequisites();
    const t0 = Date.now();
    const timings: Record<string, number> = {};
    const base = makeTempBase("bonito-conformance-");
    const logDir = path.join(base, "logs");
    fs.mkdirSync(logDir);
    const gnupgHome = path.join(base, "gnupg");
    const pgpKey = gpgTestKey(gnupgHome);

    const declared = await declaredStack("local", {
        recoveryPgpKeys: JSON.stringify([pgpKey]),
        approleWrappingTtl: STACK_OVERRIDES.approleWrappingTtl,
        auditShipMaxDelayMinutes: STACK_OVERRIDES.auditShipMaxDelayMinutes,
        ...opts.config,
    });
    const cfg = declared.config;
    const org = `${cfg.clusterName}-${cfg.stack}`;

    const ca = new TestCa(path.join(base, "pki"), declared.ca, org);
    const caPem = ca.pem;
    const strangerCa = new TestCa(path.join(base, "stranger"), declared.ca, "stranger");
    const stranger = strangerCa.issue("stranger", declared.nodeCerts[declared.nodeNames[0]], "stranger");

    // --- the transit unsealer
    const u = declared.unsealer;
    const ui = declared.unsealerInit;
    if (!u || !ui) throw new Error("the local stack declares no unsealer");
    let unsealerRoot: ContainerRoot;
    let unsealer: Running;
    let unsealerOut: { transitToken: string; unsealKey: string };
    if (opts.unsealerOf) {
        ({ unsealer, unsealerRoot } = opts.unsealerOf);
        unsealerOut = { transitToken: opts.unsealerOf.transitToken, unsealKey: opts.unsealerOf.unsealKey };
    } else {
        unsealerRoot = new ContainerRoot("unsealer", base);
        const unsealerConfigUpload = u.uploads.find((x) => x.file.endsWith(".json"))!;
        lay(unsealerRoot, u, {
            [unsealerConfigUpload.file]: JSON.stringify(
                rewriteUnsealerConfig(unsealerConfigUpload.content, UNSEALER_PORT),
            ),
        });
        unsealer = startContainer(u, unsealerRoot, envMap(u), logDir);
        const unsealerProvider = loadProvider(ui.providerText);
        const unsealerInputs = { ...ui.inputs, address: `http://127.0.0.1:${UNSEALER_PORT}` };
        unsealerOut = (await unsealerProvider.create(unsealerInputs)).outs as {
            transitToken: string;
            unsealKey: string;
        };
    }
    timings.unsealerReadyMs = Date.now() - t0;

    // --- the three nodes
    const declaredPorts = { api: cfg.apiPort, cluster: cfg.clusterPort, peer: cfg.peerPort };
    const roots: Record<string, ContainerRoot> = {};
    const envOf: Record<string, Record<string, string>> = {};
    const nodes: Node[] = declared.nodeNames.map((name, i) => ({
        name,
        ports: portsFor(i),
        http: transport(portsFor(i).api, caPem, name),
    }));
    const diagnose: Live["diagnose"] = {};
    const tls: Live["tls"] = {};
    const procs: Record<string, Running> = {};
    const containers = new Map(
        declared.nodeNames.map((name) => [
            String(declared.nodeTls[name]?.inputs.containerId),
            { root: undefined as unknown as ContainerRoot, proc: () => procs[name] },
        ]),
    );
    const engine = await startStandInEngine(path.join(base, "docker.sock"), containers);
    for (const [i, name] of declared.nodeNames.entries()) {
        const c = declared.nodes[name];
        const root = new ContainerRoot(name, base);
        roots[name] = root;
        containers.get(String(declared.nodeTls[name].inputs.containerId))!.root = root;
        const issued = ca.issue(name, declared.nodeCerts[name], org);
        tls[name] = { ...issued, caPem };
        const serverJson = c.uploads.find((x) => x.file.endsWith("/server.json"))!;
        const rewritten = rewriteServerConfig(
            serverJson.content,
            name,
            declared.nodeNames,
            declaredPorts,
            `127.0.0.1:${UNSEALER_PORT}`,
        );
        const files: Record<string, string> = { [serverJson.file]: JSON.stringify(rewritten, null, 2) };
        if (c.uploads.some((up) => up.file.startsWith("/vault/tls/")))
            throw new Error(
                `${name}: the container uploads TLS files; NodeTls writes them (components/tls/nodeTls.ts)`,
            );
        lay(root, c, files);
        // For diagnose only (it reads the certificate): the files NodeTls will write, removed again below.
        const material = {
            caCertPem: caPem,
            certPem: fs.readFileSync(issued.cert, "utf8"),
            keyPem: fs.readFileSync(issued.key, "utf8"),
            uid: 0,
            gid: 0,
        };
        extractInto(root, tarArchive(tlsEntries(material), Math.floor(Date.now() / 1000)));
        const env = envMap(c);
        env.VAULT_TOKEN = unsealerOut.transitToken;
        env.VAULT_ADDR = `https://127.0.0.1:${portsFor(i).api}`;
        envOf[name] = env;
        // `vault operator diagnose` through the declared entrypoint, before the first start (it
        // binds the listeners itself). Its skips are listed where the test asserts on it.
        const configArg = c.command.find((a) => a.startsWith("-config="))!;
        diagnose[name] = await runOnce(c, root, env, ["operator", "diagnose", configArg], logDir);
        fs.rmSync(path.dirname(root.hostPath(PATHS.tlsPushed)), { recursive: true, force: true });
    }
    // Each container started (its entrypoint waits for the TLS files), then its NodeTls push, as
    // `pulumi up` orders them: the push depends on the container.
    const firstPushes: Record<string, string> = {};
    const tlsState: Live["tlsState"] = {};
    for (const name of declared.nodeNames) {
        procs[name] = startContainer(declared.nodes[name], roots[name], envOf[name], logDir);
        // A container whose TLS files are not there yet: its entrypoint says so and waits.
        await waitUntil(`${name}'s entrypoint waiting for its TLS files`, 30000, async () =>
            fs.readFileSync(procs[name].logFile, "utf8").includes(`waiting for ${PATHS.tlsPushed}`) ? true : undefined,
        );
        const files = {
            caPem,
            cert: fs.readFileSync(tls[name].cert, "utf8"),
            key: fs.readFileSync(tls[name].key, "utf8"),
        };
        const push = nodeTlsPush(declared, engine.host, name, files);
        tlsState[name] = (await push.provider.create(push.inputs)).outs as Record<string, unknown>;
        firstPushes[name] = String(tlsState[name].reload);
    }
    timings.firstPushesMs = Date.now() - t0;
    // The rolling-change gates, as a first `pulumi up` runs them (each after its container, before init).
    const firstGates: Record<string, string> = {};
    for (const name of declared.nodeNames) {
        const g = nodeGate(declared, caPem, name);
        firstGates[name] = String((await g.provider.create(g.inputs)).outs.passedBecause);
    }
    timings.firstGatesMs = Date.now() - t0;

    // --- init through the program's VaultInit provider (node 0, as adminAddr points at it)
    const initProvider = loadProvider(declared.vaultInit.providerText);
    const initInputs = {
        ...declared.vaultInit.inputs,
        addr: `https://127.0.0.1:${nodes[0].ports.api}`,
        caCert: caPem,
    };
    const init = (await initProvider.create(initInputs)).outs as Live["init"];
    // All three unsealed by transit and voters, joined by retry_join alone (nothing here calls raft/join).
    await waitUntil("three unsealed nodes", 120000, async () => {
        const s = await Promise.all(nodes.map(healthStatus));
        return s.every((x) => x === 200) ? true : undefined;
    });
    const raftServers = await waitUntil("three Raft voters", 120000, async () => {
        const r = await call(nodes[0].http, "GET", "sys/storage/raft/configuration", init.rootToken);
        const servers = (r.body as { data?: { config?: { servers?: RaftServer[] } } }).data?.config?.servers ?? [];
        return servers.length === 3 && servers.every((s) => s.voter) ? servers : undefined;
    });
    timings.threeUnsealedVotersMs = Date.now() - t0;

    // --- hand-over through VaultHandover, then the settings as the provider would apply them
    const handoverProvider = loadProvider(declared.vaultHandover.providerText);
    const handoverInputs = {
        ...declared.vaultHandover.inputs,
        addr: initInputs.addr,
        caCert: caPem,
        rootToken: init.rootToken,
    };
    const handover = (await handoverProvider.create(handoverInputs)).outs as Live["handover"];
    const ep = { port: nodes[0].ports.api, ca: caPem, serverName: nodes[0].name };
    // The rolling identity the gates hold (one RollCredential for the cluster, in every gate's inputs).
    const rolling = declared.nodeReady[declared.nodeNames[0]].inputs.credential as
        { roleId: string; secretId: string } | undefined;
    const applied = await applySettings(ep, declared.plan, handover, cfg.approle.wrappingTtl, rolling);
    // backendEnv as the program renders it, with the live credentials; then the backend's own start
    // step (BACKEND_CA_WRITE_COMMAND) writes the CA file the backend's client verifies against.
    const backendEnv = renderBackendEnv({
        addr: cfg.backendAddr,
        roleId: applied.roleIds["bonito-backend"],
        secret: applied.wrappedSecretId ?? applied.secretIds["bonito-backend"],
        wrapped: !!applied.wrappedSecretId,
        caCert: caPem,
        caCertPath: cfg.backendCaCertPath,
        mount: declared.plan.kvMount.path,
    });
    const backendCaFile = path.join(base, "backend", path.basename(backendEnv.VAULT_CACERT));
    execFileSync("sh", ["-c", BACKEND_CA_WRITE_COMMAND], {
        env: { PATH: process.env.PATH, VAULT_CACERT: backendCaFile, VAULT_CACERT_BYTES: backendEnv.VAULT_CACERT_BYTES },
    });
    const backendUrl = new URL(backendEnv.VAULT_ADDR);
    const backendHttp = transport(nodes[0].ports.api, fs.readFileSync(backendCaFile, "utf8"), backendUrl.hostname);
    timings.bootstrappedMs = Date.now() - t0;
    // Where each log stood when the cluster was up: the start-up checks read up to here, the
    // fault tests append after it.
    const logMarks = Object.fromEntries(
        [...declared.nodeNames, "unsealer"].map((n) => [
            n,
            fs.statSync(n === "unsealer" ? unsealer.logFile : path.join(logDir, `${n}.log`)).size,
        ]),
    );

    return {
        base,
        declared,
        ca,
        caPem,
        stranger,
        gnupgHome,
        unsealer,
        unsealerRoot,
        transitToken: unsealerOut.transitToken,
        unsealKey: unsealerOut.unsealKey,
        roots,
        procs,
        engine,
        tls,
        tlsState,
        firstPushes,
        nodes,
        envOf,
        init: { ...init, inputs: initInputs },
        handover: { ...handover, inputs: handoverInputs },
        applied,
        backendEnv,
        backendHttp,
        backendCaFile,
        diagnose,
        firstGates,
        raftServers,
        logMarks,
        timings,
        rewrites: LOOPBACK_REWRITES,
    };
}

export async function tearDown(live: Live | undefined, base?: string): Promise<void> {
    await stopAll();
    await live?.engine.close();
    const dir = live?.base ?? base;
    if (dir && process.env.BONITO_CONFORMANCE_KEEP !== "1") fs.rmSync(dir, { recursive: true, force: true });
}

/** Restart one node's process (same root, same env), as `docker restart` would. */
export function restartNode(
    live: Live,
    name: string,
    logDir = path.join(live.base, "logs"),
    opts: ContainerOptions = {},
): Running {
    const p = startContainer(live.declared.nodes[name], live.roots[name], live.envOf[name], logDir, opts);
    live.procs[name] = p;
    return p;
}
