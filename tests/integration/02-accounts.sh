#!/usr/bin/env bash
# Accounts against the real private MariaDB: the seed loads, missive-admin
# creates, checks, changes and disables users, bad names are refused and
# injection strings are stored or refused literally, an unreachable
# database is reported clearly.
. "$(dirname "$0")/lib.sh"

db_start
conf=$("$REPO/scripts/server-conf.sh" "$T/server")
export MISSIVE_SERVER_CONF=$conf
# Stored hashes are of login secrets bound to the server key: make it first.
"$BIN/missive-keys" server-init "$T/server" >/dev/null
admin() { "$BIN/missive-admin" "$@"; }
pwfile() { (umask 077; printf '%s' "$2" > "$T/$1"); echo "$T/$1"; }

# Seed: three users, hashed, loading twice changes nothing.
check "seed loads" "$REPO/scripts/db.sh" sql "$REPO/sql/seed.sql"
check "seed loads a second time" "$REPO/scripts/db.sh" sql "$REPO/sql/seed.sql"
expect_eq "seed made user1..user3" \
	"$(db_sql 'SELECT GROUP_CONCAT(user_name ORDER BY user_name) FROM users')" \
	"user1,user2,user3"
expect_eq "seed stores only Argon2id hashes" \
	"$(db_sql "SELECT COUNT(*) FROM users WHERE user_password LIKE '\$argon2id\$v=19\$m=19456,t=2,p=1\$%'")" 3
check_fails "no password opens a seed account before it is set" \
	admin check-password --password-file "$(pwfile pw6 111111)" user1
check "scripts/demo-passwords.sh sets the seed password" \
	env MISSIVE_BIN="$BIN" "$REPO/scripts/demo-passwords.sh" "$T/pw6" \
	user1 user2 user3
for u in user1 user2 user3; do
	check "$u's seed password 111111 verifies" \
		admin check-password --password-file "$(pwfile pw6 111111)" "$u"
done
check_fails "a wrong password for user1 does not verify" \
	admin check-password --password-file "$(pwfile pwbad 111112)" user1

# useradd, then the password check against the stored hash.
pw=$(pwfile pwdave 'correct horse battery')
out=$(admin useradd --password-file "$pw" dave 'Dave D.' 2>&1)
expect_match "useradd creates dave" "$out" '^dave: created$'
expect_eq "dave's row exists with his nickname" \
	"$(db_sql "SELECT user_nickname FROM users WHERE user_name='dave'")" "Dave D."
expect_match "dave's password is stored as Argon2id, not as text" \
	"$(db_sql "SELECT user_password FROM users WHERE user_name='dave'")" \
	'^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$'
check "dave's password verifies" admin check-password --password-file "$pw" dave
check_fails "a wrong password for dave does not verify" \
	admin check-password --password-file "$(pwfile pwx 'correct horse battery!')" dave

out=$(admin useradd --password-file "$pw" dave 'Other' 2>&1) && rc=0 || rc=$?
expect_eq "a duplicate user is refused (exit 1)" "$rc" 1
expect_match "... with a clear message" "$out" "user 'dave' already exists"
out=$(admin useradd --password-file "$(pwfile short 1234567)" erin Erin 2>&1) && rc=0 || rc=$?
expect_match "a password under 8 characters is refused" "$out" 'at least 8 characters'
expect_eq "... and no row is written" "$(db_sql "SELECT COUNT(*) FROM users WHERE user_name='erin'")" 0

# Bad names never reach the database; injection strings in nicknames are
# stored literally.
for bad in "Bad|Name" "x'; DROP TABLE users;--" "UPPER" "a b" "" "-dash" \
	"abcdefghijklmnopqrstuvwxyz0123456"; do
	out=$(admin useradd --password-file "$pw" -- "$bad" Nick 2>&1) && rc=0 || rc=$?
	expect_match "user name '$bad' is refused" "$out" "invalid user name"
done
out=$(admin useradd --password-file "$pw" frank 'pipe|nick' 2>&1) && rc=0 || rc=$?
expect_match "a nickname with '|' is refused" "$out" "invalid nickname"
inj="Robert'); DROP TABLE users;--"
check "an injection string as nickname is accepted" \
	admin useradd --password-file "$pw" bobby "$inj"
expect_eq "... stored literally" \
	"$(db_sql "SELECT user_nickname FROM users WHERE user_name='bobby'")" "$inj"
expect_eq "... and the users table is intact" "$(db_sql 'SELECT COUNT(*) FROM users')" 5
check_fails "check-password of an injection string as user name fails" \
	admin check-password --password-file "$pw" "' OR '1'='1"

# passwd: the old password stops working, the new one works.
new=$(pwfile pwnew 'a new long password')
check "passwd changes dave's password" admin passwd --password-file "$new" dave
check_fails "dave's old password no longer verifies" admin check-password --password-file "$pw" dave
check "dave's new password verifies" admin check-password --password-file "$new" dave
out=$(admin passwd --password-file "$new" nobody 2>&1) && rc=0 || rc=$?
expect_match "passwd of a missing user is refused" "$out" "no user 'nobody'"

# disable / enable, and list.
check "disable dave" admin disable dave
expect_eq "dave is disabled in the database" \
	"$(db_sql "SELECT disabled FROM users WHERE user_name='dave'")" 1
expect_match "list shows dave disabled" "$(admin list)" '^dave +Dave D\. +disabled'
check "enable dave" admin enable dave
expect_match "list shows dave active" "$(admin list)" '^dave +Dave D\. +active'
expect_match "list shows the seed users" "$(admin list)" '^user2 +Bob +active'

# The password file must be private.
chmod 644 "$new"
out=$(admin passwd --password-file "$new" dave 2>&1) && rc=0 || rc=$?
expect_match "a password file readable by others is refused" "$out" "chmod 600"

# hash-password prints a PHC string that the database accepts.
phc=$(admin hash-password --password-file "$(pwfile pwh 'hashed for sql')" gina)
expect_match "hash-password prints an Argon2id PHC string" "$phc" '^\$argon2id\$v=19\$'
check "... that a SQL script can store" db_sql \
	"INSERT INTO users (user_name, user_password, user_nickname) VALUES ('gina', '$phc', 'Gina')"
check "... and that verifies" admin check-password --password-file "$T/pwh" gina

# The server's account may not write users or read the key PEMs' owner table
# beyond its grants; the admin account may.
check_fails "the server's DB account cannot create users" \
	mariadb --no-defaults --socket="$DB_SOCKET" -u missived \
	-p"$(cat "$DB_SERVER_PASSFILE")" missive -e \
	"INSERT INTO users (user_name, user_password, user_nickname) VALUES ('x', '\$argon2id\$x', 'x')"

# An unreachable database: a clear error, exit 1.
"$REPO/scripts/db.sh" stop >/dev/null
out=$(admin list 2>&1) && rc=0 || rc=$?
expect_eq "with MariaDB stopped, list exits 1" "$rc" 1
expect_match "... and says it cannot connect" "$out" "cannot connect to MariaDB at socket"
"$REPO/scripts/db.sh" start >/dev/null
check "after a restart, list works again" admin list

done_testing
