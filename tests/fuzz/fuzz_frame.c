/*
 * Fuzz common/frame.c: frame_opcode(), frame_parse(), frame_build(),
 * frame_build_size() and the base64 field helpers.
 *
 * Input: byte 0 is max and byte 1 min (each mod 18: 17 is out of range),
 * the rest is the line.  Checked, besides "no crash":
 *   - frame_opcode() and frame_parse() agree with a plain reading of the
 *     line (four digits, '|' or the end, fields counted by '|');
 *   - a line that parses builds back, from its fields, into the same line
 *     in exactly frame_build_size() bytes, and one byte less is too little;
 *   - a field that decodes as base64 encodes back to itself;
 *   - the line cut at '|' into fields builds into a frame that parses back
 *     into the same fields (or is refused for a CR, LF or NUL).
 */
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/err.h"
#include "common/frame.h"
#include "tests/fuzz/util.h"

#define NMAX (FRAME_MAX_FIELDS + 2)

/* What frame_opcode() should say. */
static int
ref_opcode(const char *line, size_t len, unsigned *op)
{
	size_t i;

	*op = 0;
	if (len < FRAME_OPCODE_LEN ||
	    (len > FRAME_OPCODE_LEN && line[FRAME_OPCODE_LEN] != '|'))
		return E_MALFORMED;
	for (i = 0; i < FRAME_OPCODE_LEN; i++) {
		if (line[i] < '0' || line[i] > '9')
			return E_MALFORMED;
		*op = *op * 10 + (unsigned)(line[i] - '0');
	}
	return 0;
}

/* What frame_parse() should say, and how many fields. */
static int
ref_parse(const char *line, size_t len, size_t min, size_t max, size_t *n)
{
	size_t i, bars = 0;
	unsigned op;

	*n = 0;
	if (max > FRAME_MAX_FIELDS || min > max)
		return E_INVALID;
	if (ref_opcode(line, len, &op) != 0 ||
	    memchr(line, '\0', len) != NULL || memchr(line, '\r', len) ||
	    memchr(line, '\n', len) != NULL)
		return E_MALFORMED;
	if (len > FRAME_OPCODE_LEN) {
		if (max == 0)
			return E_MALFORMED;
		for (i = FRAME_OPCODE_LEN; i < len; i++)
			bars += line[i] == '|';
		*n = bars < max ? bars : max;
	}
	return *n >= min ? 0 : E_MALFORMED;
}

/* A parsed field that is base64 must be the only encoding of its bytes. */
static void
check_b64_field(const struct frame_field *fl)
{
	size_t cap = B64_DECODED_MAX(fl->len), got = 0;
	uint8_t *bin, *again;
	char *enc;
	long n;

	if ((bin = malloc(cap)) == NULL || (again = malloc(cap)) == NULL)
		abort();
	if (frame_field_b64_var(fl, bin, cap, &got) == 0) {
		if ((enc = malloc(B64_ENCODED_SIZE(got))) == NULL)
			abort();
		n = b64_encode(bin, got, enc, B64_ENCODED_SIZE(got), 1);
		FUZZ_CHECK(n >= 0 && (size_t)n == fl->len);
		FUZZ_CHECK(memcmp(enc, fl->p, fl->len) == 0);
		FUZZ_CHECK(frame_field_b64(fl, again, got) == 0);
		FUZZ_CHECK(memcmp(again, bin, got) == 0);
		free(enc);
	}
	free(again);
	free(bin);
}

/* A frame that parsed builds back into the same line. */
static void
check_rebuild(const char *line, size_t len, const struct frame *f)
{
	size_t need = frame_build_size(f->field, f->nfields), blen = 0, i;
	char *out;

	FUZZ_CHECK(need == len + 1);
	if ((out = malloc(need)) == NULL)
		abort();
	FUZZ_CHECK(frame_build(out, need, &blen, f->opcode, f->field,
	    f->nfields) == 0);
	FUZZ_CHECK(blen == len && memcmp(out, line, len) == 0);
	FUZZ_CHECK(out[len] == '\0');
	FUZZ_CHECK(frame_build(out, need - 1, &blen, f->opcode, f->field,
	    f->nfields) == E_TOO_LONG);
	free(out);
	for (i = 0; i < f->nfields; i++) {
		char *s = strndup(f->field[i].p, f->field[i].len);

		if (s == NULL)
			abort();
		FUZZ_CHECK(frame_field_is(&f->field[i], s));
		free(s);
		check_b64_field(&f->field[i]);
	}
}

/* Cut data at '|' into fields, build a frame of them, parse it back. */
static void
check_build(unsigned opcode, const char *data, size_t len)
{
	struct frame_field fl[FRAME_MAX_FIELDS];
	struct frame f;
	size_t n = 0, pos = 0, need, blen = 0, i;
	const char *bar;
	char *out;
	int r, bad = 0;

	while (pos <= len && n < FRAME_MAX_FIELDS) {
		bar = n + 1 < FRAME_MAX_FIELDS ?
		    memchr(data + pos, '|', len - pos) : NULL;
		fl[n].p = data + pos;
		fl[n].len = bar != NULL ? (size_t)(bar - (data + pos)) :
		    len - pos;
		pos += fl[n].len + 1;
		n++;
	}
	for (i = 0; i < n; i++)
		bad |= memchr(fl[i].p, '\0', fl[i].len) != NULL ||
		    memchr(fl[i].p, '\r', fl[i].len) != NULL ||
		    memchr(fl[i].p, '\n', fl[i].len) != NULL;
	need = frame_build_size(fl, n);
	if ((out = malloc(need)) == NULL)
		abort();
	r = frame_build(out, need, &blen, opcode, fl, n);
	FUZZ_CHECK(r == (bad ? E_MALFORMED : 0));
	if (r == 0) {
		FUZZ_CHECK(blen + 1 == need);
		FUZZ_CHECK(frame_parse(out, blen, n, n, &f) == 0);
		FUZZ_CHECK(f.opcode == opcode && f.nfields == n);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(f.field[i].len == fl[i].len &&
			    memcmp(f.field[i].p, fl[i].p, fl[i].len) == 0);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned b0 = fuzz_u8(&in), b1 = fuzz_u8(&in), op = 0, refop;
	size_t max = b0 % NMAX, min = b1 % NMAX, n, i;
	struct frame f;
	char *line;
	int r, want;

	/* A copy of exactly the line's size: ASan sees any read past it. */
	if ((line = malloc(in.left + 1)) == NULL)
		abort();
	memcpy(line, in.p, in.left);
	r = frame_opcode(line, in.left, &op);
	want = ref_opcode(line, in.left, &refop);
	FUZZ_CHECK(r == want && (r != 0 || op == refop));

	memset(&f, 0xa5, sizeof(f));
	r = frame_parse(line, in.left, min, max, &f);
	want = ref_parse(line, in.left, min, max, &n);
	FUZZ_CHECK(r == want);
	if (r == 0) {
		FUZZ_CHECK(f.nfields == n && f.opcode == refop);
		for (i = 0; i < f.nfields; i++)
			FUZZ_CHECK(f.field[i].p > line && f.field[i].p[-1] ==
			    '|' && f.field[i].p + f.field[i].len <=
			    line + in.left);
		check_rebuild(line, in.left, &f);
	}
	check_build((b0 << 8 | b1) % 10000, line, in.left);
	free(line);
	return 0;
}
