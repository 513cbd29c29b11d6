#!/usr/bin/env bash
# The terminal UI (missive --tui) driven in tmux, on a private tmux server
# (tmux -L, killed at the end, no other): it logs in, joins a room, a line
# typed in it reaches a line-mode client and the reply shows on its screen,
# also while a line is being typed (which stays intact); another room's
# message shows as unread; resizing does not end it.  /export writes a file
# that --import merges into another client folder of the same user (once:
# a second import adds nothing), and an altered export is refused.
# Own lines carry ✓ once stored (✓✓ once delivered, when the server sends
# 1024); a line said while away comes at the next login, unread, under a
# "new since you were away" divider; a member gone offline stays, "(off)".
# A restart shows the window shown at the last quit (a private one, then
# a room once the login lists it).
# Conditions are waited for by polling the pane, never by fixed sleeps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

PORT=$(test_port 200)
server_setup "$PORT"
server_start

SOCK=missive-tui-$$
tm() { tmux -L "$SOCK" "$@"; }
screen() { tm capture-pane -p -t tui; }
# shellcheck disable=SC2317 # called through wait_until
on_screen() { screen | grep -qF -- "$1"; }
# The input line is the last row of the pane.
input_row() { screen | tail -n 1; }
keys() { tm send-keys -t tui "$@"; }
# Type text literally, then Enter.
type_line() { tm send-keys -t tui -l -- "$1"; tm send-keys -t tui Enter; }
shot() { screen >"$T/screen.$1.txt" 2>&1 || true; }

client_start b "$T/c/user2"
wait_until 20 seen b "you are in #lobby" || true

# The TUI for user1, in a 100x30 pane; its exit status goes to tui.rc.
tm -f /dev/null new-session -d -s tui -x 100 -y 30 \
	"env LANG=C.UTF-8 LC_ALL=C.UTF-8 '$BIN/missive' \
	-c '$T/c/user1/client.conf' --password-file '$PW_OK' --tui \
	2>'$T/tui.err'; echo \$? >'$T/tui.rc'"
TMUX_PID=$(tm display-message -p '#{pid}')
register_pid "$TMUX_PID"

if wait_until 20 on_screen "you are in #lobby"; then
	ok "the TUI logs in and shows #lobby"
else
	shot login
	not_ok "the TUI logs in and shows #lobby" "$(cat "$T/screen.login.txt" "$T/tui.err" 2>&1)"
fi
expect_match "the status line says connected, with the server key pinned" \
	"$(screen)" '\[user1@127\.0\.0\.1\] \[connected\] \[server key pinned SHA256:'

type_line "/join dev"
wait_until 10 on_screen "you are in #dev" || true
say b "/join dev"
wait_until 10 seen b "you are in #dev" || true
wait_until 10 on_screen "Bob (user2) joined #dev" || true
shot joined
expect_contains "/join opens a #dev window, shown in the window bar" \
	"$(screen | head -n 1)" "3:#dev"
expect_contains "... with user2 in its member list" "$(screen)" "Bob"

type_line "TUIMARK-1 typed in the tui"
if wait_until 10 seen b "TUIMARK-1"; then
	ok "a line typed in the TUI reaches the line-mode client"
else
	not_ok "a line typed in the TUI reaches the line-mode client" "$(client_out b)"
fi
expect_match "... as #dev <Alice>" "$(client_out b)" \
	'^\[..:..:..\] #dev <Alice> TUIMARK-1 typed in the tui$'
wait_until 10 on_screen "<Alice> TUIMARK-1" || true
expect_contains "the TUI shows its own line once the server has it" \
	"$(screen)" "<Alice> TUIMARK-1 typed in the tui"
expect_contains "... marked stored (✓)" "$(screen)" \
	"<Alice> TUIMARK-1 typed in the tui ✓"
# ✓✓ once every device has fetched it (1024), which Bob's line mode does.
if grep -q '= 1024,' "$REPO/common/proto.h"; then
	wait_until 10 on_screen "TUIMARK-1 typed in the tui ✓✓" || true
	expect_contains "... then delivered to every device (✓✓)" "$(screen)" \
		"<Alice> TUIMARK-1 typed in the tui ✓✓"
