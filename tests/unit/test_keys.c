/* Unit tests: key files and fingerprints (keydist/keys.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "keydist/keys.h"

static EVP_PKEY *key;
static char dir[] = "/tmp/missive-test-keys-XXXXXX";
static char priv[64], pub[64], sealed[64];

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL || kd_key_generate(KD_RSA_BITS, &key) != 0)
		return -1;
	(void)snprintf(priv, sizeof(priv), "%s/k.key", dir);
	(void)snprintf(pub, sizeof(pub), "%s/k.pub", dir);
	(void)snprintf(sealed, sizeof(sealed), "%s/sealed.key", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(priv);
	unlink(pub);
	unlink(sealed);
	rmdir(dir);
	EVP_PKEY_free(key);
	return 0;
}

static void
test_write_read(void **state)
{
	struct stat st;
	EVP_PKEY *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(kd_key_write_private(key, priv), 0);
	assert_int_equal(kd_key_write_public(key, pub), 0);
	assert_int_equal(stat(priv, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* Never overwritten. */
	assert_int_equal(kd_key_write_private(key, priv), E_EXISTS);
	assert_int_equal(kd_key_write_public(key, pub), E_EXISTS);
	assert_int_equal(kd_key_read_private(priv, &a), 0);
	assert_int_equal(kd_key_read_public(pub, &b), 0);
	assert_true(kd_key_equal(a, key));
	assert_true(kd_key_equal(b, key));
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

/*
 * A private key encrypted with a passphrase: PKCS#8 EncryptedPrivateKeyInfo
 * (03-keys.sh and 17-password.sh open it with openssl), refused without
 * the passphrase or with another one, and a clear key still loads when a
 * passphrase is given.
 */
static void
test_encrypted(void **state)
{
	char head[64] = "";
	EVP_PKEY *a = NULL;
	FILE *f;

	(void)state;
	assert_int_equal(kd_key_write_private_pass(key, sealed, "pass", 4), 0);
	assert_int_equal(kd_key_write_private_pass(key, sealed, "pass", 4),
	    E_EXISTS);
	f = fopen(sealed, "r");
	assert_non_null(f);
	assert_non_null(fgets(head, sizeof(head), f));
	assert_int_equal(fclose(f), 0);
	assert_string_equal(head, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
	assert_int_equal(kd_key_read_private(sealed, &a), E_KEY_LOCKED);
	assert_null(a);
	assert_int_equal(kd_key_read_private_pass(sealed, "pasS", 4, &a),
	    E_KEY_LOCKED);
	assert_null(a);
	assert_int_equal(kd_key_read_private_pass(sealed, "pass", 4, &a), 0);
	assert_true(kd_key_equal(a, key));
	EVP_PKEY_free(a);
	assert_int_equal(kd_key_read_private_pass(priv, "pass", 4, &a), 0);
	assert_true(kd_key_equal(a, key));
	EVP_PKEY_free(a);
	assert_int_equal(kd_key_write_private_pass(key, sealed, "", 0), E_EXISTS);
}

static void
test_private_perms_and_types(void **state)
{
	EVP_PKEY *a = NULL;

	(void)state;
	assert_int_equal(chmod(priv, 0640), 0);
	assert_int_equal(kd_key_read_private(priv, &a), E_KEY_PERM);
	assert_null(a);
	assert_int_equal(chmod(priv, 0600), 0);
	/* A public key file is not a private key, and vice versa. */
	assert_int_equal(chmod(pub, 0600), 0);
	assert_int_equal(kd_key_read_private(pub, &a), E_KEY_FILE);
	assert_int_equal(chmod(pub, 0644), 0);
	assert_int_equal(kd_key_read_public(priv, &a), E_KEY_FILE);
	assert_int_equal(kd_key_read_public("/nonexistent", &a), E_KEY_FILE);
}

static void
test_fingerprint(void **state)
{
	char fp1[KD_FP_SIZE], fp2[KD_FP_SIZE];
	EVP_PKEY *other = NULL;

	(void)state;
	assert_int_equal(kd_fingerprint(key, fp1), 0);
	assert_int_equal(strlen(fp1), 50);
	assert_memory_equal(fp1, "SHA256:", 7);
	assert_null(strchr(fp1, '='));
	assert_int_equal(kd_key_read_public(pub, &other), 0);
	assert_int_equal(kd_fingerprint(other, fp2), 0);
	assert_string_equal(fp1, fp2);
	EVP_PKEY_free(other);
	assert_int_equal(kd_key_generate(KD_RSA_BITS, &other), 0);
	assert_int_equal(kd_fingerprint(other, fp2), 0);
	assert_string_not_equal(fp1, fp2);
	EVP_PKEY_free(other);
}

static void
test_der_pem_round_trip(void **state)
{
	unsigned char *der = NULL, *longer;
	char *pem = NULL;
	size_t len, pemlen;
	EVP_PKEY *a = NULL;

	(void)state;
	assert_int_equal(kd_key_to_der(key, &der, &len), 0);
	assert_int_equal(kd_key_from_der(der, len, &a), 0);
	assert_true(kd_key_equal(a, key));
	EVP_PKEY_free(a);
	/* Truncated, or with trailing bytes: refused. */
	assert_int_equal(kd_key_from_der(der, len - 1, &a), E_MALFORMED);
	longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, der, len);
	longer[len] = 0;
	assert_int_equal(kd_key_from_der(longer, len + 1, &a), E_MALFORMED);
	free(longer);
	OPENSSL_free(der);

	assert_int_equal(kd_key_to_pem(key, &pem, &pemlen), 0);
	assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
	assert_int_equal(kd_key_from_pem(pem, pemlen, &a), 0);
	assert_true(kd_key_equal(a, key));
	EVP_PKEY_free(a);
	assert_int_equal(kd_key_from_pem(pem, 20, &a), E_KEY_FILE);
	assert_int_equal(kd_key_from_pem(pem, 0, &a), E_TOO_LONG);
	free(pem);
}

