#!/usr/bin/env bash
# find_check.sh TARGET SEED_DIR SECONDS FINDING...: fuzzes TARGET from a
# throwaway copy of SEED_DIR with a fixed seed for at most SECONDS and
# succeeds if it stops on one of the FINDINGs (a reclaimfuzz report's
# "finding: NAME" line, or an ASan report when FINDING is use-after-free).
# Other findings are muted (RECLAIMFUZZ_ABORT_ON), so the run goes on.
set -uo pipefail
target=$1 seeds=$2 seconds=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$seeds"/*.bin "$work"/ 2>/dev/null || true
abort_on=$(IFS=,; echo "$*")
start=$(date +%s)
RECLAIMFUZZ_ABORT_ON=$abort_on "$target" -max_total_time="$seconds" -seed=1 \
  -artifact_prefix="$work/" "$work" > "$work/log" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
for f in "$@"; do
  if grep -q "^finding: $f\$" "$work/log" ||
     { [[ $f == use-after-free ]] && grep -q "ERROR: AddressSanitizer: heap-use-after-free" "$work/log"; }; then
    echo "find_check: $(basename "$target") found $f in ${elapsed} s (exit $rc)"
    grep -m1 "^finding: .* at step" "$work/log" || true
    exit 0
  fi
done
echo "find_check: $(basename "$target") found none of $* in ${seconds} s (exit $rc); last lines:"
tail -n 20 "$work/log"
exit 1
