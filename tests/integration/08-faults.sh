#!/usr/bin/env bash
# Faults with real processes: the server killed (SIGKILL) in the middle of
# a stream of lines and restarted, MariaDB killed in the middle of one and
# restarted, MariaDB restarted while the server is idle, the server out of
# file descriptors, and its log's disk full.
# Throughout, user1 streams numbered lines to user2, who must get every one
# exactly once and in order, but those the server refused (1021) while
# MariaDB was dead, which user1 is told of (docs/PROTOCOL.md 5.5).
# A client killed mid-record is in 04-session.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

PORT=$(test_port 8)
server_setup "$PORT" 'limits: { max_clients = 100; conn_rate_per_addr = 0;
  handshake_timeout = 30; };'
server_start

LOGFS=$T/logfs
cleanup_mount() {
	if mountpoint -q "$LOGFS" 2>/dev/null; then
		umount "$LOGFS" || true
	fi
}
trap 'cleanup; cleanup_mount' EXIT

client_start a "$T/c/user1"
client_start b "$T/c/user2"
wait_until 30 seen a "logged in" || true
wait_until 30 seen b "logged in" || true
wait_until 10 seen a "Bob" || true

# logins NAME: how many times NAME has logged in.
logins() { grep -c 'logged in' "$T/$1.out" || true; }
logged_in_again() { [ "$(logins "$1")" -ge "$2" ]; }

# stream FROM TO: user1 sends lines s-FROM..s-TO, a little apart.
stream() {
	local i
	for ((i = $1; i <= $2; i++)); do
		say a "s-$i"
		sleep 0.01
	done
}

# refused: the lines user1 was told the server did not store (1021), one
# per line, for grep -f (none: a line that matches nothing).
refused() {
	grep 'was not stored' "$T/a.out" | grep -o '"s-[0-9]*"$' | tr -d '"' ||
		echo '-none-'
}

# check_stream DESC N: user2 got s-1..s-N but the refused ones, each
# once, in order.
check_stream() {
	local got want
	got=$(grep -o 's-[0-9]*$' "$T/b.out" | tr '\n' ' ')
	want=$(seq -f 's-%g' 1 "$2" | grep -vxF -f <(refused) | tr '\n' ' ')
	if [ "$got" = "$want" ]; then
		ok "$1"
	else
		not_ok "$1" "got:  $got
want: $want
dups: $(grep -o 's-[0-9]*$' "$T/b.out" | sort | uniq -d | tr '\n' ' ')"
	fi
}

# ---- the server killed in the middle of a stream, then restarted ----
stream 1 60 &
STREAM=$!
wait_until 20 seen b "s-30" || true
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null || true
wait "$STREAM"
# user1 stays away until user2 is back (a line sent meanwhile would wait
# in user2's inbox; 20-durable.sh tests that).
wait_until 10 seen a "disconnected" || true
kill -STOP "${CLIENT_PID[a]}"
server_start "$T/server2.log"
wait_until 30 logged_in_again b 2 || true
kill -CONT "${CLIENT_PID[a]}"
wait_until 30 logged_in_again a 2 || true
stream 61 80
wait_until 20 seen b "s-80" || true
expect_match "user1 is told the connection was lost" "$(client_out a)" \
	'^\*\*\* disconnected: '
expect_match "... and reconnects by itself" "$(client_out a)" '^\*\*\* reconnecting in'
expect_eq "both log in again by themselves" "$(logins a) $(logins b)" "2 2"
printf '# %s\n' "$(grep -m1 'not confirmed' "$T/a.out" || echo 'no line was unconfirmed')"
check_stream "after SIGKILL and restart user2 has s-1..s-80 exactly once, in order" 80

# ---- MariaDB killed under load, then restarted ----
DB_PID=$(tr -dc '0-9' <"$T/var/db/mariadbd.pid")
stream 81 160 &
STREAM=$!
wait_until 20 seen b "s-100" || true
kill -KILL "$DB_PID"
client_start c "$T/c/user3"
wait_until 20 seen c "unavailable" || true
expect_contains "a login while the database is dead is told 'unavailable'" \
	"$(client_out c)" "unavailable"
wait "$STREAM"
wait_until 20 seen b "s-160" || true
expect_match "lines sent while the database is dead are refused, and said so" \
	"$(client_out a)" "was not stored.*database is down"
