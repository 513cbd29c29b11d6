#include "keydist/senderkey.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/be.h"
#include "common/err.h"
#include "keydist/aead.h"
#include "keydist/random.h"

#define AAD_MAX (sizeof(KD_SKD_LABEL) + 3 * (size_t)(2 + KD_SK_NAME_MAX) +  \
	KD_SK_ID_LEN + KD_ED25519_LEN + 8)
#define SEALED_LEN (KD_AEAD_KEY_LEN + KD_AEAD_IV_LEN)

/* A little writer for the byte strings that get signed or authenticated. */
struct wr {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void
put(struct wr *w, const void *v, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = E_TOO_LONG;
		return;
	}
	memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void
put_u16(struct wr *w, size_t v)
{
	uint8_t b[2];

	be16_store(b, (uint16_t)v);
	put(w, b, 2);
}

static void
put_u64(struct wr *w, uint64_t v)
{
	uint8_t b[8];

	be64_store(b, v);
	put(w, b, 8);
}

/* m(s) = uint16_be(len(s)) || s */
static void
put_name(struct wr *w, const char *s)
{
	size_t n = strlen(s);

	if (n > KD_SK_NAME_MAX) {
		w->err = E_TOO_LONG;
		return;
	}
	put_u16(w, n);
	put(w, s, n);
}

static int
ed25519_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
    uint8_t sig[KD_ED25519_SIG_LEN])
{
	EVP_MD_CTX *md;
	size_t siglen = KD_ED25519_SIG_LEN;
	int ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return E_NOMEM;
	ok = EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, msg, len) == 1 &&
	    siglen == KD_ED25519_SIG_LEN;
	EVP_MD_CTX_free(md);
	return ok ? 0 : E_CRYPTO;
}

static int
ed25519_verify(EVP_PKEY *key, const uint8_t *msg, size_t len,
    const uint8_t sig[KD_ED25519_SIG_LEN])
{
	EVP_MD_CTX *md;
	int ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return E_NOMEM;
	ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, KD_ED25519_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : E_SIG_INVALID;
}

