#!/usr/bin/env bash
# Builds the binaries the S3 tier (npm run test:s3) runs, from versions pinned in Go modules
# (their `tool` directives). Output: tools/bin/ (git-ignored).
#   tools/s3/go.mod:  rclone, the uploader the snapshot-uploader and audit-shipper containers run,
#                     and versitygw, an S3-compatible server with Object Lock;
#   tools/gcs/go.mod: fake-gcs-server, a GCS JSON-API emulator (its own module, so its
#                     dependencies never change the versions rclone is built with).
# Azure's emulator, Azurite, is an npm package pinned in tools/azurite/package.json and its lock, installed
# there (not among the program's own dependencies: about 480 packages only this tier uses).
# A binary is rebuilt only when missing or when its module's go.mod or go.sum changed since it was built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/tools/bin"
mkdir -p "$BIN"

build() {
    local mod="$ROOT/tools/$1" name="$2" pkg="$3" stamp
    stamp="$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -d' ' -f1)"
    if [[ -x "$BIN/$name" && "$(cat "$BIN/$name.stamp" 2>/dev/null)" == "$stamp" ]]; then
        echo "build-s3-tools: reusing tools/bin/$name"
        return
    fi
    local start=$SECONDS
    (cd "$mod" && CGO_ENABLED=0 go build -trimpath -o "$BIN/$name.partial" "$pkg")
    mv "$BIN/$name.partial" "$BIN/$name"
    echo "$stamp" >"$BIN/$name.stamp"
    echo "build-s3-tools: built tools/bin/$name in $((SECONDS - start))s"
}

build s3 rclone github.com/rclone/rclone
build s3 versitygw github.com/versity/versitygw/cmd/versitygw
build gcs fake-gcs-server github.com/fsouza/fake-gcs-server

# Azurite: `npm ci` into tools/azurite, again only when its lock changed since the last install.
azurite() {
    local dir="$ROOT/tools/azurite" stamp
    stamp="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    if [[ -f "$dir/node_modules/azurite/package.json" && "$(cat "$dir/node_modules/.bonito-stamp" 2>/dev/null)" == "$stamp" ]]; then
        echo "build-s3-tools: reusing tools/azurite"
        return
    fi
    local start=$SECONDS
    # Azurite 3.37.0 declares node >= 22 and runs on this Node 20 (the S3 tier proves it): the engine warnings are noise.
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    echo "$stamp" >"$dir/node_modules/.bonito-stamp"
    echo "build-s3-tools: installed tools/azurite in $((SECONDS - start))s"
}
azurite
