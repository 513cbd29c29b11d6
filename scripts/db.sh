#!/usr/bin/env bash
# missive: run Debian's MariaDB server privately, inside the project tree.
#
#   scripts/db.sh start       start (first time: create datadir, database, accounts)
#                             and apply pending schema migrations
#   scripts/db.sh stop        shut down and wait until the server is gone
#   scripts/db.sh status      running (exit 0) or stopped (exit 3)
#   scripts/db.sh migrate     apply pending schema migrations (sql/migrations/)
#   scripts/db.sh version     print the schema version (0 = none recorded)
#   scripts/db.sh sql FILE    run FILE as the database root into `missive` (- = stdin)
#   scripts/db.sh shell       interactive client as the database root
#   scripts/db.sh env         shell-sourceable MISSIVE_DB_* lines
#
# Everything lives under $MISSIVE_VAR (default: <repo>/var):
#   db/data/             datadir            db/mysqld.sock    unix socket
#   db/mariadbd.pid      pid file           db/mariadbd.err   error log
#   db/tmp/              server temp files  secrets/db-*.pass account passwords
# The server listens on the unix socket only (--skip-networking), reads no
# my.cnf (--no-defaults) and touches nothing outside $MISSIVE_VAR; no systemd.
# The database root is reachable only over the socket by the OS user who
# created the datadir (unix_socket authentication, no password).
#
# Schema migrations are sql/migrations/NNNN-name.sql, NNNN the version they
# bring the schema to (0001, 0002, ... without gaps).  `start` applies the
# pending ones after the first initialisation and at every start of an
# existing datadir, so an upgraded checkout migrates by itself; `migrate`
# does the same on a running server.  Each file runs once, in order, and
# its row in schema_version is written only after it ran without error.
# MariaDB commits every DDL statement by itself, so a file that failed
# half-way runs again in full the next time: each of its statements must
# be safe to repeat (IF NOT EXISTS, INSERT IGNORE).  sql/grants.sql is
# applied again after every run (GRANT is idempotent), so the tables a
# migration adds get their grants on an upgraded database too.
# MISSIVE_MIGRATIONS names another directory of migrations (for tests).
#
# Durability: --innodb-flush-log-at-trx-commit=1 (MariaDB's default, set
# explicitly because durable delivery rests on it): a COMMIT returns only
# after InnoDB's redo log is written and flushed (fsync), so a stored,
# acknowledged message survives a crash of mariadbd or of the machine.
#
# Timeouts (seconds): MISSIVE_DB_START_TIMEOUT (30), MISSIVE_DB_STOP_TIMEOUT (60).
set -eu
# mariadbd lives in /usr/sbin, which a non-root PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

