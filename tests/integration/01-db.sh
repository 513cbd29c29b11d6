#!/usr/bin/env bash
# The private MariaDB: scripts/db.sh, the schema migrations in
# sql/migrations/, sql/grants.sql.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

DB=$REPO/scripts/db.sh
# shellcheck disable=SC2016 # a literal PHC string, not an expansion
ARGON='$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'

# The migrations of this tree: the highest version and the rows that
# schema_version must hold for them ("1-base,2-durable").
MIGRATIONS=("$REPO"/sql/migrations/[0-9][0-9][0-9][0-9]-*.sql)
HIGHEST=0
VERSIONS=
for f in "${MIGRATIONS[@]}"; do
	f=${f##*/}
	f=${f%.sql}
	HIGHEST=$((10#${f%%-*}))
	VERSIONS=$VERSIONS${VERSIONS:+,}$HIGHEST-${f#*-}
done
# Every table once all migrations ran.
TABLES="client_keys device_inbox inbox messages room_members rooms schema_version user_state users "
# What 0002-durable.sql adds, children before the tables they reference.
DURABLE="inbox messages device_inbox user_state room_members rooms"
tables() { db_sql 'SHOW TABLES' | sort | tr '\n' ' '; }

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

expect_eq "a fresh datadir has every table" "$(tables)" "$TABLES"
expect_eq "db.sh version prints the highest migration" "$("$DB" version)" "$HIGHEST"
expect_eq "the highest migration is 0003-receipts" "$HIGHEST" 3
expect_eq "schema_version: one row per migration" \
	"$(db_sql "SELECT GROUP_CONCAT(version, '-', name ORDER BY version) FROM schema_version")" "$VERSIONS"
if grep -q '^#define MISSIVE_SCHEMA_VERSION ' "$REPO/common/db.h"; then
	expect_eq "MISSIVE_SCHEMA_VERSION (common/db.h) is the highest migration" \
		"$(sed -n 's/^#define MISSIVE_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$REPO/common/db.h")" "$HIGHEST"
else
	printf '# no MISSIVE_SCHEMA_VERSION in common/db.h yet: not compared\n'
fi
applied=$(db_sql "SELECT GROUP_CONCAT(applied_at ORDER BY version) FROM schema_version")
out=$("$DB" migrate 2>&1) && rc=0 || rc=$?
expect_eq "db.sh migrate on an up-to-date database exits 0" "$rc" 0
expect_match "db.sh migrate says there is nothing to apply" "$out" "no migration to apply"
expect_eq "db.sh migrate applied nothing again" \
	"$(db_sql "SELECT GROUP_CONCAT(applied_at ORDER BY version) FROM schema_version")" "$applied"
expect_eq "lobby exists, made by nobody" \
	"$(db_sql "SELECT COUNT(*) FROM rooms WHERE room_name = 'lobby' AND created_by IS NULL")" 1
expect_eq "every table is InnoDB, utf8mb4_bin, with a comment" \
	"$(db_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'missive'
	   AND (ENGINE <> 'InnoDB' OR TABLE_COLLATION <> 'utf8mb4_bin' OR TABLE_COMMENT = '')")" 0
expect_eq "every column has a comment" \
	"$(db_sql "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'missive'
	   AND COLUMN_COMMENT = ''")" 0
expect_eq "commits are flushed to disk (innodb_flush_log_at_trx_commit)" \
	"$(db_sql 'SELECT @@innodb_flush_log_at_trx_commit')" 1
check "0002-durable.sql runs again without error" "$DB" sql "$REPO/sql/migrations/0002-durable.sql"
check "0003-receipts.sql runs again without error" "$DB" sql "$REPO/sql/migrations/0003-receipts.sql"
expect_eq "... and keeps one lobby" "$(db_sql "SELECT COUNT(*) FROM rooms WHERE room_name = 'lobby'")" 1
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

# missived, durable delivery: rooms, membership, the inbox.
KEY=$(db_sql "SELECT key_id FROM client_keys WHERE fingerprint = 'SHA256:abc'")
ALICE=$(db_sql "SELECT user_id FROM users WHERE user_name = 'alice'")
check "missived records a first login and joins lobby" server \
	"INSERT INTO user_state (user_id) VALUES ($ALICE);
	 INSERT INTO room_members (room_id, user_id)
	   SELECT room_id, $ALICE FROM rooms WHERE room_name = 'lobby'"
check "missived makes a room and joins it" server \
	"INSERT INTO rooms (room_name, created_by) VALUES ('dev', $ALICE);
	 INSERT INTO room_members (room_id, user_id) SELECT room_id, $ALICE FROM rooms WHERE room_name = 'dev'"
check "missived leaves a room" server \
	"DELETE FROM room_members WHERE user_id = $ALICE AND room_id = (SELECT room_id FROM rooms WHERE room_name = 'dev')"
check "missived stores a line for a device" server \
	"INSERT INTO device_inbox (key_id) VALUES ($KEY);
	 INSERT INTO messages (sender_key_id, mid, frame, pending) VALUES ($KEY, UNHEX(REPEAT('ab', 16)), 'ciphertext', 1);
	 INSERT INTO inbox (key_id, seq, msg_id) VALUES ($KEY, 1, LAST_INSERT_ID());
	 UPDATE device_inbox SET next_seq = 2 WHERE key_id = $KEY"
check "missived stores two sender-key distributions (mid NULL)" server \
	"INSERT INTO messages (sender_key_id, mid, frame, pending) VALUES ($KEY, NULL, 'blob', 1), ($KEY, NULL, 'blob', 1)"
fails_with "a retry of the same (sender device, mid) is stored once" 'Duplicate entry.*uq_messages_sender_mid' server \
	"INSERT INTO messages (sender_key_id, mid, frame, pending) VALUES ($KEY, UNHEX(REPEAT('ab', 16)), 'again', 1)"
check "missived records an acknowledgement" server \
	"UPDATE device_inbox SET acked_seq = 1 WHERE key_id = $KEY;
	 DELETE FROM inbox WHERE key_id = $KEY AND seq <= 1"
check "missived reads schema_version" server "SELECT MAX(version) FROM schema_version"
denied "missived cannot change user_state" server "UPDATE user_state SET first_login_at = NOW(3)"
denied "missived cannot delete user_state" server "DELETE FROM user_state"
denied "missived cannot write schema_version" server \
	"INSERT INTO schema_version (version, name) VALUES (99, 'evil')"

# missive_admin, durable delivery: reads everything, deletes rooms and
# memberships, writes no inbox.
check "admin reads rooms, members and the inbox" admin \
	"SELECT * FROM rooms; SELECT * FROM room_members; SELECT * FROM user_state;
	 SELECT * FROM device_inbox; SELECT * FROM messages; SELECT * FROM inbox;
	 SELECT * FROM schema_version"
check "admin deletes a membership and a room" admin \
	"DELETE FROM room_members WHERE room_id = (SELECT room_id FROM rooms WHERE room_name = 'dev');
	 DELETE FROM rooms WHERE room_name = 'dev'"
denied "admin cannot store a message" admin \
	"INSERT INTO messages (sender_key_id, frame, pending) VALUES ($KEY, 'forged', 1)"
denied "admin cannot write an inbox row" admin \
	"INSERT INTO inbox (key_id, seq, msg_id) VALUES ($KEY, 9, 1)"
denied "admin cannot change a device's seqs" admin "UPDATE device_inbox SET acked_seq = 0"
denied "admin cannot write schema_version" admin "DELETE FROM schema_version"

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
check "removing a device (as the admin) removes its inbox (ON DELETE CASCADE)" admin \
	"DELETE FROM client_keys WHERE key_id = $KEY"
expect_eq "nothing of the removed device's inbox is left" \
	"$(db_sql "SELECT (SELECT COUNT(*) FROM device_inbox) + (SELECT COUNT(*) FROM inbox)")" 0
expect_eq "... but what it sent stays for its recipients" \
	"$(db_sql "SELECT COUNT(*) FROM messages WHERE sender_key_id = $KEY")" 3
check "a room outlives its maker (ON DELETE SET NULL)" db_sql \
	"INSERT INTO users (user_name, user_password, user_nickname) VALUES ('erin', '$ARGON', 'E');
	 INSERT INTO rooms (room_name, created_by) SELECT 'erins', user_id FROM users WHERE user_name = 'erin';
	 DELETE FROM users WHERE user_name = 'erin'"
expect_eq "erin's room is kept, made by nobody" \
	"$(db_sql "SELECT COUNT(*) FROM rooms WHERE room_name = 'erins' AND created_by IS NULL")" 1

# A migration that stopped half-way (DDL commits statement by statement)
# is run again in full.
db_sql "DROP TABLE inbox, messages; DELETE FROM schema_version WHERE version >= 2"
out=$("$DB" migrate 2>&1) && rc=0 || rc=$?
expect_eq "migrate after a half-done 0002 exits 0" "$rc" 0
expect_match "... applies 0002 again" "$out" "applying migration 0002-durable.sql"
expect_match "... and 0003 after it" "$out" "applying migration 0003-receipts.sql"
expect_eq "... and the tables are all there" "$(tables)" "$TABLES"

# A database made before schema versions: only users and client_keys,
# no grants on the new tables.
make_old() {
	local t
	for t in $DURABLE schema_version; do
		db_sql "REVOKE ALL PRIVILEGES ON missive.$t FROM 'missived'@'localhost', 'missive_admin'@'localhost'"
	done
	db_sql "DROP TABLE ${DURABLE// /, }, schema_version"
}
make_old
expect_eq "old database: only users and client_keys" "$(tables)" "client_keys users "
expect_eq "old database: db.sh version prints 0" "$("$DB" version)" 0
denied "old database: missived has no grant on inbox" server "SELECT * FROM inbox"
out=$("$DB" migrate 2>&1) && rc=0 || rc=$?
expect_eq "old database: db.sh migrate exits 0" "$rc" 0
expect_match "old database: 0001-base is applied (a no-op)" "$out" "applying migration 0001-base.sql"
expect_match "old database: 0002-durable is applied" "$out" "applying migration 0002-durable.sql"
expect_match "old database: 0003-receipts is applied" "$out" "applying migration 0003-receipts.sql"
expect_eq "old database: now at the highest version" "$("$DB" version)" "$HIGHEST"
expect_eq "old database: every table" "$(tables)" "$TABLES"
expect_eq "old database: the users are kept" \
	"$(db_sql "SELECT user_nickname FROM users WHERE user_name = 'alice'")" Alice
db_sql "INSERT INTO client_keys (user_id, device, public_key_pem, fingerprint)
	VALUES ($ALICE, 'phone', 'pem', 'SHA256:phone')"
KEY=$(db_sql "SELECT key_id FROM client_keys WHERE fingerprint = 'SHA256:phone'")
check "old database: missived gets its grants on the new tables" server \
	"INSERT INTO messages (sender_key_id, frame, pending) VALUES ($KEY, 'x', 1);
	 INSERT INTO inbox (key_id, seq, msg_id) VALUES ($KEY, 1, LAST_INSERT_ID())"

# A migration that fails: exit 1, the file and MariaDB's message named,
# the version unchanged; once fixed it runs (again, in full).
NEXT=$(printf %04d $((HIGHEST + 1)))
mkdir "$T/mig"
cp "${MIGRATIONS[@]}" "$T/mig/"
printf 'CREATE TABLE IF NOT EXISTS probe (x INT) ENGINE=InnoDB;\nSELECT no_such_column FROM users;\n' \
	>"$T/mig/$NEXT-broken.sql"
out=$(MISSIVE_MIGRATIONS=$T/mig "$DB" migrate 2>&1) && rc=0 || rc=$?
expect_eq "a failing migration: exit 1" "$rc" 1
expect_contains "a failing migration: the file is named" "$out" "$T/mig/$NEXT-broken.sql failed"
expect_contains "a failing migration: MariaDB's message is shown" "$out" "Unknown column 'no_such_column'"
expect_eq "a failing migration: the version stays" "$("$DB" version)" "$HIGHEST"
printf 'CREATE TABLE IF NOT EXISTS probe (x INT) ENGINE=InnoDB;\n' >"$T/mig/$NEXT-broken.sql"
check "the fixed migration runs" env MISSIVE_MIGRATIONS="$T/mig" "$DB" migrate
expect_eq "... and is recorded" "$("$DB" version)" "$((HIGHEST + 1))"
out=$("$DB" migrate 2>&1) && rc=0 || rc=$?
expect_eq "a database newer than the tree's migrations: migrate exits 1" "$rc" 1
expect_match "... and says so" "$out" "newer than the highest migration"
db_sql "DROP TABLE probe; DELETE FROM schema_version WHERE version > $HIGHEST"

# Misnamed or misnumbered files are refused before anything runs.
mkdir "$T/gap" "$T/name"
cp "${MIGRATIONS[@]}" "$T/gap/"
cp "${MIGRATIONS[@]}" "$T/name/"
printf 'SELECT 1;\n' >"$T/gap/$(printf %04d $((HIGHEST + 2)))-gap.sql"
printf 'SELECT 1;\n' >"$T/name/$NEXT-Bad Name.sql"
out=$(MISSIVE_MIGRATIONS=$T/gap "$DB" migrate 2>&1) && rc=0 || rc=$?
expect_eq "a gap in the numbers: exit 1" "$rc" 1
expect_contains "... naming the file" "$out" "-gap.sql is out of sequence"
out=$(MISSIVE_MIGRATIONS=$T/name "$DB" migrate 2>&1) && rc=0 || rc=$?
expect_eq "a bad file name: exit 1" "$rc" 1
expect_contains "... naming the file" "$out" "bad migration file name $T/name/$NEXT-Bad Name.sql"
expect_eq "neither ran" "$("$DB" version)" "$HIGHEST"

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

# Stop, restart, data kept; the database is made old again first, and the
# restart migrates it by itself.
make_old
check "db.sh stop" "$DB" stop
out=$("$DB" status 2>&1) && rc=0 || rc=$?
expect_eq "status after stop exits 3" "$rc" 3
expect_match "status says stopped" "$out" "stopped"
check "second stop is fine" "$DB" stop
check_fails "db.sh migrate needs a running server" "$DB" migrate
check "db.sh start again" "$DB" start
expect_eq "data kept across restart" "$(db_sql "SELECT user_nickname FROM users WHERE user_name = 'alice'")" Alice
expect_eq "the restart migrated the old database" "$("$DB" version)" "$HIGHEST"
expect_eq "tables kept across restart" "$(tables)" "$TABLES"
check "missived's grants on the new tables after the restart" server "SELECT COUNT(*) FROM inbox"
check "passwords still valid after restart" server "SELECT 1"

done_testing
