#!/usr/bin/env bash
# missive: static analysis with cppcheck and clang-tidy.  `make lint` calls
# it (and tests/integration/00-lint.sh, through make, in `make check`).
#
#   scripts/lint.sh COMPILE_DB CPPCHECK_FLAG...
#
# COMPILE_DB is the compile_commands.json the Makefile writes: its files are
# the files checked, its flags are the real build's.  CPPCHECK_FLAGs are our
# -I and -D (cppcheck reads our headers, and knows libc and OpenSSL from its
# --library files rather than from the system's headers).
#
#   CPPCHECK=cmd      (default cppcheck)
#   CLANG_TIDY=cmd    (default clang-tidy; the checks are in .clang-tidy)
#   LINT_JOBS=n       parallel jobs (default 2)
#
# Prints TAP: one "ok"/"not ok" line per tool with the number of findings
# and files, each finding as a "# " comment below it, then the plan.  The
# full output of both tools is kept next to COMPILE_DB (cppcheck.log,
# clang-tidy.log).  Exits 1 if there is any finding.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 COMPILE_DB CPPCHECK_FLAG..." >&2; exit 2; }
db=$1
shift
REPO=$(cd "$(dirname "$0")/.." && pwd -P)
CPPCHECK=${CPPCHECK:-cppcheck}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy}
JOBS=${LINT_JOBS:-2}
OUT=$(dirname "$db")
cd "$REPO"

# The files, one per line, from our own compile-db.sh's format.
mapfile -t files < <(sed -n 's/^    "file": "\(.*\)",$/\1/p' "$db")
nfiles=${#files[@]}
if [ "$nfiles" -eq 0 ]; then
	echo "not ok 1 - no files in $db"
	echo "1..1"
	exit 1
fi

n=0
status=0

# report TOOL FINDINGS_FILE: one TAP line for TOOL, and its findings.
report() {
	local count
	count=$(grep -c . "$2" || true)
	n=$((n + 1))
	if [ "$count" -eq 0 ]; then
		echo "ok $n - $1: 0 findings over $nfiles files"
	else
		echo "not ok $n - $1: $count findings over $nfiles files"
		sed 's/^/#   /' "$2"
		status=1
	fi
}

# A finding: "path:line:col: severity: message [id]"; paths made relative
# to the repository, each finding once (a header is seen by many files).
findings() {
	sed -E -n -e "s|^$REPO/||" -e 's|^\./||' \
	    -e '/^[^ :]+:[0-9]+:[0-9]+: (warning|error|style|performance|portability|information): /p' |
	    sed -E 's/,-warnings-as-errors\]$/]/' | sort -u
}

# cppcheck: one run over every file.
if ! command -v "$CPPCHECK" >/dev/null 2>&1; then
	n=$((n + 1))
	echo "not ok $n - cppcheck: $CPPCHECK not found (make deps)"
	status=1
else
	echo "# $("$CPPCHECK" --version), $nfiles files"
	rc=0
	"$CPPCHECK" --enable=warning,style,performance,portability \
	    --std=c11 --platform=unix64 --library=gnu --library=openssl \
	    --error-exitcode=1 --inline-suppr --quiet -j "$JOBS" \
	    --suppress=missingIncludeSystem \
	    --suppressions-list=scripts/cppcheck.supp \
	    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	    "$@" "${files[@]}" >"$OUT/cppcheck.log" 2>&1 || rc=$?
	findings <"$OUT/cppcheck.log" >"$OUT/cppcheck.findings"
	if [ "$rc" -ne 0 ] && [ ! -s "$OUT/cppcheck.findings" ]; then
		echo "cppcheck: exit status $rc (see $OUT/cppcheck.log)" \
		    >"$OUT/cppcheck.findings"
	fi
	report cppcheck "$OUT/cppcheck.findings"
fi

# clang-tidy: one process per file, JOBS at a time.  A file whose run fails
# without a finding (a crash, a bad flag) counts as a finding of its own.
if ! command -v "$CLANG_TIDY" >/dev/null 2>&1; then
	n=$((n + 1))
	echo "not ok $n - clang-tidy: $CLANG_TIDY not found (make deps)"
	status=1
else
	echo "# $("$CLANG_TIDY" --version | sed -n 's/.*LLVM version/clang-tidy/p'), $nfiles files, $JOBS jobs"
	rm -rf "$OUT/tidy"
	mkdir -p "$OUT/tidy"
	export CLANG_TIDY OUT db
	# shellcheck disable=SC2016 # expanded by sh, per file
	printf '%s\n' "${files[@]}" | xargs -P "$JOBS" -I{} sh -c '
		log="$OUT/tidy/$(printf %s "$1" | tr / _).log"
		"$CLANG_TIDY" -p "$(dirname "$db")" --quiet "$1" >"$log" 2>&1 ||
		    echo "exit status $?" >>"$log"' sh {}
	: >"$OUT/clang-tidy.log"
	: >"$OUT/clang-tidy.failed"
	for f in "${files[@]}"; do
		log="$OUT/tidy/$(printf %s "$f" | tr / _).log"
		cat "$log" >>"$OUT/clang-tidy.log"
		if grep -q '^exit status ' "$log" &&
		    [ -z "$(findings <"$log")" ]; then
			echo "$f: clang-tidy failed: $(tail -n 1 "$log") (see $log)" \
			    >>"$OUT/clang-tidy.failed"
		fi
	done
	{
		findings <"$OUT/clang-tidy.log"
		cat "$OUT/clang-tidy.failed"
	} >"$OUT/clang-tidy.findings"
	report clang-tidy "$OUT/clang-tidy.findings"
fi

echo "1..$n"
exit "$status"
