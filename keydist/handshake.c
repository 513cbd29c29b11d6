#include "keydist/handshake.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/b64.h"
#include "common/be.h"
#include "common/err.h"
#include "common/frame.h"
#include "keydist/hkdf.h"
#include "keydist/random.h"

#define INFO_HANDSHAKE "missive v1 handshake"
#define INFO_TRAFFIC "missive v1 traffic"
#define LABEL_CLIENT_FIN "missive v1 client finished"
#define LABEL_SERVER_FIN "missive v1 server finished"

void
kd_hs_client_init(struct kd_hs *hs, EVP_PKEY *own, EVP_PKEY *pinned)
{
	memset(hs, 0, sizeof(*hs));
	hs->own = own;
	hs->pinned = pinned;
}

void
kd_hs_server_init(struct kd_hs *hs, EVP_PKEY *own, const uint8_t *own_spki,
    size_t own_spki_len)
{
	memset(hs, 0, sizeof(*hs));
	hs->is_server = 1;
	hs->own = own;
	hs->own_spki = own_spki;
	hs->own_spki_len = own_spki_len;
}

void
kd_hs_clear(struct kd_hs *hs)
{
	EVP_PKEY_free(hs->peer);
	EVP_PKEY_free(hs->eph);
	OPENSSL_cleanse(hs, sizeof(*hs));
	hs->state = KD_HS_FAILED;
}

/* Mark the handshake failed on any error: no step can be retried. */
static int
fail(struct kd_hs *hs, int r)
{
	if (r != 0)
		hs->state = KD_HS_FAILED;
	return r;
}

/* Append m(line) = uint32_be(len) || line to the transcript. */
static int
transcript_add(struct kd_hs *hs, const char *line, size_t len)
{
	uint8_t *p;

	if (len > KD_HS_LINE_MAX ||
	    sizeof(hs->transcript) - hs->transcript_len < len + 4)
		return E_TOO_LONG;
	p = hs->transcript + hs->transcript_len;
	be32_store(p, (uint32_t)len);
	memcpy(p + 4, line, len);
	hs->transcript_len += len + 4;
	return 0;
}

static int
transcript_hash(struct kd_hs *hs, uint8_t out[32])
{
	unsigned int n = 0;

	return EVP_Digest(hs->transcript, hs->transcript_len, out, &n,
	    EVP_sha256(), NULL) == 1 && n == 32 ? 0 : E_CRYPTO;
}

/* Make our X25519 key and put its public share in share. */
static int
x25519_new(struct kd_hs *hs, uint8_t share[KD_X25519_LEN])
{
	size_t n = KD_X25519_LEN;

	if ((hs->eph = EVP_PKEY_Q_keygen(NULL, NULL, "X25519")) == NULL ||
	    EVP_PKEY_get_raw_public_key(hs->eph, share, &n) != 1 ||
	    n != KD_X25519_LEN)
		return E_CRYPTO;
	return 0;
}

/* hs->shared = X25519(our key, hs->x_peer); an all-zero result is refused. */
static int
x25519_derive(struct kd_hs *hs)
{
	static const uint8_t zero[KD_X25519_LEN];
	EVP_PKEY *peer;
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = KD_X25519_LEN;
	int r = E_CRYPTO;

	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, hs->x_peer,
	    KD_X25519_LEN);
	if (peer == NULL)
		return E_MALFORMED;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, hs->eph, NULL)) != NULL &&
	    EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, peer) == 1) {
		/*
		 * OpenSSL refuses a low-order share (all-zero secret); we check
		 * the result as well.  Either way the peer's share is bad.
		 */
		if (EVP_PKEY_derive(ctx, hs->shared, &n) != 1 ||
		    n != KD_X25519_LEN ||
		    CRYPTO_memcmp(hs->shared, zero, KD_X25519_LEN) == 0)
			r = E_MALFORMED;
		else
			r = 0;
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return r;
}

