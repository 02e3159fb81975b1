#!/usr/bin/env bash
# Builds HashiCorp Consul v1.16.3 from the Go module proxy into tools/bin/consul (git-ignored), once,
# and reuses it when it is already there. For the Consul storage issue (#30): test/conformance/consul.test.ts
# runs it, and scripts/conformance-prereqs.sh calls this script.
#
# Why v1.16.3: it is the newest v1.16 release this proxy serves whose module and submodules carry the
# MPL-2.0 licence. v1.16.6's LICENSE is the Business Source License, and so is troubleshoot v0.6.0
# (the module it needs); v1.16.4 and v1.16.5 are not served here. tools/consul/go.mod pins the
# submodules v1.16.3's own go.mod names (its local replaces are invisible to a dependent module).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="tools/bin/consul"
have=$([ -x "$bin" ] && "$bin" version 2>/dev/null | head -n 1 || true)
if [ "$have" = "Consul v1.16.3" ]; then
    echo "build-consul: reusing $bin ($have)"
    exit 0
fi
command -v go >/dev/null || { echo "build-consul: Go is required (https://go.dev/dl/ or the machine's toolchain)" >&2; exit 1; }
mkdir -p tools/bin
start=$(date +%s)
echo "build-consul: building github.com/hashicorp/consul v1.16.3 (cold: about 15 min on 2 cores beside other work, when Vault's modules are already in Go's caches; seconds when warm)"
(cd tools/consul && CGO_ENABLED=0 go build -trimpath -o ../bin/consul.tmp github.com/hashicorp/consul)
mv "$bin.tmp" "$bin"
echo "build-consul: built $("$bin" version | head -n 1) in $(( $(date +%s) - start ))s"
