#!/usr/bin/env bash
# The kill loop (issue 16, item 3): real line-mode clients stream numbered
# lines while missived is SIGKILLed at random moments and restarted on the
# same port and database, KILLS times (default 60; `make soak`: hundreds),
# a client, sender or receiver (with RECEIVER_KILLS=0 a sender only), is
# SIGKILLed and restarted now and then, so is the network link of a sender and of a
# receiver (each goes through a tests/tools/fault-proxy that forwards half
# a chunk, then is SIGKILLed and restarted: the server alive, half a record
# and then the end), and MariaDB is SIGKILLed and restarted once, half way
# (not with DB_KILL=0).  Then it counts.
#
#   user1 (Alice)  sends r1-NNNNNN into #lobby and p1-NNNNNN to user2
#                  (through a fault-proxy)
#   user3 (Carol)  sends r3-NNNNNN into #lobby
#   user2 on two devices (folders user2, user2b: through a fault-proxy)
#                  receives all three
#
# The lines a sender saw acknowledged (1020) are the ones of its own in its
# history at the end (the line mode writes a line there when the server
# confirms it, and saves it soon after: a sender killed in between forgets
# a few confirmations, which makes the set smaller, never wrong).  Every
# receiver device must have shown each of them, in its output and in its
# history; none may be shown twice by one process, and in the order each
# was first shown the lines of a stream must be increasing.  A receiver
# killed after it showed a line and before it saved and acknowledged it
# shows it again when it comes back: that is counted apart ("shown again
# after a client kill"), as are lines never acknowledged (missing or not).
#
#   KILLS=N  server kills (default 60)
#   SEED=S   the PRNG seed of the kill schedule (printed; default: the time)
#   RECEIVER_KILLS=0  kill senders only.  Receivers are killed too by
#            default: a receiver acknowledges a sender key (1015) only once
#            its history holds it, and takes the peers' keys back from the
#            history at start, so the lines after it that it had not
#            acknowledged, which come again, still open (before that, they
#            were lost: "sent under a key we were not given").
#   DB_KILL=0  do not kill MariaDB (default 1: once, half way; it stays
#            down until a sender was refused a line).  Lines refused
#            (1021) while it is down are not counted; a sender key lost
#            with a commit that failed makes the server refuse the
#            sender's next lines there until it sends a new key, so that
#            none is stored under a key a device never got.
#   INJECT_FAULTS=1  checks the checker: before counting, user2's output
#            loses its first line of r1, shows the next two swapped and
#            the fourth twice, which must count as 1 lost, 1 reordered
#            and 1 duplicated (and the test passes only so).
# The schedule (what was killed when) is in $T/schedule.log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"

KILLS=${KILLS:-60}
SEED=${SEED:-$(date +%s)}
RANDOM=$SEED
printf '# seed %s: replay with SEED=%s KILLS=%s %s\n' "$SEED" "$SEED" \
	"$KILLS" "$0"

PORT=$(test_port 21)
server_setup "$PORT" 'limits: { max_clients = 100; conn_rate_per_addr = 0;
  idle_timeout = 0; };'
device_folder user2 "$T/c/user2b" tablet
server_start
START=$SECONDS

# proxy_start NAME: NAME's link, on the port its folder names.
declare -A PROXY PPORT
PPORT[user1]=$(test_port 22)
PPORT[user2b]=$(test_port 23)
proxy_start() {
	"$MISSIVE_TOOLS/fault-proxy" "${PPORT[$1]}" "$PORT" \
		>"$T/$1.proxy" 2>&1 &
	PROXY[$1]=$!
	register_pid $!
	wait_until 10 grep -q ready "$T/$1.proxy" || true
}
for n in user1 user2b; do
	sed -i "s/port = $PORT;/port = ${PPORT[$n]};/" "$T/c/$n/client.conf"
	proxy_start "$n"
done

# Every folder knows every key (the second device of user2 would otherwise
# hold user1's lines until accepted: 19-devices.sh tests that).
KEYS=$(for f in user1 user2 user2b user3; do
	echo "${f%b} $(fp_of "$T/c/$f") verified"
done)
for f in user1 user2 user2b user3; do
	printf '%s\n' "$KEYS" >"$T/c/$f/known_keys"
done

