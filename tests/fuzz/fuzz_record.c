/*
 * Fuzz the record layer (keydist/record.c) and frames over records
 * (keydist/channel.c) with one fixed key and IV.  Byte 0 picks the mode:
 *
 *   0 open: bytes 1-2 pick the rekey interval and max_plain, the rest is
 *     what "the peer" sent.  kd_chan_open() and kd_chan_next_frame() walk
 *     it record by record; kd_record_open() also gets it whole, into a
 *     buffer of its own.  Arbitrary bytes never authenticate, but the seeds
 *     are records sealed with the fixed key, so mutations of them reach
 *     the frame walk.  Checked: a failed open wipes the output, kills the
 *     direction (the same error again) and hands out nothing; a record that
 *     opens holds whole frames within max_plain.
 *   1 seal: bytes 1-3 pick the interval (and a start near the end of the
 *     sequence space), max_plain and a bit to flip; the rest is plaintext.
 *     Seal then open gives it back, several records in a row (across key
 *     rotations); a flipped bit is refused and kills the direction;
 *     kd_chan_seal() cuts it into records of whole frames that open back
 *     into the same bytes.
 *   2 peek: bytes 1-4 are max_plain; kd_record_peek() on the rest agrees
 *     with a plain reading of the header.
 */
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "common/buf.h"
#include "common/err.h"
#include "keydist/channel.h"
#include "keydist/record.h"
#include "tests/fuzz/util.h"

#define ROUNDS 3

static uint64_t
interval_of(uint8_t b)
{
	static const uint64_t v[] = { 1, 2, 3, KD_RECORD_REKEY_DEFAULT };

	return v[b & 3];
}

