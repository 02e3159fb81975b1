#!/usr/bin/env bash
# Rewrite the resource census fixtures (test/census/<variant>.json) from the program as it is now.
# Review `git diff test/census` before committing: every change there is a change a deployed stack sees.
set -euo pipefail
cd "$(dirname "$0")/.."
for v in local staging prod prod-azure prod-gcp prod-bundled; do
    node --import tsx test/census/census.ts "$v" --update &
done
wait
git diff --stat -- test/census || true