check_stream "user2 gets s-1..s-160 but those, each once, in order" 160
"$REPO/scripts/db.sh" start >/dev/null
wait_until 60 seen c "logged in" || true
expect_contains "once MariaDB is back, the waiting client logs in by itself" \
	"$(client_out c)" "logged in"
expect_match "the server logged the outage" "$(cat "$T/server2.log")" \
	'database.*(unavailable|unreachable|lost|down)'

# ---- MariaDB restarted while the server is idle ----
# The worker threads still hold connections to the old MariaDB: the first
# line and the first login after it is back must not be refused as
# "unavailable".
kill -TERM "${CLIENT_PID[c]}"
client_wait c
"$REPO/scripts/db.sh" stop >/dev/null
"$REPO/scripts/db.sh" start >/dev/null
say a "after-restart"
wait_until 20 seen b "after-restart" || true
expect_eq "after MariaDB restarted, the next line is stored" \
	"$(grep -c 'after-restart' "$T/a.out" "$T/b.out" | grep -c ':1$')" 2
expect_eq "... and not refused" "$(grep -c 'was not stored' "$T/a.out")" \
	"$(refused | grep -c s-)"
client_start e "$T/c/user3"
wait_until 30 seen e "logged in" || true
expect_eq "... and the next login is not refused" \
	"$(grep -c 'logged in\|unavailable' "$T/e.out")" 1

# ---- out of file descriptors: refuse cleanly, recover ----
kill -TERM "$SRV_PID"
wait "$SRV_PID" 2>/dev/null || true
server_start "$T/server3.log" prlimit --nofile=40:40
for n in a b c; do wait_until 30 logged_in_again "$n" 3 || true; done
# (valgrind keeps some of the 40 for itself: the limit the server sees is
# lower under make check-valgrind)
expect_match "a server whose fd limit is below max_clients says so" \
	"$(cat "$T/server3.log")" 'max_clients 100 needs 164 open files; the limit is (40|[1-3][0-9])'
"$MISSIVE_TOOLS/hostile" -t 3 "$T/c/user1/client.conf" flood 60 \
	>"$T/fdflood.out" 2>&1 || true
FLOOD=$(tail -n 1 "$T/fdflood.out")
printf '# %s\n' "$FLOOD"
expect_match "with fds exhausted, further connections are closed at once" \
	"$FLOOD" '^flood: [1-9][0-9]* closed by the server, the last after [0-2]\.[0-9] s, [1-9][0-9]* still open$'
expect_eq "... and the server says so once" \
	"$(grep -c 'out of file descriptors with [0-9]* clients: refusing new connections' "$T/server3.log")" 1
say a "s-161"
wait_until 10 seen b "s-161" || true
check_stream "... while the logged-in users keep chatting" 161
# The flood tool has exited: its connections are closed.
client_start d "$T/c/user3"
wait_until 30 seen d "logged in" || true
expect_contains "once descriptors are free again a new client logs in" \
	"$(client_out d)" "logged in"
expect_match "... and the server says it accepts again" "$(cat "$T/server3.log")" \
	'file descriptors available again: accepting connections'

# ---- the log's disk full ----
kill -TERM "$SRV_PID"
wait "$SRV_PID" 2>/dev/null || true
mkdir -p "$LOGFS"
mount -t tmpfs -o size=256k tmpfs "$LOGFS"
: >"$T/server.stderr"
server_start "$LOGFS/missived.log"
for n in a b; do wait_until 30 logged_in_again "$n" 4 || true; done
head -c 1M /dev/zero >"$LOGFS/filler" 2>/dev/null || true
# The log's last page may still have room: enough lines to fill it.
stream 162 221
wait_until 10 seen b "s-221" || true
check_stream "with the log's disk full the server keeps relaying" 221
wait_until 10 grep -q 'writing .* failed' "$T/server.stderr" || true
expect_eq "... and says so once, on stderr" \
	"$(grep -c "error log: writing $LOGFS/missived.log failed (No space left on device)" "$T/server.stderr")" 1
rm -f "$LOGFS/filler"
say a "s-222"
wait_until 10 seen b "s-222" || true
wait_until 10 grep -q 'lines were lost' "$LOGFS/missived.log" || true
expect_match "once there is room the log goes on, marking the gap" \
	"$(cat "$LOGFS/missived.log")" 'warn log: lines were lost before this one'
check "the server is still running" kill -0 "$SRV_PID"
kill -TERM "$SRV_PID"
wait "$SRV_PID" 2>/dev/null || true
cleanup_mount
done_testing