/* The handshake key that protects KeyExchange. */
static int
derive_handshake_keys(struct kd_hs *hs)
{
	uint8_t okm[KD_AEAD_KEY_LEN + KD_AEAD_IV_LEN];
	int r;

	if ((r = transcript_hash(hs, hs->th1)) != 0 ||
	    (r = kd_hkdf_sha256(hs->th1, sizeof(hs->th1), hs->shared,
	    sizeof(hs->shared), (const uint8_t *)INFO_HANDSHAKE,
	    strlen(INFO_HANDSHAKE), okm, sizeof(okm))) != 0)
		return r;
	memcpy(hs->hs_c2s.key, okm, KD_AEAD_KEY_LEN);
	memcpy(hs->hs_c2s.iv, okm + KD_AEAD_KEY_LEN, KD_AEAD_IV_LEN);
	OPENSSL_cleanse(okm, sizeof(okm));
	return 0;
}

/* Traffic keys and Finished keys from K || X25519 secret, salted by th2. */
static int
derive_traffic_keys(struct kd_hs *hs, const uint8_t envkey[KD_SESSION_KEY_LEN])
{
	uint8_t ikm[KD_SESSION_KEY_LEN + KD_X25519_LEN];
	uint8_t okm[2 * (KD_AEAD_KEY_LEN + KD_AEAD_IV_LEN) + 64], *p = okm;
	int r;

	memcpy(ikm, envkey, KD_SESSION_KEY_LEN);
	memcpy(ikm + KD_SESSION_KEY_LEN, hs->shared, KD_X25519_LEN);
	if ((r = transcript_hash(hs, hs->th2)) == 0)
		r = kd_hkdf_sha256(hs->th2, sizeof(hs->th2), ikm, sizeof(ikm),
		    (const uint8_t *)INFO_TRAFFIC, strlen(INFO_TRAFFIC), okm,
		    sizeof(okm));
	if (r == 0) {
		memcpy(hs->c2s.key, p, KD_AEAD_KEY_LEN);
		p += KD_AEAD_KEY_LEN;
		memcpy(hs->c2s.iv, p, KD_AEAD_IV_LEN);
		p += KD_AEAD_IV_LEN;
		memcpy(hs->s2c.key, p, KD_AEAD_KEY_LEN);
		p += KD_AEAD_KEY_LEN;
		memcpy(hs->s2c.iv, p, KD_AEAD_IV_LEN);
		p += KD_AEAD_IV_LEN;
		memcpy(hs->fin_c, p, 32);
		memcpy(hs->fin_s, p + 32, 32);
	}
	OPENSSL_cleanse(ikm, sizeof(ikm));
	OPENSSL_cleanse(okm, sizeof(okm));
	return r;
}

/* HMAC-SHA256(key, label || th2). */
static int
finished_mac(const struct kd_hs *hs, const uint8_t key[32], const char *label,
    uint8_t mac[KD_HS_MAC_LEN])
{
	uint8_t msg[64];
	size_t n = 0, llen = strlen(label);

	memcpy(msg, label, llen);
	memcpy(msg + llen, hs->th2, sizeof(hs->th2));
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, 32, msg,
	    llen + sizeof(hs->th2), mac, KD_HS_MAC_LEN, &n) == NULL ||
	    n != KD_HS_MAC_LEN)
		return E_CRYPTO;
	return 0;
}

/* Build "opcode|b64(bin0)|b64(bin1)..." with optional text fields first. */
struct piece {
	const char *text;             /* a text field, or NULL for binary */
	const uint8_t *bin;
	size_t len;
};

static int
build_line(char *out, size_t cap, size_t *len, unsigned opcode,
    const struct piece *pieces, size_t n)
{
	struct frame_field fields[8];
	char enc[4][B64_ENCODED_SIZE(KD_RSA_MAX_BYTES * 2)];
	size_t i, nb = 0;
	long m;

	for (i = 0; i < n; i++) {
		if (pieces[i].text != NULL) {
			fields[i].p = pieces[i].text;
			fields[i].len = strlen(pieces[i].text);
			continue;
		}
		if ((m = b64_encode(pieces[i].bin, pieces[i].len, enc[nb],
		    sizeof(enc[nb]), 1)) < 0)
			return (int)m;
		fields[i].p = enc[nb++];
		fields[i].len = (size_t)m;
	}
	return frame_build(out, cap, len, opcode, fields, n);
}

