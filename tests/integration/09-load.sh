#!/usr/bin/env bash
# Load with nothing lost: 200 clients in one process (tests/tools/load, the
# client core on real TCP connections: handshakes, logins, end-to-end
# encryption) in rooms of 10, each sending 20 numbered lines into its
# room; every other member must get each line exactly once and in the
# sender's order.  The server relays exactly what was sent and logs no
# error or warning.
#
# Accounts: tests/tools/load-setup enrolls keys kept in var/load-keys
# (made from a shared prime pool on the first run, see load-setup.c) and
# hashes the password with the cheapest Argon2id the server accepts.
#
# The documented run, 2,000 clients with the release build:
#
#   make VARIANT=release tests
#   MISSIVE_BIN=$PWD/bin MISSIVE_TOOLS=$PWD/build/release/tests/tools \
#     LOAD_N=2000 MISSIVE_TEST_TIMEOUT=1800 MISSIVE_TEST_FILTER=09-load \
#     tests/run.sh
#
# On 2 cores shared with other work (load average 4 to 5), two runs
# logged in 2,000 clients in 50 and 63 s and delivered all 360,000 lines
# 307 and 229 s after the first send (1,200 and 1,600 a second), nothing
# lost, duplicated or reordered; the first run also makes 1,800 keys
# (about 15 s).  The single load process is the bottleneck: it does the
# end-to-end crypto of all 2,000 clients, 18,000 sender-key envelopes
# each way (an RSA private-key operation at both ends) and 360,000 Ed25519
# checks, while the server used 27 s of CPU in all.
#
# LOAD_N, LOAD_M, LOAD_G change the clients, lines per client and room
# size; the tool's own output is in var/test/09-load/load.out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

TOOLS=${MISSIVE_TOOLS:-$REPO/build/san/tests/tools}
KEYS=${MISSIVE_LOAD_KEYS:-$REPO/var/load-keys}
# Under valgrind the one load process does every client's crypto 20 to
# 50 times slower: 20 clients, and the server waits longer for silent
# ones (while the tool still logs in the last, the first cannot answer).
if [ -n "${MISSIVE_VALGRIND:-}" ]; then
	N=${LOAD_N:-20}
else
	N=${LOAD_N:-200}
fi
M=${LOAD_M:-20}
G=${LOAD_G:-10}
PORT=$(test_port 9)

# The tool connects from one address, faster than 60 a minute.
server_setup "$PORT" "limits: { max_clients = $((N + 100)); conn_rate_per_addr = 0;
  max_rooms = $((N / G + 100)); idle_timeout = $(scaled 90); };"
# One fd per client in the server and in the tool (best effort).
ulimit -n "$((N + 1000))" 2>/dev/null || true
server_start

# Each client pins its peers' keys in its known_keys, two fsyncs a pin: on
# one disk for all N clients that is an artefact of running them in one
# process (a real client pins a few keys, on its own disk).  Keep them on
# tmpfs when there is one.
KNOWN=$T/known
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	KNOWN=$(mktemp -d /dev/shm/missive-load.XXXXXX)
	trap '[ "$BASHPID" != "$$" ] || rm -rf "$KNOWN"; cleanup' EXIT
fi

PW=$(pwfile pw.load load-password)
mkdir -p "$(dirname "$KEYS")"
if out=$("$TOOLS/load-setup" -k "$KEYS" -n "$N" --password-file "$PW" 2>&1); then
	ok "load-setup makes $N accounts with enrolled keys"
	printf '%s\n' "$out" | sed 's/^/# /'
else
	not_ok "load-setup makes $N accounts with enrolled keys" "$out"
	done_testing
fi

rc=0
"$TOOLS/load" -c "$T/c/user1/client.conf" -k "$KEYS" -K "$KNOWN" \
	-n "$N" -m "$M" -g "$G" >"$T/load.out" 2>&1 || rc=$?
sed 's/^/# /' "$T/load.out"
expect_eq "load exits 0" "$rc" 0
expect_contains "every client logged in" "$(cat "$T/load.out")" \
	"logged in $N of $N"
rooms=$(((N + G - 1) / G))
last=$((N - (rooms - 1) * G))
want=$(((rooms - 1) * G * (G - 1) * M + last * (last - 1) * M))
expect_eq "sent $((N * M)), delivered $want: nothing lost, duplicated or reordered" \
	"$(grep '^sent ' "$T/load.out")" \
	"sent $((N * M)), delivered $want, lost 0, duplicated 0, reordered 0"
expect_contains "no problem on the way (refused logins, lost connections, errors)" \
	"$(cat "$T/load.out")" "problems: none"

expect_eq "the server relayed every line once" \
	"$(grep -c ' info chat id=.* user=load' "$T/server.log" || true)" "$((N * M))"
expect_eq "the server logged $N logins" \
	"$(grep -c ' info login ok user=load' "$T/server.log" || true)" "$N"
if grep -E '^[^ ]+ (error|warn) ' "$T/server.log" >"$T/bad.log"; then
	not_ok "the server logged no error or warning" "$(head -20 "$T/bad.log")"
else
	ok "the server logged no error or warning"
fi
check "the server is still running" _alive "$SRV_PID"
# utime and stime, fields 14 and 15 of /proc/PID/stat, in clock ticks.
printf '# server CPU time %s s\n' "$(awk -v hz="$(getconf CLK_TCK)" \
	'{ sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' "/proc/$SRV_PID/stat")"

# The checker catches what it is there for: account 1 leaves out a line,
# sends one twice and swaps two, and its 9 room mates each count it.
rc=0
"$TOOLS/load" -c "$T/c/user1/client.conf" -k "$KEYS" -K "$KNOWN" \
	-n 20 -m 10 -g 10 --inject-faults --timeout "$(scaled 3)" \
	>"$T/inject.out" 2>&1 || rc=$?
expect_eq "with faults injected, load counts each one and exits 1" \
	"$rc: $(grep '^sent ' "$T/inject.out")" \
	"1: sent 200, delivered 1800, lost 9, duplicated 9, reordered 9"

done_testing
