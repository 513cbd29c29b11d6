/* Unit tests: strict base64 (common/b64.c), RFC 4648 section 10 vectors,
   and the relay's check b64_canonical(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/b64.h"
#include "common/err.h"

static const struct {
	const char *plain, *padded, *unpadded;
} vectors[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void
test_rfc4648_vectors(void **state)
{
	char enc[32];
	uint8_t dec[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t n = strlen(vectors[i].plain);

		assert_int_equal(b64_encode((const uint8_t *)vectors[i].plain, n,
		    enc, sizeof(enc), 1), strlen(vectors[i].padded));
		assert_string_equal(enc, vectors[i].padded);
		assert_int_equal(b64_encode((const uint8_t *)vectors[i].plain, n,
		    enc, sizeof(enc), 0), strlen(vectors[i].unpadded));
		assert_string_equal(enc, vectors[i].unpadded);
		assert_int_equal(b64_decode(vectors[i].padded,
		    strlen(vectors[i].padded), dec, sizeof(dec)), (long)n);
		assert_memory_equal(dec, vectors[i].plain, n);
	}
}

static void
test_all_bytes_round_trip(void **state)
{
	uint8_t in[256], out[256];
	char enc[B64_ENCODED_SIZE(256)];
	long n;
	int i;

	(void)state;
	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	n = b64_encode(in, sizeof(in), enc, sizeof(enc), 1);
	assert_int_equal(n, 344);
	assert_int_equal(b64_decode(enc, (size_t)n, out, sizeof(out)), 256);
	assert_memory_equal(in, out, sizeof(in));
}

static void
test_malformed_refused(void **state)
{
	static const char *bad[] = {
		"Zg=", "Zg", "Z", "Zm9v\n", " Zm9v", "Zm9v====", "Z===",
		"Zh==",  /* non-zero trailing bits */
		"Zm9=",  /* non-zero trailing bits */
		"Zm=v", "=Zm9", "Zm9v*A==", "Zm9vYg=A",
	};
	uint8_t out[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(b64_decode(bad[i], strlen(bad[i]), out,
		    sizeof(out)), E_MALFORMED);
	/* An embedded NUL is just a bad character. */
	assert_int_equal(b64_decode("Zm\0v", 4, out, sizeof(out)), E_MALFORMED);
}

static void
test_bounds(void **state)
{
	uint8_t out[2];
	char enc[4];

	(void)state;
	assert_int_equal(b64_decode("Zm9v", 4, out, sizeof(out)), E_TOO_LONG);
	assert_int_equal(b64_decode("Zm8=", 4, out, sizeof(out)), 2);
	assert_int_equal(b64_encode((const uint8_t *)"foo", 3, enc,
	    sizeof(enc), 1), E_TOO_LONG);
}

/* What the relay lets through is exactly what b64_decode() accepts. */
static void
test_canonical(void **state)
{
	static const char *bad[] = {
		"QR==", "QUJ=",  /* non-zero trailing bits (issue 22) */
		"Zh==", "Zm9=", "QUJ", "Q===", "====", "Q=JD", "QU-D", "QUJD\n",
		"QU D", "QUI=QUJD",
	};
	static const char *good[] = { "QUJD", "QUI=", "QQ==", "Zm9vYg==" };
	uint8_t out[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(b64_canonical(bad[i], strlen(bad[i]), 1, 16));
		assert_true(b64_decode(bad[i], strlen(bad[i]), out,
		    sizeof(out)) < 0);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(b64_canonical(good[i], strlen(good[i]), 1, 16));
		assert_true(b64_decode(good[i], strlen(good[i]), out,
		    sizeof(out)) > 0);
	}
	/* Every last character after one and two bytes: 4 and 16 pass. */
	for (i = 0; i < 64; i++) {
		char two[5] = { 'Q', 'U', "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
		    "ghijklmnopqrstuvwxyz0123456789+/"[i], '=', '\0' };
		char one[5] = { 'Q', two[2], '=', '=', '\0' };

		assert_int_equal(b64_canonical(two, 4, 4, 4), i % 4 == 0);
		assert_int_equal(b64_canonical(one, 4, 4, 4), i % 16 == 0);
	}
	/* The bounds, in characters. */
	assert_true(b64_canonical("QUJDQUJD", 8, 8, 8));
	assert_false(b64_canonical("QUJDQUJD", 8, 9, 16));
	assert_false(b64_canonical("QUJDQUJD", 8, 1, 7));
	assert_false(b64_canonical("", 0, 1, 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_all_bytes_round_trip),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_canonical),
	};

	return cmocka_run_group_tests_name("b64", tests, NULL, NULL);
}
