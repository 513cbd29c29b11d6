#!/usr/bin/env bash
# Hostile input against a running server, with tests/tools/hostile (a
# client that speaks the handshake and records itself, so it can break the
# rules): garbage before, during and after the handshake, oversize and
# unterminated frames, malformed frames of every kind, payloads the relay
# must refuse (non-canonical base64, shorter than any real one), SQL injection,
# replayed, foreign and truncated records, a replayed handshake, one
# flipped byte at every offset of a session, 1,000 connections that never
# finish a handshake, and a login flood.  Each case checks the answer (the
# error frame or the close), the server's log line, and that two ordinary
# users (line-mode clients) keep chatting throughout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

PORT=$(test_port 7)
# handshake_timeout, lock_seconds and how long the hostile client waits
# for an answer: longer under valgrind (MISSIVE_TIME_FACTOR), where a
# handshake on a busy machine can take more than 3 s, and the login
# flood's four connections more than 4.
HS=$(scaled 3)
LOCK=$(scaled 4)
server_setup "$PORT" "limits: { max_clients = 900; conn_rate_per_addr = 0;
  handshake_timeout = $HS; idle_timeout = 0; keepalive_interval = 0;
  max_frame = 8192; };
login: { fail_delay_ms = 50; lock_after = 5; lock_seconds = $LOCK; };"
server_start
# hostile [-t SECS] ...: SECS for an answer (10 unless scaled).
H() { "$MISSIVE_TOOLS/hostile" -t "$(scaled 10)" "$@"; }
C1=$T/c/user1/client.conf
# What the client sends for the password 111111 (never the password).
LOGIN="0001|user1|$(H "$C1" secret 111111)"
# A message id (0002, version 3).
MIDA=0123456789abcdef0123456789abcdef
MIDB=fedcba9876543210fedcba9876543210

# The shortest message and sender-key blob the relay takes (PROTO_MSG_MIN,
# PROTO_BLOB_MIN): base64 of 124 and 860 bytes.
MSG=$(printf 'QUJD%.0s' $(seq 42))
BLOB=$(printf 'QUJD%.0s' $(seq 287))

# Two ordinary users who must not notice any of it.
client_start b "$T/c/user2"
client_start c "$T/c/user3"
wait_until 30 seen b "logged in" || true
wait_until 30 seen c "logged in" || true
wait_until 10 seen b "Carol" || true
NCHAT=0
# others_chat CASE: a line from user2 reaches user3.
others_chat() {
	NCHAT=$((NCHAT + 1))
	say b "still-here-$NCHAT"
	if wait_until 15 seen c "still-here-$NCHAT"; then
		ok "$1: the other users keep chatting"
	else
		not_ok "$1: the other users keep chatting" "$(client_out c)"
	fi
}

MARK=0
# mark: remember where the log is; new_log: the log since the mark.
mark() { MARK=$(wc -l <"$T/server.log"); }
new_log() { tail -n +"$((MARK + 1))" "$T/server.log"; }
# wait_log REGEX: until the log since the mark has it (10 s).
has_log() { new_log | grep -qE -- "$1"; }
wait_log() { wait_until 10 has_log "$1" || true; }

# hostile_script NAME [OPTIONS]: run a script from stdin; OUT is its output.
hostile_script() {
	local name=$1
	shift
	H "$@" "$C1" script >"$T/$name.hout" 2>&1 || true
	OUT=$(cat "$T/$name.hout")
}

# ---- garbage before, during and after the handshake ----
mark
hostile_script pre -s none <<'EOF'
!raw GET / HTTP/1.1\r\nHost: x\r\n\r\n
!close
EOF
expect_eq "garbage before the handshake: closed" "$OUT" "closed"
wait_log 'reason=handshake: ClientHello refused'
expect_match "... and logged" "$(new_log)" \
	'disconnect .* user=- reason=handshake: ClientHello refused: malformed'

mark
hostile_script during -s hello <<'EOF'
!raw \x00\x00\x00\x10this is no record at all
!close
EOF
expect_eq "garbage instead of the KeyExchange: closed" "$OUT" "closed"
wait_log 'reason=handshake: KeyExchange'
expect_match "... and logged" "$(new_log)" \
	'disconnect .* user=- reason=handshake: KeyExchange record'

