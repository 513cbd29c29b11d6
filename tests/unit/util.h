/* Helpers shared by the unit tests (header-only; include after cmocka.h). */
#ifndef MISSIVE_TEST_UTIL_H
#define MISSIVE_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decode a hex string into out; returns the number of bytes. */
static inline size_t
unhex(const char *hex, uint8_t *out)
{
	size_t i, n = strlen(hex) / 2;
	unsigned v;

	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

#endif
