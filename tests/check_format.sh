#!/bin/sh
# check_format.sh — fails when any C file of the source tree differs from .clang-format.
set -eu
root="$1"
cd "$root"
files=$(find gateway adapters verifiers config tests -name '*.[ch]' -type f | sort)
[ -n "$files" ] || { echo "no C files found under $root" >&2; exit 1; }
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "$(echo "$files" | wc -l) files formatted as .clang-format says"
