#!/usr/bin/env bash
# The GTK client (missive-gtk) as a user drives it: a real window on a
# private X server (Xvfb), typed into with xdotool.  A wrong password gets
# a clear error; logging in with only the client folder (typed into the
# folder field) and the password opens its encrypted key and the chat
# window; a line typed there reaches a line-mode client, whose reply
# appears in the message view; a room joined from the input box works the
# same; the history is exported through the file chooser (and imported by
# the line mode elsewhere), a tampered export is refused through Import
# History… with nothing added, and the next login shows the earlier lines
# and the conversation shown at the quit;
# Ctrl+Q leaves cleanly.  Own lines get ✓ once stored (✓✓ when the server
# sends 1024), offline members stay listed, and a line said while away
# comes at the next login under a "new since you were away" divider.
# Screenshots of the login and chat windows are kept in $T (artifacts).
#
# What the view shows is observed through MISSIVE_GTK_TRACE (every line the
# view displays, appended to a file): an observation hook, never input.
# Without Xvfb, xdotool, ImageMagick or GTK this fails (make deps installs
# them), it does not skip.

# Under `make check-valgrind` GTK, GLib and fontconfig would bury the
# report in their own never-freed caches (ASan's run above checks our code
# with tests/lsan-gtk.supp, which names only those libraries): skip there.
if [ -n "${MISSIVE_VALGRIND:-}" ]; then
	echo "1..0 # SKIP the GTK stack under memcheck (run under ASan+LSan in make check)"
	exit 0
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

PORT=$(test_port 250)
GUI=$BIN/missive-gtk

missing=
for tool in Xvfb xdotool import; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -x "$GUI" ] || missing="$missing $GUI"
if [ -n "$missing" ]; then
	not_ok "Xvfb, xdotool, ImageMagick and missive-gtk are there" \
		"missing:$missing (make deps; make VARIANT=san tests)"
	done_testing
fi

server_setup "$PORT"
# shellcheck disable=SC2119 # the default log, no wrapper
server_start
client_start b "$T/c/user2"
wait_until 20 seen b "you are in #lobby" || true

# ---- a private X server on a display number it picks itself ----
Xvfb -displayfd 3 -screen 0 1100x680x24 -nolisten tcp -noreset \
	3>"$T/display" >"$T/xvfb.log" 2>&1 &
XVFB_PID=$!
register_pid "$XVFB_PID"
if ! wait_until 15 test -s "$T/display"; then
	not_ok "Xvfb starts" "$(cat "$T/xvfb.log")"
	done_testing
fi
DISPLAY=:$(head -n 1 "$T/display")
export DISPLAY
ok "Xvfb runs on $DISPLAY"

# GTK 4 on X11, software drawing, no accessibility bus; a fresh home, so
# no folder is remembered from an earlier login.
# No OpenGL (no driver modules loaded and unloaded), no GIO modules for
# settings or remote files.
export GDK_BACKEND=x11 GSK_RENDERER=cairo GDK_DEBUG=gl-disable \
	NO_AT_BRIDGE=1 GTK_A11Y=none GSETTINGS_BACKEND=memory GIO_USE_VFS=local
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config
mkdir -p "$HOME"
# Leaks inside GTK and the libraries under it are theirs (tests/lsan-gtk.supp
# names only those libraries).
export LSAN_OPTIONS=suppressions=$REPO/tests/lsan-gtk.supp:print_suppressions=0
GUI_ASAN=${ASAN_OPTIONS:-detect_leaks=1}

TRACE=$T/gui.trace
: >"$TRACE"
# shellcheck disable=SC2317 # called through wait_until
traced() { grep -qF -- "$1" "$TRACE"; }

# start_gui NAME [ARG...]: missive-gtk from $HOME, its output in NAME.log.
start_gui() {
	local name=$1
	shift
	(cd "$HOME" && exec env MISSIVE_GTK_TRACE="$TRACE" \
		ASAN_OPTIONS="$GUI_ASAN" "$GUI" "$@") \
		>"$T/$name.log" 2>&1 &
	GUI_PID=$!
	register_pid "$GUI_PID"
}

