#include "keydist/senderkey.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/be.h"
#include "common/err.h"
#include "keydist/aead.h"
#include "keydist/random.h"

#define AAD_MAX (sizeof(KD_SKD_LABEL) + 3 * (size_t)(2 + KD_SK_NAME_MAX) +  \
	KD_SK_ID_LEN + KD_ED25519_LEN + 8)
#define SEALED_LEN KD_SK_CHAIN_LEN

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

/* origin = SHA-256(ck_0 || sign_pub), while ck is still ck_0. */
static int
set_origin(struct kd_sender_key *sk)
{
	uint8_t in[KD_SK_CHAIN_LEN + KD_ED25519_LEN];
	int ok;

	memcpy(in, sk->ck, KD_SK_CHAIN_LEN);
	memcpy(in + KD_SK_CHAIN_LEN, sk->sign_pub, KD_ED25519_LEN);
	ok = EVP_Digest(in, sizeof(in), sk->origin, NULL, EVP_sha256(),
	    NULL) == 1;
	OPENSSL_cleanse(in, sizeof(in));
	return ok ? 0 : E_CRYPTO;
}

int
kd_sk_same(const struct kd_sender_key *a, const struct kd_sender_key *b)
{
	return CRYPTO_memcmp(a->id, b->id, KD_SK_ID_LEN) == 0 &&
	    CRYPTO_memcmp(a->origin, b->origin, sizeof(a->origin)) == 0;
}

/* out = HMAC-SHA256(ck, step): 0x01 a message key, 0x02 the next ck. */
static int
chain_step(const uint8_t ck[KD_SK_CHAIN_LEN], uint8_t step,
    uint8_t out[KD_SK_CHAIN_LEN])
{
	unsigned int n = KD_SK_CHAIN_LEN;

	return HMAC(EVP_sha256(), ck, KD_SK_CHAIN_LEN, &step, 1, out, &n) !=
	    NULL && n == KD_SK_CHAIN_LEN ? 0 : E_CRYPTO;
}

/* The message key of ck, and ck moved on to the next (the old erased). */
static int
chain_advance(uint8_t ck[KD_SK_CHAIN_LEN], uint8_t mk[KD_AEAD_KEY_LEN])
{
	uint8_t next[KD_SK_CHAIN_LEN];
	int r;

	if ((r = chain_step(ck, 0x01, mk)) == 0 &&
	    (r = chain_step(ck, 0x02, next)) == 0)
		memcpy(ck, next, KD_SK_CHAIN_LEN);
	OPENSSL_cleanse(next, sizeof(next));
	return r;
}

static const uint8_t zero_iv[KD_AEAD_IV_LEN];

