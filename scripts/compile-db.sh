#!/bin/sh
# missive: write a compilation database (compile_commands.json) for
# clang-tidy and other tools.  The Makefile's `lint` target calls it with
# the flags of the real build, so the analysers see what cc sees.
#
#   scripts/compile-db.sh OUT CC FLAG... -- FILE...
#
# One entry per FILE, each compiled from the repository root with
# "CC FLAG... -c FILE".  Arguments are written as a JSON array, so flags
# holding quotes (-DMISSIVE_SYSCONFDIR="...") need no shell re-parsing.
set -eu

[ $# -ge 3 ] || { echo "usage: $0 OUT CC FLAG... -- FILE..." >&2; exit 2; }
out=$1
cc=$2
shift 2
repo=$(cd "$(dirname "$0")/.." && pwd -P)

# json STRING: STRING as a JSON string (backslash and quote escaped; our
# flags and paths hold no control characters).
json() {
	printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

flags=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	flags="$flags, $(json "$1")"
	shift
done
[ $# -gt 0 ] || { echo "$0: no -- before the files" >&2; exit 2; }
shift

tmp=$out.tmp
mkdir -p "$(dirname "$out")"
{
	printf '[\n'
	sep=""
	for f in "$@"; do
		printf '%s  {\n' "$sep"
		printf '    "directory": %s,\n' "$(json "$repo")"
		printf '    "file": %s,\n' "$(json "$f")"
		printf '    "arguments": [%s%s, "-c", %s]\n' "$(json "$cc")" \
		    "$flags" "$(json "$f")"
		printf '  }'
		sep=",
"
	done
	printf '\n]\n'
} >"$tmp"
mv "$tmp" "$out"
