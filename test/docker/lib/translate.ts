/**
 * A declared docker.Container (its recorded, unredacted inputs) as the Docker Engine API's
 * `POST /containers/create` body and `PUT /containers/{id}/archive` uploads — what
 * @pulumi/docker's provider sends — and, in ONE place (`DIFFERENCES`), every way the Docker tier
 * runs a container differently from what the program declares, with the reason. An input this file
 * does not know fails the tier, so a new program input is never silently dropped.
 */
import * as fs from "node:fs";

export interface Difference {
    input: string;
    declared: string;
    run: string;
    reason: string;
}

/** Every difference the tier may apply. `translate` records which ones it applied, per container. */
export const DIFFERENCES = {
    image: {
        input: "image",
        declared: "hashicorp/vault:1.21.1 (docker.RemoteImage, pulled)",
        run: "a local stand-in image (test/docker/lib/image.ts): busybox-static, gosu as su-exec, Vault 1.21.1 built from source, vault 100:1000",
        reason: "no image registry is reachable from the test machine",
    },
    sidecarImage: {
        input: "image (monitoring and audit-shipper containers)",
        declared:
            "prom/prometheus:v2.42.0, prom/alertmanager:v0.25.0, prom/blackbox-exporter:v0.23.0, monitoringMtailImage (README's Debian mtail build), rclone/rclone:1.76.0 (docker.RemoteImage, pulled)",
        run: "local stand-ins (test/docker/lib/image.ts buildSidecarImages): the same versions' binaries (Debian bookworm's packages, dynamically linked, with their libraries; rclone v1.76.0 built here), busybox, upstream's entrypoint, USER, WORKDIR and nobody-owned data folders",
        reason: "no image registry is reachable from the test machine",
    },
    metricsLogin: {
        input: "uploads /etc/vault-agent/role-id and /etc/vault-agent/secret-id",
        declared:
            "the bonito-metrics AppRole's role ID and a secret ID (mock values under the mock runtime), issued through the admin AppRole",
        run: "the role ID and a secret ID of the declared bonito-metrics AppRole role, written on the real cluster (declared policy, role inputs and approle mount applied with the root token)",
        reason: "the mock runtime cannot reach the real cluster; the tier applies no admin AppRole",
    },
    caUpload: {
        input: "uploads of the cluster CA (/etc/prometheus/vault-ca.pem, /etc/blackbox/vault-ca.pem)",
        declared: "@pulumi/tls CA certificate (a mock PEM under the mock runtime)",
        run: "the CA that issued the nodes' certificates in this tier",
        reason: "the mock runtime produces placeholder PEMs",
    },
    nofile: {
        input: "ulimits nofile",
        declared: "65536",
        run: "the Docker daemon's own open-files limit",
        reason: "a container cannot get more open files than the daemon has; the sandbox caps the daemon lower",
    },
    ports: {
        input: "ports",
        declared: "API published on 127.0.0.1",
        run: "not published; probes go through docker exec",
        reason: "tier network rule: no published ports",
    },
    network: {
        input: "network (docker.Network)",
        declared: "bridge network with egress (cloud KMS)",
        run: "the same name, created --internal by the tier, with a subnet of its own",
        reason: "tier network rule: containers on an internal network only (the local stack needs no egress)",
    },
    devLog: {
        input: "mounts /dev/log",
        declared: "bind of the host's syslog socket",
        run: "dropped",
        reason: "the test host has no /dev/log (only with auditSecondDevice syslog; the local stack uses file)",
    },
    transitToken: {
        input: "envs VAULT_TOKEN",
        declared: "the UnsealerInit's transitToken (a mock value under the mock runtime)",
        run: "the token the program's own runBootstrap minted on the real unsealer",
        reason: "the mock runtime cannot run the dynamic provider against a real unsealer",
    },
    nodeTls: {
        input: "NodeTls (components/tls/nodeTls.ts) dockerHost, containerId, addr, caCertPem/certPem/keyPem",
        declared:
            "the Pulumi host's Docker daemon; the container's ID; https://127.0.0.1:8200+i (the published port); @pulumi/tls CA and node certificates (mock PEMs under the mock runtime)",
        run: "the declared provider (as serialised into state) against this tier's dockerd socket, with the container's real ID, https://<the node's address on the tier's network>:8200 (this host reaches it over the bridge; the tier gives the network a subnet of its own), openssl-issued certificates with the declared subject, SANs and key usages (test/conformance/lib/pki.ts)",
        reason: "no published ports on the tier's network; the mock runtime produces placeholder IDs and PEMs",
    },
} satisfies Record<string, Difference>;

export type DifferenceId = keyof typeof DIFFERENCES;

