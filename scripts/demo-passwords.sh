#!/usr/bin/env bash
# missive: set the password of the demo (or test) users after sql/seed.sql.
#
#   scripts/demo-passwords.sh PWFILE USER...
#
# Clients send a login secret bound to the server key (docs/PROTOCOL.md
# section 5), so a stored hash is only good for one server key and cannot
# be shipped in sql/seed.sql: run this once the server key exists.  Uses
# missive-admin hash-password (which allows the demo's short password,
# with a warning) and loads the hashes with scripts/db.sh sql.  Needs
# MISSIVE_SERVER_CONF (or missive-admin's default config) and the private
# MariaDB running; MISSIVE_BIN names the programs (default: bin/).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd -P)
bin=${MISSIVE_BIN:-$repo/bin}
[ $# -ge 2 ] || { echo "usage: $0 PWFILE USER..." >&2; exit 2; }
pwfile=$1
shift
sql=
err=$(mktemp)
trap 'rm -f "$err"' EXIT
for u in "$@"; do
	# Quiet about the short demo password, not about a failure.
	if ! phc=$("$bin/missive-admin" hash-password --password-file "$pwfile" \
		"$u" 2>"$err"); then
		cat "$err" >&2
		exit 1
	fi
	# Names are checked by missive-admin; a PHC string holds no quote.
	sql+="UPDATE users SET user_password = '$phc', failed_logins = 0, locked_until = NULL WHERE user_name = '$u';"$'\n'
done
printf '%s' "$sql" | "$repo/scripts/db.sh" sql -
