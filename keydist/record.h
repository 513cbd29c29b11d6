/*
 * The record layer: after the handshake every byte of a connection travels
 * in AES-256-GCM records, one independent state per direction.
 *
 *   record = uint32_be(body_len) || ciphertext || tag(16)
 *   body_len = len(ciphertext) + 16        (plaintext may be empty)
 *
 * The 4 header bytes are the additional authenticated data.  The 12-byte
 * nonce is the direction's static IV XOR (4 zero bytes || uint64_be(seq)),
 * as in TLS 1.3.  seq starts at 0, goes up by one per record, is never sent,
 * never resets and never wraps: a direction whose seq reached UINT64_MAX
 * refuses with E_SEQ_EXHAUSTED and the connection must be closed.  Because
 * both ends count, a replayed, reordered, dropped, truncated or altered
 * record fails authentication.
 *
 * Keys rotate without signalling: after every rekey_interval records (when
 * the next seq is a non-zero multiple of rekey_interval) the direction's key
 * becomes HKDF-SHA256(salt none, ikm = old key, info = "missive v1 rekey",
 * 32 bytes) and the old key is wiped; IV and seq continue.  Both ends must
 * be initialised with the same interval.
 *
 * A direction that has failed to open a record is dead: every later call
 * returns the same error (a connection with one bad record is closed).
 * Opening never hands out unauthenticated plaintext: on any failure the
 * whole output buffer is wiped.
 *
 * Never initialise two sealing directions with the same key and IV: GCM
 * with a repeated nonce loses both confidentiality and integrity.  The
 * handshake derives a distinct key and IV per direction and per session.
 *
 * A direction is not thread-safe; one thread at a time per direction.
 */
#ifndef MISSIVE_RECORD_H
#define MISSIVE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "keydist/aead.h"

#define KD_RECORD_HDR_LEN 4
#define KD_RECORD_OVERHEAD (KD_RECORD_HDR_LEN + KD_AEAD_TAG_LEN)
/* Largest plaintext a record can carry (body_len is a uint32). */
#define KD_RECORD_MAX_PLAIN ((size_t)UINT32_MAX - KD_AEAD_TAG_LEN)
/* HKDF info string for key rotation (without a terminating NUL). */
#define KD_RECORD_REKEY_INFO "missive v1 rekey"
/*
 * A suggested rekey_interval: 2^16 records per key keeps even 1 MiB
 * records far below GCM's per-key data limits, and an HKDF every 65536
 * records costs nothing measurable.
 */
#define KD_RECORD_REKEY_DEFAULT ((uint64_t)1 << 16)

/*
 * One direction of a connection.  Callers may embed it; treat the fields as
 * private (tests read and poke them).  An all-zero struct is a valid
 * "cleared" direction: seal/open refuse it with E_INVALID.
 */
struct kd_record_dir {
	EVP_CIPHER_CTX *ctx;           /* AES-256-GCM, keyed; IV per record */
	uint8_t key[KD_AEAD_KEY_LEN];  /* current key; ikm of the next one */
	uint8_t iv[KD_AEAD_IV_LEN];    /* static IV, XORed with seq */
	uint64_t seq;                  /* sequence number of the next record */
	uint64_t rekey_interval;       /* new key every this many records */
	int sealing;                   /* 1 seals (send), 0 opens (receive) */
	int err;                       /* 0, or the sticky error once dead */
	int parked;                    /* ctx freed while idle (see below) */
};

/*
 * Set up d for one direction: key and IV from the handshake, rekey_interval
 * >= 1 (else E_INVALID), sealing 1 for the sending side and 0 for the
 * receiving side.  d is overwritten without being freed: clear a direction
 * before initialising it again.  Returns 0, E_INVALID, E_NOMEM or E_CRYPTO;
 * on failure d is left cleared.
 */
int kd_record_init(struct kd_record_dir *d,
    const uint8_t key[static KD_AEAD_KEY_LEN],
    const uint8_t iv[static KD_AEAD_IV_LEN], uint64_t rekey_interval,
    int sealing) __attribute__((warn_unused_result));

