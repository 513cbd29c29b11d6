#!/usr/bin/env bash
# A secure session end to end, with real processes: missived against the
# private MariaDB, three line-mode clients.  Chat reaches the others once,
# in order, never the sender; wrong passwords, a substituted server key, a
# key enrolled for someone else and a key enrolled for nobody are refused;
# quitting, being killed mid-record and going silent are announced; a
# damaged record closes only that connection; a copy of a client folder
# logging in replaces the first (one connection per device); a database
# outage refuses logins and lines, saying so; nothing readable crosses
# the wire; SIGHUP reopens the log; SIGTERM says goodbye.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

TOOLS=${MISSIVE_TOOLS:-$REPO/build/san/tests/tools}
PORT=$(test_port 4)
PROXY_PORT=$(test_port 14)
# A short keepalive makes the silent-peer test quick; under valgrind
# (MISSIVE_TIME_FACTOR) a client busy decrypting the longest line on a
# loaded machine can take longer than 3 s to answer a ping.
server_setup "$PORT" "limits: { keepalive_interval = $(scaled 1); idle_timeout = $(scaled 3); };
login: { fail_delay_ms = 100; lock_after = 4; lock_seconds = 3; };"

# Capture the loopback traffic of the whole session (if tshark is here).
CAPTURE=0
if command -v tshark >/dev/null 2>&1; then
	tshark -i lo -f "tcp port $PORT" -w "$T/wire.pcap" >"$T/tshark.log" 2>&1 &
	register_pid $!
	TSHARK_PID=$!
	wait_until 20 grep -q "Capturing on" "$T/tshark.log" && CAPTURE=1
fi

server_start

# ---- three users log in ----
client_start a "$T/c/user1"
wait_until 20 seen a "logged in" || true
client_start b "$T/c/user2"
wait_until 20 seen b "logged in" || true
client_start c "$T/c/user3"
wait_until 20 seen c "logged in" || true
for n in a b c; do
	expect_contains "client $n logs in with its folder and password" \
		"$(client_out $n)" "logged in"
done
expect_match "the server logs each login in one stable line" "$(server_log)" \
	'info login ok user=user1 addr=127\.0\.0\.1 id=[0-9]+ key=SHA256:'
expect_eq "three successful logins logged" \
	"$(grep -c 'login ok user=user[123] ' "$T/server.log")" 3
wait_until 10 seen a "user3" || true
expect_match "user1 sees user2 and user3 join" "$(client_out a)" 'user3.*join'

# ---- chat: everyone else, once, in order, no echo ----
for i in 1 2 3 4 5; do say a "from-alice-$i"; done
say b 'from-bob with | pipe and ünïcödé'
wait_until 10 seen c "from-alice-5" || true
wait_until 10 seen c "from-bob with" || true
wait_until 10 seen a "from-bob with" || true
wait_until 10 seen b "from-alice-5" || true
for n in b c; do
	expect_eq "client $n got alice's 5 lines once each, in order" \
		"$(grep -o 'from-alice-[0-9]' "$T/$n.out" | tr '\n' ' ')" \
		"from-alice-1 from-alice-2 from-alice-3 from-alice-4 from-alice-5 "
done
expect_eq "alice's own lines are not echoed to her" \
	"$(shown a | grep -c 'from-alice-' || true)" 0
wait_until 10 seen a "✓ #lobby: from-alice-5" || true
expect_eq "... she sees each stored instead (✓), in order" \
	"$(sed -n 's/^\*\*\* ✓ #lobby: \(from-alice-[0-9]\)$/\1/p' "$T/a.out" | tr '\n' ' ')" \
	"from-alice-1 from-alice-2 from-alice-3 from-alice-4 from-alice-5 "
expect_match "chat is shown as [HH:MM:SS] #room <nickname> text" "$(client_out c)" \
	'^\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\] #lobby <Alice> from-alice-1$'
expect_match "text with | and UTF-8 arrives intact" "$(client_out a)" \
	'<Bob> from-bob with \| pipe and ünïcödé$'
