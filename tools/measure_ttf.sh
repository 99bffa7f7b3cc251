#!/usr/bin/env bash
# Time-to-find of B1, B2 and B3 with the libFuzzer product alone, from an
# EMPTY corpus, one process per run: a shorthand for
#   tools/reclaimfuzz bench --strategies product --nothroughput --nofalse_findings
# (see tools/README.md, "bench", for the baselines, AFL++, the plot and the files).
#
# usage: tools/measure_ttf.sh [RUNS=5] [CAP_SECONDS=300] [PARALLEL=2] [BENCH FLAGS...]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
runs=${1:-5} cap=${2:-300} parallel=${3:-2}
shift $(($# < 3 ? $# : 3))
exec "$root/tools/reclaimfuzz" bench --strategies product --nothroughput --nofalse_findings \
  --runs "$runs" --cap "$cap" --jobs "$parallel" "$@"
