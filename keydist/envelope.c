#include "keydist/envelope.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rsa.h>

#include "common/be.h"
#include "common/err.h"
#include "keydist/random.h"

static const char *
use_label(enum kd_envelope_use use)
{
	return use == KD_ENV_HANDSHAKE ? KD_ENVELOPE_LABEL_HANDSHAKE :
	    KD_ENVELOPE_LABEL_SENDER_KEY;
}

/* Configure ctx for OAEP with SHA-256 and MGF1-SHA-256. */
static int
oaep_setup(EVP_PKEY_CTX *ctx)
{
	return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1;
}

/* Run a PSS-SHA256 sign (sig != NULL out) or verify over msg. */
static int
pss_run(EVP_PKEY *key, int sign, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return E_NOMEM;
	if (sign)
		ok = EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key);
	else
		ok = EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key);
	ok = ok == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, KD_PSS_SALT_LEN) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
	if (ok && sign)
		ok = EVP_DigestSign(md, sig, siglen, msg, len) == 1;
	else if (ok)
		ok = EVP_DigestVerify(md, sig, *siglen, msg, len) == 1;
	EVP_MD_CTX_free(md);
	if (ok)
		return 0;
	return sign ? E_CRYPTO : E_SIG_INVALID;
}

int
kd_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t *sig,
    size_t *siglen)
{
	int r;

	if ((r = kd_key_check(key)) != 0)
		return r;
	*siglen = KD_RSA_MAX_BYTES;
	return pss_run(key, 1, msg, len, sig, siglen);
}

int
kd_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *sig,
    size_t siglen)
{
	int r;

	if ((r = kd_key_check(key)) != 0)
		return r;
	if (siglen != (size_t)EVP_PKEY_get_size(key))
		return E_SIG_INVALID;
	return pss_run(key, 0, msg, len, (uint8_t *)sig, &siglen);
}

/* The bytes the envelope signature covers, freshly allocated. */
static int
signed_bytes(enum kd_envelope_use use, const struct kd_envelope *env,
    const uint8_t *transcript, size_t transcript_len, uint8_t **out,
    size_t *outlen)
{
	const char *label = use_label(use);
	size_t llen = strlen(label);
	size_t len = llen + 2 + env->wrapped_len + transcript_len;
	uint8_t *p;

	if (env->wrapped_len > KD_RSA_MAX_BYTES || transcript_len > SIZE_MAX / 2)
		return E_INVALID;
	if ((p = malloc(len)) == NULL)
		return E_NOMEM;
	memcpy(p, label, llen);
	be16_store(p + llen, (uint16_t)env->wrapped_len);
	memcpy(p + llen + 2, env->wrapped, env->wrapped_len);
	if (transcript_len > 0)
		memcpy(p + llen + 2 + env->wrapped_len, transcript,
		    transcript_len);
	*out = p;
	*outlen = len;
	return 0;
}

int
kd_envelope_seal(enum kd_envelope_use use, EVP_PKEY *recipient,
    EVP_PKEY *sender, const uint8_t *transcript, size_t transcript_len,
    uint8_t key[static KD_SESSION_KEY_LEN], struct kd_envelope *env)
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *msg = NULL;
	size_t msglen;
	int r;

	memset(env, 0, sizeof(*env));
	if ((r = kd_key_check(recipient)) != 0 ||
	    (r = kd_key_check(sender)) != 0)
		goto out;
	if ((r = kd_random(key, KD_SESSION_KEY_LEN)) != 0)
		goto out;
	r = E_CRYPTO;
	env->wrapped_len = sizeof(env->wrapped);
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, recipient, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ctx) != 1 || !oaep_setup(ctx) ||
	    EVP_PKEY_encrypt(ctx, env->wrapped, &env->wrapped_len, key,
	    KD_SESSION_KEY_LEN) != 1)
		goto out;
	if ((r = signed_bytes(use, env, transcript, transcript_len, &msg,
	    &msglen)) != 0)
		goto out;
	r = kd_sign(sender, msg, msglen, env->sig, &env->sig_len);
out:
	EVP_PKEY_CTX_free(ctx);
	free(msg);
	if (r != 0) {
		OPENSSL_cleanse(key, KD_SESSION_KEY_LEN);
		memset(env, 0, sizeof(*env));
	}
	return r;
}

int
kd_envelope_open(enum kd_envelope_use use, EVP_PKEY *recipient,
    EVP_PKEY *sender, const uint8_t *transcript, size_t transcript_len,
    const struct kd_envelope *env, uint8_t key[static KD_SESSION_KEY_LEN])
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *msg = NULL, plain[KD_RSA_MAX_BYTES];
	size_t msglen, plainlen = sizeof(plain);
	int r;

	OPENSSL_cleanse(key, KD_SESSION_KEY_LEN);
	if ((r = kd_key_check(recipient)) != 0 ||
	    (r = kd_key_check(sender)) != 0)
		return r;
	if (env->wrapped_len != (size_t)EVP_PKEY_get_size(recipient))
		return E_MALFORMED;
	/* Verify before decrypting: an unsigned envelope is never opened. */
	if ((r = signed_bytes(use, env, transcript, transcript_len, &msg,
	    &msglen)) != 0)
		return r;
	r = kd_verify(sender, msg, msglen, env->sig, env->sig_len);
	free(msg);
	if (r != 0)
		return r;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, recipient, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(ctx) != 1 || !oaep_setup(ctx)) {
		r = E_CRYPTO;
	} else if (EVP_PKEY_decrypt(ctx, plain, &plainlen, env->wrapped,
	    env->wrapped_len) != 1) {
		r = E_UNWRAP;
	} else if (plainlen != KD_SESSION_KEY_LEN) {
		r = E_KEY_LENGTH;
	} else {
		memcpy(key, plain, KD_SESSION_KEY_LEN);
	}
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_cleanse(plain, sizeof(plain));
	return r;
}
