# missive: helpers for tests that run a server and line-mode clients.
# Source after lib.sh.
#
#   server_setup PORT [EXTRA_CONF]   DB, seed, server key, server.conf in
#                                    $T/server (EXTRA_CONF appended), the
#                                    seed users' password 111111 ($PW_OK),
#                                    client folders $T/c/user1..user3 on
#                                    PORT (user.key clear; reconnecting
#                                    within 1 s)
#   server_start [LOG [WRAPPER...]]  start missived (log LOG, default
#                                    $T/server.log; run through WRAPPER,
#                                    e.g. prlimit), wait until it
#                                    listens; sets SRV_PID
#   server_log                       the server's log so far
#   client_start NAME FOLDER [PWFILE] [PORT]
#                                    start `missive` with stdin from a FIFO
#                                    and output in $T/NAME.out
#   say NAME LINE                    type LINE into client NAME
#   seen NAME TEXT                   TEXT is in NAME's output (for wait_until)
#   client_out NAME                  NAME's output so far
#   client_wait NAME                 wait for NAME to exit (15 s), set RC to
#                                    its status ("timeout" if it did not)
#                                    (not in $(...): only this shell can
#                                    wait for its children)
#   pwfile NAME PASSWORD             a 0600 password file, prints its path
#   device_folder USER FOLDER [DEVICE]
#                                    a client folder for USER on server_setup's
#                                    PORT (another device of USER if DEVICE
#                                    is given), reconnecting within 1 s
#   fp_of FOLDER                     the fingerprint of FOLDER's key

PW_OK=
declare -A CLIENT_FD CLIENT_PID

pwfile() {
	(umask 077; printf '%s' "$2" >"$T/$1")
	echo "$T/$1"
}

device_folder() {
	"$BIN/missive-keys" client --no-passphrase --host 127.0.0.1 \
		--port "$CLIENT_PORT" ${3:+--device "$3"} "$1" "$2" >/dev/null
	# Tests wait for reconnects: keep the backoff short.
	printf 'reconnect: { min_ms = 200; max_ms = 1000; };\n' >>"$2/client.conf"
}

fp_of() {
	"$BIN/missive-keys" fingerprint "$1/user.pub" 2>/dev/null |
		grep -o 'SHA256:[A-Za-z0-9+/]*'
}

server_setup() {
	local port=$1 extra=${2:-} u
	CLIENT_PORT=$port
	db_start
	"$REPO/scripts/db.sh" sql "$REPO/sql/seed.sql" >/dev/null
	SERVER_CONF=$("$REPO/scripts/server-conf.sh" "$T/server" "$port")
	printf '%s\n' "$extra" >>"$SERVER_CONF"
	export MISSIVE_SERVER_CONF=$SERVER_CONF
	"$BIN/missive-keys" server-init "$T/server" >/dev/null
	PW_OK=$(pwfile pw.ok 111111)
	# The hashes are bound to the server key: set them now it exists.
	MISSIVE_BIN=$BIN "$REPO/scripts/demo-passwords.sh" "$PW_OK" \
		user1 user2 user3 >/dev/null
	mkdir -p "$T/c"
	# Clear keys: the tests send wrong passwords to the server, which a key
	# encrypted with the password would refuse first (17-password.sh
	# tests the encrypted default).
	for u in user1 user2 user3; do
		device_folder "$u" "$T/c/$u"
	done
}

server_start() {
	local log=${1:-$T/server.log}
	shift || true
	: >"$log"
	"$@" "$BIN/missived" -c "$SERVER_CONF" --log "$log" \
		</dev/null >>"$T/server.stderr" 2>&1 &
	SRV_PID=$!
	register_pid "$SRV_PID"
	if ! wait_until 20 grep -q "listening on" "$log"; then
		not_ok "missived starts" "$(cat "$log" "$T/server.stderr")"
		exit 1
	fi
}

server_log() {
	cat "$T/server.log"
}

client_start() {
	local name=$1 folder=$2 pw=${3:-$PW_OK} fd
	rm -f "$T/$name.in"
	mkfifo "$T/$name.in"
	"$BIN/missive" -c "$folder/client.conf" --password-file "$pw" \
		<"$T/$name.in" >"$T/$name.out" 2>&1 &
	CLIENT_PID[$name]=$!
	register_pid $!
	exec {fd}>"$T/$name.in"
	CLIENT_FD[$name]=$fd
}

say() {
	printf '%s\n' "$2" >&"${CLIENT_FD[$1]}"
}

seen() {
	grep -qF -- "$2" "$T/$1.out"
}

client_out() {
	cat "$T/$1.out"
}

# NAME's output without the marks of its own lines (*** ✓, *** ✓✓).
shown() {
	grep -v '^\*\*\* ✓' "$T/$1.out" || true
}

client_wait() {
	local pid=${CLIENT_PID[$1]}
	RC=timeout
	wait_until 15 _gone "$pid" || return 0
	RC=0
	wait "$pid" || RC=$?
}
