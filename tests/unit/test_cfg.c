/*
 * Unit tests for common/cfg (the schema-driven libconfig loader) and the
 * server and client configurations built on it.  Run from the repository
 * root: the sample files under conf/ are loaded by relative path.  Every
 * temporary config is written with mkstemp under $TMPDIR (or /tmp).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/config.h"
#include "common/cfg.h"
#include "common/err.h"
#include "server/config.h"

/* A database group with everything the server requires. */
#define DB_OK								\
	"database: {\n"							\
	"	socket = \"/run/db.sock\";\n"				\
	"	password_file = \"pw\";\n"				\
	"	admin_password_file = \"/etc/missive/admin.pass\";\n"	\
	"};\n"

/* The two settings the client requires. */
#define CLIENT_OK "user = \"alice\";\nserver: { host = \"chat.example\"; };\n"

enum which { SERVER, CLIENT };

static const char *
tmp_base(void)
{
	const char *d = getenv("TMPDIR");

	return d != NULL && d[0] != '\0' ? d : "/tmp";
}

/* Write len bytes of text to a new temporary file; returns its path. */
static char *
write_conf_n(const char *text, size_t len)
{
	size_t n = strlen(tmp_base()) + sizeof("/missive-cfg-XXXXXX");
	char *path = malloc(n);
	size_t off = 0;
	int fd;

	assert_non_null(path);
	assert_true(snprintf(path, n, "%s/missive-cfg-XXXXXX", tmp_base()) <
	    (int)n);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		assert_true(w > 0);
		off += (size_t)w;
	}
	assert_int_equal(close(fd), 0);
	return path;
}

static char *
write_conf(const char *text)
{
	return write_conf_n(text, strlen(text));
}

static void
remove_conf(char *path)
{
	assert_int_equal(unlink(path), 0);
	free(path);
}

/* realpath(dir) + "/" + name, in out. */
static void
in_dir(char *out, size_t outlen, const char *dir, const char *name)
{
	char *real = realpath(dir, NULL);

	assert_non_null(real);
	assert_true(snprintf(out, outlen, "%s/%s", real, name) < (int)outlen);
	free(real);
}

static void
assert_server_strings_null(const struct server_config *c)
{
	assert_null(c->listen_address);
	assert_null(c->private_key);
	assert_null(c->public_key);
	assert_null(c->db_socket);
	assert_null(c->db_host);
	assert_null(c->db_name);
	assert_null(c->db_user);
	assert_null(c->db_password_file);
	assert_null(c->db_admin_user);
	assert_null(c->db_admin_password_file);
	assert_null(c->log_file);
}

static void
assert_client_strings_null(const struct client_config *c)
{
	assert_null(c->server_host);
	assert_null(c->user);
	assert_null(c->private_key);
	assert_null(c->public_key);
	assert_null(c->server_key);
	assert_null(c->known_keys);
}

/*
 * Load text with the chosen loader and expect E_CONFIG with a message that
 * starts with "FILE:LINE: " ("FILE: " when line is 0, "FILE:" when it is
 * -1: any line) and contains
 * want.  The struct starts as garbage and must end with no strings.
 */
static void
expect_fail(enum which w, const char *text, size_t len, int line,
    const char *want)
{
	char *path = write_conf_n(text, len);
	char err[512], prefix[PATH_MAX + 32];
	struct server_config sc;
	struct client_config cc;
	int n, r;

	if (line > 0)
		n = snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	else if (line == 0)
		n = snprintf(prefix, sizeof(prefix), "%s: ", path);
	else
		n = snprintf(prefix, sizeof(prefix), "%s:", path);
	assert_true(n > 0 && (size_t)n < sizeof(prefix));
	memset(err, 'x', sizeof(err));
	memset(&sc, 0xa5, sizeof(sc));
	memset(&cc, 0xa5, sizeof(cc));
	if (w == SERVER)
		r = server_config_load(path, &sc, err, sizeof(err));
	else
		r = client_config_load(path, &cc, err, sizeof(err));
	remove_conf(path);
	if (r == 0) {
		/* Unexpected success: free before failing below. */
		if (w == SERVER)
			server_config_free(&sc);
		else
			client_config_free(&cc);
	}
	assert_int_equal(r, E_CONFIG);
	if (w == SERVER)
		assert_server_strings_null(&sc);
	else
		assert_client_strings_null(&cc);
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, want) == NULL)
		fail_msg("message \"%s\"\nwanted prefix \"%s\" and \"%s\"",
		    err, prefix, want);
}

