#!/usr/bin/env bash
# Browser benchmark of the animation (issue 13): frame times at 100 / 500 / 1,000 / 2,000
# messages in flight, headless Chromium, release build. Reports; asserts no wall time.
#   bash scripts/bench-web.sh                    -> trunk build --release, then e2e/bench-web.mjs
#   SKIP_BUILD=1 bash scripts/bench-web.sh       -> measure the dist/ already there
#   E2E_DIST=/other/dist SKIP_BUILD=1 bash scripts/bench-web.sh   -> measure another build
#   BENCH_LEVELS=1000 BENCH_MS=3000 ...          -> fewer levels, shorter windows
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  setup_serve
  trunk build --release
fi
ensure_chromium
ensure_e2e_deps
node e2e/bench-web.mjs
