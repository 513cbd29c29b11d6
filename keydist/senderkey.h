/*
 * Sender keys: end-to-end encryption for rooms (Signal's sender-key shape).
 *
 * Each member makes a sender key for each room it speaks in: a 32-byte
 * chain key (a hash ratchet of AES-256-GCM message keys, Megolm's shape),
 * a random 8-byte id and an Ed25519 signing key pair.  It sends
 * the sender key to every member's enrolled client key in a keydist
 * envelope (RSA-OAEP to the recipient, RSA-PSS by the sender, bound to the
 * room, both parties and the signing key), and then signs every message
 * with the Ed25519 key.  A member holds the chain key of everyone else's
 * sender key, so it could encrypt in their name; it cannot sign in their
 * name, and receivers check the signature before they decrypt.  The server
 * relays envelopes and messages and holds no key that opens them.
 *
 * Message, version 2 (binary; base64 in frames):
 *
 *   id(8) || uint64_be(counter) || ciphertext || tag(16) || sig(64)
 *
 *   mk_i    = HMAC-SHA256(ck_i, 0x01)      the key of message i
 *   ck_i+1  = HMAC-SHA256(ck_i, 0x02)      the chain key after it
 *   nonce   = 0x00000000 || uint64_be(counter)
 *   aad     = "missive e2e v2\n" || m(room) || m(sender) || id || counter
 *   sig     = Ed25519(aad || ciphertext || tag)
 *
 * with m(s) = uint16_be(len(s)) || s.  ck_0 is the distributed chain key;
 * a chain key is erased once the next one is made, so a key taken from a
 * device opens no message sent before it (forward secrecy inside a sender
 * key).  Counters start at 0 and go up by one per message.  A receiver
 * keeps the message keys it skipped over (at most KD_SK_SKIP_MAX, oldest
 * dropped first) so a late message still opens, once; a counter it has
 * neither ahead nor among the skipped keys is E_REPLAY.
 *
 * Distribution, version 2 (one per recipient device):
 *
 *   uint16_be(len(wrapped)) || wrapped || uint16_be(len(sig)) || sig ||
 *   id(8) || ed25519_public(32) || sealed(32 + 16)
 *
 *   transcript = "missive sender key v2\n" || m(room) || m(sender) ||
 *                m(recipient fingerprint) || id || ed25519_public
 *   wrapped, sig: kd_envelope_seal(KD_ENV_SENDER_KEY, recipient, sender,
 *                 transcript) -> K
 *   sealed = AES-256-GCM(K, nonce 0, ck_0, aad = transcript)
 *
 * K is fresh for every envelope, so the zero nonce is never reused.
 */
#ifndef MISSIVE_SENDERKEY_H
#define MISSIVE_SENDERKEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "keydist/aead.h"
#include "keydist/envelope.h"

#define KD_SK_ID_LEN 8
#define KD_ED25519_LEN 32
#define KD_ED25519_SIG_LEN 64
#define KD_SK_LABEL "missive e2e v2\n"
#define KD_SKD_LABEL "missive sender key v2\n"
#define KD_SK_CHAIN_LEN 32
#define KD_SK_SKIP_MAX 1000           /* skipped message keys kept */
/* Bytes a message adds to its plaintext. */
#define KD_SK_OVERHEAD (KD_SK_ID_LEN + 8 + KD_AEAD_TAG_LEN + KD_ED25519_SIG_LEN)
/* Largest distribution blob. */
#define KD_SKD_MAX (2 + KD_RSA_MAX_BYTES + 2 + KD_RSA_MAX_BYTES +          \
	KD_SK_ID_LEN + KD_ED25519_LEN + KD_SK_CHAIN_LEN + KD_AEAD_TAG_LEN)
#define KD_SK_NAME_MAX 255            /* room, user and fingerprint */

/* A message key a receiver skipped over, for a late message. */
struct kd_sk_skipped {
	uint64_t counter;
	uint8_t mk[KD_AEAD_KEY_LEN];
};

struct kd_sender_key {
	uint8_t id[KD_SK_ID_LEN];
	uint8_t ck[KD_SK_CHAIN_LEN]; /* the chain key of counter next */
	uint8_t origin[32];    /* SHA-256(ck_0 || sign_pub): tells a resent
	                          distribution from other key material
	                          under the same id */
	uint8_t sign_pub[KD_ED25519_LEN];
	EVP_PKEY *sign;        /* Ed25519: private for our own, public for
	                          a peer's */
	uint64_t next;         /* ours: next counter; a peer's: the lowest
	                          counter not yet reached */
	struct kd_sk_skipped *skipped; /* a peer's, oldest first */
	size_t nskipped;
};

