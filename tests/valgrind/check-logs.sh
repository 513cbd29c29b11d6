#!/usr/bin/env bash
# missive: one TAP line for the memcheck logs of one test file.  tests/run.sh
# calls it after each file under `make check-valgrind` (tests/valgrind/run.sh).
#
#   tests/valgrind/check-logs.sh DIR NAME
#
# DIR holds one <pid>.log per process the test file ran.  Prints
#   ok - valgrind: NAME: N processes, 0 errors, 0 leaks
# or "not ok - ..." with, as "# " comments, each bad log's command, counts
# and first report.  Exits 1 on "not ok".
#
# A log without its ERROR SUMMARY belongs to a process that is still
# exiting (we wait up to 60 s while its PID runs) or that was killed with
# SIGKILL, as some tests do on purpose: such a process cannot report leaks,
# so it is only counted as "killed", and fails the line only if it had
# reported an error before.  Leaks are counted by loss record, errors (invalid reads
# and writes, uninitialised values, bad frees, ...) by ERROR SUMMARY less
# the loss records (--errors-for-leak-kinds makes those errors too).
set -eu

[ $# -eq 2 ] || { echo "usage: $0 DIR NAME" >&2; exit 2; }
dir=$1
name=$2

shopt -s nullglob
logs=("$dir"/*.log)

# Wait for the processes still writing (a server draining at SIGTERM).
for ((i = 0; i < 600; i++)); do
	pending=0
	for f in "${logs[@]}"; do
		pid=$(basename "$f" .log)
		if ! grep -q 'ERROR SUMMARY:' "$f" && [ -e "/proc/$pid" ]; then
			pending=1
		fi
	done
	[ "$pending" -eq 0 ] && break
	sleep 0.1
done

nproc=${#logs[@]}
nerr=0
nleak=0
killed=0
details=

# An error report starts with a line like "==123== Invalid read of size 4".
ERR_RE='^==[0-9]+== (Invalid (read|write|free)|Mismatched free|Conditional jump|Use of uninitialised|Syscall param|Source and destination overlap|Argument .* fishy|Process terminating with default action)'

for f in "${logs[@]}"; do
	cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$f" | head -n 1)
	if grep -q 'ERROR SUMMARY:' "$f"; then
		errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" |
			tail -n 1)
		leaks=$(grep -c -E 'are (definitely|indirectly|possibly) lost in loss record' "$f" || true)
		errs=$((errs - leaks))
	else
		killed=$((killed + 1))
		errs=$(grep -c -E "$ERR_RE" "$f" || true)
		leaks=0
	fi
	if [ "$errs" -gt 0 ] || [ "$leaks" -gt 0 ]; then
		nerr=$((nerr + errs))
		nleak=$((nleak + leaks))
		details+="$(basename "$f"): $cmd: $errs errors, $leaks leaks"$'\n'
		# The first report: from the first error or leak line on.
		details+=$(grep -E -A 25 -m 1 "$ERR_RE|lost in loss record" "$f" | head -n 26)$'\n'
	fi
done

line="valgrind: $name: $nproc processes, $nerr errors, $nleak leaks"
[ "$killed" -gt 0 ] && line+=" ($killed killed before their summary)"
if [ "$nerr" -eq 0 ] && [ "$nleak" -eq 0 ]; then
	echo "ok - $line"
	exit 0
fi
echo "not ok - $line"
printf '%s' "$details" | sed 's/^/#   /'
exit 1