static void
server_fail(const char *text, int line, const char *want)
{
	expect_fail(SERVER, text, strlen(text), line, want);
}

static void
client_fail(const char *text, int line, const char *want)
{
	expect_fail(CLIENT, text, strlen(text), line, want);
}

/* ---- the sample files ---- */

static void
test_sample_server(void **state)
{
	struct server_config c;
	char err[512], p[PATH_MAX + 64];
	int i;

	(void)state;
	/* Twice: a loaded config can be freed and loaded again. */
	for (i = 0; i < 2; i++) {
		if (server_config_load("conf/server.conf", &c, err,
		    sizeof(err)) != 0)
			fail_msg("conf/server.conf: %s", err);
		assert_string_equal(c.listen_address, "0.0.0.0");
		assert_int_equal(c.listen_port, 7777);
		in_dir(p, sizeof(p), "conf", "server.key");
		assert_string_equal(c.private_key, p);
		in_dir(p, sizeof(p), "conf", "server.pub");
		assert_string_equal(c.public_key, p);
		assert_string_equal(c.db_socket, "/run/mysqld/mysqld.sock");
		assert_string_equal(c.db_host, "localhost");
		assert_int_equal(c.db_port, 3306);
		assert_string_equal(c.db_name, "missive");
		assert_string_equal(c.db_user, "missived");
		in_dir(p, sizeof(p), "conf", "db-missived.pass");
		assert_string_equal(c.db_password_file, p);
		assert_string_equal(c.db_admin_user, "missive_admin");
		in_dir(p, sizeof(p), "conf", "db-admin.pass");
		assert_string_equal(c.db_admin_password_file, p);
		assert_int_equal(c.workers, 0);
		assert_int_equal(c.max_clients, 10000);
		assert_int_equal(c.max_frame, 65536);
		assert_int_equal(c.handshake_timeout, 10);
		assert_int_equal(c.idle_timeout, 90);
		assert_int_equal(c.keepalive_interval, 30);
		assert_int_equal(c.conn_rate_per_addr, 60);
		assert_int_equal(c.output_queue_max, 1048576);
		assert_int_equal(c.max_rooms_per_client, 16);
		assert_int_equal(c.max_room_members, 10000);
		assert_int_equal(c.max_rooms, 1000);
		assert_int_equal(c.login_fail_delay_ms, 500);
		assert_int_equal(c.login_lock_after, 5);
		assert_int_equal(c.login_lock_seconds, 300);
		in_dir(p, sizeof(p), "conf", "missived.log");
		assert_string_equal(c.log_file, p);
		assert_int_equal(c.log_quiet, 0);
		server_config_free(&c);
		assert_server_strings_null(&c);
	}
}

static void
test_sample_client(void **state)
{
	struct client_config c;
	char err[512], p[PATH_MAX + 64];

	(void)state;
	if (client_config_load("conf/client.conf", &c, err, sizeof(err)) != 0)
		fail_msg("conf/client.conf: %s", err);
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.server_host, "chat.example.org");
	assert_int_equal(c.server_port, 7777);
	in_dir(p, sizeof(p), "conf", "user.key");
	assert_string_equal(c.private_key, p);
	in_dir(p, sizeof(p), "conf", "user.pub");
	assert_string_equal(c.public_key, p);
	in_dir(p, sizeof(p), "conf", "server.pub");
	assert_string_equal(c.server_key, p);
	in_dir(p, sizeof(p), "conf", "known_keys");
	assert_string_equal(c.known_keys, p);
	assert_int_equal(c.reconnect_min_ms, 500);
	assert_int_equal(c.reconnect_max_ms, 30000);
	assert_int_equal(c.keepalive_interval, 30);
	assert_int_equal(c.max_frame, 65536);
	client_config_free(&c);
	assert_client_strings_null(&c);
	client_config_free(&c);		/* twice is harmless */
}

