#!/usr/bin/env bash
# Rooms, private messages and end-to-end encryption with real processes:
# three users in two rooms plus private messages; each line reaches exactly
# its audience, once, in order.  The server's log and its live memory hold
# no plaintext (while the same search finds the keys it does hold).  A
# member who leaves is not handed the next sender key.  A new key for a
# user blocks sending until it is accepted.  Envelopes between users open
# with the openssl command line.  A restarted client comes back to the
# room current when it quit, unless it left that room meanwhile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

TOOLS=${MISSIVE_TOOLS:-$REPO/build/san/tests/tools}
PORT=$(test_port 6)
server_setup "$PORT"
server_start


for n in a b c; do
	case $n in a) u=user1 ;; b) u=user2 ;; c) u=user3 ;; esac
	client_start $n "$T/c/$u"
	wait_until 20 seen $n "you are in #lobby" || true
done
expect_contains "user1 logs in into #lobby" "$(client_out a)" "you are in #lobby"
wait_until 10 seen a "Pinned user3's key" || true
expect_contains "user1 pins user3's key on first use" "$(client_out a)" \
	"Pinned user3's key $(fp_of "$T/c/user3")"
expect_contains "... and writes it to known_keys" "$(cat "$T/c/user1/known_keys")" \
	"user3 $(fp_of "$T/c/user3") seen"

# ---- two rooms: #dev (user1, user2) and #lobby (everyone) ----
say a "/join dev"
wait_until 10 seen a "you are in #dev" || true
say b "/join #dev"
wait_until 10 seen b "you are in #dev with 1 other" || true
wait_until 10 seen a "Bob (user2) joined #dev" || true
expect_contains "user1 sees user2 join #dev" "$(client_out a)" "Bob (user2) joined #dev"
for i in 1 2 3; do say a "DEVMARK-$i from alice"; done
say b "DEVMARK-4 from bob"
say c "LOBBYMARK-1 from carol"
say a "/msg user3 PMMARK-1 alice to carol"
wait_until 10 seen c "PMMARK-1" || true
say c "/msg user1 PMMARK-2 carol to alice"
wait_until 10 seen b "DEVMARK-3" || true
wait_until 10 seen a "DEVMARK-4" || true
wait_until 10 seen a "LOBBYMARK-1" || true
wait_until 10 seen b "LOBBYMARK-1" || true
wait_until 10 seen a "PMMARK-2" || true

expect_eq "user2 gets user1's #dev lines once each, in order" \
	"$(grep -o 'DEVMARK-[0-9] from alice' "$T/b.out" | tr '\n' ,)" \
	"DEVMARK-1 from alice,DEVMARK-2 from alice,DEVMARK-3 from alice,"
expect_match "... shown as [HH:MM:SS] #dev <Alice> text" "$(client_out b)" \
	'^\[..:..:..\] #dev <Alice> DEVMARK-1 from alice$'
expect_eq "user1 gets user2's #dev line once" "$(grep -c 'DEVMARK-4' "$T/a.out")" 1
expect_eq "user3, outside #dev, gets none of it" "$(grep -c 'DEVMARK' "$T/c.out" || true)" 0
expect_eq "nobody gets their own line back" \
	"$(shown a | grep -c 'from alice' || true),$(shown b | grep -c 'from bob' || true)" "0,0"
expect_eq "both others get the #lobby line once" \
	"$(grep -c '#lobby <Carol> LOBBYMARK-1' "$T/a.out"),$(grep -c '#lobby <Carol> LOBBYMARK-1' "$T/b.out")" "1,1"
expect_match "user3 gets user1's private message as @user1" "$(client_out c)" \
	'^\[..:..:..\] @user1 <Alice> PMMARK-1 alice to carol$'
expect_match "user1 gets user3's answer as @user3" "$(client_out a)" \
	'^\[..:..:..\] @user3 <Carol> PMMARK-2 carol to alice$'
expect_eq "user2 gets no private message" "$(grep -c 'PMMARK' "$T/b.out" || true)" 0

say c "/rooms"
wait_until 10 seen c "*** rooms" || true
expect_match "/rooms lists both rooms with their sizes" "$(client_out c)" \
	'rooms \(2\): .*(dev \(2\).*lobby \(3\)|lobby \(3\).*dev \(2\))'
say c "/who dev"
wait_until 10 seen c "*** online (2)" || true
expect_match "/who dev lists its two members" "$(client_out c)" \
	'online \(2\): (Alice \(user1\), Bob \(user2\)|Bob \(user2\), Alice \(user1\))'

