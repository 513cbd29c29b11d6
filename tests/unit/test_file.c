/*
 * Unit tests: reading a whole file (common/file.c file_read_all()): its
 * bytes and a NUL after them, an empty file, the size limit, a missing
 * file, and what is not a regular file (refused without blocking).  Each
 * test works in its own directory made with mkdtemp under $TMPDIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/file.h"

#include "tests/unit/util.h"

struct fx {
	char dir[PATH_MAX];
	char file[PATH_MAX + 8];	/* dir/file */
	char fifo[PATH_MAX + 8];	/* dir/fifo */
	char err[512];
};

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "%s/test_file.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	(void)snprintf(fx->file, sizeof(fx->file), "%s/file", fx->dir);
	(void)snprintf(fx->fifo, sizeof(fx->fifo), "%s/fifo", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	int r;

	/* Only these are made. */
	(void)unlink(fx->file);
	(void)unlink(fx->fifo);
	r = rmdir(fx->dir);
	free(fx);
	return r;
}

static void
test_reads_whole_file(void **state)
{
	static const char text[] = "first line\n\0after a NUL\n";
	struct fx *fx = *state;
	struct stat st;
	size_t len = 1;
	char *p;

	write_file(fx->file, text, sizeof(text) - 1);
	assert_int_equal(file_read_all(fx->file, 1000, &p, &len, &st, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(len, sizeof(text) - 1);
	assert_memory_equal(p, text, len);
	assert_int_equal(p[len], '\0');
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, (off_t)len);
	free(p);
}

static void
test_empty_file(void **state)
{
	struct fx *fx = *state;
	size_t len = 1;
	char *p;

	write_file(fx->file, "", 0);
	assert_int_equal(file_read_all(fx->file, 0, &p, &len, NULL, NULL, 0),
	    0);
	assert_int_equal(len, 0);
	assert_non_null(p);
	assert_int_equal(p[0], '\0');
	free(p);
}

/* max bytes are read; one more is refused before any read. */
static void
test_limit(void **state)
{
	static char stale;
	struct fx *fx = *state;
	size_t len = 1;
	char *p;

	write_file(fx->file, "0123456789", 10);
	assert_int_equal(file_read_all(fx->file, 10, &p, &len, NULL, NULL, 0),
	    0);
	assert_int_equal(len, 10);
	free(p);
	p = &stale;	/* must come back NULL */
	assert_int_equal(file_read_all(fx->file, 9, &p, &len, NULL, fx->err,
	    sizeof(fx->err)), E_TOO_LONG);
	assert_null(p);
	assert_int_equal(len, 0);
	assert_non_null(strstr(fx->err, "/file: larger than 9 bytes"));
}

/* A large file comes whole, though read() may return it in pieces. */
static void
test_large_file(void **state)
{
	struct fx *fx = *state;
	size_t n = (size_t)4 << 20, len = 0, i;
	char *text, *p;

	assert_non_null(text = malloc(n));
	for (i = 0; i < n; i++)
		text[i] = (char)('a' + i % 26);
	write_file(fx->file, text, n);
	assert_int_equal(file_read_all(fx->file, n, &p, &len, NULL, NULL, 0),
	    0);
	assert_int_equal(len, n);
	assert_memory_equal(p, text, n);
	free(p);
	free(text);
}

static void
test_missing(void **state)
{
	struct fx *fx = *state;
	size_t len = 1;
	char *p;

	assert_int_equal(file_read_all(fx->file, 10, &p, &len, NULL, fx->err,
	    sizeof(fx->err)), E_NOT_FOUND);
	assert_null(p);
	assert_int_equal(len, 0);
	assert_non_null(strstr(fx->err, "/file: cannot open: "));
}

/* A directory and a FIFO (which would block a plain open) are refused. */
static void
test_not_regular(void **state)
{
	struct fx *fx = *state;
	size_t len;
	char *p;

	assert_int_equal(file_read_all(fx->dir, 10, &p, &len, NULL, fx->err,
	    sizeof(fx->err)), E_IO);
	assert_null(p);
	assert_non_null(strstr(fx->err, ": not a regular file"));
	assert_int_equal(mkfifo(fx->fifo, 0600), 0);
	fx->err[0] = '\0';
	assert_int_equal(file_read_all(fx->fifo, 10, &p, &len, NULL, fx->err,
	    sizeof(fx->err)), E_IO);
	assert_null(p);
	assert_non_null(strstr(fx->err, "/fifo: not a regular file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_whole_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
