#!/usr/bin/env bash
# check_build.sh: builds the OSS-Fuzz targets with tools/oss-fuzz/build.sh in
# the environment OSS-Fuzz sets, without Docker, and checks them as OSS-Fuzz's
# check_build / run_fuzzer would. Exit status 0 only if every step passed.
#
#   tools/oss-fuzz/check_build.sh [--dir DIR] [--fuzz-seconds N] [--cflite] [--ctest] [COMBO...]
#
# COMBO is ENGINE-SANITIZER: libfuzzer-address, libfuzzer-undefined,
# afl-address (default: these three), or libfuzzer-coverage (the build of
# OSS-Fuzz's coverage reports and ClusterFuzzLite's coverage mode: its
# targets run over their seeds, writing profiles, and are not fuzzed).
# --cflite builds through .clusterfuzzlite/build.sh, as ClusterFuzzLite does,
# instead of tools/oss-fuzz/build.sh. --ctest (the ctest entry) exits 77,
# "skipped", unless RF_OSS_FUZZ_CHECK=1. For each combination:
#   1. build.sh runs with CC/CXX/CFLAGS/CXXFLAGS/LIB_FUZZING_ENGINE/
#      FUZZING_ENGINE/SANITIZER/SRC/WORK/OUT set as OSS-Fuzz's `compile` sets
#      them, in OSS-Fuzz's layout ($SRC/build.sh, $SRC/reclaimfuzz), with a
#      fresh $OUT under DIR;
#   2. $OUT must hold every target with its seed corpus zip, .dict and
#      .options, and each target must carry the sanitizer's and the engine's
#      instrumentation; the schedule-aware custom mutator
#      (LLVMFuzzerCustomMutator) must be in the libFuzzer builds and not in
#      the AFL++ ones (AFL++'s driver only has a stub LLVMFuzzerMutate);
#   3. every target runs over its unzipped seed corpus (libFuzzer:
#      -runs=0 over the folder; AFL++: the binary on every seed file);
#   4. every target fuzzes for N seconds (default 5): libFuzzer with its
#      .options and .dict, AFL++ with afl-fuzz -V N -x <dict>, which must
#      see persistent mode and save no crash or hang.
# The runtime options are OSS-Fuzz's runner defaults with the target's
# .options [asan] section applied over them, as ClusterFuzz does.
#
# Known findings. Most variants have known bugs (engine/variants.txt); their
# fuzzers reach them within seconds, and most seeds already hit
# always-defer-v1's early-free. build.sh configures with
# RF_MUTE_KNOWN_FINDINGS=ON, so each target stops quietly at its variant's
# known findings (fuzz/storage_fuzz.cc), as OSS-Fuzz will run it: the
# runs here set no RECLAIMFUZZ_* variable (RECLAIMFUZZ_IGNORE and
# RECLAIMFUZZ_ABORT_ON are cleared, so the caller's environment cannot mute
# anything), and anything reported fails the check: a finding the registry
# does not know for the variant, any finding on a variant expected clean or
# in program_roundtrip_fuzz, a sanitizer report, a crash, a timeout, a
# target that does not start. RECLAIMFUZZ_MUTE_KNOWN=0 in the caller's
# environment is passed on and unmutes the known findings: the check must
# then fail on the buggy variants (a way to see that it can).
#
# DIR (default: a fresh folder under ${TMPDIR:-/tmp}, removed afterwards)
# holds <combo>/{src,work,out}; given explicitly it is kept, and a second run
# reuses its build folders. The builds use ccache through
# CMAKE_<LANG>_COMPILER_LAUNCHER when it is installed (build.sh itself does
# not know about it), so later runs are faster. Builds and fuzzing run under `nice -n 5`.
#
# Not as on OSS-Fuzz: the compilers are this machine's clang 14 and
# Debian's AFL++ (its driver /usr/lib/afl/libAFLDriver.a is the
# $LIB_FUZZING_ENGINE, as OSS-Fuzz copies libAFLDriver.a), and CXXFLAGS lack
# OSS-Fuzz's -stdlib=libc++, because the installed Abseil is built against
# libstdc++ (in the Docker image build.sh builds Abseil itself, with libc++).
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
# The variants of the registry (engine/variants.txt) that build.sh builds
# here: every model variant, and the real trees whose linux-source package
# is installed. "target known,..." (the known findings, which the
# targets mute themselves).
registry_models() {
  sed -e 's/#.*//' "$ROOT/engine/variants.txt" |
    awk -F'|' 'NF == 6 { gsub(/[ \t]/, "", $1); gsub(/[ \t]/, "", $2); gsub(/[ \t]/, "", $3); gsub(/[ \t]/, "", $5);
                         sub(/^linux-/, "", $3);
                         if ($2 == "model" || system("test -f /usr/src/linux-source-" $3 ".tar.xz") == 0) {
                           gsub(/[-.+]/, "_", $1); print "storage_" $1 "_fuzz", $5 } }'
}
mapfile -t TARGETS < <(registry_models | cut -d' ' -f1)
TARGETS+=(program_roundtrip_fuzz)