mark
hostile_script after <<EOF
$LOGIN
!await 1001|
!raw \x00\x00\x00\x05abcde
!close
EOF
expect_match "garbage after the handshake: closed" "$OUT" '^closed$'
wait_log 'record refused'
expect_match "... and logged" "$(new_log)" \
	'disconnect .* user=user1 reason=protocol: record refused: malformed'
others_chat "garbage"

# ---- oversize and unterminated frames ----
mark
big=$(head -c 9000 /dev/zero | tr '\0' 'A')
hostile_script oversize <<EOF
$LOGIN
!await 1001|
0002|lobby|$MIDA|$big
!close
EOF
expect_match "a frame over max_frame (8192): closed" "$OUT" '^closed$'
wait_log 'record refused'
expect_match "... and logged" "$(new_log)" \
	'reason=protocol: record refused: input exceeds the configured limit'

mark
hostile_script slowloris -s none <<'EOF'
!raw 0100|2|AAAA
!close
EOF
expect_eq "a hello with no end, held open: closed" "$OUT" "closed"
wait_log 'reason=timeout'
expect_match "... after handshake_timeout, logged" "$(new_log)" \
	"user=- reason=timeout: no login within $HS s"

mark
hostile_script halfrec <<EOF
!half $LOGIN
!close
EOF
expect_match "half a record, held open: closed" "$OUT" '^closed$'
wait_log 'reason=timeout'
expect_match "... after handshake_timeout, logged" "$(new_log)" \
	"user=- reason=timeout: no login within $HS s"
others_chat "oversize and unterminated"

# ---- malformed frames: an error each, the connection stays ----
mark
hostile_script frames <<EOF
$LOGIN
!await 1001|
0099|x
!sync
0002|lobby|$MIDA|abc
!sync
0002|lobby|$MIDA|!!!!
!sync
0002
!sync
0011|a|b
!sync
0002|lob\0by|$MIDA|QUJD
!sync
0011|dev\nnot-a-frame
!sync
0011|\xff\xfe
!sync
0005|\xff\xfe\x00
!sync
0014|\xc3\x28
!sync
0002|@nobody|$MIDA|$MSG
!sync
0001|user2|111111
!sync
EOF
# Every error (1009, and 1021 for a line), in the order of the frames.
grep -E '^< 10(09|21)\|' <<<"$OUT" >"$T/frames.got" || true
cat >"$T/frames.want" <<'EOF'
< 1009|opcode|unknown opcode
< 1021|0123456789abcdef0123456789abcdef|text|not base64 of a plausible length
< 1021|0123456789abcdef0123456789abcdef|text|not base64 of a plausible length
< 1009|malformed|wrong fields for this opcode
< 1009|room|invalid room name
< 1009|malformed|wrong fields for this opcode
< 1009|malformed|a frame starts with a 4-digit opcode
< 1009|room|invalid room name
< 1009|malformed|wrong fields for this opcode
< 1009|malformed|invalid user name
< 1021|0123456789abcdef0123456789abcdef|user|no such user
< 1009|state|already logged in
EOF
check "unknown opcode, invalid base64 (twice), wrong field counts, '|' in a room name, NUL in a field, a newline in a field (its rest is no frame), non-UTF-8 room, NUL and non-UTF-8 token, non-UTF-8 user name, no such user, a second login: each its own 1009 (1021 for a line)" \
	diff "$T/frames.want" "$T/frames.got"
expect_contains "the part before a newline is a frame of its own" "$OUT" '< 1011|dev|0'
expect_eq "every sync answered: the connection stayed open" \
	"$(grep -c '^< 1005|sync' <<<"$OUT")" 12
wait_log 'error=state'
expect_match "refused frames are logged" "$(new_log)" \
	'refused frame id=[0-9]+ user=user1 error=opcode: unknown opcode'
if grep -qF 'not-a-frame' "$T/server.log"; then
	not_ok "the log holds none of the frames' content"
else
	ok "the log holds none of the frames' content"
fi
others_chat "malformed frames"