else
	echo "# skip: 1024 not in this server (common/proto.h has no opcode 1024): no ✓✓ check"
fi

keys Up
wait_until 5 sh -c "tmux -L '$SOCK' capture-pane -p -t tui | tail -n 1 | grep -qF 'TUIMARK-1'" || true
expect_eq "Up recalls the line typed before" "$(input_row | sed 's/ *$//')" \
	"[#dev] TUIMARK-1 typed in the tui"
keys C-u

say b "LINEMARK-1 reply from bob"
if wait_until 10 on_screen "LINEMARK-1 reply from bob"; then
	ok "the reply appears on the TUI screen"
else
	shot reply
	not_ok "the reply appears on the TUI screen" "$(cat "$T/screen.reply.txt")"
fi
expect_contains "... as <Bob>" "$(screen)" "<Bob> LINEMARK-1 reply from bob"

# A message while typing: the half-typed line stays as it was.
tm send-keys -t tui -l -- "half typed é"
wait_until 5 sh -c "tmux -L '$SOCK' capture-pane -p -t tui | tail -n 1 | grep -qF 'half typed'" || true
say b "LINEMARK-2 while alice types"
wait_until 10 on_screen "LINEMARK-2" || true
shot typing
expect_contains "a message arriving while typing shows" "$(screen)" \
	"<Bob> LINEMARK-2 while alice types"
expect_eq "... and the input line is intact" "$(input_row | sed 's/ *$//')" \
	"[#dev] half typed é"
keys C-u
wait_until 5 sh -c "! tmux -L '$SOCK' capture-pane -p -t tui | tail -n 1 | grep -qF 'half'" || true
expect_eq "Ctrl-U clears the input line" "$(input_row | sed 's/ *$//')" "[#dev]"

# A private message: its own window, with an unread count in the bar.
say b "/msg user1 PMMARK-1 private to alice"
wait_until 10 sh -c "tmux -L '$SOCK' capture-pane -p -t tui | head -n 1 | grep -qF '4:@user2(1)'" || true
expect_contains "a private message opens a window, shown as unread" \
	"$(screen | head -n 1)" "4:@user2(1)"
keys M-4
wait_until 5 on_screen "PMMARK-1" || true
expect_contains "Alt-4 shows @user2 with the message" "$(screen)" \
	"<Bob> PMMARK-1 private to alice"
expect_eq "... and its unread count is gone" \
	"$(screen | head -n 1 | grep -c '@user2(' || true)" 0
type_line "PMMARK-2 private answer"
wait_until 10 seen b "PMMARK-2" || true
expect_match "a line typed there goes to user2 privately" "$(client_out b)" \
	'^\[..:..:..\] @user1 <Alice> PMMARK-2 private answer$'
keys M-3

# Resizing: smaller, then larger; the TUI redraws and goes on.
tm resize-window -t tui -x 50 -y 12
wait_until 5 sh -c "[ \"\$(tmux -L '$SOCK' capture-pane -p -t tui | wc -l)\" -eq 12 ]" || true
wait_until 5 sh -c "tmux -L '$SOCK' capture-pane -p -t tui | tail -n 1 | grep -qF '[#dev]'" || true
expect_eq "after a resize to 50x12 the input line is redrawn" \
	"$(input_row | sed 's/ *$//')" "[#dev]"
tm resize-window -t tui -x 120 -y 35
wait_until 5 sh -c "[ \"\$(tmux -L '$SOCK' capture-pane -p -t tui | wc -l)\" -eq 35 ]" || true
say b "LINEMARK-3 after the resize"
wait_until 10 on_screen "LINEMARK-3" || true
expect_contains "after growing to 120x35 messages still arrive" "$(screen)" \
	"<Bob> LINEMARK-3 after the resize"
check "... and the TUI is still running" test ! -e "$T/tui.rc"

