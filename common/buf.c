#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/err.h"

#define BUF_MIN_CAP 4096

int
buf_reserve(struct buf *b, size_t n)
{
	size_t want, cap;
	uint8_t *p;

	if (b->cap - b->len >= n)
		return 0;
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= n)
			return 0;
	}
	if (n > SIZE_MAX / 2 - b->len)
		return E_NOMEM;
	want = b->len + n;
	cap = b->cap ? b->cap : BUF_MIN_CAP;
	while (cap < want)
		cap *= 2;
	/* Not realloc: the old block may hold plaintext and must be wiped. */
	if ((p = malloc(cap)) == NULL)
		return E_NOMEM;
	if (b->p != NULL) {
		memcpy(p, b->p, b->len);
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

int
buf_append(struct buf *b, const void *data, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = buf_reserve(b, n)) != 0)
		return r;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

void
buf_shrink(struct buf *b)
{
	if (b->off == b->len && b->p != NULL)
		buf_free(b);
}

void
buf_free(struct buf *b)
{
	if (b->p != NULL) {
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->off = b->len = b->cap = 0;
}

void
buf_truncate(struct buf *b, size_t size)
{
	if (size >= buf_size(b))
		return;
	OPENSSL_cleanse(b->p + b->off + size, buf_size(b) - size);
	b->len = b->off + size;
}
