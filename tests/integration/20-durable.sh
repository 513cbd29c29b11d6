#!/usr/bin/env bash
# Durable delivery at the protocol level (docs/PROTOCOL.md 5.2, 5.4),
# against the real server and MariaDB, with tests/tools/hostile as a
# scripted client: rows stored for devices that are offline and sent at
# their next login in seq order (1022, then the backlog), 1020 only after
# the commit, an idempotent retry of a mid, acknowledgements that remove
# rows, a sender key queued ahead of the line it opens, rows and rooms
# that survive a SIGKILL of the server, durable joins and leaves, a second
# device of a user that was offline, one connection per device, the
# refusals (1021, 1009), retention (rows past their age or past the
# device's cap are removed and the device is told how many: 1023), the
# key directory's changes (ADD, LEAVE revoked), the schema check, and a
# sender key lost in a commit that failed with MariaDB down (the sender's
# next lines there refused until it sends a new key).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

PORT=$(test_port 20)
server_setup "$PORT" "limits: { idle_timeout = 0; keepalive_interval = 0; };
delivery: { retention_days = 1; max_rows_per_device = 20; purge_interval = 1; };"
device_folder user2 "$T/c/user2b" laptop
db_sql "DELETE FROM schema_version WHERE version = 3" >/dev/null
check_fails "missived --check refuses a database not migrated" \
	"$BIN/missived" -c "$SERVER_CONF" --check
"$BIN/missived" -c "$SERVER_CONF" --check >"$T/check.out" 2>&1 || true
expect_contains "... and says what to do" "$(cat "$T/check.out")" \
	"run scripts/db.sh migrate"
"$REPO/scripts/db.sh" migrate >/dev/null
check "... and takes it once migrated" "$BIN/missived" -c "$SERVER_CONF" --check
server_start
H() { "$MISSIVE_TOOLS/hostile" -t "$(scaled 10)" "$@"; }
C1=$T/c/user1/client.conf
C2=$T/c/user2/client.conf
C2B=$T/c/user2b/client.conf
C3=$T/c/user3/client.conf
L1="0001|user1|$(H "$C1" secret 111111)"
L2="0001|user2|$(H "$C2" secret 111111)"
L2B="0001|user2|$(H "$C2B" secret 111111)"
L3="0001|user3|$(H "$C3" secret 111111)"
FP2=$(fp_of "$T/c/user2")
FP2B=$(fp_of "$T/c/user2b")
# A payload the server takes as a message (it cannot open it).
PAY=$(printf 'QUFB%.0s' $(seq 1 60))
KEYBLOB=$(printf 'QUFB%.0s' $(seq 1 300))
mid() { printf '%032x' "$1"; }

# session NAME CONF: run stdin as a hostile script; OUT is its output.
session() {
	H "$2" script >"$T/$1.hout" 2>&1 || true
	OUT=$(cat "$T/$1.hout")
}
# rows OUT OPCODE: the seqs of OPCODE frames in OUT, in order, one line.
rows() { printf '%s\n' "$1" | sed -n "s/^< $2|\([0-9]*\)|.*/\1/p" | tr '\n' ' '; }
db_count() { db_sql "SELECT COUNT(*) FROM $1" | tail -n 1; }

# ---- a line for users who are offline ----
session send1 "$C1" <<EOF
$L1
!await 1022|
0002|lobby|$(mid 1)|$PAY
!await 1020|$(mid 1)
!sync
EOF
expect_contains "a new account is in the lobby: its list comes after login" \
	"$OUT" "< 1011|lobby|"
expect_match "the lobby lists user2's devices as offline" \
	"$(printf '%s\n' "$OUT" | grep -F "< 1012|lobby|user2|" | grep -F "|$FP2|")" \
	"\|offline$"
expect_contains "nothing was stored for user1 yet: 1022|0" "$OUT" "< 1022|0"
expect_contains "the line is stored: 1020 with its mid" "$OUT" "< 1020|$(mid 1)"
expect_eq "one stored message" "$(db_count messages)" 1
expect_eq "... with a row for each device of user2 and user3 (3)" \
	"$(db_count inbox)" 3

session recv1 "$C2" <<EOF
$L2
!await 1002|
!sync
EOF
expect_contains "user2 logs in later: 1022 says one row waits" "$OUT" "< 1022|1"
expect_match "... and the line comes, seq 1, with its mid and sender" \
	"$OUT" "^< 1002\|1\|$(mid 1)\|[^|]*\|user1\|SHA256:[^|]*\|lobby\|20[0-9-]*T[0-9:.]*Z\|$PAY$"

