#!/usr/bin/env bash
# missive: write a server.conf for a private MariaDB started by scripts/db.sh.
#
#   scripts/server-conf.sh DIR [PORT]
#
# Writes DIR/server.conf (listening on 127.0.0.1:PORT, default 7777) whose
# database settings point at the socket and password files of $MISSIVE_VAR
# (default <repo>/var), and whose keys are DIR/server.key and DIR/server.pub
# (create them with `missive-keys server-init DIR`).  Every other setting
# takes its default; conf/server.conf documents them all.
set -eu

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 DIR [PORT]" >&2; exit 2; }
dir=$1
port=${2:-7777}
repo=$(cd "$(dirname "$0")/.." && pwd -P)
eval "$("$repo/scripts/db.sh" env)"

mkdir -p "$dir"
umask 077
cat > "$dir/server.conf" <<CONF
# missive server configuration for the private MariaDB under
# $(dirname "$(dirname "$MISSIVE_DB_SOCKET")"), made by scripts/server-conf.sh.
# Every setting not named here takes its default (see conf/server.conf).

listen: {
	address = "127.0.0.1";
	port = $port;
};

keys: {
	private = "server.key";
	public = "server.pub";
};

database: {
	socket = "$MISSIVE_DB_SOCKET";
	name = "missive";
	user = "missived";
	password_file = "$MISSIVE_DB_SERVER_PASSFILE";
	admin_user = "missive_admin";
	admin_password_file = "$MISSIVE_DB_ADMIN_PASSFILE";
};
CONF
echo "$dir/server.conf"
