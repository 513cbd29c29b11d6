#!/usr/bin/env bash
# missive: run the libFuzzer harnesses of tests/fuzz/ (see README.md there).
#
#   tests/fuzz/run.sh run [-t SECS] [-w DIR] [-n] [NAME...]
#       Fuzz each harness NAME (default: all, from tests/fuzz/fuzz_*.c) for
#       SECS seconds (default 60), one after the other.  New inputs go to
#       the working corpus DIR/NAME (default DIR: var/fuzz); the checked-in
#       tests/fuzz/corpus/NAME seeds it and is only read.  Crashes go to
#       DIR/crashes/NAME/, libFuzzer's output to DIR/logs/NAME.log.  Prints
#       one line per harness, e.g.
#           fuzz_frame: 60 s, 6343284 runs (105721/s), no crash
#       and appends "date fuzzer seconds runs result" to var/fuzz/runs.log
#       (not with -n).  Exits 1 if a harness is missing or crashed.
#   tests/fuzz/run.sh total
#       Seconds and runs per harness, summed over runs.log.
#   tests/fuzz/run.sh list
#       The harnesses' names.
#
#   MISSIVE_FUZZ=dir   the fuzzer binaries (default <repo>/build/fuzz/fuzz,
#                      made by `make VARIANT=fuzz fuzzers`)
set -eu

REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
FUZZ=${MISSIVE_FUZZ:-$REPO/build/fuzz/fuzz}
LOG=$REPO/var/fuzz/runs.log

usage() {
	sed -n '2,21s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

names() {
	local src n
	for src in "$REPO"/tests/fuzz/fuzz_*.c; do
		n=$(basename "$src" .c)
		printf '%s\n' "${n#fuzz_}"
	done
}

# Options for one harness beyond the common ones.
extra_opts() {
	case "$1" in
	handshake) printf '%s\n' -max_len=8300 ;;      # KD_HS_LINE_MAX + edits
	client_frames) printf '%s\n' -max_len=16384 ;; # several keyed frames
	esac
	if [ -f "$REPO/tests/fuzz/dict/$1.dict" ]; then
		printf '%s\n' "-dict=$REPO/tests/fuzz/dict/$1.dict"
	fi
}

# fuzz_one NAME SECS WORKDIR NOLOG: print the summary line; 1 on failure.
fuzz_one() {
	local name=$1 secs=$2 work=$3 nolog=$4 bin out start took runs rc=0
	local result artifact
	local -a opts
	bin=$FUZZ/fuzz_$name
	if [ ! -x "$bin" ]; then
		printf 'fuzz_%s: missing %s (make VARIANT=fuzz fuzzers)\n' \
			"$name" "$bin"
		return 1
	fi
	mkdir -p "$work/$name" "$work/crashes/$name" "$work/logs"
	out=$work/logs/$name.log
	mapfile -t opts < <(extra_opts "$name")
	start=$SECONDS
	"$bin" -max_total_time="$secs" -timeout=30 -print_final_stats=1 \
		-artifact_prefix="$work/crashes/$name/" "${opts[@]}" \
		"$work/$name" "$REPO/tests/fuzz/corpus/$name" >"$out" 2>&1 ||
		rc=$?
	took=$((SECONDS - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' \
		"$out" | tail -n 1)
	if [ -z "$runs" ]; then
		# No final stats (killed): the last status line's count.
		runs=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$out" |
			tail -n 1)
	fi
	runs=${runs:-0}
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out" |
		tail -n 1)
	if [ "$rc" -eq 0 ]; then
		result="no crash"
	elif [ -n "$artifact" ]; then
		result="CRASH, input in $artifact, log in $out"
	else
		result="FAILED (exit status $rc), log in $out"
	fi
	if [ "$nolog" -eq 0 ]; then
		mkdir -p "$(dirname "$LOG")"
		printf '%s fuzz_%s %d %d %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
			"$name" "$took" "$runs" \
			"$([ "$rc" -eq 0 ] && echo ok || echo crash)" >>"$LOG"
	fi
	printf 'fuzz_%s: %d s, %d runs (%d/s), %s\n' "$name" "$took" "$runs" \
		$((runs / (took > 0 ? took : 1))) "$result"
	[ "$rc" -eq 0 ]
}

cmd_run() {
	local secs=60 work=$REPO/var/fuzz nolog=0 opt failed=0 name
	local -a list
	OPTIND=1
	while getopts 't:w:n' opt; do
		case "$opt" in
		t) secs=$OPTARG ;;
		w) work=$OPTARG ;;
		n) nolog=1 ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	case "$secs" in '' | *[!0-9]*) usage ;; esac
	if [ $# -gt 0 ]; then
		list=("$@")
	else
		mapfile -t list < <(names)
	fi
	for name in "${list[@]}"; do
		fuzz_one "$name" "$secs" "$work" "$nolog" || failed=1
	done
	return "$failed"
}

cmd_total() {
	if [ ! -s "$LOG" ]; then
		printf 'no runs logged in %s\n' "$LOG"
		return 0
	fi
	awk '{ secs[$2] += $3; runs[$2] += $4; n[$2]++
	       if ($5 != "ok") bad[$2]++ }
	     END { for (f in secs)
	             printf "%s: %d s in %d runs of the fuzzer, %d inputs, " \
	                 "%d with a crash\n", f, secs[f], n[f], runs[f], bad[f] }' \
		"$LOG" | sort
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
run) cmd_run "$@" ;;
total) cmd_total ;;
list) names ;;
*) usage ;;
esac
