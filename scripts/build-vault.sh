#!/usr/bin/env bash
# Builds the HashiCorp Vault 1.21.1 server used by the real-server tier (test/conformance) from the Go
# module proxy, once, into tools/bin/vault (git-ignored), and reuses it when it is already there.
#
# The binary is a test tool used under Vault's licence terms for non-production use: it is never
# shipped, published or committed. tools/vault/go.mod pins the module graph (see the comments there).
set -euo pipefail
cd "$(dirname "$0")/.."
want="1.21.1"
bin="tools/bin/vault"
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "Vault v${want}"; then
    echo "build-vault: reusing $bin ($("$bin" version))"
    exit 0
fi
command -v go >/dev/null || { echo "build-vault: Go is required (https://go.dev/dl/ or the machine's toolchain)" >&2; exit 1; }
mkdir -p tools/bin
start=$(date +%s)
echo "build-vault: building github.com/hashicorp/vault v${want} (cold: 25 min or more on 2 cores; about a minute with a warm Go build cache)"
(cd tools/vault && CGO_ENABLED=0 go build -trimpath -o ../bin/vault.tmp github.com/hashicorp/vault)
mv tools/bin/vault.tmp "$bin"
echo "build-vault: built $("$bin" version) in $(( $(date +%s) - start ))s"
