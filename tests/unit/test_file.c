/*
 * Unit tests: reading a whole file (common/file.c file_read_all()): its
 * bytes and a NUL after them, an empty file, the size limit, a missing
 * file, and what is not a regular file (refused without blocking); and
 * file_replace() against a symlink planted at its temporary path (not
 * followed) and a temporary file left by a crash (replaced, mode 0600).  Each
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
	char tmp[PATH_MAX + 16];	/* dir/file.tmp */
	char victim[PATH_MAX + 16];	/* dir/victim */
	char err[512];
};

static int
setup(void **state)
{
	struct fx *fx;

	assert_non_null(fx = calloc(1, sizeof(*fx)));
	assert_int_equal(make_tmpdir(fx->dir, sizeof(fx->dir), "test_file"), 0);
	(void)snprintf(fx->file, sizeof(fx->file), "%s/file", fx->dir);
	(void)snprintf(fx->fifo, sizeof(fx->fifo), "%s/fifo", fx->dir);
	(void)snprintf(fx->tmp, sizeof(fx->tmp), "%s/file.tmp", fx->dir);
	(void)snprintf(fx->victim, sizeof(fx->victim), "%s/victim", fx->dir);
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
	(void)unlink(fx->tmp);
	(void)unlink(fx->victim);
	r = rmdir(fx->dir);
	free(fx);
	return r;
}

/* Write len bytes of text to the file and read them back with limit max. */
static void
read_back(struct fx *fx, const char *text, size_t len, size_t max)
{
	struct stat st;
	size_t got = len + 1;
	char *p;

	write_file(fx->file, text, len);
	assert_int_equal(file_read_all(fx->file, max, &p, &got, &st, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(got, len);
	assert_memory_equal(p, text, len);
	assert_int_equal(p[len], '\0');
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, (off_t)len);
	free(p);
}

static void
test_reads_whole_file(void **state)
{
	static const char text[] = "first line\n\0after a NUL\n";

	read_back(*state, text, sizeof(text) - 1, 1000);
}

static void
test_empty_file(void **state)
{
	read_back(*state, "", 0, 0);
}

/*
 * Reading path with limit max fails with want, *out NULL and *len 0, and
 * the message has msg in it.
 */
static void
refused(struct fx *fx, const char *path, size_t max, int want,
    const char *msg)
{
	static char stale;
	char *p = &stale;
	size_t len = 1;

	fx->err[0] = '\0';
	assert_int_equal(file_read_all(path, max, &p, &len, NULL, fx->err,
	    sizeof(fx->err)), want);
	assert_null(p);
	assert_int_equal(len, 0);
	if (strstr(fx->err, msg) == NULL)
		fail_msg("\"%s\" is not in \"%s\"", msg, fx->err);
}

/* max bytes are read; one more is refused before any read. */
static void
test_limit(void **state)
{
	struct fx *fx = *state;

	read_back(fx, "0123456789", 10, 10);
	refused(fx, fx->file, 9, E_TOO_LONG, "/file: larger than 9 bytes");
}

/* A large file comes whole, though read() may return it in pieces. */
static void
test_large_file(void **state)
{
	size_t n = (size_t)4 << 20, i;
	char *text;

	assert_non_null(text = malloc(n));
	for (i = 0; i < n; i++)
		text[i] = (char)('a' + i % 26);
	read_back(*state, text, n, n);
	free(text);
}

static void
test_missing(void **state)
{
	struct fx *fx = *state;

	refused(fx, fx->file, 10, E_NOT_FOUND,
	    "/file: cannot open: No such file or directory");
}

/* A directory and a FIFO (which would block a plain open) are refused. */
static void
test_not_regular(void **state)
{
	struct fx *fx = *state;

	refused(fx, fx->dir, 10, E_IO, ": not a regular file");
	assert_int_equal(mkfifo(fx->fifo, 0600), 0);
	refused(fx, fx->fifo, 10, E_IO, "/fifo: not a regular file");
}

/* The file's bytes are exactly text. */
static void
assert_file_is(struct fx *fx, const char *path, const char *text)
{
	size_t len;
	char *p;

	assert_int_equal(file_read_all(path, 100, &p, &len, NULL, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(p, text, len);
	free(p);
}

/*
 * Someone who can write the directory plants a symlink at the temporary
 * path, to make the next save write through it: the link is unlinked, not
 * followed, and its target keeps its bytes.
 */
static void
test_replace_planted_symlink(void **state)
{
	struct fx *fx = *state;
	struct stat st;

	write_file(fx->victim, "precious", 8);
	assert_int_equal(symlink(fx->victim, fx->tmp), 0);
	assert_int_equal(file_replace(fx->file, fx->tmp, "new", 3), 0);
	assert_file_is(fx, fx->victim, "precious");
	assert_file_is(fx, fx->file, "new");
	assert_int_equal(lstat(fx->file, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_not_equal(lstat(fx->tmp, &st), 0);
}

/* A temporary file left by a crash, of another mode: replaced, 0600. */
static void
test_replace_leftover_temp(void **state)
{
	struct fx *fx = *state;
	struct stat st;

	write_file(fx->tmp, "half a save", 11);
	assert_int_equal(chmod(fx->tmp, 0644), 0);
	assert_int_equal(file_replace(fx->file, fx->tmp, "whole", 5), 0);
	assert_file_is(fx, fx->file, "whole");
	assert_int_equal(stat(fx->file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
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
		cmocka_unit_test_setup_teardown(test_replace_planted_symlink,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_leftover_temp,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
