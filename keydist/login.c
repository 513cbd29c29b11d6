#include "keydist/login.h"

#include <stdint.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/b64.h"
#include "common/be.h"
#include "common/err.h"
#include "common/secret.h"

#define SALT_LABEL "missive login v2\n"

/* Hash m(s) = uint32_be(len(s)) || s into md. */
static int
digest_field(EVP_MD_CTX *md, const char *s)
{
	uint8_t len[4];

	be32_store(len, (uint32_t)strlen(s));
	return EVP_DigestUpdate(md, len, sizeof(len)) == 1 &&
	    EVP_DigestUpdate(md, s, strlen(s)) == 1 ? 0 : E_CRYPTO;
}

static int
login_salt(const char *server_fp, const char *user, uint8_t salt[32])
{
	EVP_MD_CTX *md;
	unsigned int n = 0;
	int r = E_CRYPTO;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return E_NOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, SALT_LABEL, sizeof(SALT_LABEL) - 1) == 1 &&
	    digest_field(md, server_fp) == 0 && digest_field(md, user) == 0 &&
	    EVP_DigestFinal_ex(md, salt, &n) == 1 && n == 32)
		r = 0;
	EVP_MD_CTX_free(md);
	return r;
}

int
kd_login_secret(const char *password, size_t len, const char *server_fp,
    const char *user, char out[KD_LOGIN_B64_LEN + 1])
{
	uint8_t salt[32], secret[KD_LOGIN_LEN];
	int r;

	out[0] = '\0';
	if (len == 0 || len > SECRET_MAX)
		return E_INVALID;
	if ((r = login_salt(server_fp, user, salt)) != 0)
		return r;
	r = E_CRYPTO;
	if (argon2id_hash_raw(KD_LOGIN_T_COST, KD_LOGIN_M_KIB, KD_LOGIN_LANES,
	    password, len, salt, sizeof(salt), secret,
	    sizeof(secret)) == ARGON2_OK &&
	    b64_encode(secret, sizeof(secret), out, KD_LOGIN_B64_LEN + 1,
	    1) == KD_LOGIN_B64_LEN)
		r = 0;
	OPENSSL_cleanse(secret, sizeof(secret));
	return r;
}

int
kd_login_secret_valid(const char *s, size_t len)
{
	uint8_t secret[KD_LOGIN_LEN + 3];
	long n;

	if (len != KD_LOGIN_B64_LEN)
		return 0;
	n = b64_decode(s, len, secret, sizeof(secret));
	OPENSSL_cleanse(secret, sizeof(secret));
	return n == KD_LOGIN_LEN;
}
