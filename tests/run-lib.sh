# missive: what a test run reserves so that runs side by side do not meet
# (bash, sourced by tests/run.sh and tests/valgrind/run.sh).
#
#   lock_test_var DIR   make DIR and take DIR/.lock (flock) for as long as
#                       this process runs: a program it execs keeps it
#                       (valgrind/run.sh execs run.sh), so DIR is exported
#                       with the descriptor as MISSIVE_TEST_VAR_LOCK_FD.
#                       If another run holds it: say so, print the
#                       runner's summary "0 passed, 1 failed", exit 1.
#                       Sets TEST_VAR (DIR, absolute) and TEST_VAR_LOCK_FD.
#   pick_port_block     set PORT_BASE to the first port of a block of
#                       PORT_BLOCK free TCP ports, reserved for as long as
#                       this process runs (a lock file per block in
#                       $PORT_LOCKS; so not in a subshell).  Sets
#                       PORT_LOCK_FD; returns 1 if no block is free.
#   give_up WHAT WHY    stop before any test as a run with one failure:
#                       WHY on stderr, WHAT as the failure, and the summary
#   drop_locks          close both descriptors, in the subshell that runs
#                       a test: a server it leaves behind must not hold a
#                       lock.
#
# A block starts at 27400 + k * 300 (lib.sh's default block is never
# picked) and lies between 1024 and 65535 outside the kernel's ephemeral
# range (the ports connect() takes), above it first: nothing else
# chooses ports there.  A block is free if its lock is not held and no
# TCP socket has a local port in it (ss).

# shellcheck shell=bash disable=SC2034 # PORT_BASE is for the runner
PORT_BLOCK=300
PORT_DEFAULT=27400
PORT_LOCKS=${TMPDIR:-/tmp}/missive-test-ports-$(id -u)

give_up() {
	printf '%s: %s\n' "$0" "$2" >&2
	printf 'Failed:\n  %s\n0 passed, 1 failed\n' "$1"
	exit 1
}

lock_test_var() {
	local lock holder
	mkdir -p "$1"
	TEST_VAR=$(cd "$1" && pwd -P)
	lock=$TEST_VAR/.lock
	# Taken already by the runner that exec'd us?
	if [ -n "${MISSIVE_TEST_VAR_LOCK_FD:-}" ] &&
		[ "$(readlink "/proc/$$/fd/$MISSIVE_TEST_VAR_LOCK_FD" 2>/dev/null)" = "$lock" ]; then
		TEST_VAR_LOCK_FD=$MISSIVE_TEST_VAR_LOCK_FD
		return 0
	fi
	exec {TEST_VAR_LOCK_FD}>>"$lock"
	if ! flock -n "$TEST_VAR_LOCK_FD"; then
		holder=$(cat "$lock" 2>/dev/null || true)
		holder="another test run (pid ${holder:-unknown})"
		give_up "MISSIVE_TEST_VAR=$TEST_VAR: in use by $holder" \
			"MISSIVE_TEST_VAR=$TEST_VAR is in use by $holder: wait for it to end, or give this run a directory of its own (MISSIVE_TEST_VAR=dir)"
	fi
	printf '%s\n' "$$" >"$lock"
	export MISSIVE_TEST_VAR_LOCK_FD=$TEST_VAR_LOCK_FD
}

# The block bases that a TCP socket's local port falls in, one per line.
_blocks_in_use() {
	local sockets addr port first
	sockets=$(ss -Htan) || return 1
	first=$((PORT_DEFAULT % PORT_BLOCK))
	while read -r _ _ _ addr _; do
		port=${addr##*:}
		case "$port" in '' | *[!0-9]*) continue ;; esac
		[ "$port" -ge "$first" ] || continue
		echo $(((port - first) / PORT_BLOCK * PORT_BLOCK + first))
	done <<<"$sockets"
}

pick_port_block() {
	local lo hi base b
	local -a upper=() lower=()
	local -A used=()
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	for ((base = PORT_DEFAULT % PORT_BLOCK; base + PORT_BLOCK <= 65536; base += PORT_BLOCK)); do
		if [ "$base" -lt 1024 ] || [ "$base" -eq "$PORT_DEFAULT" ]; then
			continue
		fi
		if [ "$base" -gt "$hi" ]; then
			upper+=("$base")
		elif [ $((base + PORT_BLOCK - 1)) -lt "$lo" ]; then
			lower+=("$base")
		fi
	done
	b=$(_blocks_in_use) || return 1
	for base in $b; do
		used[$base]=1
	done
	mkdir -p "$PORT_LOCKS"
	for base in $(printf '%s\n' "${upper[@]}" | shuf) \
		$(printf '%s\n' "${lower[@]}" | shuf); do
		[ -z "${used[$base]:-}" ] || continue
		exec {PORT_LOCK_FD}>>"$PORT_LOCKS/$base.lock"
		if flock -n "$PORT_LOCK_FD"; then
			PORT_BASE=$base
			return 0
		fi
		exec {PORT_LOCK_FD}>&-
	done
	return 1
}

drop_locks() {
	unset MISSIVE_TEST_VAR_LOCK_FD
	if [ -n "${TEST_VAR_LOCK_FD:-}" ]; then exec {TEST_VAR_LOCK_FD}>&-; fi
	if [ -n "${PORT_LOCK_FD:-}" ]; then exec {PORT_LOCK_FD}>&-; fi
}
