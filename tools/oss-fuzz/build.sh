#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for reclaimfuzz.
#
# Runs inside OSS-Fuzz's base-builder image (`compile` runs it as
# `bash -eux $SRC/build.sh`), and on any machine that sets the same
# environment (tools/oss-fuzz/check_build.sh does, without Docker). It reads
# only what OSS-Fuzz sets:
#   CC CXX CFLAGS CXXFLAGS  compilers and flags, sanitizer and coverage flags included
#   LIB_FUZZING_ENGINE      -fsanitize=fuzzer (libFuzzer) or a driver library (AFL++)
#   FUZZING_ENGINE          libfuzzer | afl | ...: the schedule-aware custom
#                           mutator needs libFuzzer's LLVMFuzzerMutate
#   SANITIZER               address | undefined | ...
#   SRC WORK OUT            sources, scratch space, results
#
# Into $OUT: storage_<variant>_fuzz for every engine variant and
# program_roundtrip_fuzz, each with <target>_seed_corpus.zip (corpus/seeds/
# plus corpus/<target>/ in the binary form, never regression/), <target>.dict
# and <target>.options.
#
# Abseil (and GoogleTest, which the CMake project finds at configure time)
# come from the system when installed; otherwise from the clones the
# Dockerfile puts in $SRC/abseil-cpp and $SRC/googletest, built here with
# the same compilers and flags and installed into $WORK/deps.

# The project: this script's own checkout when run from it, else OSS-Fuzz's
# layout ($SRC/reclaimfuzz, the Dockerfile's WORKDIR), else the current folder.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$here/../../fuzz/storage_fuzz.cc" ]; then
  root=$(cd "$here/../.." && pwd)
elif [ -f "$SRC/reclaimfuzz/fuzz/storage_fuzz.cc" ]; then
  root=$SRC/reclaimfuzz
else
  root=$(pwd)
fi
[ -f "$root/fuzz/storage_fuzz.cc" ] || { echo "build.sh: cannot find the reclaimfuzz sources" >&2; exit 2; }
oss=$root/tools/oss-fuzz

engine=${FUZZING_ENGINE:-}
if [ -z "$engine" ] && [ "$LIB_FUZZING_ENGINE" = "-fsanitize=fuzzer" ]; then
  engine=libfuzzer
fi

# The scheduler switches fibers with _setjmp/_longjmp, which ASan's fake
# stacks do not survive (sanitizers/README.md); OSS-Fuzz's runner may turn
# detect_stack_use_after_return on, so compile the fake stacks out.
if [ "$SANITIZER" = "address" ]; then
  CFLAGS="$CFLAGS -fsanitize-address-use-after-return=never"
  CXXFLAGS="$CXXFLAGS -fsanitize-address-use-after-return=never"
fi
export CFLAGS CXXFLAGS

generator="Unix Makefiles"
if command -v ninja > /dev/null; then generator=Ninja; fi
jobs=$(nproc)

deps=$WORK/deps
# have_package NAME: NAME's CMake package is installed (system or $WORK/deps).
have_package() {
  local d
  for d in "$deps" /usr/local /usr; do
    if compgen -G "$d/lib*/cmake/$1/$1Config.cmake" > /dev/null ||
       compgen -G "$d/lib/*/cmake/$1/$1Config.cmake" > /dev/null; then
      return 0
    fi
  done
  return 1
}
# build_dependency NAME SOURCE_DIR CMAKE_ARGS...: build and install into $deps.
build_dependency() {
  local name=$1 src=$2
  shift 2
  [ -d "$src" ] || { echo "build.sh: $name is not installed and $src is missing" >&2; exit 2; }
  echo "build.sh: building $name from $src"
  cmake -S "$src" -B "$WORK/build-$name" -G "$generator" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$deps" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_CXX_STANDARD=20 \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" "$@"
  cmake --build "$WORK/build-$name" -j"$jobs"
  cmake --install "$WORK/build-$name"
}

