#!/usr/bin/env bash
# The libFuzzer harnesses (tests/fuzz/) stay alive: each one replays its
# regression inputs (tests/fuzz/regress/NAME/, crashes found before) and
# then fuzzes for MISSIVE_FUZZ_SMOKE seconds (default 20) from its seed
# corpus without a crash.  A missing binary fails: `make check` builds
# them (make VARIANT=fuzz fuzzers); MISSIVE_FUZZ says where they are.
# Working corpora, crashes and logs go to $MISSIVE_TEST_VAR/11-fuzz-smoke/
# (var/test/ by default).
. "$(dirname "$0")/lib.sh"

if [ -n "${MISSIVE_VALGRIND:-}" ]; then
	# The fuzzers are their own ASan+UBSan build, not the programs that
	# make check-valgrind wraps.
	echo "1..0 # SKIP the fuzzers do not run under valgrind"
	exit 0
fi

FUZZ=${MISSIVE_FUZZ:-$REPO/build/fuzz/fuzz}
SMOKE=${MISSIVE_FUZZ_SMOKE:-20}
export MISSIVE_FUZZ=$FUZZ

mapfile -t names < <("$REPO/tests/fuzz/run.sh" list)
if [ "${#names[@]}" -eq 0 ]; then
	not_ok "there are fuzzers" "no tests/fuzz/fuzz_*.c"
fi

for name in "${names[@]}"; do
	bin=$FUZZ/fuzz_$name
	if [ ! -x "$bin" ]; then
		not_ok "fuzz_$name is built" "no $bin (make VARIANT=fuzz fuzzers)"
		continue
	fi
	regress=()
	for f in "$REPO/tests/fuzz/regress/$name"/*; do
		[ -f "$f" ] && regress+=("$f")
	done
	if [ "${#regress[@]}" -gt 0 ]; then
		# Given files, a libFuzzer binary runs each once.
		check "fuzz_$name: ${#regress[@]} regression inputs pass" \
			"$bin" "${regress[@]}"
	fi
	rc=0
	line=$("$REPO/tests/fuzz/run.sh" run -n -t "$SMOKE" -w "$T" "$name") ||
		rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$line"
	else
		not_ok "$line" "$(tail -n 40 "$T/logs/$name.log" 2>/dev/null)"
	fi
done

done_testing