# ---- payloads the relay refuses (issue 22), never delivered ----
# Non-canonical base64 (non-zero trailing bits) and payloads shorter than
# the shortest real message or blob are refused (1021|mid|text for a line,
# 1009|text for a sender key); a listener, an account of its own in the
# lobby (a new device of a user the others know would be a key they have
# not accepted, which holds their lines), gets only the two that are
# fine, sent last.
mark
"$BIN/missive-admin" useradd --password-file "$(pwfile pw.listener 11111111)" listener Listener >/dev/null
MISSIVE_BIN=$BIN "$REPO/scripts/demo-passwords.sh" "$PW_OK" listener >/dev/null
device_folder listener "$T/c/listener"
C2=$T/c/listener/client.conf
wait_until 20 grep -q "user=listener room=lobby" "$T/server.log" || true
printf '%s\n' "0001|listener|$(H "$C2" secret 111111)" '!await 1022|' '!sync' \
	'!await 1002|' | H "$C2" script >"$T/listener.hout" 2>&1 &
LISTENER=$!
register_pid "$LISTENER"
wait_until 30 grep -q '^< 1005|sync' "$T/listener.hout" || true
FP2=$(fp_of "$T/c/listener")
hostile_script payloads <<EOF
$LOGIN
!await 1001|
0002|lobby|$MIDA|QR==
!sync
0002|lobby|$MIDA|QUJ=
!sync
0002|lobby|$MIDA|QUJD
!sync
0002|lobby|$MIDA|${MSG:4}
!sync
0002|lobby|$MIDA|${MSG%????}QR==
!sync
0015|lobby|$FP2|${BLOB:4}
!sync
0015|lobby|$FP2|${BLOB%????}QUJ=
!sync
0015|lobby|$FP2|$BLOB
!sync
0002|lobby|$MIDB|$MSG
!sync
EOF
grep -E '^< 10(09|21)\|' <<<"$OUT" >"$T/payloads.got" || true
{
	for _ in 1 2 3 4 5; do
		echo "< 1021|$MIDA|text|not base64 of a plausible length"
	done
	for _ in 1 2; do
		echo '< 1009|text|sender key not relayed: not base64 of a plausible length'
	done
} >"$T/payloads.want"
check "QR==, QUJ=, 3 bytes, 164 characters, 168 with trailing bits, a blob of 1144 and one with trailing bits: each 1009|text" \
	diff "$T/payloads.want" "$T/payloads.got"
expect_eq "... the connection stayed open" \
	"$(grep -c '^< 1005|sync' <<<"$OUT")" 9
wait "$LISTENER" || true
LOUT=$(cat "$T/listener.hout")
expect_eq "the listener got one sender key from user1: the 1148-character blob" \
	"$(grep -E '^< 1015\|[0-9]+\|lobby\|user1\|' <<<"$LOUT" | grep -c "|$BLOB\$")" 1
expect_eq "... and, of the rest, only the 168-character message" \
	"$(grep -cE '^< 10(02|15)\|' <<<"$LOUT")" 2
expect_match "... as its first 1002" "$(grep '^< 1002|' <<<"$LOUT")" \
	"\\|user1\\|.*\\|lobby\\|.*\\|$MSG\$"
wait_log 'error=text'
expect_match "refused payloads are logged" "$(new_log)" \
	'refused line id=[0-9]+ user=user1 error=text: not base64 of a plausible length'
others_chat "refused payloads"

# ---- SQL injection as user names and passwords ----
mark
users_before=$(db_sql "SELECT COUNT(*) FROM users")
hostile_script sqli-names <<'EOF'
0001|user1' OR '1'='1|x
!await 1001|
0001|x';DROP TABLE users;--|x
!await 1001|
EOF
hostile_script sqli-passwords <<'EOF'
0001|user1|' OR '1'='1' -- 
!await 1001|
0001|user1|x\\' OR 1=1 #
!await 1001|
EOF
expect_eq "injected user names are refused as invalid names" \
	"$(grep -c '^< 1001|ERR|invalid' "$T/sqli-names.hout")" 2
expect_eq "injected passwords are wrong passwords" \
	"$(grep -c '^< 1001|ERR|invalid' "$T/sqli-passwords.hout")" 2
expect_eq "the users table is intact" \
	"$(db_sql "SELECT COUNT(*) FROM users")" "$users_before"
wait_log 'login failed user=user1'
expect_match "... and the attempts are logged" "$(new_log)" \
	'login failed user=\(invalid\) addr=127\.0\.0\.1 reason=invalid'
