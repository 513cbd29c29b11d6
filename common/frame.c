#include "common/frame.h"

#include <string.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/err.h"

int
frame_opcode(const char *line, size_t len, unsigned *opcode)
{
	unsigned v = 0;
	size_t i;

	if (len < FRAME_OPCODE_LEN ||
	    (len > FRAME_OPCODE_LEN && line[FRAME_OPCODE_LEN] != '|'))
		return E_MALFORMED;
	for (i = 0; i < FRAME_OPCODE_LEN; i++) {
		if (line[i] < '0' || line[i] > '9')
			return E_MALFORMED;
		v = v * 10 + (unsigned)(line[i] - '0');
	}
	*opcode = v;
	return 0;
}

int
frame_parse(const char *line, size_t len, size_t min, size_t max,
    struct frame *f)
{
	size_t pos, n = 0;
	int r;

	if (max > FRAME_MAX_FIELDS || min > max)
		return E_INVALID;
	if ((r = frame_opcode(line, len, &f->opcode)) != 0)
		return r;
	if (memchr(line, '\0', len) != NULL || memchr(line, '\n', len) ||
	    memchr(line, '\r', len) != NULL)
		return E_MALFORMED;
	pos = FRAME_OPCODE_LEN;
	while (pos < len && n < max) {
		const char *start = line + pos + 1;  /* skip the '|' */
		size_t left = len - pos - 1;
		const char *bar = n + 1 < max ? memchr(start, '|', left) : NULL;
		size_t flen = bar ? (size_t)(bar - start) : left;

		f->field[n].p = start;
		f->field[n].len = flen;
		n++;
		pos += 1 + flen;
	}
	if (pos < len || n < min)
		return E_MALFORMED;
	f->nfields = n;
	return 0;
}

int
frame_build(char *out, size_t cap, size_t *len, unsigned opcode,
    const struct frame_field *fields, size_t nfields)
{
	size_t i, o;

	if (opcode > 9999)
		return E_INVALID;
	if (cap < FRAME_OPCODE_LEN + 1)
		return E_TOO_LONG;
	out[0] = (char)('0' + opcode / 1000);
	out[1] = (char)('0' + opcode / 100 % 10);
	out[2] = (char)('0' + opcode / 10 % 10);
	out[3] = (char)('0' + opcode % 10);
	o = FRAME_OPCODE_LEN;
	for (i = 0; i < nfields; i++) {
		const struct frame_field *fl = &fields[i];

		if (memchr(fl->p, '\n', fl->len) || memchr(fl->p, '\r', fl->len) ||
		    memchr(fl->p, '\0', fl->len) ||
		    (i + 1 < nfields && memchr(fl->p, '|', fl->len)))
			return E_MALFORMED;
		if (cap - o < fl->len + 2)
			return E_TOO_LONG;
		out[o++] = '|';
		memcpy(out + o, fl->p, fl->len);
		o += fl->len;
	}
	out[o] = '\0';
	*len = o;
	return 0;
}

size_t
frame_build_size(const struct frame_field *fields, size_t nfields)
{
	size_t i, need = FRAME_OPCODE_LEN + 1;

	for (i = 0; i < nfields; i++)
		need += 1 + fields[i].len;
	return need;
}

int
frame_field_b64_var(const struct frame_field *f, uint8_t *out, size_t cap,
    size_t *len)
{
	long n = b64_decode(f->p, f->len, out, cap);

	if (n < 0)
		return (int)n;
	*len = (size_t)n;
	return 0;
}

int
frame_field_b64(const struct frame_field *f, uint8_t *out, size_t want)
{
	size_t got = 0;
	int r;

	if (f->len != B64_ENCODED_SIZE(want) - 1)
		return E_MALFORMED;
	if ((r = frame_field_b64_var(f, out, want, &got)) != 0)
		return r == E_TOO_LONG ? E_MALFORMED : r;
	return got == want ? 0 : E_MALFORMED;
}

int
frame_field_is(const struct frame_field *f, const char *s)
{
	return f->len == strlen(s) && memcmp(f->p, s, f->len) == 0;
}

int
frame_put(struct buf *b, unsigned opcode, const struct frame_field *f,
    size_t n)
{
	size_t need = frame_build_size(f, n), len;
	int r;

	/* frame_build() ends the frame with a NUL where the LF goes. */
	if ((r = buf_reserve(b, need)) != 0 ||
	    (r = frame_build((char *)buf_tail(b), need, &len, opcode, f,
	    n)) != 0)
		return r;
	buf_tail(b)[len] = '\n';
	buf_commit(b, len + 1);
	return 0;
}
