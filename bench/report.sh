# bench/RESULTS.md from the RESULT lines of one run (sourced by
# bench/suite.sh, which sets T, SECS, REPEAT, CONNS, CHEAP, DEAR, STARTED,
# T0, T1, LOAD0, LOAD1, RSA_SIGN_S).
#
#   report RAW   print the Markdown

# all RAW FIELD KEY=VALUE...: FIELD of every RESULT line with all the
# KEY=VALUE pairs, one a line.
all() {
	local raw=$1 field=$2
	shift 2
	awk -v field="$field" -v want="$*" '
	BEGIN { n = split(want, w, " ") }
	{
		delete kv
		for (i = 2; i <= NF; i++) {
			split($i, p, "=")
			kv[p[1]] = p[2]
		}
		for (i = 1; i <= n; i++) {
			split(w[i], p, "=")
			if (kv[p[1]] != p[2])
				next
		}
		print (field in kv) ? kv[field] : "-"
	}' "$raw"
}

# fig RAW FIELD KEY=VALUE...: FIELD of the first such line ("-" if none).
fig() {
	local v
	v=$(all "$@" | head -n 1)
	echo "${v:--}"
}

# med RAW FIELD KEY=VALUE...: the median over all such lines ("-" if
# none; of an even count, the lower middle one).
med() {
	local v
	v=$(all "$@" | grep -v '^-$' | sort -g | awk '{ v[NR] = $0 }
		END { if (NR) print v[int((NR + 1) / 2)] }')
	echo "${v:--}"
}

# calc EXPR: awk arithmetic, "-" if an operand is "-".
calc() {
	case "$*" in
	*-\ *|*\ -*|-) echo - ;;
	*) awk "BEGIN { printf \"%s\", $* }" ;;
	esac
}

mega() { [ "$1" = - ] && echo - || awk -v v="$1" 'BEGIN { printf "%.2f M", v / 1e6 }'; }
pcent() { [ "$1" = - ] && echo - || awk -v v="$1" 'BEGIN { printf "%.0f%%", v * 100 }'; }
# verdict VALUE OP LIMIT
verdict() {
	[ "$1" = - ] || [ "$3" = - ] && { echo "not measured"; return; }
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		ok = op == ">=" ? a >= b : a <= b
		print ok ? "**met**" : "**missed**"
	}'
}

# sum RAW FIELD KEY=VALUE...: the total of FIELD over such lines.
sum() { all "$@" | awk '{ n += $1 } END { print n + 0 }'; }

# cells FN ARGS...: FN ARGS... S SIZE for every cell of the fan-out
# tables (S receivers, SIZE bytes).
cells() {
	local s size
	for s in 10 100 1000; do
		for size in 168 1024; do
			"$@" "$s" "$size"
		done
	done
}

# fanout_row RAW S SIZE: a row of the fan-out table; a missed target
# sets the caller's all.
fanout_row() {
	local raw=$1 s=$2 size=$3 r q m v rq rm rr ok
	r=$(med "$raw" rate mode=fanout proto=relay S=$s size=$size)
	q=$(med "$raw" rate mode=fanout proto=redis S=$s size=$size)
	m=$(med "$raw" rate mode=fanout proto=mqtt S=$s size=$size)
	v=$(med "$raw" rate mode=fanout proto=missive S=$s size=$size)
	rq=$(calc "$v / $q")
	rm=$(calc "$v / $m")
	rr=$(calc "$v / $r")
	ok=$(awk -v a="$rq" -v b="$rm" -v c="$rr" 'BEGIN {
		print (a != "-" && a >= 1 && b >= 1 && c >= 0.6) ?
		    "**met**" : "**missed**" }')
	[ "$ok" = "**met**" ] || all=missed
	printf '| %s | %s B | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$s" "$size" "$(mega "$r")" "$(mega "$q")" \
		"$(mega "$m")" "$(mega "$v")" "$(pcent "$rq")" \
		"$(pcent "$rm")" "$(pcent "$rr")" \
		"$(sum "$raw" lost mode=fanout proto=missive S=$s size=$size)" "$ok"
}

# cpu_row RAW S SIZE: a row of the server CPU table.
cpu_row() {
	local raw=$1 s=$2 size=$3 r q m v
	r=$(med "$raw" server_ns_each mode=fanout proto=relay S=$s size=$size)
	q=$(med "$raw" server_ns_each mode=fanout proto=redis S=$s size=$size)
	m=$(med "$raw" server_ns_each mode=fanout proto=mqtt S=$s size=$size)
	v=$(med "$raw" server_ns_each mode=fanout proto=missive S=$s size=$size)
	printf '| %s | %s B | %s ns | %s ns | %s ns | %s ns | %s | %s |\n' \
		"$s" "$size" "$r" "$q" "$m" "$v" \
		"$(calc "int($v / $q * 100 + 0.5)")%" \
		"$(calc "int($v / $r * 100 + 0.5)")%"
}