# window TITLE: the id of the running GUI's visible window with that title
# (dialogs carry no _NET_WM_PID: for them, the title alone, which is
# unique on this private display).
window() {
	{
		xdotool search --all --onlyvisible --pid "$GUI_PID" --name "$1"
		xdotool search --onlyvisible --name "$1"
	} 2>/dev/null | head -n 1
}

# focus TITLE: give that window the keyboard (there is no window manager:
# the pointer goes over it and the X input focus is set on it).
# shellcheck disable=SC2317 # called through wait_until
focused() { [ "$(xdotool getwindowfocus 2>/dev/null)" = "$(window "$1")" ]; }
focus() {
	local w
	wait_until 20 test -n "$(window "$1")" || true
	w=$(window "$1")
	xdotool mousemove --window "$w" 40 40 2>/dev/null || true
	xdotool windowfocus "$w" 2>/dev/null || true
	wait_until 5 focused "$1" || true
	sleep 0.5
	# The first keys after focusing can be lost: warm up with a key that
	# does nothing anywhere (space would press a focused button).
	xdotool key --delay 100 shift shift || true
	sleep 0.3
}

typein() {
	xdotool type --delay 25 -- "$1"
}

# shot TITLE FILE: a screenshot of that window; screen FILE: of it all.
shot() {
	import -window "$(window "$1")" "$2" 2>>"$T/import.log" || true
}
screen() {
	import -window root "$1" 2>>"$T/import.log" || true
}

# gui_status: the GUI's exit status into RC once it is gone ("timeout" if
# it does not go within 15 s).
gui_status() {
	RC=timeout
	if wait_until 15 _gone "$GUI_PID"; then
		RC=0
		wait "$GUI_PID" || RC=$?
	fi
}

# entry_click: put the keyboard focus into the main window's input box
# (a dialog closing gives it back to the widget that opened it): a click
# at its bottom, left of Send.
entry_click() {
	local w h
	w=$(window '^missive$')
	h=$(xdotool getwindowgeometry "$w" 2>/dev/null |
		sed -n 's/.*Geometry: [0-9]*x\([0-9]*\).*/\1/p')
	xdotool mousemove --window "$w" 400 $((${h:-560} - 24)) click 1 || true
	sleep 0.3
}

# ---- a wrong password: a clear error, in the window ----
start_gui wrong "$T/c/user2"
wait_until 30 traced "login-window: shown" || true
wait_until 10 test -n "$(window 'Log In')" || true
if [ -z "$(window 'Log In')" ]; then
	not_ok "the login window appears" "$(cat "$T/wrong.log")"
	done_testing
fi
ok "the login window appears"
expect_contains "-c FOLDER fills in the server and user from client.conf" \
	"$(cat "$TRACE")" "login-folder: $T/c/user2 for user2 at 127.0.0.1:$PORT"
focus 'Log In'
typein "not-the-password"
xdotool key Return
wait_until 20 traced "login-error:" || true
sleep 0.5
expect_contains "a wrong password is refused with a clear message" \
	"$(cat "$TRACE")" "login-error: Login refused: the user name or password is wrong"
shot 'Log In' "$T/login-error.png"
xdotool key ctrl+q
gui_status
expect_eq "Ctrl+Q in the login window quits with status 0" "$RC" 0

# ---- an unreachable server, a server with another key: clear errors ----
# login_error NAME TEXT: log in from folder $T/c/NAME with the right
# password; the window must say TEXT; then Ctrl+Q.
login_error() {
	local rc=timeout
	start_gui "$1" "$T/c/$1"
	wait_until 30 test -n "$(window 'Log In')" || true
	focus 'Log In'
	typein "111111"
	xdotool key Return
	wait_until 20 traced "login-error: $2" || true
	expect_contains "$3" "$(cat "$TRACE")" "login-error: $2"
	sleep 0.5
	shot 'Log In' "$T/$1.png"
	xdotool key ctrl+q
	if wait_until 15 _gone "$GUI_PID"; then
		rc=0
		wait "$GUI_PID" || rc=$?
	fi
	[ "$rc" = 0 ] || not_ok "missive-gtk ($1) quits with status 0" "status $rc"
}
cp -r "$T/c/user3" "$T/c/user3-port"
sed -i "s/port = $PORT;/port = $(test_port 299);/" "$T/c/user3-port/client.conf"
login_error user3-port "Cannot reach the server 127.0.0.1 port $(test_port 299)" \
	"an unreachable server is named as such"