int
kd_sk_generate(struct kd_sender_key *sk)
{
	size_t n = KD_ED25519_LEN;
	int r;

	memset(sk, 0, sizeof(*sk));
	if ((r = kd_random(sk->id, sizeof(sk->id))) != 0 ||
	    (r = kd_random(sk->ck, sizeof(sk->ck))) != 0)
		goto fail;
	if ((sk->sign = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    EVP_PKEY_get_raw_public_key(sk->sign, sk->sign_pub, &n) != 1 ||
	    n != KD_ED25519_LEN) {
		r = E_CRYPTO;
		goto fail;
	}
	if ((r = set_origin(sk)) != 0)
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
	if (sk->skipped != NULL)
		OPENSSL_clear_free(sk->skipped,
		    KD_SK_SKIP_MAX * sizeof(*sk->skipped));
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
	uint8_t mk[KD_AEAD_KEY_LEN];
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
	kd_aead_nonce(zero_iv, sk->next, nonce);
	/* The chain moves on even if this fails: a counter is never reused. */
	if ((r = chain_advance(sk->ck, mk)) == 0)
		sk->next++;
	if (r != 0 ||
	    (r = kd_aead_seal(mk, nonce, aad.p, aad.len, plain, len,
	    ct)) != 0 ||
	    (r = signed_bytes(aad.p, aad.len, ct, ctlen, &sd)) != 0 ||
	    (r = ed25519_sign(sk->sign, sd, aad.len + ctlen, sig)) != 0) {
		free(sd);
		OPENSSL_cleanse(mk, sizeof(mk));
		OPENSSL_cleanse(out, cap);
		return r;
	}
	free(sd);
	OPENSSL_cleanse(mk, sizeof(mk));
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

uint64_t
kd_sk_message_counter(const uint8_t *msg)
{
	return be64_load(msg + KD_SK_ID_LEN);
}

/*
 * The message key of counter for a peer's sk, without changing sk: a
 * skipped one (*slot its index), or one ahead with the keys skipped on
 * the way in *ahead (n of them, oldest first; freed by the caller) and
 * the chain key after it in ck.
 */
struct ahead {
	struct kd_sk_skipped *skipped;
	size_t n;
	uint8_t ck[KD_SK_CHAIN_LEN];
};

static int
message_key(const struct kd_sender_key *sk, uint64_t counter,
    uint8_t mk[KD_AEAD_KEY_LEN], size_t *slot, struct ahead *a)
{
	uint64_t i;
	int r;

	*slot = SIZE_MAX;
	if (counter < sk->next) {
		for (i = 0; i < sk->nskipped; i++) {
			if (sk->skipped[i].counter == counter) {
				memcpy(mk, sk->skipped[i].mk, KD_AEAD_KEY_LEN);
				*slot = (size_t)i;
				return 0;
			}
		}
		return E_REPLAY;
	}
	if (counter - sk->next >= KD_SK_SKIP_MAX)
		return E_TOO_LONG;
	memcpy(a->ck, sk->ck, KD_SK_CHAIN_LEN);
	if (counter > sk->next && (a->skipped = calloc((size_t)(counter -
	    sk->next), sizeof(*a->skipped))) == NULL)
		return E_NOMEM;
	for (i = sk->next; i < counter; i++) {
		a->skipped[a->n].counter = i;
		if ((r = chain_advance(a->ck, a->skipped[a->n++].mk)) != 0)
			return r;
	}
	return chain_advance(a->ck, mk);
}

static void
ahead_free(struct ahead *a)
{
	if (a->skipped != NULL)
		OPENSSL_clear_free(a->skipped, a->n * sizeof(*a->skipped));
	OPENSSL_cleanse(a, sizeof(*a));
}

/* Commit what opening a message found: the skipped key used, or the
   keys skipped on the way ahead (the oldest dropped beyond the window). */
static int
ratchet_commit(struct kd_sender_key *sk, uint64_t counter, size_t slot,
    const struct ahead *a)
{
	size_t i, keep, drop;

	if (slot != SIZE_MAX) {
		memmove(&sk->skipped[slot], &sk->skipped[slot + 1],
		    (sk->nskipped - slot - 1) * sizeof(*sk->skipped));
		OPENSSL_cleanse(&sk->skipped[--sk->nskipped],
		    sizeof(*sk->skipped));
		return 0;
	}
	if (a->n > 0 && sk->skipped == NULL &&
	    (sk->skipped = calloc(KD_SK_SKIP_MAX, sizeof(*sk->skipped))) ==
	    NULL)
		return E_NOMEM;
	/* a->n <= KD_SK_SKIP_MAX (message_key()): drop the oldest. */
	keep = KD_SK_SKIP_MAX - a->n;
	if (sk->nskipped > keep) {
		drop = sk->nskipped - keep;
		memmove(sk->skipped, sk->skipped + drop,
		    keep * sizeof(*sk->skipped));
		sk->nskipped = keep;
	}
	for (i = 0; i < a->n; i++)
		sk->skipped[sk->nskipped++] = a->skipped[i];
	if (sk->skipped != NULL)
		OPENSSL_cleanse(sk->skipped + sk->nskipped,
		    (KD_SK_SKIP_MAX - sk->nskipped) * sizeof(*sk->skipped));
	memcpy(sk->ck, a->ck, KD_SK_CHAIN_LEN);
	sk->next = counter + 1;
	return 0;
}

int
kd_sk_open(struct kd_sender_key *sk, const char *room, const char *sender,
    const uint8_t *msg, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t aadbuf[AAD_MAX], nonce[KD_AEAD_IV_LEN], *sd = NULL;
	uint8_t mk[KD_AEAD_KEY_LEN];
	struct wr aad = { aadbuf, 0, sizeof(aadbuf), 0 };
	struct ahead a = { NULL, 0, { 0 } };
	const uint8_t *ct;
	size_t ptlen, slot;
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
	if ((r = message_key(sk, counter, mk, &slot, &a)) != 0)
		goto fail;
	if (cap < ptlen) {
		r = E_TOO_LONG;
		goto fail;
	}
	kd_aead_nonce(zero_iv, counter, nonce);
	if ((r = kd_aead_open(mk, nonce, aad.p, aad.len, ct,
	    ptlen + KD_AEAD_TAG_LEN, out)) != 0 ||
	    (r = ratchet_commit(sk, counter, slot, &a)) != 0)
		goto fail;
	free(sd);
	ahead_free(&a);
	OPENSSL_cleanse(mk, sizeof(mk));
	*outlen = ptlen;
	return 0;
fail:
	free(sd);
	ahead_free(&a);
	OPENSSL_cleanse(mk, sizeof(mk));
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
	/* Sent before the first message only: receivers start at 0. */
	if (sk->next != 0)
		return E_STATE;
	memcpy(secret, sk->ck, KD_SK_CHAIN_LEN);
	if ((r = dist_transcript(&t, room, sender, recipient_fp, sk->id,
	    sk->sign_pub)) != 0 ||
	    (r = kd_envelope_seal(KD_ENV_SENDER_KEY, recipient, own, t.p, t.len,
	    k, &env)) != 0 ||
	    (r = kd_aead_seal(k, zero_iv, t.p, t.len, secret, SEALED_LEN,
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
	    (r = kd_envelope_open(KD_ENV_SENDER_KEY, own, sender_key, t.p,
	    t.len, &env, k)) != 0 ||
	    (r = kd_aead_open(k, zero_iv, t.p, t.len, sealed,
	    SEALED_LEN + KD_AEAD_TAG_LEN, secret)) != 0)
		goto out;
	r = E_CRYPTO;
	if ((sk->sign = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    pub, KD_ED25519_LEN)) == NULL)
		goto out;
	memcpy(sk->id, id, KD_SK_ID_LEN);
	memcpy(sk->sign_pub, pub, KD_ED25519_LEN);
	memcpy(sk->ck, secret, KD_SK_CHAIN_LEN);
	r = set_origin(sk);
out:
	if (r != 0)
		kd_sk_clear(sk);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(secret, sizeof(secret));
	return r;
}

int
kd_sk_peer_save(const struct kd_sender_key *sk, struct buf *out)
{
	size_t size = KD_SK_SAVED_HEAD + sk->nskipped * KD_SK_SAVED_SKIP, i;
	const uint8_t version = KD_SK_SAVED_VERSION;
	struct wr w;
	int r;

	if (sk->nskipped > KD_SK_SKIP_MAX)
		return E_INVALID;
	/* Written in place: no copy of the keys to wipe. */
	if ((r = buf_reserve(out, size)) != 0)
		return r;
	w = (struct wr){ buf_tail(out), 0, size, 0 };
	put(&w, &version, 1);
	put(&w, sk->id, KD_SK_ID_LEN);
	put(&w, sk->ck, KD_SK_CHAIN_LEN);
	put(&w, sk->origin, sizeof(sk->origin));
	put(&w, sk->sign_pub, KD_ED25519_LEN);
	put_u64(&w, sk->next);
	put_u16(&w, sk->nskipped);
	for (i = 0; i < sk->nskipped; i++) {
		put_u64(&w, sk->skipped[i].counter);
		put(&w, sk->skipped[i].mk, KD_AEAD_KEY_LEN);
	}
	if (w.err != 0) {
		OPENSSL_cleanse(buf_tail(out), size);
		return E_INTERNAL;
	}
	buf_commit(out, w.len);
	return 0;
}

/* The skipped keys of a saved key (n of them at p), checked: below next,
   oldest first. */
static int
load_skipped(struct kd_sender_key *sk, const uint8_t *p, size_t n)
{
	struct kd_sk_skipped *k;
	size_t i;

	if (n == 0)
		return 0;
	/* kd_sk_clear() frees a full window. */
	if ((sk->skipped = calloc(KD_SK_SKIP_MAX, sizeof(*sk->skipped))) ==
	    NULL)
		return E_NOMEM;
	for (i = 0; i < n; i++, p += KD_SK_SAVED_SKIP) {
		k = &sk->skipped[i];
		k->counter = be64_load(p);
		if (k->counter >= sk->next ||
		    (i > 0 && k->counter <= sk->skipped[i - 1].counter))
			return E_MALFORMED;
		memcpy(k->mk, p + 8, KD_AEAD_KEY_LEN);
		sk->nskipped = i + 1;
	}
	return 0;
}

int
kd_sk_peer_load(const uint8_t *blob, size_t len, struct kd_sender_key *sk)
{
	const uint8_t *p = blob;
	size_t n;
	int r = E_MALFORMED;

	memset(sk, 0, sizeof(*sk));
	if (len < KD_SK_SAVED_HEAD || p[0] != KD_SK_SAVED_VERSION)
		return E_MALFORMED;
	p++;
	memcpy(sk->id, p, KD_SK_ID_LEN);
	p += KD_SK_ID_LEN;
	memcpy(sk->ck, p, KD_SK_CHAIN_LEN);
	p += KD_SK_CHAIN_LEN;
	memcpy(sk->origin, p, sizeof(sk->origin));
	p += sizeof(sk->origin);
	memcpy(sk->sign_pub, p, KD_ED25519_LEN);
	p += KD_ED25519_LEN;
	sk->next = be64_load(p);
	n = be16_load(p + 8);
	p += 8 + 2;
	if (n > KD_SK_SKIP_MAX || len - KD_SK_SAVED_HEAD !=
	    n * KD_SK_SAVED_SKIP || sk->next == UINT64_MAX)
		goto fail;
	if ((r = load_skipped(sk, p, n)) != 0)
		goto fail;
	r = E_MALFORMED;
	if ((sk->sign = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    sk->sign_pub, KD_ED25519_LEN)) == NULL)
		goto fail;
	return 0;
fail:
	kd_sk_clear(sk);
	return r;
}
