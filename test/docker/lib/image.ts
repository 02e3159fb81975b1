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
