/* Unit tests: the digital envelope (keydist/envelope.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/rsa.h>

#include "common/err.h"
#include "keydist/envelope.h"

static EVP_PKEY *alice, *bob, *mallory;
static const uint8_t transcript[] = "client hello|server hello|nonces";

static int
setup(void **state)
{
	(void)state;
	if (kd_key_generate(KD_RSA_BITS, &alice) != 0 ||
	    kd_key_generate(KD_RSA_BITS, &bob) != 0 ||
	    kd_key_generate(KD_RSA_BITS, &mallory) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(alice);
	EVP_PKEY_free(bob);
	EVP_PKEY_free(mallory);
	return 0;
}

/* Alice seals for Bob; returns the sealed key in key. */
static void
seal(struct kd_envelope *env, uint8_t key[KD_SESSION_KEY_LEN])
{
	assert_int_equal(kd_envelope_seal(KD_ENV_HANDSHAKE, bob, alice,
	    transcript, sizeof(transcript), key, env), 0);
	assert_int_equal(env->wrapped_len, 384);
	assert_int_equal(env->sig_len, 384);
}

static void
test_round_trip(void **state)
{
	struct kd_envelope env;
	uint8_t key[KD_SESSION_KEY_LEN], got[KD_SESSION_KEY_LEN];
	uint8_t zero[KD_SESSION_KEY_LEN] = { 0 };

	(void)state;
	seal(&env, key);
	assert_memory_not_equal(key, zero, sizeof(key));
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, alice,
	    transcript, sizeof(transcript), &env, got), 0);
	assert_memory_equal(key, got, sizeof(key));
}

static void
test_fresh_key_each_time(void **state)
{
	struct kd_envelope e1, e2;
	uint8_t k1[KD_SESSION_KEY_LEN], k2[KD_SESSION_KEY_LEN];

	(void)state;
	seal(&e1, k1);
	seal(&e2, k2);
	assert_memory_not_equal(k1, k2, sizeof(k1));
	assert_memory_not_equal(e1.wrapped, e2.wrapped, e1.wrapped_len);
}

/* Flip one bit at each of a spread of offsets and expect `want`. */
static void
flip_and_expect(uint8_t *buf, size_t len, struct kd_envelope *env,
    const uint8_t *t, size_t tlen, int want)
{
	uint8_t got[KD_SESSION_KEY_LEN];
	size_t i;

	for (i = 0; i < len; i += (len / 7) + 1) {
		buf[i] ^= 0x01;
		assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, alice,
		    t, tlen, env, got), want);
		buf[i] ^= 0x01;
	}
	buf[len - 1] ^= 0x80;
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, alice, t, tlen,
	    env, got), want);
	buf[len - 1] ^= 0x80;
}

static void
test_flipped_bits_refused(void **state)
{
	struct kd_envelope env;
	uint8_t key[KD_SESSION_KEY_LEN], t[sizeof(transcript)];

	(void)state;
	seal(&env, key);
	memcpy(t, transcript, sizeof(t));
	flip_and_expect(env.wrapped, env.wrapped_len, &env, t, sizeof(t),
	    E_SIG_INVALID);
	flip_and_expect(env.sig, env.sig_len, &env, t, sizeof(t),
	    E_SIG_INVALID);
	flip_and_expect(t, sizeof(t), &env, t, sizeof(t), E_SIG_INVALID);
}

static void
test_truncated_transcript_refused(void **state)
{
	struct kd_envelope env;
	uint8_t key[KD_SESSION_KEY_LEN], got[KD_SESSION_KEY_LEN];

	(void)state;
	seal(&env, key);
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, alice,
	    transcript, sizeof(transcript) - 1, &env, got), E_SIG_INVALID);
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, alice, NULL, 0,
	    &env, got), E_SIG_INVALID);
}

static void
test_wrong_recipient_refused(void **state)
{
	struct kd_envelope env;
	uint8_t key[KD_SESSION_KEY_LEN], got[KD_SESSION_KEY_LEN];
	uint8_t zero[KD_SESSION_KEY_LEN] = { 0 };

	(void)state;
	seal(&env, key);
	/* Mallory holds the envelope and Alice's public key, not Bob's key. */
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, mallory, alice,
	    transcript, sizeof(transcript), &env, got), E_UNWRAP);
	assert_memory_equal(got, zero, sizeof(got));
}

static void
test_wrong_sender_refused(void **state)
{
	struct kd_envelope env;
	uint8_t key[KD_SESSION_KEY_LEN], got[KD_SESSION_KEY_LEN];

	(void)state;
	seal(&env, key);
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, mallory,
	    transcript, sizeof(transcript), &env, got), E_SIG_INVALID);
}

