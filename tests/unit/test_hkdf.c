/* Unit tests: HKDF-SHA256 against the RFC 5869 test vectors (cases 1-3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/util.h"

#include "common/err.h"
#include "keydist/hkdf.h"

struct vector {
	const char *name, *ikm, *salt, *info, *okm;
};

static const struct vector vectors[] = {
	{ "RFC 5869 A.1",
	  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	  "000102030405060708090a0b0c",
	  "f0f1f2f3f4f5f6f7f8f9",
	  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	  "34007208d5b887185865" },
	{ "RFC 5869 A.2",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	  "404142434445464748494a4b4c4d4e4f",
	  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
	  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
	  "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
	  "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
	  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	  "cc30c58179ec3e87c14c01d5c1f3434f1d87" },
	{ "RFC 5869 A.3",
	  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
	  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	  "9d201395faa4b61a96c8" },
};

static void
test_rfc5869_vectors(void **state)
{
	uint8_t ikm[128], salt[128], info[128], want[128], got[128];
	size_t i, ni, ns, nf, no;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];

		ni = unhex(v->ikm, ikm);
		ns = unhex(v->salt, salt);
		nf = unhex(v->info, info);
		no = unhex(v->okm, want);
		memset(got, 0, sizeof(got));
		assert_int_equal(kd_hkdf_sha256(ns ? salt : NULL, ns, ikm, ni,
		    nf ? info : NULL, nf, got, no), 0);
		if (memcmp(got, want, no) != 0)
			fail_msg("%s: wrong output key material", v->name);
	}
}

static void
test_info_separates_keys(void **state)
{
	static const uint8_t ikm[32] = { 1, 2, 3 };
	uint8_t a[32], b[32];

	(void)state;
	assert_int_equal(kd_hkdf_sha256(NULL, 0, ikm, sizeof(ikm),
	    (const uint8_t *)"c2s", 3, a, sizeof(a)), 0);
	assert_int_equal(kd_hkdf_sha256(NULL, 0, ikm, sizeof(ikm),
	    (const uint8_t *)"s2c", 3, b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void
test_bad_lengths(void **state)
{
	static const uint8_t ikm[32];
	uint8_t out[32];

	(void)state;
	assert_int_equal(kd_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0,
	    out, 0), E_INVALID);
	assert_int_equal(kd_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0,
	    out, 255 * 32 + 1), E_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5869_vectors),
		cmocka_unit_test(test_info_separates_keys),
		cmocka_unit_test(test_bad_lengths),
	};

	return cmocka_run_group_tests_name("hkdf", tests, NULL, NULL);
}
