#include "keydist/channel.h"

#include <string.h>

#include "common/err.h"

/* Length of the longest prefix of whole frames of at most max bytes. */
static size_t
whole_frames(const uint8_t *p, size_t n, size_t max)
{
	size_t i = n < max ? n : max;

	while (i > 0 && p[i - 1] != '\n')
		i--;
	return i;
}

int
kd_chan_seal(struct kd_record_dir *tx, struct buf *plain, struct buf *out,
    size_t max_plain)
{
	size_t n, sealed;
	int r;

	if (buf_size(plain) > 0 && buf_data(plain)[buf_size(plain) - 1] != '\n')
		return E_MALFORMED;
	while ((n = buf_size(plain)) > 0) {
		if ((n = whole_frames(buf_data(plain), n, max_plain)) == 0)
			return E_TOO_LONG;
		if ((r = buf_reserve(out, n + KD_RECORD_OVERHEAD)) != 0)
			return r;
		if ((r = kd_record_seal(tx, buf_data(plain), n, buf_tail(out),
		    n + KD_RECORD_OVERHEAD, &sealed)) != 0)
			return r;
		buf_commit(out, sealed);
		buf_consume(plain, n);
	}
	return 0;
}

int
kd_chan_open(struct kd_record_dir *rx, struct buf *in, size_t max_plain,
    char **frames, size_t *len, size_t *reclen)
{
	uint8_t *rec = buf_data(in);
	size_t n;
	int r;

	if ((r = kd_record_peek(rec, buf_size(in), max_plain, reclen)) != 0)
		return r;
	if ((r = kd_record_open(rx, rec, *reclen, rec + KD_RECORD_HDR_LEN,
	    *reclen - KD_RECORD_HDR_LEN, &n)) != 0)
		return r;
	if (n == 0 || rec[KD_RECORD_HDR_LEN + n - 1] != '\n')
		return E_MALFORMED;
	*frames = (char *)rec + KD_RECORD_HDR_LEN;
	*len = n;
	return 0;
}

int
kd_chan_next_frame(char **p, size_t *left, char **frame, size_t *framelen)
{
	char *nl;

	if (*left == 0)
		return 0;
	/* kd_chan_open() checked that the plaintext ends in LF. */
	nl = memchr(*p, '\n', *left);
	if (nl == NULL || nl == *p)
		return E_MALFORMED;
	*frame = *p;
	*framelen = (size_t)(nl - *p);
	*left -= *framelen + 1;
	*p = nl + 1;
	return 1;
}