report_fanout() {
	local raw=$1 all=met
	echo "| S | payload | bare relay | Redis | Mosquitto | missive | missive ÷ Redis | ÷ Mosquitto | ÷ relay (≥ 60%) | lost (missive) | target |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	cells fanout_row "$raw"
	echo
	echo "Fan-out target overall: **$all**."
	echo
	echo "Server CPU time per delivery (utime + stime of the server process over"
	echo "the same runs, /proc/PID/stat; less is better; the load generator's"
	echo "share of the cores is not in it, which makes it the steadier figure"
	echo "on a shared machine):"
	echo
	echo "| S | payload | bare relay | Redis | Mosquitto | missive | missive ÷ Redis | missive ÷ relay |"
	echo "|---|---|---|---|---|---|---|---|"
	cells cpu_row "$raw"
}

# durable_row RAW S SIZE: a row of the durable fan-out table; a missed
# target sets the caller's all.
durable_row() {
	local raw=$1 s=$2 size=$3 qs qd vs vd r ok
	qs=$(med "$raw" stored_rate mode=durable proto=streams S=$s size=$size)
	qd=$(med "$raw" rate mode=durable proto=streams S=$s size=$size)
	vs=$(med "$raw" stored_rate mode=durable proto=missive S=$s size=$size)
	vd=$(med "$raw" rate mode=durable proto=missive S=$s size=$size)
	r=$(calc "$vs / $qs")
	ok=$(verdict "$r" ">=" 1)
	[ "$ok" = "**met**" ] || all=missed
	printf '| %s | %s B | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$s" "$size" "$qs" "$qd" "$vs" "$vd" "$(pcent "$r")" \
		"$(sum "$raw" lost mode=durable proto=missive S=$s size=$size)" \
		"$(sum "$raw" refused mode=durable proto=missive S=$s size=$size)" \
		"$ok"
}

# report_durable RAW: the tables of (f), durable delivery.
report_durable() {
	local raw=$1 all=met p99 rss0 rss1 grow
	echo "| S (half offline) | payload | Streams stored msg/s | Streams deliveries/s | missive stored msg/s | missive deliveries/s | missive ÷ Streams (stored msg/s, ≥ 100%) | lost (missive) | refused (missive) | target |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	cells durable_row "$raw"
	echo
	echo "Durable fan-out target (missive's stored messages/s ≥ Redis Streams'"
	echo "in every cell): **$all**."
	echo
	echo "Send to stored, one sender, 1,000 lines a second for 3 s into a room of"
	echo "100 members of which 50 are offline ($SMALL B; missive: 0002 to 1020,"
	echo "Streams: XADD to its reply with appendfsync always):"
	echo
	echo "| server | lines | p50 | p99 | p99.9 | max | delivered | lost | refused |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for p in streams missive; do
		printf '| %s | %s | %s µs | %s µs | %s µs | %s µs | %s | %s | %s |\n' \
			"$p" "$(fig "$raw" sent mode=stored proto=$p)" \
			"$(fig "$raw" p50 mode=stored proto=$p)" \
			"$(fig "$raw" p99 mode=stored proto=$p)" \
			"$(fig "$raw" p999 mode=stored proto=$p)" \
			"$(fig "$raw" max mode=stored proto=$p)" \
			"$(fig "$raw" delivered mode=stored proto=$p)" \
			"$(fig "$raw" lost mode=stored proto=$p)" \
			"$(fig "$raw" refused mode=stored proto=$p)"
	done
	p99=$(fig "$raw" p99 mode=stored proto=missive)
	echo
	echo "Target, missive p99 send to 1020 ≤ 20 ms at 1,000 lines/s: $(verdict "$p99" "<=" 20000)."
	echo
	echo "Catch-up: one device away while 100,000 lines ($SMALL B) are stored for it,"
	echo "then it logs in and drains them (missive: 1022, the backlog, 0020 as it"
	echo "goes; Streams: XREADGROUP COUNT 1000 and XACK); server RSS before it"
	echo "connects, at its highest (every 50 ms) and 0.5 s after the last row:"
	echo
	echo "| server | rows | drained in | rows/s | RSS before | peak | after | filled at (lines/s) |"
	echo "|---|---|---|---|---|---|---|---|"
	for p in streams missive; do
		printf '| %s | %s | %s s | %s | %s kB | %s kB | %s kB | %s |\n' \
			"$p" "$(fig "$raw" rows mode=catchup proto=$p)" \
			"$(fig "$raw" secs mode=catchup proto=$p)" \
			"$(fig "$raw" rate mode=catchup proto=$p)" \
			"$(fig "$raw" rss_before_kb mode=catchup proto=$p)" \
			"$(fig "$raw" rss_peak_kb mode=catchup proto=$p)" \
			"$(fig "$raw" rss_after_kb mode=catchup proto=$p)" \
			"$(fig "$raw" fill_rate mode=catchup proto=$p)"
	done
	rss0=$(fig "$raw" rss_before_kb mode=catchup proto=missive)
	rss1=$(fig "$raw" rss_peak_kb mode=catchup proto=missive)
	# Not calc: its "-" test takes the minus sign for a missing figure.
	grow=$(awk -v a="$rss1" -v b="$rss0" 'BEGIN { print (a == "-" || b == "-") ? "-" : a - b }')
	echo
	echo "Targets: missive drains ≥ 100,000 rows/s: $(verdict \
		"$(fig "$raw" rate mode=catchup proto=missive)" ">=" 100000);" \
	    "memory flat (peak ≤ 16 MiB over before; it grew $grow kB): $(verdict "$grow" "<=" 16384)."
}