session recv2 "$C2" <<EOF
$L2
!await 1002|
0020|1
!sync
EOF
expect_eq "not acknowledged: it comes again at the next login" \
	"$(rows "$OUT" 1002)" "1 "
session recv3 "$C2" <<EOF
$L2
!await 1022|
!sync
EOF
expect_contains "acknowledged: 1022 says 0, nothing waits ..." "$OUT" "< 1022|0"
expect_eq "... and no row is sent again" "$(rows "$OUT" 1002)" ""
expect_eq "... and its row is gone from the inbox" \
	"$(db_sql "SELECT COUNT(*) FROM inbox i JOIN client_keys k ON k.key_id = i.key_id WHERE k.fingerprint = '$FP2'" | tail -n 1)" 0

# ---- a retry of the same mid is stored once ----
session retry "$C1" <<EOF
$L1
!await 1022|
0002|lobby|$(mid 1)|$PAY
!await 1020|$(mid 1)
!sync
EOF
expect_contains "a line sent again with its mid: 1020 again" "$OUT" \
	"< 1020|$(mid 1)"
expect_eq "... and still one stored message" "$(db_count messages)" 1
session recv4 "$C2" <<EOF
$L2
!await 1022|
!sync
EOF
expect_eq "... and the receiver gets nothing new" "$(rows "$OUT" 1002)" ""

# ---- a sender key goes ahead of the line it opens ----
session key "$C1" <<EOF
$L1
!await 1022|
0015|lobby|$FP2|$KEYBLOB
0002|lobby|$(mid 2)|$PAY
!await 1020|$(mid 2)
!sync
EOF
session recv5 "$C2" <<EOF
$L2
!await 1002|
!sync
EOF
expect_eq "a sender key for an offline device is stored: seq 2" \
	"$(rows "$OUT" 1015)" "2 "
expect_eq "... ahead of the line after it: seq 3" "$(rows "$OUT" 1002)" "3 "
expect_match "... and the key names its sender and conversation" "$OUT" \
	"^< 1015\|2\|lobby\|user1\|[^|]*\|SHA256:[^|]*\|[A-Za-z0-9+/=]*\|$KEYBLOB$"

# ---- the second device of user2, offline all along ----
session laptop "$C2B" <<EOF
$L2B
!await 1002|
!sync
EOF
expect_eq "user2's other device gets every line sent while it was away" \
	"$(rows "$OUT" 1002)" "1 2 "
expect_eq "... but not the sender key that was for the first device" \
	"$(rows "$OUT" 1015)" ""

# ---- a SIGKILL of the server loses nothing acknowledged ----
session beforekill "$C1" <<EOF
$L1
!await 1022|
0002|lobby|$(mid 3)|$PAY
!await 1020|$(mid 3)
EOF
expect_contains "a line stored just before the kill" "$OUT" "< 1020|$(mid 3)"
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null || true
server_start "$T/server2.log"
session afterkill "$C2" <<EOF
$L2
!await 1002|
!sync
EOF
expect_eq "after the restart the line is there, next in seq" \
	"$(rows "$OUT" 1002)" "3 4 "

# ---- durable joins and leaves ----
session join "$C1" <<EOF
$L1
!await 1022|
0011|dev
!await 1011|dev|
!sync
EOF
expect_contains "user1 joins #dev" "$OUT" "< 1011|dev|"
session join3 "$C3" <<EOF
$L3
!await 1022|
0011|dev
!await 1011|dev|
!sync
EOF
expect_match "user3 joins #dev: user1's device is listed, offline" "$OUT" \
	"< 1012\|dev\|user1\|.*\|offline"
kill -TERM "$SRV_PID"
wait "$SRV_PID" 2>/dev/null || true
server_start "$T/server3.log"
session rejoin "$C1" <<EOF
$L1
!await 1022|
!sync
EOF
expect_contains "after a restart user1's login lists #dev again" "$OUT" \
	"< 1011|dev|"
session part "$C1" <<EOF
$L1
!await 1022|
0012|dev
!await 1013|dev
!sync
EOF
expect_contains "user1 leaves #dev" "$OUT" "< 1013|dev"
kill -TERM "$SRV_PID"
wait "$SRV_PID" 2>/dev/null || true
server_start "$T/server4.log"
session gone "$C1" <<EOF
$L1
!await 1022|
!sync
EOF
check_fails "after a restart user1 is no longer in #dev" \
	grep -qF "< 1011|dev|" "$T/gone.hout"
