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
out=$(printf '0001|user1|111111\n!await 1001|\n' | H "$T/c/user1/client.conf" script 2>&1 || true)
expect_contains "user1 still logs in" "$out" "< 1001|OK|"
out=$(printf '0001|user2|111111\n!await 1001|\n' | H "$T/c/user2/client.conf" script 2>&1 || true)
expect_contains "user2's key is locked for now, even with its own password" \
	"$out" "< 1001|ERR|locked"

done_testing
