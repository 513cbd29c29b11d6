#!/usr/bin/env bash
# missive demo: what `make demo` runs after the build.
#
# Starts the private MariaDB under var/, loads the demo users (sql/seed.sql),
# creates the server key, sets the demo users' password 111111 (bound to
# that key: scripts/demo-passwords.sh), makes one client folder per demo
# user (user.key encrypted with the password), starts
# missived in the background (its console goes to var/demo/missived.log),
# and shows how to connect.  Safe to run again: what exists is kept, and a
# server that is running is left running.
# Stop everything with:  scripts/demo.sh stop
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd -P)
export MISSIVE_VAR=${MISSIVE_VAR:-$repo/var}
bin=$(cd "${MISSIVE_BIN:-$repo/bin}" && pwd -P)
demo=$MISSIVE_VAR/demo
clients=$MISSIVE_VAR/clients
users="user1 user2 user3"

pidfile=$demo/missived.pid
logfile=$demo/missived.log

# The PID in the pid file, if that process is still our missived.
server_pid() {
	local pid
	[ -s "$pidfile" ] || return 1
	pid=$(cat "$pidfile")
	[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$bin/missived" ] || return 1
	echo "$pid"
}

if [ "${1:-}" = stop ]; then
	if pid=$(server_pid); then
		kill -TERM "$pid"
		for _ in $(seq 50); do
			[ -d "/proc/$pid" ] || break
			sleep 0.1
		done
		echo "demo: missived stopped"
	fi
	rm -f "$pidfile"
	"$repo/scripts/db.sh" stop
	exit 0
fi

"$repo/scripts/db.sh" start
"$repo/scripts/db.sh" sql "$repo/sql/seed.sql"

conf=$("$repo/scripts/server-conf.sh" "$demo")
export MISSIVE_SERVER_CONF=$conf
if [ ! -f "$demo/server.key" ]; then
	"$bin/missive-keys" server-init "$demo"
else
	echo "demo: server key kept: $("$bin/missive-keys" fingerprint "$demo/server.pub")"
fi

# The stored hashes are bound to the server key: set them once it exists.
pwfile=$demo/demo-password
(umask 077; printf '111111' >"$pwfile")
# shellcheck disable=SC2086 # one word per user
MISSIVE_BIN=$bin "$repo/scripts/demo-passwords.sh" "$pwfile" $users
echo "demo: seed users loaded: $users (password 111111)"

for u in $users; do
	if [ ! -f "$clients/$u/client.conf" ]; then
		mkdir -p "$clients"
		# user.key encrypted with the password, as for any user.
		"$bin/missive-keys" client --password-file "$pwfile" "$u" \
			"$clients/$u"
	else
		echo "demo: client folder kept: $clients/$u"
	fi
done

"$bin/missived" -c "$conf" --check
if pid=$(server_pid); then
	echo "demo: missived already running (pid $pid)"
else
	setsid "$bin/missived" -c "$conf" --log "$logfile" \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$pidfile"
	for _ in $(seq 100); do
		grep -q "listening on" "$logfile" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "listening on" "$logfile" ||
		{ echo "demo: missived did not start, see $logfile" >&2; exit 1; }
	echo "demo: missived started (pid $(cat "$pidfile"))"
fi
cat <<MSG

demo: ready.
  database        $("$repo/scripts/db.sh" status | head -1)
  server config   $conf
  server console  tail -f $logfile
  connect (password 111111, one terminal each):
$(for u in $users; do echo "    $bin/missive -c $clients/$u/client.conf"; done)
  accounts:       MISSIVE_SERVER_CONF=$conf $bin/missive-admin list
  stop:           scripts/demo.sh stop
MSG