/* Make a fresh sender key of our own.  E_CRYPTO, E_NOMEM. */
int kd_sk_generate(struct kd_sender_key *sk)
    __attribute__((warn_unused_result));

/* Wipe and free; safe on a zeroed or cleared struct. */
void kd_sk_clear(struct kd_sender_key *sk);

/*
 * Encrypt and sign one message with our sender key for room, as sender.
 * out must hold len + KD_SK_OVERHEAD bytes (E_TOO_LONG).
 */
int kd_sk_seal(struct kd_sender_key *sk, const char *room, const char *sender,
    const uint8_t *plain, size_t len, uint8_t *out, size_t cap,
    size_t *outlen) __attribute__((warn_unused_result));

/* The sender key id a message was made with (E_MALFORMED if too short). */
int kd_sk_message_id(const uint8_t *msg, size_t len,
    uint8_t id[static KD_SK_ID_LEN]) __attribute__((warn_unused_result));

/* Its counter (the message is at least KD_SK_OVERHEAD bytes). */
uint64_t kd_sk_message_counter(const uint8_t *msg);

/* 1 if a and b are the same key as distributed (id, chain key, signer). */
int kd_sk_same(const struct kd_sender_key *a, const struct kd_sender_key *b);

/*
 * Check and decrypt a message from sender in room with its sender key sk.
 * Errors, checked in this order: E_MALFORMED, E_NOT_FOUND (another
 * sender key id), E_SIG_INVALID (not signed by that sender key's owner: a
 * forgery, or another room or sender), E_REPLAY (a counter already
 * opened, or older than the skipped keys kept), E_TOO_LONG (out too
 * small, or KD_SK_SKIP_MAX or more messages skipped), E_MAC_INVALID.
 * On error out is wiped and sk unchanged.
 */
int kd_sk_open(struct kd_sender_key *sk, const char *room, const char *sender,
    const uint8_t *msg, size_t len, uint8_t *out, size_t cap, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Seal our sender key for one recipient device: its enrolled public key
 * and fingerprint, signed with our enrolled private key.  Only a key that
 * has sealed no message yet (E_STATE): receivers start at counter 0.
 */
int kd_sk_distribute(const struct kd_sender_key *sk, EVP_PKEY *own,
    EVP_PKEY *recipient, const char *room, const char *sender,
    const char *recipient_fp, uint8_t *out, size_t cap, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Open a distribution from sender (whose enrolled public key is
 * sender_key) for us (own private key, our fingerprint own_fp): a peer's
 * sender key in *sk, which accepts counters from 0.  Errors as
 * kd_envelope_open(), plus E_MALFORMED and E_MAC_INVALID.
 */
int kd_sk_accept(EVP_PKEY *own, const char *own_fp, EVP_PKEY *sender_key,
    const char *room, const char *sender, const uint8_t *blob, size_t len,
    struct kd_sender_key *sk) __attribute__((warn_unused_result));

/*
 * A peer's sender key as it stands, to keep across a restart (the
 * client's history file): version 1,
 *
 *   0x01 || id(8) || ck(32) || origin(32) || sign_pub(32) ||
 *   uint64_be(next) || uint16_be(n) || n * (uint64_be(counter) || mk(32))
 *
 * ck is the chain key of counter next (the earlier ones are gone, so the
 * saved key opens nothing before it but the n skipped keys, oldest
 * first).  Appended to out: E_NOMEM.
 */
#define KD_SK_SAVED_VERSION 1
#define KD_SK_SAVED_HEAD (1 + KD_SK_ID_LEN + KD_SK_CHAIN_LEN + 32 +       \
	KD_ED25519_LEN + 8 + 2)
#define KD_SK_SAVED_SKIP (8 + KD_AEAD_KEY_LEN)
#define KD_SK_SAVED_MAX (KD_SK_SAVED_HEAD + KD_SK_SKIP_MAX * KD_SK_SAVED_SKIP)
int kd_sk_peer_save(const struct kd_sender_key *sk, struct buf *out)
    __attribute__((warn_unused_result));

/*
 * The peer sender key saved in blob (len bytes, exactly one) into *sk,
 * which verifies signatures only.  E_MALFORMED (another version, a bad
 * length, more than KD_SK_SKIP_MAX skipped keys or ones not below next
 * and in order, a bad public key), E_NOMEM; on error *sk is cleared.
 */
int kd_sk_peer_load(const uint8_t *blob, size_t len, struct kd_sender_key *sk)
    __attribute__((warn_unused_result));

#endif
