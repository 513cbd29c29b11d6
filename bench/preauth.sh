#!/usr/bin/env bash
# The server's CPU per hostile handshake (docs/SECURITY.md, "Threat
# model": denial of service before authentication).  Starts a private
# MariaDB and missived (as the integration tests do), then for each kind
# of handshake of tests/tools/hostile (valid: the folder's own key;
# garbage: its key with a random signature; huge-e: its modulus with the
# exponent n - 2 and a random signature; unenrolled: a fresh key,
# correctly signed) sends N, one after the other, and prints the server's
# CPU time (user + system, /proc/PID/stat) per handshake:
#
#   MISSIVE_BIN=$PWD/bin MISSIVE_TOOLS=$PWD/build/san/tests/tools \
#       MISSIVE_TEST_PORT_BASE=21000 bench/preauth.sh [N [N_UNKNOWN]]
#
# N (default 200) of valid and garbage, N_UNKNOWN (default N) of huge-e
# and unenrolled: a server that checks enrolment first makes each of
# these wait for its next refresh of the enrolled keys (about a second),
# so give it fewer.  Lines "preauth KIND n=N cpu_ms=C per_handshake_ms=P";
# the CPU includes whatever else the server does meanwhile (its refreshes).
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/session-lib.sh"

N=${1:-200}
N_UNKNOWN=${2:-$N}
TOOLS=${MISSIVE_TOOLS:-$REPO/build/san/tests/tools}
PORT=$(test_port 290)
server_setup "$PORT" "workers = 1;
limits: { conn_rate_per_addr = 0; };"
server_start
HZ=$(getconf CLK_TCK)

# The server's user + system CPU so far, in clock ticks.
cpu_ticks() {
	local stat
	read -r stat <"/proc/$SRV_PID/stat"
	stat=${stat##*) }
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $stat
	echo $((${12} + ${13}))
}

for kind in valid garbage huge-e unenrolled; do
	n=$N
	case $kind in huge-e | unenrolled) n=$N_UNKNOWN ;; esac
	before=$(cpu_ticks)
	out=$("$TOOLS/hostile" -t 30 "$T/c/user1/client.conf" handshakes "$n" \
		"$kind") || true
	after=$(cpu_ticks)
	ms=$(((after - before) * 1000 / HZ))
	printf 'preauth %s n=%d cpu_ms=%d per_handshake_ms=%s (%s)\n' "$kind" \
		"$n" "$ms" "$(awk -v m="$ms" -v n="$n" 'BEGIN { printf "%.3f", m / n }')" \
		"$out"
done
