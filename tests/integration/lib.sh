# missive: shared helpers for integration tests (bash).  Source it first:
#
#   #!/usr/bin/env bash
#   . "$(dirname "$0")/lib.sh"
#   db_start
#   check "admin tool runs" "$BIN/missive-admin" --help
#   expect_eq "one user" "$(db_sql 'SELECT COUNT(*) FROM users')" 1
#   done_testing
#
# Sets `set -eu`: a command that fails outside check/check_fails/expect_*
# ends the script, and tests/run.sh counts that as a failure.
#
#   REPO   absolute path of the repository      BIN  programs ($MISSIVE_BIN)
#   TEST_VAR  all test state: $MISSIVE_TEST_VAR, default $REPO/var/test
#   T      this script's scratch dir, $TEST_VAR/<script name>, emptied
#          at start (kept short: unix socket paths are limited to 107 bytes)
#   test_port OFFSET                     print $MISSIVE_TEST_PORT_BASE + OFFSET
#                                        (0-299): each file's TCP ports.  Set
#                                        by tests/run.sh (a free block unless
#                                        given); a script run alone: 27400
#   ok DESC / not_ok DESC [DETAIL]       print one TAP result
#   check DESC CMD...                    ok if CMD exits 0 (output shown if not;
#                                        CMD's output is captured, so a daemon
#                                        must not keep CMD's stdout/stderr open)
#   check_fails DESC CMD...              ok if CMD exits non-zero
#   expect_eq DESC GOT WANT              ok if GOT = WANT
#   expect_match DESC TEXT REGEX         ok if a line of TEXT matches (grep -E)
#   expect_contains DESC TEXT STRING     ok if TEXT contains STRING (no regex)
#   wait_until SECS CMD...               poll CMD (every 0.1 s) until it succeeds;
#                                        returns 1 after SECS seconds (times
#                                        $MISSIVE_TIME_FACTOR, default 1: under
#                                        valgrind everything is slower)
#   scaled SECS                          print SECS times $MISSIVE_TIME_FACTOR,
#                                        for a timeout the program must allow
#   db_start                             private MariaDB in $T/var (stopped at exit);
#                                        sets DB_SOCKET, DB_SERVER_PASSFILE, DB_ADMIN_PASSFILE;
#                                        exports MISSIVE_VAR and the MISSIVE_DB_* of db.sh env
#   db_sql "STATEMENT"                   run as the database root in `missive`,
#                                        print rows tab-separated, no header
#   register_pid PID                     kill PID (and only it) at exit
#   done_testing                         print the plan 1..N; exit 1 if anything failed

# shellcheck disable=SC2034 # BIN, T, DB_* are for the scripts that source us
set -eu

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
BIN=${MISSIVE_BIN:-$REPO/build/san/bin}
_NAME=$(basename "$0" .sh)
TEST_VAR=${MISSIVE_TEST_VAR:-$REPO/var/test}
T=$TEST_VAR/$_NAME

_N=0
_FAILED=0
_DB_STARTED=0
_PIDS=()

ok() {
	_N=$((_N + 1))
	printf 'ok %d - %s\n' "$_N" "$1"
}

not_ok() {
	_N=$((_N + 1))
	_FAILED=$((_FAILED + 1))
	printf 'not ok %d - %s\n' "$_N" "$1"
	if [ $# -ge 2 ] && [ -n "$2" ]; then
		printf '%s\n' "$2" | sed 's/^/#   /'
	fi
}

check() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "command: $*
exit status: $rc
$out"
	fi
}

check_fails() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "command: $*
succeeded but should have failed
$out"
	fi
}

expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "got:  $2
want: $3"
	fi
}

expect_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		ok "$1"
	else
		not_ok "$1" "no match for /$3/ in:
$2"
	fi
}

expect_contains() {
	case "$2" in
	*"$3"*) ok "$1" ;;
	*) not_ok "$1" "no \"$3\" in:
$2" ;;
	esac
}

wait_until() {
	local secs=$1 i=0
	shift
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -le $((secs * 10 * ${MISSIVE_TIME_FACTOR:-1})) ] || return 1
		sleep 0.1
	done
}

test_port() {
	echo $((${MISSIVE_TEST_PORT_BASE:-27400} + $1))
}

scaled() {
	echo $(($1 * ${MISSIVE_TIME_FACTOR:-1}))
}

db_start() {
	local out
	export MISSIVE_VAR=$T/var
	_DB_STARTED=1
	if ! out=$("$REPO/scripts/db.sh" start 2>&1); then
		not_ok "private MariaDB starts" "$out"
		exit 1
	fi
	printf '%s\n' "$out" | sed 's/^/# /'
	eval "$("$REPO/scripts/db.sh" env)"
	DB_SOCKET=$MISSIVE_DB_SOCKET
	DB_SERVER_PASSFILE=$MISSIVE_DB_SERVER_PASSFILE
	DB_ADMIN_PASSFILE=$MISSIVE_DB_ADMIN_PASSFILE
	export MISSIVE_DB_SOCKET MISSIVE_DB_SERVER_PASSFILE MISSIVE_DB_ADMIN_PASSFILE
}

db_sql() {
	mariadb --no-defaults -N -B --socket="$DB_SOCKET" missive -e "$1"
}

register_pid() {
	_PIDS+=("$1")
}

# True while PID runs (a zombie waiting to be reaped does not count).
_alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}
_gone() { ! _alive "$1"; }

cleanup() {
	local pid
	# Only the test script itself cleans up: a just-forked child that is
	# signalled before it execs would otherwise run this trap as well.
	[ "$BASHPID" = "$$" ] || return 0
	trap - EXIT
	trap '' INT TERM HUP # a second signal must not cut the cleanup short
	for pid in "${_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || continue
		wait_until 5 _gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	done
	if [ "$_DB_STARTED" -eq 1 ]; then
		MISSIVE_VAR=$T/var "$REPO/scripts/db.sh" stop >/dev/null 2>&1 ||
			printf '# cleanup: scripts/db.sh stop failed for %s\n' "$T/var"
	fi
}

done_testing() {
	printf '1..%d\n' "$_N"
	if [ "$_FAILED" -eq 0 ] && [ "$_N" -gt 0 ]; then
		exit 0
	fi
	exit 1
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# A previous run killed before its cleanup may have left its database
# running on the directory we are about to empty: stop it first.
if [ -e "$T/var/db/mariadbd.pid" ]; then
	MISSIVE_VAR=$T/var "$REPO/scripts/db.sh" stop >/dev/null 2>&1 || true
fi
rm -rf "$T"
mkdir -p "$T"
