#include "keydist/aead.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/be.h"
#include "common/err.h"

/*
 * AES-256-GCM over in[0..len) into out[0..len): seal (enc 1; the tag is
 * written to tag) or open (enc 0; the tag is read from tag, which OpenSSL
 * wants writable).  The context, and with it the key schedule, is freed
 * (and so cleansed) on every path.
 */
static int
gcm(int enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
    size_t aadlen, const uint8_t *in, size_t len, uint8_t *out,
    uint8_t tag[KD_AEAD_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx;
	uint8_t fin[KD_AEAD_TAG_LEN];	/* GCM's final step writes nothing */
	int n, r = E_CRYPTO;

	if (len > INT_MAX || aadlen > INT_MAX)
		return E_TOO_LONG;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return E_NOMEM;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce,
	    enc) != 1 ||
	    (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
	    KD_AEAD_TAG_LEN, tag) != 1) ||
	    (aadlen > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad,
	    (int)aadlen) != 1) ||
	    (len > 0 && (EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    n != (int)len)))
		goto out;
	if (EVP_CipherFinal_ex(ctx, fin, &n) != 1 || n != 0) {
		r = enc ? E_CRYPTO : E_MAC_INVALID;
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
	    KD_AEAD_TAG_LEN, tag) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
kd_aead_seal(const uint8_t key[KD_AEAD_KEY_LEN],
    const uint8_t nonce[KD_AEAD_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *plain, size_t len, uint8_t *out)
{
	int r;

	if (len > INT_MAX)
		return E_TOO_LONG;
	if ((r = gcm(1, key, nonce, aad, aadlen, plain, len, out,
	    out + len)) != 0)
		OPENSSL_cleanse(out, len + KD_AEAD_TAG_LEN);
	return r;
}

int
kd_aead_open(const uint8_t key[KD_AEAD_KEY_LEN],
    const uint8_t nonce[KD_AEAD_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *sealed, size_t sealed_len, uint8_t *out)
{
	uint8_t tag[KD_AEAD_TAG_LEN];
	size_t len;
	int r;

	if (sealed_len < KD_AEAD_TAG_LEN)
		return E_MALFORMED;
	len = sealed_len - KD_AEAD_TAG_LEN;
	if (len > INT_MAX)
		return E_TOO_LONG;
	memcpy(tag, sealed + len, KD_AEAD_TAG_LEN);
	if ((r = gcm(0, key, nonce, aad, aadlen, sealed, len, out, tag)) != 0)
		OPENSSL_cleanse(out, len);
	return r;
}

void
kd_aead_nonce(const uint8_t iv[KD_AEAD_IV_LEN], uint64_t counter,
    uint8_t nonce[KD_AEAD_IV_LEN])
{
	uint8_t be[8];
	size_t i;

	be64_store(be, counter);
	memcpy(nonce, iv, KD_AEAD_IV_LEN);
	for (i = 0; i < sizeof(be); i++)
		nonce[KD_AEAD_IV_LEN - sizeof(be) + i] ^= be[i];
}