expect_contains "... and still in the lobby" "$OUT" "< 1011|lobby|"
session who "$C3" <<EOF
$L3
!await 1022|
0004|dev
!await 1014|
EOF
expect_match "who in #dev: user3 only, online" "$OUT" \
	"< 1004\|user3\|[^|]*\|online"

# ---- live delivery, and one connection per device ----
H "$C2" script >"$T/live.hout" 2>&1 <<EOF &
$L2
!await 1002|5|
EOF
LIVE=$!
register_pid "$LIVE"
wait_until 20 grep -q "^< 1022|" "$T/live.hout" || true
session live-send "$C1" <<EOF
$L1
!await 1022|
0002|lobby|$(mid 4)|$PAY
!await 1020|$(mid 4)
!sync
EOF
wait_until 20 _gone "$LIVE" || true
expect_match "a device online gets a line as it is stored" \
	"$(cat "$T/live.hout")" "^< 1002\|5\|$(mid 4)\|"
H "$C2" script >"$T/old.hout" 2>&1 <<EOF &
$L2
!await 1022|
!close
EOF
OLD=$!
register_pid "$OLD"
wait_until 20 grep -q "^< 1022|" "$T/old.hout" || true
session new "$C2" <<EOF
$L2
!await 1022|
!sync
EOF
wait_until 20 _gone "$OLD" || true
expect_match "the same device logging in again replaces the older session" \
	"$(cat "$T/old.hout")" "^< 1010\|replaced\|"

# ---- refusals ----
session refusals "$C1" <<EOF
$L1
!await 1022|
0002|lobby|nothex|$PAY
0002|@nosuchuser|$(mid 5)|$PAY
0002|nowhere|$(mid 6)|$PAY
0002|lobby|$(mid 7)|not base64!
0020|999
!sync
EOF
expect_contains "a mid that is not hex: 1009|malformed" "$OUT" "< 1009|malformed|"
expect_contains "a line to no such user: 1021|mid|user" "$OUT" \
	"< 1021|$(mid 5)|user|"
expect_contains "a line to a room one is not in: 1021|mid|room" "$OUT" \
	"< 1021|$(mid 6)|room|"
expect_contains "a line that is not base64: 1021|mid|text" "$OUT" \
	"< 1021|$(mid 7)|text|"
expect_contains "acknowledging rows never sent: 1009|state" "$OUT" \
	"< 1009|state|"

# ---- the key directory: a device enrolled, a device revoked ----
H "$C1" script >"$T/watch.hout" 2>&1 <<EOF &
$L1
!await 1022|
!await 1003|LEAVE|lobby|user3|
EOF
WATCH=$!
register_pid "$WATCH"
wait_until 20 grep -q "^< 1022|" "$T/watch.hout" || true
device_folder user3 "$T/c/user3b" phone
FP3B=$(fp_of "$T/c/user3b")
wait_until 20 grep -qF "< 1003|ADD|lobby|user3|Carol|$FP3B|" "$T/watch.hout" || true
expect_contains "a device enrolled for a member is ADDed to its rooms" \
	"$(cat "$T/watch.hout")" "< 1003|ADD|lobby|user3|Carol|$FP3B|"
"$BIN/missive-admin" revoke "$FP3B" >/dev/null 2>&1
wait_until 20 _gone "$WATCH" || true
expect_contains "a device revoked while offline LEAVEs them (revoked)" \
	"$(cat "$T/watch.hout")" "< 1003|LEAVE|lobby|user3|Carol|$FP3B|revoked"

# ---- retention: too old, and over a device's cap ----
FP3=$(fp_of "$T/c/user3")
rows_of() {
	db_sql "SELECT COUNT(*) FROM inbox i JOIN client_keys k ON k.key_id = i.key_id WHERE k.fingerprint = '$1'" | tail -n 1
}
# rows_are FP OP N: its row count compares so (for wait_until).
rows_are() { test "$(rows_of "$1")" "$2" "$3"; }
held3=$(rows_of "$FP3")
expect_match "user3 never acknowledged: it holds rows" "$held3" '^[1-9][0-9]*$'
last3=$(db_sql "SELECT d.next_seq - 1 FROM device_inbox d JOIN client_keys k ON k.key_id = d.key_id WHERE k.fingerprint = '$FP3'" | tail -n 1)
db_sql "UPDATE messages SET created_at = created_at - INTERVAL 2 DAY" >/dev/null
wait_until 20 rows_are "$FP3" = 0 || true
expect_eq "rows older than retention_days are purged" "$(rows_of "$FP3")" 0
session expired "$C3" <<EOF
$L3
!await 1022|
!sync
EOF
expect_contains "... and the device is told how many it missed" "$OUT" \
	"< 1023|$held3"
