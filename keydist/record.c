#include "keydist/record.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/be.h"
#include "common/err.h"
#include "keydist/hkdf.h"

#define HDR KD_RECORD_HDR_LEN
#define TAG KD_AEAD_TAG_LEN
#define REKEY_INFO_LEN (sizeof(KD_RECORD_REKEY_INFO) - 1)

/* EVP_*Update take an int length: feed long records in pieces this big. */
#define UPDATE_CHUNK ((size_t)1 << 30)

/* 1 if [a, a+alen) and [b, b+blen) share a byte. */
static int
overlaps(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;

	if (alen == 0 || blen == 0)
		return 0;
	return x < y + blen && y < x + alen;
}

/* Key d->ctx with d->key (cipher is non-NULL only the first time). */
static int
set_key(struct kd_record_dir *d, const EVP_CIPHER *cipher)
{
	if (EVP_CipherInit_ex(d->ctx, cipher, NULL, d->key, NULL,
	    d->sealing) != 1)
		return E_CRYPTO;
	return 0;
}

/* key = HKDF-SHA256(no salt, key, "missive v1 rekey"); old key wiped. */
/* A parked direction gets its context back (the same key, from d->key). */
static int
unpark(struct kd_record_dir *d)
{
	if (!d->parked)
		return 0;
	if ((d->ctx = EVP_CIPHER_CTX_new()) == NULL)
		return E_NOMEM;
	d->parked = 0;
	return set_key(d, EVP_aes_256_gcm());
}

void
kd_record_park(struct kd_record_dir *d)
{
	if (d == NULL || d->ctx == NULL || d->err != 0)
		return;
	EVP_CIPHER_CTX_free(d->ctx);	/* cleanses the key schedule */
	d->ctx = NULL;
	d->parked = 1;
}

int
kd_record_keyed(const struct kd_record_dir *d)
{
	return d != NULL && (d->ctx != NULL || d->parked);
}

static int
rotate(struct kd_record_dir *d)
{
	uint8_t next[KD_AEAD_KEY_LEN];
	int r;

	r = kd_hkdf_sha256(NULL, 0, d->key, sizeof(d->key),
	    (const uint8_t *)KD_RECORD_REKEY_INFO, REKEY_INFO_LEN, next,
	    sizeof(next));
	OPENSSL_cleanse(d->key, sizeof(d->key));
	if (r == 0) {
		memcpy(d->key, next, sizeof(d->key));
		r = set_key(d, NULL);
	}
	OPENSSL_cleanse(next, sizeof(next));
	return r == 0 ? 0 : E_CRYPTO;
}

/* One record done: count it, and rotate on every rekey_interval-th. */
static int
advance(struct kd_record_dir *d)
{
	d->seq++;
	if (d->seq % d->rekey_interval == 0)
		return rotate(d);
	return 0;
}

/* Encrypt or decrypt len bytes (GCM is a stream: out gets len bytes). */
static int
gcm_update(struct kd_record_dir *d, uint8_t *out, const uint8_t *in,
    size_t len)
{
	size_t step;
	int n, ok;

	while (len > 0) {
		step = len < UPDATE_CHUNK ? len : UPDATE_CHUNK;
		if (d->sealing)
			ok = EVP_EncryptUpdate(d->ctx, out, &n, in, (int)step);
		else
			ok = EVP_DecryptUpdate(d->ctx, out, &n, in, (int)step);
		if (ok != 1 || n < 0 || (size_t)n != step)
			return E_CRYPTO;
		out += step;
		in += step;
		len -= step;
	}
	return 0;
}

int
kd_record_init(struct kd_record_dir *d,
    const uint8_t key[static KD_AEAD_KEY_LEN],
    const uint8_t iv[static KD_AEAD_IV_LEN], uint64_t rekey_interval,
    int sealing)
{
	if (d == NULL)
		return E_INVALID;
	memset(d, 0, sizeof(*d));
	if (rekey_interval == 0)
		return E_INVALID;
	if ((d->ctx = EVP_CIPHER_CTX_new()) == NULL)
		return E_NOMEM;
	memcpy(d->key, key, sizeof(d->key));
	memcpy(d->iv, iv, sizeof(d->iv));
	d->rekey_interval = rekey_interval;
	d->sealing = sealing != 0;
	if (set_key(d, EVP_aes_256_gcm()) != 0 ||
	    EVP_CIPHER_CTX_get_iv_length(d->ctx) != KD_AEAD_IV_LEN) {
		kd_record_clear(d);
		return E_CRYPTO;
	}
	return 0;
}

void
kd_record_clear(struct kd_record_dir *d)
{
	if (d == NULL)
		return;
	EVP_CIPHER_CTX_free(d->ctx);	/* cleanses the key schedule */
	OPENSSL_cleanse(d, sizeof(*d));
}

