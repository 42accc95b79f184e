#!/usr/bin/env bash
# The project's fuzzer (tests/fuzz.rs), run longer than CI does: mutated built-in scenarios,
# random commands, timeline sessions, share links, run files and command JSON; asserts no panic,
# no call past its budget, replay equality and bounded memory.
#
#   FUZZ_CASES=1000000 FUZZ_SECONDS=3600 FUZZ_SEED=0x1234 scripts/fuzz.sh
#   FUZZ_CASE=4711 FUZZ_SEED=0x1234 scripts/fuzz.sh     # rerun one case
#
# The release profile (the dependencies shared with `cargo build --release`), with overflow
# checks and debug assertions on for msgsim, so it is fast and still catches arithmetic
# overflow. Defaults: 1 000 000 cases, at most 3 600 s, the CI seed. Prints the counts (cases,
# inputs, events, equality checks) every 10 000 cases and at the end, with the wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_CASES="${FUZZ_CASES:-1000000}"
export FUZZ_SECONDS="${FUZZ_SECONDS:-3600}"
export FUZZ_PROGRESS="${FUZZ_PROGRESS:-1}"
exec cargo test --release -p msgsim --test fuzz \
  --config 'profile.release.package.msgsim.overflow-checks=true' \
  --config 'profile.release.package.msgsim.debug-assertions=true' \
  -- --nocapture