# The RECLAIMFUZZ_* environment of every run: nothing muted but what the
# build mutes (RECLAIMFUZZ_MUTE_KNOWN passed on when the caller sets it).
reclaimfuzz_env() {
  printf '%s\n' RECLAIMFUZZ_IGNORE= RECLAIMFUZZ_ABORT_ON=
  if [ -n "${RECLAIMFUZZ_MUTE_KNOWN+set}" ]; then echo "RECLAIMFUZZ_MUTE_KNOWN=$RECLAIMFUZZ_MUTE_KNOWN"; fi
}

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() { echo "check_build: $*" >&2; exit 2; }

dir="" keep=0 fuzz_seconds=5 cflite=0
combos=()
while (($#)); do
  case $1 in
    --dir) [ $# -ge 2 ] || die "--dir needs a folder"; dir=$2; keep=1; shift 2 ;;
    --dir=*) dir=${1#--dir=}; keep=1; shift ;;
    --fuzz-seconds) [ $# -ge 2 ] || die "--fuzz-seconds needs a number"; fuzz_seconds=$2; shift 2 ;;
    --fuzz-seconds=*) fuzz_seconds=${1#--fuzz-seconds=}; shift ;;
    --cflite) cflite=1; shift ;;
    --ctest)
      if [ "${RF_OSS_FUZZ_CHECK:-}" != 1 ]; then
        echo "check_build: skipped (several minutes of builds; run with RF_OSS_FUZZ_CHECK=1)"
        exit 77
      fi
      shift ;;
    -h|--help) usage; exit 0 ;;
    libfuzzer-address|libfuzzer-undefined|afl-address|libfuzzer-coverage) combos+=("$1"); shift ;;
    *) die "unknown argument '$1' (combos: libfuzzer-address libfuzzer-undefined afl-address libfuzzer-coverage)" ;;
  esac
