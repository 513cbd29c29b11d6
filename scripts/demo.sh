#!/usr/bin/env bash
# missive demo: what `make demo` runs after the build.
#
# Starts the private MariaDB under var/, loads the demo users (sql/seed.sql),
# creates the server key and one client folder per demo user, and shows how
# to connect.  Safe to run again: what exists is kept.
# Stop everything with:  scripts/demo.sh stop
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd -P)
export MISSIVE_VAR=${MISSIVE_VAR:-$repo/var}
bin=${MISSIVE_BIN:-$repo/bin}
demo=$MISSIVE_VAR/demo
clients=$MISSIVE_VAR/clients
users="user1 user2 user3"

if [ "${1:-}" = stop ]; then
	"$repo/scripts/db.sh" stop
	exit 0
fi

"$repo/scripts/db.sh" start
"$repo/scripts/db.sh" sql "$repo/sql/seed.sql"
echo "demo: seed users loaded: $users (password 111111)"

conf=$("$repo/scripts/server-conf.sh" "$demo")
export MISSIVE_SERVER_CONF=$conf
if [ ! -f "$demo/server.key" ]; then
	"$bin/missive-keys" server-init "$demo"
else
	echo "demo: server key kept: $("$bin/missive-keys" fingerprint "$demo/server.pub")"
fi

for u in $users; do
	if [ ! -f "$clients/$u/client.conf" ]; then
		mkdir -p "$clients"
		"$bin/missive-keys" client "$u" "$clients/$u"
	else
		echo "demo: client folder kept: $clients/$u"
	fi
done

"$bin/missived" -c "$conf" --check
cat <<MSG

demo: ready.
  database      $("$repo/scripts/db.sh" status | head -1)
  server config $conf
  client folders:
$(for u in $users; do echo "    $clients/$u"; done)
  accounts:     MISSIVE_SERVER_CONF=$conf $bin/missive-admin list
  stop:         scripts/demo.sh stop
MSG