expect_eq "bob's line reached alice once" "$(grep -c 'from-bob with' "$T/a.out")" 1
expect_match "the console shows chat only as ciphertext size and prefix" \
	"$(server_log)" 'chat id=[0-9]+ user=user1 conv=lobby bytes=[0-9]+ devices=[0-9]+ e2e=[A-Za-z0-9+/=]{16}\.\.\.$'
if grep -q 'from-alice' "$T/server.log"; then
	not_ok "no chat text in the server log" "$(grep 'from-alice' "$T/server.log")"
else
	ok "no chat text in the server log"
fi

# The longest chat text still fits, encrypted, in its delivery:
# floor((65536 - 512) / 4) * 3 - 186 bytes (docs/PROTOCOL.md section 8.2).
long=$(head -c 48582 /dev/zero | tr '\0' 'y')
say a "$long"
# "[HH:MM:SS] #lobby <Alice> " is 26 bytes (grep cannot count to 48582).
longest() { awk '/^\[..:..:..\] #lobby <Alice> y+$/ && length($0) == 26 + 48582' "$T/b.out"; }
has_longest() { [ -n "$(longest)" ]; }
wait_until 10 has_longest || true
expect_eq "a chat line of the longest size arrives whole" "$(longest | wc -l)" 1
say a "after-the-longest"
wait_until 10 seen c "after-the-longest" || true
expect_contains "... and everyone stays connected" "$(client_out c)" "after-the-longest"

say c "/who"
wait_until 10 seen c "user2" || true
expect_match "/who lists the three users" "$(client_out c)" 'user1.*user2.*user3|3'

# ---- wrong password: refused, no session, throttled ----
client_start bad "$T/c/user1" "$(pwfile pw.bad 111112)"
client_wait bad
expect_eq "a wrong password ends the client with status 3" "$RC" 3
expect_contains "... and says the login was refused" "$(client_out bad)" "invalid"
expect_match "the server logs the failure for fail2ban" "$(server_log)" \
	'warn login failed user=user1 addr=127\.0\.0\.1 reason=invalid id=[0-9]+$'
expect_eq "... and the database counts it" \
	"$(db_sql "SELECT failed_logins FROM users WHERE user_name='user1'")" 1

# ---- a substituted server key: refused with both fingerprints ----
cp -a "$T/c/user1" "$T/c/mitm"
"$BIN/missive-keys" server-init "$T/other" >/dev/null
cp "$T/other/server.pub" "$T/c/mitm/server.pub"
client_start mitm "$T/c/mitm"
client_wait mitm
expect_eq "a client whose pinned key differs exits with status 4" "$RC" 4
expect_contains "... naming the pinned fingerprint" "$(client_out mitm)" \
	"$("$BIN/missive-keys" fingerprint "$T/other/server.pub" | awk '{print $2}')"
expect_contains "... and the presented one" "$(client_out mitm)" \
	"$("$BIN/missive-keys" fingerprint "$T/server/server.pub" | awk '{print $2}')"

# ---- user2's key cannot log in as user1, even with user1's password ----
cp -a "$T/c/user2" "$T/c/swap"
sed -i 's/^user = "user2";/user = "user1";/' "$T/c/swap/client.conf"
client_start swap "$T/c/swap"
client_wait swap
expect_eq "a key enrolled for user2 cannot log in as user1 (status 3)" "$RC" 3
expect_match "... the server says why in its log" "$(server_log)" \
	'login failed user=user1 addr=127\.0\.0\.1 reason=invalid'

# ---- a key enrolled for nobody: refused at the handshake ----
cp -a "$T/c/user3" "$T/c/stranger"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 \
	-out "$T/c/stranger/user.key" 2>/dev/null
chmod 600 "$T/c/stranger/user.key"
openssl pkey -in "$T/c/stranger/user.key" -pubout -out "$T/c/stranger/user.pub"
client_start stranger "$T/c/stranger"
client_wait stranger
expect_eq "a key enrolled for nobody ends the client with status 6" "$RC" 6
expect_contains "... and the client says the key is not enrolled" \
	"$(client_out stranger)" "enrol"
expect_match "... the server logs it" "$(server_log)" 'reason=not_enrolled'