/* ---- defaults and paths ---- */

static void
test_server_defaults(void **state)
{
	char *path = write_conf(DB_OK);
	struct server_config c;
	char err[512], p[PATH_MAX + 64];

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	if (server_config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.listen_address, "0.0.0.0");
	assert_int_equal(c.listen_port, 7777);
	in_dir(p, sizeof(p), tmp_base(), "server.key");
	assert_string_equal(c.private_key, p);
	in_dir(p, sizeof(p), tmp_base(), "server.pub");
	assert_string_equal(c.public_key, p);
	assert_string_equal(c.db_socket, "/run/db.sock");
	assert_null(c.db_host);
	assert_int_equal(c.db_port, 3306);
	assert_string_equal(c.db_name, "missive");
	assert_string_equal(c.db_user, "missived");
	in_dir(p, sizeof(p), tmp_base(), "pw");
	assert_string_equal(c.db_password_file, p);
	assert_string_equal(c.db_admin_user, "missive_admin");
	assert_string_equal(c.db_admin_password_file,
	    "/etc/missive/admin.pass");
	assert_int_equal(c.workers, 0);
	assert_int_equal(c.max_clients, 10000);
	assert_int_equal(c.max_frame, 65536);
	assert_int_equal(c.handshake_timeout, 10);
	assert_int_equal(c.idle_timeout, 90);
	assert_int_equal(c.keepalive_interval, 30);
	assert_int_equal(c.conn_rate_per_addr, 60);
	assert_int_equal(c.output_queue_max, 1 << 20);
	assert_int_equal(c.max_rooms_per_client, 16);
	assert_int_equal(c.max_room_members, 10000);
	assert_int_equal(c.max_rooms, 1000);
	assert_int_equal(c.login_fail_delay_ms, 500);
	assert_int_equal(c.login_lock_after, 5);
	assert_int_equal(c.login_lock_seconds, 300);
	assert_null(c.log_file);
	assert_int_equal(c.log_quiet, 0);
	server_config_free(&c);
	remove_conf(path);
}

static void
test_client_defaults(void **state)
{
	char *path = write_conf(CLIENT_OK);
	struct client_config c;
	char err[512], p[PATH_MAX + 64];

	(void)state;
	if (client_config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.server_host, "chat.example");
	assert_int_equal(c.server_port, 7777);
	in_dir(p, sizeof(p), tmp_base(), "user.key");
	assert_string_equal(c.private_key, p);
	in_dir(p, sizeof(p), tmp_base(), "user.pub");
	assert_string_equal(c.public_key, p);
	in_dir(p, sizeof(p), tmp_base(), "server.pub");
	assert_string_equal(c.server_key, p);
	in_dir(p, sizeof(p), tmp_base(), "known_keys");
	assert_string_equal(c.known_keys, p);
	assert_int_equal(c.reconnect_min_ms, 500);
	assert_int_equal(c.reconnect_max_ms, 30000);
	assert_int_equal(c.keepalive_interval, 30);
	assert_int_equal(c.max_frame, 65536);
	client_config_free(&c);
	remove_conf(path);
}

