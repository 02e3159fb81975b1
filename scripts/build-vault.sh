#!/usr/bin/env bash
# Builds a HashiCorp Vault server used by the real-server tier (test/conformance) from the Go module
# proxy, once, and reuses it when it is already there:
#   bash scripts/build-vault.sh          Vault 1.21.1 into tools/bin/vault (tools/vault/go.mod)
#   bash scripts/build-vault.sh 1.20.4   Vault 1.20.4 into tools/bin/vault-1.20.4 (tools/vault-1.20/go.mod),
#                                        the older release a rolling-upgrade test starts from
# tools/bin/ is git-ignored.
#
# The binaries are test tools used under Vault's licence terms for non-production use: never
# shipped, published or committed. Each go.mod pins its module graph (see the comments there).
set -euo pipefail
cd "$(dirname "$0")/.."
want="${1:-1.21.1}"
case "$want" in
    1.21.1) mod="tools/vault"; bin="tools/bin/vault" ;;
    1.20.4) mod="tools/vault-1.20"; bin="tools/bin/vault-${want}" ;;
    *) echo "build-vault: no recipe for Vault ${want} (known: 1.21.1, the default; 1.20.4)" >&2; exit 2 ;;
esac
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "Vault v${want}"; then
    echo "build-vault: reusing $bin ($("$bin" version))"
    exit 0
fi
command -v go >/dev/null || { echo "build-vault: Go is required (https://go.dev/dl/ or the machine's toolchain)" >&2; exit 1; }
mkdir -p tools/bin
start=$(date +%s)
echo "build-vault: building github.com/hashicorp/vault v${want} (cold: 25 min or more on 2 cores; about a minute with a warm Go build cache)"
if [ "$want" = "1.20.4" ]; then
    # tools/vault-1.20/go.mod replaces github.com/hashicorp/vault with tools/bin/vault-1.20.4-src: the
    # v1.20.4 module from the proxy, checked against its go.sum hash, with the three compile fixes it
    # needs against sdk v0.19.0 (see the comments in that go.mod). Laid anew on every build.
    src="tools/bin/vault-1.20.4-src"
    info=$(cd tools/bin && GOWORK=off GOFLAGS=-mod=mod go mod download -json github.com/hashicorp/vault@v1.20.4)
    sum=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",*$/\1/p')
    dir=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
    if [ "$sum" != "h1:kgr05ZotZVub1dvukCcQUbGGyGnNKWdQV+ZaHTTiYMI=" ] || [ ! -d "$dir" ]; then
        echo "build-vault: github.com/hashicorp/vault@v1.20.4 did not download as pinned (sum '$sum', dir '$dir')" >&2; exit 1
    fi
    rm -rf "$src"
    cp -R "$dir" "$src"
    chmod -R u+w "$src"
    # 1. sdk v0.19.0's GetCloudSQLAuthOptions takes a third argument, usePSC; false is v1.20.4's behaviour.
    f="$src/plugins/database/mysql/connection_producer.go"
    grep -q 'connutil\.GetCloudSQLAuthOptions(credentials, false)$' "$f" \
        || { echo "build-vault: the GetCloudSQLAuthOptions fix no longer applies to $f" >&2; exit 1; }
    sed -i 's/connutil\.GetCloudSQLAuthOptions(credentials, false)$/connutil.GetCloudSQLAuthOptions(credentials, false, false)/' "$f"
    # 2. sdk v0.19.0's logical.SystemView also asks for GetRotationInformation.
    cp tools/vault-1.20/patch/rotation_shim.go.in "$src/vault/zz_bonito_rotation_shim.go"
    # 3. sdk v0.19.0 has no keysutil.KeyType.IsPQC; transit calls it twice.
    t="$src/builtin/logical/transit"
    [ "$(cat "$t/backend.go" "$t/path_keys.go" | grep -c '\.IsPQC()')" = 2 ] \
        || { echo "build-vault: the IsPQC fix no longer applies to $t" >&2; exit 1; }
    sed -i 's/\([A-Za-z.]*\)\.IsPQC()/bonitoIsPQC(\1)/' "$t/backend.go" "$t/path_keys.go"
    cp tools/vault-1.20/patch/transit_pqc_shim.go.in "$t/zz_bonito_pqc_shim.go"
fi
(cd "$mod" && CGO_ENABLED=0 go build -trimpath -o "../bin/$(basename "$bin").tmp" github.com/hashicorp/vault)
mv "$bin.tmp" "$bin"
echo "build-vault: built $("$bin" version) in $(( $(date +%s) - start ))s"
