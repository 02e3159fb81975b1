/**
 * The stand-in for hashicorp/vault:1.21.1, built locally because no image registry is reachable:
 * `docker import` of a root filesystem holding what the official image's Dockerfile gives the
 * program — busybox (Debian's static build, with its applet links: sh, wget, pidof, gzip, …), su-exec
 * (Debian's static gosu under that name: same `su-exec user cmd…` call), the Vault 1.21.1 binary
 * built from source (tools/bin/vault), the `vault` user 100 / group 1000, and /vault/{config,file,logs}
 * owned by it. Nothing the program relies on is added beyond that.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Engine } from "./engine";

export const IMAGE = "bonito-vault-docker-tier/vault:1.21.1-standin";

/** Where this repository's Vault binary is (scripts/build-vault.sh builds it there). */
export function vaultBinary(): string {
    return path.resolve(__dirname, "../../../tools/bin/vault");
}

function isStatic(file: string): boolean {
    // `ldd` says "not a dynamic executable" (exit 1) for static binaries.
    try {
        execFileSync("ldd", [file], { stdio: ["ignore", "pipe", "pipe"] });
        return false;
    } catch {
        return true;
    }
}

function findGosu(): string {
    for (const p of ["/usr/sbin/gosu", "/usr/bin/gosu", "/usr/local/bin/gosu"]) if (fs.existsSync(p)) return p;
    throw new Error("gosu not found (apt-get install gosu)");
}