# A dead process's id leaves the cleanup's list once reaped: ids are
# reused, and hundreds of restarts would otherwise leave stale ones there.
reap() {
	local pid=$1 keep=() p
	wait "$pid" 2>/dev/null || true
	for p in "${_PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	_PIDS=("${keep[@]}")
}

log() { printf '%6ds %s\n' $((SECONDS - START)) "$*" >>"$T/schedule.log"; }

# A client's standard input is a FIFO that this shell also holds open for
# reading and writing: lines wait there while the client is dead, and the
# next instance reads them.  Instance K of NAME writes $T/NAME.K.out.
declare -A CPID CFOLDER CINST KEEP
crash_client() {
	local name=$1 fd
	CINST[$name]=$((${CINST[$name]:-0} + 1))
	if [ -z "${KEEP[$name]:-}" ]; then
		mkfifo "$T/$name.in"
		exec {fd}<>"$T/$name.in"
		KEEP[$name]=$fd
		CFOLDER[$name]=$2
	fi
	"$BIN/missive" -c "${CFOLDER[$name]}/client.conf" \
		--password-file "$PW_OK" <"$T/$name.in" \
		>"$T/$name.${CINST[$name]}.out" 2>&1 &
	CPID[$name]=$!
	register_pid $!
}
# A client whose first connection fails gives up (exit 5): a restarted one
# must have logged in before the server may be killed again.
exited=0
kill_client() {
	if kill -KILL "${CPID[$1]}" 2>/dev/null; then
		log "client $1 killed (instance ${CINST[$1]})"
	else
		exited=$((exited + 1))
		log "client $1 had ended by itself (instance ${CINST[$1]})"
	fi
	reap "${CPID[$1]}"
	crash_client "$1"
	wait_until 30 seen "$1.${CINST[$1]}" "logged in" || true
}

# feed NAME: user NAME's lines, 10 a second per stream, until $T/stop;
# then the last number of each stream goes to $T/NAME.fed.
feed() {
	local fd=${KEEP[$1]} r=0 p=0
	while [ ! -e "$T/stop" ]; do
		r=$((r + 1))
		printf 'r%s-%06d\n' "${1#user}" "$r" >&"$fd"
		if [ "$1" = user1 ] && [ $((r % 3)) -eq 0 ]; then
			p=$((p + 1))
			printf '/msg user2 p1-%06d\n' "$p" >&"$fd"
		fi
		sleep 0.1
	done
	echo "r${1#user} $r p${1#user} $p" >"$T/$1.fed"
}

# cut_link NAME: the next chunk from NAME half forwarded, then the link
# gone (both ends closed) and back.
cuts=0
cut_link() {
	kill -USR2 "${PROXY[$1]}"
	sleep "$(printf '0.%03d' $((RANDOM % 300)))"
	kill -KILL "${PROXY[$1]}"
	reap "${PROXY[$1]}"
	log "link of $1 cut ($(grep -c '^cut' "$T/$1.proxy" || true) chunk cut)"
	cuts=$((cuts + 1))
	proxy_start "$1"
}

kill_server() {
	kill -KILL "$SRV_PID"
	reap "$SRV_PID"
	log "server killed"
	server_start "$T/server.log.$k"
}

for n in user1 user2 user2b user3; do crash_client "$n" "$T/c/$n"; done
for n in user1 user2 user2b user3; do
	wait_until 30 seen "$n.1" "you are in #lobby" || true
done
feed user1 &
FEED1=$!
register_pid "$FEED1"
feed user3 &
FEED3=$!
register_pid "$FEED3"
wait_until 30 seen user2.1 "r1-000001" || true

# more_shown N: user2 has shown more than N lines.
# shellcheck disable=SC2317 # called by wait_until
more_shown() {
	[ "$(grep -c ' r[13]-' "$T/user2.${CINST[user2]}.out" || true)" -gt "$1" ]
}

