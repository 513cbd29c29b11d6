/*
 * Unit tests for client/trust (pinned peer keys, known_keys).  Every test
 * works in its own directory made with mkdtemp under $TMPDIR (or /tmp).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "client/trust.h"
#include "common/err.h"
#include "common/file.h"
#include "keydist/keys.h"

#include "tests/unit/util.h"

#define FP_A "SHA256:0Wpg5oRbVjcxR6qZQ34jSlECnexxnPrBsTroKqYrsTQ"
#define FP_B "SHA256:fArdbXWoAoxxcKVZlWxI5zggSpQKz/AJSPZiqILJlKM"
#define FP_C "SHA256:vB59+1wVRG2TizByxZVDLGiJ6wMAiDgwbrL1BLQFY7w"
#define FP_D "SHA256:Hrrftljk/3dFnmRme3HPRGiJg7IeI3S3dAisf/0ek8s"

/* A 3072-bit public key and its fingerprint, as openssl computes it. */
static const char pub_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA3WbFbGyNasUE48joJrlF\n"
	"UusZe9mSh0NnmXy1p3/zVle4JZS/ExhaYWyzMBj+vNCv2k9KIYOYmG17S1vvQ552\n"
	"U7pC+SkDUUMJ6APiPcfFCa8xV0NqRgaDc7OwW2/tw02lPCBWchTK4xF+uzf4PgjS\n"
	"M7Dnn4Ap5eZ3DTTNqnGy7eCz8bTkxFDRASF4WCbmYAIuBYZg0YIrFT5NaB61FnVd\n"
	"AVCoeAmME9kN5oGBtD3pFt7IG67zD297x8Vv/3QfVkluIM046akYaBKwICXfE2+i\n"
	"ZEPXUyhhENEOoUH+l+Ffu8yEmkV03l7jGHYmHyZsJQtlP0+OAYOlB5aUVilCEUYO\n"
	"h2PPSe6rjgh3fCAC7C47LW7Uo9/xL2u5L1G68KU3q2B+0ft3RzGFuPVfRiBEuM1J\n"
	"0ylUTSFjbv0KNZpQXMciBJVbqXLiHo5MeBLLlhWM8E3WXjocyYqvUixaN4buD42Y\n"
	"rEBru61CalHiT5vh182TPiwxWjrrrHcAdO8kFnWOod8dAgMBAAE=\n"
	"-----END PUBLIC KEY-----\n";
#define PUB_FP "SHA256:3xF6RcfsaX6IT8s+DXC6j3Shqe7g288UPBSPmmoXToI"

struct fixture {
	char dir[PATH_MAX];
	char path[PATH_MAX];		/* dir/known_keys */
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *base = getenv("TMPDIR");

	assert_non_null(fx);
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	assert_true(snprintf(fx->dir, sizeof(fx->dir),
	    "%s/missive-trust-XXXXXX", base) < (int)sizeof(fx->dir));
	assert_non_null(mkdtemp(fx->dir));
	assert_true(snprintf(fx->path, sizeof(fx->path), "%s/known_keys",
	    fx->dir) < (int)sizeof(fx->path));
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	/*
	 * What the test left: files, or an empty directory (test_unreadable).
	 * No shell: $TMPDIR may hold a quote.
	 */
	assert_non_null(d = opendir(fx->dir));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		assert_true(snprintf(path, sizeof(path), "%s/%s", fx->dir,
		    de->d_name) < (int)sizeof(path));
		if (unlink(path) != 0)
			assert_int_equal(rmdir(path), 0);
	}
	assert_int_equal(closedir(d), 0);
	assert_int_equal(rmdir(fx->dir), 0);
	free(fx);
	return 0;
}

/* The file's contents (malloc'd), or NULL if it does not exist. */
static char *
read_file(const char *path)
{
	size_t len;
	char *s;
	int r;

	if ((r = file_read_all(path, (size_t)1 << 20, &s, &len, NULL, NULL,
	    0)) == E_NOT_FOUND)
		return NULL;
	assert_int_equal(r, 0);
	return s;
}

