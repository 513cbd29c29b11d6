/* Helpers shared by the unit tests (header-only; include after cmocka.h). */
#ifndef MISSIVE_TEST_UTIL_H
#define MISSIVE_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of one hex digit, or -1. */
static inline int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a hex string into out; returns the number of bytes. */
static inline size_t
unhex(const char *hex, uint8_t *out)
{
	size_t i, n = strlen(hex) / 2;
	int hi, lo;

	assert_int_equal(strlen(hex) % 2, 0);
	for (i = 0; i < n; i++) {
		hi = hexval(hex[2 * i]);
		lo = hexval(hex[2 * i + 1]);
		assert_true(hi >= 0 && lo >= 0);
		out[i] = (uint8_t)((unsigned)hi << 4 | (unsigned)lo);
	}
	return n;
}

/* A byte pattern that differs with seed. */
static inline void
fill(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + (size_t)seed * 7 + 1);
}

/* 1 if p[0..len) is all zero bytes (each equal to the one before). */
static inline int
all_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/*
 * Make a fresh directory $TMPDIR/name.XXXXXX (/tmp without TMPDIR) into
 * dir[0..n): 0, or -1 (from a setup function, which then fails).
 */
static inline int
make_tmpdir(char *dir, size_t n, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if (snprintf(dir, n, "%s/%s.XXXXXX", tmp, name) >= (int)n ||
	    mkdtemp(dir) == NULL)
		return -1;
	return 0;
}

/* Write len bytes of text to path (made or truncated). */
static inline void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

#endif
