#!/usr/bin/env bash
# Devices and trust in line mode (issue 15, items 1 and 4): a client
# folder pins its own key as verified; a second device of the same account
# is a new device that blocks sending until it is accepted by its
# fingerprint (never by the user name alone); /devices shows a
# conversation's devices with their trust; /accept USER FP accepts only
# the key it names, and a prefix that fits no key is a clear error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

PORT=$(test_port 19)
server_setup "$PORT"
server_start

fp1=$(fp_of "$T/c/user1")
fp2=$(fp_of "$T/c/user2")
fp3=$(fp_of "$T/c/user3")

expect_eq "missive-keys pins the folder's own key, verified" \
	"$(cat "$T/c/user1/known_keys")" "user1 $fp1 verified"
expect_eq "... in a file only the user reads" \
	"$(stat -c %a "$T/c/user1/known_keys")" 600

client_start a "$T/c/user1"
client_start b "$T/c/user2"
wait_until 20 seen a "you are in #lobby" || true
wait_until 20 seen b "you are in #lobby" || true
wait_until 10 seen a "Pinned user2's key" || true

# ---- a second device of user1 ----
device_folder user1 "$T/c/user1b" laptop
fp1b=$(fp_of "$T/c/user1b")
client_start a2 "$T/c/user1b"
wait_until 20 seen a "WARNING: the server lists a device of your own account" || true
expect_contains "user1 is warned about a new device of its own account" \
	"$(client_out a)" "own account (user1) that this folder does not know: $fp1b"
expect_eq "... which is not pinned on first use" \
	"$(grep -c "$fp1b" "$T/c/user1/known_keys" || true)" 0
say a "GHOSTMARK must not go out"
wait_until 10 seen a "not sent to lobby" || true
expect_contains "user1's line is refused, naming the key" "$(client_out a)" \
	"not sent to lobby: user1 has a key not accepted, $fp1b"

say a "/devices"
wait_until 10 seen a "$fp1b  CHANGED, not accepted" || true
expect_contains "/devices lists this device" "$(client_out a)" \
	"***   user1 $fp1  this device"
expect_contains "... user2's device" "$(client_out a)" \
	"***   user2 $fp2  pinned, not verified"
expect_contains "... and the new device, not accepted" "$(client_out a)" \
	"***   user1 $fp1b  CHANGED, not accepted"

say a "/accept user1"
wait_until 10 seen a "accepted by its fingerprint only" || true
expect_contains "/accept USER alone is refused for one's own account" \
	"$(client_out a)" "a device of your own account is accepted by its fingerprint only"
say a "/accept user2 SHA256:nosuchkey"
wait_until 10 seen a "no key of user2 starts with" || true
expect_contains "a prefix that fits no key: a clear error" "$(client_out a)" \
	"no key of user2 starts with SHA256:nosuchkey"
# user3 is a member of the lobby while offline: its device is listed
# (version 3) and pinned on first use like user2's.
expect_eq "... and nothing was accepted" \
	"$(cat "$T/c/user1/known_keys")" "user1 $fp1 verified
user2 $fp2 seen
user3 $fp3 seen"

say a "/accept user1 ${fp1b:0:20}"
wait_until 10 seen a "user1's key $fp1b accepted" || true
expect_contains "/accept USER PREFIX accepts the key it names" "$(client_out a)" \
	"user1's key $fp1b accepted"
expect_contains "... saved in known_keys" "$(cat "$T/c/user1/known_keys")" \
	"user1 $fp1b seen"
say a "AFTERMARK to both devices"
wait_until 10 seen a2 "AFTERMARK" || true
wait_until 10 seen b "AFTERMARK" || true
expect_eq "after /accept the line reaches the new device and user2" \
	"$(grep -c AFTERMARK "$T/a2.out"),$(grep -c AFTERMARK "$T/b.out")" "1,1"
expect_eq "the refused line reached nobody" \
	"$(cat "$T/a2.out" "$T/b.out" | grep -c GHOSTMARK || true)" 0

say a "/verify user2 $fp2"
wait_until 10 seen a "user2's key $fp2 verified" || true
expect_contains "/verify USER FP verifies that key" "$(cat "$T/c/user1/known_keys")" \
	"user2 $fp2 verified"
say a "/devices #lobby"
wait_until 10 seen a "$fp2  verified" || true
expect_contains "/devices shows the new trust" "$(client_out a)" \
	"***   user2 $fp2  verified"

for n in a a2 b; do
	say $n "/quit"
done
for n in a a2 b; do
	client_wait $n
	expect_eq "client $n quits with status 0" "$RC" 0
done
done_testing
