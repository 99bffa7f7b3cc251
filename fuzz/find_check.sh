#!/usr/bin/env bash
# find_check.sh TARGET SEED_DIR SECONDS FINDING...: fuzzes TARGET from a
# throwaway copy of SEED_DIR for at most SECONDS and succeeds if it stops on
# one of the FINDINGs (a reclaimfuzz report's "finding: NAME" line, or an
# ASan report when FINDING is use-after-free). Other findings are muted
# (RECLAIMFUZZ_ABORT_ON), so the run goes on. A run is not deterministic
# (the schedule-feature counters hash label addresses, which ASLR moves),
# so up to ATTEMPTS (default 3) independent runs, seeds 1, 2, ..., are made;
# each attempt's outcome is printed, so a log shows how often one misses.
set -uo pipefail
target=$1 seeds=$2 seconds=$3
shift 3
attempts=${ATTEMPTS:-3}
abort_on=$(IFS=,; echo "$*")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ((a = 1; a <= attempts; a++)); do
  rm -rf "$work/corpus" && mkdir -p "$work/corpus"
  cp "$seeds"/*.bin "$work/corpus"/ 2>/dev/null || true
  start=$(date +%s)
  RECLAIMFUZZ_ABORT_ON=$abort_on "$target" -max_total_time="$seconds" -seed="$a" \
    -artifact_prefix="$work/" "$work/corpus" > "$work/log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  for f in "$@"; do
    if grep -q "^finding: $f\$" "$work/log" ||
       { [[ $f == use-after-free ]] && grep -q "ERROR: AddressSanitizer: heap-use-after-free" "$work/log"; }; then
      echo "find_check: $(basename "$target") attempt $a found $f in ${elapsed} s (exit $rc)"
      grep -m1 "^finding: .* at step" "$work/log" || true
      exit 0
    fi
  done
  echo "find_check: $(basename "$target") attempt $a found none of $* in ${seconds} s (exit $rc)"
done
echo "find_check: $attempts attempts missed; the last one's last lines:"
tail -n 20 "$work/log"
exit 1
