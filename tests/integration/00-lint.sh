#!/usr/bin/env bash
# Static analysis in `make check`: `make lint` runs cppcheck and clang-tidy
# (.clang-tidy, scripts/cppcheck.supp) over every C file of the tree and
# prints TAP itself, one line per tool:
#   ok 1 - cppcheck: 0 findings over N files
#   ok 2 - clang-tidy: 0 findings over N files
# Each finding is shown as a comment under its "not ok" line; the tools'
# full output is in build/lint/.  No lib.sh: nothing to start or clean up.
set -eu

# Under `make check-valgrind` it checks nothing that run did not: skip.
if [ -n "${MISSIVE_VALGRIND:-}" ]; then
	echo "1..0 # SKIP lint does not depend on how programs run"
	exit 0
fi

REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$REPO"
# Under `make check` this runs inside make's recipe: the jobserver named in
# MAKEFLAGS is not open here, so start a make of our own.
exec env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s lint
