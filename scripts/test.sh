#!/usr/bin/env bash
# The whole suite: format check and lint (Biome), type check, integration tests (node:test, real PostgreSQL, real files), then the
# real OpenStack clients (scripts/client-check.sh), then the Playwright journeys in Debian's
# Chromium against the production build started by the launcher.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

# Repositories written by OpenStack Cinder and the benchmark's image script live beside the checkout.
if [[ ! -d ../shared/fixtures/cinder-repo || ! -f ../shared/bench/make_volume.py ]]; then
  echo "[test] the tests need the shared folder beside this checkout ($(cd .. && pwd)/shared: fixtures/cinder-repo and bench/make_volume.py)" >&2
  exit 1
fi

bash scripts/system-packages.sh

echo "[test] format check and lint"
node_modules/.bin/biome ci --reporter=summary .

echo "[test] type check"
node node_modules/typescript/bin/tsc --noEmit -p tsconfig.check.json

echo "[test] integration tests"
# Each test file has its own database cluster and data directories, so files run side by side.
# The files that time something against a deadline (crash recovery within a lease, a short job
# beside queued transfers, throttled transfers) run after the others, one at a time, so a busy
# neighbour never stretches what they measure.
timed=(test/recovery/*.test.ts test/foundation/queue-fairness.test.ts test/backups/throttled.test.ts)
mapfile -t files < <(find test -name '*.test.ts' | sort | grep -vxF -f <(printf '%s\n' "${timed[@]}"))
concurrency=$(node -p 'Math.max(2, os.availableParallelism())')
node --import tsx --test --test-concurrency="$concurrency" --test-reporter=spec "${files[@]}"
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${timed[@]}"

echo "[test] the real OpenStack clients"
bash scripts/client-check.sh

echo "[test] end-to-end journeys"
node node_modules/@playwright/test/cli.js test
