/* server/enrolled.c: the snapshot of enrolled keys, added in any order,
   found by fingerprint; what is not a fingerprint or a user name is
   refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "server/enrolled.h"

/* A valid fingerprint whose 43 characters are all c (A..Z, a..z). */
static void
fp_of(char c, char fp[KD_FP_SIZE])
{
	memcpy(fp, "SHA256:", 7);
	memset(fp + 7, c, KD_FP_SIZE - 8);
	/* The last character carries 2 padding bits that must be 0. */
	fp[KD_FP_SIZE - 2] = 'A';
	fp[KD_FP_SIZE - 1] = '\0';
}

static void
test_find(void **state)
{
	struct enrolled e = { 0 };
	const struct enrolled_key *k;
	char fp[KD_FP_SIZE];
	int i;

	(void)state;
	fp_of('b', fp);
	assert_null(enrolled_find(&e, fp));
	/* Enough to grow the array, in no particular order. */
	for (i = 25; i >= 0; i--) {
		fp_of((char)('a' + i), fp);
		assert_int_equal(enrolled_add(&e, fp, i % 2 ? "bob" : "alice",
		    i == 3), 0);
	}
	for (i = 0; i < 26; i++) {
		fp_of((char)('A' + i), fp);
		assert_int_equal(enrolled_add(&e, fp, "carol", 0), 0);
	}
	enrolled_seal(&e);
	assert_int_equal(e.n, 52);
	fp_of('d', fp);
	assert_non_null(k = enrolled_find(&e, fp));
	assert_string_equal(k->owner, "bob");
	assert_int_equal(k->disabled, 1);
	fp_of('Q', fp);
	assert_non_null(k = enrolled_find(&e, fp));
	assert_string_equal(k->owner, "carol");
	assert_int_equal(k->disabled, 0);
	assert_null(enrolled_find(&e, "SHA256:short"));
	fp[10] = '0';
	assert_null(enrolled_find(&e, fp));
	enrolled_free(&e);
	assert_int_equal(e.n, 0);
	assert_null(enrolled_find(&e, fp));
}

static void
test_refused(void **state)
{
	struct enrolled e = { 0 };
	char fp[KD_FP_SIZE];

	(void)state;
	fp_of('x', fp);
	assert_int_equal(enrolled_add(&e, "SHA256:nope", "alice", 0),
	    E_INVALID);
	assert_int_equal(enrolled_add(&e, fp, "Alice", 0), E_INVALID);
	assert_int_equal(enrolled_add(&e, fp, "", 0), E_INVALID);
	assert_int_equal(e.n, 0);
	enrolled_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