static void
assert_file(const char *path, const char *want)
{
	char *s = read_file(path);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static struct trust *
load_ok(const char *path)
{
	struct trust *t;
	char err[512];

	if (trust_load(path, &t, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_non_null(t);
	return t;
}

static void
check(struct trust *t, const char *user, const char *fp,
    enum trust_check_result want, enum trust_level want_level)
{
	enum trust_check_result res;
	enum trust_level level;

	assert_int_equal(trust_check(t, user, fp, &res, &level), 0);
	assert_int_equal(res, want);
	assert_int_equal(level, want_level);
}

static void
test_missing_file(void **state)
{
	struct fixture *fx = *state;
	struct trust *t = load_ok(fx->path);

	assert_int_equal(trust_level_of(t, "alice", FP_A), TRUST_NONE);
	assert_int_equal(trust_each(t, "alice", NULL, NULL), 0);
	assert_null(read_file(fx->path));	/* loading creates nothing */
	trust_free(t);
	trust_free(NULL);
}

static void
test_first_use(void **state)
{
	struct fixture *fx = *state;
	struct trust *t = load_ok(fx->path);
	char tmp[PATH_MAX + 8];
	struct stat st;

	check(t, "alice", FP_A, TRUST_PINNED_NOW, TRUST_SEEN);
	assert_file(fx->path, "alice " FP_A " seen\n");
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(snprintf(tmp, sizeof(tmp), "%s.tmp", fx->path) <
	    (int)sizeof(tmp));
	assert_int_equal(access(tmp, F_OK), -1);
	check(t, "alice", FP_A, TRUST_OK, TRUST_SEEN);
	trust_free(t);

	t = load_ok(fx->path);
	assert_int_equal(trust_level_of(t, "alice", FP_A), TRUST_SEEN);
	check(t, "alice", FP_A, TRUST_OK, TRUST_SEEN);
	trust_free(t);
}

static void
test_changed(void **state)
{
	struct fixture *fx = *state;
	struct trust *t = load_ok(fx->path);

	check(t, "alice", FP_A, TRUST_PINNED_NOW, TRUST_SEEN);
	check(t, "alice", FP_B, TRUST_CHANGED, TRUST_NONE);
	check(t, "alice", FP_B, TRUST_CHANGED, TRUST_NONE);
	assert_int_equal(trust_level_of(t, "alice", FP_B), TRUST_NONE);
	assert_file(fx->path, "alice " FP_A " seen\n");
	/* The same key for another user is that user's first. */
	check(t, "bob", FP_B, TRUST_PINNED_NOW, TRUST_SEEN);
	assert_file(fx->path,
	    "alice " FP_A " seen\n"
	    "bob " FP_B " seen\n");
	trust_free(t);
}

static void
test_accept(void **state)
{
	struct fixture *fx = *state;
	struct trust *t = load_ok(fx->path);
	const char *want;

	check(t, "alice", FP_A, TRUST_PINNED_NOW, TRUST_SEEN);
	assert_int_equal(trust_accept(t, "alice", FP_B, TRUST_SEEN), 0);
	check(t, "alice", FP_B, TRUST_OK, TRUST_SEEN);
	assert_int_equal(trust_accept(t, "alice", FP_B, TRUST_VERIFIED), 0);
	check(t, "alice", FP_B, TRUST_OK, TRUST_VERIFIED);
	want = "alice " FP_A " seen\n"
	    "alice " FP_B " verified\n";
	assert_file(fx->path, want);

	/* Never lowered, and nothing is written. */
	assert_int_equal(unlink(fx->path), 0);
	assert_int_equal(trust_accept(t, "alice", FP_B, TRUST_SEEN), 0);
	assert_int_equal(trust_level_of(t, "alice", FP_B), TRUST_VERIFIED);
	assert_null(read_file(fx->path));
	assert_int_equal(trust_accept(t, "alice", FP_B, TRUST_VERIFIED), 0);
	assert_null(read_file(fx->path));
	/* A key never seen can be accepted verified right away. */
	assert_int_equal(trust_accept(t, "carol", FP_C, TRUST_VERIFIED), 0);
	check(t, "carol", FP_C, TRUST_OK, TRUST_VERIFIED);
	trust_free(t);

	t = load_ok(fx->path);
	assert_int_equal(trust_level_of(t, "alice", FP_A), TRUST_SEEN);
	assert_int_equal(trust_level_of(t, "alice", FP_B), TRUST_VERIFIED);
	assert_int_equal(trust_level_of(t, "carol", FP_C), TRUST_VERIFIED);
	trust_free(t);
}

static void
test_invalid_arguments(void **state)
{
	static const char *bad_fp[] = {
		/* FP_A "A": one character too many, not a missing comma. */
		/* NOLINTNEXTLINE(bugprone-suspicious-missing-comma) */
		"", "SHA256:", FP_A "A",
		"sha256:0Wpg5oRbVjcxR6qZQ34jSlECnexxnPrBsTroKqYrsTQ",
		/* 42 characters, padding, not base64 */
		"SHA256:0Wpg5oRbVjcxR6qZQ34jSlECnexxnPrBsTroKqYrsT",
		"SHA256:0Wpg5oRbVjcxR6qZQ34jSlECnexxnPrBsTroKqYrsTQ=",
		"SHA256:0Wpg5oRbVjcxR6qZQ34jSlECnexxnPrBsTroKqYrs-Q",
		/* the last character's low 2 bits set */
		"SHA256:0Wpg5oRbVjcxR6qZQ34jSlECnexxnPrBsTroKqYrsTR",
		"MD5:0Wpg5oRbVjcxR6qZQ34jSlECnexxnPrBsTroKqYrsTQxxx",
	};
	struct fixture *fx = *state;
	struct trust *t = load_ok(fx->path);
	enum trust_check_result res;
	enum trust_level level;
	size_t i;

	for (i = 0; i < sizeof(bad_fp) / sizeof(bad_fp[0]); i++) {
		level = TRUST_SEEN;
		assert_int_equal(trust_check(t, "alice", bad_fp[i], &res,
		    &level), E_INVALID);
		assert_int_equal(level, TRUST_NONE);
		assert_int_equal(trust_accept(t, "alice", bad_fp[i],
		    TRUST_SEEN), E_INVALID);
	}
	assert_int_equal(trust_check(t, "Alice", FP_A, &res, &level),
	    E_INVALID);
	assert_int_equal(trust_check(t, "", FP_A, &res, &level), E_INVALID);
	assert_int_equal(trust_accept(t, "a b", FP_A, TRUST_SEEN), E_INVALID);
	assert_int_equal(trust_accept(t, "alice", FP_A, TRUST_NONE),
	    E_INVALID);
	assert_int_equal(trust_accept(t, "alice", FP_A, (enum trust_level)7),
	    E_INVALID);
	assert_null(read_file(fx->path));
	trust_free(t);
}

/* What kd_fingerprint() makes is what the store takes. */
static void
test_real_fingerprint(void **state)
{
	struct fixture *fx = *state;
	struct trust *t = load_ok(fx->path);
	char fp[KD_FP_SIZE];
	EVP_PKEY *key;

	assert_int_equal(kd_key_from_pem(pub_pem, sizeof(pub_pem) - 1, &key),
	    0);
	assert_int_equal(kd_fingerprint(key, fp), 0);
	EVP_PKEY_free(key);
	assert_string_equal(fp, PUB_FP);
	check(t, "alice", fp, TRUST_PINNED_NOW, TRUST_SEEN);
	trust_free(t);
	t = load_ok(fx->path);
	assert_int_equal(trust_level_of(t, "alice", PUB_FP), TRUST_SEEN);
	trust_free(t);
}

struct seen_keys {
	size_t n;
	const char *fp[4];
	enum trust_level level[4];
};

static void
collect(void *arg, const char *fp, enum trust_level level)
{
	struct seen_keys *s = arg;

	assert_true(s->n < 4);
	s->fp[s->n] = fp;
	s->level[s->n++] = level;
}

static void
test_each(void **state)
{
	static const char text[] =
	    "alice " FP_C " seen\n"
	    "bob " FP_A " seen\n"
	    "alice " FP_A " verified\n"
	    "alice " FP_B " seen\n";
	struct fixture *fx = *state;
	struct trust *t;
	struct seen_keys s = { 0 };

	write_file(fx->path, text, sizeof(text) - 1);
	t = load_ok(fx->path);
	assert_int_equal(trust_each(t, "alice", collect, &s), 3);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.fp[0], FP_C);
	assert_int_equal(s.level[0], TRUST_SEEN);
	assert_string_equal(s.fp[1], FP_A);
	assert_int_equal(s.level[1], TRUST_VERIFIED);
	assert_string_equal(s.fp[2], FP_B);
	assert_int_equal(s.level[2], TRUST_SEEN);
	assert_int_equal(trust_each(t, "bob", NULL, NULL), 1);
	assert_int_equal(trust_each(t, "carol", collect, &s), 0);
	assert_int_equal(s.n, 3);

	/* A new key goes last, after a reload too. */
	assert_int_equal(trust_accept(t, "alice", FP_D, TRUST_SEEN), 0);
	trust_free(t);
	t = load_ok(fx->path);
	s.n = 0;
	assert_int_equal(trust_each(t, "alice", collect, &s), 4);
	assert_string_equal(s.fp[0], FP_C);
	assert_string_equal(s.fp[3], FP_D);
	trust_free(t);
}

/* Comments, blank lines, spacing, duplicates and a last line without LF. */
static void
test_lenient_reading(void **state)
{
	static const char text[] =
	    "# known keys\n"
	    "\n"
	    "   \t\n"
	    "  # indented comment\n"
	    "alice\t" FP_A "  seen  \n"
	    "bob " FP_B " verified\n"
	    "alice " FP_A " verified\n"
	    "bob " FP_B " seen\n"
	    "carol " FP_C " seen";
	struct fixture *fx = *state;
	struct trust *t;

	write_file(fx->path, text, sizeof(text) - 1);
	t = load_ok(fx->path);
	/* A duplicate keeps the higher level, and its first place. */
	assert_int_equal(trust_level_of(t, "alice", FP_A), TRUST_VERIFIED);
	assert_int_equal(trust_level_of(t, "bob", FP_B), TRUST_VERIFIED);
	assert_int_equal(trust_each(t, "alice", NULL, NULL), 1);
	assert_int_equal(trust_level_of(t, "carol", FP_C), TRUST_SEEN);
	/* The file is not touched until a change; then rewritten plainly. */
	assert_file(fx->path, text);
	check(t, "dave", FP_D, TRUST_PINNED_NOW, TRUST_SEEN);
	assert_file(fx->path,
	    "alice " FP_A " verified\n"
	    "bob " FP_B " verified\n"
	    "carol " FP_C " seen\n"
	    "dave " FP_D " seen\n");
	trust_free(t);
}

/* Load the file and expect E_CONFIG with "PATH:LINE: " and want in err. */
static void
expect_bad_file(const struct fixture *fx, int line, const char *want)
{
	char err[512], prefix[PATH_MAX + 32];
	struct trust *t = (struct trust *)1;

	assert_true(snprintf(prefix, sizeof(prefix), "%s:%d: ", fx->path,
	    line) < (int)sizeof(prefix));
	assert_int_equal(trust_load(fx->path, &t, err, sizeof(err)),
	    E_CONFIG);
	assert_null(t);
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, want) == NULL)
		fail_msg("message \"%s\"\nwanted prefix \"%s\" and \"%s\"", err,
		    prefix, want);
}

