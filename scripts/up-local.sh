#!/usr/bin/env bash
# `npm run up:local`: deploy the local stack to this workstation's Docker daemon, with Pulumi
# state in ./.pulumi-state (a file backend: no Pulumi Cloud account needed). Extra arguments go to
# `pulumi up` (e.g. --yes). The pulumi CLI comes from the npm `pulumi` package (devDependency),
# which downloads the CLI on first use, or from your PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    echo "Set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE: it encrypts this stack's secrets (keys, tokens) in state." >&2
    exit 2
fi
mkdir -p .pulumi-state
pulumi=(npx --no-install pulumi)
command -v pulumi >/dev/null 2>&1 && pulumi=(pulumi)
"${pulumi[@]}" stack select local --create --secrets-provider passphrase
"${pulumi[@]}" up --stack local "$@"
