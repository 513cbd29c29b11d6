#!/usr/bin/env bash
# The server never sees the password, and the private key at rest is
# encrypted with it (issue 15, items 7 and 8).  The client sends a login
# secret bound to the server key and the user (docs/PROTOCOL.md section 5):
# the server refuses the password itself, stores a hash of the secret, and
# the secret differs per user and per server key.  missive-keys client
# writes user.key encrypted with the account's password (openssl opens it
# with the password, not without); the client opens it with the password it
# asks anyway, a wrong password is a clear error, --no-passphrase writes a
# clear key for bots (the hostile client uses one), and after a password change missive-keys passphrase
# encrypts the key anew.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

TOOLS=${MISSIVE_TOOLS:-$REPO/build/san/tests/tools}
PORT=$(test_port 17)
server_setup "$PORT" "login: { fail_delay_ms = 50; lock_after = 20; };"
server_start
H() { "$TOOLS/hostile" -t "$(scaled 10)" "$@"; }
keys() { "$BIN/missive-keys" "$@"; }
# A password that occurs nowhere else, so that any copy of it shows.
PW=$(pwfile pw.zed 'Zebra-Quartz-0451')
check "useradd zed" "$BIN/missive-admin" useradd --password-file "$PW" zed Zed

# ---- user.key encrypted with the password ----
check "missive-keys client encrypts user.key with the password" \
	keys client --host 127.0.0.1 --port "$PORT" --password-file "$PW" zed "$T/zed"
k=$T/zed/user.key
expect_eq "user.key is an encrypted PKCS#8 key" "$(head -1 "$k")" \
	"-----BEGIN ENCRYPTED PRIVATE KEY-----"
expect_eq "... of mode 600" "$(stat -c %a "$k")" 600
asn=$(openssl asn1parse -in "$k" 2>&1)
expect_match "... PBES2" "$asn" 'OBJECT +:PBES2'
expect_match "... with scrypt" "$asn" 'OBJECT +:scrypt'
expect_match "... and AES-256-CBC" "$asn" 'OBJECT +:aes-256-cbc'
check_fails "openssl pkey without the passphrase cannot read it" \
	openssl pkey -in "$k" -noout -passin pass:
check_fails "... nor with another one" \
	openssl pkey -in "$k" -noout -passin pass:Zebra-Quartz-0452
check "openssl pkey with the password reads it" \
	openssl pkey -in "$k" -noout -passin "file:$PW"
expect_eq "... and it is the folder's key" \
	"$(openssl pkey -in "$k" -pubout -passin "file:$PW")" "$(cat "$T/zed/user.pub")"
out=$(keys client --password-file "$PW_OK" --device two zed "$T/zed2" 2>&1) && rc=0 || rc=$?
expect_eq "a password that is not the account's is refused" "$rc" 1
expect_contains "... saying so" "$out" "that is not the password of zed"
check_fails "... and no folder is made" test -e "$T/zed2"
out=$(keys client --device two zed "$T/zed2" </dev/null 2>&1) && rc=0 || rc=$?
expect_contains "without a terminal or a password file it says what to do" \
	"$out" "--no-passphrase"
check "--no-passphrase writes a clear key" \
	keys client --host 127.0.0.1 --port "$PORT" --no-passphrase --device bot zed "$T/bot"
expect_eq "... that openssl reads without a passphrase" \
	"$(openssl pkey -in "$T/bot/user.key" -pubout -passin pass:)" "$(cat "$T/bot/user.pub")"

expect_contains "missive --check tells an encrypted key" \
	"$("$BIN/missive" -c "$T/zed/client.conf" --check 2>&1)" "encrypted with your password"
expect_contains "... from a clear one" \
	"$("$BIN/missive" -c "$T/bot/client.conf" --check 2>&1)" "not encrypted"

# ---- the client opens it with the password ----
client_start z "$T/zed" "$PW"
wait_until 20 seen z "logged in" || true
expect_contains "the client logs in with the encrypted key" "$(client_out z)" "logged in"
say z TT
client_wait z
expect_eq "... and quits with status 0" "$RC" 0
client_start bot "$T/bot" "$PW"
wait_until 20 seen bot "logged in" || true
expect_contains "a folder with a clear key logs in too" "$(client_out bot)" "logged in"
say bot TT
client_wait bot
client_start wrong "$T/zed" "$(pwfile pw.wrong 'Zebra-Quartz-0452')"
client_wait wrong
expect_eq "a wrong password ends the client with status 1" "$RC" 1
expect_contains "... saying the key does not open with it" "$(client_out wrong)" \
	"does not open with this password"
expect_contains "... and what to do if the password changed" "$(client_out wrong)" \
	"missive-keys passphrase"

# ---- what the server gets is not the password ----
expect_eq "the password is nowhere in the server's log" \
	"$(grep -c 'Zebra-Quartz' "$T/server.log" || true)" 0
out=$(printf '0001|zed|Zebra-Quartz-0451\n!await 1001|\n' | H -s full "$T/bot/client.conf" script 2>&1 || true)
expect_contains "the server refuses the password itself in 0001" "$out" "< 1001|ERR|invalid"
s_zed=$(H "$T/bot/client.conf" secret 'Zebra-Quartz-0451')
out=$(printf '0001|zed|%s\n!await 1001|\n' "$s_zed" | H -s full "$T/bot/client.conf" script 2>&1 || true)
expect_contains "... and takes the login secret" "$out" "< 1001|OK|Zed"
expect_match "the secret is 32 bytes in base64" "$s_zed" '^[A-Za-z0-9+/]{43}=$'
s_u1=$(H "$T/c/user1/client.conf" secret 'Zebra-Quartz-0451')
check_fails "the same password gives another user another secret" test "$s_zed" = "$s_u1"
keys server-init "$T/other" >/dev/null
cp -a "$T/bot" "$T/zed-other"
cp "$T/other/server.pub" "$T/zed-other/server.pub"
s_other=$(H "$T/zed-other/client.conf" secret 'Zebra-Quartz-0451')
check_fails "... and another server key another secret" test "$s_zed" = "$s_other"
expect_match "the database holds an Argon2id of the secret" \
	"$(db_sql "SELECT user_password FROM users WHERE user_name='zed'")" '^\$argon2id\$v=19\$'

# ---- after a password change ----
NEW=$(pwfile pw.new 'Yak-Basalt-7788')
check "missive-admin passwd changes zed's password" \
	"$BIN/missive-admin" passwd --password-file "$NEW" zed
client_start old "$T/zed" "$NEW"
client_wait old
expect_eq "the key does not open with the new password (status 1)" "$RC" 1
check "missive-keys passphrase encrypts the key with the new password" \
	keys passphrase --old-password-file "$PW" --password-file "$NEW" "$T/zed"
check "... which openssl reads with it" \
	openssl pkey -in "$k" -noout -passin "file:$NEW"
check_fails "... and not with the old one" \
	openssl pkey -in "$k" -noout -passin "file:$PW"
client_start new "$T/zed" "$NEW"
wait_until 20 seen new "logged in" || true
expect_contains "the client logs in with the new password" "$(client_out new)" "logged in"
say new TT
client_wait new
expect_eq "... and quits with status 0" "$RC" 0
out=$(keys passphrase --old-password-file "$PW" --password-file "$NEW" "$T/zed" 2>&1) && rc=0 || rc=$?
expect_eq "a wrong current passphrase is refused" "$rc" 1
expect_contains "... clearly" "$out" "does not open with this passphrase"

done_testing