cp -r "$T/c/user3" "$T/c/user3-key"
"$BIN/missive-keys" server-init "$T/other" >/dev/null
cp "$T/other/server.pub" "$T/c/user3-key/server.pub"
login_error user3-key "The server presented a different key than the one pinned in this folder" \
	"a server with another key than the pinned one is refused, saying so"

# ---- log in with only the folder: typed into the empty folder field ----
# Its key encrypted with the password, as missive-keys client makes it by
# default: the window opens it with the password typed for the login.
"$BIN/missive-keys" passphrase --password-file "$PW_OK" "$T/c/user1" \
	>"$T/passphrase.out" 2>&1
expect_contains "user1's key is encrypted for the GUI's login" \
	"$(head -n 1 "$T/c/user1/user.key")" "BEGIN ENCRYPTED PRIVATE KEY"
start_gui gui
wait_until 30 test -n "$(window 'Log In')" || true
if [ -z "$(window 'Log In')" ]; then
	not_ok "the login window appears again" "$(cat "$T/gui.log")"
	done_testing
fi
focus 'Log In'
typein "$T/c/user1"
xdotool key Return
wait_until 10 traced "login-folder: $T/c/user1 for user1" || true
expect_contains "typing the folder and Enter fills in server and user" \
	"$(cat "$TRACE")" "login-folder: $T/c/user1 for user1 at 127.0.0.1:$PORT"
typein "111111"
sleep 0.3
shot 'Log In' "$T/login.png"
xdotool key Return
wait_until 30 traced "chat-window: shown" || true
wait_until 20 traced "#lobby *** You are in #lobby" || true
expect_contains "Enter in the password field logs in: the chat window" \
	"$(cat "$TRACE")" "#lobby *** You are in #lobby with 2 other devices"
# user3 (Carol) is a member of #lobby whose only device is offline.
wait_until 15 traced "Carol (offline)" || true
expect_contains "the member list keeps an offline member, marked offline" \
	"$(grep -F 'members: #lobby' "$TRACE")" "Bob, Carol (offline)"
check "the folder is remembered for the next login" \
	grep -qF "folder=$T/c/user1" "$HOME/.config/missive/gtk.ini"

focus '^missive$'
typein "GUIMARK-1 hello from the window"
xdotool key Return
wait_until 15 seen b "GUIMARK-1" || true
expect_match "the line-mode client gets the GUI's line" "$(client_out b)" \
	'^\[..:..:..\] #lobby <Alice> GUIMARK-1 hello from the window$'
expect_contains "... and the GUI shows it as its own" "$(cat "$TRACE")" \
	"#lobby <Alice> GUIMARK-1 hello from the window"
wait_until 10 traced "tick: #lobby ✓" || true
expect_contains "... marked stored (✓) once the server has it" \
	"$(cat "$TRACE")" "tick: #lobby ✓"
# ✓✓ once every device the line was stored for has fetched it (1024):
# Bob's line mode has, Carol's offline device has not, so not yet.
if grep -q '= 1024,' "$REPO/common/proto.h"; then
	check_fails "... not delivered (✓✓) while Carol's device is offline" \
		grep -qF "tick: #lobby ✓✓ GUIMARK-1" "$TRACE"
	client_start c "$T/c/user3"
	wait_until 15 seen c "GUIMARK-1" || true
	wait_until 10 traced "tick: #lobby ✓✓ GUIMARK-1" || true
	expect_contains "... delivered (✓✓) once her device has fetched it" \
		"$(cat "$TRACE")" "tick: #lobby ✓✓ GUIMARK-1 hello from the window"
	say c "/quit"
	client_wait c
else
	echo "# skip: 1024 not in this server (common/proto.h has no opcode 1024): no ✓✓ check"
fi

say b "REPLYMARK-1 back from the terminal"
wait_until 15 traced "REPLYMARK-1" || true
expect_contains "the reply appears in the message view" "$(cat "$TRACE")" \
	"#lobby <Bob> REPLYMARK-1 back from the terminal"
say b "/msg user1 PMMARK-1 just for you"
wait_until 15 traced "PMMARK-1" || true
expect_contains "a private message opens its conversation" \
	"$(cat "$TRACE")" "@user2 <Bob> PMMARK-1 just for you"
