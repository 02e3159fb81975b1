#!/usr/bin/env bash
# Installs what the real-server tier (test/conformance) needs on a fresh Debian machine, then builds
# (or reuses) the Vault binary. Idempotent; run as root (CI runs as root).
#   - gosu: stands in for the image's Alpine su-exec (same call form) when the declared
#     entrypoint runs outside Docker;
#   - a `vault` system account: the image's unprivileged user;
#   - openssl (test certificates, TLS probes), gnupg (PGP-encrypted recovery shares),
#     util-linux's unshare (one mount namespace per container);
#   - python3-httpx/pytest/pytest-asyncio: the Python VaultClient's tests (clients/python);
#   - rclone (tools/bin, built from the Go module proxy by build-s3-tools.sh, reused when built; that
#     script also builds the S3 tier's versitygw and fake-gcs-server, a few seconds with a warm cache):
#     test/conformance/alerts.test.ts runs the audit shipper's script for VaultAuditShippingStale.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v gosu >/dev/null || need+=(gosu)
command -v openssl >/dev/null || need+=(openssl)
command -v gpg >/dev/null || need+=(gnupg)
command -v unshare >/dev/null || need+=(util-linux)
# The Python VaultClient (clients/python) runs its live test against the tier's cluster, on
# Debian's python3 (no Python package registry is reachable here).
/usr/bin/python3 -c 'import httpx, pytest, pytest_asyncio' 2>/dev/null || need+=(python3-httpx python3-pytest python3-pytest-asyncio)
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
getent passwd vault >/dev/null || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin vault
bash scripts/monitoring-tools.sh
bash scripts/build-vault.sh
# The older release test/conformance/upgrade.test.ts starts a cluster on, to roll it to 1.21.1
# (tools/vault-1.20/go.mod says why it needs three compile fixes against the published sdk).
bash scripts/build-vault.sh 1.20.4
bash scripts/build-s3-tools.sh
# Consul v1.16.3 for test/conformance/consul.test.ts (storage consul, #30). Reused when tools/bin/consul
# is already that version: seconds. Cold it adds about 15 minutes on 2 cores (Consul's module graph
# on top of Vault's, most of which is then in Go's caches already).
bash scripts/build-consul.sh