int
kd_sk_generate(struct kd_sender_key *sk)
{
	size_t n = KD_ED25519_LEN;
	int r;

	memset(sk, 0, sizeof(*sk));
	if ((r = kd_random(sk->id, sizeof(sk->id))) != 0 ||
	    (r = kd_random(sk->key, sizeof(sk->key))) != 0 ||
	    (r = kd_random(sk->iv, sizeof(sk->iv))) != 0)
		goto fail;
	r = E_CRYPTO;
	if ((sk->sign = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    EVP_PKEY_get_raw_public_key(sk->sign, sk->sign_pub, &n) != 1 ||
	    n != KD_ED25519_LEN)
		goto fail;
	return 0;
fail:
	kd_sk_clear(sk);
	return r;
}

void
kd_sk_clear(struct kd_sender_key *sk)
{
	EVP_PKEY_free(sk->sign);
	OPENSSL_cleanse(sk, sizeof(*sk));
}

/* aad = label || m(room) || m(sender) || id || counter */
static int
message_aad(struct wr *w, const char *room, const char *sender,
    const uint8_t id[KD_SK_ID_LEN], uint64_t counter)
{
	put(w, KD_SK_LABEL, sizeof(KD_SK_LABEL) - 1);
	put_name(w, room);
	put_name(w, sender);
	put(w, id, KD_SK_ID_LEN);
	put_u64(w, counter);
	return w->err;
}

/* Ed25519 signs aad || ciphertext || tag; build that in one buffer. */
static int
signed_bytes(const uint8_t *aad, size_t aadlen, const uint8_t *ct,
    size_t ctlen, uint8_t **out)
{
	if ((*out = malloc(aadlen + ctlen)) == NULL)
		return E_NOMEM;
	memcpy(*out, aad, aadlen);
	memcpy(*out + aadlen, ct, ctlen);
	return 0;
}

int
kd_sk_seal(struct kd_sender_key *sk, const char *room, const char *sender,
    const uint8_t *plain, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint8_t aadbuf[AAD_MAX], nonce[KD_AEAD_IV_LEN], *ct, *sig, *sd = NULL;
	struct wr aad = { aadbuf, 0, sizeof(aadbuf), 0 };
	size_t ctlen = len + KD_AEAD_TAG_LEN;
	int r;

	*outlen = 0;
	if (sk->sign == NULL || sk->next == UINT64_MAX)
		return E_INVALID;
	if (len > cap || cap - len < KD_SK_OVERHEAD)
		return E_TOO_LONG;
	if ((r = message_aad(&aad, room, sender, sk->id, sk->next)) != 0)
		return r;
	memcpy(out, sk->id, KD_SK_ID_LEN);
	{
		struct wr hdr = { out + KD_SK_ID_LEN, 0, 8, 0 };

		put_u64(&hdr, sk->next);
	}
	ct = out + KD_SK_ID_LEN + 8;
	sig = ct + ctlen;
	kd_aead_nonce(sk->iv, sk->next, nonce);
	if ((r = kd_aead_seal(sk->key, nonce, aad.p, aad.len, plain, len,
	    ct)) != 0 ||
	    (r = signed_bytes(aad.p, aad.len, ct, ctlen, &sd)) != 0 ||
	    (r = ed25519_sign(sk->sign, sd, aad.len + ctlen, sig)) != 0) {
		free(sd);
		OPENSSL_cleanse(out, cap);
		return r;
	}
	free(sd);
	sk->next++;
	*outlen = len + KD_SK_OVERHEAD;
	return 0;
}

int
kd_sk_message_id(const uint8_t *msg, size_t len, uint8_t id[KD_SK_ID_LEN])
{
	if (len < KD_SK_OVERHEAD)
		return E_MALFORMED;
	memcpy(id, msg, KD_SK_ID_LEN);
	return 0;
}

int
kd_sk_open(struct kd_sender_key *sk, const char *room, const char *sender,
    const uint8_t *msg, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t aadbuf[AAD_MAX], nonce[KD_AEAD_IV_LEN], *sd = NULL;
	struct wr aad = { aadbuf, 0, sizeof(aadbuf), 0 };
	const uint8_t *ct;
	size_t ptlen;
	uint64_t counter;
	int r;

	*outlen = 0;
	if (len < KD_SK_OVERHEAD) {
		r = E_MALFORMED;
		goto fail;
	}
	ptlen = len - KD_SK_OVERHEAD;
	counter = be64_load(msg + KD_SK_ID_LEN);
	ct = msg + KD_SK_ID_LEN + 8;
	if (sk->sign == NULL) {
		r = E_INVALID;
		goto fail;
	}
	if (CRYPTO_memcmp(msg, sk->id, KD_SK_ID_LEN) != 0) {
		r = E_NOT_FOUND;
		goto fail;
	}
	if ((r = message_aad(&aad, room, sender, sk->id, counter)) != 0 ||
	    (r = signed_bytes(aad.p, aad.len, ct, ptlen + KD_AEAD_TAG_LEN,
	    &sd)) != 0 ||
	    (r = ed25519_verify(sk->sign, sd, aad.len + ptlen +
	    KD_AEAD_TAG_LEN, ct + ptlen + KD_AEAD_TAG_LEN)) != 0)
		goto fail;
	if (counter < sk->next) {
		r = E_REPLAY;
		goto fail;
	}
	if (cap < ptlen) {
		r = E_TOO_LONG;
		goto fail;
	}
	kd_aead_nonce(sk->iv, counter, nonce);
	if ((r = kd_aead_open(sk->key, nonce, aad.p, aad.len, ct,
	    ptlen + KD_AEAD_TAG_LEN, out)) != 0)
		goto fail;
	free(sd);
	sk->next = counter + 1;
	*outlen = ptlen;
	return 0;
fail:
	free(sd);
	if (out != NULL)
		OPENSSL_cleanse(out, cap);
	return r;
}

/* transcript = label || m(room) || m(sender) || m(fp) || id || sign_pub */
static int
dist_transcript(struct wr *w, const char *room, const char *sender,
    const char *recipient_fp, const uint8_t id[KD_SK_ID_LEN],
    const uint8_t pub[KD_ED25519_LEN])
{
	put(w, KD_SKD_LABEL, sizeof(KD_SKD_LABEL) - 1);
	put_name(w, room);
	put_name(w, sender);
	put_name(w, recipient_fp);
	put(w, id, KD_SK_ID_LEN);
	put(w, pub, KD_ED25519_LEN);
	return w->err;
}

static const uint8_t zero_nonce[KD_AEAD_IV_LEN];

int
kd_sk_distribute(const struct kd_sender_key *sk, EVP_PKEY *own,
    EVP_PKEY *recipient, const char *room, const char *sender,
    const char *recipient_fp, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t tbuf[AAD_MAX], k[KD_SESSION_KEY_LEN], secret[SEALED_LEN];
	uint8_t sealed[SEALED_LEN + KD_AEAD_TAG_LEN];
	struct wr t = { tbuf, 0, sizeof(tbuf), 0 };
	struct wr o = { out, 0, cap, 0 };
	struct kd_envelope env;
	int r;

	*outlen = 0;
	memcpy(secret, sk->key, KD_AEAD_KEY_LEN);
	memcpy(secret + KD_AEAD_KEY_LEN, sk->iv, KD_AEAD_IV_LEN);
	if ((r = dist_transcript(&t, room, sender, recipient_fp, sk->id,
	    sk->sign_pub)) != 0 ||
	    (r = kd_envelope_seal(recipient, own, t.p, t.len, k, &env)) != 0 ||
	    (r = kd_aead_seal(k, zero_nonce, t.p, t.len, secret, SEALED_LEN,
	    sealed)) != 0)
		goto out;
	put_u16(&o, env.wrapped_len);
	put(&o, env.wrapped, env.wrapped_len);
	put_u16(&o, env.sig_len);
	put(&o, env.sig, env.sig_len);
	put(&o, sk->id, KD_SK_ID_LEN);
	put(&o, sk->sign_pub, KD_ED25519_LEN);
	put(&o, sealed, sizeof(sealed));
	if ((r = o.err) == 0)
		*outlen = o.len;
out:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(secret, sizeof(secret));
	return r;
}

/* Take n bytes from the blob being parsed, or NULL. */
static const uint8_t *
take(const uint8_t **p, size_t *left, size_t n)
{
	const uint8_t *v = *p;

	if (n > *left)
		return NULL;
	*p += n;
	*left -= n;
	return v;
}

static int
take_u16(const uint8_t **p, size_t *left, size_t *v)
{
	const uint8_t *b = take(p, left, 2);

	if (b == NULL)
		return E_MALFORMED;
	*v = be16_load(b);
	return 0;
}

int
kd_sk_accept(EVP_PKEY *own, const char *own_fp, EVP_PKEY *sender_key,
    const char *room, const char *sender, const uint8_t *blob, size_t len,
    struct kd_sender_key *sk)
{
	uint8_t tbuf[AAD_MAX], k[KD_SESSION_KEY_LEN], secret[SEALED_LEN];
	struct wr t = { tbuf, 0, sizeof(tbuf), 0 };
	const uint8_t *p = blob, *wrapped, *sig, *id, *pub, *sealed;
	size_t left = len, wlen, slen;
	struct kd_envelope env;
	int r = E_MALFORMED;

	memset(sk, 0, sizeof(*sk));
	if (take_u16(&p, &left, &wlen) != 0 || wlen > KD_RSA_MAX_BYTES ||
	    (wrapped = take(&p, &left, wlen)) == NULL ||
	    take_u16(&p, &left, &slen) != 0 || slen > KD_RSA_MAX_BYTES ||
	    (sig = take(&p, &left, slen)) == NULL ||
	    (id = take(&p, &left, KD_SK_ID_LEN)) == NULL ||
	    (pub = take(&p, &left, KD_ED25519_LEN)) == NULL ||
	    (sealed = take(&p, &left, SEALED_LEN + KD_AEAD_TAG_LEN)) == NULL ||
	    left != 0)
		return E_MALFORMED;
	memcpy(env.wrapped, wrapped, wlen);
	env.wrapped_len = wlen;
	memcpy(env.sig, sig, slen);
	env.sig_len = slen;
	if ((r = dist_transcript(&t, room, sender, own_fp, id, pub)) != 0 ||
	    (r = kd_envelope_open(own, sender_key, t.p, t.len, &env, k)) != 0 ||
	    (r = kd_aead_open(k, zero_nonce, t.p, t.len, sealed,
	    SEALED_LEN + KD_AEAD_TAG_LEN, secret)) != 0)
		goto out;
	r = E_CRYPTO;
	if ((sk->sign = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    pub, KD_ED25519_LEN)) == NULL)
		goto out;
	memcpy(sk->id, id, KD_SK_ID_LEN);
	memcpy(sk->sign_pub, pub, KD_ED25519_LEN);
	memcpy(sk->key, secret, KD_AEAD_KEY_LEN);
	memcpy(sk->iv, secret + KD_AEAD_KEY_LEN, KD_AEAD_IV_LEN);
	r = 0;
out:
	if (r != 0)
		kd_sk_clear(sk);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(secret, sizeof(secret));
	return r;
}