static size_t
max_plain_of(uint8_t b)
{
	static const size_t v[] = { 16, 100, 8192, 65536 };

	return v[b & 3];
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
dir_init(struct kd_record_dir *d, uint64_t interval, int sealing)
{
	/* gen-corpus.c seals the seeds with the same key and IV. */
	FUZZ_CHECK(kd_record_init(d, fuzz_record_key, fuzz_record_iv,
	    interval, sealing) == 0);
}

/* Walk the frames of an opened record: whole, non-empty lines. */
static void
walk_frames(char *p, size_t len)
{
	size_t left = len, flen, seen = 0;
	char *f;
	int r;

	while ((r = kd_chan_next_frame(&p, &left, &f, &flen)) == 1) {
		FUZZ_CHECK(flen > 0 && memchr(f, '\n', flen) == NULL);
		FUZZ_CHECK(f[flen] == '\n');
		seen += flen + 1;
	}
	FUZZ_CHECK(r == 0 || r == E_MALFORMED);
	FUZZ_CHECK(r != 0 || (seen == len && left == 0));
}

/* Open records from what the peer sent, as client and server do. */
static void
open_stream(uint64_t interval, size_t max_plain, const uint8_t *data,
    size_t len)
{
	struct kd_record_dir rx;
	struct buf in = BUF_INIT;
	size_t flen, reclen, i;
	char *frames;
	int r, again;

	dir_init(&rx, interval, 0);
	if (len > 0)
		FUZZ_CHECK(buf_append(&in, data, len) == 0);
	for (i = 0; i < 64 && buf_size(&in) > 0; i++) {
		r = kd_chan_open(&rx, &in, max_plain, &frames, &flen, &reclen);
		if (r == E_INCOMPLETE)
			break;
		if (r == 0) {
			FUZZ_CHECK(flen > 0 && flen <= max_plain);
			FUZZ_CHECK(reclen == flen + KD_RECORD_OVERHEAD);
			FUZZ_CHECK(frames[flen - 1] == '\n');
			walk_frames(frames, flen);
			buf_consume(&in, reclen);
			continue;
		}
		if (rx.err != 0) {
			/* The record did not open: wiped, and rx is dead. */
			FUZZ_CHECK(rx.err == r);
			FUZZ_CHECK(all_zero(buf_data(&in) + KD_RECORD_HDR_LEN,
			    reclen - KD_RECORD_HDR_LEN));
			again = kd_chan_open(&rx, &in, max_plain, &frames,
			    &flen, &reclen);
			FUZZ_CHECK(again == r || again == E_INCOMPLETE);
		}
		break;
	}
	buf_free(&in);
	kd_record_clear(&rx);
}

/* The input whole as one record, opened into a buffer of its own. */
static void
open_whole(uint64_t interval, const uint8_t *data, size_t len, size_t cut)
{
	struct kd_record_dir rx;
	size_t cap, outlen = 1;
	uint8_t *out;
	int r;

	cap = len > KD_RECORD_OVERHEAD ? len - KD_RECORD_OVERHEAD : 0;
	cap = cut < cap ? cap - cut : cap;
	out = fuzz_malloc(cap);
	memset(out, 0x5a, cap);
	dir_init(&rx, interval, 0);
	r = kd_record_open(&rx, data, len, out, cap, &outlen);
	if (r == 0) {
		FUZZ_CHECK(outlen == len - KD_RECORD_OVERHEAD);
		FUZZ_CHECK(kd_record_seq(&rx) == 1);
	} else {
		FUZZ_CHECK(outlen == 0 && all_zero(out, cap));
		FUZZ_CHECK(rx.err == r);
		FUZZ_CHECK(kd_record_open(&rx, data, len, out, cap,
		    &outlen) == r);
	}
	kd_record_clear(&rx);
	free(out);
}

/* Seal and open the same plaintext ROUNDS times, then a forged record. */
static void
round_trip(uint64_t interval, int near_end, uint8_t flip,
    const uint8_t *plain, size_t len)
{
	struct kd_record_dir tx, rx;
	size_t cap = len + KD_RECORD_OVERHEAD, outlen, reclen, plen;
	uint8_t *rec = fuzz_malloc(cap), *back = fuzz_malloc(len), *good = fuzz_malloc(cap);
	uint8_t tag[KD_AEAD_TAG_LEN];
	int i, r;

	dir_init(&tx, interval, 1);
	dir_init(&rx, interval, 0);
	if (near_end)
		tx.seq = rx.seq = UINT64_MAX - 2;
	memset(tag, 0, sizeof(tag));
	for (i = 0; i < ROUNDS; i++) {
		r = kd_record_seal(&tx, plain, len, rec, cap, &outlen);
		if (r == E_SEQ_EXHAUSTED) {
			FUZZ_CHECK(near_end && tx.seq == UINT64_MAX);
			FUZZ_CHECK(outlen == 0);
			goto out;
		}
		FUZZ_CHECK(r == 0 && outlen == cap);
		FUZZ_CHECK(kd_record_peek(rec, outlen, len, &reclen) == 0 &&
		    reclen == cap);
		if (len > 0)
			FUZZ_CHECK(kd_record_peek(rec, outlen, len - 1,
			    &reclen) == E_TOO_LONG);
		/* A new nonce for every record: the tag changes. */
		FUZZ_CHECK(memcmp(tag, rec + cap - KD_AEAD_TAG_LEN,
		    sizeof(tag)) != 0);
		memcpy(tag, rec + cap - KD_AEAD_TAG_LEN, sizeof(tag));
		memcpy(good, rec, cap);
		FUZZ_CHECK(kd_record_open(&rx, rec, cap, back, len, &plen) ==
		    0 && plen == len);
		FUZZ_CHECK(len == 0 || memcmp(back, plain, len) == 0);
		FUZZ_CHECK(kd_record_seq(&rx) == kd_record_seq(&tx));
	}
	/* One bit changed: refused, and rx stays dead for the real one. */
	r = kd_record_seal(&tx, plain, len, rec, cap, &outlen);
	if (r == E_SEQ_EXHAUSTED)
		goto out;
	FUZZ_CHECK(r == 0 && cap > 0);
	memcpy(good, rec, cap);
	rec[(flip >> 3) % cap] ^= (uint8_t)(1u << (flip & 7));
	r = kd_record_open(&rx, rec, cap, back, len, &plen);
	FUZZ_CHECK(r == E_MAC_INVALID || r == E_MALFORMED);
	FUZZ_CHECK(plen == 0 && all_zero(back, len));
	FUZZ_CHECK(kd_record_open(&rx, good, cap, back, len, &plen) == r);
out:
	kd_record_clear(&tx);
	kd_record_clear(&rx);
	free(good);
	free(back);
	free(rec);
}

/* The longest line of plain, LF included. */
static size_t
longest_line(const uint8_t *p, size_t len)
{
	size_t i, start = 0, max = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n') {
			if (i + 1 - start > max)
				max = i + 1 - start;
			start = i + 1;
		}
	}
	return max;
}

