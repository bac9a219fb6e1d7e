#!/usr/bin/env bash
# Formats the project's C++ with the checked-in .clang-format.
# Usage: scripts/format.sh          rewrite files in place
#        scripts/format.sh --check  fail, listing the files, if any file is not formatted
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null; then
  echo "format: clang-format not installed (scripts/bootstrap.sh installs it)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.h' '*.cc' | grep -v '^build/')
if [ "${1:-}" = "--check" ]; then
  bad=()
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
  done
  if [ "${#bad[@]}" -gt 0 ]; then
    echo "format: not clang-formatted (run scripts/format.sh): ${bad[*]}" >&2
    exit 1
  fi
else
  clang-format -i "${files[@]}"
fi