/* Parse a handshake line with the given opcode and its fields. */
static int
parse_line(const char *line, size_t len, enum proto_op opcode,
    struct frame *f)
{
	const struct proto_op_spec *spec = proto_op_spec(opcode);
	int r;

	if (len > KD_HS_LINE_MAX)
		return E_TOO_LONG;
	if (spec == NULL)
		return E_INTERNAL;
	if ((r = frame_parse(line, len, spec->min, spec->max, f)) != 0)
		return r;
	return f->opcode == (unsigned)opcode ? 0 : E_MALFORMED;
}

int
kd_hs_client_hello(struct kd_hs *hs, char *out, size_t cap, size_t *len)
{
	uint8_t nonce[KD_HS_NONCE_LEN], share[KD_X25519_LEN];
	int r;

	if (hs->is_server || hs->state != KD_HS_START)
		return fail(hs, E_STATE);
	if ((r = kd_random(nonce, sizeof(nonce))) != 0 ||
	    (r = x25519_new(hs, share)) != 0)
		return fail(hs, r);
	{
		const struct piece p[] = {
			{ KD_HS_VERSION, NULL, 0 },
			{ NULL, nonce, sizeof(nonce) },
			{ NULL, share, sizeof(share) },
		};

		r = build_line(out, cap, len, OP_CLIENT_HELLO, p, 3);
	}
	if (r == 0)
		r = transcript_add(hs, out, *len);
	if (r == 0)
		hs->state = KD_HS_CLIENT_WAIT_HELLO;
	return fail(hs, r);
}

int
kd_hs_server_hello(struct kd_hs *hs, const char *ch, size_t chlen, char *out,
    size_t cap, size_t *len)
{
	uint8_t nonce[KD_HS_NONCE_LEN], share[KD_X25519_LEN];
	unsigned char *made = NULL;
	const uint8_t *spki = hs->own_spki;
	size_t spkilen = hs->own_spki_len;
	struct frame f;
	int r;

	if (!hs->is_server || hs->state != KD_HS_START)
		return fail(hs, E_STATE);
	if ((r = parse_line(ch, chlen, OP_CLIENT_HELLO, &f)) != 0)
		return fail(hs, r);
	if (!frame_field_is(&f.field[0], KD_HS_VERSION))
		return fail(hs, E_MALFORMED);
	if ((r = frame_field_b64(&f.field[1], nonce, sizeof(nonce))) != 0 ||
	    (r = frame_field_b64(&f.field[2], hs->x_peer,
	    sizeof(hs->x_peer))) != 0)
		return fail(hs, r);
	if ((r = transcript_add(hs, ch, chlen)) != 0 ||
	    (r = kd_random(nonce, sizeof(nonce))) != 0 ||
	    (r = x25519_new(hs, share)) != 0 ||
	    (r = x25519_derive(hs)) != 0)
		goto out;
	if (spki == NULL) {
		if ((r = kd_key_to_der(hs->own, &made, &spkilen)) != 0)
			goto out;
		spki = made;
	}
	{
		const struct piece p[] = {
			{ KD_HS_VERSION, NULL, 0 },
			{ NULL, nonce, sizeof(nonce) },
			{ NULL, share, sizeof(share) },
			{ NULL, spki, spkilen },
		};

		r = build_line(out, cap, len, OP_SERVER_HELLO, p, 4);
	}
	if (r == 0 && (r = transcript_add(hs, out, *len)) == 0 &&
	    (r = derive_handshake_keys(hs)) == 0)
		hs->state = KD_HS_SERVER_WAIT_KEYX;
out:
	OPENSSL_free(made);
	return fail(hs, r);
}