expect_contains "... counted unread while another is shown" \
	"$(cat "$TRACE")" "unread: @user2 1"

# ---- a room joined from the input box ----
typein "/join guiroom"
xdotool key Return
wait_until 15 traced "#guiroom *** You are in #guiroom" || true
expect_contains "/join in the input box joins (creates) the room" \
	"$(cat "$TRACE")" "#guiroom *** You are in #guiroom with 0 other devices"
say b "/join guiroom"
wait_until 15 traced "Bob (user2) joined" || true
typein "Hello from the GTK client, ROOMMARK-1"
xdotool key Return
wait_until 15 seen b "ROOMMARK-1" || true
expect_match "... and lines go to it" "$(client_out b)" \
	'^\[..:..:..\] #guiroom <Alice> Hello from the GTK client, ROOMMARK-1$'
say b "Got it in the terminal: ROOMMARK-2"
wait_until 15 traced "ROOMMARK-2" || true
expect_contains "... and its replies show" "$(cat "$TRACE")" \
	"#guiroom <Bob> Got it in the terminal: ROOMMARK-2"
sleep 0.5
shot '^missive$' "$T/chat.png"

# click_accept: click Accept Key in the Changed Key dialog.  It is neither
# the default button nor focused (a stray Enter does not accept): click it,
# at the right end of the dialog's header bar (no window manager: the
# dialog draws its own frame).  Its geometry from the window tree:
# "NAME": (...)  WxH+X+Y.
click_accept() {
	local geom dw dx dy rest
	xwininfo -root -tree >"$T/windows.txt" 2>&1 || true
	geom=$(sed -n 's/.*"Changed Key": ([^)]*)  *\([0-9]*x[0-9]*+[0-9-]*+[0-9-]*\).*/\1/p' \
		"$T/windows.txt" | head -n 1)
	dw=${geom%%x*}
	rest=${geom#*+}
	dx=${geom#*x*+}
	dx=${dx%%+*}
	dy=${rest#*+}
	xdotool mousemove $((${dx:-0} + ${dw:-500} - 60)) $((${dy:-0} + 26)) || true
	sleep 0.3
	xdotool click 1 || true
}

# ---- a second device of user2: the changed-key dialog, accepted ----
"$BIN/missive-keys" client --no-passphrase --host 127.0.0.1 --port "$PORT" --device laptop \
	user2 "$T/c/user2b" >/dev/null
printf 'reconnect: { min_ms = 200; max_ms = 1000; };\n' >>"$T/c/user2b/client.conf"
client_start b2 "$T/c/user2b"
wait_until 20 traced "dialog: changed key of user2" || true
expect_contains "a new key of user2 opens the Changed Key dialog" \
	"$(cat "$TRACE")" "dialog: changed key of user2"
# Version 3: user2's new device is a member of every room of user2 at
# once, so user2's first device sends nothing there until it accepts it.
fp2=$("$BIN/missive-keys" fingerprint "$T/c/user2b/user.pub" | awk '{print $2}')
wait_until 20 seen b "device $fp2" || true
say b "/accept user2 $fp2"
wait_until 15 seen b "user2's key $fp2 accepted" || true
focus 'Changed Key'
xdotool search --onlyvisible --pid "$GUI_PID" --name . getwindowname %@ \
	>"$T/windows.txt" 2>&1 || true
screen "$T/changed-key.png"
# The dialog has the focus, so the main window is not active: a message
# now raises a desktop notification (and counts as unread).
say b "NOTIFYMARK while you look elsewhere"
wait_until 15 traced "notification: Bob in #guiroom: NOTIFYMARK" || true
expect_contains "a message while the window is not focused: a notification" \
	"$(cat "$TRACE")" "notification: Bob in #guiroom: NOTIFYMARK while you look elsewhere"
click_accept
wait_until 10 traced "Accepted user2's key SHA256:" || true
expect_contains "clicking Accept Key (not the default) accepts the key shown" \
	"$(cat "$TRACE")" "Accepted user2's key SHA256:"

# ---- compare and verify: double-click Bob in the member list ----
focus '^missive$'
xdotool mousemove --window "$(window '^missive$')" 790 139 click --repeat 2 \
	--delay 80 1 || true
wait_until 10 traced "dialog: keys of user2" || true
expect_contains "double-clicking a member opens their keys" "$(cat "$TRACE")" \
	"dialog: keys of user2"
focus 'Keys of user2'
screen "$T/keys.png"
xdotool key Return
wait_until 10 traced "Verified user2's key SHA256:" || true
expect_contains "Mark Verified (Enter) verifies the key the dialog names" \
	"$(cat "$TRACE")" "Verified user2's key SHA256:"
say b "VERIFIEDMARK from a verified key"
wait_until 15 traced "VERIFIEDMARK" || true
expect_contains "... and user2's lines then carry the verified mark" \
	"$(cat "$TRACE")" "#guiroom <Bob> [verified] VERIFIEDMARK from a verified key"

# ---- the history: export through the file chooser ----
# export_to FILE: /export in the input box opens the Export History
# chooser (as ☰ → Export History… does); the name typed over the one
# offered, Enter saves.
export_to() {
	focus '^missive$'
	entry_click
	typein "/export"
	xdotool key Return
	wait_until 15 test -n "$(window 'Export History')" || true
	focus 'Export History'
	xdotool key ctrl+a
	typein "$1"
	sleep 0.3
	xdotool key Return
}
export_to "$T/gui-export.json"
wait_until 20 traced "info: Exported" || true
expect_contains "Export History… writes the export, saying so" \
	"$(cat "$TRACE")" "info: Exported"
expect_contains "... the JSON export holds the GUI's line" \
	"$(cat "$T/gui-export.json" 2>&1)" '"text": "GUIMARK-1 hello from the window"'
expect_contains "... and the reply it got" \
	"$(cat "$T/gui-export.json" 2>&1)" '"text": "REPLYMARK-1 back from the terminal"'
# A name ending in .txt: the plain-text copy, for reading.
export_to "$T/gui-export.txt"
wait_until 20 traced "as plain text" || true
expect_match "... and a .txt name exports plain text" \
	"$(cat "$T/gui-export.txt" 2>&1)" '#lobby <Alice> GUIMARK-1 hello from the window$'
"$BIN/missive-keys" client --no-passphrase --host 127.0.0.1 --port "$PORT" --device laptop \
	user1 "$T/c/user1b" >/dev/null
out=$("$BIN/missive" -c "$T/c/user1b/client.conf" --password-file "$PW_OK" \
	--import "$T/gui-export.json" 2>&1) || true
expect_match "the line mode imports the GUI's export into another folder" \
	"$out" '^imported [1-9][0-9]* new messages'
# Version 3: enrolling user1b lists it (offline) in user1's rooms: the GUI
# asks about this new device of its own account; accepted.
wait_until 20 traced "dialog: changed key of user1" || true
focus 'Changed Key'
click_accept
wait_until 10 traced "Accepted user1's key SHA256:" || true
expect_contains "a new device of user1 opens the Changed Key dialog, accepted" \
	"$(cat "$TRACE")" "Accepted user1's key SHA256:"
"$BIN/missive" -c "$T/c/user1b/client.conf" --password-file "$PW_OK" \
	--export-text "$T/user1b.txt" >/dev/null 2>&1 || true
expect_match "... with the lines exchanged in the window" \
	"$(cat "$T/user1b.txt" 2>&1)" '#guiroom <Bob> Got it in the terminal: ROOMMARK-2$'

# ---- Import History…: an export of this user merges (nothing new here)
# import_from FILE: /import opens the Import History chooser; Ctrl+L and
# the typed path, Enter opens.
import_from() {
	focus '^missive$'
	entry_click
	typein "/import"
	xdotool key Return
	wait_until 15 test -n "$(window 'Import History')" || true
	focus 'Import History'
	xdotool key ctrl+l
	sleep 0.3
	typein "$1"
	sleep 0.3
	xdotool key Return
}
import_from "$T/gui-export.json"
wait_until 20 traced "info: Imported" || true
expect_contains "Import History… of the GUI's own export adds nothing, saying so" \
	"$(cat "$TRACE")" "info: Imported 0 new messages from $T/gui-export.json"

# ---- a tampered export through Import History…: refused, nothing added
sed 's/REPLYMARK-1/REPLYMARK-9/' "$T/gui-export.json" >"$T/tampered.json" || true
sleep 3
before=$(sha256sum <"$T/c/user1/history" 2>&1)
import_from "$T/tampered.json"
wait_until 20 traced "dialog: Import Failed" || true
expect_contains "a tampered export is refused with a clear message" \
	"$(cat "$TRACE")" "dialog: Import Failed: Nothing was imported: $T/tampered.json"
expect_contains "... that says it was altered" \
	"$(grep -F 'Import Failed' "$TRACE")" "altered"
expect_eq "... and the history file is unchanged" \
	"$(sha256sum <"$T/c/user1/history" 2>&1)" "$before"
screen "$T/import-failed.png"
focus 'Import Failed'
xdotool key Return
sleep 0.5

# ---- screenshots: real images of the windows ----
for f in login login-error user3-port user3-key chat changed-key keys \
	import-failed; do
	if [ -s "$T/$f.png" ] && identify "$T/$f.png" >/dev/null 2>&1; then
		ok "screenshot $f.png ($(identify -format '%wx%h' "$T/$f.png"))"
	else
		not_ok "screenshot $f.png" "$(cat "$T/import.log" 2>/dev/null)"
	fi
done

# ---- Ctrl+Q: a clean goodbye, and no sanitizer report ----
focus '^missive$'
# Shown at the quit: the next login comes back to it.
typein "/msg user2"
xdotool key Return
wait_until 10 traced "shown: @user2" || true
xdotool key ctrl+q
gui_status
expect_eq "Ctrl+Q quits with status 0" "$RC" 0
wait_until 10 seen b "Alice (user1) left #lobby" || true
expect_contains "... after saying goodbye to the server" "$(client_out b)" \
	"Alice (user1) left #lobby (quit)"
# A line said in #guiroom (Bob's room) while user1 is away (Bob accepts user1's new
# device first): the next login shows it under a divider, unread.
fp1b=$("$BIN/missive-keys" fingerprint "$T/c/user1b/user.pub" | awk '{print $2}')
wait_until 10 seen b "device $fp1b" || true
say b "/accept user1 $fp1b"
wait_until 10 seen b "user1's key $fp1b accepted" || true
say b "AWAYMARK-1 said while you were away"
wait_until 10 seen b "AWAYMARK-1" || true
# ---- a second login: the earlier lines, from the history ----
lines=$(wc -l <"$TRACE")
start_gui again
wait_until 30 test -n "$(window 'Log In')" || true
focus 'Log In'
typein "111111"
xdotool key Return
wait_until 30 traced "chat-window: shown" || true
# shellcheck disable=SC2317 # called through wait_until
since_login() { tail -n +"$lines" "$TRACE" | grep -qF -- "$1"; }
wait_until 20 since_login "(past) <Alice> GUIMARK-1" || true
expect_contains "on the next login #lobby shows the earlier lines as history" \
	"$(tail -n +"$lines" "$TRACE")" "#lobby (past) <Alice> GUIMARK-1 hello from the window"
expect_contains "... the replies too" "$(tail -n +"$lines" "$TRACE")" \
	"#lobby (past) <Bob> REPLYMARK-1 back from the terminal"
wait_until 20 since_login "AWAYMARK-1" || true
expect_contains "a line said while away comes under a \"new since\" divider" \
	"$(tail -n +"$lines" "$TRACE" | grep -A1 -F '*** ── new since you were away ──')" \
	"AWAYMARK-1 said while you were away"
last_shown() { tail -n +"$lines" "$TRACE" | grep '^shown: ' | tail -n 1; }
# shellcheck disable=SC2317 # called through wait_until
shown_is() { [ "$(last_shown)" = "shown: $1" ]; }
wait_until 10 shown_is @user2 || true
expect_eq "the next login shows @user2 again, the conversation shown at the quit" \
	"$(last_shown)" "shown: @user2"
sleep 0.5
shot '^missive$' "$T/chat-history.png"
focus '^missive$'
xdotool key ctrl+q
gui_status
expect_eq "... and Ctrl+Q quits again with status 0" "$RC" 0
if grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error' \
	"$T"/*.log; then
	not_ok "no sanitizer report from missive-gtk" "$(cat "$T"/*.log)"
else
	ok "no sanitizer report from missive-gtk"
fi
say b "/quit"
client_wait b
say b2 "/quit"
client_wait b2
done_testing
