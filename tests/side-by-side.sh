#!/usr/bin/env bash
# missive: show that whole test runs go side by side: two clones of this
# commit run `make check` at the same time on one machine, and both must
# pass.  `make check-side-by-side` calls it; it takes about twice as long
# as make check (two builds and two runs share the cores).
#
#   tests/side-by-side.sh
#
# Clones HEAD (committed work only) into var/sbs/a and var/sbs/b (short
# names: the tests' unix socket paths are limited to 107 bytes) and runs
# `make check` in both at once, without any MISSIVE_* variable of the
# caller: each run picks its own free ports (tests/run.sh) and keeps its
# state in its own clone's var/test.  Output in var/sbs/a.log and b.log.
# Prints each clone's summary line and the wall time; exits 0 only if both
# end "N passed, 0 failed" (N > 0).  The clones are removed when both
# pass and kept to look at otherwise; the logs are kept.  One such run
# per tree at a time (var/sbs.lock).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
DIR=$REPO/var/sbs
COMMIT=$(git -C "$REPO" rev-parse HEAD)
CLONES=(a b)
declare -A PID

# The clones' runs must choose their own ports, state and programs.
while IFS= read -r v; do
	unset "$v"
done < <(compgen -e | grep '^MISSIVE_' || true)

# Ctrl-C or kill: stop both (each is a process group of its own: make,
# tests/run.sh, which stops its running test and lets it clean up).
# shellcheck disable=SC2317 # called from the trap
interrupted() {
	local c
	trap - INT TERM HUP
	printf '\ninterrupted, stopping both clones\n' >&2
	for c in "${CLONES[@]}"; do
		[ -z "${PID[$c]:-}" ] || kill -TERM -- "-${PID[$c]}" 2>/dev/null || true
	done
	wait || true
	exit 130
}
trap interrupted INT TERM HUP

mkdir -p "$REPO/var"
exec {LOCK}>>"$REPO/var/sbs.lock"
flock -n "$LOCK" || { echo "$0: another one runs in this tree" >&2; exit 1; }
rm -rf "$DIR"
mkdir -p "$DIR"
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]; then
	echo "# uncommitted changes are not in the clones"
fi
for c in "${CLONES[@]}"; do
	git clone --quiet --no-checkout "$REPO" "$DIR/$c"
	git -C "$DIR/$c" checkout --quiet --detach "$COMMIT"
done
echo "# $(git -C "$REPO" log -1 --format='%h %s' "$COMMIT")"
echo "# make check in $DIR/a and $DIR/b at once; output in $DIR/a.log, b.log"

start=$SECONDS
for c in "${CLONES[@]}"; do
	# setsid: a process group to stop on Ctrl-C (a background job of a
	# shell without job control is no group leader, so setsid execs in
	# place and $! is the group's id).  The clone's make is not part of
	# ours: none of our make's flags or jobserver.
	# shellcheck disable=SC2016 # expanded by the inner bash
	setsid bash -c 'cd "$1" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make check
		echo "$? $SECONDS" >"$2"' _ "$DIR/$c" "$DIR/$c.status" \
		</dev/null >"$DIR/$c.log" 2>&1 &
	PID[$c]=$!
done
wait
wall=$((SECONDS - start))

failed=0
for c in "${CLONES[@]}"; do
	read -r rc secs <"$DIR/$c.status" || { rc=unknown secs='?'; }
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$DIR/$c.log" | tail -n 1 ||
		true)
	last=${last:-no summary line, see $DIR/$c.log}
	printf '%s: %s   (make check exit status %s, %s s)\n' "$c" "$last" "$rc" "$secs"
	if [ "$rc" != 0 ] || ! printf '%s\n' "$last" | grep -Eqx '[1-9][0-9]* passed, 0 failed'; then
		failed=1
	fi
done
printf 'wall time: %d s for both\n' "$wall"
if [ "$failed" -ne 0 ]; then
	echo "side by side: FAILED; the clones and their logs are kept in $DIR"
	exit 1
fi
rm -rf "${CLONES[@]/#/$DIR/}"
echo "side by side: both passed (logs in $DIR)"
