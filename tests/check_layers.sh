#!/usr/bin/env bash
# check_layers.sh — fails when a C file of verifiers/, config/, adapters/ or gateway/ includes
# a header of ours that its folder may not use, printing FILE:LINE and the rule it breaks.
#
# Why the direction matters: each folder is a library that uses only those below it, so each
# can be read, tested and fuzzed with only what is under it (the signature schemes and the
# config loader without a database or a server), and a change to an upper layer never has to
# be followed down into a lower one. A static library links whichever way its headers point:
# the build alone would not notice an include that ties the layers into a knot.
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$root"

# FOLDER (or file)   WHAT ITS FILES MAY INCLUDE OF OURS
# A folder may always include itself; "*" is any of the four code trees, "-X" takes X out of
# it. The most specific entry (the longest FOLDER that starts the file's path) applies.
rules='
verifiers/          verifiers/
config/             config/ verifiers/
gateway/base/       gateway/base/
gateway/db/         gateway/base/ gateway/db/ config/
gateway/core/       gateway/base/ gateway/db/ gateway/core/ config/ verifiers/
gateway/net/        gateway/base/ gateway/net/ config/ verifiers/
adapters/           gateway/base/ gateway/db/ gateway/core/ gateway/net/ config/ verifiers/ adapters/
gateway/http/       gateway/base/ gateway/db/ gateway/http/ config/ verifiers/
gateway/pipeline/   * -gateway/cli/
gateway/cli/        * -gateway/http/ -gateway/pipeline/
gateway/main.c      *
'
trees=(verifiers config adapters gateway)

# The rule for a path: "FOLDER ALLOWED...", from the longest FOLDER that starts it.
rule_for() {
    local path="$1" best="" folder allowed
    while read -r folder allowed; do
        [[ -n "$folder" && "$path" == "$folder"* ]] || continue
        ((${#folder} > ${#best})) || continue
        best="$folder"
        best_rule="$folder $allowed"
    done <<<"$rules"
    [[ -n "$best" ]]
}

# Whether the rule's folder may include the header INC (a path from the root).
allowed() {
    local inc="$1" folder="$2" tok ok=1
    shift 2
    [[ "$inc" == "$folder"* ]] && return 0
    for tok in "$@"; do
        case "$tok" in
        '*')
            local t
            for t in "${trees[@]}"; do
                [[ "$inc" == "$t/"* ]] && ok=0
            done
            ;;
        -*) [[ "$inc" == "${tok#-}"* ]] && return 1 ;;
        *) [[ "$inc" == "$tok"* ]] && ok=0 ;;
        esac
    done
    return "$ok"
}

# "may include only A, B" or "may include anything of ours but A, B", for the message.
describe() {
    local folder="$1" tok t list="" but=""
    shift
    for tok in "$@"; do
        case "$tok" in
        '*') for t in "${trees[@]}"; do list+="${list:+, }$t/"; done ;;
        -*) but+="${but:+, }${tok#-}" ;;
        *) list+="${list:+, }$tok" ;;
        esac
    done
    if [[ -n "$but" ]]; then
        printf '%s may include anything of ours but %s' "$folder" "$but"
    else
        printf '%s may include only %s' "$folder" "$list"
    fi
}

failures=0
files=0
while IFS= read -r file; do
    files=$((files + 1))
    if ! rule_for "$file"; then
        echo "$file: not in any folder of the layer table (tests/check_layers.sh)"
        failures=$((failures + 1))
        continue
    fi
    read -r -a rule <<<"$best_rule"
    # Every '#include "…"' line, as LINE:TEXT.
    while IFS=: read -r line text; do
        inc="${text#*\"}"
        inc="${inc%%\"*}"
        case "$inc" in
        */*) ;;
        *) continue ;; # beside the file: its own folder
        esac
        top="${inc%%/*}"
        [[ -d "$top" ]] || continue # not ours
        if ! allowed "$inc" "${rule[@]}"; then
            echo "$file:$line: includes \"$inc\": $(describe "${rule[@]}")"
            failures=$((failures + 1))
        fi
    done < <(grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
done < <(find "${trees[@]}" -type f \( -name '*.c' -o -name '*.h' \) | sort)

if ((failures > 0)); then
    echo "$failures violation(s) of the layer table in tests/check_layers.sh ($files files read)"
    exit 1
fi
echo "$files files include only what their layer may"
