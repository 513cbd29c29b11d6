#!/usr/bin/env bash
# missive: run every test and summarize.  `make check` calls this.
#
#   MISSIVE_BIN=dir   programs under test (default <repo>/build/san/bin)
#   MISSIVE_UNIT=dir  cmocka unit test binaries test_* (default <repo>/build/san/tests)
#   MISSIVE_TEST_FILTER=text   run only test files whose name contains text
#   MISSIVE_TEST_TIMEOUT=secs  per test file (default 600; 0 = no limit)
#   MISSIVE_TEST_VAR=dir       all test state and logs (default <repo>/var/test).
#                              One run at a time per directory: a run
#                              holds dir/.lock (flock), and a second run
#                              on the same dir stops at once, counted as
#                              "0 passed, 1 failed"
#   MISSIVE_TEST_PORT_BASE=n   first of the TCP ports the tests use, n to
#                              n+299 (lib.sh test_port).  Unset: a block
#                              of 300 free ports on 127.0.0.1 is picked
#                              and reserved for this run (tests/run-lib.sh),
#                              and shown in a "# ports" line.  A test
#                              file run alone, without this runner, uses
#                              27400 to 27699
#   MISSIVE_VALGRIND=dir  programs run under valgrind (tests/valgrind/run.sh,
#                         `make check-valgrind`): each test file's processes
#                         log to dir/<file>/ (MISSIVE_VALGRIND_LOGDIR), and
#                         tests/valgrind/check-logs.sh adds one result per
#                         file for those logs
#
# So runs with different MISSIVE_TEST_VARs go side by side (two clones
# do: `make check-side-by-side`, tests/side-by-side.sh).
#
# Runs each executable $MISSIVE_UNIT/test_* (with CMOCKA_MESSAGE_OUTPUT=TAP),
# then each tests/integration/NN-*.sh (sorted) with bash, from the repo root.
# Tests print TAP: "ok ..." passes, "not ok ..." fails; "1..N" plans and
# "# ..." comments are shown but not counted.  A file that exits non-zero
# without a "not ok" line (a crash, a sanitizer abort, set -e), or whose
# results do not add up to its plans, counts as one more failure.
# Output is streamed with the file name as prefix and kept in
# $MISSIVE_TEST_VAR/logs/<file>.log.  At the end: each file's wall time,
# slowest first, then the failures, and last exactly "N passed, M failed";
# the exit status is 1 if M > 0 or N == 0, else 0.
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
export MISSIVE_BIN=${MISSIVE_BIN:-$REPO/build/san/bin}
export MISSIVE_UNIT=${MISSIVE_UNIT:-$REPO/build/san/tests}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
FILTER=${MISSIVE_TEST_FILTER:-}
VALGRIND=${MISSIVE_VALGRIND:-}
TIMEOUT=${MISSIVE_TEST_TIMEOUT:-600}
. "$REPO/tests/run-lib.sh"

lock_test_var "${MISSIVE_TEST_VAR:-$REPO/var/test}"
export MISSIVE_TEST_VAR=$TEST_VAR
LOGDIR=$TEST_VAR/logs
if [ -z "${MISSIVE_TEST_PORT_BASE:-}" ]; then
	pick_port_block || give_up "MISSIVE_TEST_PORT_BASE: no free block of ports" \
		"no block of $PORT_BLOCK free TCP ports found; give one: MISSIVE_TEST_PORT_BASE=n"
	export MISSIVE_TEST_PORT_BASE=$PORT_BASE
	how="free ones, picked for this run"
else
	how="MISSIVE_TEST_PORT_BASE"
fi
printf '# ports %d to %d (%s)\n# state and logs in %s\n' \
	"$MISSIVE_TEST_PORT_BASE" $((MISSIVE_TEST_PORT_BASE + PORT_BLOCK - 1)) \
	"$how" "$MISSIVE_TEST_VAR"

passed=0
failed=0
failures=()
files_run=0
times=() # "microseconds name result" per file run

PIDFILE=$LOGDIR/.running.pid # the running test's timeout process
JOB= # the background job streaming the running test

mkdir -p "$LOGDIR"

# Ctrl-C or kill: stop the running test (its whole process group; its
# cleanup trap still runs), wait for it to finish, then give up.
# shellcheck disable=SC2317 # called from the trap
interrupted() {
	local pid
	trap - INT TERM HUP
	printf '\ninterrupted, stopping the running test\n' >&2
	if [ -s "$PIDFILE" ]; then
		pid=$(cat "$PIDFILE")
		# timeout passes the signal on to the test's process group, once.
		kill -TERM "$pid" 2>/dev/null || true
	fi
	if [ -n "$JOB" ]; then
		wait "$JOB" 2>/dev/null || true
	fi
	rm -f "$PIDFILE"
	exit 130
}
trap interrupted INT TERM HUP

