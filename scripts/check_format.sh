#!/usr/bin/env bash
# Checks that every C++ source is formatted as .clang-format says (clang-format 14, as Debian 12
# ships it); lists the files that are not. Fix them with:
#
#   git ls-files '*.cpp' '*.hpp' | grep -v '^tests/fuzz/corpus/' | xargs clang-format-14 -i
set -euo pipefail
cd "$(dirname "$0")/.."
format=clang-format-14
command -v $format >/dev/null || { echo "check_format.sh: $format is missing (scripts/setup.sh --packages installs it)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' | grep -v '^tests/fuzz/corpus/')
bad=()
for f in "${files[@]}"; do
  $format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "check_format.sh: ${#bad[@]} of ${#files[@]} C++ file(s) are not formatted:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check_format.sh: ${#files[@]} C++ files formatted"
