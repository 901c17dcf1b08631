#!/usr/bin/env bash
# Mutation testing of the pure modules (`make mutants`): installs the pinned
# cargo-mutants when missing, runs it as configured in .cargo/mutants.toml
# (the native unit tests of the workspace, the guard's properties among
# them, plus the proxy's property files, never the e2e tests) and prints the score. Extra arguments go to cargo-mutants, e.g.
# `scripts/mutants.sh -f src/status.rs`. Fails when fewer than
# MUTANTS_MIN_SCORE % (default 97) of the viable mutants are caught.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_MUTANTS_VERSION=27.1.0
export PATH="$HOME/.cargo/bin:$PATH"
export PROPTEST_CASES=${PROPTEST_CASES:-200}
MIN_SCORE=${MUTANTS_MIN_SCORE:-97}
OUT=target/mutants/mutants.out

if [[ "$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $CARGO_MUTANTS_VERSION" ]]; then
  echo "mutants: installing cargo-mutants $CARGO_MUTANTS_VERSION (~4 min)" >&2
  cargo install cargo-mutants --version "$CARGO_MUTANTS_VERSION" --locked
fi

start=$(date +%s)
status=0
nice -n 10 cargo mutants --workspace --jobs "${MUTANTS_JOBS:-2}" "$@" || status=$?
# cargo-mutants exits 2 when a mutant was missed, 3 on a timeout: the score
# below decides. Anything else (1: usage, 4: the tests fail unmutated) is fatal.
if [[ $status -ne 0 && $status -ne 2 && $status -ne 3 ]]; then
  exit "$status"
fi

count() { if [[ -f "$OUT/$1.txt" ]]; then grep -c . "$OUT/$1.txt" || true; else echo 0; fi; }
caught=$(count caught) missed=$(count missed) timeout=$(count timeout) unviable=$(count unviable)
viable=$((caught + missed + timeout))
total=$((viable + unviable))
if [[ $viable -eq 0 ]]; then
  echo "mutants: no viable mutant" >&2
  exit 1
fi
score=$(awk -v c="$caught" -v v="$viable" 'BEGIN { printf "%.1f", 100 * c / v }')
echo "mutants: $total total, $unviable unviable, $viable viable: $caught caught, $missed missed, $timeout timeouts"
echo "mutants: score $score % of viable mutants caught (minimum $MIN_SCORE %), $(($(date +%s) - start)) s"
if [[ -s "$OUT/missed.txt" ]]; then
  echo "mutants: missed (see docs/mutants.md for the known equivalent ones):"
  sed 's/^/  /' "$OUT/missed.txt"
fi
awk -v s="$score" -v m="$MIN_SCORE" 'BEGIN { exit !(s >= m) }'
