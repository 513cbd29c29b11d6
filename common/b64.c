#include "common/b64.h"

#include "common/err.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long
b64_encode(const uint8_t *src, size_t len, char *dst, size_t dstlen, int pad)
{
	size_t i, o = 0, tail = len % 3;
	size_t need = len / 3 * 4 + (tail == 0 ? 0 : pad ? 4 : tail + 1) + 1;

	if (dstlen < need)
		return E_TOO_LONG;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 |
		    src[i + 2];
		dst[o++] = alphabet[v >> 18 & 63];
		dst[o++] = alphabet[v >> 12 & 63];
		dst[o++] = alphabet[v >> 6 & 63];
		dst[o++] = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)src[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)src[i + 1] << 8;
		dst[o++] = alphabet[v >> 18 & 63];
		dst[o++] = alphabet[v >> 12 & 63];
		if (i + 1 < len)
			dst[o++] = alphabet[v >> 6 & 63];
		else if (pad)
			dst[o++] = '=';
		if (pad)
			dst[o++] = '=';
	}
	dst[o] = '\0';
	return (long)o;
}

int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
b64_decode(const char *src, size_t srclen, uint8_t *dst, size_t dstlen)
{
	size_t i, o = 0, npad = 0;

	if (srclen % 4 != 0)
		return E_MALFORMED;
	if (srclen > 0 && src[srclen - 1] == '=')
		npad = (srclen > 1 && src[srclen - 2] == '=') ? 2 : 1;
	if (srclen / 4 * 3 - npad > dstlen)
		return E_TOO_LONG;
	for (i = 0; i < srclen; i += 4) {
		int last = (i + 4 == srclen);
		int v[4], k, n = (last ? 4 - (int)npad : 4);
		uint32_t w = 0;

		for (k = 0; k < 4; k++) {
			v[k] = (k < n) ? b64_value(src[i + k]) : 0;
			if (v[k] < 0)
				return E_MALFORMED;
			w = w << 6 | (uint32_t)v[k];
		}
		dst[o++] = (uint8_t)(w >> 16);
		if (n > 2)
			dst[o++] = (uint8_t)(w >> 8);
		if (n > 3)
			dst[o++] = (uint8_t)w;
		/* Canonical form: bits below the last full byte are zero. */
		if ((n == 2 && (w & 0xffff) != 0) || (n == 3 && (w & 0xff) != 0))
			return E_MALFORMED;
	}
	return (long)o;
}

int
b64_canonical(const char *s, size_t len, size_t min, size_t max)
{
	size_t i, pad = 0;
	int last;

	if (len < min || len > max || len % 4 != 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '=')
			pad++;
		else if (pad > 0 || b64_value(s[i]) < 0)
			return 0;
	}
	if (pad == 0)
		return 1;
	if (pad > 2)
		return 0;
	/* The bits of the last character that no byte uses must be 0. */
	last = b64_value(s[len - pad - 1]);
	return (last & (pad == 1 ? 0x03 : 0x0f)) == 0;
}
