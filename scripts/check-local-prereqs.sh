#!/usr/bin/env bash
# What `npm run up:local` needs, checked before anything runs, each missing piece named with how to
# get it (all of them at once):
#   - the Pulumi CLI: a `pulumi` on PATH, or the copy the npm `pulumi` package (a devDependency)
#     keeps in $PULUMI_HOME/versions/<version>/bin. That package downloads the CLI from
#     get.pulumi.com on first use; this script only looks for the file, so it never starts a
#     download (which fails without internet, as "pulumi: fetch failed").
#   - a reachable Docker daemon: DOCKER_HOST, else unix:///var/run/docker.sock (the socket tried is named);
#   - PULUMI_CONFIG_PASSPHRASE, or PULUMI_CONFIG_PASSPHRASE_FILE naming a readable file;
#   - the project's node modules (npm ci).
# On success prints the pulumi command to run (one line) on stdout and a summary on stderr; exit 0.
# Otherwise prints what is missing on stderr; exit 2.
# BONITO_ROOT overrides the project folder (tests run this against a made-up tree).
set -uo pipefail
root="${BONITO_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}"
missing=()
ok=()

# --- Pulumi CLI ------------------------------------------------------------------------------
shim="$root/node_modules/pulumi/run.js"
pulumi_cmd=""
# npm puts node_modules/.bin on PATH; its `pulumi` is the npm package's downloader, not a CLI.
IFS=: read -r -a path_dirs <<<"${PATH:-}"
for d in "${path_dirs[@]}"; do
    [ -n "$d" ] && [ -x "$d/pulumi" ] && [ ! -d "$d/pulumi" ] || continue
    real="$(readlink -f "$d/pulumi" 2>/dev/null || echo "$d/pulumi")"
    case "$real" in */node_modules/pulumi/run.js) continue ;; esac
    pulumi_cmd="$d/pulumi"
    break
done
if [ -z "$pulumi_cmd" ] && [ -f "$root/node_modules/pulumi/package.json" ]; then
    version="${PULUMI_VERSION:-$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$root/node_modules/pulumi/package.json" | head -n 1)}"
    cached="${PULUMI_HOME:-$HOME/.pulumi}/versions/$version/bin/pulumi"
    if [ -x "$cached" ] && [ -s "$cached" ]; then
        pulumi_cmd="$shim"
        ok+=("Pulumi CLI: v$version at $cached (through the npm pulumi package)")
    else
        missing+=("the Pulumi CLI: no pulumi on PATH, and the npm pulumi package's copy of v$version is not downloaded
    (looked for $cached; the package fetches it from get.pulumi.com on first use, which needs internet).
    Install it, then open a new shell (or add ~/.pulumi/bin to PATH):
        curl -fsSL https://get.pulumi.com | sh
    or: brew install pulumi/tap/pulumi (macOS) · choco install pulumi (Windows) ·
        curl -fsSL https://get.pulumi.com | sh -s -- --version $version (this exact version)")
    fi
elif [ -z "$pulumi_cmd" ]; then
    missing+=("the Pulumi CLI: no pulumi on PATH. Install it: curl -fsSL https://get.pulumi.com | sh
    (or brew install pulumi/tap/pulumi · choco install pulumi), or run npm ci to get the npm pulumi package")
fi
[ -n "$pulumi_cmd" ] && [ "$pulumi_cmd" != "$shim" ] && ok+=("Pulumi CLI: $pulumi_cmd")

# --- node modules ----------------------------------------------------------------------------
if [ ! -f "$root/node_modules/@pulumi/pulumi/package.json" ]; then
    missing+=("the project's node modules: run npm ci (the program runs on @pulumi/pulumi and tsx)")
fi

# --- Docker daemon ---------------------------------------------------------------------------
if [ -n "${DOCKER_HOST:-}" ]; then
    docker_at="$DOCKER_HOST"
    docker_why="DOCKER_HOST"
else
    docker_at="unix:///var/run/docker.sock"
    docker_why="the default socket; DOCKER_HOST is not set"
fi
docker_fix="Start Docker (sudo systemctl start docker, or open Docker Desktop), or set DOCKER_HOST to a daemon you can reach (e.g. unix:///run/user/\$UID/docker.sock for rootless Docker)."
docker_problem=""
if command -v docker >/dev/null 2>&1; then
    if server="$(timeout 10 docker version --format '{{.Server.Version}}' 2>&1)"; then
        ok+=("Docker daemon: $docker_at ($docker_why), server $server")
    else
        docker_problem="$(printf '%s\n' "$server" | grep -v '^\s*$' | tail -n 1)"
    fi
else
    case "$docker_at" in
    unix://*)
        sock="${docker_at#unix://}"
        if [ ! -S "$sock" ]; then
            docker_problem="there is no socket at $sock"
        elif [ ! -w "$sock" ]; then
            docker_problem="$sock exists but $(id -un 2>/dev/null || echo "this user") may not write to it (add yourself to the docker group: sudo usermod -aG docker \$USER, then log in again)"
        elif command -v curl >/dev/null 2>&1 &&
            [ "$(curl -s --max-time 5 --unix-socket "$sock" http://localhost/_ping 2>/dev/null)" != "OK" ]; then
            docker_problem="nothing answers Docker's /_ping on $sock"
        else
            ok+=("Docker daemon: $docker_at ($docker_why)")
        fi
        ;;
    *)
        docker_problem="the docker CLI is not installed, so $docker_at cannot be checked; install it (https://docs.docker.com/engine/install/)"
        ;;
    esac
fi
if [ -n "$docker_problem" ]; then
    missing+=("a reachable Docker daemon: tried $docker_at ($docker_why): $docker_problem
    $docker_fix")
fi

# --- passphrase ------------------------------------------------------------------------------
if [ -n "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
    ok+=("passphrase: PULUMI_CONFIG_PASSPHRASE")
elif [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    if [ -r "$PULUMI_CONFIG_PASSPHRASE_FILE" ] && [ -f "$PULUMI_CONFIG_PASSPHRASE_FILE" ]; then
        ok+=("passphrase: PULUMI_CONFIG_PASSPHRASE_FILE ($PULUMI_CONFIG_PASSPHRASE_FILE)")
    else
        missing+=("the state passphrase: PULUMI_CONFIG_PASSPHRASE_FILE is $PULUMI_CONFIG_PASSPHRASE_FILE, which is not a readable file")
    fi
else
    missing+=("the state passphrase: set PULUMI_CONFIG_PASSPHRASE, or PULUMI_CONFIG_PASSPHRASE_FILE to a file holding it.
    It encrypts this stack's secrets (keys, tokens) in ./.pulumi-state; keep it, as the same one is needed for every later up:
        export PULUMI_CONFIG_PASSPHRASE='<a long passphrase you keep in your password manager>'")
fi

if [ ${#missing[@]} -gt 0 ]; then
    {
        echo "npm run up:local cannot start; it needs:"
        for m in "${missing[@]}"; do echo "  - $m"; done
    } >&2
    exit 2
fi
for o in "${ok[@]}"; do echo "ok: $o" >&2; done
echo "$pulumi_cmd"
