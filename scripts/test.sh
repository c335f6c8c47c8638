#!/usr/bin/env bash
# The whole suite: integration tests (node:test, real PostgreSQL, real files), then Playwright.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=1 "${files[@]}"