/** How the tier drives what `pulumi up` would (not container inputs), and why. */
export const PROCEDURE: Difference[] = [
    {
        input: "stack config",
        declared: "Pulumi.local.yaml: monitoring external (the default), auditShipping true (the default)",
        run: "monitoring bundled, monitoringWebhookUrl (secret) https://alerts.bonito.example/hooks/vault, monitoringMtailImage registry.bonito.example/mtail:3.0.0-rc50 (test/policies/fixtures.ts BUNDLED)",
        reason: "the bundled containers only exist with monitoring bundled; the receiver is unreachable by design (internal network)",
    },
    {
        input: "rotator / shipper race",
        declared:
            "rotation every 150 s when not empty (checked every 30 s), shipping every 60 s (auditShipMaxDelayMinutes 5)",
        run: "on the active node, both loops stopped and their uploaded/declared scripts run with a 1-byte threshold and 1-second periods (the shipper as a copy of its declared container) during 60 policy writes",
        reason: "many rotations and shipping rounds interleaved in seconds instead of hours",
    },
    {
        input: "UnsealerInit address",
        declared: "http://127.0.0.1:<localUnsealerPort> (the published port), through Node's fetch",
        run: "http://127.0.0.1:8200 inside the unsealer container, through `docker exec … wget` (PUT sent as POST, which Vault treats alike); same runBootstrap/ensureUnsealed code",
        reason: "no published ports, and fetch cannot reach an internal network",
    },
    {
        input: "VaultInit / VaultHandover / VaultSettings",
        declared: "dynamic providers and @pulumi/vault over the published API",
        run: "`vault operator init` with the declared recovery split, inside the first node; only the declared file audit device enabled (to rotate it)",
        reason: "the tier proves the containers; the settings are the real-server tier's subject",
    },
    {
        input: "audit rotation threshold",
        declared: "auditRotateSizeMb (100 MiB), checked every 60 s",
        run: "the uploaded loop, copied with a 1-byte threshold, run once as vault",
        reason: "reaching 100 MiB would take too long",
    },
];

/** Inputs only the Pulumi provider acts on (no engine field): nothing to translate. */
const PROVIDER_ONLY = new Set(["mustRun", "wait", "attach"]);
const KNOWN = new Set([
    "name",
    "image",
    "hostname",
    "user",
    "entrypoints",
    "command",
    "init",
    "envs",
    "capabilities",
    "securityOpts",
    "ulimits",
    "memory",
    "memorySwap",
    "restart",
    "healthcheck",
    "volumes",
    "mounts",
    "uploads",
    "ports",
    "networksAdvanced",
    "logDriver",
    "logOpts",
    "labels",
    "stopSignal",
    "stopTimeout",
    ...PROVIDER_ONLY,
]);

export interface Upload {
    file: string;
    content: string;
    owner?: string;
    group?: string;
    permissions?: string;
}

export interface Translated {
    name: string;
    body: Record<string, unknown>;
    uploads: Upload[];
    network: string;
    applied: DifferenceId[];
}

/** Go duration ("10s", "1m30s", "500ms") → nanoseconds, as the provider sends it. */
export function durationNs(d: string): number {
    const units: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6 };
    let total = 0;
    for (const [, n, u] of d.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(n) * units[u];
    if (!total && d !== "0s") throw new Error(`cannot read duration ${d}`);
    return total;
}

export interface TranslateOptions {
    image: string;
    /** The difference that explains the image (default `image`, the Vault stand-in). */
    imageDifference?: DifferenceId;
    nofileLimit: number;
    /** Environment variables to replace (name → value), each with the difference that explains it. */
    env?: Record<string, { value: string; because: DifferenceId }>;
    /** Upload contents to replace (path → content), each with its difference. */
    files?: Record<string, { content: string; because: DifferenceId }>;
}

