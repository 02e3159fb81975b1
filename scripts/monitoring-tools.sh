#!/usr/bin/env bash
# Installs the monitoring tools the tests run, from Debian (idempotent; run as root, as CI does):
#   - prometheus: promtool checks and unit-tests the alert rules (npm test); the conformance tier
#     runs the server itself;
#   - mtail: evaluates the security rules over Vault's audit lines (npm test and conformance);
#   - prometheus-alertmanager, prometheus-blackbox-exporter: the conformance tier's alert path.
# The packages' systemd units are not started (no init here; policy-rc.d refuses in containers).
set -euo pipefail
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v mtail >/dev/null || need+=(mtail)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-blackbox-exporter >/dev/null || need+=(prometheus-blackbox-exporter)
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
