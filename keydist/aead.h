/*
 * One-shot AES-256-GCM: a whole message sealed or opened in one call,
 * with a 12-byte nonce and a 16-byte tag that follows the ciphertext:
 *
 *   sealed = ciphertext || tag(16)     (ciphertext as long as plaintext)
 *
 * For sender-key messages and distributions (keydist/senderkey.c) and the
 * history file (client/history.c).  The record layer (keydist/record.c)
 * keeps one context per direction instead and only shares the nonce rule.
 *
 * A key must never seal two messages under one nonce: GCM then loses both
 * confidentiality and integrity.
 */
#ifndef MISSIVE_AEAD_H
#define MISSIVE_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define KD_AEAD_KEY_LEN 32
#define KD_AEAD_IV_LEN 12
#define KD_AEAD_TAG_LEN 16

/*
 * Seal len bytes of plain with aad (aadlen bytes, may be 0) into out,
 * which gets len + KD_AEAD_TAG_LEN bytes.  E_TOO_LONG (len or aadlen
 * above INT_MAX), E_NOMEM, E_CRYPTO; on error out is wiped.
 */
int kd_aead_seal(const uint8_t key[static KD_AEAD_KEY_LEN],
    const uint8_t nonce[static KD_AEAD_IV_LEN], const uint8_t *aad,
    size_t aadlen, const uint8_t *plain, size_t len, uint8_t *out)
    __attribute__((warn_unused_result));

/*
 * Open sealed (ciphertext || tag, sealed_len bytes) with aad into out,
 * which gets sealed_len - KD_AEAD_TAG_LEN bytes.  E_MALFORMED (shorter
 * than a tag), E_TOO_LONG, E_NOMEM, E_CRYPTO, E_MAC_INVALID (the tag does
 * not match: another key, nonce or aad, or altered bytes).  On error out
 * is wiped: no unauthenticated plaintext leaves here.
 */
int kd_aead_open(const uint8_t key[static KD_AEAD_KEY_LEN],
    const uint8_t nonce[static KD_AEAD_IV_LEN], const uint8_t *aad,
    size_t aadlen, const uint8_t *sealed, size_t sealed_len, uint8_t *out)
    __attribute__((warn_unused_result));

/*
 * The nonce of message number counter under a static iv, as in TLS 1.3:
 * nonce = iv XOR (4 zero bytes || uint64_be(counter)).
 */
void kd_aead_nonce(const uint8_t iv[static KD_AEAD_IV_LEN], uint64_t counter,
    uint8_t nonce[static KD_AEAD_IV_LEN]);

#endif
