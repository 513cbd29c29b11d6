#!/usr/bin/env bash
# Key distribution: the server key, client folders that hold exactly what
# their user needs and work after being copied, enrollment in MariaDB,
# fingerprints equal to openssl's, and envelopes that the openssl command
# line opens and verifies (and the other way round).
. "$(dirname "$0")/lib.sh"

TOOLS=${MISSIVE_TOOLS:-$REPO/build/san/tests/tools}
db_start
"$REPO/scripts/db.sh" sql "$REPO/sql/seed.sql"
conf=$("$REPO/scripts/server-conf.sh" "$T/server")
export MISSIVE_SERVER_CONF=$conf
# Clear keys here (the envelope checks read user.key); 17-password.sh
# tests the encrypted default.
keys() { "$BIN/missive-keys" "$@"; }
cli() { "$BIN/missive-keys" client --no-passphrase "$@"; }
mode() { stat -c %a "$1"; }
# The fingerprint as openssl computes it: SHA-256 of the DER public key.
ossl_fp() {
	echo "SHA256:$(openssl pkey -pubin -in "$1" -outform DER |
		openssl dgst -sha256 -binary | base64 | tr -d '=')"
}

# Server key pair.
check "server-init creates the server key pair" keys server-init "$T/server"
expect_eq "server.key is mode 600" "$(mode "$T/server/server.key")" 600
expect_match "server.key is PKCS#8 PEM" "$(head -1 "$T/server/server.key")" '^-----BEGIN PRIVATE KEY-----$'
expect_match "openssl reads it as RSA-3072" \
	"$(openssl pkey -in "$T/server/server.key" -noout -text 2>&1 | head -1)" '3072 bit'
check_fails "server-init refuses to replace an existing key" keys server-init "$T/server"
check "missived --check accepts the config, key and DB account" \
	"$BIN/missived" -c "$conf" --check

# A client folder for user1 (the parent directory must exist).
mkdir -p "$T/clients"
out=$(cli user1 "$T/clients/user1" 2>&1) && rc=0 || rc=$?
expect_eq "client folder for user1 is made" "$rc" 0
f=$T/clients/user1
expect_eq "the folder holds exactly client.conf, known_keys, server.pub, user.key, user.pub" \
	"$(ls -A "$f" | sort | tr '\n' ' ')" "client.conf known_keys server.pub user.key user.pub "
expect_eq "the folder is mode 700" "$(mode "$f")" 700
expect_eq "user.key is mode 600" "$(mode "$f/user.key")" 600
check_fails "no server private key in the folder" grep -rq "PRIVATE KEY" "$f/server.pub" "$f/user.pub" "$f/client.conf"
check "server.pub is the server's public key" cmp "$f/server.pub" "$T/server/server.pub"
fp=$(keys fingerprint "$f/user.pub" | awk '{print $2}')
expect_eq "missive-keys fingerprint equals openssl's" "$fp" "$(ossl_fp "$f/user.pub")"
expect_eq "the private key file has the same fingerprint" \
	"$(keys fingerprint "$f/user.key" | awk '{print $2}')" "$fp"
expect_contains "the output shows the user key fingerprint" "$out" "user key:          $fp"
expect_eq "the key is enrolled for user1 with its fingerprint" \
	"$(db_sql "SELECT u.user_name, k.device, k.fingerprint FROM client_keys k JOIN users u USING (user_id)")" \
	"$(printf 'user1\tdefault\t%s' "$fp")"
expect_eq "the enrolled PEM is the folder's public key" \
	"$(db_sql "SELECT public_key_pem FROM client_keys WHERE fingerprint='$fp'" | sed 's/\\n/\n/g')" \
	"$(cat "$f/user.pub")"

# Copied elsewhere, the folder still works (paths are relative to it).
mkdir -p "$T/elsewhere"
cp -a "$f" "$T/elsewhere/copy"
out=$(cd / && "$BIN/missive" -c "$T/elsewhere/copy/client.conf" --check 2>&1) && rc=0 || rc=$?
expect_eq "a copied folder loads from another directory" "$rc" 0
expect_contains "... with the user's key" "$out" "your key $fp"
expect_contains "... and the pinned server key" "$out" "pinned key $(ossl_fp "$T/server/server.pub")"
chmod 644 "$T/elsewhere/copy/user.key"
out=$("$BIN/missive" -c "$T/elsewhere/copy/client.conf" --check 2>&1) && rc=0 || rc=$?
expect_match "a private key readable by others is refused" "$out" "readable by others"