expect_match "... with the user named where the name is valid" "$(new_log)" \
	'login failed user=user1 addr=127\.0\.0\.1 reason=invalid'
others_chat "SQL injection"

# ---- replayed, foreign and truncated records ----
mark
hostile_script replay <<EOF
$LOGIN
!await 1001|
0005|once
!replay
!close
EOF
expect_match "a replayed record: closed" "$OUT" '^closed$'
expect_contains "... after the first copy was answered" "$OUT" '< 1005|once'
wait_log 'record refused'
expect_match "... and logged as failing authentication" "$(new_log)" \
	'user=user1 reason=protocol: record refused: message authentication failed'

mark
hostile_script foreign <<EOF
$LOGIN
!await 1001|
!foreign 0005|foreign
!close
EOF
expect_match "a record from another session of the same user: closed" \
	"$OUT" '^closed$'
if grep -q '1005|foreign' "$T/foreign.hout"; then
	not_ok "... and not answered"
else
	ok "... and not answered"
fi
wait_log 'record refused'
expect_match "... and logged as failing authentication" "$(new_log)" \
	'user=user1 reason=protocol: record refused: message authentication failed'

mark
hostile_script trunc-next <<EOF
$LOGIN
!await 1001|
!half 0005|first
0005|second
!close
EOF
expect_match "a truncated record followed by another: closed" "$OUT" '^closed$'
wait_log 'record refused'
expect_match "... and logged as failing authentication" "$(new_log)" \
	'user=user1 reason=protocol: record refused: message authentication failed'

mark
hostile_script trunc-eof <<EOF
$LOGIN
!await 1001|
!half 0005|first
!eof
!close
EOF
expect_match "a truncated record, then the end: closed" "$OUT" '^closed$'
wait_log 'inside a record'
expect_match "... and logged as such" "$(new_log)" \
	'user=user1 reason=closed: peer closed inside a record or line \([0-9]+ bytes unused\)'

# An empty line inside a record (section 4): the frames before it are
# handled and answered, the ones after it are not, and the server closes
# without a 1010 (a broken record is never announced).
mark
hostile_script emptyline <<EOF
$LOGIN
!await 1001|
0005|before\n\n0005|after
!close
EOF
expect_contains "an empty line inside a record: the frame before it is answered" \
	"$OUT" '< 1005|before'
expect_match "... then closed" "$OUT" '^closed$'
expect_eq "... without a 1010, the frame after it not handled" \
	"$(grep -cE '^< (1010\||1005\|after)' <<<"$OUT")" 0
wait_log 'empty frame'
expect_match "... logged" "$(new_log)" 'user=user1 reason=protocol: empty frame'
others_chat "records"

# ---- a handshake replayed from a capture ----
mark
hostile_script capture -w "$T/capture.bin" <<EOF
$LOGIN
!await 1001|
!sync
EOF
expect_contains "a session is captured" "$OUT" '< 1005|sync1'
H "$C1" replay "$T/capture.bin" >"$T/replayed.hout" 2>&1 || true
expect_match "its replay gets a fresh ServerHello, then the close" \
	"$(cat "$T/replayed.hout")" '^< 1100\|'
expect_eq "... and nothing else" "$(grep -vc '^< 1100|' "$T/replayed.hout")" 1
wait_log 'KeyExchange record'
expect_match "... logged: the KeyExchange does not authenticate" "$(new_log)" \
	'user=- reason=handshake: KeyExchange record: message authentication failed'
expect_eq "the replay logs in nobody" \
	"$(new_log | grep -c 'login ok user=user1')" 1

# ---- one flipped byte at every offset after the handshake ----
mark
H "$C1" integrity "$T/c/listener/client.conf" 111111 "$MSG" \
	>"$T/integrity.out" 2>&1 || true
IRES=$(tail -n 1 "$T/integrity.out")
printf '# %s\n' "$IRES"
expect_match "every flipped byte closes the session, none delivers altered text" \
	"$IRES" '^integrity: [0-9]+ offsets, 0 undetected, 0 altered, 29 delivered intact'