report_latency() {
	local raw=$1 p
	echo "| server | p50 | p99 | p99.9 | max | p99 of each run (µs) | deliveries | lost |"
	echo "|---|---|---|---|---|---|---|---|"
	for p in relay redis mqtt missive; do
		printf '| %s | %s µs | %s µs | %s µs | %s µs | %s | %s | %s |\n' \
			"$p" "$(med "$raw" p50 mode=latency proto=$p)" \
			"$(med "$raw" p99 mode=latency proto=$p)" \
			"$(med "$raw" p999 mode=latency proto=$p)" \
			"$(med "$raw" max mode=latency proto=$p)" \
			"$(all "$raw" p99 mode=latency proto=$p | paste -sd ' ')" \
			"$(sum "$raw" delivered mode=latency proto=$p)" \
			"$(sum "$raw" lost mode=latency proto=$p)"
	done
	echo
	echo "Target, missive p99 ≤ Redis p99 (medians): $(verdict \
		"$(med "$raw" p99 mode=latency proto=missive)" "<=" \
		"$(med "$raw" p99 mode=latency proto=redis)")."
}

report_conns() {
	local raw=$1 p
	echo "| server | connections | set up in | per second | server RSS before | at 1/10 | at the end | RSS per connection (from 1/10) | (from before) | kernel slab per socket (both ends counted, noisy) |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for p in relay redis mqtt missive; do
		printf '| %s | %s | %s s | %s | %s kB | %s kB | %s kB | %s KiB | %s KiB | %s KiB |\n' \
			"$p" "$(fig "$raw" ready mode=conns proto=$p)" \
			"$(fig "$raw" secs mode=conns proto=$p)" \
			"$(fig "$raw" rate mode=conns proto=$p)" \
			"$(fig "$raw" rss_before_kb mode=conns proto=$p)" \
			"$(fig "$raw" rss_warm_kb mode=conns proto=$p)" \
			"$(fig "$raw" rss_after_kb mode=conns proto=$p)" \
			"$(fig "$raw" per_conn_kb mode=conns proto=$p)" \
			"$(fig "$raw" from_start_kb mode=conns proto=$p)" \
			"$(fig "$raw" kernel_per_socket_kb mode=conns proto=$p)"
	done
	echo
	printf 'Target, %s logged-in missive clients with ≤ 4 KiB of server RSS each: %s (%s of %s logged in).\n' \
		"$CONNS" "$(verdict "$(fig "$raw" per_conn_kb mode=conns proto=missive)" "<=" 4)" \
		"$(fig "$raw" ready mode=conns proto=missive)" "$CONNS"
}

# rate_row RAW MODE WORKERS WHAT CEILING HOW UNAVOIDABLE_MS: one row of (d).
rate_row() {
	local raw=$1 mode=$2 w=$3 what=$4 max=$5 how=$6 need=$7 rate cpu
	rate=$(fig "$raw" rate mode="$mode" workers="$w")
	cpu=$(fig "$raw" server_cpu_ms_each mode="$mode" workers="$w")
	printf '| %s | %s | %s | %s (%s) | %s | %s ms | %s | %s |\n' \
		"$what" "$w" "$rate" "$(calc "int($max)")" "$how" \
		"$(pcent "$(calc "$rate / $max")")" "$cpu" \
		"$(pcent "$(calc "$need / $cpu")")" \
		"$(calc "int($rate * $cpu / 10 + 0.5) / 100")"
}