# Scrollback: PgUp shows older lines, PgDn returns.
for i in $(seq 1 40); do say b "FILL-$i"; done
wait_until 10 on_screen "FILL-40" || true
keys PPage
wait_until 5 on_screen "scrolled" || true
expect_contains "PgUp scrolls back" "$(screen)" "[scrolled: PgDn]"
keys NPage NPage NPage
wait_until 5 on_screen "FILL-40" || true
expect_contains "PgDn returns to the newest line" "$(screen)" "FILL-40"

# Unverified peers on the status line, until /verify (user3 is a member
# of the lobby while offline: its device is listed too, version 3).
expect_contains "the status line names the unverified peers" \
	"$(screen | tail -n 2 | head -n 1)" "[unverified: user2 user3]"
type_line "/verify user2"
wait_until 10 on_screen "user2's key SHA256:" || true
expect_eq "... and user2 no longer after /verify user2" \
	"$(screen | tail -n 2 | head -n 1 | grep -o '\[unverified:[^]]*\]' || true)" \
	"[unverified: user3]"
say b "LINEMARK-4 now verified"
wait_until 10 on_screen "LINEMARK-4" || true
expect_contains "a verified sender's line carries the mark" "$(screen)" \
	"<Bob ✓> LINEMARK-4 now verified"

# /export from the TUI, --import into another folder of user1.
type_line "/export $T/export.json"
if wait_until 10 on_screen "exported"; then
	ok "/export reports the export"
else
	shot export
	not_ok "/export reports the export" "$(cat "$T/screen.export.txt")"
fi
expect_contains "the export holds the TUI's line" "$(cat "$T/export.json" 2>&1)" \
	'"text": "TUIMARK-1 typed in the tui"'
expect_contains "... and the reply" "$(cat "$T/export.json" 2>&1)" \
	'"text": "LINEMARK-1 reply from bob"'

"$BIN/missive-keys" client --no-passphrase --host 127.0.0.1 --port "$PORT" --device laptop \
	user1 "$T/c/user1b" >/dev/null
check "--import merges the export into another folder of user1" \
	"$BIN/missive" -c "$T/c/user1b/client.conf" --password-file "$PW_OK" \
	--import "$T/export.json"
out=$("$BIN/missive" -c "$T/c/user1b/client.conf" --password-file "$PW_OK" \
	--import "$T/export.json" 2>&1) || true
expect_contains "a second import adds nothing" "$out" "imported 0 new messages"
"$BIN/missive" -c "$T/c/user1b/client.conf" --password-file "$PW_OK" \
	--export-text "$T/user1b.txt" >/dev/null 2>&1 || true
expect_match "the other folder's history now has the lines (plain text)" \
	"$(cat "$T/user1b.txt" 2>&1)" '#dev <Bob> LINEMARK-1 reply from bob$'
before=$(sha256sum <"$T/c/user1b/history")
sed 's/TUIMARK-1/TUIMARK-9/' "$T/export.json" >"$T/altered.json"
out=$("$BIN/missive" -c "$T/c/user1b/client.conf" --password-file "$PW_OK" \
	--import "$T/altered.json" 2>&1) && rc=0 || rc=$?
expect_eq "an altered export is refused (exit 1)" "$rc" 1
expect_contains "... with a clear message" "$out" "was altered"
expect_eq "... and the history file is unchanged" \
	"$(sha256sum <"$T/c/user1b/history")" "$before"

# /quit leaves cleanly, from @user2: the next start comes back to it.
keys M-4
wait_until 5 sh -c "tmux -L '$SOCK' capture-pane -p -t tui | tail -n 1 | grep -qF '[@user2]'" || true
type_line "/quit"
wait_until 15 test -e "$T/tui.rc" || true
expect_eq "/quit ends the TUI with status 0" "$(cat "$T/tui.rc" 2>&1)" 0
expect_eq "... and nothing on its standard error" "$(cat "$T/tui.err" 2>&1)" ""
check "the TUI's history file was written" test -s "$T/c/user1/history"