export function translate(inputs: Record<string, unknown>, o: TranslateOptions): Translated {
    const unknown = Object.keys(inputs).filter((k) => !KNOWN.has(k));
    if (unknown.length) throw new Error(`docker tier: no translation for container input(s) ${unknown.join(", ")}`);
    const applied = new Set<DifferenceId>([o.imageDifference ?? "image"]);
    const name = String(inputs.name);

    const env = ((inputs.envs as string[] | undefined) ?? []).map((e) => {
        const key = e.slice(0, e.indexOf("="));
        const swap = o.env?.[key];
        if (!swap) return e;
        applied.add(swap.because);
        return `${key}=${swap.value}`;
    });

    const ulimits = ((inputs.ulimits as { name: string; soft: number; hard: number }[] | undefined) ?? []).map((u) => {
        if (u.name !== "nofile" || (u.hard <= o.nofileLimit && u.soft <= o.nofileLimit))
            return { Name: u.name, Soft: u.soft, Hard: u.hard };
        applied.add("nofile");
        return { Name: u.name, Soft: Math.min(u.soft, o.nofileLimit), Hard: Math.min(u.hard, o.nofileLimit) };
    });

    if (((inputs.ports as unknown[] | undefined) ?? []).length) applied.add("ports");

    const mounts: Record<string, unknown>[] = [];
    for (const m of (inputs.mounts as { type: string; source: string; target: string }[] | undefined) ?? []) {
        if (m.source === "/dev/log" && !fs.existsSync("/dev/log")) {
            applied.add("devLog");
            continue;
        }
        mounts.push({ Type: m.type, Source: m.source, Target: m.target });
    }
    const binds = (
        (inputs.volumes as
            { volumeName?: string; hostPath?: string; containerPath: string; readOnly?: boolean }[] | undefined) ?? []
    ).map((v) => `${v.volumeName ?? v.hostPath}:${v.containerPath}${v.readOnly ? ":ro" : ""}`);

    const nets = (inputs.networksAdvanced as { name: string; aliases?: string[] }[] | undefined) ?? [];
    if (nets.length !== 1) throw new Error(`${name}: expected one network, got ${nets.length}`);
    applied.add("network");

    const hc = inputs.healthcheck as
        { tests: string[]; interval?: string; timeout?: string; retries?: number; startPeriod?: string } | undefined;
    const caps = (inputs.capabilities as { adds?: string[]; drops?: string[] } | undefined) ?? {};
    const logOpts = (inputs.logOpts as Record<string, string> | undefined) ?? {};
    const labels = Object.fromEntries(
        ((inputs.labels as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value]),
    );
    const mb = (v: unknown) => (v === undefined ? undefined : Number(v) * 1024 * 1024);

    const uploads = ((inputs.uploads as Upload[] | undefined) ?? []).map((u) => {
        const swap = o.files?.[u.file];
        if (!swap) return u;
        applied.add(swap.because);
        return { ...u, content: swap.content };
    });

    const body: Record<string, unknown> = {
        Hostname: inputs.hostname,
        User: inputs.user,
        Entrypoint: inputs.entrypoints,
        Cmd: inputs.command,
        Env: env,
        Image: o.image,
        Labels: labels,
        StopSignal: inputs.stopSignal,
        StopTimeout: inputs.stopTimeout,
        Healthcheck: hc
            ? {
                  Test: hc.tests,
                  Interval: hc.interval ? durationNs(hc.interval) : 0,
                  Timeout: hc.timeout ? durationNs(hc.timeout) : 0,
                  Retries: hc.retries ?? 0,
                  StartPeriod: hc.startPeriod ? durationNs(hc.startPeriod) : 0,
              }
            : undefined,
        HostConfig: {
            Binds: binds,
            Mounts: mounts,
            CapAdd: caps.adds ?? [],
            CapDrop: caps.drops ?? [],
            SecurityOpt: inputs.securityOpts ?? [],
            Ulimits: ulimits,
            Memory: mb(inputs.memory),
            MemorySwap: mb(inputs.memorySwap),
            RestartPolicy: { Name: inputs.restart ?? "no" },
            Init: inputs.init === true,
            LogConfig: { Type: inputs.logDriver ?? "json-file", Config: logOpts },
            NetworkMode: nets[0].name,
        },
        NetworkingConfig: { EndpointsConfig: { [nets[0].name]: { Aliases: nets[0].aliases ?? [] } } },
    };
    return { name, body, uploads, network: nets[0].name, applied: [...applied] };
}

/** A ustar archive of the uploads, each with its declared owner, group and mode (as the provider uploads). */
export function uploadTar(uploads: Upload[]): Buffer {
    const blocks: Buffer[] = [];
    const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, "0") + "\0";
    for (const u of uploads) {
        const data = Buffer.from(u.content, "utf8");
        const h = Buffer.alloc(512);
        const name = u.file.replace(/^\/+/, "");
        if (name.length > 99) throw new Error(`upload path too long for ustar: ${u.file}`);
        h.write(name, 0, "utf8");
        h.write(octal(parseInt(u.permissions ?? "0644", 8), 8), 100);
        h.write(octal(Number(u.owner ?? 0), 8), 108);
        h.write(octal(Number(u.group ?? 0), 8), 116);
        h.write(octal(data.length, 12), 124);
        h.write(octal(Math.floor(Date.now() / 1000), 12), 136);
        h.write("        ", 148);
        h.write("0", 156);
        h.write("ustar\0", 257);
        h.write("00", 263);
        let sum = 0;
        for (const b of h) sum += b;
        h.write(octal(sum, 7) + " ", 148);
        blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
    blocks.push(Buffer.alloc(1024));
    return Buffer.concat(blocks);
}