# ---- the server cannot read any of it ----
expect_match "the console logs each message as ciphertext size and prefix" \
	"$(server_log)" 'chat id=[0-9]+ user=user1 conv=dev bytes=[0-9]+ devices=[0-9]+ e2e=[A-Za-z0-9+/]{16}\.\.\.$'
if grep -qE 'MARK-[0-9]' "$T/server.log"; then
	not_ok "no plaintext in the server's log" "$(grep -E 'MARK-[0-9]' "$T/server.log")"
else
	ok "no plaintext in the server's log"
fi
# The search can see the server's heap: it finds a piece of user1's public
# key, which the server holds for the key directory.
spki=$(openssl pkey -pubin -in "$T/c/user1/user.pub" -outform DER | base64 -w0 | cut -c 100-160)
"$TOOLS/memgrep" "$SRV_PID" "$spki" >"$T/mem-control.out" 2>&1 || true
expect_contains "memgrep finds what the server does hold (user1's key)" \
	"$(cat "$T/mem-control.out")" "found $spki"
rc=0
"$TOOLS/memgrep" "$SRV_PID" "DEVMARK-1 from alice" "DEVMARK-4 from bob" \
	"LOBBYMARK-1 from carol" "PMMARK-1 alice to carol" "PMMARK-2 carol to alice" \
	>"$T/mem-srv.out" 2>&1 || rc=$?
expect_eq "no marker anywhere in the live server's memory" "$rc:$(grep -c '^absent' "$T/mem-srv.out")" "0:5"

# ---- a member who leaves gets no key for what follows ----
fp2=$(fp_of "$T/c/user2")
say b "/leave"
wait_until 10 seen b "you left #dev" || true
wait_until 10 seen a "Bob (user2) left #dev (left)" || true
expect_contains "user1 sees user2 leave #dev" "$(client_out a)" "Bob (user2) left #dev (left)"
say c "/join dev"
wait_until 10 seen a "Carol (user3) joined #dev" || true
keys_before=$(grep -c "keys id=.* user=user1 conv=dev" "$T/server.log" || true)
say a "DEVMARK-5 after bob left"
wait_until 10 seen c "DEVMARK-5" || true
expect_contains "user3, new in #dev, reads the next line" "$(client_out c)" "#dev <Alice> DEVMARK-5 after bob left"
expect_eq "user2, gone, does not get it" "$(grep -c 'DEVMARK-5' "$T/b.out" || true)" 0
newkeys=$(grep "keys id=.* user=user1 conv=dev" "$T/server.log" | tail -n +$((keys_before + 1)))
expect_contains "user1 made a new sender key for #dev, sent to user3" "$newkeys" "to=$(fp_of "$T/c/user3")"
if printf '%s\n' "$newkeys" | grep -qF "to=$fp2"; then
	not_ok "... and not to user2, who left" "$newkeys"
else
	ok "... and not to user2, who left"
fi
expect_eq "user3 did not get the #dev lines from before it joined" \
	"$(grep -c 'DEVMARK-[1-4]' "$T/c.out" || true)" 0

# ---- a new key for user2 blocks sending to it until accepted ----
device_folder user2 "$T/c/user2b" laptop
fp2b=$(fp_of "$T/c/user2b")
client_start b2 "$T/c/user2b"
wait_until 20 seen a "WARNING: user2 presented a key that is not pinned" || true
expect_contains "user1 warns that user2 has a key that is not pinned" "$(client_out a)" \
	"WARNING: user2 presented a key that is not pinned: $fp2b (pinned: $fp2)"
say a "/join lobby"
wait_until 10 seen a "you are in #lobby" || true
say a "BLOCKEDMARK must not go out"
wait_until 10 seen a "not sent to lobby" || true
expect_contains "user1's line to #lobby is refused, naming the key" "$(client_out a)" \
	"not sent to lobby: user2 has a key not accepted, $fp2b"
say a "/fingerprint user2"
wait_until 10 seen a "CHANGED, not accepted" || true
expect_contains "/fingerprint user2 shows the pinned key" "$(client_out a)" "$fp2  pinned, not verified"
expect_contains "... and the new one, not accepted" "$(client_out a)" "$fp2b  CHANGED, not accepted"
say a "/accept user2"
wait_until 10 seen a "user2's key $fp2b accepted" || true
say a "AFTERMARK accepted"
wait_until 10 seen b2 "AFTERMARK" || true
wait_until 10 seen b "AFTERMARK" || true
expect_eq "after /accept the line reaches both of user2's devices" \
	"$(grep -c 'AFTERMARK' "$T/b.out"),$(grep -c 'AFTERMARK' "$T/b2.out")" "1,1"
