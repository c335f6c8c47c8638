#!/usr/bin/env bash
# The whole suite: type check, integration tests (node:test, real PostgreSQL, real files), then the
# real OpenStack clients (scripts/client-check.sh), then the Playwright journeys in Debian's
# Chromium against the production build started by the launcher.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

bash scripts/system-packages.sh

echo "[test] type check"
node node_modules/typescript/bin/tsc --noEmit -p tsconfig.check.json

echo "[test] integration tests"
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"

echo "[test] the real OpenStack clients"
bash scripts/client-check.sh

echo "[test] end-to-end journeys"
node node_modules/@playwright/test/cli.js test