static void
expect_bad(const struct fixture *fx, const char *text, size_t len, int line,
    const char *want)
{
	write_file(fx->path, text, len);
	expect_bad_file(fx, line, want);
}

static void
test_malformed(void **state)
{
	struct fixture *fx = *state;
	char line[TRUST_LINE_MAX + 2];
	const char *ok = "alice " FP_A " seen";
	size_t n;

#define BAD(text, line, want) expect_bad(fx, text, sizeof(text) - 1, line, want)
	BAD("Alice " FP_A " seen\n", 1, "'Alice' is not a valid user name");
	BAD("# c\nalice " FP_A " seen\n_x " FP_B " seen\n", 3,
	    "'_x' is not a valid user name");
	BAD("alice SHA256:abc seen\n", 1, "'SHA256:abc' is not a fingerprint");
	BAD("alice " FP_A "= seen\n", 1, "is not a fingerprint");
	BAD("\nalice " FP_A " trusted\n", 2,
	    "level 'trusted' is neither seen nor verified");
	BAD("alice " FP_A " Seen\n", 1, "neither seen nor verified");
	BAD("alice " FP_A " seen\r\n", 1, "neither seen nor verified");
	BAD("alice " FP_A "\n", 1, "missing level");
	BAD("alice\n", 1, "missing fingerprint after 'alice'");
	BAD("alice " FP_A " seen extra\n", 1,
	    "unexpected text after the level");
	BAD("alice " FP_A " seen # comment\n", 1, "unexpected text");
	BAD("alice " FP_A " se\0en\n", 1, "NUL byte");
#undef BAD

	/* 256 bytes are a line (trailing blanks are allowed), 257 are not. */
	n = strlen(ok);
	memcpy(line, ok, n);
	memset(line + n, ' ', sizeof(line) - n);
	line[TRUST_LINE_MAX] = '\n';
	write_file(fx->path, line, TRUST_LINE_MAX + 1);
	trust_free(load_ok(fx->path));
	line[TRUST_LINE_MAX] = ' ';
	line[TRUST_LINE_MAX + 1] = '\n';
	expect_bad(fx, line, TRUST_LINE_MAX + 2, 1,
	    "line longer than 256 bytes");
	/* Without a LF at all, too. */
	expect_bad(fx, line, TRUST_LINE_MAX + 1, 1, "line longer than 256");
}