static void
test_resigned_by_other_refused(void **state)
{
	struct kd_envelope env;
	uint8_t key[KD_SESSION_KEY_LEN], got[KD_SESSION_KEY_LEN];

	(void)state;
	/* Mallory seals for Bob under her own name: Bob expects Alice. */
	assert_int_equal(kd_envelope_seal(KD_ENV_HANDSHAKE, bob, mallory,
	    transcript, sizeof(transcript), key, &env), 0);
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, alice,
	    transcript, sizeof(transcript), &env, got), E_SIG_INVALID);
}

static void
test_bad_sizes_refused(void **state)
{
	struct kd_envelope env;
	uint8_t key[KD_SESSION_KEY_LEN], got[KD_SESSION_KEY_LEN];

	(void)state;
	seal(&env, key);
	env.wrapped_len--;
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, alice,
	    transcript, sizeof(transcript), &env, got), E_MALFORMED);
	env.wrapped_len++;
	env.sig_len--;
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, alice,
	    transcript, sizeof(transcript), &env, got), E_SIG_INVALID);
	env.sig_len = 0;
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, alice,
	    transcript, sizeof(transcript), &env, got), E_SIG_INVALID);
}

static void
test_small_key_refused(void **state)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *weak = NULL;
	struct kd_envelope env;
	uint8_t key[KD_SESSION_KEY_LEN];

	(void)state;
	assert_int_equal(kd_key_generate(2048, &weak), E_INVALID);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
	assert_int_equal(EVP_PKEY_generate(ctx, &weak), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(kd_envelope_seal(KD_ENV_HANDSHAKE, weak, alice,
	    transcript, sizeof(transcript), key, &env), E_KEY_TYPE);
	assert_int_equal(kd_envelope_seal(KD_ENV_HANDSHAKE, bob, weak,
	    transcript, sizeof(transcript), key, &env), E_KEY_TYPE);
	EVP_PKEY_free(weak);
}

static void
test_sign_verify(void **state)
{
	static const uint8_t msg[] = "transcript";
	uint8_t sig[KD_RSA_MAX_BYTES];
	size_t siglen;

	(void)state;
	assert_int_equal(kd_sign(alice, msg, sizeof(msg), sig, &siglen), 0);
	assert_int_equal(kd_verify(alice, msg, sizeof(msg), sig, siglen), 0);
	assert_int_equal(kd_verify(bob, msg, sizeof(msg), sig, siglen),
	    E_SIG_INVALID);
	sig[10] ^= 4;
	assert_int_equal(kd_verify(alice, msg, sizeof(msg), sig, siglen),
	    E_SIG_INVALID);
}

/*
 * One label per use of the RSA key: an envelope signed for a handshake
 * does not open as a sender-key distribution, nor the other way round,
 * even over the same transcript.
 */
static void
test_uses_do_not_mix(void **state)
{
	struct kd_envelope env;
	uint8_t key[KD_SESSION_KEY_LEN], got[KD_SESSION_KEY_LEN];

	(void)state;
	seal(&env, key);
	assert_int_equal(kd_envelope_open(KD_ENV_SENDER_KEY, bob, alice,
	    transcript, sizeof(transcript), &env, got), E_SIG_INVALID);
	assert_int_equal(kd_envelope_seal(KD_ENV_SENDER_KEY, bob, alice,
	    transcript, sizeof(transcript), key, &env), 0);
	assert_int_equal(kd_envelope_open(KD_ENV_HANDSHAKE, bob, alice,
	    transcript, sizeof(transcript), &env, got), E_SIG_INVALID);
	assert_int_equal(kd_envelope_open(KD_ENV_SENDER_KEY, bob, alice,
	    transcript, sizeof(transcript), &env, got), 0);
	assert_memory_equal(key, got, sizeof(key));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_fresh_key_each_time),
		cmocka_unit_test(test_flipped_bits_refused),
		cmocka_unit_test(test_truncated_transcript_refused),
		cmocka_unit_test(test_wrong_recipient_refused),
		cmocka_unit_test(test_wrong_sender_refused),
		cmocka_unit_test(test_resigned_by_other_refused),
		cmocka_unit_test(test_bad_sizes_refused),
		cmocka_unit_test(test_small_key_refused),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_uses_do_not_mix),
	};

	return cmocka_run_group_tests_name("envelope", tests, setup, teardown);
}
