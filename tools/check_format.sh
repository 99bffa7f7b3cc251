#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fails, listing the files, when a C or C++ source of the repository is not
# formatted as .clang-format says (the kernel-facing shim headers opt out in
# engine/linux/include/.clang-format). Fix with:
#   clang-format -i $(git ls-files '*.cc' '*.h' '*.c')
# Usage: check_format.sh SOURCE_DIR
set -euo pipefail
cd "${1:?usage: check_format.sh SOURCE_DIR}"
fmt=$(command -v clang-format-14 || command -v clang-format || true)
[[ -n $fmt ]] || { echo "check_format: no clang-format (Debian: clang-format-14)" >&2; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h' '*.c')
else
  mapfile -t files < <(find engine fuzz tools tests sanitizers -name '*.cc' -o -name '*.h' -o -name '*.c')
fi
bad=()
for f in "${files[@]}"; do
  [[ -f $f ]] || continue
  "$fmt" --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "check_format: ${#bad[@]} of ${#files[@]} files are not formatted:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix: $fmt -i ${bad[*]}" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files formatted"