int
kd_hs_client_keyx(struct kd_hs *hs, const char *sh, size_t shlen, char *kx,
    size_t kxcap, size_t *kxlen, char *fin, size_t fincap, size_t *finlen)
{
	uint8_t nonce[KD_HS_NONCE_LEN], spki[KD_SPKI_MAX];
	uint8_t envkey[KD_SESSION_KEY_LEN];
	uint8_t mac[KD_HS_MAC_LEN], signed_tr[32 + KD_SPKI_MAX];
	unsigned char *own_spki = NULL;
	size_t spkilen, own_len;
	struct kd_envelope env;
	EVP_PKEY *presented = NULL;
	struct frame f;
	int r;

	if (hs->is_server || hs->state != KD_HS_CLIENT_WAIT_HELLO)
		return fail(hs, E_STATE);
	if ((r = parse_line(sh, shlen, OP_SERVER_HELLO, &f)) != 0)
		return fail(hs, r);
	if (!frame_field_is(&f.field[0], KD_HS_VERSION))
		return fail(hs, E_MALFORMED);
	if ((r = frame_field_b64(&f.field[1], nonce, sizeof(nonce))) != 0 ||
	    (r = frame_field_b64(&f.field[2], hs->x_peer,
	    sizeof(hs->x_peer))) != 0 ||
	    (r = frame_field_b64_var(&f.field[3], spki, sizeof(spki),
	    &spkilen)) != 0 ||
	    (r = kd_key_from_der(spki, spkilen, &presented)) != 0)
		return fail(hs, r == E_TOO_LONG ? E_MALFORMED : r);
	/* The pinned key, and no other: say which key was presented. */
	if (kd_fingerprint(presented, hs->peer_fp) != 0)
		hs->peer_fp[0] = '\0';
	r = kd_key_equal(presented, hs->pinned) ? 0 : E_KEY_MISMATCH;
	EVP_PKEY_free(presented);
	if (r != 0)
		return fail(hs, r);
	if ((r = transcript_add(hs, sh, shlen)) != 0 ||
	    (r = x25519_derive(hs)) != 0 ||
	    (r = derive_handshake_keys(hs)) != 0 ||
	    (r = kd_key_to_der(hs->own, &own_spki, &own_len)) != 0)
		goto out;
	if (own_len > KD_SPKI_MAX) {
		r = E_KEY_TYPE;
		goto out;
	}
	/* The envelope's signature covers th1 || our key. */
	memcpy(signed_tr, hs->th1, 32);
	memcpy(signed_tr + 32, own_spki, own_len);
	if ((r = kd_envelope_seal(KD_ENV_HANDSHAKE, hs->pinned, hs->own,
	    signed_tr, 32 + own_len, envkey, &env)) != 0)
		goto out;
	{
		const struct piece p[] = {
			{ NULL, own_spki, own_len },
			{ NULL, env.wrapped, env.wrapped_len },
			{ NULL, env.sig, env.sig_len },
		};

		r = build_line(kx, kxcap, kxlen, OP_KEY_EXCHANGE, p, 3);
	}
	if (r != 0 || (r = transcript_add(hs, kx, *kxlen)) != 0 ||
	    (r = derive_traffic_keys(hs, envkey)) != 0 ||
	    (r = finished_mac(hs, hs->fin_c, LABEL_CLIENT_FIN, mac)) != 0)
		goto out;
	{
		const struct piece p[] = { { NULL, mac, sizeof(mac) } };

		r = build_line(fin, fincap, finlen, OP_CLIENT_FINISHED, p, 1);
	}
	if (r == 0)
		hs->state = KD_HS_CLIENT_WAIT_FINISHED;
out:
	OPENSSL_cleanse(envkey, sizeof(envkey));
	OPENSSL_free(own_spki);
	return fail(hs, r);
}

/* Check a Finished line against the MAC under key and label. */
static int
check_finished(struct kd_hs *hs, const char *line, size_t len,
    enum proto_op opcode, const uint8_t key[32], const char *label)
{
	uint8_t want[KD_HS_MAC_LEN], got[KD_HS_MAC_LEN];
	struct frame f;
	int r;

	if ((r = parse_line(line, len, opcode, &f)) != 0 ||
	    (r = frame_field_b64(&f.field[0], got, sizeof(got))) != 0 ||
	    (r = finished_mac(hs, key, label, want)) != 0)
		return r;
	r = CRYPTO_memcmp(want, got, sizeof(want)) == 0 ? 0 : E_MAC_INVALID;
	OPENSSL_cleanse(want, sizeof(want));
	return r;
}