expect_eq "... and gets none of them" "$(rows "$OUT" 1002)" ""
{
	echo "$L1"
	echo "!await 1022|"
	for i in $(seq 100 124); do echo "0002|lobby|$(mid "$i")|$PAY"; done
	echo "!await 1020|$(mid 124)"
} >"$T/flood.in"
session flood "$C1" <"$T/flood.in"
expect_contains "25 lines stored" "$OUT" "< 1020|$(mid 124)"
wait_until 20 rows_are "$FP3" -le 20 || true
expect_eq "a device over max_rows_per_device keeps its newest 20" \
	"$(rows_of "$FP3")" 20
session capped "$C3" <<EOF
$L3
!await 1022|
!await 1002|$((last3 + 25))|
EOF
expect_contains "... is told 5 were removed" "$OUT" "< 1023|5"
expect_eq "... and gets the 20 newest, in order" \
	"$(rows "$OUT" 1002 | wc -w)" 20
expect_match "... the last being the last line sent" "$OUT" \
	"^< 1002\|$((last3 + 25))\|$(mid 124)\|"

# ---- receipts: ✓ when stored, ✓✓ once every device has it ----
# A room of user1 and user3 (one device each now): the receipt is a row
# of user1's device (1024|seq|mid), sent live or at its next login.
session rj1 "$C1" <<EOF
$L1
!await 1022|
0011|marks
!await 1011|marks|
!sync
EOF
session rj3 "$C3" <<EOF
$L3
!await 1022|
0011|marks
!await 1011|marks|
!sync
EOF
session tick "$C1" <<EOF
$L1
!await 1022|
0002|marks|$(mid 200)|$PAY
!await 1020|$(mid 200)
!sync
EOF
expect_contains "a line into #marks is stored" "$OUT" "< 1020|$(mid 200)"
check_fails "... and no receipt while user3 has not fetched it" \
	grep -qF "< 1024|" "$T/tick.hout"
seq3=$(db_sql "SELECT i.seq FROM inbox i JOIN messages m ON m.msg_id = i.msg_id JOIN client_keys k ON k.key_id = i.key_id WHERE k.fingerprint = '$FP3' AND m.mid = UNHEX('$(mid 200)')" | tail -n 1)
session fetch3 "$C3" <<EOF
$L3
!await 1002|$seq3|
0020|$seq3
!sync
EOF
expect_contains "user3 fetches it and acknowledges" "$OUT" "< 1002|$seq3|$(mid 200)|"
wait_until 20 test "$(db_count "inbox WHERE kind = 1")" -ge 1 || true
session receipt "$C1" <<EOF
$L1
!await 1024|
!sync
EOF
expect_match "user1's next login gets the receipt: 1024|seq|mid" "$OUT" \
	"^< 1024\|[0-9]+\|$(mid 200)$"
rseq=$(printf '%s\n' "$OUT" | sed -n "s/^< 1024|\([0-9]*\)|.*/\1/p" | head -n 1)
expect_eq "... exactly once" "$(grep -c '^< 1024|' "$T/receipt.hout")" 1
session receipt2 "$C1" <<EOF
$L1
!await 1024|
0020|$rseq
!sync
EOF
session receipt3 "$C1" <<EOF
$L1
!await 1022|
!sync
EOF
expect_eq "... and, acknowledged, it does not come again" \
	"$(grep -c '^< 1024|' "$T/receipt3.hout" || true)" 0

# The real line-mode clients: user1 sees ✓ then ✓✓ for its line while
# user3 is online, and for a line sent while user3 is away, ✓ at once and
# ✓✓ when user3 comes back.
client_start m1 "$T/c/user1"
client_start m3 "$T/c/user3"
wait_until 20 seen m1 "you are in #marks" || true
wait_until 20 seen m3 "you are in #marks" || true
say m1 "/join marks"
say m1 "TICKMARK-1 while carol is here"
wait_until 20 seen m1 "✓✓ #marks: TICKMARK-1" || true
expect_contains "line mode: ✓ when the line is stored" "$(client_out m1)" \
	"*** ✓ #marks: TICKMARK-1 while carol is here"
