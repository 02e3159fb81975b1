#!/usr/bin/env bash
# `npm run up:local`: deploy the local stack to this workstation's Docker daemon, with Pulumi
# state in ./.pulumi-state (a file backend: no Pulumi Cloud account needed). Extra arguments go to
# `pulumi up` (e.g. --yes). It first checks what it needs (scripts/check-local-prereqs.sh: the
# Pulumi CLI, a reachable Docker daemon, the state passphrase) and names whatever is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
pulumi="$(bash scripts/check-local-prereqs.sh)"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
mkdir -p .pulumi-state
"$pulumi" stack select local --create --secrets-provider passphrase
"$pulumi" up --stack local "$@"
