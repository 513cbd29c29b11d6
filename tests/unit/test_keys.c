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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_private_perms_and_types),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_der_pem_round_trip),
	};

	return cmocka_run_group_tests_name("keys", tests, setup, teardown);
}