report_rates() {
	local raw=$1 cores rsa_ms a2 w hs1 lg1
	cores=$(nproc)
	rsa_ms=$(calc "$RSA_SIGN_S * 1000")
	a2=$(fig "$raw" ms mode=argon2 m=19456)
	echo "| | workers | measured | ceiling for the workers | ratio | server CPU each | of which the unavoidable | server cores busy |"
	echo "|---|---|---|---|---|---|---|---|"
	for w in "$cores" 1; do
		rate_row "$raw" handshake "$w" handshakes/s "$(calc "$w / $RSA_SIGN_S")" \
			"$w × 1 s ÷ $rsa_ms ms, one RSA-3072 private op" "$rsa_ms"
	done
	for w in "$cores" 1; do
		rate_row "$raw" login "$w" "logins/s (m=19456, t=2)" \
			"$(calc "$w * 1000 / $a2")" "$w × 1 s ÷ $a2 ms Argon2id" \
			"$(calc "$a2 + $rsa_ms")"
	done
	hs1=$(calc "$(fig "$raw" rate mode=handshake workers=1) * $RSA_SIGN_S")
	lg1=$(calc "$(fig "$raw" rate mode=login workers=1) * $a2 / 1000")
	echo
	echo "Targets (≥ 80% of the ceiling), judged on the one-worker server,"
	echo "whose worker has a core while the load generator has the other:"
	echo "handshakes $(verdict "$hs1" ">=" 0.8) ($(pcent "$hs1")), logins $(verdict "$lg1" ">=" 0.8) ($(pcent "$lg1"))."
	echo "With one worker per core the load generator, which makes an RSA-3072"
	echo "signature per handshake (as costly as the server's private-key"
	echo "operation), takes its share of the same $cores cores from the workers:"
	echo "those ratios show the machine, not the pool."
	echo
	echo "\"Of which the unavoidable\": the RSA private-key operation (and for a"
	echo "login the Argon2id hash) as a share of the server CPU each one cost;"
	echo "\"server cores busy\": rate × CPU each, how much of the machine the"
	echo "server used."
	echo
	echo "One Argon2id hash here: $a2 ms of CPU at m=19456 KiB, t=2, p=1 (missive-admin's;" \
		"$(fig "$raw" wall_ms mode=argon2 m=19456) ms of wall time);" \
		"$(fig "$raw" ms mode=argon2 m=8192) ms at m=8192 KiB, t=1 (the bench's cheap accounts)." \
		"openssl speed rsa3072: $rsa_ms ms of CPU a private-key operation (one core)."
}

report_isolation() {
	local raw=$1 idle storm
	idle=$(fig "$raw" p99 mode=isolation phase=idle)
	storm=$(fig "$raw" p99 mode=isolation phase=storm)
	echo "| chat of 100 members, 1,000 msg/s | p50 | p99 | p99.9 | lost |"
	echo "|---|---|---|---|---|"
	printf '| idle | %s µs | %s µs | %s µs | %s |\n' \
		"$(fig "$raw" p50 mode=isolation phase=idle)" "$idle" \
		"$(fig "$raw" p999 mode=isolation phase=idle)" \
		"$(fig "$raw" lost mode=isolation phase=idle)"
	printf '| during the login storm | %s µs | %s µs | %s µs | %s |\n' \
		"$(fig "$raw" p50 mode=isolation phase=storm)" "$storm" \
		"$(fig "$raw" p999 mode=isolation phase=storm)" \
		"$(fig "$raw" lost mode=isolation phase=storm)"
	echo
	echo "The storm: 200 logins in flight (missive-admin's Argon2id) for 9 s:" \
		"$(fig "$raw" done mode=storm) logins, $(fig "$raw" rate mode=storm)/s," \
		"$(fig "$raw" failed mode=storm) failed."
	echo "Target, storm p99 ≤ 2 × idle p99: $(verdict "$storm" "<=" \
		"$(calc "2 * $idle")")."
}

