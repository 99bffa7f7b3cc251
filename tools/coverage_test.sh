#!/usr/bin/env bash
# ctest coverage.report (label coverage, coverage preset only): runs
# 'tools/reclaimfuzz coverage --nobuild' on this build and checks the report.
# Usage: coverage_test.sh SOURCE_DIR BUILD_DIR SCRATCH_DIR
set -euo pipefail

src=$1 build=$2 scratch=$3
rm -rf "$scratch"
mkdir -p "$scratch/extra"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Extra inputs as a campaign folder holds them: one text program that parses,
# one that does not (skipped with a note), one log (ignored), one binary.
cp "$src/corpus/seeds/lifecycle.txt" "$scratch/extra/min.txt"
printf 'vcpus 1\nbogus line\n' >"$scratch/extra/broken.txt"
printf 'not an input\n' >"$scratch/extra/fuzzer.log"
printf '\x01\x02\x03\x04' >"$scratch/extra/crash-0001"

out="$scratch/out"
"$src/tools/reclaimfuzz" coverage --nobuild --build-dir "$build" --out "$out" \
  --corpus "$scratch/extra" >"$scratch/stdout" 2>"$scratch/stderr" ||
  { cat "$scratch/stderr" >&2; fail "coverage exited $?"; }
cat "$scratch/stdout"
line=$(tail -n 1 "$scratch/stdout")
re='^coverage: lines ([0-9]+)/([0-9]+) \(([0-9.]+)%\), branches ([0-9]+)/([0-9]+) \(([0-9.]+)%\), functions ([0-9]+)/([0-9]+) \([0-9.]+%\); ([0-9]+) inputs x 5 targets; report (.*)$'
[[ $line =~ $re ]] || fail "summary line: '$line'"
lc=${BASH_REMATCH[1]} ln=${BASH_REMATCH[2]} bc=${BASH_REMATCH[4]} bn=${BASH_REMATCH[5]}
inputs=${BASH_REMATCH[9]} index=${BASH_REMATCH[10]}
((ln > 1000 && bn > 500)) || fail "too little code measured: $ln lines, $bn branches"
# The corpus exercises most of the engine; a replay that did not run would
# leave only static initialisers.
((lc * 2 > ln)) || fail "less than half the lines covered: $lc/$ln"
((bc > 0)) || fail "no branch covered"

# Inputs: every program under corpus/ (expected.txt and README.md are not),
# plus the two usable extra files.
ncorpus=$(find "$src/corpus" -type f -name '*.txt' ! -name expected.txt | wc -l)
((inputs == ncorpus + 2)) || fail "$inputs inputs, expected $ncorpus from corpus/ + 2 extra"
grep -q "skipped 1 text file" "$scratch/stderr" || fail "broken.txt was not reported as skipped"

[[ -f $index && $index == "$out/html/index.html" ]] || fail "no report at $index"
grep -q 'engine/storage/defer.cc' "$index" || fail "index.html does not list engine/storage/defer.cc"
grep -q 'fuzz/interpreter.cc' "$index" || fail "index.html does not list fuzz/interpreter.cc"
if grep -Eq '_test\.cc|/usr/include|/tests/' "$index" "$out/summary.txt"; then
  fail "the report includes tests or system headers"
fi
awk '$1 == "engine/storage/defer.cc" && $8 > $9 { ok = 1 } END { exit !ok }' "$out/summary.txt" ||
  fail "engine/storage/defer.cc has no covered line"

# Bad usage: one line, exit 2.
for args in "--corpus $scratch/nonexistent" "--bogus"; do
  rc=0
  # shellcheck disable=SC2086  # split on purpose
  "$src/tools/reclaimfuzz" coverage --nobuild --out "$scratch/o2" $args >/dev/null 2>"$scratch/err2" || rc=$?
  ((rc == 2)) || fail "'coverage $args' exited $rc, expected 2"
  (($(wc -l <"$scratch/err2") == 1)) || fail "'coverage $args' printed more than one line"
done
echo "PASS"
