#!/usr/bin/env bash
# Test runs side by side (tests/run.sh, tests/run-lib.sh): two runs of
# 06-rooms.sh at once (a database, a server and clients each), each with
# its own MISSIVE_TEST_VAR and no port base, get two different free
# blocks of ports and both pass; a third run on the first one's
# MISSIVE_TEST_VAR, while that one runs, is refused at once and spoils
# nothing.  The inner runs leave this run's own state (its port base,
# lock and logs) alone.  `make check-side-by-side` does the same with all
# of make check in two clones (tests/side-by-side.sh).
. "$(dirname "$0")/lib.sh"

if [ -n "${MISSIVE_VALGRIND:-}" ]; then
	echo "1..0 # SKIP the runner does not depend on how programs run"
	exit 0
fi

FILE=06-rooms.sh
OUTER_LOG=$TEST_VAR/logs/$FILE.log
declare -A PID

# run N DIR: exec tests/run.sh on $FILE with MISSIVE_TEST_VAR=DIR and no
# port base, its output in $T/N.out (so in a subshell: `run ... &`
# gives the runner's PID).
run() {
	exec env -u MISSIVE_TEST_PORT_BASE -u MISSIVE_TEST_VAR_LOCK_FD \
		MISSIVE_TEST_VAR="$2" MISSIVE_TEST_FILTER=$FILE \
		"$REPO/tests/run.sh" >"$T/$1.out" 2>&1
}

# shellcheck disable=SC2317 # started is called by wait_until
# started N: run N holds its directory and ports and runs $FILE.
started() { grep -qx "=== $FILE" "$T/$1.out"; }
last_line() { tail -n 1 "$T/$1.out"; }
# port_base N: the first port of the block run N picked.
port_base() {
	sed -n 's/^# ports \([0-9]*\) to [0-9]* (free ones, picked.*/\1/p' "$T/$1.out"
}

outer_before=$(cksum <"$OUTER_LOG" 2>/dev/null || echo none)

for n in 1 2; do
	run "$n" "$T/$n" &
	PID[$n]=$!
	register_pid "${PID[$n]}"
done
for n in 1 2; do
	if ! wait_until 60 started "$n"; then
		not_ok "run $n starts $FILE" "$(cat "$T/$n.out")"
		exit 1
	fi
done
if grep -q ' passed, ' "$T/1.out" "$T/2.out"; then
	not_ok "runs 1 and 2 run $FILE at the same time" \
		"one ended before the other started: $(tail -n 3 "$T/1.out" "$T/2.out")"
else
	ok "runs 1 and 2 run $FILE at the same time"
fi

# Run 3, on run 1's directory while run 1 holds it.
rc=0
(run 3 "$T/1") || rc=$?
expect_eq "a second run on one MISSIVE_TEST_VAR is refused (exit 1)" "$rc" 1
expect_eq "... counted as one failure" "$(last_line 3)" "0 passed, 1 failed"
expect_contains "... naming the directory and the run that holds it" \
	"$(cat "$T/3.out")" \
	"MISSIVE_TEST_VAR=$(cd "$T/1" && pwd -P) is in use by another test run (pid ${PID[1]})"
expect_eq "... before any test ran" "$(grep -c '^===' "$T/3.out" || true)" 0

for n in 1 2; do
	rc=0
	wait "${PID[$n]}" || rc=$?
	if [ "$rc" -eq 0 ] && last_line "$n" | grep -Eqx '[1-9][0-9]* passed, 0 failed'; then
		ok "run $n passes: $(last_line "$n")"
	else
		not_ok "run $n passes" "exit status $rc; $(tail -n 30 "$T/$n.out")"
	fi
	check "run $n logged to its own MISSIVE_TEST_VAR" test -s "$T/$n/logs/$FILE.log"
done

b1=$(port_base 1)
b2=$(port_base 2)
expect_match "runs 1 and 2 picked free blocks of ports" "$b1 $b2" \
	'^[0-9]+ [0-9]+$'
if [ -n "$b1" ] && [ -n "$b2" ] &&
	{ [ $((b1 - b2)) -ge 300 ] || [ $((b2 - b1)) -ge 300 ]; }; then
	ok "... that do not overlap ($b1 and $b2)"
else
	not_ok "... that do not overlap" "bases '$b1' and '$b2'"
fi
expect_eq "this run's own log of $FILE is untouched" \
	"$(cksum <"$OUTER_LOG" 2>/dev/null || echo none)" "$outer_before"

done_testing