report() {
	local raw=$1
	cat <<EOF
# missive benchmark results

Written by \`make bench\` (bench/suite.sh) on $STARTED, in $((T1 - T0)) s.
How the suite works, what each workload does and what the figures mean:
bench/README.md.  Raw output of this run: var/test/suite/results.txt.

## Machine

- $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB; $(uname -sr)
- load average (1, 5, 15 min) when the suite started: $LOAD0; when its
  last workload ended: $LOAD1 (the suite itself keeps about 2 busy;
  more means other work shared the cores, and only the ratios within
  this run compare)
- $(openssl version | cut -d' ' -f1-2), $(redis-server --version | cut -d' ' -f1-3),
  $(mosquitto -h 2>/dev/null | head -1), $(mariadbd --version 2>/dev/null | awk '{ print $3 }') (MariaDB)

## Set-up

- missived, release build, \`workers = 0\` (one per core), log \`quiet\`
  (no info line per chat message), a private MariaDB; Redis,
  Mosquitto (bench/peers/*.conf) and bench-relay (bench/relay.c) started
  by the suite on loopback, each on its own port, stopped by PID.
- Load generator: bin/missive-bench, one process, one epoll loop, on
  the same 2 cores as the server.  missive clients do the real
  handshake (RSA-3072, X25519), login and room join, and every record is
  AES-256-GCM both ways; they send the payload as the 0002 message
  (base64 characters) without the end-to-end layer (the server cannot
  tell: it relays what it cannot read either way).
- Bench accounts: bench00001..bench$(printf '%05d' "$CHEAP") with the
  cheapest Argon2id the server accepts (m=8192 KiB, t=1) for the
  connection run, bench$(printf '%05d' $((CHEAP + 1)))..bench$(printf '%05d' $((CHEAP + DEAR)))
  with missive-admin's (m=19456 KiB, t=2) for the login rate and the
  storm; one password for all; one RSA-3072 key each (the server refuses
  a key enrolled twice), made by tests/tools/load-setup from a shared
  prime pool (test keys only) and cached in var/bench-keys.
- Payloads: $SMALL B (the shortest message missived relays, PROTO_MSG_MIN)
  and 1 KiB of the same ASCII bytes on every protocol
  (a timestamp in the first 16 bytes for latency).  missive's 1002
  delivery adds about 150 B of header (nickname, user, key fingerprint,
  room, server timestamp) and 20 B of record overhead per record.

## (a) Fan-out: deliveries per second at all receivers

One sender into a room (channel, topic) of S receivers, $SECS s per
measurement, each made $REPEAT times (the median is shown), flow-controlled (the sender stays a window behind the slowest
receiver), every message counted at every receiver.

$(report_fanout "$raw")

## (b) Latency: 100 members, each sending 10 messages a second

100,000 deliveries a second, $SMALL B payloads, 3 s; from send to receive
(CLOCK_MONOTONIC in the payload), every delivery counted.  $REPEAT rounds
of every server in turn; each percentile is the median over the rounds,
deliveries and losses are summed.

$(report_latency "$raw")

## (c) $CONNS connections

Each missive client is logged in (handshake, login) and out of the
lobby; Redis clients are subscribed, MQTT clients connected and
subscribed, relay clients registered.  This runs first, on freshly
started servers; RSS from /proc/PID/status one second after the last
one was ready, and when a tenth were (the first logins grow missived
once and for all: the workers keep their Argon2id memory in their malloc
arenas; the per-connection figure is the growth from there to the end);
kernel socket memory is not in it.

$(report_conns "$raw")

## (d) Handshakes and logins per second

Handshake: connect, ClientHello to ServerFinished, close; 500 of
them, 50 at a time.  Login: the same plus the login and a quit; 200 of
them, 50 at a time.  Each against the server of the other runs (one
worker per core) and against a second missived on the same database
with \`workers = 1\`.  Server CPU from /proc/PID/stat over the run.

$(report_rates "$raw")

## (e) Isolation: chat latency while 200 logins are in flight

$(report_isolation "$raw")

## (f) Durable delivery, beside Redis Streams (appendfsync always)

One sender into a room of S members of which half are enrolled devices
that never log in during the run (their rows are stored, never read),
$SECS s per measurement, each made $REPEAT times (the median is shown),
the same window rules as (a); a line counts as stored at its 1020
(Streams: XADD's reply, each one fsynced), and every delivery to the
online half is counted.  Streams: the room is a stream, each member a
consumer group; online members XREADGROUP (BLOCK, COUNT 256) and XACK.

$(report_durable "$raw")

## Profile

\`perf record --call-graph dwarf\` on missived during a 4 s fan-out into
100 receivers, $SMALL B, reported for the event-loop thread alone (its share
of the samples = 100%) ($(mega "$(fig "$raw" rate mode=profiled)")
deliveries/s under perf); self time, entries above 1.5%:

\`\`\`
$(cat "$T/perf.txt" 2>/dev/null)
\`\`\`

Inclusive time (children included), entries above 5%:

\`\`\`
$(cat "$T/perf-children.txt" 2>/dev/null)
\`\`\`

See bench/README.md for what these figures say and what is in the way.
EOF
}