# ---- the kill loop ----
CLIENTS=(user1 user3)
[ "${RECEIVER_KILLS:-1}" = 0 ] || CLIENTS+=(user2 user2b)
client_kills=0
for ((k = 1; k <= KILLS; k++)); do
	# A moment anywhere from the restart itself (logins, backlogs) to
	# well into the stream.
	sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
	[ $((RANDOM % 2)) -eq 0 ] || sleep 1
	kill_server
	if [ $((RANDOM % 4)) -eq 0 ]; then
		sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
		kill_client "${CLIENTS[RANDOM % ${#CLIENTS[@]}]}"
		client_kills=$((client_kills + 1))
	fi
	if [ $((RANDOM % 4)) -eq 0 ]; then
		sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
		cut_link "$([ $((RANDOM % 2)) -eq 0 ] && echo user1 || echo user2b)"
	fi
	if [ "${DB_KILL:-1}" != 0 ] && [ "$k" -eq $(((KILLS + 1) / 2)) ]; then
		# Killed while lines flow (not while everybody logs in again).
		shown=$(grep -c ' r[13]-' "$T/user2.${CINST[user2]}.out" || true)
		wait_until 20 more_shown $((shown + 10)) || true
		DB_PID=$(tr -dc '0-9' <"$T/var/db/mariadbd.pid")
		kill -KILL "$DB_PID"
		log "MariaDB killed"
		# Down until the server has refused lines (1021).
		wait_until 20 grep -q 'was not stored' \
			"$T/user1.${CINST[user1]}.out" \
			"$T/user3.${CINST[user3]}.out" || true
		"$REPO/scripts/db.sh" start >/dev/null
		log "MariaDB restarted"
	fi
done
log "the loop ends"
: >"$T/stop"
reap "$FEED1"
reap "$FEED3"
read -r _ R1 _ P1 <"$T/user1.fed"
read -r _ R3 _ _ <"$T/user3.fed"
printf '# %d server kills, %d client kills, %d link cuts, %d MariaDB restarts in %d s; fed r1 %d, p1 %d, r3 %d\n' \
	"$KILLS" "$client_kills" "$cuts" "${DB_KILL:-1}" $((SECONDS - START)) \
	"$R1" "$P1" "$R3"

# The last line of each stream shows that everything before it that will
# ever come has come (the order per sender is checked below).
for n in user2 user2b; do
	out=$n.${CINST[$n]}
	wait_until 60 seen "$out" "$(printf 'r1-%06d' "$R1")" || true
	wait_until 20 seen "$out" "$(printf 'p1-%06d' "$P1")" || true
	wait_until 20 seen "$out" "$(printf 'r3-%06d' "$R3")" || true
done
for n in user1 user3 user2 user2b; do
	printf '/quit\n' >&"${KEEP[$n]}"
	wait_until 30 _gone "${CPID[$n]}" || true
	reap "${CPID[$n]}"
	"$BIN/missive" -c "${CFOLDER[$n]}/client.conf" --password-file \
		"$PW_OK" --export-text "$T/$n.history" >/dev/null 2>&1 ||
		: >"$T/$n.history"
done

WANT=0
if [ "${INJECT_FAULTS:-0}" = 1 ]; then
	WANT=1
	out=$T/user2.${CINST[user2]}.out
	mapfile -t at < <(grep -n ' r1-[0-9]*$' "$out" | head -n 4 | cut -d: -f1)
	awk -v a="${at[0]}" -v b="${at[1]}" -v c="${at[2]}" -v d="${at[3]}" '
	NR == a { next }
	NR == b { held = $0; next }
	NR == c { print; print held; next }
	NR == d { print }
	{ print }' "$out" >"$out.x"
	mv "$out.x" "$out"
fi

# The lines of a history, or an output, as "conversation text".
history_lines() {
	sed -n 's/^[0-9-]* [0-9:]* \([#@][^ ]*\) <[^>]*> \(\[verified\] \)\{0,1\}\([rp][13]-[0-9]\{6\}\)$/\1 \3/p' "$1"
}
shown_lines() {
	sed -n 's/^\[[^]]*\] \([#@][^ ]*\) <[^>]*> \(\[key not accepted\] \)\{0,1\}\([rp][13]-[0-9]\{6\}\)$/\1 \3/p' "$1"
}
history_lines "$T/user1.history" | grep ' [rp]1-' >"$T/acked" || true
history_lines "$T/user3.history" | grep ' r3-' >>"$T/acked" || true
A=$(wc -l <"$T/acked")
# The lines the senders were told were not stored (1021): nobody may get them.
cat "$T"/user1.*.out "$T"/user3.*.out | grep 'was not stored' |
	grep -o '"[rp][13]-[0-9]*"$' | tr -d '"' >"$T/refused" || true