static void
test_path_relative(void **state)
{
	char *path = write_conf(CLIENT_OK
	    "keys: { private = \"sub/dir/me.key\"; server = \"./s.pub\"; };\n"
	    "known_keys = \"trust/known\";\n");
	struct client_config c;
	char err[512], p[PATH_MAX + 64];

	(void)state;
	if (client_config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	in_dir(p, sizeof(p), tmp_base(), "sub/dir/me.key");
	assert_string_equal(c.private_key, p);
	in_dir(p, sizeof(p), tmp_base(), "./s.pub");
	assert_string_equal(c.server_key, p);
	in_dir(p, sizeof(p), tmp_base(), "trust/known");
	assert_string_equal(c.known_keys, p);
	assert_true(c.public_key[0] == '/');
	client_config_free(&c);
	remove_conf(path);
}

static void
test_path_absolute(void **state)
{
	char *path = write_conf(CLIENT_OK
	    "keys: { public = \"/etc/missive/alice.pub\"; };\n");
	struct client_config c;
	char err[512];

	(void)state;
	if (client_config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.public_key, "/etc/missive/alice.pub");
	client_config_free(&c);
	remove_conf(path);
}

/* A file named without any directory resolves against the cwd. */
static void
test_path_bare_file_name(void **state)
{
	char *path = write_conf(CLIENT_OK);
	struct client_config c;
	char err[512], p[PATH_MAX + 64];
	const char *base = strrchr(path, '/') + 1;
	int cwd, r;

	(void)state;
	cwd = open(".", O_RDONLY | O_DIRECTORY);
	assert_true(cwd >= 0);
	assert_int_equal(chdir(tmp_base()), 0);
	r = client_config_load(base, &c, err, sizeof(err));
	assert_int_equal(fchdir(cwd), 0);
	assert_int_equal(close(cwd), 0);
	if (r != 0)
		fail_msg("%s", err);
	in_dir(p, sizeof(p), tmp_base(), "user.key");
	assert_string_equal(c.private_key, p);
	client_config_free(&c);
	remove_conf(path);
}

/* ---- settings the table does not have ---- */

static void
test_unknown_key(void **state)
{
	(void)state;
	client_fail(CLIENT_OK "\nbogus = 1;\n", 4, "unknown setting 'bogus'");
	client_fail("user = \"alice\";\nserver: {\n\thost = \"h\";\n"
	    "\thots = \"x\";\n};\n", 4, "unknown setting 'server.hots'");
	server_fail(DB_OK "extra: { a = 1; };\n", 6,
	    "unknown setting 'extra'");
	server_fail("database: {\n socket = \"/s\";\n password_file = \"p\";\n"
	    " admin_password_file = \"a\";\n nested: { x = 1; };\n};\n", 5,
	    "unknown setting 'database.nested'");
}

static void
test_group_for_scalar(void **state)
{
	(void)state;
	client_fail("server: { host = \"h\"; };\n"
	    "user: { name = \"alice\"; };\n", 2, "unknown setting 'user'");
	server_fail(DB_OK "listen: { port: { n = 1; }; };\n", 6,
	    "unknown setting 'listen.port'");
	/* and the other way round */
	client_fail("user = \"alice\";\nserver = \"h\";\n", 2,
	    "unknown setting 'server'");
	client_fail(CLIENT_OK "keys = [ \"a\", \"b\" ];\n", 3,
	    "unknown setting 'keys'");
}

/* ---- values of the wrong type ---- */

static void
test_wrong_type(void **state)
{
	(void)state;
	client_fail(CLIENT_OK "max_frame = \"big\";\n", 3,
	    "'max_frame' must be an integer");
	client_fail(CLIENT_OK "max_frame = 65536.0;\n", 3,
	    "'max_frame' must be an integer");
	client_fail(CLIENT_OK "max_frame = true;\n", 3,
	    "'max_frame' must be an integer");
	client_fail(CLIENT_OK "max_frame = [ 1, 2 ];\n", 3,
	    "'max_frame' must be an integer");
	client_fail("server: { host = \"h\"; };\nuser = 5;\n", 2,
	    "'user' must be a string");
	client_fail(CLIENT_OK "keys: { server = ( \"a\" ); };\n", 3,
	    "'keys.server' must be a string");
	server_fail(DB_OK "log: {\n quiet = 1;\n};\n", 7,
	    "'log.quiet' must be true or false");
	server_fail(DB_OK "log: { quiet = \"yes\"; };\n", 6,
	    "'log.quiet' must be true or false");
}

/* ---- values out of range ---- */

static void
test_out_of_range(void **state)
{
	(void)state;
	server_fail(DB_OK "listen: {\n\tport = 70000;\n};\n", 7,
	    "'listen.port' must be between 1 and 65535 (got 70000)");
	server_fail(DB_OK "listen: { port = 0; };\n", 6,
	    "'listen.port' must be between 1 and 65535 (got 0)");
	client_fail(CLIENT_OK "max_frame = 100;\n", 3,
	    "'max_frame' must be between 8192 and 16777216 (got 100)");
	server_fail(DB_OK "limits: { max_frame = 8191; };\n", 6,
	    "'limits.max_frame' must be between 8192 and 16777216 (got 8191)");
	server_fail(DB_OK "limits: { max_rooms_per_client = 0; };\n", 6,
	    "'limits.max_rooms_per_client' must be between 1 and 1024 (got 0)");
	server_fail(DB_OK "limits: { max_room_members = 1; };\n", 6,
	    "'limits.max_room_members' must be between 2 and 1000000 (got 1)");
	server_fail(DB_OK "limits: { max_rooms = 1000001; };\n", 6,
	    "'limits.max_rooms' must be between 1 and 1000000 (got 1000001)");
	server_fail(DB_OK "limits: { output_queue_max = 4294967297L; };\n", 6,
	    "'limits.output_queue_max' must be between 4096 and 1073741824 "
	    "(got 4294967297)");
	server_fail(DB_OK "workers = -1;\n", 6,
	    "'workers' must be between 0 and 256 (got -1)");
	client_fail("user = \"abcdefghijklmnopqrstuvwxyz0123456\";\n"
	    "server: { host = \"h\"; };\n", 1,
	    "'user' must be between 1 and 32 bytes long (got 33)");
	client_fail("user = \"\";\nserver: { host = \"h\"; };\n", 1,
	    "'user' must be between 1 and 32 bytes long (got 0)");
}

/* A small table for the generic loader's own tests. */
struct demo {
	long long deep, big;
	int flag, flag2;
	char *name, *opt, *where;
};

static const struct cfg_field demo_fields[] = {
	{ "a.b.c.deep", CFG_INT, 1, -5, 5, 0, NULL,
	    offsetof(struct demo, deep), "a deep integer" },
	{ "big", CFG_INT, 0, 0, 1LL << 40, 0, NULL,
	    offsetof(struct demo, big), "a 64-bit integer" },
	{ "flag", CFG_BOOL, 0, 0, 1, 1, NULL,
	    offsetof(struct demo, flag), "a flag" },
	{ "a.flag2", CFG_BOOL, 0, 0, 1, 0, NULL,
	    offsetof(struct demo, flag2), "another flag" },
	{ "a.name", CFG_STRING, 0, 0, 8, 0, "dflt",
	    offsetof(struct demo, name), "a name" },
	{ "opt", CFG_STRING, 0, 1, 8, 0, NULL,
	    offsetof(struct demo, opt), "optional" },
	{ "where", CFG_PATH, 0, 1, 64, 0, "/abs/default",
	    offsetof(struct demo, where), "a path" },
};
#define DEMO_N (sizeof(demo_fields) / sizeof(demo_fields[0]))

/* A 64-bit value with L loads; without it libconfig 1.5 would truncate. */
static void
test_int64(void **state)
{
	char *path = write_conf("a: { b: { c: { deep = 1; }; }; };\n"
	    "big = 4294967296L;\n");
	struct demo d;
	char err[512];

	(void)state;
	if (cfg_load(path, demo_fields, DEMO_N, &d, NULL, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(d.big == 4294967296LL);
	cfg_free(demo_fields, DEMO_N, &d);
	remove_conf(path);

	server_fail(DB_OK "limits: {\n max_frame = 4294967296;\n};\n", 7,
	    "integer 4294967296 does not fit in a 32-bit int: write it as "
	    "4294967296L");
	server_fail(DB_OK "limits: { max_frame = 0x100000100; };\n", 6,
	    "integer 0x100000100 does not fit");
	server_fail(DB_OK "limits: { max_frame = -9999999999; };\n", 6,
	    "write it as -9999999999L");
	server_fail(DB_OK "workers = 99999999999999999999L;\n", 6,
	    "integer 99999999999999999999L is out of range");
}

/* ---- missing settings ---- */

static void
test_missing_required(void **state)
{
	(void)state;
	server_fail("database: {\n socket = \"/s\";\n"
	    " admin_password_file = \"a\";\n};\n", 0,
	    "missing required setting 'database.password_file'");
	server_fail("", 0,
	    "missing required setting 'database.password_file'");
	client_fail("user = \"alice\";\n", 0,
	    "missing required setting 'server.host'");
}

static void
test_client_empty(void **state)
{
	(void)state;
	client_fail("", 0, "missing required setting 'user'");
	client_fail("# nothing but a comment\n", 0,
	    "missing required setting 'user'");
}

/* ---- malformed files ---- */

static void
test_syntax_error(void **state)
{
	(void)state;
	client_fail("user = \"alice\";\n\nserver: { host = ; };\n", 3,
	    "syntax error");
	client_fail("user = \"alice\";\nuser = \"bob\";\n", 2,
	    "syntax error: duplicate setting name");
	client_fail("user = \"alice\";\nserver: {\n host = \"h\";\n", -1,
	    "syntax error");
	client_fail("server: { host = \"h\"; };\n\nuser = = \"alice\";\n", 3,
	    "syntax error");
}

static void
test_control_char(void **state)
{
	(void)state;
	client_fail("server: { host = \"h\"; };\nuser = \"al\\tice\";\n", 2,
	    "'user' contains a control character");
	client_fail(CLIENT_OK "keys: { private = \"a\\x01b\"; };\n", 3,
	    "'keys.private' contains a control character");
	client_fail(CLIENT_OK "keys: { public = \"a\\nb\"; };\n", 3,
	    "'keys.public' contains a control character");
	client_fail(CLIENT_OK "keys: { public = \"a\\x7f\"; };\n", 3,
	    "'keys.public' contains a control character");
}

static void
test_include_and_nul(void **state)
{
	static const char nul[] = CLIENT_OK "max_frame = 1;\0 bogus = 1;\n";

	(void)state;
	client_fail(CLIENT_OK "@include \"/etc/passwd\"\n", 3,
	    "@include is not supported");
	expect_fail(CLIENT, nul, sizeof(nul) - 1, 3, "NUL byte in file");
}

/* Numbers and keywords inside strings and comments are left alone. */
static void
test_lexer_skips_strings_and_comments(void **state)
{
	char *path = write_conf(
	    "# 99999999999999 @include \"x\"\n"
	    "// 5000000000\n"
	    "/* 5000000000\n @include \"x\" */ user = \"alice\";\n"
	    "server: { host = \"h5000000000 @include \\\"x\\\"\"; };\n"
	    "max_frame = 9000; # 4294967296\n");
	struct client_config c;
	char err[512];

	(void)state;
	if (client_config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.server_host, "h5000000000 @include \"x\"");
	assert_int_equal(c.max_frame, 9000);
	client_config_free(&c);
	remove_conf(path);
}

/* ---- rules between settings ---- */

static void
test_database_socket_or_host(void **state)
{
	char *path = write_conf("database: { host = \"db.example\"; "
	    "port = 3307; password_file = \"/p\"; "
	    "admin_password_file = \"/a\"; };\n");
	struct server_config c;
	char err[512];

	(void)state;
	server_fail("database: {\n password_file = \"p\";\n"
	    " admin_password_file = \"a\";\n};\n", 0,
	    "database: set socket or host");
	if (server_config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_null(c.db_socket);
	assert_string_equal(c.db_host, "db.example");
	assert_int_equal(c.db_port, 3307);
	server_config_free(&c);
	remove_conf(path);
}

static void
test_cross_checks(void **state)
{
	(void)state;
	server_fail(DB_OK "limits: { idle_timeout = 30; };\n", 0,
	    "'limits.idle_timeout' (30) must be greater than "
	    "'limits.keepalive_interval' (30)");
	server_fail(DB_OK "limits: { max_frame = 1048576; };\n", 0,
	    "'limits.output_queue_max' (1048576) must be at least twice "
	    "'limits.max_frame' (1048576)");
	client_fail(CLIENT_OK "reconnect: { min_ms = 5000; max_ms = 1000; };\n",
	    0, "'reconnect.max_ms' (1000) must be 0 or at least "
	    "'reconnect.min_ms' (5000)");
	client_fail("user = \"Alice\";\nserver: { host = \"h\"; };\n", 0,
	    "'user' is not a valid user name");
}

/* ---- the file itself ---- */

static void
test_unreadable(void **state)
{
	struct client_config c;
	char err[512];

	(void)state;
	assert_int_equal(client_config_load("/nonexistent/missive.conf", &c,
	    err, sizeof(err)), E_IO);
	assert_non_null(strstr(err, "/nonexistent/missive.conf: cannot open"));
	assert_client_strings_null(&c);
	assert_int_equal(client_config_load(tmp_base(), &c, err, sizeof(err)),
	    E_IO);
	assert_non_null(strstr(err, "not a regular file"));
	assert_client_strings_null(&c);
}

/* ---- the generic loader on its own table ---- */


static void
test_generic(void **state)
{
	char *path = write_conf("a: { b: { c: { deep = -5; }; };\n"
	    "  flag2 = TRUE; name = \"\"; };\n");
	struct demo d;
	char err[128];

	(void)state;
	memset(&d, 0xa5, sizeof(d));
	if (cfg_load(path, demo_fields, DEMO_N, &d, NULL, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(d.deep, -5);
	assert_int_equal(d.flag, 1);
	assert_int_equal(d.flag2, 1);
	assert_string_equal(d.name, "");
	assert_null(d.opt);
	assert_string_equal(d.where, "/abs/default");
	cfg_free(demo_fields, DEMO_N, &d);
	assert_null(d.name);
	assert_null(d.where);
	remove_conf(path);

	/* Missing required, with the help text; a NULL err is allowed. */
	path = write_conf("a: { b: { }; };\n");
	assert_int_equal(cfg_load(path, demo_fields, DEMO_N, &d, NULL, err,
	    sizeof(err)), E_CONFIG);
	assert_non_null(strstr(err,
	    "missing required setting 'a.b.c.deep' (a deep integer)"));
	assert_int_equal(cfg_load(path, demo_fields, DEMO_N, &d, NULL, NULL, 0),
	    E_CONFIG);
	assert_null(d.name);
	remove_conf(path);

	/* A message longer than err is cut, still terminated. */
	path = write_conf("a: { b: { c: { deep = 6; }; }; };\n");
	assert_int_equal(cfg_load(path, demo_fields, DEMO_N, &d, NULL, err, 8),
	    E_CONFIG);
	assert_int_equal(strlen(err), 7);
	remove_conf(path);

	/* An error after strings were set frees them. */
	path = write_conf("a: { name = \"x\"; b: { c: { deep = 1; }; }; };\n"
	    "opt = \"toolongvalue\";\n");
	assert_int_equal(cfg_load(path, demo_fields, DEMO_N, &d, NULL, err,
	    sizeof(err)), E_CONFIG);
	assert_non_null(strstr(err, ":2: 'opt' must be between 1 and 8"));
	assert_null(d.name);
	assert_null(d.where);
	remove_conf(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_server),
		cmocka_unit_test(test_sample_client),
		cmocka_unit_test(test_server_defaults),
		cmocka_unit_test(test_client_defaults),
		cmocka_unit_test(test_path_relative),
		cmocka_unit_test(test_path_absolute),
		cmocka_unit_test(test_path_bare_file_name),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_group_for_scalar),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_int64),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_client_empty),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_control_char),
		cmocka_unit_test(test_include_and_nul),
		cmocka_unit_test(test_lexer_skips_strings_and_comments),
		cmocka_unit_test(test_database_socket_or_host),
		cmocka_unit_test(test_cross_checks),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_generic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
