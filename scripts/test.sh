#!/usr/bin/env bash
# The whole suite: type check, integration tests (node:test, real PostgreSQL, real files), then the
# real OpenStack clients (scripts/client-check.sh), then the Playwright journeys in Debian's
# Chromium against the production build started by the launcher.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium_path" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[test] installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[test] Chromium is missing: run 'sudo apt-get install chromium' (or set CHROMIUM_PATH), then npm test again" >&2
    exit 1
  fi
fi

# Debian's OpenStack clients, for scripts/client-check.sh: a missing client fails the run, never skips it.
if [ ! -x /usr/bin/openstack ] || [ ! -x /usr/bin/cinder ] || ! command -v jq >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[test] installing Debian's python3-cinderclient and python3-openstackclient for the client check"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-cinderclient python3-openstackclient jq curl >/dev/null
  else
    echo "[test] The OpenStack clients are missing: run 'sudo apt-get install python3-cinderclient python3-openstackclient jq curl', then npm test again" >&2
    exit 1
  fi
fi

echo "[test] type check"
node node_modules/typescript/bin/tsc --noEmit -p tsconfig.check.json

echo "[test] integration tests"
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"

echo "[test] the real OpenStack clients"
bash scripts/client-check.sh

echo "[test] end-to-end journeys"
node node_modules/@playwright/test/cli.js test