# ---- a revoked key is refused at the next handshake ----
"$BIN/missive-keys" client --no-passphrase --host 127.0.0.1 --port "$PORT" --device old \
	user3 "$T/c/revoked2" >/dev/null
printf 'reconnect: { min_ms = 200; max_ms = 1000; };\n' >>"$T/c/revoked2/client.conf"
fp=$("$BIN/missive-keys" fingerprint "$T/c/revoked2/user.pub" | awk '{print $2}')
out=$("$BIN/missive-admin" revoke "$fp" 2>&1)
expect_contains "missive-admin revoke revokes the key" "$out" "$fp: revoked"
expect_eq "... in the database" \
	"$(db_sql "SELECT revoked FROM client_keys WHERE fingerprint='$fp'")" 1
check_fails "revoking an unknown fingerprint fails" \
	"$BIN/missive-admin" revoke SHA256:nosuchkey
client_start rev "$T/c/revoked2"
client_wait rev
expect_eq "a client with a revoked key ends with status 6" "$RC" 6
# (A copy of user3's folder would be user3's connected device itself,
# which one connection per device does not allow: its live session
# shows that the other key still works.)
say c "user3-still-here"
wait_until 10 seen a "user3-still-here" || true
expect_contains "user3's other key still chats" "$(client_out a)" "user3-still-here"

# ---- a flipped bit closes that connection only ----
"$TOOLS/fault-proxy" "$PROXY_PORT" "$PORT" >"$T/proxy.out" 2>&1 &
PROXY_PID=$!
register_pid "$PROXY_PID"
wait_until 10 grep -q ready "$T/proxy.out" || true
cp -a "$T/c/user2" "$T/c/viaproxy"
sed -i "s/port = $PORT;/port = $PROXY_PORT;/" "$T/c/viaproxy/client.conf"
client_start p "$T/c/viaproxy"
wait_until 20 seen p "logged in" || true
expect_contains "a client logs in through the fault proxy" "$(client_out p)" "logged in"
# A copy of a folder is the same device: one connection each (5.1).
client_wait b
expect_eq "the folder it copies, logged in already, is replaced (status 7)" \
	"$RC" 7
expect_contains "... and says why" "$(client_out b)" "logged in again elsewhere"
say p "intact-via-proxy"
wait_until 10 seen a "intact-via-proxy" || true
expect_contains "its first line arrives" "$(client_out a)" "intact-via-proxy"
kill -USR1 "$PROXY_PID"
say p "damaged-via-proxy"
wait_until 10 grep -q "record refused" "$T/server.log" || true
expect_match "the server refuses the damaged record and closes" "$(server_log)" \
	'disconnect .* user=user2 reason=protocol: record refused: MAC invalid|disconnect .* user=user2 reason=protocol: record refused'
expect_contains "the proxy flipped a bit" "$(cat "$T/proxy.out")" "flipped"
if grep -q "damaged-via-proxy" "$T/a.out" "$T/c.out"; then
	not_ok "the damaged line is delivered to nobody"
else
	ok "the damaged line is delivered to nobody"
fi
say a "after-the-flip"
wait_until 10 seen c "after-the-flip" || true
expect_contains "the others keep chatting" "$(client_out c)" "after-the-flip"
kill "${CLIENT_PID[p]}" 2>/dev/null || true

# ---- a peer killed mid-record is removed and announced ----
client_start k "$T/c/viaproxy"
wait_until 20 seen k "logged in" || true
kill -USR2 "$PROXY_PID"
say k "this-line-is-cut-in-half"
wait_until 10 grep -q "^cut" "$T/proxy.out" || true
kill -KILL "${CLIENT_PID[k]}" "$PROXY_PID"
wait "${CLIENT_PID[k]}" "$PROXY_PID" 2>/dev/null || true
wait_until 10 grep -q "reason=closed" "$T/server.log" || true
wait_until 10 seen a "left" || true
expect_match "the server removes the dead peer" "$(server_log)" \
	'disconnect .* user=user2 reason=closed'
expect_match "the others see it leave" "$(client_out a)" 'user2.*left'
if grep -q "this-line-is-cut" "$T/a.out" "$T/c.out"; then
	not_ok "half a record delivers nothing"