# run_one NAME CMD...: run a test file, stream its output, count its results.
run_one() {
	local name=$1 log=$LOGDIR/$1.log rc=0 line desc start
	local n_ok=0 n_notok=0 planned=0 has_plan=0 failed_before=$failed
	shift
	files_run=$((files_run + 1))
	start=$(now_us)
	printf '=== %s\n' "$name"
	if [ -n "$VALGRIND" ]; then
		export MISSIVE_VALGRIND_LOGDIR=$VALGRIND/$name
		rm -rf "$MISSIVE_VALGRIND_LOGDIR"
		mkdir -p "$MISSIVE_VALGRIND_LOGDIR"
	fi
	# timeout puts the test in a process group of its own: when time is up
	# the whole group gets SIGTERM (the test's cleanup trap runs), SIGKILL
	# 30 s later.  `interrupted` does the same on Ctrl-C; that is why the
	# pipeline runs as a background job: `wait` can be interrupted by a
	# trapped signal, a foreground pipeline cannot.  tee and sed ignore the
	# signals so that the test, while it cleans up, still has a reader.
	(
		(drop_locks && printf '%s\n' "$BASHPID" >"$PIDFILE" && cd "$REPO" &&
			exec timeout -k 30 "$TIMEOUT" "$@") </dev/null 2>&1 |
			(trap '' INT TERM HUP && exec tee "$log") |
			(trap '' INT TERM HUP && exec sed -u "s|^|[$name] |")
		exit "${PIPESTATUS[0]}"
	) &
	JOB=$!
	wait "$JOB" || rc=$?
	JOB=
	rm -f "$PIDFILE"
	while IFS= read -r line || [ -n "$line" ]; do
		case "$line" in
		"ok "*)
			n_ok=$((n_ok + 1))
			;;
		"not ok "*)
			n_notok=$((n_notok + 1))
			desc=${line#not ok }
			desc=${desc#"${desc%%[!0-9]*}"} # drop the test number
			desc=${desc# }
			desc=${desc#- }
			failures+=("$name: ${desc:-(unnamed)}")
			;;
		1..*)
			desc=${line#1..}
			desc=${desc%%[!0-9]*}
			if [ -n "$desc" ]; then
				planned=$((planned + 10#$desc))
				has_plan=1
			fi
			;;
		esac
	done <"$log"
	passed=$((passed + n_ok))
	failed=$((failed + n_notok))
	if [ "$rc" -ne 0 ] && [ "$n_notok" -eq 0 ]; then
		failed=$((failed + 1))
		if [ "$rc" -eq 124 ] && [ "$TIMEOUT" -gt 0 ]; then
			failures+=("$name: timed out after ${TIMEOUT}s")
		else
			failures+=("$name: exited with status $rc")
		fi
	elif [ "$has_plan" -eq 1 ] && [ $((n_ok + n_notok)) -ne "$planned" ]; then
		failed=$((failed + 1))
		failures+=("$name: planned $planned tests, ran $((n_ok + n_notok))")
	fi
	# Under valgrind: one more result, for this file's processes' logs.
	if [ -n "$VALGRIND" ]; then
		local vout vrc=0
		vout=$("$REPO/tests/valgrind/check-logs.sh" \
			"$MISSIVE_VALGRIND_LOGDIR" "$name") || vrc=$?
		printf '%s\n' "$vout" | tee -a "$log" | sed "s|^|[$name] |"
		if [ "$vrc" -eq 0 ]; then
			n_ok=$((n_ok + 1))
			passed=$((passed + 1))
		else
			n_notok=$((n_notok + 1))
			failed=$((failed + 1))
			desc=${vout%%$'\n'*}
			failures+=("$name: ${desc#not ok - }")
		fi
	fi
	printf '=== %s: %d passed, %d failed, exit status %d\n\n' "$name" "$n_ok" "$n_notok" "$rc"
	if [ "$failed" -eq "$failed_before" ]; then
		desc="$n_ok passed"
	else
		desc="$n_ok passed, $((failed - failed_before)) FAILED"
	fi
	times+=("$(($(now_us) - start)) $name $desc")
}

# Wall-clock microseconds ($EPOCHREALTIME has the locale's decimal point).
now_us() {
	local t=$EPOCHREALTIME
	echo $((10#${t//[!0-9]/}))
}

# The files' wall times, slowest first (those under 0.1 s that passed
# in one line), and their sum.
print_times() {
	local us name desc total=0 quick=0 quick_us=0
	[ "${#times[@]}" -gt 0 ] || return 0
	printf 'Time per file, slowest first:\n'
	while read -r us name desc; do
		total=$((total + us))
		if [ "$us" -lt 100000 ] && [ "${desc% FAILED}" = "$desc" ]; then
			quick=$((quick + 1))
			quick_us=$((quick_us + us))
			continue
		fi
		print_time "$us" "$name" "$desc"
	done < <(printf '%s\n' "${times[@]}" | sort -k1,1nr)
	if [ "$quick" -gt 0 ]; then
		print_time "$quick_us" "$quick more" "under 0.1 s each, all passed"
	fi
	print_time "$total" total \
		"${#times[@]} file$([ "${#times[@]}" -eq 1 ] || echo s)"
}

# print_time MICROSECONDS NAME TEXT: one line of the table.
print_time() {
	printf '%6d.%d s  %-22s %s\n' $(($1 / 1000000)) $(($1 / 100000 % 10)) \
		"$2" "$3"
}

selected() {
	[ -z "$FILTER" ] && return 0
	case "$1" in *"$FILTER"*) return 0 ;; esac
	return 1
}

# Unit tests.
if [ -d "$MISSIVE_UNIT" ]; then
	for t in "$MISSIVE_UNIT"/test_*; do
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
		name=$(basename "$t")
		selected "$name" || continue
		CMOCKA_MESSAGE_OUTPUT=TAP run_one "$name" "$t"
	done
else
	printf '# no unit test directory %s\n' "$MISSIVE_UNIT"
fi

# Integration tests (the glob is sorted).
for t in "$REPO"/tests/integration/[0-9][0-9]-*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t")
	selected "$name" || continue
	run_one "$name" bash "$t"
done

if [ "$files_run" -eq 0 ]; then
	printf '# no test matched%s\n' "${FILTER:+ filter \"$FILTER\"}"
fi
print_times
if [ "${#failures[@]}" -gt 0 ]; then
	printf 'Failed:\n'
	printf '  %s\n' "${failures[@]}"
fi
printf '%d passed, %d failed\n' "$passed" "$failed"
if [ "$failed" -gt 0 ] || [ "$passed" -eq 0 ]; then
	exit 1
fi
exit 0