static void
test_too_many_keys(void **state)
{
	struct fixture *fx = *state;
	struct trust *t;
	enum trust_check_result res;
	enum trust_level level;
	FILE *f = fopen(fx->path, "w");
	size_t i;

	assert_non_null(f);
	for (i = 0; i < TRUST_MAX_KEYS; i++)
		assert_true(fprintf(f, "u%zu %s seen\n", i, FP_A) > 0);
	/* A duplicate does not count. */
	assert_true(fprintf(f, "u7 %s verified\n", FP_A) > 0);
	assert_int_equal(fclose(f), 0);
	t = load_ok(fx->path);
	assert_int_equal(trust_level_of(t, "u99999", FP_A), TRUST_SEEN);
	assert_int_equal(trust_level_of(t, "u7", FP_A), TRUST_VERIFIED);
	assert_int_equal(trust_check(t, "new", FP_A, &res, &level),
	    E_TOO_LONG);
	assert_int_equal(trust_accept(t, "u1", FP_B, TRUST_SEEN), E_TOO_LONG);
	/* Raising a level adds no key. */
	assert_int_equal(trust_accept(t, "u1", FP_A, TRUST_VERIFIED), 0);
	trust_free(t);

	f = fopen(fx->path, "a");
	assert_non_null(f);
	assert_true(fprintf(f, "one.more %s seen\n", FP_A) > 0);
	assert_int_equal(fclose(f), 0);
	/* The accept rewrote the file without the duplicate. */
	expect_bad_file(fx, TRUST_MAX_KEYS + 1, "more than 100000 keys");
}

