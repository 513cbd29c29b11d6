/*
 * Standard base64 (RFC 4648 section 4), strict: the decoder accepts only
 * canonical input (no whitespace, correct padding, zero trailing bits), so
 * that one byte string has exactly one encoding on the wire.
 */
#ifndef MISSIVE_B64_H
#define MISSIVE_B64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode len bytes with padding, including the NUL. */
#define B64_ENCODED_SIZE(len) ((((len) + 2) / 3) * 4 + 1)
/* Upper bound of the bytes decoded from len characters. */
#define B64_DECODED_MAX(len) (((len) / 4) * 3 + 3)

/*
 * Encode src into dst (NUL-terminated).  With pad == 0 the trailing '='
 * are left out (as in SSH fingerprints).  Returns the length written
 * without the NUL, or E_TOO_LONG if dstlen is too small.
 */
long b64_encode(const uint8_t *src, size_t len, char *dst, size_t dstlen,
    int pad) __attribute__((warn_unused_result));

/*
 * Decode exactly srclen characters of padded base64 into dst.  Returns the
 * number of bytes decoded, E_MALFORMED for anything non-canonical, or
 * E_TOO_LONG if dstlen is too small.
 */
long b64_decode(const char *src, size_t srclen, uint8_t *dst, size_t dstlen)
    __attribute__((warn_unused_result));

/* The 6-bit value of the base64 character c, or -1 if it is not one. */
int b64_value(char c);

/*
 * 1 if s[0..len) is canonical padded base64 of min to max characters,
 * exactly what b64_decode() accepts: the alphabet, at most two '=' at the
 * end, a multiple of 4 long, and zero in the bits of the last character
 * that no byte uses ("QQ==", never "QR==").  A relay's check of what it
 * cannot open, without decoding it.
 */
int b64_canonical(const char *s, size_t len, size_t min, size_t max);

#endif
