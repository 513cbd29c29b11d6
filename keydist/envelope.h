/*
 * The digital envelope: a random 32-byte session key, sealed for one
 * recipient with RSA-OAEP (SHA-256, MGF1-SHA-256) and signed by the sender
 * with RSA-PSS (SHA-256, salt length 32) over
 *
 *   label || uint16_be(len(wrapped)) || wrapped || transcript
 *
 * where the label names the use of the RSA key (version 2: one label per
 * use, so a signature made for one can never pass as another):
 * "missive envelope v2 handshake\n" for the handshake's KeyExchange (both
 * directions), "missive envelope v2 sender key\n" for a sender key's
 * distribution.
 *
 * where the transcript is whatever the caller binds to the envelope (the
 * handshake messages, the room and sender, ...).  Opening verifies the
 * signature first and only then decrypts, and fails closed with a distinct
 * error for each cause.  Both halves are standard enough for `openssl
 * pkeyutl -decrypt -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256`
 * and `openssl dgst -sha256 -sigopt rsa_padding_mode:pss -verify`.
 */
#ifndef MISSIVE_ENVELOPE_H
#define MISSIVE_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "keydist/keys.h"

#define KD_SESSION_KEY_LEN 32
#define KD_ENVELOPE_LABEL_HANDSHAKE "missive envelope v2 handshake\n"
#define KD_ENVELOPE_LABEL_SENDER_KEY "missive envelope v2 sender key\n"
#define KD_PSS_SALT_LEN 32

/* What an envelope is for: picks its label. */
enum kd_envelope_use {
	KD_ENV_HANDSHAKE,
	KD_ENV_SENDER_KEY,
};

struct kd_envelope {
	uint8_t wrapped[KD_RSA_MAX_BYTES];  /* OAEP ciphertext of the key */
	size_t wrapped_len;                 /* = recipient modulus bytes */
	uint8_t sig[KD_RSA_MAX_BYTES];      /* PSS signature, see above */
	size_t sig_len;                     /* = sender modulus bytes */
};

/*
 * Make a fresh session key, return it in key, and seal it for recipient
 * (public key) signed by sender (private key) under use's label, bound to
 * transcript.
 */
int kd_envelope_seal(enum kd_envelope_use use, EVP_PKEY *recipient,
    EVP_PKEY *sender, const uint8_t *transcript, size_t transcript_len,
    uint8_t key[static KD_SESSION_KEY_LEN], struct kd_envelope *env)
    __attribute__((warn_unused_result));

/*
 * Verify env's signature by sender (public key) over the envelope and
 * transcript, then open it with recipient (private key).  Returns 0 and the
 * key, or: E_SIG_INVALID (signature, transcript or envelope altered, or
 * another sender), E_UNWRAP (not sealed for this recipient),
 * E_KEY_LENGTH (a key that is not KD_SESSION_KEY_LEN bytes),
 * E_MALFORMED (sizes that do not match the keys), E_KEY_TYPE.
 * On failure key is zeroed.
 */
int kd_envelope_open(enum kd_envelope_use use, EVP_PKEY *recipient,
    EVP_PKEY *sender, const uint8_t *transcript, size_t transcript_len,
    const struct kd_envelope *env, uint8_t key[static KD_SESSION_KEY_LEN])
    __attribute__((warn_unused_result));

/* RSA-PSS-SHA256 signature of msg by key (sig holds KD_RSA_MAX_BYTES). */
int kd_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t *sig,
    size_t *siglen) __attribute__((warn_unused_result));
/* 0 if sig is key's RSA-PSS-SHA256 signature of msg, else E_SIG_INVALID. */
int kd_verify(EVP_PKEY *key, const uint8_t *msg, size_t len,
    const uint8_t *sig, size_t siglen) __attribute__((warn_unused_result));

#endif