/*
 * Wipe the key and IV and free the cipher context.  Safe to call twice and
 * on an all-zero struct; afterwards d is all zero.
 */
void kd_record_clear(struct kd_record_dir *d);

/*
 * Free d's cipher context (about 1.2 KiB, with the key schedule) while
 * the direction is idle; the next seal or open makes it again from the
 * current key, which d keeps anyway for the next rekey.  The server parks
 * idle connections' directions: two contexts were half of what an idle
 * connection cost it (bench/README.md).
 */
void kd_record_park(struct kd_record_dir *d);

/* Whether d was initialised and is not cleared (parked or not). */
int kd_record_keyed(const struct kd_record_dir *d);

/*
 * Seal len bytes of plain into one record written to out:
 * header || ciphertext || tag, *outlen = len + KD_RECORD_OVERHEAD.
 * plain may be NULL when len is 0.  In place is allowed with plain ==
 * out + KD_RECORD_HDR_LEN exactly; any other overlap is E_INVALID.
 *
 * Errors that leave d untouched (nothing written, seq unchanged, d still
 * usable): E_INVALID (NULL arguments, a receiving or cleared direction,
 * overlapping buffers), E_TOO_LONG (len > KD_RECORD_MAX_PLAIN, or outcap <
 * len + KD_RECORD_OVERHEAD).  Errors that kill d (every later call returns
 * the same): E_SEQ_EXHAUSTED, E_CRYPTO.  On any error *outlen is 0 and out
 * holds no partial record.
 */
int kd_record_seal(struct kd_record_dir *d, const uint8_t *plain, size_t len,
    uint8_t *out, size_t outcap, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Measure the record at the start of buf, given the avail bytes received so
 * far.  Returns:
 *   E_INCOMPLETE  fewer than KD_RECORD_HDR_LEN bytes, or fewer than the
 *                 whole record: read more and call again;
 *   E_TOO_LONG    body_len > max_plain + KD_AEAD_TAG_LEN, decided as soon
 *                 as the header is there, before the body is buffered;
 *   E_MALFORMED   body_len < KD_AEAD_TAG_LEN;
 *   0             *reclen = KD_RECORD_HDR_LEN + body_len <= avail; bytes
 *                 past *reclen belong to the next record.
 * *reclen is always written: the full record length on 0, and also on
 * E_INCOMPLETE once the header is known (how much to wait for); else 0.
 * E_TOO_LONG and E_MALFORMED mean the peer is broken: close.  peek does not
 * authenticate anything and changes no state.
 */
int kd_record_peek(const uint8_t *buf, size_t avail, size_t max_plain,
    size_t *reclen) __attribute__((warn_unused_result));

/*
 * Open one whole record rec of reclen bytes (as kd_record_peek measured it)
 * into out: *outlen = reclen - KD_RECORD_OVERHEAD bytes of authenticated
 * plaintext.  In place is allowed with out == rec + KD_RECORD_HDR_LEN
 * exactly; any other overlap of out with the ciphertext is E_INVALID.
 *
 * Returns 0, or: E_MAC_INVALID (altered, replayed, reordered, truncated or
 * foreign record), E_MALFORMED (reclen < KD_RECORD_OVERHEAD, or a header
 * that disagrees with reclen), E_TOO_LONG (outcap < reclen -
 * KD_RECORD_OVERHEAD), E_INVALID (NULL arguments, overlap),
 * E_SEQ_EXHAUSTED, E_CRYPTO.  Every error wipes out[0 .. outcap) (when out
 * is not NULL), sets *outlen to 0 and kills d: later calls return the same
 * error, even for a valid record.  The one exception is E_INVALID for a
 * sealing or cleared d, which is wiped-and-refused but leaves d unchanged.
 */
int kd_record_open(struct kd_record_dir *d, const uint8_t *rec, size_t reclen,
    uint8_t *out, size_t outcap, size_t *outlen)
    __attribute__((warn_unused_result));

/* The sequence number of d's next record, for logs and tests. */
uint64_t kd_record_seq(const struct kd_record_dir *d);

#endif