static void
test_save_fails(void **state)
{
	struct fixture *fx = *state;
	char sub[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 8];
	enum trust_check_result res;
	enum trust_level level;
	struct trust *t;

	/* The directory does not exist: nothing can be pinned. */
	assert_true(snprintf(sub, sizeof(sub), "%s/gone", fx->dir) <
	    (int)sizeof(sub));
	assert_true(snprintf(path, sizeof(path), "%s/known_keys", sub) <
	    (int)sizeof(path));
	t = load_ok(path);
	level = TRUST_SEEN;
	assert_int_equal(trust_check(t, "alice", FP_A, &res, &level), E_IO);
	assert_int_equal(level, TRUST_NONE);
	assert_int_equal(trust_level_of(t, "alice", FP_A), TRUST_NONE);
	assert_int_equal(trust_each(t, "alice", NULL, NULL), 0);
	/* Still the first key: a different one would be pinned as well. */
	assert_int_equal(trust_check(t, "alice", FP_B, &res, &level), E_IO);
	assert_int_equal(trust_accept(t, "alice", FP_B, TRUST_SEEN), E_IO);
	assert_int_equal(trust_level_of(t, "alice", FP_B), TRUST_NONE);
	trust_free(t);

	/* The directory goes away after a pin. */
	assert_int_equal(mkdir(sub, 0700), 0);
	t = load_ok(path);
	check(t, "alice", FP_A, TRUST_PINNED_NOW, TRUST_SEEN);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(trust_accept(t, "alice", FP_B, TRUST_SEEN), E_IO);
	assert_int_equal(trust_level_of(t, "alice", FP_B), TRUST_NONE);
	assert_int_equal(trust_accept(t, "alice", FP_A, TRUST_VERIFIED), E_IO);
	assert_int_equal(trust_level_of(t, "alice", FP_A), TRUST_SEEN);
	check(t, "alice", FP_B, TRUST_CHANGED, TRUST_NONE);
	assert_int_equal(trust_each(t, "alice", NULL, NULL), 1);
	trust_free(t);

	/* PATH.tmp cannot be written: the old file is left as it was. */
	assert_true(snprintf(tmp, sizeof(tmp), "%s.tmp", fx->path) <
	    (int)sizeof(tmp));
	t = load_ok(fx->path);
	check(t, "alice", FP_A, TRUST_PINNED_NOW, TRUST_SEEN);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(trust_check(t, "bob", FP_B, &res, &level), E_IO);
	assert_int_equal(trust_accept(t, "alice", FP_A, TRUST_VERIFIED), E_IO);
	assert_file(fx->path, "alice " FP_A " seen\n");
	assert_int_equal(trust_level_of(t, "bob", FP_B), TRUST_NONE);
	assert_int_equal(trust_level_of(t, "alice", FP_A), TRUST_SEEN);
	/* Once it can be written again, so is everything. */
	assert_int_equal(rmdir(tmp), 0);
	check(t, "bob", FP_B, TRUST_PINNED_NOW, TRUST_SEEN);
	assert_file(fx->path,
	    "alice " FP_A " seen\n"
	    "bob " FP_B " seen\n");
	assert_int_equal(access(tmp, F_OK), -1);
	trust_free(t);
}

static void
test_unreadable(void **state)
{
	struct fixture *fx = *state;
	struct trust *t = (struct trust *)1;
	char err[512];

	assert_int_equal(mkdir(fx->path, 0700), 0);
	assert_int_equal(trust_load(fx->path, &t, err, sizeof(err)), E_IO);
	assert_null(t);
	assert_non_null(strstr(err, fx->path));
	assert_int_equal(trust_load(fx->path, &t, NULL, 0), E_IO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_missing_file),
		T(test_first_use),
		T(test_changed),
		T(test_accept),
		T(test_invalid_arguments),
		T(test_real_fingerprint),
		T(test_each),
		T(test_lenient_reading),
		T(test_malformed),
		T(test_too_many_keys),
		T(test_save_fails),
		T(test_unreadable),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