int
kd_hs_client_finish(struct kd_hs *hs, const char *sf, size_t len)
{
	int r;

	if (hs->is_server || hs->state != KD_HS_CLIENT_WAIT_FINISHED)
		return fail(hs, E_STATE);
	r = check_finished(hs, sf, len, OP_SERVER_FINISHED, hs->fin_s,
	    LABEL_SERVER_FIN);
	if (r == 0)
		hs->state = KD_HS_DONE;
	return fail(hs, r);
}

int
kd_hs_keyx_fingerprint(const char *kx, size_t len, char fp[KD_FP_SIZE])
{
	uint8_t spki[KD_SPKI_MAX];
	struct frame f;
	size_t n;

	if (parse_line(kx, len, OP_KEY_EXCHANGE, &f) != 0 ||
	    frame_field_b64_var(&f.field[0], spki, sizeof(spki), &n) != 0 ||
	    n == 0)
		return E_MALFORMED;
	return kd_fingerprint_der(spki, n, fp);
}

int
kd_hs_server_keyx(struct kd_hs *hs, const char *kx, size_t len)
{
	uint8_t signed_tr[32 + KD_SPKI_MAX];
	uint8_t envkey[KD_SESSION_KEY_LEN];
	struct kd_envelope env;
	struct frame f;
	int r;

	if (!hs->is_server || hs->state != KD_HS_SERVER_WAIT_KEYX)
		return fail(hs, E_STATE);
	if ((r = parse_line(kx, len, OP_KEY_EXCHANGE, &f)) != 0)
		return fail(hs, r);
	if ((r = frame_field_b64_var(&f.field[0], hs->peer_spki,
	    sizeof(hs->peer_spki), &hs->peer_spki_len)) != 0 ||
	    (r = frame_field_b64_var(&f.field[1], env.wrapped,
	    sizeof(env.wrapped), &env.wrapped_len)) != 0 ||
	    (r = frame_field_b64_var(&f.field[2], env.sig, sizeof(env.sig),
	    &env.sig_len)) != 0)
		return fail(hs, r == E_TOO_LONG ? E_MALFORMED : r);
	/* The fingerprint of the bytes received (no re-encoding): they match
	   an enrolled key's only if they are that key's DER (SHA-256). */
	if ((r = kd_key_from_der(hs->peer_spki, hs->peer_spki_len,
	    &hs->peer)) != 0 ||
	    (r = kd_fingerprint_der(hs->peer_spki, hs->peer_spki_len,
	    hs->peer_fp)) != 0)
		return fail(hs, r);
	memcpy(signed_tr, hs->th1, 32);
	memcpy(signed_tr + 32, hs->peer_spki, hs->peer_spki_len);
	/* Verifies the client's signature first, then the one RSA decryption. */
	if ((r = kd_envelope_open(KD_ENV_HANDSHAKE, hs->own, hs->peer,
	    signed_tr, 32 + hs->peer_spki_len, &env, envkey)) != 0)
		return fail(hs, r);
	if ((r = transcript_add(hs, kx, len)) == 0 &&
	    (r = derive_traffic_keys(hs, envkey)) == 0)
		hs->state = KD_HS_SERVER_WAIT_FINISHED;
	OPENSSL_cleanse(envkey, sizeof(envkey));
	return fail(hs, r);
}

int
kd_hs_server_finish(struct kd_hs *hs, const char *cf, size_t cflen,
    char *out, size_t cap, size_t *len)
{
	uint8_t mac[KD_HS_MAC_LEN];
	int r;

	if (!hs->is_server || hs->state != KD_HS_SERVER_WAIT_FINISHED)
		return fail(hs, E_STATE);
	if ((r = check_finished(hs, cf, cflen, OP_CLIENT_FINISHED, hs->fin_c,
	    LABEL_CLIENT_FIN)) != 0 ||
	    (r = finished_mac(hs, hs->fin_s, LABEL_SERVER_FIN, mac)) != 0)
		return fail(hs, r);
	{
		const struct piece p[] = { { NULL, mac, sizeof(mac) } };

		r = build_line(out, cap, len, OP_SERVER_FINISHED, p, 1);
	}
	if (r == 0)
		hs->state = KD_HS_DONE;
	return fail(hs, r);
}