SCRIPTS=$(cd "$(dirname "$0")" && pwd -P)
REPO=$(cd "$SCRIPTS/.." && pwd -P)
VAR=${MISSIVE_VAR:-$REPO/var}
case "$VAR" in /*) ;; *) VAR=$PWD/$VAR ;; esac

DBDIR=$VAR/db
DATADIR=$DBDIR/data
SOCKET=$DBDIR/mysqld.sock
PIDFILE=$DBDIR/mariadbd.pid
ERRLOG=$DBDIR/mariadbd.err
TMPDIR_DB=$DBDIR/tmp
INITMARK=$DBDIR/initialized
SECRETS=$VAR/secrets
SERVER_PASSFILE=$SECRETS/db-missived.pass
ADMIN_PASSFILE=$SECRETS/db-admin.pass
MIGRATIONS=${MISSIVE_MIGRATIONS:-$REPO/sql/migrations}
GRANTS=$REPO/sql/grants.sql
MIGRATE_LOCK=$DBDIR/migrate.lock
DBNAME=missive
START_TIMEOUT=${MISSIVE_DB_START_TIMEOUT:-30}
STOP_TIMEOUT=${MISSIVE_DB_STOP_TIMEOUT:-60}

ME=$(id -un)
# mariadbd refuses to run as root unless told to; as another user --user is moot.
if [ "$(id -u)" -eq 0 ]; then USEROPT=(--user=root); else USEROPT=(); fi
# Options shared by mariadb-install-db (which passes them on) and mariadbd.
# The small redo log and MariaDB's default buffer pool (128M) keep each
# (test) datadir small and quick to create; MISSIVE_DB_LOG_SIZE and
# MISSIVE_DB_BUFFER_POOL set others (the benchmarks, as a server's admin
# would: a store of a million inbox rows with their messages outgrows
# 128M, and tens of thousands of rows a second fill 16M of redo log in
# under a second).  Every commit is flushed to disk (see Durability above).
SERVEROPTS=(--datadir="$DATADIR" --tmpdir="$TMPDIR_DB"
	--innodb-log-file-size="${MISSIVE_DB_LOG_SIZE:-16M}"
	--innodb-buffer-pool-size="${MISSIVE_DB_BUFFER_POOL:-128M}"
	--innodb-flush-log-at-trx-commit=1)

# The migrations' own bookkeeping, made before the first of them runs.
VERSION_TABLE="CREATE TABLE IF NOT EXISTS schema_version (
  version    INT UNSIGNED NOT NULL
             COMMENT 'Version an applied migration brought the schema to (sql/migrations/NNNN-name.sql)',
  name       VARCHAR(64) NOT NULL
             COMMENT 'Name of that migration (its file name without NNNN- and .sql)',
  applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
             COMMENT 'When scripts/db.sh applied it',
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  COMMENT='Applied schema migrations; the schema version is the highest'"

say() { printf 'db: %s\n' "$*"; }
die() { printf 'db: error: %s\n' "$*" >&2; exit 1; }

need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "$1 not found; install Debian's mariadb-server and mariadb-client (scripts/deps.sh)"
}

# Client as the database root (unix_socket auth maps the OS user to it).
root_client() { mariadb --no-defaults --socket="$SOCKET" "$@"; }

# True if PID is a live process (a zombie, killed but not yet reaped by
# whoever inherited it, does not count).
alive() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# PID of our running server, or nothing. A stale pid file (process gone, or
# the number reused by an unrelated program) counts as not running.
server_pid() {
	local pid comm
	[ -r "$PIDFILE" ] || return 0
	pid=$(tr -dc '0-9' <"$PIDFILE")
	[ -n "$pid" ] || return 0
	alive "$pid" || return 0
	comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	case "$comm" in mariadbd | mysqld) printf '%s\n' "$pid" ;; esac
}

ping_ok() { mariadb-admin --no-defaults --socket="$SOCKET" ping >/dev/null 2>&1; }

log_tail() {
	if [ -r "$ERRLOG" ]; then
		printf 'db: last lines of %s:\n' "$ERRLOG" >&2
		tail -n 25 "$ERRLOG" | sed 's/^/    /' >&2
	fi
}

check_socket_len() {
	# sun_path holds 108 bytes including the terminating NUL.
	[ "${#SOCKET}" -le 107 ] ||
		die "socket path is ${#SOCKET} bytes, the limit is 107: $SOCKET (use a shorter MISSIVE_VAR)"
}

# Write a password file: never readable by others, no trailing newline.
write_secret() { (umask 077 && printf '%s' "$2" >"$1") && chmod 0600 "$1"; }

# The migration files in order, checked: NNNN-name.sql numbered from 0001
# without gaps or repeats.  Sets MIG_FILES.
list_migrations() {
	local f base n=0 re='^([0-9]{4})-[a-z0-9][a-z0-9_-]{0,63}[.]sql$'
	MIG_FILES=()
	[ -d "$MIGRATIONS" ] || die "missing $MIGRATIONS"
	for f in "$MIGRATIONS"/*.sql; do
		[ -e "$f" ] || break
		base=${f##*/}
		[[ $base =~ $re ]] ||
			die "bad migration file name $f (want NNNN-name.sql, name of a-z 0-9 _ -)"
		n=$((n + 1))
		[ $((10#${BASH_REMATCH[1]})) -eq "$n" ] ||
			die "migration $f is out of sequence: the next number is $(printf %04d "$n")"
		MIG_FILES+=("$f")
	done
	[ "$n" -gt 0 ] || die "no migrations in $MIGRATIONS"
}

# Highest version in schema_version; 0 when the table is missing (a
# database made before schema versions) or empty.
schema_version() {
	local has
	has=$(root_client -N -B -e "SELECT COUNT(*) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = '$DBNAME' AND TABLE_NAME = 'schema_version'") ||
		die "could not read the schema version"
	if [ "$has" -eq 0 ]; then
		echo 0
		return 0
	fi
	root_client -N -B "$DBNAME" -e "SELECT COALESCE(MAX(version), 0) FROM schema_version" ||
		die "could not read the schema version"
}

# Apply the pending migrations in order; a file's version row is written
# only after the whole file ran without error.  Serialized by a lock
# (flock), since two runs at once would both apply the same file.
apply_migrations() {
	local cur f base out
	list_migrations
	exec 9>"$MIGRATE_LOCK"
	flock -w "$START_TIMEOUT" 9 || die "another migration run holds $MIGRATE_LOCK"
	root_client "$DBNAME" -e "$VERSION_TABLE" || die "could not create the table schema_version"
	cur=$(schema_version)
	[ "$cur" -le "${#MIG_FILES[@]}" ] ||
		die "the database is at schema version $cur, newer than the highest migration here (${#MIG_FILES[@]}, $MIGRATIONS)"
	if [ "$cur" -eq "${#MIG_FILES[@]}" ]; then
		say "schema at version $cur, no migration to apply"
	fi
	for f in "${MIG_FILES[@]:cur}"; do
		base=${f##*/}
		say "applying migration $base"
		# MariaDB's message (stderr) is kept; what the file SELECTs is not.
		if ! out=$(root_client "$DBNAME" <"$f" 2>&1 >/dev/null); then
			printf 'db: error: migration %s failed; the schema stays at version %s:\n' \
				"$f" "$cur" >&2
			printf '%s\n' "$out" | sed 's/^/    /' >&2
			exit 1
		fi
		# The name is checked by list_migrations: [a-z0-9_-] only.
		base=${base%.sql}
		root_client "$DBNAME" -e "INSERT INTO schema_version (version, name)
			VALUES ($((cur + 1)), '${base#*-}')" ||
			die "migration $f ran, but recording version $((cur + 1)) failed"
		cur=$((cur + 1))
		say "schema at version $cur"
	done
	exec 9>&-
}

apply_grants() {
	root_client "$DBNAME" <"$GRANTS" || die "loading $GRANTS failed"
}

# Every start of an initialized datadir, and `migrate`.
upgrade() {
	apply_migrations
	apply_grants
}

# First start only: database, migrations, accounts, grants.  Every step may
# be repeated, so a first start that was interrupted is completed by the next.
initialize() {
	local server_pw admin_pw
	say "creating database '$DBNAME', accounts and grants"
	(umask 077 && mkdir -p "$SECRETS") && chmod 0700 "$SECRETS"
	server_pw=$(openssl rand -hex 24) || die "openssl rand failed"
	admin_pw=$(openssl rand -hex 24) || die "openssl rand failed"
	if [ "${#server_pw}" -ne 48 ] || [ "${#admin_pw}" -ne 48 ]; then
		die "openssl rand gave no password"
	fi
	root_client -e "CREATE DATABASE IF NOT EXISTS \`$DBNAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" ||
		die "could not create database $DBNAME"
	apply_migrations
	# Passwords go through stdin (printf is a builtin): never on a command line.
	write_secret "$SERVER_PASSFILE" "$server_pw"
	write_secret "$ADMIN_PASSFILE" "$admin_pw"
	printf "CREATE OR REPLACE USER 'missived'@'localhost' IDENTIFIED BY '%s';
CREATE OR REPLACE USER 'missive_admin'@'localhost' IDENTIFIED BY '%s';\n" \
		"$server_pw" "$admin_pw" | root_client || die "creating the accounts failed"
	apply_grants
	: >"$INITMARK"
	say "server account:  missived       (password in $SERVER_PASSFILE)"
	say "admin account:   missive_admin  (password in $ADMIN_PASSFILE)"
}

cmd_start() {
	local pid fresh=0 i child
	need mariadbd; need mariadb-install-db; need mariadb-admin; need mariadb; need openssl
	need flock
	check_socket_len
	list_migrations
	[ -r "$GRANTS" ] || die "missing $GRANTS"
	pid=$(server_pid)
	if [ -n "$pid" ]; then
		say "already running (pid $pid), socket $SOCKET"
		# A first start or a migration that failed half-way left the
		# server up: finish it.
		if ping_ok; then
			if [ ! -e "$INITMARK" ]; then initialize; else upgrade; fi
		fi
		return 0
	fi
	# The datadir holds password hashes: keep db/ private to its owner (this
	# also makes the socket reachable only by the owner's processes).
	(umask 077 && mkdir -p "$DBDIR" "$TMPDIR_DB") && chmod 0700 "$DBDIR"
	if [ ! -d "$DATADIR/mysql" ]; then
		fresh=1
		say "initializing a new datadir in $DATADIR"
		rm -rf "$DATADIR" "$INITMARK"
		mkdir -p "$DATADIR"
		if ! mariadb-install-db --no-defaults "${USEROPT[@]}" "${SERVEROPTS[@]}" \
			--auth-root-authentication-method=socket --auth-root-socket-user="$ME" \
			--skip-test-db >"$DBDIR/install.log" 2>&1; then
			sed 's/^/    /' "$DBDIR/install.log" >&2
			die "mariadb-install-db failed (log: $DBDIR/install.log)"
		fi
	fi
	rm -f "$PIDFILE"
	# setsid: own session, no controlling terminal; all three standard streams
	# redirected so that callers capturing our output ($(...), pipes) do not
	# wait for the server.  Without job control `&` does not make a process
	# group leader, so setsid execs in place and $! is mariadbd's pid.
	setsid mariadbd --no-defaults "${USEROPT[@]}" "${SERVEROPTS[@]}" \
		--socket="$SOCKET" --pid-file="$PIDFILE" --log-error="$ERRLOG" \
		--skip-networking --default-time-zone=+00:00 </dev/null >>"$ERRLOG" 2>&1 &
	child=$!
	i=0
	while ! ping_ok; do
		if ! alive "$child"; then
			log_tail
			die "mariadbd exited during startup"
		fi
		i=$((i + 1))
		if [ "$i" -gt $((START_TIMEOUT * 5)) ]; then
			log_tail
			die "mariadbd did not answer on $SOCKET within ${START_TIMEOUT}s (pid $child still running)"
		fi
		sleep 0.2
	done
	if [ "$fresh" -eq 1 ] || [ ! -e "$INITMARK" ]; then
		initialize
	else
		upgrade
	fi
	say "running (pid $(server_pid)), socket $SOCKET"
	say "datadir $DATADIR"
}

cmd_stop() {
	local pid i
	pid=$(server_pid)
	if [ -z "$pid" ]; then
		say "not running"
		return 0
	fi
	if ! mariadb-admin --no-defaults --socket="$SOCKET" shutdown >/dev/null 2>&1; then
		say "shutdown over the socket failed; sending SIGTERM to pid $pid"
		kill -TERM "$pid" 2>/dev/null || true
	fi
	i=0
	while alive "$pid"; do
		i=$((i + 1))
		if [ "$i" -gt $((STOP_TIMEOUT * 5)) ]; then
			log_tail
			die "mariadbd (pid $pid) still running after ${STOP_TIMEOUT}s"
		fi
		sleep 0.2
	done
	say "stopped (was pid $pid)"
}

cmd_status() {
	local pid
	pid=$(server_pid)
	if [ -n "$pid" ]; then
		say "running (pid $pid), socket $SOCKET, datadir $DATADIR"
		return 0
	fi
	say "stopped (datadir $DATADIR)"
	return 3
}

require_running() {
	[ -n "$(server_pid)" ] || die "server not running; start it with: scripts/db.sh start"
}

cmd_migrate() {
	need flock
	require_running
	[ -e "$INITMARK" ] || die "the database is not set up yet; run: scripts/db.sh start"
	upgrade
}

cmd_version() {
	require_running
	schema_version
}

cmd_sql() {
	[ $# -eq 1 ] || die "usage: db.sh sql FILE"
	require_running
	if [ "$1" = - ]; then
		root_client "$DBNAME"
	else
		[ -r "$1" ] || die "cannot read $1"
		root_client "$DBNAME" <"$1"
	fi
}

cmd_shell() {
	require_running
	root_client "$DBNAME"
}

# Single-quote a value for sh when it holds anything but safe characters.
shq() {
	case "$1" in
	*[!A-Za-z0-9_./:@%+=,-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf '%s' "$1" ;;
	esac
}

cmd_env() {
	printf 'MISSIVE_DB_SOCKET=%s\n' "$(shq "$SOCKET")"
	printf 'MISSIVE_DB_NAME=%s\n' "$DBNAME"
	printf 'MISSIVE_DB_SERVER_USER=missived\n'
	printf 'MISSIVE_DB_SERVER_PASSFILE=%s\n' "$(shq "$SERVER_PASSFILE")"
	printf 'MISSIVE_DB_ADMIN_USER=missive_admin\n'
	printf 'MISSIVE_DB_ADMIN_PASSFILE=%s\n' "$(shq "$ADMIN_PASSFILE")"
}

usage() {
	sed -n '2,12s/^# \{0,1\}//p' "$0" >&2
	exit "${1:-2}"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
start) [ $# -eq 0 ] || usage; cmd_start ;;
stop) [ $# -eq 0 ] || usage; cmd_stop ;;
status) [ $# -eq 0 ] || usage; cmd_status ;;
migrate) [ $# -eq 0 ] || usage; cmd_migrate ;;
version) [ $# -eq 0 ] || usage; cmd_version ;;
sql) cmd_sql "$@" ;;
shell) [ $# -eq 0 ] || usage; cmd_shell ;;
env) [ $# -eq 0 ] || usage; cmd_env ;;
-h | --help | help) usage 0 ;;
*) printf 'db: unknown command: %s\n' "$cmd" >&2; usage ;;
esac