# Refusals leave nothing behind.
out=$(cli nobody "$T/clients/nobody" 2>&1) && rc=0 || rc=$?
expect_match "a folder for a missing user is refused" "$out" "no such user"
check_fails "... and no folder is left" test -e "$T/clients/nobody"
out=$(cli user1 "$T/clients/user1b" 2>&1) && rc=0 || rc=$?
expect_match "a second folder under the same device label is refused" "$out" "already has a key for device"
check_fails "... and its files are removed" test -e "$T/clients/user1b"
check_fails "an existing non-empty folder is never overwritten" cli user2 "$T/clients/user1"
check "a second device for user1 is enrolled" cli --device laptop user1 "$T/clients/user1-laptop"
expect_eq "user1 now has two keys" \
	"$(db_sql "SELECT COUNT(*) FROM client_keys k JOIN users u USING (user_id) WHERE u.user_name='user1'")" 2
check "folders for user2 and user3" sh -c "'$BIN/missive-keys' client --no-passphrase user2 '$T/clients/user2' &&
	'$BIN/missive-keys' client --no-passphrase user3 '$T/clients/user3'"
check_fails "no folder holds another user's private key" sh -c \
	"cmp -s '$T/clients/user1/user.key' '$T/clients/user2/user.key'"

# Envelopes are standard: openssl opens and verifies what keydist seals.
env=$T/env
mkdir -p "$env"
printf 'client hello|server hello|%s' "$(openssl rand -hex 16)" > "$env/transcript"
check "keydist seals user1 -> server" "$TOOLS/envelope-tool" seal \
	"$T/server/server.pub" "$f/user.key" "$env/transcript" "$env"
expect_eq "the wrapped key is 384 bytes (RSA-3072)" "$(stat -c %s "$env/wrapped.bin")" 384
openssl pkeyutl -decrypt -inkey "$T/server/server.key" -in "$env/wrapped.bin" \
	-out "$env/opened.bin" -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 2>"$env/err" || true
check "openssl pkeyutl (OAEP, SHA-256) opens it to the same session key" \
	cmp "$env/opened.bin" "$env/key.bin"
# The signed bytes, built by hand from docs: label, uint16 length, wrapped, transcript.
{ printf 'missive envelope v2 handshake\n'; printf '\001\200'; cat "$env/wrapped.bin" "$env/transcript"; } > "$env/signed.bin"
check "openssl dgst -sha256 (PSS) verifies its signature" \
	openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
	-verify "$f/user.pub" -signature "$env/sig.bin" "$env/signed.bin"
printf 'X' >> "$env/transcript"
{ printf 'missive envelope v2 handshake\n'; printf '\001\200'; cat "$env/wrapped.bin" "$env/transcript"; } > "$env/signed2.bin"
check_fails "openssl refuses the signature over an altered transcript" \
	openssl dgst -sha256 -sigopt rsa_padding_mode:pss -verify "$f/user.pub" \
	-signature "$env/sig.bin" "$env/signed2.bin"

# ... and keydist opens an envelope made with the openssl command line.
env2=$T/env2
mkdir -p "$env2"
printf 'made by openssl' > "$env2/transcript"
openssl rand 32 > "$env2/key.bin"
openssl pkeyutl -encrypt -pubin -inkey "$T/server/server.pub" -in "$env2/key.bin" \
	-out "$env2/wrapped.bin" -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
{ printf 'missive envelope v2 handshake\n'; printf '\001\200'; cat "$env2/wrapped.bin" "$env2/transcript"; } > "$env2/signed.bin"
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
	-sign "$f/user.key" -out "$env2/sig.bin" "$env2/signed.bin"
out=$("$TOOLS/envelope-tool" open "$T/server/server.key" "$f/user.pub" "$env2/transcript" "$env2" 2>&1) || true
expect_eq "keydist opens an openssl-made envelope to the same key" "$out" "$(od -An -tx1 "$env2/key.bin" | tr -d ' \n')"
out=$("$TOOLS/envelope-tool" open "$T/server/server.key" "$T/clients/user2/user.pub" "$env2/transcript" "$env2" 2>&1) || true
expect_match "... and refuses it as coming from another user" "$out" "signature does not verify"

done_testing
