/**
 * scripts/check-local-prereqs.sh, the first thing `npm run up:local` runs, with a controlled PATH,
 * HOME and environment over a made-up project tree (BONITO_ROOT).
 * Proves: with nothing installed it names the Pulumi CLI (where the npm package would keep it and the
 * install command), the Docker socket it tried and the passphrase, all at once, exit 2; it finds the
 * npm package's downloaded CLI without starting a download, prefers a real pulumi on PATH over
 * node_modules/.bin's downloader, and names DOCKER_HOST and the docker CLI's own error.
 * Does not prove: that `pulumi up` then succeeds (needs the CLI and a Docker daemon; test/docker).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";

const SCRIPT = path.join(__dirname, "..", "..", "scripts", "check-local-prereqs.sh");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-prereqs-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Only the system tools the script uses, so no real pulumi or docker on this machine leaks in. */
const tools = path.join(tmp, "tools");
fs.mkdirSync(tools);
for (const t of ["bash", "sed", "head", "tail", "grep", "readlink", "timeout", "id", "dirname", "curl"]) {
    const at = execFileSync("bash", ["-c", `command -v ${t}`])
        .toString()
        .trim();
    fs.symlinkSync(at, path.join(tools, t));
}

function project(name: string): string {
    const root = path.join(tmp, name);
    fs.mkdirSync(path.join(root, "node_modules", "pulumi"), { recursive: true });
    fs.mkdirSync(path.join(root, "node_modules", "@pulumi", "pulumi"), { recursive: true });
    fs.mkdirSync(path.join(root, "node_modules", ".bin"), { recursive: true });
    fs.writeFileSync(path.join(root, "node_modules", "pulumi", "package.json"), '{\n    "version": "3.265.0"\n}\n');
    fs.writeFileSync(path.join(root, "node_modules", "pulumi", "run.js"), "#!/usr/bin/env node\n", { mode: 0o755 });
    fs.symlinkSync("../pulumi/run.js", path.join(root, "node_modules", ".bin", "pulumi"));
    fs.writeFileSync(path.join(root, "node_modules", "@pulumi", "pulumi", "package.json"), "{}");
    fs.mkdirSync(path.join(root, "home"));
    fs.mkdirSync(path.join(root, "bin"));
    return root;
}

function fake(file: string, script: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `#!${path.join(tools, "bash")}\n${script}\n`, { mode: 0o755 });
}

