#!/usr/bin/env bash
# Before authentication (docs/SECURITY.md, "Threat model"): what a peer
# without a login can make the server do, and what an enrolled user can
# do to another's account.  tests/tools/hostile plays the attacker:
# handshakes with a huge public exponent, a garbage signature or an
# unenrolled key are refused before any RSA work; a user who names
# another's account with their own key cannot lock that account; a key
# revoked (an account disabled) while its session is open is closed
# within about a second, and the client says why and does not reconnect.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

PORT=$(test_port 0)
LOCK=$(scaled 30)
server_setup "$PORT" "limits: { conn_rate_per_addr = 0; handshake_timeout = $(scaled 5); };
login: { fail_delay_ms = 20; lock_after = 3; lock_seconds = $LOCK; };"
# Listen on both families: the attacker comes from ::1, the victim from
# 127.0.0.1, so that the attacker's address lock is not the victim's.
sed -i 's/address = "127.0.0.1"/address = "::"/' "$SERVER_CONF"
sed -i 's/host = "127.0.0.1"/host = "::1"/' "$T/c/user2/client.conf"
server_start
H() { "$MISSIVE_TOOLS/hostile" -t "$(scaled 10)" "$@"; }

MARK=0
mark() { MARK=$(wc -l <"$T/server.log"); }
new_log() { tail -n +"$((MARK + 1))" "$T/server.log"; }

# ---- targeted lockout: user2's key names user1 ----
mark
for i in 1 2; do
	printf '0001|user1|wrong%s\n!await 1001|\n' 1 2 3 |
		H "$T/c/user2/client.conf" script >"$T/tl$i.hout" 2>&1 || true
done
cat "$T"/tl*.hout >"$T/tl.all"
expect_eq "user2's key naming user1: every attempt refused" \
	"$(grep -c '^< 1001|ERR|' "$T/tl.all")" 6
expect_match "... at once, as not the key's owner" "$(new_log)" \
	"names user1, but key SHA256:.* is user2's"
expect_match "... the lock falls on user2's key and address" "$(new_log)" \
	"login locked key=SHA256:.* addr=::1 for $LOCK s after 3 failures \\(naming user1, which is not locked\\)"
if new_log | grep -q "login locked user=user1"; then
	not_ok "... never on user1's account" "$(new_log | grep 'login locked')"
else
	ok "... never on user1's account"
fi
expect_eq "... nor in the database" \
	"$(db_sql "SELECT failed_logins FROM users WHERE user_name='user1'")" 0
out=$(printf '0001|user1|%s\n!await 1001|\n' \
	"$(H "$T/c/user1/client.conf" secret 111111)" |
	H "$T/c/user1/client.conf" script 2>&1 || true)
expect_contains "user1 still logs in" "$out" "< 1001|OK|"
out=$(printf '0001|user2|%s\n!await 1001|\n' \
	"$(H "$T/c/user2/client.conf" secret 111111)" |
	H "$T/c/user2/client.conf" script 2>&1 || true)
expect_contains "user2's key is locked for now, even with its own password" \
	"$out" "< 1001|ERR|locked"

# ---- hostile handshakes: refused before any RSA work ----
C3=$T/c/user3/client.conf
mark
out=$(H "$C3" handshakes 10 huge-e 2>&1 || true)
expect_contains "a key with the exponent n - 2 and a garbage signature: all refused" \
	"$out" "handshakes: 10 sent, 10 closed, 0 refused (1199), 0 finished, 0 timed out"
expect_eq "... never verified: each one's key was unknown, so no RSA work at all" \
	"$(new_log | grep -c 'KeyExchange refused: signature does not verify' || true)" 0
expect_match "... the few allowed a refusal failed on the key, not the signature" \
	"$(new_log)" 'KeyExchange refused: key is not RSA of an accepted size, e = 65537'
out=$(H "$C3" handshakes 10 unenrolled 2>&1 || true)
n=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) refused (1199).*/\1/p')
if [ -n "$n" ] && [ "$n" -le 3 ] && printf '%s\n' "$out" | grep -q ' 0 finished, 0 timed out'; then
	ok "10 unenrolled keys: at most 3 told so in an authenticated 1199 ($n)"
else
	not_ok "10 unenrolled keys: at most 3 told so in an authenticated 1199" "$out"
fi
expect_match "... the others closed without RSA work" "$(new_log)" \
	'is not enrolled \(closed without a refusal: too many of them\)'
out=$(H "$C3" handshakes 5 garbage 2>&1 || true)
expect_contains "an enrolled key with a garbage signature: refused" \
	"$out" "handshakes: 5 sent, 5 closed"
out=$(H "$C3" handshakes 3 valid 2>&1 || true)
expect_contains "... and the real key still finishes its handshakes" \
	"$out" "handshakes: 3 sent, 0 closed, 0 refused (1199), 3 finished"

# ---- a key enrolled a moment ago is not refused ----
"$BIN/missive-keys" client --no-passphrase --host 127.0.0.1 --port "$PORT" --device fresh \
	user3 "$T/c/fresh" >/dev/null
out=$(H "$T/c/fresh/client.conf" handshakes 1 valid 2>&1 || true)
expect_contains "a key enrolled a moment ago finishes its handshake at once" \
	"$out" "1 finished"

# ---- revocation closes the live session within about a second ----
printf 'reconnect: { min_ms = 200; max_ms = 1000; };\n' >>"$T/c/fresh/client.conf"
client_start fresh "$T/c/fresh"
wait_until 20 seen fresh "logged in" || true
fp=$("$BIN/missive-keys" fingerprint "$T/c/fresh/user.pub" | awk '{print $2}')
mark
t0=$(date +%s%N)
"$BIN/missive-admin" revoke "$fp" >/dev/null
wait_until 10 seen fresh "revoked" || true
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
if seen fresh "revoked" && [ "$ms" -lt "$(scaled 2500)" ]; then
	ok "a revoked key's session is closed within about a second ($ms ms)"
else
	not_ok "a revoked key's session is closed within about a second" \
		"$ms ms: $(client_out fresh | tail -3)"
fi
client_wait fresh
expect_eq "... the client ends (status 6), it does not reconnect" "$RC" 6
expect_match "... the server logs why" "$(new_log)" \
	"disconnect .* user=user3 reason=revoked: this client key has been revoked"
expect_eq "... and logs no reconnect of that key" \
	"$(new_log | grep -c "handshake .*key=$fp" || true)" 0

# ---- disabling an account closes its sessions too ----
client_start u1 "$T/c/user1"
wait_until 20 seen u1 "logged in" || true
mark
"$BIN/missive-admin" disable user1 >/dev/null
wait_until 10 seen u1 "disabled" || true
expect_contains "disabling user1 closes its session" "$(client_out u1)" "disabled"
client_wait u1
expect_eq "... and the client ends (status 6)" "$RC" 6
"$BIN/missive-admin" enable user1 >/dev/null

done_testing
