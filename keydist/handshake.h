/*
 * The session handshake, without I/O: functions take and produce frame
 * lines (common/frame.h, without the '\n'), and the caller moves them and
 * wraps the later ones in records (keydist/record.h).  docs/PROTOCOL.md
 * specifies the messages byte for byte; in short:
 *
 *   C -> S  plain         0100|2|nonce_c|x25519_c                ClientHello
 *   S -> C  plain         1100|2|nonce_s|x25519_s|server_spki     ServerHello
 *   C -> S  record(hs)    0101|client_spki|wrapped|signature     KeyExchange
 *   C -> S  record(c2s)   0102|mac_c                             ClientFinished
 *   S -> C  record(s2c)   1102|mac_s                             ServerFinished
 *
 * th1 = SHA-256(m(CH) || m(SH)), th2 = SHA-256(m(CH) || m(SH) || m(KX)) with
 * m(x) = uint32_be(len(x)) || x.  The client refuses a ServerHello whose key
 * is not the pinned one.  KeyExchange travels under a key from the X25519
 * secret alone (it hides which user connects from a passive observer); it
 * holds the client key, a digital envelope (keydist/envelope.h) sealing a
 * fresh 32-byte key K to the pinned server key, signed by the client over
 * th1 || client_spki.  Traffic keys come from HKDF(salt th2, K || X25519
 * secret), so the server proves it opened the envelope (it holds the
 * pinned key: one RSA private operation) by sending a valid
 * ServerFinished, and a stolen RSA key does not open recorded sessions.
 *
 * The server's kd_hs_server_keyx() does the RSA private operation; it
 * touches only the handshake struct, so it can run on a worker thread.
 */
#ifndef MISSIVE_HANDSHAKE_H
#define MISSIVE_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/proto.h"
#include "keydist/envelope.h"
#include "keydist/keys.h"
#include "keydist/record.h"

#define KD_HS_VERSION "3"
#define KD_HS_NONCE_LEN 32
#define KD_X25519_LEN 32
#define KD_HS_MAC_LEN 32
#define KD_HS_LINE_MAX 8192          /* longest handshake line, either way */
#define KD_HS_TRANSCRIPT_MAX (3 * (KD_HS_LINE_MAX + 4))

/* A direction's record key and static IV. */
struct kd_hs_keys {
	uint8_t key[KD_AEAD_KEY_LEN];
	uint8_t iv[KD_AEAD_IV_LEN];
};

enum kd_hs_state {
	KD_HS_START,
	KD_HS_CLIENT_WAIT_HELLO,      /* client sent ClientHello */
	KD_HS_CLIENT_WAIT_FINISHED,   /* client sent KeyExchange + Finished */
	KD_HS_SERVER_WAIT_KEYX,       /* server sent ServerHello */
	KD_HS_SERVER_WAIT_FINISHED,   /* server opened the envelope */
	KD_HS_DONE,
	KD_HS_FAILED,
};

/* Binary sizes bounded by KD_HS_LINE_MAX (base64 is 4/3 of them). */
#define KD_SPKI_MAX 2048

struct kd_hs {
	enum kd_hs_state state;
	int is_server;
	EVP_PKEY *own;                /* our long-term private key (borrowed) */
	const uint8_t *own_spki;      /* server: its DER SPKI (borrowed), or
	                                 NULL to encode it from own */
	size_t own_spki_len;
	EVP_PKEY *pinned;             /* client: pinned server key (borrowed) */
	EVP_PKEY *peer;               /* server: the client's key (owned) */
	EVP_PKEY *eph;                /* our ephemeral X25519 key (owned) */
	uint8_t x_peer[KD_X25519_LEN];        /* the peer's X25519 share */
	uint8_t shared[KD_X25519_LEN];        /* X25519 secret */
	uint8_t th1[32], th2[32];             /* transcript hashes */
	uint8_t transcript[KD_HS_TRANSCRIPT_MAX]; /* m(CH) || m(SH) || m(KX) */
	size_t transcript_len;
	uint8_t fin_c[32], fin_s[32];         /* Finished MAC keys */
	struct kd_hs_keys hs_c2s;             /* protects KeyExchange */
	struct kd_hs_keys c2s, s2c;           /* traffic keys */
	char peer_fp[KD_FP_SIZE];     /* server: the client key's fingerprint;
	                                 client: the key the server presented */
	uint8_t peer_spki[KD_SPKI_MAX];       /* server: the client key's DER */
	size_t peer_spki_len;
};

/*
 * Start a handshake.  own: our private key; pinned: the server key
 * (client).  own_spki: own's DER SPKI (kd_key_to_der()), kept by the
 * caller for the handshake's life, or NULL: a server that makes it once
 * saves OpenSSL 3's encoder on every connection (~8% of its CPU per
 * handshake, bench/README.md).
 */
void kd_hs_client_init(struct kd_hs *hs, EVP_PKEY *own, EVP_PKEY *pinned);
void kd_hs_server_init(struct kd_hs *hs, EVP_PKEY *own,
    const uint8_t *own_spki, size_t own_spki_len);

/* Wipe every secret and free what the handshake owns. */
void kd_hs_clear(struct kd_hs *hs);

/* Client: make the ClientHello line. */
int kd_hs_client_hello(struct kd_hs *hs, char *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));

/*
 * Client: take the ServerHello; make the KeyExchange line (to seal with
 * hs->hs_c2s) and the ClientFinished line (to seal with hs->c2s).
 * E_KEY_MISMATCH if the server presented another key than the pinned one
 * (hs->peer_fp then names it), E_MALFORMED for a bad line.
 */
int kd_hs_client_keyx(struct kd_hs *hs, const char *sh, size_t shlen,
    char *kx, size_t kxcap, size_t *kxlen, char *fin, size_t fincap,
    size_t *finlen) __attribute__((warn_unused_result));

/* Client: check the ServerFinished line (E_MAC_INVALID: not the server). */
int kd_hs_client_finish(struct kd_hs *hs, const char *sf, size_t len)
    __attribute__((warn_unused_result));

/*
 * Server: take the ClientHello, make the ServerHello line; afterwards
 * hs->hs_c2s opens the KeyExchange record.
 */
int kd_hs_server_hello(struct kd_hs *hs, const char *ch, size_t chlen,
    char *out, size_t cap, size_t *len) __attribute__((warn_unused_result));

/*
 * Server (loop): the fingerprint of the client key that a KeyExchange line
 * presents, parsed as kd_hs_server_keyx() parses it but without any RSA
 * work, for the enrolment check before a worker opens it.  E_MALFORMED.
 */
int kd_hs_keyx_fingerprint(const char *kx, size_t len, char fp[KD_FP_SIZE])
    __attribute__((warn_unused_result));

/*
 * Server (worker thread): take the KeyExchange line, verify the client's
 * signature, open the envelope, derive the traffic keys.  hs->peer_fp is
 * the client key's fingerprint, for the enrolment check.  Errors:
 * E_MALFORMED, E_KEY_TYPE, E_SIG_INVALID, E_UNWRAP, E_KEY_LENGTH.
 */
int kd_hs_server_keyx(struct kd_hs *hs, const char *kx, size_t len)
    __attribute__((warn_unused_result));

/*
 * Server: check the ClientFinished line and make the ServerFinished line.
 * E_MAC_INVALID if the client does not hold the traffic keys.
 */
int kd_hs_server_finish(struct kd_hs *hs, const char *cf, size_t cflen,
    char *out, size_t cap, size_t *len) __attribute__((warn_unused_result));

#endif
