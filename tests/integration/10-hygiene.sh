#!/usr/bin/env bash
# Resource hygiene: after 10,000 connect/disconnect cycles the server's
# open file descriptors are back to what they were, and its resident
# memory too (within 2 MiB or 5%, whichever is larger: between runs
# without a leak it moved by up to 0.6 MiB either way, while a leak of
# 200 bytes a cycle would add 2 MiB).
#
# A cycle is a real client (tests/tools/load --cycles, the client core):
# TCP connect and a full handshake, which costs the server an RSA-3072
# private-key operation and a database lookup.  One cycle in 10 also logs
# in (Argon2id, two queries), is put in the lobby and quits with 0003; one
# in 20 of the others sends its login and closes at once, so that the
# server closes a connection whose login a worker is still checking; the
# rest close right after the handshake.  Every cycle logging in would add
# an Argon2id hash (an 8 MiB allocation, slow under ASan) to each and more
# than double the time (about 5 minutes on 2 busy cores as it is); one in
# ten still takes every login path 1,000 times.  50 cycles run at a time.
#
# The baseline is taken after a warm-up of 1,000 cycles (the allocator's
# caches, the workers' database connections), once every connection has
# been logged as closed.  The server is the ASan build, with options that
# make its RSS follow what it holds: no quarantine (quarantine_size_mb=0:
# freed memory would sit there, up to 256 MiB of it), free pages handed
# back to the OS (allocator_release_to_os_interval_ms=200, not only the
# high-water mark of the busiest moment), and two frames per allocation
# stack (malloc_context_size=2: ASan keeps every distinct stack for good,
# and with 30 frames their store alone grows by about 1 MiB per 5,000
# cycles).  Leak detection stays on: the server must exit without a
# report.
#
# Under valgrind (make check-valgrind) memcheck is the leak check, the
# server's RSS is valgrind's own (shadow memory included) and a cycle costs
# about 50 times more: 1,000 cycles after a warm-up of 100, 10 at a time
# (50 queued RSA operations outlast the handshake timeout there), the open
# fds compared, the RSS not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

TOOLS=${MISSIVE_TOOLS:-$REPO/build/san/tests/tools}
KEYS=${MISSIVE_LOAD_KEYS:-$REPO/var/load-keys}
if [ -n "${MISSIVE_VALGRIND:-}" ]; then
	CYCLES=${HYGIENE_CYCLES:-1000}
	WARMUP=${HYGIENE_WARMUP:-100}
	PARALLEL=10
else
	CYCLES=${HYGIENE_CYCLES:-10000}
	WARMUP=${HYGIENE_WARMUP:-1000}
	PARALLEL=50
fi
LOGIN_EVERY=10
ABORT_EVERY=20
NACCOUNTS=50
PORT=$(test_port 10)

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:quarantine_size_mb=0:allocator_release_to_os_interval_ms=200:malloc_context_size=2"
server_setup "$PORT" "limits: { max_clients = 1000; conn_rate_per_addr = 0;
  handshake_timeout = $(scaled 10); };"
server_start

PW=$(pwfile pw.load load-password)
mkdir -p "$(dirname "$KEYS")"
if ! out=$("$TOOLS/load-setup" -k "$KEYS" -n "$NACCOUNTS" --password-file "$PW" 2>&1); then
	not_ok "load-setup makes the accounts" "$out"
	done_testing
fi
printf '%s\n' "$out" | sed 's/^/# /'

fds() { find "/proc/$SRV_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SRV_PID/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# Every connection the server accepted has been logged as closed.
# shellcheck disable=SC2317 # called through wait_until
settled() {
	[ "$(grep -c ' info connect ' "$T/server.log")" = \
		"$(grep -c ' info disconnect ' "$T/server.log")" ]
}

# cycles NAME COUNT: run COUNT cycles, one TAP result.
cycles() {
	local rc=0 start=$SECONDS
	"$TOOLS/load" -c "$T/c/user1/client.conf" -k "$KEYS" -K "$T/known" \
		-n "$NACCOUNTS" --cycles "$2" \
		--parallel "$PARALLEL" --login-every "$LOGIN_EVERY" \
		--abort-every "$ABORT_EVERY" \
		>"$T/$1.out" 2>&1 || rc=$?
	sed 's/^/# /' "$T/$1.out"
	if [ "$rc" -eq 0 ] && wait_until 30 settled; then
		ok "$1: $2 cycles complete and the server closed each ($((SECONDS - start)) s)"
	else
		not_ok "$1: $2 cycles complete and the server closed each" \
			"load exit status $rc; connects $(grep -c ' info connect ' "$T/server.log"), disconnects $(grep -c ' info disconnect ' "$T/server.log")"
	fi
}

cycles warmup "$WARMUP"
fd0=$(fds)
rss0=$(rss_kib)
cycles run "$CYCLES"
fd1=$(fds)
rss1=$(rss_kib)

printf '# fds %d -> %d, rss %s MiB -> %s MiB after %d cycles\n' "$fd0" "$fd1" \
	"$(mib "$rss0")" "$(mib "$rss1")" "$CYCLES"
expect_eq "open fds back to the baseline ($fd0)" "$fd1" "$fd0"
slack=$((rss0 / 20 > 2048 ? rss0 / 20 : 2048))
if [ -n "${MISSIVE_VALGRIND:-}" ]; then
	echo "# RSS not compared under valgrind (it is valgrind's own)"
elif [ "$rss1" -le $((rss0 + slack)) ]; then
	ok "RSS back to the baseline ($(printf '%+d' $((rss1 - rss0))) KiB, at most +$slack)"
else
	not_ok "RSS back to the baseline" "baseline $rss0 KiB, now $rss1 KiB (allowed +$slack)"
fi
# A login cut short may still be logged, if its check ended before the
# server saw the connection close.
logins=$(grep -c ' info login ok ' "$T/server.log" || true)
full=$(sed -n 's/.*(\([0-9]*\) logged in.*/\1/p' "$T/warmup.out" "$T/run.out" | awk '{ n += $1 } END { print n + 0 }')
cut=$(sed -n 's/.* \([0-9]*\) closed during the login.*/\1/p' "$T/warmup.out" "$T/run.out" | awk '{ n += $1 } END { print n + 0 }')
if [ "$full" -gt 0 ] && [ "$logins" -ge "$full" ] && [ "$logins" -le $((full + cut)) ]; then
	ok "the server logged the $full logins ($logins with those cut short)"
else
	not_ok "the server logged the logins" "login ok lines: $logins; full logins $full, cut short $cut"
fi
if grep -E '^[^ ]+ (error|warn) ' "$T/server.log" >"$T/bad.log"; then
	not_ok "the server logged no error or warning" "$(head -20 "$T/bad.log")"
else
	ok "the server logged no error or warning"
fi

# Stop it now: it must exit cleanly, and LeakSanitizer must find nothing.
kill -TERM "$SRV_PID"
rc=0
wait "$SRV_PID" || rc=$?
expect_eq "the server exits 0 on SIGTERM" "$rc" 0
if grep -q 'LeakSanitizer' "$T/server.stderr"; then
	not_ok "no leak reported at exit" "$(head -40 "$T/server.stderr")"
else
	ok "no leak reported at exit"
fi

done_testing
