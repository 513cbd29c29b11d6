/*
 * Fuzz the configuration loader (common/cfg.c on top of libconfig) through
 * both of its tables: server_config_load() and client_config_load().  The
 * input is the file, written to a scratch directory of this process
 * (tmpfs when there is one) before each run; the loaders only read, and
 * resolve relative paths against that directory.
 *
 * Checked: an error leaves every string NULL and one line (no LF) in err,
 * even when err is small; a success leaves every path absolute and the
 * integers in their documented ranges.
 */
#include <stdlib.h>
#include <string.h>

#include "client/config.h"
#include "common/err.h"
#include "common/frame.h"
#include "server/config.h"
#include "tests/fuzz/util.h"

static char path[512];

/* LeakSanitizer's hook: the name is its. */
const char *__lsan_default_suppressions(void); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */

/*
 * libconfig 1.5 (Debian 12) leaks a string token when a syntax error
 * discards it (hyperrealm/libconfig#142, fixed in 1.7 by #155): not ours,
 * and harmless to a daemon that reads its file once and exits on error.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\n"
	    "leak:libconfig_yylex\n";
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmppath(path, sizeof(path), "fuzz.conf");
	return 0;
}

static void
check_err(int r, const char *err, size_t errlen)
{
	FUZZ_CHECK(r == E_CONFIG || r == E_IO || r == E_NOMEM);
	FUZZ_CHECK(strlen(err) < errlen && strchr(err, '\n') == NULL);
	FUZZ_CHECK(errlen < 2 || err[0] != '\0');
}

static int
abs_or_null(const char *p)
{
	return p == NULL || p[0] == '/';
}

static void
server(size_t errlen)
{
	struct server_config c;
	char err[512];
	int r;

	memset(&c, 0xa5, sizeof(c));
	memset(err, 'x', sizeof(err));
	r = server_config_load(path, &c, err, errlen);
	if (r != 0) {
		check_err(r, err, errlen);
		FUZZ_CHECK(c.listen_address == NULL && c.private_key == NULL &&
		    c.public_key == NULL && c.db_socket == NULL &&
		    c.db_host == NULL && c.db_name == NULL &&
		    c.db_user == NULL && c.db_password_file == NULL &&
		    c.db_admin_user == NULL &&
		    c.db_admin_password_file == NULL && c.log_file == NULL);
		return;
	}
	FUZZ_CHECK(c.listen_address != NULL && c.db_name != NULL &&
	    c.db_user != NULL && c.db_admin_user != NULL);
	FUZZ_CHECK(c.db_socket != NULL || c.db_host != NULL);
	FUZZ_CHECK(c.private_key != NULL && c.private_key[0] == '/');
	FUZZ_CHECK(c.public_key != NULL && c.public_key[0] == '/');
	FUZZ_CHECK(c.db_password_file != NULL &&
	    c.db_password_file[0] == '/');
	FUZZ_CHECK(c.db_admin_password_file != NULL &&
	    c.db_admin_password_file[0] == '/');
	FUZZ_CHECK(abs_or_null(c.db_socket) && abs_or_null(c.log_file));
	FUZZ_CHECK(c.listen_port >= 1 && c.listen_port <= 65535);
	FUZZ_CHECK(c.max_frame >= FRAME_MAX_FRAME_MIN &&
	    c.max_frame <= FRAME_MAX_FRAME_MAX);
	FUZZ_CHECK(c.output_queue_max >= 2 * c.max_frame);
	FUZZ_CHECK(c.log_quiet == 0 || c.log_quiet == 1);
	server_config_free(&c);
	FUZZ_CHECK(c.listen_address == NULL && c.private_key == NULL);
}

static void
client(size_t errlen)
{
	struct client_config c;
	char err[512];
	int r;

	memset(&c, 0xa5, sizeof(c));
	memset(err, 'x', sizeof(err));
	r = client_config_load(path, &c, err, errlen);
	if (r != 0) {
		check_err(r, err, errlen);
		FUZZ_CHECK(c.server_host == NULL && c.user == NULL &&
		    c.private_key == NULL && c.public_key == NULL &&
		    c.server_key == NULL && c.known_keys == NULL);
		return;
	}
	FUZZ_CHECK(c.server_host != NULL && c.user != NULL);
	FUZZ_CHECK(c.private_key != NULL && c.private_key[0] == '/');
	FUZZ_CHECK(c.public_key != NULL && c.public_key[0] == '/');
	FUZZ_CHECK(c.server_key != NULL && c.server_key[0] == '/');
	FUZZ_CHECK(c.known_keys != NULL && c.known_keys[0] == '/');
	FUZZ_CHECK(c.server_port >= 1 && c.server_port <= 65535);
	FUZZ_CHECK(c.max_frame >= FRAME_MAX_FRAME_MIN &&
	    c.max_frame <= FRAME_MAX_FRAME_MAX);
	FUZZ_CHECK(c.reconnect_max_ms == 0 ||
	    c.reconnect_max_ms >= c.reconnect_min_ms);
	client_config_free(&c);
	FUZZ_CHECK(c.server_host == NULL && c.user == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_write_file(path, data, size);
	server(512);
	client(512);
	/* A short err: messages are cut, never overrun. */
	server(1 + size % 24);
	return 0;
}
