#!/usr/bin/env bash
# The private MariaDB: scripts/db.sh, sql/schema.sql, sql/grants.sql.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

DB=$REPO/scripts/db.sh
# shellcheck disable=SC2016 # a literal PHC string, not an expansion
ARGON='$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'

db_start
check "db.sh status: running" "$DB" status

out=$("$DB" start 2>&1) && rc=0 || rc=$?
expect_eq "second start exits 0" "$rc" 0
expect_match "second start says already running" "$out" "already running"

# Secrets: private directory, private files, 48 hex characters, no newline.
expect_eq "secrets dir is 0700" "$(stat -c %a "$MISSIVE_VAR/secrets")" 700
for f in "$DB_SERVER_PASSFILE" "$DB_ADMIN_PASSFILE"; do
	expect_eq "$(basename "$f") is 0600" "$(stat -c %a "$f")" 600
	expect_match "$(basename "$f") is 48 hex digits, no newline" \
		"$(wc -c <"$f") $(cat "$f")" '^48 [0-9a-f]{48}$'
done
expect_eq "db dir is 0700" "$(stat -c %a "$MISSIVE_VAR/db")" 700

expect_eq "tables users and client_keys" "$(db_sql 'SHOW TABLES' | sort | tr '\n' ' ')" \
	"client_keys users "
expect_eq "database collation" \
	"$(db_sql "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='missive'")" \
	utf8mb4_bin

# Run SQL as one of the two accounts; the password goes through the
# environment, not the command line.
as_user() { # USER PASSFILE SQL
	MYSQL_PWD=$(cat "$2") mariadb --no-defaults -N -B --socket="$DB_SOCKET" -u "$1" missive -e "$3"
}
# shellcheck disable=SC2317 # called through check/denied
server() { as_user missived "$DB_SERVER_PASSFILE" "$1"; }
# shellcheck disable=SC2317
admin() { as_user missive_admin "$DB_ADMIN_PASSFILE" "$1"; }
# fails_with DESC REGEX CMD...: CMD fails, with an error matching REGEX (so
# it failed for the reason under test, not for a typo in the test).
fails_with() {
	local desc=$1 re=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && printf '%s\n' "$out" | grep -Eq -- "$re"; then
		ok "$desc"
	else
		not_ok "$desc" "exit status $rc, wanted a failure matching /$re/:
$out"
	fi
}
denied() { fails_with "$1" 'command denied' "$2" "$3"; }

# missive_admin
check "admin inserts a user" admin \
	"INSERT INTO users (user_name, user_password, user_nickname) VALUES ('alice', '$ARGON', 'Alice')"
check "admin enrols a key" admin \
	"INSERT INTO client_keys (user_id, device, public_key_pem, fingerprint)
	 SELECT user_id, 'laptop', 'pem', 'SHA256:abc' FROM users WHERE user_name = 'alice'"
fails_with "same fingerprint for a second device is refused" 'Duplicate entry' admin \
	"INSERT INTO client_keys (user_id, device, public_key_pem, fingerprint)
	 SELECT user_id, 'phone', 'pem', 'SHA256:abc' FROM users WHERE user_name = 'alice'"
denied "admin cannot DELETE users" admin "DELETE FROM users"
denied "admin cannot read mysql.user" admin "SELECT user FROM mysql.user"

# missived
check "missived reads the granted users columns" server \
	"SELECT user_id, user_name, user_password, user_nickname, disabled,
	        failed_logins, last_failed_at, locked_until FROM users WHERE user_name = 'alice'"
expect_eq "missived sees alice's nickname" \
	"$(server "SELECT user_nickname FROM users WHERE user_name = 'alice'")" Alice
check "missived updates the throttling columns" server \
	"UPDATE users SET failed_logins = failed_logins + 1, last_failed_at = NOW(3),
	 locked_until = NULL, last_login_at = NOW(3) WHERE user_id = 1"
check "missived reads client_keys" server \
	"SELECT key_id, user_id, device, public_key_pem, fingerprint, revoked FROM client_keys"
denied "missived cannot read users.created_at" server "SELECT created_at FROM users"
denied "missived cannot INSERT into users" server \
	"INSERT INTO users (user_name, user_password, user_nickname) VALUES ('mallory', '$ARGON', 'M')"
denied "missived cannot change a password hash" server \
	"UPDATE users SET user_password = '$ARGON' WHERE user_id = 1"
denied "missived cannot DELETE from users" server "DELETE FROM users"
denied "missived cannot write client_keys" server "UPDATE client_keys SET revoked = 0"
denied "missived cannot SELECT from mysql.user" server "SELECT user FROM mysql.user"

# Constraints hold even for the database root.
fails_with "CHECK refuses a non-Argon2id password" 'ck_users_password_argon2id' db_sql \
	"INSERT INTO users (user_name, user_password, user_nickname) VALUES ('bob', 'hunter2', 'Bob')"
fails_with "user names are unique" 'Duplicate entry' db_sql \
	"INSERT INTO users (user_name, user_password, user_nickname) VALUES ('alice', '$ARGON', 'A2')"
check "deleting a user removes their keys (ON DELETE CASCADE)" db_sql \
	"INSERT INTO users (user_name, user_password, user_nickname) VALUES ('carol', '$ARGON', 'C');
	 INSERT INTO client_keys (user_id, public_key_pem, fingerprint)
	   SELECT user_id, 'pem', 'SHA256:carol' FROM users WHERE user_name = 'carol';
	 DELETE FROM users WHERE user_name = 'carol'"
expect_eq "carol's key is gone" "$(db_sql "SELECT COUNT(*) FROM client_keys WHERE fingerprint = 'SHA256:carol'")" 0

# db.sh sql FILE: runs into `missive`, errors propagate.
printf 'SELECT COUNT(*) FROM users;\n' >"$T/ok.sql"
printf 'SELECT no_such_column FROM users;\n' >"$T/bad.sql"
check "db.sh sql FILE runs a file" "$DB" sql "$T/ok.sql"
check_fails "db.sh sql FILE fails on an SQL error" "$DB" sql "$T/bad.sql"

# Everything the server writes is under MISSIVE_VAR.
for v in datadir tmpdir socket pid_file log_error; do
	expect_match "@@$v is under MISSIVE_VAR" "$(db_sql "SELECT @@$v")" "^$MISSIVE_VAR/"
done
expect_eq "no TCP listener (skip_networking)" "$(db_sql 'SELECT @@skip_networking')" 1

# Stop, restart, data kept.
check "db.sh stop" "$DB" stop
out=$("$DB" status 2>&1) && rc=0 || rc=$?
expect_eq "status after stop exits 3" "$rc" 3
expect_match "status says stopped" "$out" "stopped"
check "second stop is fine" "$DB" stop
check "db.sh start again" "$DB" start
expect_eq "data kept across restart" "$(db_sql "SELECT user_nickname FROM users WHERE user_name = 'alice'")" Alice
expect_eq "tables kept across restart" "$(db_sql 'SHOW TABLES' | sort | tr '\n' ' ')" "client_keys users "
check "passwords still valid after restart" server "SELECT 1"

done_testing