/* key's modulus with the public exponent e. */
static EVP_PKEY *
with_exponent(const BIGNUM *e)
{
	BIGNUM *n = NULL;
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *out = NULL;

	assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n),
	    1);
	assert_non_null(bld = OSSL_PARAM_BLD_new());
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e), 1);
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &out, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	return out;
}

/* What kd_key_check() and kd_key_from_der() say of key's modulus with e. */
static void
check_exponent(const BIGNUM *e, int want)
{
	EVP_PKEY *k = with_exponent(e), *parsed;
	unsigned char *der = NULL;
	int len;

	assert_int_equal(kd_key_check(k), want);
	assert_true((len = i2d_PUBKEY(k, &der)) > 0);
	assert_int_equal(kd_key_from_der(der, (size_t)len, &parsed), want);
	assert_true(want == 0 ? parsed != NULL : parsed == NULL);
	EVP_PKEY_free(parsed);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

/*
 * Only e = 65537: a huge exponent (n - 2) would make each verification a
 * full exponentiation, a cheap way to make the server work; e = 3 is
 * refused as well, one rule for every key.
 */
static void
test_public_exponent(void **state)
{
	BIGNUM *e, *n = NULL;

	(void)state;
	assert_non_null(e = BN_new());
	assert_int_equal(BN_set_word(e, 65537), 1);
	check_exponent(e, 0);
	assert_int_equal(BN_set_word(e, 3), 1);
	check_exponent(e, E_KEY_TYPE);
	assert_int_equal(BN_set_word(e, 65539), 1);
	check_exponent(e, E_KEY_TYPE);
	assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n),
	    1);
	assert_non_null(BN_copy(e, n));
	assert_int_equal(BN_sub_word(e, 2), 1);
	check_exponent(e, E_KEY_TYPE);
	BN_free(n);
	BN_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_private_perms_and_types),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_der_pem_round_trip),
		cmocka_unit_test(test_public_exponent),
	};

	return cmocka_run_group_tests_name("keys", tests, setup, teardown);
}
