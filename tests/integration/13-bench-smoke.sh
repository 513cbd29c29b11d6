#!/usr/bin/env bash
# The benchmark tools work (bench/, `make bench`): each workload of
# missive-bench, tiny, against missived, the bare relay and, when they
# are installed, Redis and Mosquitto (bench/peers/peers.sh): nonzero
# figures and nothing lost.  The figures themselves are make bench's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

PORT=$(test_port 180)
MB=$BIN/missive-bench
server_setup "$PORT" "limits: { conn_rate_per_addr = 0; };"
server_start
PW=$(pwfile pw.bench bench-password)
TOOLS=${MISSIVE_TOOLS:-$REPO/build/san/tests/tools}
KEYS=$T/keys
check "load-setup makes 12 bench accounts" "$TOOLS/load-setup" -k "$KEYS" \
	-n 12 -u bench --password-file "$PW"
M=(-P missive -p "$PORT" --server-key "$T/server/server.pub"
	-k "$KEYS" -u bench --accounts 12)

# result NAME CMD...: CMD exits 0 and prints a RESULT line; sets R.
result() {
	local name=$1 rc=0
	shift
	R=$("$@" 2>"$T/mb.err") || rc=$?
	R=$(printf '%s\n' "$R" | grep '^RESULT' || true)
	if [ "$rc" -eq 0 ] && [ -n "$R" ]; then
		ok "$name"
		printf '%s\n' "$R" | sed 's/^/# /'
	else
		not_ok "$name" "exit $rc: $R $(cat "$T/mb.err")"
	fi
}
# The fan-out lines of R have nonzero rates and lose nothing.
fanout_ok() {
	expect_eq "$1: nonzero rate, nothing lost" \
		"$(printf '%s\n' "$R" | grep -c ' lost=0 .*rate=[1-9]' || true)" 2
}

# missived relays no message shorter than the shortest real one (168
# base64 characters, PROTO_MSG_MIN): not the default 64 B.
result "fan-out into 5 missive receivers" "$MB" fanout "${M[@]}" -S 5 -d 0.3 \
	-s 168,1024
fanout_ok missive
result "latency of 5 missive members" "$MB" latency "${M[@]}" -M 5 -r 20 -d 0.5 \
	-s 168
expect_match "latency: every delivery, p99 measured" "$R" ' lost=0 .*p99=[1-9]'
result "10 idle missive connections" "$MB" conns "${M[@]}" -n 10 \
	--pid "$SRV_PID"
expect_match "conns: all 10 logged in" "$R" ' ready=10 '
result "5 handshakes" "$MB" handshake "${M[@]}" -n 5 --parallel 2 \
	--pid "$SRV_PID"
expect_match "handshakes: 5 done, none failed" "$R" ' done=5 failed=0 '
result "5 logins" "$MB" login "${M[@]}" -n 5 --parallel 2 --pid "$SRV_PID"
expect_match "logins: 5 done, none failed" "$R" ' done=5 failed=0 '
result "one Argon2id hash timed" "$MB" argon2 -m 8192 -t 1 -n 1

. "$REPO/bench/peers/peers.sh"
if command -v redis-server >/dev/null && command -v mosquitto >/dev/null; then
	peers_start "$T/peers" "$(test_port 181)" "$(test_port 182)" "$(test_port 183)"
	for p in "relay:$(test_port 183)" "redis:$(test_port 181)" "mqtt:$(test_port 182)"; do
		result "fan-out into 5 ${p%:*} receivers" "$MB" fanout \
			-P "${p%:*}" -p "${p#*:}" -S 5 -d 0.3
		fanout_ok "${p%:*}"
	done
	peers_stop
else
	ok "peers # SKIP redis-server or mosquitto not installed (scripts/deps.sh)"
fi
done_testing