int
kd_record_seal(struct kd_record_dir *d, const uint8_t *plain, size_t len,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t nonce[KD_AEAD_IV_LEN], fin[TAG];
	uint8_t *ct;
	int n, r;

	if (outlen != NULL)
		*outlen = 0;
	if (d == NULL || outlen == NULL)
		return E_INVALID;
	if (d->err != 0)
		return d->err;
	if ((r = unpark(d)) != 0)
		return d->err = r;
	if (d->ctx == NULL || !d->sealing || out == NULL ||
	    (plain == NULL && len > 0))
		return E_INVALID;
	if (len > KD_RECORD_MAX_PLAIN || outcap < KD_RECORD_OVERHEAD ||
	    len > outcap - KD_RECORD_OVERHEAD)
		return E_TOO_LONG;
	ct = out + HDR;
	/* In place only as plain == ct; the header must not cover plain. */
	if (overlaps(out, HDR, plain, len) ||
	    (plain != ct && overlaps(ct, len + TAG, plain, len)))
		return E_INVALID;
	if (d->seq == UINT64_MAX)
		return d->err = E_SEQ_EXHAUSTED;

	kd_aead_nonce(d->iv, d->seq, nonce);
	be32_store(out, (uint32_t)(len + TAG));
	r = E_CRYPTO;
	if (EVP_EncryptInit_ex(d->ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_EncryptUpdate(d->ctx, NULL, &n, out, HDR) != 1 ||
	    gcm_update(d, ct, plain, len) != 0 ||
	    EVP_EncryptFinal_ex(d->ctx, fin, &n) != 1 || n != 0 ||
	    EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_GCM_GET_TAG, TAG,
	    ct + len) != 1)
		goto fail;
	if ((r = advance(d)) != 0)
		goto fail;
	*outlen = len + KD_RECORD_OVERHEAD;
	return 0;
fail:
	/* No half-made record leaves here; d is dead. */
	OPENSSL_cleanse(out, len + KD_RECORD_OVERHEAD);
	return d->err = r;
}

int
kd_record_peek(const uint8_t *buf, size_t avail, size_t max_plain,
    size_t *reclen)
{
	uint32_t body;

	if (reclen == NULL)
		return E_INVALID;
	*reclen = 0;
	if (avail < HDR)
		return E_INCOMPLETE;
	if (buf == NULL)
		return E_INVALID;
	body = be32_load(buf);
	if (body < TAG)
		return E_MALFORMED;
	if (body - TAG > max_plain)
		return E_TOO_LONG;
#if SIZE_MAX <= UINT32_MAX
	if (body > SIZE_MAX - HDR)
		return E_TOO_LONG;
#endif
	*reclen = HDR + (size_t)body;
	if (avail - HDR < body)
		return E_INCOMPLETE;
	return 0;
}

int
kd_record_open(struct kd_record_dir *d, const uint8_t *rec, size_t reclen,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t nonce[KD_AEAD_IV_LEN], tag[TAG], fin[TAG];
	size_t clen;
	int n, r;

	if (outlen != NULL)
		*outlen = 0;
	if (d == NULL) {
		r = E_INVALID;
		goto wipe;
	}
	if ((r = d->err) != 0)
		goto fail;
	if ((r = unpark(d)) != 0)
		goto fail;
	r = E_INVALID;
	if (d->ctx == NULL || d->sealing)
		goto wipe;	/* not a receiving direction: leave it alone */
	if (outlen == NULL || rec == NULL || (out == NULL && outcap > 0))
		goto fail;
	r = E_MALFORMED;
	if (reclen < KD_RECORD_OVERHEAD ||
	    (size_t)be32_load(rec) != reclen - HDR)
		goto fail;
	clen = reclen - KD_RECORD_OVERHEAD;
	r = E_TOO_LONG;
	if (outcap < clen)
		goto fail;
	r = E_INVALID;
	if (out != rec + HDR && overlaps(out, clen, rec + HDR, clen))
		goto fail;
	r = E_SEQ_EXHAUSTED;
	if (d->seq == UINT64_MAX)
		goto fail;

	/* Copy the tag first: in place, out may run over it. */
	memcpy(tag, rec + HDR + clen, TAG);
	kd_aead_nonce(d->iv, d->seq, nonce);
	r = E_CRYPTO;
	if (EVP_DecryptInit_ex(d->ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(d->ctx, NULL, &n, rec, HDR) != 1 ||
	    gcm_update(d, out, rec + HDR, clen) != 0 ||
	    EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_GCM_SET_TAG, TAG, tag) != 1)
		goto fail;
	if (EVP_DecryptFinal_ex(d->ctx, fin, &n) != 1) {
		r = E_MAC_INVALID;
		goto fail;
	}
	if ((r = advance(d)) != 0)
		goto fail;
	*outlen = clen;
	return 0;
fail:
	d->err = r;
wipe:
	/* Never hand out unauthenticated plaintext. */
	if (out != NULL && outcap > 0)
		OPENSSL_cleanse(out, outcap);
	return r;
}

uint64_t
kd_record_seq(const struct kd_record_dir *d)
{
	return d->seq;
}
