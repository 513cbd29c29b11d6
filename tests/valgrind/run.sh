#!/usr/bin/env bash
# missive: every test again, with each program under valgrind memcheck.
# `make check-valgrind` calls it after building VARIANT=debug (-O1 -g, no
# sanitizer: ASan and valgrind do not mix).
#
#   tests/valgrind/run.sh BUILD_DIR        (e.g. <repo>/build/debug)
#
# Writes one wrapper script per program into $MISSIVE_TEST_VAR/valgrind/
# (default <repo>/var/test; locked as tests/run.sh does): bin/ for
# BUILD_DIR/bin/* (missived, missive, missive-admin, missive-keys), unit/
# for the unit tests BUILD_DIR/tests/test_*, tools/ for the test tools
# BUILD_DIR/tests/tools/*.  A wrapper execs valgrind on the real program,
# so the PID a test holds is the program's: it can still signal the server
# or read its memory.  Then tests/run.sh runs every test with MISSIVE_BIN,
# MISSIVE_UNIT and MISSIVE_TOOLS pointing at the wrappers and
# MISSIVE_VALGRIND at the log directory: each test file's processes log to
# $MISSIVE_TEST_VAR/valgrind/logs/<file>/<pid>.log, and after the file
# tests/valgrind/check-logs.sh counts one more TAP line for them:
#   ok - valgrind: 04-session.sh: 23 processes, 0 errors, 0 leaks
#
#   MISSIVE_TIME_FACTOR=n    lib.sh's wait_until waits n times longer
#                            (default 10: memcheck is 10-50 times slower)
#   MISSIVE_TEST_TIMEOUT=s   per test file (default 3600)
#   MISSIVE_TEST_FILTER=text as for tests/run.sh
#   MISSIVE_VALGRIND_OPTS=.. more valgrind options (--track-origins=yes to
#                            find where an uninitialised value came from)
set -eu

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD=$(cd "$1" && pwd -P)
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
. "$REPO/tests/run-lib.sh"
# The wrappers are this run's state: lock before rewriting them (run.sh,
# exec'd below, keeps the lock).
lock_test_var "${MISSIVE_TEST_VAR:-$REPO/var/test}"
export MISSIVE_TEST_VAR=$TEST_VAR
VG=$TEST_VAR/valgrind

command -v valgrind >/dev/null 2>&1 ||
	{ echo "$0: valgrind not found (make deps)" >&2; exit 1; }

# Memcheck, and why each option:
#   --leak-check=full            every leak, with the stack that allocated it
#   --show-leak-kinds=definite,indirect,possible
#   --errors-for-leak-kinds=definite,indirect,possible
#                                such leaks are errors; "still reachable"
#                                (held until exit, e.g. OpenSSL's and
#                                MariaDB's library state) is not
#   --error-exitcode=99          a process with errors also fails its test
#   --track-fds=no               fds open at exit are not errors
#   --num-callers=30             stacks deep enough to get out of OpenSSL
#   --suppressions=...           library false positives, each justified
#   --log-file=DIR/%p.log        one log per process, named by its PID
# shellcheck disable=SC2206,SC2054 # OPTS is a list of words; commas are
# part of the option values
OPTS=(--tool=memcheck --leak-check=full
	--show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible
	--error-exitcode=99 --track-fds=no --num-callers=30
	--suppressions="$REPO/tests/valgrind/memcheck.supp"
	${MISSIVE_VALGRIND_OPTS:-})

rm -rf "$VG"
mkdir -p "$VG/bin" "$VG/unit" "$VG/tools" "$VG/logs"

# wrap DIR PROGRAM: DIR/<name of PROGRAM> runs PROGRAM under memcheck.
wrap() {
	local w
	w=$1/$(basename "$2")
	{
		printf '#!/bin/sh\n'
		printf '# Made by tests/valgrind/run.sh: %s under memcheck.\n' "$2"
		printf 'exec valgrind'
		printf " '%s'" "${OPTS[@]}"
		# shellcheck disable=SC2016 # expanded when the wrapper runs
		printf ' --log-file="${MISSIVE_VALGRIND_LOGDIR:-%s}/%%p.log"' \
			"$VG/logs/other"
		printf " '%s' \"\$@\"\n" "$2"
	} >"$w"
	chmod 755 "$w"
}

n=0
for p in "$BUILD"/bin/* "$BUILD"/tests/test_* "$BUILD"/tests/tools/*; do
	if [ ! -f "$p" ] || [ ! -x "$p" ]; then continue; fi
	case "$p" in
	"$BUILD"/bin/*) wrap "$VG/bin" "$p" ;;
	"$BUILD"/tests/tools/*) wrap "$VG/tools" "$p" ;;
	*) wrap "$VG/unit" "$p" ;;
	esac
	n=$((n + 1))
done
mkdir -p "$VG/logs/other"
echo "# valgrind $(valgrind --version | sed 's/^valgrind-//'): $n programs wrapped in $VG"

export MISSIVE_BIN=$VG/bin MISSIVE_UNIT=$VG/unit MISSIVE_TOOLS=$VG/tools
export MISSIVE_VALGRIND=$VG/logs
export MISSIVE_TIME_FACTOR=${MISSIVE_TIME_FACTOR:-10}
export MISSIVE_TEST_TIMEOUT=${MISSIVE_TEST_TIMEOUT:-3600}
exec "$REPO/tests/run.sh"