function check(root: string, env: Record<string, string>, extraPath: string[] = []) {
    const r = spawnSync(path.join(tools, "bash"), [SCRIPT], {
        env: {
            PATH: [...extraPath, path.join(root, "bin"), tools].join(":"),
            HOME: path.join(root, "home"),
            BONITO_ROOT: root,
            ...env,
        },
        encoding: "utf8",
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("check-local-prereqs.sh", () => {
    it("names everything missing at once, with where it looked and how to get it", () => {
        const root = project("bare");
        const sock = path.join(root, "docker.sock");
        const r = check(root, { DOCKER_HOST: `unix://${sock}` }, [path.join(root, "node_modules", ".bin")]);
        assert.equal(r.status, 2);
        assert.equal(r.stdout, "");
        assert.equal(
            r.stderr,
            [
                "npm run up:local cannot start; it needs:",
                "  - the Pulumi CLI: no pulumi on PATH, and the npm pulumi package's copy of v3.265.0 is not downloaded",
                `    (looked for ${root}/home/.pulumi/versions/3.265.0/bin/pulumi; the package fetches it from get.pulumi.com on first use, which needs internet).`,
                "    Install it, then open a new shell (or add ~/.pulumi/bin to PATH):",
                "        curl -fsSL https://get.pulumi.com | sh",
                "    or: brew install pulumi/tap/pulumi (macOS) · choco install pulumi (Windows) ·",
                "        curl -fsSL https://get.pulumi.com | sh -s -- --version 3.265.0 (this exact version)",
                `  - a reachable Docker daemon: tried unix://${sock} (DOCKER_HOST): there is no socket at ${sock}`,
                "    Start Docker (sudo systemctl start docker, or open Docker Desktop), or set DOCKER_HOST to a daemon you can reach (e.g. unix:///run/user/$UID/docker.sock for rootless Docker).",
                "  - the state passphrase: set PULUMI_CONFIG_PASSPHRASE, or PULUMI_CONFIG_PASSPHRASE_FILE to a file holding it.",
                "    It encrypts this stack's secrets (keys, tokens) in ./.pulumi-state; keep it, as the same one is needed for every later up:",
                "        export PULUMI_CONFIG_PASSPHRASE='<a long passphrase you keep in your password manager>'",
                "",
            ].join("\n"),
        );
    });

    it("says which socket it tried when DOCKER_HOST is unset", () => {
        const root = project("default-socket");
        const r = check(root, { PULUMI_CONFIG_PASSPHRASE: "x" });
        assert.equal(r.status, 2);
        assert.match(
            r.stderr,
            /\n {2}- a reachable Docker daemon: tried unix:\/\/\/var\/run\/docker\.sock \(the default socket; DOCKER_HOST is not set\): /,
        );
    });

    it("finds the npm package's downloaded CLI without downloading, and a daemon through the docker CLI", () => {
        const root = project("cached");
        fake(path.join(root, "pulumi-home", "versions", "3.265.0", "bin", "pulumi"), "echo v3.265.0");
        fake(path.join(root, "bin", "docker"), 'echo "27.3.1"');
        const r = check(root, { PULUMI_HOME: path.join(root, "pulumi-home"), PULUMI_CONFIG_PASSPHRASE: "x" }, [
            path.join(root, "node_modules", ".bin"),
        ]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, `${root}/node_modules/pulumi/run.js\n`);
        assert.equal(
            r.stderr,
            [
                `ok: Pulumi CLI: v3.265.0 at ${root}/pulumi-home/versions/3.265.0/bin/pulumi (through the npm pulumi package)`,
                "ok: Docker daemon: unix:///var/run/docker.sock (the default socket; DOCKER_HOST is not set), server 27.3.1",
                "ok: passphrase: PULUMI_CONFIG_PASSPHRASE",
                "",
            ].join("\n"),
        );
    });

    it("prefers a real pulumi on PATH over node_modules/.bin's downloader; names DOCKER_HOST and a bad passphrase file", () => {
        const root = project("on-path");
        fake(path.join(root, "bin", "pulumi"), "echo v3.265.0");
        fake(
            path.join(root, "bin", "docker"),
            'echo "Cannot connect to the Docker daemon at tcp://10.0.0.1:2376. Is the docker daemon running?" >&2; exit 1',
        );
        const r = check(
            root,
            { DOCKER_HOST: "tcp://10.0.0.1:2376", PULUMI_CONFIG_PASSPHRASE_FILE: path.join(root, "nope") },
            [path.join(root, "node_modules", ".bin")],
        );
        assert.equal(r.status, 2);
        assert.equal(
            r.stderr,
            [
                "npm run up:local cannot start; it needs:",
                "  - a reachable Docker daemon: tried tcp://10.0.0.1:2376 (DOCKER_HOST): Cannot connect to the Docker daemon at tcp://10.0.0.1:2376. Is the docker daemon running?",
                "    Start Docker (sudo systemctl start docker, or open Docker Desktop), or set DOCKER_HOST to a daemon you can reach (e.g. unix:///run/user/$UID/docker.sock for rootless Docker).",
                `  - the state passphrase: PULUMI_CONFIG_PASSPHRASE_FILE is ${root}/nope, which is not a readable file`,
                "",
            ].join("\n"),
        );
        fs.writeFileSync(path.join(root, "pass"), "x");
        fake(path.join(root, "bin", "docker"), 'echo "27.3.1"');
        const ok = check(
            root,
            { DOCKER_HOST: "tcp://10.0.0.1:2376", PULUMI_CONFIG_PASSPHRASE_FILE: path.join(root, "pass") },
            [path.join(root, "node_modules", ".bin")],
        );
        assert.equal(ok.status, 0, ok.stderr);
        assert.equal(ok.stdout, `${root}/bin/pulumi\n`);
    });
});