expect_contains "line mode: ✓✓ when every device has it" "$(client_out m1)" \
	"*** ✓✓ #marks: TICKMARK-1 while carol is here"
say m3 "/quit"
client_wait m3
say m1 "TICKMARK-2 while carol is away"
wait_until 20 seen m1 "✓ #marks: TICKMARK-2" || true
expect_contains "line mode: ✓ for a line to a member away" "$(client_out m1)" \
	"*** ✓ #marks: TICKMARK-2 while carol is away"
client_start m3b "$T/c/user3"
wait_until 20 seen m3b "TICKMARK-2" || true
wait_until 20 seen m1 "✓✓ #marks: TICKMARK-2" || true
expect_contains "... and ✓✓ once she is back and has it" "$(client_out m1)" \
	"*** ✓✓ #marks: TICKMARK-2 while carol is away"
expect_eq "... each mark once" \
	"$(grep -c '✓✓ #marks: TICKMARK' "$T/m1.out")" 2
say m1 "/quit"
say m3b "/quit"
client_wait m1
client_wait m3b


# ---- a sender key alone in a failed commit (MariaDB down) ----
# user1's 0015 for user2's device is the only item of a batch whose commit
# fails.  Its next line in the lobby, once the database is back, would be
# stored under a key user2's device never got: it is refused (1021) until
# user1 sends a new key, then stored behind that key.
DB_PID=$(tr -dc '0-9' <"$T/var/db/mariadbd.pid")
KEYBLOB2=$(printf 'QkJC%.0s' $(seq 1 300))
failed_commits() { grep -c 'store: cannot commit' "$T/server4.log" || true; }
commits_failed=$(failed_commits)
db_up() { db_sql "SELECT 1" >/dev/null 2>&1; }
keylost_feed() {
	echo "$L1"
	echo "!await 1022|"
	wait_until 20 grep -q "^< 1022|" "$T/keylost.hout" || true
	kill -KILL "$DB_PID"
	wait_until 20 _gone "$DB_PID" || true
	echo "0015|lobby|$FP2|$KEYBLOB"
	echo "!sync"
	wait_until 20 test "$(failed_commits)" -gt "$commits_failed" || true
	"$REPO/scripts/db.sh" start >/dev/null
	wait_until 30 db_up || true
	echo "0002|lobby|$(mid 300)|$PAY"
	echo "!sync"
	echo "0015|lobby|$FP2|$KEYBLOB2"
	echo "0002|lobby|$(mid 300)|$PAY"
	echo "!await 1020|$(mid 300)"
}
keylost_feed | H "$C1" script >"$T/keylost.hout" 2>&1 || true
OUT=$(cat "$T/keylost.hout")
expect_eq "a sender key alone in a commit that failed: logged once" \
	"$(grep -c 'store: a sender key of id=[0-9]* user=user1 for lobby was not stored' "$T/server4.log")" 1
expect_match "... the next line, the database back, is refused (1021)" \
	"$OUT" "^< 1021\|$(mid 300)\|unavailable\|your sender key for this conversation was not stored"
expect_contains "... and stored once a new key came first (1020)" "$OUT" \
	"< 1020|$(mid 300)"
seq300=$(db_sql "SELECT i.seq FROM inbox i JOIN messages m ON m.msg_id = i.msg_id JOIN client_keys k ON k.key_id = i.key_id WHERE k.fingerprint = '$FP2' AND m.mid = UNHEX('$(mid 300)')" | tail -n 1)
# (logins are refused a little longer: the server's own check of the
# database has to see it back)
for _ in $(seq 1 "$(scaled 20)"); do
	session keylost2 "$C2" <<EOF
$L2
!await 1002|$seq300|
!sync
EOF
	case $OUT in *"< 1001|ERR|unavailable"*) sleep 1 ;; *) break ;; esac
done
expect_match "user2's device gets the new key just ahead of the line" "$OUT" \
	"^< 1015\|$((seq300 - 1))\|lobby\|user1\|.*\|$KEYBLOB2$"
expect_eq "... and the line once" "$(grep -c "^< 1002|[0-9]*|$(mid 300)|" "$T/keylost2.hout")" 1

done_testing
