#!/usr/bin/env bash
# The benchmark tools work (bench/, `make bench`): each workload of
# missive-bench, tiny, against missived, the bare relay and, when they
# are installed, Redis (pub/sub and Streams) and Mosquitto
# (bench/peers/peers.sh): nonzero figures and nothing lost.  The figures
# themselves are make bench's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

PORT=$(test_port 180)
MB=$BIN/missive-bench
server_setup "$PORT" "limits: { conn_rate_per_addr = 0; };"
server_start
PW=$(pwfile pw.bench bench-password)
TOOLS=${MISSIVE_TOOLS:-$REPO/build/san/tests/tools}
KEYS=$T/keys
check "load-setup makes 20 bench accounts" "$TOOLS/load-setup" -k "$KEYS" \
	-n 20 -u bench --password-file "$PW"
# Accounts 1..12 for the live path, 13..20 for the durable workloads (their
# even members stay offline: they must not be online in a live room).
M=(-P missive -p "$PORT" --server-key "$T/server/server.pub"
	-k "$KEYS" -u bench --accounts 12)
D=(-P missive -p "$PORT" --server-key "$T/server/server.pub"
	-k "$KEYS" -u bench --first 13 --accounts 8)

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
# The durable lines of R: also every line stored, at a nonzero rate.
durable_ok() {
	expect_eq "$1: deliveries to the online half, every line stored" \
		"$(printf '%s\n' "$R" | grep -c ' online=3 .* lost=0 .*rate=[1-9].* refused=0 stored_rate=[1-9]' || true)" 2
}
# The stored line of R: every line stored and delivered, p99 measured.
stored_ok() {
	expect_match "$1: send to stored, p99 measured, nothing lost" "$R" \
		' refused=0 delivered=[1-9][0-9]* lost=0 samples=[1-9][0-9]* p50=[1-9][0-9]* p99=[1-9]'
}
# The catch-up line of R: all 500 rows drained.
catchup_ok() {
	expect_match "$1: the device away drains all 500 rows" "$R" \
		' n=500 rows=500 .*rate=[1-9].*rss_after_kb=[1-9]'
}

# missived relays no message shorter than the shortest real one (168
# base64 characters, PROTO_MSG_MIN): not the default 64 B, in any mode.
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
result "durable fan-out into 6 missive members, 3 offline" "$MB" durable \
	"${D[@]}" -S 6 -d 0.3 -s 168,1024 --pid "$SRV_PID"
durable_ok missive
result "send to stored at 50 lines a second" "$MB" stored "${D[@]}" -S 6 \
	-r 50 -d 0.5 -s 168
stored_ok missive
# Twice: the second time its rows of the first are acknowledged already.
for i in 1 2; do
	result "catch-up of 500 missive rows ($i)" "$MB" catchup "${D[@]}" \
		-n 500 -s 168 --pid "$SRV_PID"
	catchup_ok missive
done

. "$REPO/bench/peers/peers.sh"
if command -v redis-server >/dev/null && command -v mosquitto >/dev/null; then
	peers_start "$T/peers" "$(test_port 181)" "$(test_port 182)" \
		"$(test_port 183)" "$(test_port 184)"
	for p in "relay:$(test_port 183)" "redis:$(test_port 181)" "mqtt:$(test_port 182)"; do
		result "fan-out into 5 ${p%:*} receivers" "$MB" fanout \
			-P "${p%:*}" -p "${p#*:}" -S 5 -d 0.3
		fanout_ok "${p%:*}"
	done
	S=(-P streams -p "$(test_port 184)")
	result "durable fan-out into 6 Redis Streams groups, 3 unread" "$MB" \
		durable "${S[@]}" -S 6 -d 0.3 -s 168,1024 --pid "${PEER_PID[streams]}"
	durable_ok streams
	result "XADD to reply at 50 lines a second" "$MB" stored "${S[@]}" \
		-S 6 -r 50 -d 0.5 -s 168
	stored_ok streams
	result "catch-up of 500 Redis Streams entries" "$MB" catchup "${S[@]}" \
		-n 500 -s 168 --pid "${PEER_PID[streams]}"
	catchup_ok streams
	peers_stop
else
	ok "peers # SKIP redis-server or mosquitto not installed (scripts/deps.sh)"
fi
done_testing