# count RECEIVER: "lost L duplicated D reordered R again G unacked-missing
# M unacked-shown S misrouted W notkept K refused F" for one device, from
# its outputs (instance by instance) and its history; the lines at fault
# go to $T/RECEIVER.faults.
count() {
	local n=$1 i files=()
	for ((i = 1; i <= CINST[$n]; i++)); do
		shown_lines "$T/$n.$i.out" | sed "s/^/$i /" >"$T/$n.$i.shown"
		files+=("$T/$n.$i.shown")
	done
	history_lines "$T/$n.history" >"$T/$n.kept"
	awk -v fed="r1 $R1 p1 $P1 r3 $R3" -v faults="$T/$n.faults" '
	FILENAME == ARGV[1] { acked[$2] = 1; next }
	FILENAME == ARGV[2] { refused[$1] = 1; next }
	FILENAME == ARGV[3] { kept[$2]++; next }
	{
		inst = $1; conv = $2; line = $3
		stream = substr(line, 1, 2); num = substr(line, 4) + 0
		want = stream == "p1" ? "@user1" : "#lobby"
		if (conv != want) {
			misrouted++; print "misrouted " conv " " line >faults
		}
		if ((inst, line) in shown) {
			dup++; print "duplicated in instance " inst ": " line >faults
			next
		}
		shown[inst, line] = 1
		if (line in first) {
			again++
			next
		}
		first[line] = inst
		if (num < top[stream]) {
			reord++
			print "reordered: " line " after " \
			    sprintf("%s-%06d", stream, top[stream]) >faults
		} else
			top[stream] = num
	}
	END {
		split(fed, f, " ")
		for (s = 1; s < 6; s += 2)
			for (i = 1; i <= f[s + 1]; i++) {
				line = sprintf("%s-%06d", f[s], i)
				if (line in acked) {
					if (!(line in first)) {
						lost++; print "lost: " line >faults
					}
					if (!(line in kept)) {
						notkept++
						print "not in the history: " line >faults
					}
				} else if (line in first)
					ushown++
				else
					umiss++
			}
		for (line in first)
			if (line in refused) {
				refshown++
				print "refused (1021) but shown: " line >faults
			}
		for (line in kept)
			if (kept[line] > 1) {
				dup++; print "twice in the history: " line >faults
			}
		printf "lost %d duplicated %d reordered %d again %d unacked-missing %d unacked-shown %d misrouted %d notkept %d refused %d\n",
		    lost, dup, reord, again, umiss, ushown, misrouted, notkept,
		    refshown
	}' "$T/acked" "$T/refused" "$T/$n.kept" "${files[@]}"
}

: >"$T/user2.faults"
: >"$T/user2b.faults"
read -r _ L2 _ D2 _ O2 _ G2 _ M2 _ S2 _ W2 _ K2 _ F2 < <(count user2)
read -r _ L2b _ D2b _ O2b _ G2b _ M2b _ S2b _ W2b _ K2b _ F2b < <(count user2b)
LOST=$((L2 + L2b + K2 + K2b))
DUP=$((D2 + D2b))
REORD=$((O2 + O2b))
printf '# iterations %d, acknowledged %d, lost %d, duplicated %d, reordered %d\n' \
	"$KILLS" "$A" "$LOST" "$DUP" "$REORD"
printf '# refused (1021): %d lines; per device (user2, user2b): shown again after a client kill %d, %d; never acknowledged: shown %d, %d, missing %d, %d; restarts %d, %d\n' \
	"$(wc -l <"$T/refused")" "$G2" "$G2b" "$S2" "$S2b" "$M2" "$M2b" \
	$((CINST[user2] - 1)) $((CINST[user2b] - 1))
for n in user2 user2b; do
	head -n 20 "$T/$n.faults" | sed "s/^/# $n: /"
done

expect_match "the senders saw lines acknowledged" "$A" '^[1-9][0-9]*$'
expect_eq "no acknowledged line is lost (output or history), on either device" \
	"$LOST" "$WANT"
expect_eq "none is shown twice by one client, or kept twice" "$DUP" "$WANT"
expect_eq "the order per sender is kept" "$REORD" "$WANT"
expect_eq "every line is in its conversation" "$((W2 + W2b))" 0
expect_eq "no line refused with 1021 reaches anybody" "$((F2 + F2b))" 0
expect_eq "no sanitizer report from the server or a client" \
	"$(cat "$T/server.stderr" "$T"/*.out | grep -c -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'ERROR: LeakSanitizer' || true)" 0
expect_eq "no client ended by itself" "$exited" 0
check "the server still runs" kill -0 "$SRV_PID"
done_testing
