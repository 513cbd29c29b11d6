/*
 * Unit tests: one-shot AES-256-GCM (keydist/aead.c) against the AES-256
 * test cases 13, 14 and 16 of the GCM specification (McGrew and Viega,
 * as NIST's GCM validation uses them), round trips, and refusal of every
 * altered byte of ciphertext, tag and aad; the nonce rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/util.h"

#include "common/err.h"
#include "keydist/aead.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define TAG KD_AEAD_TAG_LEN

struct vector {
	const char *name, *key, *nonce, *aad, *plain, *sealed;
};

static const struct vector vectors[] = {
	{ "GCM test case 13 (empty)",
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "",
	  "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "GCM test case 14 (one block)",
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "",
	  "00000000000000000000000000000000",
	  "cea7403d4d606b6e074ec5d3baf39d18"
	  "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "GCM test case 16 (partial block, aad)",
	  "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
};

static const uint8_t key_a[KD_AEAD_KEY_LEN] = { 0x11, 0x22, 0x33 };
static const uint8_t nonce_a[KD_AEAD_IV_LEN] = { 0x44, 0x55, 0x66 };
static const uint8_t aad_a[] = "room and sender";

static void
test_gcm_spec_vectors(void **state)
{
	uint8_t key[KD_AEAD_KEY_LEN], nonce[KD_AEAD_IV_LEN], aad[64];
	uint8_t plain[64], want[64 + TAG], got[64 + TAG], back[64];
	size_t i, na, np, ns;

	(void)state;
	for (i = 0; i < NELEM(vectors); i++) {
		const struct vector *v = &vectors[i];

		assert_int_equal(unhex(v->key, key), sizeof(key));
		assert_int_equal(unhex(v->nonce, nonce), sizeof(nonce));
		na = unhex(v->aad, aad);
		np = unhex(v->plain, plain);
		ns = unhex(v->sealed, want);
		assert_int_equal(ns, np + TAG);
		assert_int_equal(kd_aead_seal(key, nonce, na ? aad : NULL, na,
		    plain, np, got), 0);
		if (memcmp(got, want, ns) != 0)
			fail_msg("%s: wrong ciphertext or tag", v->name);
		assert_int_equal(kd_aead_open(key, nonce, na ? aad : NULL, na,
		    want, ns, back), 0);
		if (memcmp(back, plain, np) != 0)
			fail_msg("%s: wrong plaintext", v->name);
	}
}

static void
test_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 1000 };
	uint8_t plain[1000], sealed[1000 + TAG], out[1000 + 1];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(sizes); i++) {
		fill(plain, sizes[i], (unsigned)i);
		assert_int_equal(kd_aead_seal(key_a, nonce_a, aad_a,
		    sizeof(aad_a), plain, sizes[i], sealed), 0);
		memset(out, 0xaa, sizeof(out));
		assert_int_equal(kd_aead_open(key_a, nonce_a, aad_a,
		    sizeof(aad_a), sealed, sizes[i] + TAG, out), 0);
		assert_memory_equal(out, plain, sizes[i]);
		/* the output is exactly as long as the input */
		assert_int_equal(out[sizes[i]], 0xaa);
	}
}

/* One altered byte anywhere: refused, and out wiped. */
static void
test_altered_refused(void **state)
{
	uint8_t plain[40], sealed[40 + TAG], aad[sizeof(aad_a)], out[40];
	uint8_t key[KD_AEAD_KEY_LEN], nonce[KD_AEAD_IV_LEN];
	size_t i;

	(void)state;
	fill(plain, sizeof(plain), 9);
	assert_int_equal(kd_aead_seal(key_a, nonce_a, aad_a, sizeof(aad_a),
	    plain, sizeof(plain), sealed), 0);
	for (i = 0; i < sizeof(sealed); i++) {	/* ciphertext, then tag */
		sealed[i] ^= 0x01;
		memset(out, 0xaa, sizeof(out));
		assert_int_equal(kd_aead_open(key_a, nonce_a, aad_a,
		    sizeof(aad_a), sealed, sizeof(sealed), out), E_MAC_INVALID);
		assert_true(all_zero(out, sizeof(out)));
		sealed[i] ^= 0x01;
	}
	memcpy(aad, aad_a, sizeof(aad));
	for (i = 0; i < sizeof(aad); i++) {
		aad[i] ^= 0x80;
		assert_int_equal(kd_aead_open(key_a, nonce_a, aad, sizeof(aad),
		    sealed, sizeof(sealed), out), E_MAC_INVALID);
		aad[i] ^= 0x80;
	}
	/* a shorter aad, another key, another nonce */
	assert_int_equal(kd_aead_open(key_a, nonce_a, aad_a, sizeof(aad_a) - 1,
	    sealed, sizeof(sealed), out), E_MAC_INVALID);
	memcpy(key, key_a, sizeof(key));
	key[31] ^= 1;
	assert_int_equal(kd_aead_open(key, nonce_a, aad_a, sizeof(aad_a),
	    sealed, sizeof(sealed), out), E_MAC_INVALID);
	memcpy(nonce, nonce_a, sizeof(nonce));
	nonce[11] ^= 1;
	assert_int_equal(kd_aead_open(key_a, nonce, aad_a, sizeof(aad_a),
	    sealed, sizeof(sealed), out), E_MAC_INVALID);
	/* a truncated message: the tag no longer matches */
	assert_int_equal(kd_aead_open(key_a, nonce_a, aad_a, sizeof(aad_a),
	    sealed, sizeof(sealed) - 1, out), E_MAC_INVALID);
	/* untouched, it still opens */
	assert_int_equal(kd_aead_open(key_a, nonce_a, aad_a, sizeof(aad_a),
	    sealed, sizeof(sealed), out), 0);
	assert_memory_equal(out, plain, sizeof(plain));
}

static void
test_shorter_than_tag(void **state)
{
	uint8_t sealed[TAG] = { 0 }, out[1];

	(void)state;
	assert_int_equal(kd_aead_open(key_a, nonce_a, NULL, 0, sealed,
	    TAG - 1, out), E_MALFORMED);
	assert_int_equal(kd_aead_open(key_a, nonce_a, NULL, 0, sealed, 0,
	    out), E_MALFORMED);
}

/* nonce = iv XOR (4 zero bytes || uint64_be(counter)), written out. */
static void
test_nonce(void **state)
{
	static const uint8_t iv[KD_AEAD_IV_LEN] = {
		0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
		0xf8, 0xf9, 0xfa, 0xfb,
	};
	static const uint8_t want[KD_AEAD_IV_LEN] = {
		0xf0, 0xf1, 0xf2, 0xf3, 0xf5, 0xf7, 0xf5, 0xf3,
		0xfd, 0xff, 0xfd, 0xf3,
	};
	uint8_t nonce[KD_AEAD_IV_LEN];

	(void)state;
	kd_aead_nonce(iv, 0x0102030405060708ULL, nonce);
	assert_memory_equal(nonce, want, sizeof(want));
	kd_aead_nonce(iv, 0, nonce);
	assert_memory_equal(nonce, iv, sizeof(iv));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_spec_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_altered_refused),
		cmocka_unit_test(test_shorter_than_tag),
		cmocka_unit_test(test_nonce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