expect_eq "the refused line reached nobody" \
	"$(cat "$T/b.out" "$T/b2.out" "$T/c.out" | grep -c BLOCKEDMARK || true)" 0
expect_contains "known_keys now holds user2's second key" "$(cat "$T/c/user1/known_keys")" \
	"user2 $fp2b seen"
say a "/verify user2 $fp2"
say a "/verify user2 ${fp2b:0:20}"
wait_until 10 seen a "user2's key $fp2b verified" || true
expect_eq "/verify USER FP marks each key verified in known_keys" \
	"$(grep -c '^user2 .* verified$' "$T/c/user1/known_keys")" 2

# ---- envelopes between users are standard (openssl opens them) ----
env=$T/skd
mkdir -p "$env"
check "a sender key is distributed from user1 to user2 as the client does" \
	"$TOOLS/envelope-tool" sender-key "$T/c/user2/user.pub" "$T/c/user1/user.key" \
	dev user1 "$env"
check "openssl pkeyutl (OAEP, SHA-256) opens it with user2's key" \
	openssl pkeyutl -decrypt -inkey "$T/c/user2/user.key" -in "$env/wrapped.bin" \
	-out "$env/k.bin" -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
expect_eq "... to a 32-byte key" "$(stat -c %s "$env/k.bin" 2>/dev/null)" 32
check_fails "user3's key does not open it" \
	openssl pkeyutl -decrypt -inkey "$T/c/user3/user.key" -in "$env/wrapped.bin" \
	-out "$env/k3.bin" -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
# The transcript by hand from PROTOCOL.md 8.1: label, m(room), m(sender),
# m(recipient fingerprint), id, Ed25519 public key.
m() { printf "\\$(printf %03o $((${#1} >> 8)))\\$(printf %03o $((${#1} & 255)))%s" "$1"; }
{ printf 'missive sender key v2\n'; m dev; m user1; m "$fp2"
  cat "$env/id.bin" "$env/edpub.bin"; } >"$env/transcript"
{ printf 'missive envelope v2 sender key\n'; printf '\001\200'; cat "$env/wrapped.bin" "$env/transcript"; } >"$env/signed.bin"
check "openssl dgst (PSS) verifies user1's signature over it" \
	openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
	-verify "$T/c/user1/user.pub" -signature "$env/sig.bin" "$env/signed.bin"

# ---- a restart comes back to the current room, if it is still ours ----
say c "/quit"
client_wait c
client_start c2 "$T/c/user3"
# Typed at once: the line mode reads it once the login has listed the rooms.
say c2 "RESTOREMARK-1 typed after the restart"
wait_until 20 seen a "RESTOREMARK-1" || true
expect_contains "user3, restarted, is back in #dev, the room current at its quit" \
	"$(client_out c2)" "*** current room: #dev"
expect_contains "... and the line typed goes there" "$(client_out a)" \
	"#dev <Carol> RESTOREMARK-1 typed after the restart"
expect_eq "... not to the lobby" "$(grep -c RESTOREMARK-1 "$T/b.out" || true)" 0
say c2 "/quit"
client_wait c2
# user3 leaves #dev from another device meanwhile: the lobby it is.
device_folder user3 "$T/c/user3b" tablet
fp3b=$(fp_of "$T/c/user3b")
client_start c3b "$T/c/user3b"
wait_until 20 seen c3b "you are in #dev" || true
say c3b "/leave dev"
wait_until 10 seen c3b "you left #dev" || true
say c3b "/quit"
client_wait c3b
client_start c4 "$T/c/user3"
# The tablet and user2's laptop are in the lobby: accept both keys first.
say c4 "/accept user3 $fp3b"
say c4 "/accept user2 $fp2b"
say c4 "RESTOREMARK-2 after leaving on the tablet"
wait_until 20 seen b "RESTOREMARK-2" || true
expect_contains "a room left from another device meanwhile: the restart stays in #lobby" \
	"$(client_out c4)" "*** you are no longer in #dev: lines go to #lobby"
expect_contains "... and the line typed goes to the lobby" "$(client_out b)" \
	"#lobby <Carol> RESTOREMARK-2 after leaving on the tablet"
expect_eq "... not to #dev" "$(grep -c '#dev <Carol> RESTOREMARK-2' "$T/a.out" || true)" 0

for n in a b b2 c4; do say $n "/quit"; done
for n in a b b2 c4; do
	client_wait $n
	expect_eq "client $n quits with status 0" "$RC" 0
done
done_testing