export async function buildImage(engine: Engine): Promise<string> {
    const vault = vaultBinary();
    if (!fs.existsSync(vault))
        throw new Error(`no Vault binary at ${vault}: build it with scripts/build-vault.sh (or link one there)`);
    const gosu = findGosu();
    for (const bin of ["/bin/busybox", gosu, vault])
        if (!isStatic(fs.realpathSync(bin))) throw new Error(`${bin} is not static: its libraries would be missing`);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-rootfs-"));
    try {
        for (const d of [
            "bin",
            "sbin",
            "usr/bin",
            "usr/sbin",
            "usr/local/bin",
            "etc",
            "tmp",
            "root",
            "dev",
            "proc",
            "sys",
        ])
            fs.mkdirSync(path.join(root, d), { recursive: true });
        fs.chmodSync(path.join(root, "tmp"), 0o1777);
        fs.copyFileSync("/bin/busybox", path.join(root, "bin/busybox"));
        fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
        const applets = execFileSync("/bin/busybox", ["--list-full"], { encoding: "utf8" }).split("\n").filter(Boolean);
        for (const a of applets) {
            const link = path.join(root, a);
            if (fs.existsSync(link)) continue;
            fs.mkdirSync(path.dirname(link), { recursive: true });
            fs.symlinkSync("/bin/busybox", link);
        }
        fs.copyFileSync(gosu, path.join(root, "usr/local/bin/su-exec"));
        fs.chmodSync(path.join(root, "usr/local/bin/su-exec"), 0o755);
        fs.copyFileSync(vault, path.join(root, "bin/vault"));
        fs.chmodSync(path.join(root, "bin/vault"), 0o755);
        // As in the official image (alpine `addgroup vault && adduser -S -G vault vault`).
        fs.writeFileSync(
            path.join(root, "etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\nvault:x:100:1000:Linux User,,,:/home/vault:/sbin/nologin\n",
        );
        fs.writeFileSync(path.join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\nvault:x:1000:vault\n");
        fs.writeFileSync(path.join(root, "etc/hosts"), "127.0.0.1 localhost\n");
        for (const d of ["vault/config", "vault/file", "vault/logs"])
            fs.mkdirSync(path.join(root, d), { recursive: true });
        // The vault user owns /vault, as `chown -R vault:vault /vault` does in the official Dockerfile.
        for (const d of ["vault", "vault/config", "vault/file", "vault/logs"])
            fs.chownSync(path.join(root, d), 100, 1000);
        const tar = execFileSync("tar", ["-C", root, "--numeric-owner", "-c", "."], { maxBuffer: 1024 * 1024 * 1024 });
        await engine.docker(
            [
                "import",
                "--change",
                'CMD ["server", "-dev"]',
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "-",
                IMAGE,
            ],
            { input: tar },
        );
        return IMAGE;
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

/**
 * Stand-ins for the sidecar images the `local` stack declares with monitoring bundled and audit
 * shipping on, each shaped like its upstream Dockerfile where the program relies on it (entrypoint,
 * the users and folders a volume copies up, busybox for the shell the shipper runs and the probes
 * use) with the binary from this machine: Debian bookworm's prometheus 2.42.0,
 * prometheus-alertmanager 0.25.0, prometheus-blackbox-exporter 0.23.0 and mtail 3.0.0-rc50
 * (scripts/monitoring-tools.sh installs them; the versions the defaults pin), and rclone v1.76.0 from
 * tools/bin. Debian's binaries are dynamically linked (upstream's are static Go builds): their
 * libraries (`ldd`) are copied beside them.
 */
export interface SidecarImage {
    /** The tag the tier gives it. */
    tag: string;
    /** What it stands in for. */
    upstream: string;
}

interface RootfsSpec {
    tag: string;
    /** Host binary → path in the image. */
    bins: Record<string, string>;
    /** Data files from the host's package: host path → path in the image. */
    data?: Record<string, string>;
    /** Folders to create: path → [uid, gid, mode]. */
    dirs?: Record<string, [number, number, number]>;
    passwd: string;
    group: string;
    changes: string[];
}

function sharedLibs(bin: string): string[] {
    if (isStatic(bin)) return [];
    const out = execFileSync("ldd", [bin], { encoding: "utf8" });
    return [...out.matchAll(/(\/\S+\.so[^\s]*)/g)].map((m) => m[1]);
}

async function importRootfs(engine: Engine, spec: RootfsSpec): Promise<void> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-rootfs-"));
    try {
        for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "tmp", "root", "dev", "proc", "sys"])
            fs.mkdirSync(path.join(root, d), { recursive: true });
        fs.chmodSync(path.join(root, "tmp"), 0o1777);
        fs.copyFileSync("/bin/busybox", path.join(root, "bin/busybox"));
        fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
        for (const a of execFileSync("/bin/busybox", ["--list-full"], { encoding: "utf8" }).split("\n")) {
            if (!a) continue;
            const link = path.join(root, a);
            if (fs.existsSync(link)) continue;
            fs.mkdirSync(path.dirname(link), { recursive: true });
            fs.symlinkSync("/bin/busybox", link);
        }
        for (const [from, to] of Object.entries(spec.bins)) {
            const real = fs.realpathSync(from);
            fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
            fs.copyFileSync(real, path.join(root, to));
            fs.chmodSync(path.join(root, to), 0o755);
            for (const lib of sharedLibs(real)) {
                const dest = path.join(root, lib);
                if (fs.existsSync(dest)) continue;
                fs.mkdirSync(path.dirname(dest), { recursive: true });
                fs.copyFileSync(fs.realpathSync(lib), dest);
            }
        }
        for (const [from, to] of Object.entries(spec.data ?? {})) {
            fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
            fs.copyFileSync(from, path.join(root, to));
        }
        for (const [d, [uid, gid, mode]] of Object.entries(spec.dirs ?? {})) {
            fs.mkdirSync(path.join(root, d), { recursive: true });
            fs.chownSync(path.join(root, d), uid, gid);
            fs.chmodSync(path.join(root, d), mode);
        }
        fs.writeFileSync(path.join(root, "etc/passwd"), spec.passwd);
        fs.writeFileSync(path.join(root, "etc/group"), spec.group);
        const tar = execFileSync("tar", ["-C", root, "--numeric-owner", "-c", "."], { maxBuffer: 1024 * 1024 * 1024 });
        await engine.docker(["import", ...spec.changes.flatMap((c) => ["--change", c]), "-", spec.tag], {
            input: tar,
        });
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

const BUSYBOX_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n";
const BUSYBOX_GROUP = "root:x:0:\nnogroup:x:65534:\n";
const PATH_ENV = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const NOBODY: [number, number, number] = [65534, 65534, 0o755];

/** Which stand-in runs for which declared image (keyed by the role label the program gives each container). */
export const SIDECAR_IMAGES: Record<string, SidecarImage> = {
    prometheus: { tag: "bonito-vault-docker-tier/prometheus:2.42.0-standin", upstream: "prom/prometheus" },
    alertmanager: { tag: "bonito-vault-docker-tier/alertmanager:0.25.0-standin", upstream: "prom/alertmanager" },
    blackbox: { tag: "bonito-vault-docker-tier/blackbox:0.23.0-standin", upstream: "prom/blackbox-exporter" },
    mtail: { tag: "bonito-vault-docker-tier/mtail:3.0.0-rc50-standin", upstream: "README's mtail build" },
    "audit-shipper": { tag: "bonito-vault-docker-tier/rclone:1.76.0-standin", upstream: "rclone/rclone" },
};
/**
 * The archive's one-shot owner step runs on the Vault image (its vault-owned /vault/file is copied
 * up), and so does the metrics agent (`vault agent`, the stack's own binary).
 */
const ON_VAULT_IMAGE = ["audit-archive-init", "metrics-agent"];
export const SIDECAR_ROLES = [...Object.keys(SIDECAR_IMAGES), ...ON_VAULT_IMAGE];
export const sidecarImage = (role: string): string =>
    ON_VAULT_IMAGE.includes(role) ? IMAGE : SIDECAR_IMAGES[role].tag;

export function rcloneBinary(): string {
    return path.resolve(__dirname, "../../../tools/bin/rclone");
}

export async function buildSidecarImages(engine: Engine): Promise<string[]> {
    for (const b of ["prometheus", "prometheus-alertmanager", "prometheus-blackbox-exporter", "mtail"])
        if (!fs.existsSync(`/usr/bin/${b}`))
            throw new Error(`/usr/bin/${b} missing: run scripts/monitoring-tools.sh (Debian packages)`);
    if (!fs.existsSync(rcloneBinary())) throw new Error(`no rclone at ${rcloneBinary()} (scripts build it there)`);
    const prom = { passwd: BUSYBOX_PASSWD, group: BUSYBOX_GROUP };
    // prom/prometheus: `chown -R nobody:nobody etc/prometheus /prometheus`, USER nobody, WORKDIR /prometheus.
    await importRootfs(engine, {
        tag: SIDECAR_IMAGES.prometheus.tag,
        bins: { "/usr/bin/prometheus": "/bin/prometheus" },
        dirs: { "etc/prometheus": NOBODY, prometheus: NOBODY },
        ...prom,
        changes: [PATH_ENV, 'ENTRYPOINT ["/bin/prometheus"]', "USER nobody", "WORKDIR /prometheus"],
    });
    // prom/alertmanager: `chown -R nobody:nobody etc/alertmanager /alertmanager`, USER nobody, WORKDIR /alertmanager.
    await importRootfs(engine, {
        tag: SIDECAR_IMAGES.alertmanager.tag,
        bins: { "/usr/bin/prometheus-alertmanager": "/bin/alertmanager" },
        // Debian's build reads its notification templates from here (upstream embeds them).
        data: Object.fromEntries(
            ["default.tmpl", "email.tmpl"].map((f) => [
                `/usr/share/prometheus/alertmanager/${f}`,
                `/usr/share/prometheus/alertmanager/${f}`,
            ]),
        ),
        dirs: { "etc/alertmanager": NOBODY, alertmanager: NOBODY },
        ...prom,
        changes: [PATH_ENV, 'ENTRYPOINT ["/bin/alertmanager"]', "USER nobody", "WORKDIR /alertmanager"],
    });
    // prom/blackbox-exporter: ENTRYPOINT ["/bin/blackbox_exporter"] (runs as root unless told; the program says nobody).
    await importRootfs(engine, {
        tag: SIDECAR_IMAGES.blackbox.tag,
        bins: { "/usr/bin/prometheus-blackbox-exporter": "/bin/blackbox_exporter" },
        ...prom,
        changes: [PATH_ENV, 'ENTRYPOINT ["/bin/blackbox_exporter"]'],
    });
    // README: FROM debian:bookworm-slim, apt-get install mtail, ENTRYPOINT ["mtail", "--logtostderr"].
    await importRootfs(engine, {
        tag: SIDECAR_IMAGES.mtail.tag,
        bins: { "/usr/bin/mtail": "/usr/bin/mtail" },
        ...prom,
        changes: [PATH_ENV, 'ENTRYPOINT ["mtail", "--logtostderr"]'],
    });
    // rclone/rclone: alpine, rclone in /usr/local/bin, ENTRYPOINT ["rclone"], WORKDIR /data, XDG_CONFIG_HOME=/config.
    await importRootfs(engine, {
        tag: SIDECAR_IMAGES["audit-shipper"].tag,
        bins: { [rcloneBinary()]: "/usr/local/bin/rclone" },
        dirs: { data: [0, 0, 0o755], config: [0, 0, 0o755] },
        ...prom,
        changes: [PATH_ENV, "ENV XDG_CONFIG_HOME=/config", 'ENTRYPOINT ["rclone"]', "WORKDIR /data"],
    });
    return Object.values(SIDECAR_IMAGES).map((i) => i.tag);
}
