/*
 * Fuzz common/b64.c.  The input is used twice:
 *   - as text for b64_decode(): what decodes must be canonical (encoding
 *     the bytes gives the text back), within B64_DECODED_MAX, and decoding
 *     into a buffer one byte too small must say E_TOO_LONG, and the
 *     relay's check b64_canonical() must agree with it on every input;
 *   - as bytes for b64_encode(), padded and unpadded: exactly the length
 *     B64_ENCODED_SIZE promises (one byte less is E_TOO_LONG), and decoding
 *     gives the bytes back.
 * Buffers are heap copies of exactly the size in question, so ASan sees a
 * byte read or written past them.
 */
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/err.h"
#include "tests/fuzz/util.h"

static void
check_decode(const char *text, size_t len)
{
	size_t cap = B64_DECODED_MAX(len);
	uint8_t *bin = fuzz_malloc(cap), *small;
	char *enc;
	long n, m;

	n = b64_decode(text, len, bin, cap);
	FUZZ_CHECK(n == E_MALFORMED || (n >= 0 && (size_t)n <= cap));
	FUZZ_CHECK(b64_canonical(text, len, 0, len) == (n >= 0));
	if (n < 0) {
		free(bin);
		return;
	}
	/* Canonical: one encoding per byte string. */
	enc = fuzz_malloc(B64_ENCODED_SIZE((size_t)n));
	m = b64_encode(bin, (size_t)n, enc, B64_ENCODED_SIZE((size_t)n), 1);
	FUZZ_CHECK(m >= 0 && (size_t)m == len && memcmp(enc, text, len) == 0);
	/* Exactly n bytes of room is enough, one less is not. */
	small = fuzz_malloc((size_t)n);
	FUZZ_CHECK(b64_decode(text, len, small, (size_t)n) == n);
	FUZZ_CHECK(memcmp(small, bin, (size_t)n) == 0);
	if (n > 0)
		FUZZ_CHECK(b64_decode(text, len, small, (size_t)n - 1) ==
		    E_TOO_LONG);
	free(small);
	free(enc);
	free(bin);
}

static void
check_encode(const uint8_t *data, size_t len, int pad)
{
	size_t want = pad ? B64_ENCODED_SIZE(len) - 1 :
	    (len * 4 + 2) / 3;
	char *enc = fuzz_malloc(want + 1), *padded;
	uint8_t *bin;
	size_t i;
	long n;

	n = b64_encode(data, len, enc, want + 1, pad);
	FUZZ_CHECK(n >= 0 && (size_t)n == want && enc[want] == '\0');
	for (i = 0; i < want; i++)
		FUZZ_CHECK(enc[i] != '=' || (pad && i + 2 >= want));
	FUZZ_CHECK(b64_encode(data, len, enc, want, pad) == E_TOO_LONG);
	/* Put the padding back (if left out) and decode. */
	padded = fuzz_malloc(B64_ENCODED_SIZE(len));
	n = b64_encode(data, len, padded, B64_ENCODED_SIZE(len), pad);
	FUZZ_CHECK(n >= 0);
	while ((size_t)n % 4 != 0)
		padded[n++] = '=';
	bin = fuzz_malloc(len);
	FUZZ_CHECK(b64_decode(padded, (size_t)n, bin, len) == (long)len);
	FUZZ_CHECK(len == 0 || memcmp(bin, data, len) == 0);
	free(bin);
	free(padded);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_malloc(size);
	uint8_t *bytes = fuzz_malloc(size);

	memcpy(text, data, size);
	memcpy(bytes, data, size);
	check_decode(text, size);
	check_encode(bytes, size, 1);
	check_encode(bytes, size, 0);
	free(bytes);
	free(text);
	return 0;
}
