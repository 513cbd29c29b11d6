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

/* Add key fp of owner, with an spki for the copy to hold. */
static int
add(struct enrolled *e, const char *fp, const char *owner, int disabled)
{
	struct enrolled_key k = { .disabled = disabled, .spki = "AAAA" };

	(void)snprintf(k.fp, sizeof(k.fp), "%s", fp);
	(void)snprintf(k.owner, sizeof(k.owner), "%s", owner);
	return enrolled_add(e, &k);
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
		assert_int_equal(add(&e, fp, i % 2 ? "bob" : "alice",
		    i == 3), 0);
	}
	for (i = 0; i < 26; i++) {
		fp_of((char)('A' + i), fp);
		assert_int_equal(add(&e, fp, "carol", 0), 0);
	}
	assert_int_equal(enrolled_seal(&e), 0);
	assert_int_equal(e.n, 52);
	fp_of('d', fp);
	assert_non_null(k = enrolled_find(&e, fp));
	assert_string_equal(k->owner, "bob");
	assert_int_equal(k->disabled, 1);
	fp_of('Q', fp);
	assert_non_null(k = enrolled_find(&e, fp));
	assert_string_equal(k->owner, "carol");
	assert_int_equal(k->disabled, 0);
	assert_string_equal(k->spki, "AAAA");
	assert_null(enrolled_find(&e, "SHA256:short"));
	fp[10] = '0';
	assert_null(enrolled_find(&e, fp));
	enrolled_free(&e);
	assert_int_equal(e.n, 0);
	assert_null(enrolled_find(&e, fp));
}

/* The devices of one user, in fingerprint order; none of a stranger. */
static void
test_devices(void **state)
{
	struct enrolled e = { 0 };
	struct enrolled_key *const *d;
	char fp[KD_FP_SIZE];
	int i;

	(void)state;
	for (i = 0; i < 9; i++) {
		fp_of((char)('a' + i), fp);
		assert_int_equal(add(&e, fp, i % 3 == 0 ? "bob" :
		    i % 3 == 1 ? "alice" : "carol", 0), 0);
	}
	assert_int_equal(enrolled_seal(&e), 0);
	assert_int_equal(enrolled_devices(&e, "bob", &d), 3);
	fp_of('a', fp);
	assert_string_equal(d[0]->fp, fp);
	fp_of('g', fp);
	assert_string_equal(d[2]->fp, fp);
	assert_string_equal(d[1]->owner, "bob");
	assert_int_equal(enrolled_devices(&e, "carl", &d), 0);
	assert_int_equal(enrolled_devices(&e, "zed", &d), 0);
	enrolled_free(&e);
	assert_int_equal(enrolled_devices(&e, "bob", &d), 0);
}

static void
test_refused(void **state)
{
	struct enrolled e = { 0 };
	char fp[KD_FP_SIZE];

	(void)state;
	fp_of('x', fp);
	assert_int_equal(add(&e, "SHA256:nope", "alice", 0),
	    E_INVALID);
	assert_int_equal(add(&e, fp, "Alice", 0), E_INVALID);
	assert_int_equal(add(&e, fp, "", 0), E_INVALID);
	assert_int_equal(e.n, 0);
	enrolled_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