done
[[ $fuzz_seconds =~ ^[0-9]+$ ]] && ((fuzz_seconds > 0)) || die "--fuzz-seconds must be a positive integer"
((${#combos[@]})) || combos=(libfuzzer-address libfuzzer-undefined afl-address)

for tool in clang clang++ cmake zip nm python3; do
  command -v "$tool" > /dev/null || die "'$tool' is not installed (tools/reclaimfuzz deps installs it)"
done
if [[ " ${combos[*]} " == *" afl-address "* ]]; then
  for tool in afl-clang-fast afl-clang-fast++ afl-fuzz; do
    command -v "$tool" > /dev/null || die "'$tool' is not installed (Debian package afl++)"
  done
  [ -f /usr/lib/afl/libAFLDriver.a ] || die "/usr/lib/afl/libAFLDriver.a is missing (Debian package afl++)"
fi

if [ -z "$dir" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/reclaimfuzz-oss-fuzz.XXXXXX")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
((keep)) || trap 'rm -rf "$dir"' EXIT

passed=0 failed=0
pass() { echo "  ok    $*"; passed=$((passed + 1)); }
fail() { echo "  FAIL  $*"; failed=$((failed + 1)); }

# OSS-Fuzz's flags (base-clang's CFLAGS, base-builder's SANITIZER_FLAGS_*
# and COVERAGE_FLAGS; compile joins them and copies CFLAGS into CXXFLAGS).
BASE_CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
SANITIZER_FLAGS_address="-fsanitize=address -fsanitize-address-use-after-scope"
UBSAN_CHECKS="array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr"
SANITIZER_FLAGS_undefined="-fsanitize=$UBSAN_CHECKS -fno-sanitize-recover=${UBSAN_CHECKS/unsigned-integer-overflow,/}"
SANITIZER_FLAGS_coverage=""
COVERAGE_FLAGS_coverage="-fprofile-instr-generate -fcoverage-mapping -pthread -Wl,--no-as-needed -Wl,-ldl -Wl,-lm -Wno-unused-command-line-argument"
# base-runner's runtime defaults.
RUNNER_ASAN_OPTIONS="alloc_dealloc_mismatch=0:allocator_may_return_null=1:allocator_release_to_os_interval_ms=500:check_malloc_usable_size=0:detect_container_overflow=1:detect_odr_violation=0:detect_leaks=1:detect_stack_use_after_return=1:fast_unwind_on_fatal=0:handle_abort=1:handle_segv=1:handle_sigill=1:max_uar_stack_size_log=16:print_scariness=1:quarantine_size_mb=10:strict_memcmp=1:symbolize=1:use_sigaltstack=1:dedup_token_length=3"
RUNNER_UBSAN_OPTIONS="print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:dedup_token_length=3"

# options_section FILE SECTION: "key=value" lines of one section of an .options file.
options_section() {
  [ -f "$1" ] || return 0
  awk -v want="[$2]" '
    /^[ \t]*[#;]/ || /^[ \t]*$/ { next }
    /^[ \t]*\[/ { gsub(/[ \t]/, ""); in_section = ($0 == want); next }
    in_section { sub(/[ \t]*=[ \t]*/, "="); gsub(/^[ \t]+|[ \t]+$/, ""); print }
  ' "$1"
}

# build_combo ENGINE SANITIZER: runs build.sh; prints its log's tail on failure.
build_combo() {
  local engine=$1 sanitizer=$2 c=$dir/$1-$2
  mkdir -p "$c/src" "$c/work"
  rm -rf "$c/out" && mkdir -p "$c/out"
  ln -sfn "$ROOT" "$c/src/reclaimfuzz"
  if ((cflite)); then
    cp "$ROOT/.clusterfuzzlite/build.sh" "$c/src/build.sh"
  else
    cp "$ROOT/tools/oss-fuzz/build.sh" "$c/src/build.sh"
  fi
  local cc cxx cflags lib
  local coverage="-fsanitize=fuzzer-no-link"
  local san_var=SANITIZER_FLAGS_$sanitizer
  if [ "$engine" = afl ]; then
    cc=afl-clang-fast cxx=afl-clang-fast++ lib=/usr/lib/afl/libAFLDriver.a
    coverage=""  # compile: no coverage flags for AFL++ builds
  else
    cc=clang cxx=clang++ lib=-fsanitize=fuzzer
  fi
  if [ "$sanitizer" = coverage ]; then coverage=$COVERAGE_FLAGS_coverage; fi
  cflags="$BASE_CFLAGS ${!san_var} $coverage"
  local -a env=(
    CC="$cc" CXX="$cxx" CFLAGS="$cflags" CXXFLAGS="$cflags"
    LIB_FUZZING_ENGINE="$lib" FUZZING_ENGINE="$engine" SANITIZER="$sanitizer"
    ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c++
    SRC="$c/src" WORK="$c/work" OUT="$c/out"
  )
  if [ "$engine" = afl ]; then
    # compile_afl's build-time settings.
    env+=(AFL_QUIET=1 ASAN_OPTIONS="detect_leaks=0:symbolize=0:detect_odr_violation=0:abort_on_error=1")
  fi
  if command -v ccache > /dev/null; then
    # Paths relative to DIR and no working folder in the hash, so that a
    # second run in another temporary folder hits the cache.
    env+=(CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
          CCACHE_BASEDIR="$dir" CCACHE_NOHASHDIR=1)
  fi
  local start=$SECONDS
  local script=tools/oss-fuzz/build.sh
  ((cflite)) && script=.clusterfuzzlite/build.sh
  if (cd "$c/src/reclaimfuzz" && env "${env[@]}" nice -n 5 bash -eux "$c/src/build.sh") > "$c/build.log" 2>&1; then
    pass "$script ($((SECONDS - start)) s, log $c/build.log)"
    return 0
  fi
  fail "$script failed after $((SECONDS - start)) s; last lines of $c/build.log:"
  tail -n 30 "$c/build.log" | sed 's/^/        /'
  return 1
}

# check_out ENGINE SANITIZER: $OUT holds every target, instrumented.
check_out() {
  local engine=$1 sanitizer=$2 out=$dir/$1-$2/out t ok syms
  for t in "${TARGETS[@]}"; do
    ok=1
    [ -x "$out/$t" ] || { fail "$t: no executable in \$OUT"; continue; }
    for f in "${t}_seed_corpus.zip" "$t.dict" "$t.options"; do
      [ -s "$out/$f" ] || { fail "$t: \$OUT/$f missing or empty"; ok=0; }
    done
    syms=$(nm "$out/$t" 2>/dev/null || true)
    case $sanitizer in
      address) grep -q '__asan_report_load' <<< "$syms" || { fail "$t: no ASan instrumentation"; ok=0; } ;;
      undefined) grep -q '__ubsan_handle_' <<< "$syms" || { fail "$t: no UBSan instrumentation"; ok=0; } ;;
      coverage) grep -q '__llvm_profile_write_file' <<< "$syms" || { fail "$t: no profile instrumentation"; ok=0; } ;;
    esac
    if [ "$engine" = afl ]; then
      grep -q '__afl_area_ptr' <<< "$syms" || { fail "$t: no AFL++ instrumentation"; ok=0; }
      if grep -q ' T LLVMFuzzerCustomMutator$' <<< "$syms"; then
        fail "$t: the custom mutator is built into an AFL++ target"; ok=0
      fi
    else
      if [ "$sanitizer" != coverage ]; then
        grep -q '__sanitizer_cov_8bit_counters_init' <<< "$syms" || { fail "$t: no libFuzzer coverage"; ok=0; }
      fi
      if [[ $t == storage_* ]] && ! grep -q ' T LLVMFuzzerCustomMutator$' <<< "$syms"; then
        fail "$t: the custom mutator is missing from a libFuzzer target"; ok=0
      fi
    fi
    local n
    n=$(python3 -c 'import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))' \
          "$out/${t}_seed_corpus.zip" 2>/dev/null || echo 0)
    ((n > 0)) || { fail "$t: empty seed corpus"; ok=0; }
    if ((ok)); then pass "$t: in \$OUT with ${n} seeds, .dict, .options, $engine+$sanitizer instrumentation"; fi
  done
}

# run_env TARGET SANITIZER ENGINE: the runtime environment, as env(1) arguments.
run_env() {
  local t=$1 sanitizer=$2 engine=$3 out=$dir/$3-$2/out asan ubsan kv
  asan=$RUNNER_ASAN_OPTIONS ubsan=$RUNNER_UBSAN_OPTIONS
  if [ "$engine" = afl ]; then
    # afl-fuzz insists on these (it must see the abort, and symbolizing
    # would slow every crash down).
    asan="$asan:abort_on_error=1:symbolize=0:detect_leaks=0"
    ubsan="$ubsan:abort_on_error=1:symbolize=0"
  fi
  while IFS= read -r kv; do asan="$asan:$kv"; done < <(options_section "$out/$t.options" asan)
  while IFS= read -r kv; do ubsan="$ubsan:$kv"; done < <(options_section "$out/$t.options" ubsan)
  printf '%s\n' "ASAN_OPTIONS=$asan" "UBSAN_OPTIONS=$ubsan"
  reclaimfuzz_env
}

# show_log FILE: the lines of a failed run that say what happened.
show_log() {
  local lines
  lines=$(grep -E 'finding: |ERROR|SUMMARY|runtime error|Test unit written|[Tt]imeout|No such file|not found' "$1" | head -n 8)
  [ -n "$lines" ] || lines=$(tail -n 8 "$1")
  sed 's/^/        /' <<< "$lines"
}

# muted_findings LOG...: the known findings the target said it muted.
muted_findings() {
  cat "$@" 2>/dev/null | sed -n 's/^reclaimfuzz: muted \([^ ,]*\), a known finding.*/\1/p' | sort -u | paste -sd, -
}

run_libfuzzer() {
  local sanitizer=$1 c=$dir/libfuzzer-$1 t runs log start muted
  local -a env flags
  for t in "${TARGETS[@]}"; do
    [ -x "$c/out/$t" ] || continue
    mapfile -t env < <(run_env "$t" "$sanitizer" libfuzzer)
    flags=(-dict="$c/out/$t.dict")
    while IFS= read -r kv; do flags+=("-$kv"); done < <(options_section "$c/out/$t.options" libfuzzer)
    rm -rf "$c/run/$t" && mkdir -p "$c/run/$t/seeds" "$c/run/$t/corpus" "$c/run/$t/artifacts"
    python3 -m zipfile -e "$c/out/${t}_seed_corpus.zip" "$c/run/$t/seeds"
    log=$c/run/$t/seeds.log
    if env "${env[@]}" "$c/out/$t" "${flags[@]}" -runs=0 -artifact_prefix="$c/run/$t/artifacts/" \
         "$c/run/$t/seeds" > "$log" 2>&1; then
      runs=$(grep -o 'INITED.*' "$log" | head -n 1)
      pass "$t: seed corpus ($(ls "$c/run/$t/seeds" | wc -l) inputs; ${runs:-no INITED line})"
    else
      fail "$t: seed corpus run failed (log $log):"; show_log "$log"
    fi
    cp "$c/run/$t/seeds"/* "$c/run/$t/corpus"/
    log=$c/run/$t/fuzz.log
    start=$SECONDS
    if env "${env[@]}" nice -n 5 "$c/out/$t" "${flags[@]}" -max_total_time="$fuzz_seconds" \
         -artifact_prefix="$c/run/$t/artifacts/" "$c/run/$t/corpus" > "$log" 2>&1; then
      runs=$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -n 1)
      muted=$(muted_findings "$c/run/$t/seeds.log" "$log")
      pass "$t: fuzzed ${runs:-? runs} ($(grep -o 'cov: [0-9]*' "$log" | tail -n 1); known findings muted: ${muted:-none seen})"
    else
      fail "$t: fuzzing failed after $((SECONDS - start)) s (log $log):"; show_log "$log"
    fi
  done
}

# run_coverage: every target over its seeds with LLVM_PROFILE_FILE set, as
# OSS-Fuzz's coverage script does; the profiles must merge, and llvm-cov's
# total line is shown when llvm-cov is installed.
run_coverage() {
  local c=$dir/libfuzzer-coverage t log profdata cov total
  local -a env
  profdata=$(command -v llvm-profdata || command -v llvm-profdata-14 || true)
  cov=$(command -v llvm-cov || command -v llvm-cov-14 || true)
  for t in "${TARGETS[@]}"; do
    [ -x "$c/out/$t" ] || continue
    rm -rf "$c/run/$t" && mkdir -p "$c/run/$t/seeds" "$c/run/$t/profiles"
    python3 -m zipfile -e "$c/out/${t}_seed_corpus.zip" "$c/run/$t/seeds"
    log=$c/run/$t/seeds.log
    mapfile -t env < <(reclaimfuzz_env)
    if ! env "${env[@]}" LLVM_PROFILE_FILE="$c/run/$t/profiles/%m.profraw" \
         "$c/out/$t" -runs=0 -artifact_prefix="$c/run/$t/" "$c/run/$t/seeds" > "$log" 2>&1; then
      fail "$t: seed corpus run failed (log $log):"; show_log "$log"; continue
    fi
    if ! compgen -G "$c/run/$t/profiles/*.profraw" > /dev/null; then
      fail "$t: no profile written"; continue
    fi
    if [ -z "$profdata" ]; then
      pass "$t: seed corpus wrote $(ls "$c/run/$t/profiles" | wc -l) profile(s) (no llvm-profdata to merge them)"
      continue
    fi
    if ! "$profdata" merge -sparse "$c/run/$t/profiles"/*.profraw -o "$c/run/$t/$t.profdata" 2> "$log"; then
      fail "$t: llvm-profdata merge failed:"; show_log "$log"; continue
    fi
    total=""
    if [ -n "$cov" ]; then
      total=$("$cov" report "$c/out/$t" -instr-profile="$c/run/$t/$t.profdata" 2>/dev/null |
              awk '$1 == "TOTAL" {print "lines " $(NF-3) ", branches " $NF}')
    fi
    pass "$t: seed corpus profile merged${total:+ (}${total}${total:+)}"
  done
}

run_afl() {
  local sanitizer=$1 c=$dir/afl-$1 t log stats execs crashes hangs
  local -a env
  for t in "${TARGETS[@]}"; do
    [ -x "$c/out/$t" ] || continue
    mapfile -t env < <(run_env "$t" "$sanitizer" afl)
    rm -rf "$c/run/$t" && mkdir -p "$c/run/$t/seeds"
    python3 -m zipfile -e "$c/out/${t}_seed_corpus.zip" "$c/run/$t/seeds"
    log=$c/run/$t/seeds.log
    # The driver runs each file named on its command line once.
    if env "${env[@]}" "$c/out/$t" "$c/run/$t/seeds"/* > "$log" 2>&1; then
      pass "$t: seed corpus ($(ls "$c/run/$t/seeds" | wc -l) inputs, one run each)"
    else
      fail "$t: seed corpus run failed (log $log):"; show_log "$log"
    fi
    log=$c/run/$t/fuzz.log
    if env "${env[@]}" AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
         AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
         nice -n 5 afl-fuzz -V "$fuzz_seconds" -i "$c/run/$t/seeds" -o "$c/run/$t/afl" \
         -x "$c/out/$t.dict" -- "$c/out/$t" > "$log" 2>&1; then
      stats=$c/run/$t/afl/default/fuzzer_stats
      execs=$(awk -F': *' '$1 ~ /^execs_done/ {print $2}' "$stats" 2>/dev/null)
      crashes=$(awk -F': *' '$1 ~ /^(saved|unique)_crashes/ {print $2}' "$stats" 2>/dev/null)
      hangs=$(awk -F': *' '$1 ~ /^(saved|unique)_hangs/ {print $2}' "$stats" 2>/dev/null)
      if [ -z "$execs" ] || ((execs == 0)); then
        fail "$t: afl-fuzz made no executions (log $log)"
      elif ! grep -q 'Persistent mode binary detected' "$log"; then
        fail "$t: afl-fuzz did not see persistent mode (log $log)"
      elif ((${crashes:-1} > 0 || ${hangs:-1} > 0)); then
        fail "$t: afl-fuzz saved ${crashes:-?} crashes, ${hangs:-?} hangs in $c/run/$t/afl/default"
        local first
        first=$(ls "$c/run/$t/afl/default/crashes"/id:* 2>/dev/null | head -n 1)
        if [ -n "$first" ]; then
          env "${env[@]}" "$c/out/$t" "$first" > "$c/run/$t/crash.log" 2>&1 || true
          show_log "$c/run/$t/crash.log"
        fi
      else
        pass "$t: afl-fuzz $execs executions in ${fuzz_seconds} s (persistent mode), 0 crashes, 0 hangs"
      fi
    else
      fail "$t: afl-fuzz failed (log $log):"; tail -n 25 "$log" | sed 's/^/        /'
    fi
  done
}

start_all=$SECONDS
for combo in "${combos[@]}"; do
  engine=${combo%-*} sanitizer=${combo#*-}
  echo "== $engine + $sanitizer ($dir/$combo)"
  build_combo "$engine" "$sanitizer" || continue
  check_out "$engine" "$sanitizer"
  if [ "$engine" = afl ]; then
    run_afl "$sanitizer"
  elif [ "$sanitizer" = coverage ]; then
    run_coverage
  else
    run_libfuzzer "$sanitizer"
  fi
done
echo "check_build: ${#combos[@]} combination(s) in $((SECONDS - start_all)) s"
echo "check_build: $passed passed, $failed failed"
((failed == 0))
