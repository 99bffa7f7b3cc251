#!/usr/bin/env bash
# Time-to-find of the expected findings from an EMPTY corpus (no seeds, no
# dictionary), one libFuzzer process per run, asan build:
#   B1 on always-defer-v1 (list-corruption or lost-object),
#   B2 on always-defer-v1 (early-free, reader-saw-freed or use-after-free),
#   B3 on v4 (invalid-wait-context).
# Each run uses its own -seed and RECLAIMFUZZ_ABORT_ON, so other findings of
# the variant are counted and ignored. Prints one line per run and, per
# finding, the median seconds and executions over the runs that found it.
#
# usage: tools/measure_ttf.sh [RUNS=5] [CAP_SECONDS=300] [PARALLEL=2]
# Needs: cmake --preset asan && cmake --build build/asan
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
runs=${1:-5} cap=${2:-300} parallel=${3:-2}
bin=$root/build/asan/fuzz
for t in storage_always_defer_v1_fuzz storage_v4_fuzz; do
  [[ -x $bin/$t ]] || { echo "missing $bin/$t: cmake --preset asan && cmake --build build/asan" >&2; exit 2; }
done

one() {  # one BUG SEED
  local bug=$1 seed=$2 target abort work start end found execs finding
  case $bug in
    B1) target=storage_always_defer_v1_fuzz abort=list-corruption,lost-object ;;
    B2) target=storage_always_defer_v1_fuzz abort=early-free,reader-saw-freed,use-after-free ;;
    B3) target=storage_v4_fuzz abort=invalid-wait-context ;;
  esac
  work=$(mktemp -d)
  mkdir "$work/corpus"
  start=$(date +%s.%N)
  RECLAIMFUZZ_ABORT_ON=$abort "$bin/$target" -seed="$seed" -max_total_time="$cap" \
    -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1 || true
  end=$(date +%s.%N)
  found=no
  compgen -G "$work/crash-*" >/dev/null && found=yes
  execs=$(grep -m1 'stat::number_of_executed_units' "$work/log" | awk '{print $2}')
  finding=$(grep -E '^finding: [a-z:-]+$' "$work/log" | tail -n1 | awk '{print $2}')
  [[ -z $finding ]] && grep -q 'heap-use-after-free' "$work/log" && finding=use-after-free
  printf '%s seed=%s found=%s seconds=%.1f execs=%s finding=%s\n' \
    "$bug" "$seed" "$found" "$(echo "$end - $start" | bc)" "${execs:-?}" "${finding:-none}"
  rm -rf "$work"
}
export -f one
export bin cap

results=$(for bug in B1 B2 B3; do for s in $(seq 1 "$runs"); do echo "$bug $s"; done; done |
  xargs -P "$parallel" -n 2 bash -c 'one "$0" "$1"')
echo "$results" | sort -k1,1 -k2,2V
echo
median() { sort -n | awk '{v[NR] = $1} END {if (NR == 0) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for bug in B1 B2 B3; do
  hits=$(echo "$results" | awk -v b="$bug" '$1 == b && $3 == "found=yes"')
  n=$(echo -n "$hits" | grep -c . || true)
  if ((n == 0)); then
    echo "$bug: found in 0/$runs runs within ${cap} s"
    continue
  fi
  secs=$(echo "$hits" | sed -E 's/.*seconds=([0-9.]+).*/\1/')
  execs=$(echo "$hits" | sed -E 's/.*execs=([0-9]+).*/\1/')
  printf '%s: found in %d/%d runs; median %s s, %s executions; min %s s, max %s s\n' "$bug" "$n" "$runs" \
    "$(echo "$secs" | median)" "$(echo "$execs" | median)" "$(echo "$secs" | sort -n | head -1)" \
    "$(echo "$secs" | sort -n | tail -1)"
done