expect_eq "the server logged a refused record for every flip" \
	"$(new_log | grep -cE 'reason=protocol: record refused|reason=closed: peer closed inside')" \
	"$(sed -E 's/^integrity: ([0-9]+) offsets.*/\1/' <<<"$IRES")"
others_chat "flipped bytes"

# ---- 1,000 connections that never finish a handshake ----
mark
ulimit -n 4096
"$MISSIVE_TOOLS/hostile" -t "$(scaled 30)" "$C1" flood 1000 >"$T/flood.out" 2>&1 &
FLOOD=$!
register_pid "$FLOOD"
wait_until 30 grep -q 'opened' "$T/flood.out" || true
say b "during-the-flood"
if wait_until 15 seen c "during-the-flood"; then
	ok "during the flood the logged-in users keep chatting"
else
	not_ok "during the flood the logged-in users keep chatting" "$(client_out c)"
fi
RC=0
wait "$FLOOD" || RC=$?
printf '# %s\n' "$(tail -n 1 "$T/flood.out")"
expect_eq "the flood tool saw every connection closed" "$RC" 0
last=$(sed -n 's/.*the last after \([0-9.]*\) s, 0 still open.*/\1/p' "$T/flood.out")
if [ -n "$last" ] && awk -v l="$last" -v h="$HS" 'BEGIN { exit !(l < h + 3) }'; then
	ok "... the last soon after handshake_timeout ($HS s): $last s"
else
	not_ok "... the last soon after handshake_timeout ($HS s)" "$(cat "$T/flood.out")"
fi
expect_eq "max_clients (900) held: with 2 users present, 102 refused at once" \
	"$(new_log | grep -c 'refused .*: max_clients (900) reached')" 102
expect_eq "... and the 898 accepted timed out" \
	"$(new_log | grep -c "user=- reason=timeout: no login within $HS s")" 898
others_chat "flood"

# ---- a login flood against one account ----
# Four connections in a row, three wrong passwords each (the most a
# connection may try): the fifth failure locks user1 and the address.
mark
for i in 1 2 3 4; do
	{ printf '0001|user1|wrong%s\n!await 1001|\n' 1 2 3; echo '!close'; } |
		H "$C1" script >"$T/lf$i.hout" 2>&1
done
cat "$T"/lf*.hout >"$T/lf.all"
expect_eq "a login flood: five wrong passwords refused as such" \
	"$(grep -c '^< 1001|ERR|invalid' "$T/lf.all")" 5
expect_eq "... then the account is locked: every later attempt refused so" \
	"$(grep -c '^< 1001|ERR|locked' "$T/lf.all")" 7
expect_eq "... and none logged in" "$(grep -c '1001|OK' "$T/lf.all" || true)" 0
# The answers' order (section 5): the fifth failure, the one that locks,
# is still "invalid"; each connection's third refusal, then 1010|login.
grep -hE '^< 10(01|10)\|' "$T/lf1.hout" "$T/lf2.hout" >"$T/lf.order.got"
cat >"$T/lf.order.want" <<'EOF'
< 1001|ERR|invalid
< 1001|ERR|invalid
< 1001|ERR|invalid
< 1010|login|too many failed logins
< 1001|ERR|invalid
< 1001|ERR|invalid
< 1001|ERR|locked
< 1010|login|too many failed logins
EOF
check "... in order: the locking failure is invalid, a third refusal comes before 1010|login" \
	diff "$T/lf.order.want" "$T/lf.order.got"
expect_match "... the log shows the lock" "$(new_log)" \
	"login locked user=user1 addr=127\\.0\\.0\\.1 for $LOCK s after 5 failures"
hostile_script locked <<EOF
$LOGIN
!await 1001|
EOF
expect_contains "the right password is refused while locked" "$OUT" '< 1001|ERR|locked'
# The lock ends after lock_seconds: poll with the real password.
unlocked() {
	printf '%s\n!await 1001|\n' "$LOGIN" | H "$C1" script |
		grep -q '1001|OK'
}
if wait_until 20 unlocked; then
	ok "after lock_seconds the real user logs in"
else
	not_ok "after lock_seconds the real user logs in" "$(new_log | tail -5)"
fi
expect_match "... and the log shows it" "$(new_log)" 'login ok user=user1'
others_chat "login flood"

check "the server is still running" kill -0 "$SRV_PID"
done_testing
