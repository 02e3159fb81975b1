#!/usr/bin/env bash
# Builds the two binaries the S3 tier (npm run test:s3) runs, from the versions pinned in
# tools/s3/go.mod (its `tool` directives): rclone, the uploader the snapshot-uploader container
# runs, and versitygw, an S3-compatible server with Object Lock. Output: tools/bin/ (git-ignored).
# A binary is rebuilt only when missing or when tools/s3/go.mod or go.sum changed since it was built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD="$ROOT/tools/s3"
BIN="$ROOT/tools/bin"
mkdir -p "$BIN"
STAMP="$(cat "$MOD/go.mod" "$MOD/go.sum" | sha256sum | cut -d' ' -f1)"

build() {
    local name="$1" pkg="$2"
    if [[ -x "$BIN/$name" && "$(cat "$BIN/$name.stamp" 2>/dev/null)" == "$STAMP" ]]; then
        echo "build-s3-tools: reusing tools/bin/$name"
        return
    fi
    local start=$SECONDS
    (cd "$MOD" && CGO_ENABLED=0 go build -trimpath -o "$BIN/$name.partial" "$pkg")
    mv "$BIN/$name.partial" "$BIN/$name"
    echo "$STAMP" >"$BIN/$name.stamp"
    echo "build-s3-tools: built tools/bin/$name in $((SECONDS - start))s"
}

build rclone github.com/rclone/rclone
build versitygw github.com/versity/versitygw/cmd/versitygw