else
	ok "half a record delivers nothing"
fi

# ---- a silent peer is found by keepalive and removed ----
client_start s "$T/c/user2"
wait_until 20 seen s "logged in" || true
kill -STOP "${CLIENT_PID[s]}"
wait_until 15 grep -q "user=user2 reason=timeout" "$T/server.log" || true
expect_match "a stopped client is dropped after idle_timeout" "$(server_log)" \
	'disconnect .* user=user2 reason=timeout'
wait_until 10 seen c "timeout" || true
expect_match "the others see it time out" "$(client_out c)" 'user2.*left.*timeout'
kill -KILL "${CLIENT_PID[s]}"
wait "${CLIENT_PID[s]}" 2>/dev/null || true

# ---- the database goes away: logins and lines refused, said so ----
"$REPO/scripts/db.sh" stop >/dev/null
client_start d "$T/c/user2"
wait_until 20 seen d "unavailable" || true
expect_contains "a login during the outage is told 'unavailable'" \
	"$(client_out d)" "unavailable"
say a "during-the-outage"
wait_until 10 seen a "was not stored" || true
expect_contains "a line during the outage is refused, not lost unsaid" \
	"$(client_out a)" "the server's database is down"
if grep -q "during-the-outage" "$T/c.out"; then
	not_ok "... and reaches nobody"
else
	ok "... and reaches nobody"
fi
"$REPO/scripts/db.sh" start >/dev/null
wait_until 30 seen d "logged in" || true
expect_contains "once the database is back, the waiting client logs in" \
	"$(client_out d)" "logged in"
say d "back-again"
wait_until 10 seen a "back-again" || true
expect_contains "... and chats" "$(client_out a)" "back-again"

# ---- quit: TT and /quit leave cleanly ----
say d "TT"
client_wait d
expect_eq "TT quits with status 0" "$RC" 0
wait_until 10 grep -q "(user2) left (quit)" "$T/a.out" || true
expect_match "the others see the quit" "$(client_out a)" 'user2.*left.*quit'

# ---- the wire carries nothing readable ----
if [ "$CAPTURE" -eq 1 ]; then
	sleep 0.5 # tshark writes its buffer on its own schedule
	kill -INT "$TSHARK_PID"
	wait_until 10 _gone "$TSHARK_PID" || true
	# One line of hex per packet; search strings are hex-encoded too.
	tshark -r "$T/wire.pcap" -T fields -e tcp.payload 2>/dev/null |
		tr -d ':' >"$T/wire.hex"
	hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
	expect_match "the capture holds the session (a ClientHello in clear)" \
		"$(grep -c "^$(hex '0100|3|')" "$T/wire.hex" || true)" '^[1-9]'
	for s in 111111 from-alice from-bob during-the-outage back-again Alice; do
		if grep -q "$(hex "$s")" "$T/wire.hex"; then
			not_ok "'$s' does not appear on the wire"
		else
			ok "'$s' does not appear on the wire"
		fi
	done
else
	not_ok "tshark captures the session" "tshark is missing: scripts/deps.sh installs it"
fi

# ---- SIGHUP reopens the log (rotation) ----
mv "$T/server.log" "$T/server.log.1"
kill -HUP "$SRV_PID"
wait_until 10 grep -q "log reopened (SIGHUP)" "$T/server.log" || true
expect_contains "after SIGHUP the server writes to a new log file" \
	"$(cat "$T/server.log" 2>/dev/null)" "log reopened (SIGHUP)"

# ---- SIGTERM: a notice to everyone, exit 0 ----
kill -TERM "$SRV_PID"
wait_until 15 _gone "$SRV_PID" || true
rc=0
wait "$SRV_PID" || rc=$?
expect_eq "missived exits 0 on SIGTERM" "$rc" 0
wait_until 10 seen a "shut" || true
expect_contains "clients are told the server is shutting down" \
	"$(client_out a)" "shutting down"
expect_match "the server logs the shutdown" "$(server_log)" 'shutdown: [0-9]+ connections closed'

done_testing
