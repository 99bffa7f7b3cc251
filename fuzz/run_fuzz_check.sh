#!/usr/bin/env bash
# run_fuzz_check.sh TARGET SEED_DIR RUNS: runs a fuzz target for RUNS
# executions from a throwaway copy of SEED_DIR, with a fixed seed; its exit
# status is the target's (non-zero on any finding that aborts).
set -euo pipefail
target=$1 seeds=$2 runs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$seeds"/*.bin "$work"/ 2>/dev/null || true
exec "$target" -runs="$runs" -seed=1 -artifact_prefix="$work/" "$work"
