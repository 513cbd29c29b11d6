# The peers missive is measured against (sourced by bench/suite.sh after
# tests/integration/lib.sh): each started privately on loopback, with its
# own config and directory under DIR and its own port, and stopped by
# its PID.
#
#   peers_start DIR REDIS_PORT MQTT_PORT RELAY_PORT STREAMS_PORT
#                          sets PEER_PID[redis|mqtt|relay|streams]
#   peers_stop
#   peer_wait PORT NAME    wait until something listens on PORT
#
# redis.conf and mosquitto.conf (next to this file) are the settings of
# the runs: no persistence, no logging of messages, no limit on a
# subscriber's queue (the bench's flow control keeps them short), so
# that each broker is measured at its best.  redis-streams.conf is a
# second Redis, the durable peer: append-only file, fsync before every
# reply; its directory starts empty each time.  Port and directory are
# appended here.
declare -A PEER_PID

peer_wait() {
	local port=$1 name=$2
	if ! wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"; then
		not_ok "$name listens on $port" "$(cat "$PDIR/$name.log" "$T/server.stderr" 2>/dev/null)"
		exit 1
	fi
}

peers_start() {
	PDIR=$1
	local here
	here=$(dirname "${BASH_SOURCE[0]}")
	rm -rf "$PDIR/streams"
	mkdir -p "$PDIR/redis" "$PDIR/streams"
	{ cat "$here/redis.conf"; printf 'port %s\ndir %s\n' "$2" "$PDIR/redis"; } \
		>"$PDIR/redis.conf"
	{ cat "$here/redis-streams.conf"; printf 'port %s\ndir %s\n' "$5" "$PDIR/streams"; } \
		>"$PDIR/redis-streams.conf"
	{ cat "$here/mosquitto.conf"; printf 'listener %s 127.0.0.1\n' "$3"; } \
		>"$PDIR/mosquitto.conf"
	redis-server "$PDIR/redis.conf" >"$PDIR/redis.log" 2>&1 &
	PEER_PID[redis]=$!
	register_pid "${PEER_PID[redis]}"
	redis-server "$PDIR/redis-streams.conf" >"$PDIR/streams.log" 2>&1 &
	PEER_PID[streams]=$!
	register_pid "${PEER_PID[streams]}"
	mosquitto -c "$PDIR/mosquitto.conf" >"$PDIR/mqtt.log" 2>&1 &
	PEER_PID[mqtt]=$!
	register_pid "${PEER_PID[mqtt]}"
	"$BIN/bench-relay" -p "$4" >"$PDIR/relay.log" 2>&1 &
	PEER_PID[relay]=$!
	register_pid "${PEER_PID[relay]}"
	peer_wait "$2" redis
	peer_wait "$3" mqtt
	peer_wait "$4" relay
	peer_wait "$5" streams
}

peers_stop() {
	local p pid
	for p in redis mqtt relay streams; do
		pid=${PEER_PID[$p]}
		kill -TERM "$pid" 2>/dev/null || continue
		wait_until 5 _gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	done
}
