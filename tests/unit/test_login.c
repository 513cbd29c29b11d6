/* Unit tests: the login secret (keydist/login.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <argon2.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "common/b64.h"
#include "common/err.h"
#include "keydist/login.h"

#define FP_A "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
#define FP_B "SHA256:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"

/* The documented derivation, step by step (docs/PROTOCOL.md 5). */
static void
test_matches_the_spec(void **state)
{
	static const uint8_t label[] = "missive login v2\n";
	uint8_t salt[32], secret[32], in[256];
	char got[KD_LOGIN_B64_LEN + 1], want[KD_LOGIN_B64_LEN + 1];
	size_t n;
	unsigned int mdlen = 0;

	(void)state;
	memcpy(in, label, sizeof(label) - 1);
	n = sizeof(label) - 1;
	memcpy(in + n, "\0\0\0\x32" FP_A "\0\0\0\x05" "alice", 4 + 50 + 4 + 5);
	n += 4 + 50 + 4 + 5;
	assert_int_equal(EVP_Digest(in, n, salt, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(argon2id_hash_raw(2, 19456, 1, "111111", 6, salt,
	    sizeof(salt), secret, sizeof(secret)), ARGON2_OK);
	assert_int_equal(b64_encode(secret, sizeof(secret), want, sizeof(want),
	    1), KD_LOGIN_B64_LEN);
	assert_int_equal(kd_login_secret("111111", 6, FP_A, "alice", got), 0);
	assert_string_equal(got, want);
	assert_true(kd_login_secret_valid(got, strlen(got)));
}

/*
 * What a server that logs 0001 learns: a secret that is not the password,
 * differs per user and per server key, and changes with the password.
 */
static void
test_bound_to_user_and_server(void **state)
{
	char a[KD_LOGIN_B64_LEN + 1], b[KD_LOGIN_B64_LEN + 1];
	char c[KD_LOGIN_B64_LEN + 1], d[KD_LOGIN_B64_LEN + 1];

	(void)state;
	assert_int_equal(kd_login_secret("111111", 6, FP_A, "alice", a), 0);
	assert_int_equal(kd_login_secret("111111", 6, FP_A, "bob", b), 0);
	assert_int_equal(kd_login_secret("111111", 6, FP_B, "alice", c), 0);
	assert_int_equal(kd_login_secret("111112", 6, FP_A, "alice", d), 0);
	assert_null(strstr(a, "111111"));
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	/* Deterministic: every device of alice derives the same. */
	assert_int_equal(kd_login_secret("111111", 6, FP_A, "alice", b), 0);
	assert_string_equal(a, b);
	assert_int_equal(kd_login_secret("", 0, FP_A, "alice", a), E_INVALID);
}

static void
test_shape(void **state)
{
	(void)state;
	assert_false(kd_login_secret_valid("111111", 6));
	assert_false(kd_login_secret_valid("", 0));
	/* 44 characters, but not canonical base64 of 32 bytes. */
	assert_false(kd_login_secret_valid(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", 44));
	assert_false(kd_login_secret_valid(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", 44));
	assert_false(kd_login_secret_valid(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA|=", 44));
	assert_true(kd_login_secret_valid(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 44));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_the_spec),
		cmocka_unit_test(test_bound_to_user_and_server),
		cmocka_unit_test(test_shape),
	};

	return cmocka_run_group_tests_name("login", tests, NULL, NULL);
}