/* Frames cut into records by kd_chan_seal() come back whole. */
static void
channel_trip(uint64_t interval, size_t max_plain, const uint8_t *plain,
    size_t len)
{
	struct kd_record_dir tx, rx;
	struct buf in = BUF_INIT, out = BUF_INIT, got = BUF_INIT;
	size_t flen, reclen;
	char *frames;
	int r;

	dir_init(&tx, interval, 1);
	dir_init(&rx, interval, 0);
	if (len > 0)
		FUZZ_CHECK(buf_append(&in, plain, len) == 0);
	r = kd_chan_seal(&tx, &in, &out, max_plain);
	if (len > 0 && plain[len - 1] != '\n') {
		FUZZ_CHECK(r == E_MALFORMED && buf_size(&out) == 0);
		goto out;
	}
	if (r == E_TOO_LONG) {
		FUZZ_CHECK(longest_line(plain, len) > max_plain);
		goto out;
	}
	FUZZ_CHECK(r == 0 && buf_size(&in) == 0);
	FUZZ_CHECK(longest_line(plain, len) <= max_plain);
	while (buf_size(&out) > 0) {
		r = kd_chan_open(&rx, &out, max_plain, &frames, &flen, &reclen);
		FUZZ_CHECK(r == 0 && flen <= max_plain);
		FUZZ_CHECK(buf_append(&got, frames, flen) == 0);
		buf_consume(&out, reclen);
	}
	FUZZ_CHECK(buf_size(&got) == len);
	FUZZ_CHECK(len == 0 || memcmp(buf_data(&got), plain, len) == 0);
	FUZZ_CHECK(kd_record_seq(&rx) == kd_record_seq(&tx));
out:
	buf_free(&got);
	buf_free(&out);
	buf_free(&in);
	kd_record_clear(&tx);
	kd_record_clear(&rx);
}

static void
peek(size_t max_plain, const uint8_t *buf, size_t avail)
{
	size_t reclen = 1, want = 0;
	uint32_t body;
	int r, ref;

	r = kd_record_peek(buf, avail, max_plain, &reclen);
	if (avail < KD_RECORD_HDR_LEN) {
		ref = E_INCOMPLETE;
	} else {
		body = be32_load(buf);
		if (body < KD_AEAD_TAG_LEN)
			ref = E_MALFORMED;
		else if (body - KD_AEAD_TAG_LEN > max_plain)
			ref = E_TOO_LONG;
		else {
			want = KD_RECORD_HDR_LEN + (size_t)body;
			ref = avail < want ? E_INCOMPLETE : 0;
		}
	}
	FUZZ_CHECK(r == ref && reclen == want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t mode = fuzz_u8(&in), a, b, c;
	uint8_t *copy;
	size_t max_plain;

	switch (mode % 3) {
	case 0:
		a = fuzz_u8(&in);
		b = fuzz_u8(&in);
		copy = fuzz_malloc(in.left);
		memcpy(copy, in.p, in.left);
		open_stream(interval_of(a), max_plain_of(b), copy, in.left);
		memcpy(copy, in.p, in.left);
		open_whole(interval_of(a), copy, in.left, b >> 2);
		free(copy);
		break;
	case 1:
		a = fuzz_u8(&in);
		b = fuzz_u8(&in);
		c = fuzz_u8(&in);
		copy = fuzz_malloc(in.left);
		memcpy(copy, in.p, in.left);
		round_trip(interval_of(a), (a & 4) != 0, c, copy, in.left);
		channel_trip(interval_of(a), max_plain_of(b), copy, in.left);
		free(copy);
		break;
	default:
		max_plain = (size_t)fuzz_u16(&in) << 16;
		max_plain |= fuzz_u16(&in);
		copy = fuzz_malloc(in.left);
		memcpy(copy, in.p, in.left);
		peek(max_plain, copy, in.left);
		free(copy);
		break;
	}
	return 0;
}