if ! have_package absl; then
  build_dependency abseil-cpp "$SRC/abseil-cpp" \
    -DABSL_PROPAGATE_CXX_STD=ON -DABSL_BUILD_TESTING=OFF -DBUILD_TESTING=OFF
fi
if ! have_package GTest; then
  build_dependency googletest "$SRC/googletest" -DBUILD_GMOCK=OFF -DINSTALL_GTEST=ON
fi

# One target per variant of the registry (engine/variants.txt): every model
# variant, and every real-tree variant whose Debian linux-source package is
# installed here (/usr/src/linux-source-X.Y.tar.xz). OSS-Fuzz's own image
# has none, so there only the model's are built; a Debian-based builder
# (ClusterFuzzLite, tools/oss-fuzz/check_build.sh here) builds the trees too.
# Kernel source is never fetched from anywhere else.
targets="" trees=""
while IFS='|' read -r v_name v_engine v_tree _; do
  v_name=$(echo "$v_name" | tr -d ' \t'); v_engine=$(echo "$v_engine" | tr -d ' \t'); v_tree=$(echo "$v_tree" | tr -d ' \t')
  [ -n "$v_name" ] || continue
  if [ "$v_engine" = tree ]; then
    [ -f "/usr/src/linux-source-${v_tree#linux-}.tar.xz" ] || continue
    case ";$trees;" in *";$v_tree;"*) ;; *) trees="${trees:+$trees;}$v_tree" ;; esac
  fi
  targets="$targets storage_$(echo "$v_name" | tr -- '-.+' '___')_fuzz"
done < <(sed -e 's/#.*//' "$root/engine/variants.txt" | awk -F'|' 'NF == 6')
targets="${targets# } program_roundtrip_fuzz"
build=$WORK/build-reclaimfuzz
# No CMAKE_BUILD_TYPE: optimization and debug info are OSS-Fuzz's ($CFLAGS).
# RF_MUTE_KNOWN_FINDINGS: each target stops quietly at its variant's known
# findings (engine/variants.txt), so OSS-Fuzz and ClusterFuzzLite, which
# cannot set RECLAIMFUZZ_IGNORE, report only new ones.
cmake -S "$root" -B "$build" -G "$generator" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DCMAKE_PREFIX_PATH="$deps" \
  -DRF_SANITIZER=external -DRF_FUZZER=external \
  -DRF_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" -DRF_FUZZING_ENGINE="$engine" \
  -DRF_MUTE_KNOWN_FINDINGS=ON \
  -DRF_LINUX_TREES="$trees"
# shellcheck disable=SC2086  # one word per target
cmake --build "$build" -j"$jobs" --target $targets corpus_encode

# Seeds in the binary form the targets read (corpus_encode, as the CMake
# build's seed_corpus target does).
seeds=$WORK/seeds
rm -rf "$seeds"
mkdir -p "$seeds/shared"
shared=()
for f in "$root"/corpus/seeds/*.txt; do
  [ "$(basename "$f")" = expected.txt ] || shared+=("$f")
done
"$build/fuzz/corpus_encode" "$seeds/shared" "${shared[@]}"

for t in $targets; do
  cp "$build/fuzz/$t" "$OUT/$t"
  dir=$seeds/$t
  mkdir -p "$dir"
  cp "$seeds"/shared/*.bin "$dir"/
  # A target's own seeds (text or binary) beside its regression/ folder.
  if [ -d "$root/corpus/$t" ]; then
    own=()
    for f in "$root/corpus/$t"/*; do
      [ -f "$f" ] || continue
      case $f in
        *.txt) own+=("$f") ;;
        *.md) ;;
        *) cp "$f" "$dir"/ ;;
      esac
    done
    if [ ${#own[@]} -gt 0 ]; then "$build/fuzz/corpus_encode" "$dir" "${own[@]}"; fi
  fi
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "$dir" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
  cp "$oss/reclaimfuzz.dict" "$OUT/$t.dict"
  cp "$oss/reclaimfuzz.options" "$OUT/$t.options"
done
echo "build.sh: built $(echo $targets | wc -w) targets into $OUT"
