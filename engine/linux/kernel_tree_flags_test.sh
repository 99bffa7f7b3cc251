#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kernel_tree_flags_test.sh SOURCE_DIR C_COMPILER CXX_COMPILER: configures
# the project in scratch folders the way tools/reclaimfuzz --kernel-tree and
# --patch do (RF_KERNEL_TREE, RF_KERNEL_PATCHES, RF_KERNEL_BASE), with no
# packaged trees of the registry, and checks
#   1. a packaged tree's name and a patch that applies give the variants
#      'tree' (patched) and 'tree-base' (not), and the patch is in 'tree's
#      copy only;
#   2. a patch that does not apply stops the configure step with patch's
#      own output, naming the failed hunk;
#   3. a --kernel-tree that is neither a directory nor a packaged tree is a
#      clear error.
set -uo pipefail
src=$1 cc=$2 cxx=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
configure() {  # configure DIR ARGS...
  local dir=$1
  shift
  cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DRF_LINUX_TREES= "$@" > "$dir.log" 2>&1
}

good=$src/patches/linux-6.12/map-free-tasks-trace.patch
configure "$work/a" -DRF_KERNEL_TREE=linux-6.12 -DRF_KERNEL_PATCHES="$good" -DRF_KERNEL_BASE=ON ||
  { cat "$work/a.log"; fail "configure with a packaged tree and a good patch"; }
inc=$work/a/generated/rf_variants.inc
grep -q '^RF_VARIANT("tree", 1, 1, 0,' "$inc" || { cat "$inc"; fail "no variant 'tree'"; }
grep -q '^RF_VARIANT("tree-base", 1, 1, 0,' "$inc" || { cat "$inc"; fail "no variant 'tree-base'"; }
grep -q 'synchronize_rcu_tasks_trace' "$work/a/trees/tree/patched/kernel/bpf/bpf_local_storage.c" ||
  fail "the patch is not in tree's copy"
grep -q 'synchronize_rcu_tasks_trace' "$work/a/trees/tree-base/patched/kernel/bpf/bpf_local_storage.c" &&
  fail "the patch leaked into tree-base"
echo "ok: tree and tree-base, the patch in tree only"

bad=$work/bad.patch
cat > "$bad" <<'PATCH'
--- a/kernel/bpf/bpf_local_storage.c
+++ b/kernel/bpf/bpf_local_storage.c
@@ -1,3 +1,3 @@
-this line is not in any kernel tree
+nor is this one
 context that does not match
 either
PATCH
configure "$work/b" -DRF_KERNEL_TREE=linux-6.12 -DRF_KERNEL_PATCHES="$bad" &&
  fail "a patch that does not apply was accepted"
grep -q "patch $bad does not apply" "$work/b.log" || { cat "$work/b.log"; fail "no 'does not apply' message"; }
grep -q "Hunk #1 FAILED" "$work/b.log" || { cat "$work/b.log"; fail "patch's own output is missing"; }
echo "ok: a patch that does not apply is an error naming the hunk"

configure "$work/c" -DRF_KERNEL_TREE="$work/no-such-tree" && fail "a missing tree was accepted"
grep -q "no-such-tree is neither a" "$work/c.log" || { cat "$work/c.log"; fail "no clear message"; }
echo "ok: a missing tree is a clear error"