# A line said in #dev while user1 is away: stored, and at the next login
# the #dev window counts it unread, under a "new since" divider.
fp1b=$("$BIN/missive-keys" fingerprint "$T/c/user1b/user.pub" | awk '{print $2}')
wait_until 20 seen b "device $fp1b, offline" || true
say b "/accept user1 $fp1b"
wait_until 10 seen b "user1's key $fp1b accepted" || true
say b "AWAYMARK-1 said while you were away"
wait_until 10 seen b "AWAYMARK-1" || true
tm -f /dev/null new-session -d -s tui -x 100 -y 30 \
	"env LANG=C.UTF-8 LC_ALL=C.UTF-8 '$BIN/missive' \
	-c '$T/c/user1/client.conf' --password-file '$PW_OK' --tui \
	2>'$T/tui2.err'; echo \$? >'$T/tui2.rc'"
register_pid "$(tm display-message -p '#{pid}')"
wait_until 20 sh -c "tmux -L '$SOCK' capture-pane -p -t tui | head -n 1 | grep -qF '#dev(1)'" || true
shot away
expect_contains "the next login marks #dev unread for the line said while away" \
	"$(screen | head -n 1)" "#dev(1)"
wait_until 10 sh -c "tmux -L '$SOCK' capture-pane -p -t tui | tail -n 1 | grep -qF '[@user2]'" || true
expect_eq "... and shows @user2, the window shown at the last quit" \
	"$(input_row | sed 's/ *$//')" "[@user2]"
expect_contains "... with its history" "$(screen)" "PMMARK-1 private to alice"
type_line "/win $(screen | head -n 1 | sed -n 's/.* \([0-9]*\):#dev(1).*/\1/p')"
wait_until 10 on_screen "AWAYMARK-1" || true
expect_match "... shown under a \"new since you were away\" divider" \
	"$(screen | grep -A1 'new since you were away' | tail -n 1)" \
	'<Bob ✓> AWAYMARK-1 said while you were away'
# Bob's only device goes offline: he stays in #dev's member list, dimmed.
say b "/quit"
client_wait b
wait_until 10 on_screen "Bob (off)" || true
expect_contains "a member whose devices are offline stays listed, \"(off)\"" \
	"$(screen)" "Bob (off)"
type_line "/quit"
wait_until 15 test -e "$T/tui2.rc" || true
expect_eq "... and /quit ends it again with status 0" "$(cat "$T/tui2.rc" 2>&1)" 0

# It quit in #dev: the next start shows #dev once the login lists it, and
# a line typed there reaches Bob, back in #dev too (his line mode's
# current room when he quit).
client_start b3 "$T/c/user2"
wait_until 20 seen b3 "*** current room: #dev" || true
expect_contains "the line mode comes back to #dev as well" "$(client_out b3)" \
	"*** current room: #dev"
tm -f /dev/null new-session -d -s tui -x 100 -y 30 \
	"env LANG=C.UTF-8 LC_ALL=C.UTF-8 '$BIN/missive' \
	-c '$T/c/user1/client.conf' --password-file '$PW_OK' --tui \
	2>'$T/tui3.err'; echo \$? >'$T/tui3.rc'"
register_pid "$(tm display-message -p '#{pid}')"
wait_until 20 sh -c "tmux -L '$SOCK' capture-pane -p -t tui | tail -n 1 | grep -qF '[#dev]'" || true
shot restored
expect_eq "a restart shows #dev, the room shown at the last quit" \
	"$(input_row | sed 's/ *$//')" "[#dev]"
# user1's laptop folder (the import's) is listed in #dev: accept it.
type_line "/accept user1 $fp1b"
wait_until 10 on_screen "user1's key $fp1b accepted" || true
type_line "TUIMARK-2 typed after the restart"
wait_until 10 seen b3 "TUIMARK-2" || true
expect_match "... and a line typed there reaches #dev" "$(client_out b3)" \
	'^\[..:..:..\] #dev <Alice> TUIMARK-2 typed after the restart$'
type_line "/quit"
wait_until 15 test -e "$T/tui3.rc" || true
expect_eq "... and /quit ends it with status 0" "$(cat "$T/tui3.rc" 2>&1)" 0
say b3 "/quit"
client_wait b3

tm kill-server 2>/dev/null || true
done_testing
