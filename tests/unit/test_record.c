/*
 * Unit tests: the AES-256-GCM record layer (keydist/record.h).  The format
 * is pinned twice: against records built here with raw EVP calls, and
 * against golden records computed with an unrelated implementation
 * (Python's cryptography package: AESGCM and HKDF).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/util.h"

#include <openssl/evp.h>

#include "common/be.h"
#include "common/err.h"
#include "keydist/hkdf.h"
#include "keydist/record.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NEVER UINT64_MAX	/* a rekey interval that never comes */

static const uint8_t key_a[KD_AEAD_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const uint8_t iv_a[KD_AEAD_IV_LEN] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab,
};
static const uint8_t key_b[KD_AEAD_KEY_LEN] = { 0x42 };
static const uint8_t iv_b[KD_AEAD_IV_LEN] = { 0x24 };

static void
pair_init(struct kd_record_dir *tx, struct kd_record_dir *rx,
    uint64_t interval)
{
	assert_int_equal(kd_record_init(tx, key_a, iv_a, interval, 1), 0);
	assert_int_equal(kd_record_init(rx, key_a, iv_a, interval, 0), 0);
}

/* Seal len bytes into a fresh malloc'd record; returns it, *reclen set. */
static uint8_t *
seal_new(struct kd_record_dir *tx, const uint8_t *plain, size_t len,
    size_t *reclen)
{
	uint8_t *rec = malloc(len + KD_RECORD_OVERHEAD);

	assert_non_null(rec);
	assert_int_equal(kd_record_seal(tx, plain, len, rec,
	    len + KD_RECORD_OVERHEAD, reclen), 0);
	assert_int_equal(*reclen, len + KD_RECORD_OVERHEAD);
	return rec;
}

/*
 * The spec, written out with raw EVP calls and nothing from record.c:
 * header = uint32_be(len + 16), nonce given, AAD = header.
 */
static void
raw_record(const uint8_t key[static 32], const uint8_t nonce[static 12],
    const uint8_t *plain, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int n;

	be32_store(out, (uint32_t)(len + 16));
	assert_non_null(ctx = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL,
	    NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12,
	    NULL), 1);
	assert_int_equal(EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, out, 4), 1);
	if (len > 0) {
		assert_int_equal(EVP_EncryptUpdate(ctx, out + 4, &n, plain,
		    (int)len), 1);
		assert_int_equal(n, (int)len);
	}
	assert_int_equal(EVP_EncryptFinal_ex(ctx, out + 4 + len, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
	    out + 4 + len), 1);
	EVP_CIPHER_CTX_free(ctx);
}

static void
test_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 1000, 65536 };
	struct kd_record_dir tx, rx;
	uint8_t *plain, *rec, *out;
	size_t i, round, reclen, outlen;
	uint64_t seq = 0;

	(void)state;
	pair_init(&tx, &rx, KD_RECORD_REKEY_DEFAULT);
	assert_non_null(plain = malloc(65536));
	assert_non_null(out = malloc(65536));
	for (round = 0; round < 3; round++) {
		for (i = 0; i < NELEM(sizes); i++) {
			fill(plain, sizes[i], (unsigned)(round * 10 + i));
			assert_int_equal(kd_record_seq(&tx), seq);
			rec = seal_new(&tx, plain, sizes[i], &reclen);
			/* header = body_len = len + 16, big-endian */
			assert_int_equal(be32_load(rec),
			    sizes[i] + KD_AEAD_TAG_LEN);
			assert_int_equal(kd_record_open(&rx, rec, reclen, out,
			    sizes[i], &outlen), 0);
			assert_int_equal(outlen, sizes[i]);
			if (sizes[i] > 0)
				assert_memory_equal(out, plain, sizes[i]);
			seq++;
			assert_int_equal(kd_record_seq(&tx), seq);
			assert_int_equal(kd_record_seq(&rx), seq);
			free(rec);
		}
	}
	free(plain);
	free(out);
	kd_record_clear(&tx);
	kd_record_clear(&rx);
}

static void
test_known_answer(void **state)
{
	static const struct {
		uint64_t seq;
		const char *nonce;	/* iv ^ (0^32 || be64(seq)), by hand */
	} nonces[] = {
		{ 0, "a0a1a2a3a4a5a6a7a8a9aaab" },
		{ 5, "a0a1a2a3a4a5a6a7a8a9aaae" },
		{ 0x0102030405060708ULL, "a0a1a2a3a5a7a5a3adafada3" },
		{ UINT64_MAX - 1, "a0a1a2a35b5a595857565555" },
	};
	struct kd_record_dir tx;
	uint8_t plain[100], nonce[12], want[200], got[200];
	size_t i, len, outlen;
	uint64_t s;

	(void)state;
	fill(plain, sizeof(plain), 3);
	for (i = 0; i < NELEM(nonces); i++) {
		assert_int_equal(kd_record_init(&tx, key_a, iv_a, NEVER, 1), 0);
		if (nonces[i].seq == 5) {
			/* reach seq 5 by sealing, not by poking */
			for (s = 0; s < 5; s++)
				assert_int_equal(kd_record_seal(&tx, plain, 1,
				    got, sizeof(got), &outlen), 0);
		} else
			tx.seq = nonces[i].seq;
		len = 17 + i;
		unhex(nonces[i].nonce, nonce);
		raw_record(key_a, nonce, plain, len, want);
		assert_int_equal(kd_record_seal(&tx, plain, len, got,
		    sizeof(got), &outlen), 0);
		assert_int_equal(outlen, len + 20);
		assert_memory_equal(got, want, outlen);
		kd_record_clear(&tx);
	}
}

/* Records computed by Python's cryptography (AESGCM, HKDF) from the spec. */
static void
test_golden_records(void **state)
{
	static const struct {
		const char *plain, *record;
	} golden[] = {
		/* seq 0, key_a */
		{ "hello, missive",
		  "0000001e8e7d10412ae722d20b16f4ba711fb195ebee945cc1323f8b29"
		  "2347b58504" },
		/* seq 1, key_a, empty */
		{ "", "00000010b9340240e7af95e986bd75abaac00098" },
		/* seq 2: interval 2, so HKDF(key_a, "missive v1 rekey") */
		{ "rotated",
		  "00000017bf4541f34f4abf856271e7e7d440f6564e2151893127d5" },
	};
	struct kd_record_dir tx, rx;
	uint8_t want[64], got[64], back[64];
	size_t i, n, outlen, backlen;

	(void)state;
	pair_init(&tx, &rx, 2);
	for (i = 0; i < NELEM(golden); i++) {
		n = unhex(golden[i].record, want);
		assert_int_equal(kd_record_seal(&tx,
		    (const uint8_t *)golden[i].plain, strlen(golden[i].plain),
		    got, sizeof(got), &outlen), 0);
		assert_int_equal(outlen, n);
		assert_memory_equal(got, want, n);
		assert_int_equal(kd_record_open(&rx, want, n, back,
		    sizeof(back), &backlen), 0);
		assert_int_equal(backlen, strlen(golden[i].plain));
		assert_memory_equal(back, golden[i].plain, backlen);
	}
	kd_record_clear(&tx);
	kd_record_clear(&rx);
}

/* Flip every bit of a record, one at a time: nothing ever opens. */
static void
test_bitflip_every_offset(void **state)
{
	enum { PLAIN = 33, REC = PLAIN + KD_RECORD_OVERHEAD, MAX = 1024 };
	struct kd_record_dir tx, rx, good;
	uint8_t plain[PLAIN], rec[REC], bad[REC], out[MAX];
	size_t off, outlen, reclen, peeklen;
	int bit, rp, ro;

	(void)state;
	fill(plain, sizeof(plain), 9);
	assert_int_equal(kd_record_init(&tx, key_a, iv_a, NEVER, 1), 0);
	assert_int_equal(kd_record_seal(&tx, plain, PLAIN, rec, sizeof(rec),
	    &reclen), 0);
	assert_int_equal(reclen, REC);
	kd_record_clear(&tx);

	for (off = 0; off < REC; off++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, rec, REC);
			bad[off] ^= (uint8_t)(1u << bit);
			assert_int_equal(kd_record_init(&rx, key_a, iv_a, NEVER,
			    0), 0);
			rp = kd_record_peek(bad, REC, MAX, &peeklen);
			memset(out, 0xa5, sizeof(out));
			if (off >= KD_RECORD_HDR_LEN) {
				/* body flip: framing intact, tag catches it */
				assert_int_equal(rp, 0);
				assert_int_equal(peeklen, REC);
				ro = kd_record_open(&rx, bad, peeklen, out,
				    sizeof(out), &outlen);
				assert_int_equal(ro, E_MAC_INVALID);
			} else if (rp == 0) {
				/* shorter body_len: a truncated record */
				assert_true(peeklen < REC);
				ro = kd_record_open(&rx, bad, peeklen, out,
				    sizeof(out), &outlen);
				assert_int_equal(ro, E_MAC_INVALID);
			} else {
				assert_true(rp == E_INCOMPLETE ||
				    rp == E_TOO_LONG || rp == E_MALFORMED);
				/* a reader that ignored peek still fails */
				ro = kd_record_open(&rx, bad, REC, out,
				    sizeof(out), &outlen);
				assert_int_equal(ro, E_MALFORMED);
			}
			assert_int_equal(outlen, 0);
			assert_true(all_zero(out, sizeof(out)));
			/* dead now, even for the genuine record */
			memset(out, 0xa5, sizeof(out));
			assert_int_equal(kd_record_open(&rx, rec, REC, out,
			    sizeof(out), &outlen), ro);
			assert_int_equal(outlen, 0);
			assert_true(all_zero(out, sizeof(out)));
			assert_int_equal(kd_record_seq(&rx), 0);
			kd_record_clear(&rx);
		}
	}
	/* and the genuine record does open on a fresh direction */
	assert_int_equal(kd_record_init(&good, key_a, iv_a, NEVER, 0), 0);
	assert_int_equal(kd_record_open(&good, rec, REC, out, sizeof(out),
	    &outlen), 0);
	assert_memory_equal(out, plain, PLAIN);
	kd_record_clear(&good);
}

static void
test_replay_refused(void **state)
{
	struct kd_record_dir tx, rx;
	uint8_t plain[20], out[20], *r0, *r1;
	size_t l0, l1, outlen;

	(void)state;
	fill(plain, sizeof(plain), 1);
	pair_init(&tx, &rx, NEVER);
	r0 = seal_new(&tx, plain, sizeof(plain), &l0);
	r1 = seal_new(&tx, plain, sizeof(plain), &l1);
	assert_int_equal(kd_record_open(&rx, r0, l0, out, sizeof(out),
	    &outlen), 0);
	assert_int_equal(kd_record_open(&rx, r0, l0, out, sizeof(out),
	    &outlen), E_MAC_INVALID);
	assert_true(all_zero(out, sizeof(out)));
	/* r1 is genuine and next in line, but the direction is dead */
	assert_int_equal(kd_record_open(&rx, r1, l1, out, sizeof(out),
	    &outlen), E_MAC_INVALID);
	free(r0);
	free(r1);
	kd_record_clear(&tx);
	kd_record_clear(&rx);
}

static void
test_reorder_and_drop_refused(void **state)
{
	struct kd_record_dir tx, rx;
	uint8_t plain[5] = "hello", out[5], *r[3];
	size_t l[3], outlen, i;

	(void)state;
	pair_init(&tx, &rx, NEVER);
	for (i = 0; i < 3; i++)
		r[i] = seal_new(&tx, plain, sizeof(plain), &l[i]);
	/* reordered: record 2 before record 1 */
	assert_int_equal(kd_record_open(&rx, r[0], l[0], out, sizeof(out),
	    &outlen), 0);
	assert_int_equal(kd_record_open(&rx, r[2], l[2], out, sizeof(out),
	    &outlen), E_MAC_INVALID);
	assert_true(all_zero(out, sizeof(out)));
	assert_int_equal(kd_record_open(&rx, r[1], l[1], out, sizeof(out),
	    &outlen), E_MAC_INVALID);
	kd_record_clear(&rx);
	/* dropped: record 0 never arrives */
	assert_int_equal(kd_record_init(&rx, key_a, iv_a, NEVER, 0), 0);
	assert_int_equal(kd_record_open(&rx, r[1], l[1], out, sizeof(out),
	    &outlen), E_MAC_INVALID);
	kd_record_clear(&rx);
	for (i = 0; i < 3; i++)
		free(r[i]);
	kd_record_clear(&tx);
}

static void
test_other_session_refused(void **state)
{
	static const struct {
		const uint8_t *key, *iv;
	} others[] = {
		{ key_b, iv_a },	/* another session key */
		{ key_a, iv_b },	/* same key, another IV */
		{ key_b, iv_b },
	};
	struct kd_record_dir tx, rx;
	uint8_t plain[40], out[40], *rec;
	size_t i, reclen, outlen;

	(void)state;
	fill(plain, sizeof(plain), 4);
	assert_int_equal(kd_record_init(&tx, key_a, iv_a, NEVER, 1), 0);
	rec = seal_new(&tx, plain, sizeof(plain), &reclen);
	for (i = 0; i < NELEM(others); i++) {
		assert_int_equal(kd_record_init(&rx, others[i].key,
		    others[i].iv, NEVER, 0), 0);
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(kd_record_open(&rx, rec, reclen, out,
		    sizeof(out), &outlen), E_MAC_INVALID);
		assert_true(all_zero(out, sizeof(out)));
		kd_record_clear(&rx);
	}
	free(rec);
	kd_record_clear(&tx);
}

static void
test_truncated_refused(void **state)
{
	struct kd_record_dir tx, rx;
	uint8_t plain[30], out[30], *rec;
	size_t i, reclen, outlen, peeklen;

	(void)state;
	fill(plain, sizeof(plain), 5);
	assert_int_equal(kd_record_init(&tx, key_a, iv_a, NEVER, 1), 0);
	rec = seal_new(&tx, plain, sizeof(plain), &reclen);
	/* every prefix is incomplete; the length is known once the header is */
	for (i = 0; i < reclen; i++) {
		assert_int_equal(kd_record_peek(rec, i, 1000, &peeklen),
		    E_INCOMPLETE);
		assert_int_equal(peeklen, i < 4 ? 0 : reclen);
	}
	assert_int_equal(kd_record_peek(rec, reclen, 1000, &peeklen), 0);
	assert_int_equal(peeklen, reclen);
	/* a shortened reclen disagrees with the header */
	for (i = 0; i < reclen; i++) {
		assert_int_equal(kd_record_init(&rx, key_a, iv_a, NEVER, 0), 0);
		assert_int_equal(kd_record_open(&rx, rec, i, out,
		    sizeof(out), &outlen), E_MALFORMED);
		kd_record_clear(&rx);
	}
	/* truncated with the header rewritten to match: the tag catches it */
	for (i = 1; i <= sizeof(plain); i++) {
		uint8_t cut[sizeof(plain) + KD_RECORD_OVERHEAD];

		memcpy(cut, rec, reclen - i);
		be32_store(cut, (uint32_t)(reclen - i - 4));
		assert_int_equal(kd_record_init(&rx, key_a, iv_a, NEVER, 0), 0);
		assert_int_equal(kd_record_peek(cut, reclen - i, 1000,
		    &peeklen), 0);
		assert_int_equal(kd_record_open(&rx, cut, peeklen, out,
		    sizeof(out), &outlen), E_MAC_INVALID);
		kd_record_clear(&rx);
	}
	free(rec);
	kd_record_clear(&tx);
}

static void
test_rekey(void **state)
{
	struct kd_record_dir tx, rx, stale, tx1, rx1;
	uint8_t k0[32], k1[32], k2[32], plain[64], out[64], *rec;
	size_t i, reclen, outlen;
	int r;

	(void)state;
	memcpy(k0, key_a, 32);
	assert_int_equal(kd_hkdf_sha256(NULL, 0, k0, 32,
	    (const uint8_t *)"missive v1 rekey", 16, k1, 32), 0);
	assert_int_equal(kd_hkdf_sha256(NULL, 0, k1, 32,
	    (const uint8_t *)"missive v1 rekey", 16, k2, 32), 0);
	pair_init(&tx, &rx, 3);
	assert_int_equal(kd_record_init(&stale, key_a, iv_a, NEVER, 0), 0);
	for (i = 0; i < 10; i++) {
		fill(plain, sizeof(plain), (unsigned)i);
		rec = seal_new(&tx, plain, i, &reclen);
		/* keys: records 0-2 k0, 3-5 k1, 6-8 k2 */
		if (i < 2)
			assert_memory_equal(tx.key, k0, 32);
		else if (i < 5)
			assert_memory_equal(tx.key, k1, 32);
		else if (i < 8)
			assert_memory_equal(tx.key, k2, 32);
		assert_int_equal(kd_record_open(&rx, rec, reclen, out,
		    sizeof(out), &outlen), 0);
		assert_int_equal(outlen, i);
		assert_memory_equal(out, plain, i);
		assert_memory_equal(rx.key, tx.key, 32);
		/* the receiver that never rotates dies at record 4 (seq 3) */
		r = kd_record_open(&stale, rec, reclen, out, sizeof(out),
		    &outlen);
		assert_int_equal(r, i < 3 ? 0 : E_MAC_INVALID);
		free(rec);
	}
	assert_int_equal(kd_record_seq(&tx), 10);
	assert_memory_not_equal(tx.key, k0, 32);
	/* IV is untouched by rotation */
	assert_memory_equal(tx.iv, iv_a, 12);

	/* interval 1: a new key for every record */
	pair_init(&tx1, &rx1, 1);
	for (i = 0; i < 5; i++) {
		rec = seal_new(&tx1, plain, 10, &reclen);
		assert_int_equal(kd_record_open(&rx1, rec, reclen, out,
		    sizeof(out), &outlen), 0);
		assert_memory_equal(out, plain, 10);
		free(rec);
	}
	assert_memory_equal(tx1.key, rx1.key, 32);
	kd_record_clear(&tx);
	kd_record_clear(&rx);
	kd_record_clear(&stale);
	kd_record_clear(&tx1);
	kd_record_clear(&rx1);
}

static void
test_peek_bounds(void **state)
{
	static const struct {
		const char *bytes;	/* hex; its length is avail */
		size_t max_plain;
		int want;
		size_t reclen;
	} cases[] = {
		{ "", 100, E_INCOMPLETE, 0 },
		{ "00", 100, E_INCOMPLETE, 0 },
		{ "0000", 100, E_INCOMPLETE, 0 },
		{ "000000", 100, E_INCOMPLETE, 0 },
		/* body_len < 16: malformed as soon as the header is there */
		{ "00000000", 100, E_MALFORMED, 0 },
		{ "0000000f", 100, E_MALFORMED, 0 },
		{ "0000000f" "00112233445566778899aabbccddeeff", 100,
		  E_MALFORMED, 0 },
		/* body_len 16 is an empty record */
		{ "00000010", 100, E_INCOMPLETE, 20 },
		{ "00000010" "00112233445566778899aabbccddee", 100,
		  E_INCOMPLETE, 20 },
		{ "00000010" "00112233445566778899aabbccddeeff", 100, 0, 20 },
		{ "00000010" "00112233445566778899aabbccddeeff", 0, 0, 20 },
		/* bytes after the record belong to the next one */
		{ "00000010" "00112233445566778899aabbccddeeff" "0000", 100, 0,
		  20 },
		/* body_len above max_plain + 16: refused from the header */
		{ "00000011", 0, E_TOO_LONG, 0 },
		{ "00000075", 100, E_TOO_LONG, 0 },	/* 117 = 100 + 17 */
		{ "00000074", 100, E_INCOMPLETE, 120 },	/* 116 = 100 + 16 */
		{ "ffffffff", 100, E_TOO_LONG, 0 },
		{ "ffffffff", 1u << 20, E_TOO_LONG, 0 },
		{ "ffffffff", SIZE_MAX, E_INCOMPLETE, (size_t)UINT32_MAX + 4 },
		{ "ffffffff", (size_t)UINT32_MAX - 16, E_INCOMPLETE,
		  (size_t)UINT32_MAX + 4 },
		{ "ffffffff", (size_t)UINT32_MAX - 17, E_TOO_LONG, 0 },
	};
	uint8_t buf[64];
	size_t i, n, reclen;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		n = unhex(cases[i].bytes, buf);
		reclen = 12345;
		assert_int_equal(kd_record_peek(buf, n, cases[i].max_plain,
		    &reclen), cases[i].want);
		assert_int_equal(reclen, cases[i].reclen);
	}
	assert_int_equal(kd_record_peek(NULL, 0, 100, &reclen), E_INCOMPLETE);
	assert_int_equal(kd_record_peek(buf, 20, 100, NULL), E_INVALID);
}

static void
test_seq_exhausted(void **state)
{
	struct kd_record_dir tx, rx;
	uint8_t plain[8] = "lastword", out[8], rec[64];
	size_t reclen, outlen;

	(void)state;
	pair_init(&tx, &rx, 1000);
	tx.seq = rx.seq = UINT64_MAX - 1;
	/* the last usable sequence number still works */
	assert_int_equal(kd_record_seal(&tx, plain, sizeof(plain), rec,
	    sizeof(rec), &reclen), 0);
	assert_int_equal(kd_record_open(&rx, rec, reclen, out, sizeof(out),
	    &outlen), 0);
	assert_memory_equal(out, plain, sizeof(plain));
	assert_int_equal(kd_record_seq(&tx), UINT64_MAX);
	/* then nothing: no wrap to 0 and a reused nonce */
	memset(rec, 0xa5, sizeof(rec));
	assert_int_equal(kd_record_seal(&tx, plain, sizeof(plain), rec,
	    sizeof(rec), &reclen), E_SEQ_EXHAUSTED);
	assert_int_equal(reclen, 0);
	assert_int_equal(rec[0], 0xa5);
	assert_int_equal(kd_record_seal(&tx, NULL, 0, rec, sizeof(rec),
	    &reclen), E_SEQ_EXHAUSTED);
	assert_int_equal(kd_record_seq(&tx), UINT64_MAX);
	/* the receiver likewise, and stays so */
	memset(rec, 0, sizeof(rec));
	rec[3] = 16 + sizeof(plain);
	assert_int_equal(kd_record_open(&rx, rec, 4 + 16 + sizeof(plain), out,
	    sizeof(out), &outlen), E_SEQ_EXHAUSTED);
	assert_true(all_zero(out, sizeof(out)));
	rx.seq = 0;	/* even a poked-back seq does not revive it */
	assert_int_equal(kd_record_open(&rx, rec, 4 + 16 + sizeof(plain), out,
	    sizeof(out), &outlen), E_SEQ_EXHAUSTED);
	kd_record_clear(&tx);
	kd_record_clear(&rx);
}

static void
test_seal_buffer_too_small(void **state)
{
	static const size_t sizes[] = { 0, 1, 16, 1000 };
	struct kd_record_dir tx, rx;
	uint8_t plain[1000], *out, back[1000];
	size_t i, cap, outlen, backlen;

	(void)state;
	fill(plain, sizeof(plain), 6);
	pair_init(&tx, &rx, NEVER);
	for (i = 0; i < NELEM(sizes); i++) {
		/* exactly cap bytes, so ASan sees any write past it */
		for (cap = 0; cap < sizes[i] + KD_RECORD_OVERHEAD;
		    cap += (cap < 40 ? 1 : 97)) {
			out = malloc(cap > 0 ? cap : 1);
			assert_non_null(out);
			memset(out, 0xa5, cap > 0 ? cap : 1);
			outlen = 777;
			assert_int_equal(kd_record_seal(&tx, plain, sizes[i],
			    out, cap, &outlen), E_TOO_LONG);
			assert_int_equal(outlen, 0);
			for (size_t j = 0; j < cap; j++)
				assert_int_equal(out[j], 0xa5);
			free(out);
		}
		/* nothing consumed: seq unchanged and the direction works */
		assert_int_equal(kd_record_seq(&tx), i);
		cap = sizes[i] + KD_RECORD_OVERHEAD;
		assert_non_null(out = malloc(cap));
		assert_int_equal(kd_record_seal(&tx, plain, sizes[i], out, cap,
		    &outlen), 0);
		assert_int_equal(kd_record_open(&rx, out, outlen, back,
		    sizes[i], &backlen), 0);
		assert_int_equal(backlen, sizes[i]);
		free(out);
	}
	/* a plaintext too long for a uint32 body_len */
	if (SIZE_MAX > UINT32_MAX)
		assert_int_equal(kd_record_seal(&tx, plain,
		    (size_t)UINT32_MAX - 15, back, SIZE_MAX, &outlen),
		    E_TOO_LONG);
	kd_record_clear(&tx);
	kd_record_clear(&rx);
}

static void
test_open_buffer_too_small(void **state)
{
	struct kd_record_dir tx, rx;
	uint8_t plain[32], out[32], *rec;
	size_t reclen, outlen;

	(void)state;
	fill(plain, sizeof(plain), 8);
	pair_init(&tx, &rx, NEVER);
	rec = seal_new(&tx, plain, sizeof(plain), &reclen);
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(kd_record_open(&rx, rec, reclen, out,
	    sizeof(out) - 1, &outlen), E_TOO_LONG);
	assert_true(all_zero(out, sizeof(out) - 1));
	assert_int_equal(out[sizeof(out) - 1], 0xa5);
	/* a receiver that lost its place is dead */
	assert_int_equal(kd_record_open(&rx, rec, reclen, out, sizeof(out),
	    &outlen), E_TOO_LONG);
	free(rec);
	kd_record_clear(&tx);
	kd_record_clear(&rx);
}

static void
test_in_place(void **state)
{
	struct kd_record_dir tx, rx;
	uint8_t buf[4 + 100 + 16], plain[100];
	size_t reclen, outlen;

	(void)state;
	fill(plain, sizeof(plain), 2);
	pair_init(&tx, &rx, NEVER);
	memcpy(buf + 4, plain, sizeof(plain));
	assert_int_equal(kd_record_seal(&tx, buf + 4, sizeof(plain), buf,
	    sizeof(buf), &reclen), 0);
	assert_int_equal(reclen, sizeof(buf));
	assert_memory_not_equal(buf + 4, plain, sizeof(plain));
	assert_int_equal(kd_record_open(&rx, buf, reclen, buf + 4,
	    sizeof(plain), &outlen), 0);
	assert_int_equal(outlen, sizeof(plain));
	assert_memory_equal(buf + 4, plain, sizeof(plain));

	/* any other overlap is refused, before anything is written */
	memcpy(buf + 4, plain, sizeof(plain));
	assert_int_equal(kd_record_seal(&tx, buf + 3, 50, buf, sizeof(buf),
	    &reclen), E_INVALID);
	assert_int_equal(kd_record_seal(&tx, buf + 5, 50, buf, sizeof(buf),
	    &reclen), E_INVALID);
	assert_int_equal(kd_record_seal(&tx, buf, 50, buf, sizeof(buf),
	    &reclen), E_INVALID);
	assert_memory_equal(buf + 4, plain, sizeof(plain));
	assert_int_equal(kd_record_seq(&tx), 1);
	assert_int_equal(kd_record_seal(&tx, buf + 4, 50, buf, sizeof(buf),
	    &reclen), 0);
	assert_int_equal(kd_record_open(&rx, buf, reclen, buf + 5, 60,
	    &outlen), E_INVALID);
	assert_int_equal(kd_record_open(&rx, buf, reclen, buf + 4, 50,
	    &outlen), E_INVALID);	/* dead */
	kd_record_clear(&tx);
	kd_record_clear(&rx);
}

static void
test_init_clear_misuse(void **state)
{
	struct kd_record_dir d, zero, tx, rx;
	uint8_t out[64], rec[64];
	size_t outlen, reclen;

	(void)state;
	memset(&d, 0x5a, sizeof(d));
	assert_int_equal(kd_record_init(&d, key_a, iv_a, 0, 1), E_INVALID);
	assert_null(d.ctx);
	assert_true(all_zero((const uint8_t *)&d, sizeof(d)));
	kd_record_clear(&d);
	kd_record_clear(&d);
	memset(&zero, 0, sizeof(zero));
	kd_record_clear(&zero);
	kd_record_clear(NULL);
	assert_int_equal(kd_record_init(NULL, key_a, iv_a, 1, 1), E_INVALID);

	/* a cleared direction refuses everything */
	assert_int_equal(kd_record_seal(&zero, NULL, 0, out, sizeof(out),
	    &outlen), E_INVALID);
	assert_int_equal(kd_record_open(&zero, rec, 20, out, sizeof(out),
	    &outlen), E_INVALID);

	/* wrong direction types, without killing the direction */
	pair_init(&tx, &rx, NEVER);
	assert_int_equal(kd_record_seal(&rx, NULL, 0, out, sizeof(out),
	    &outlen), E_INVALID);
	assert_int_equal(kd_record_seal(&tx, NULL, 0, rec, sizeof(rec),
	    &reclen), 0);
	assert_int_equal(kd_record_open(&tx, rec, reclen, out, sizeof(out),
	    &outlen), E_INVALID);
	assert_int_equal(kd_record_open(&rx, rec, reclen, out, sizeof(out),
	    &outlen), 0);
	assert_int_equal(outlen, 0);
	assert_int_equal(kd_record_seal(&tx, NULL, 0, rec, sizeof(rec),
	    &reclen), 0);
	assert_int_equal(kd_record_seal(&tx, NULL, 5, out, sizeof(out),
	    &outlen), E_INVALID);
	assert_int_equal(outlen, 0);
	/* empty plaintext, no output buffer at all */
	assert_int_equal(kd_record_open(&rx, rec, reclen, NULL, 0, &outlen),
	    0);
	assert_int_equal(kd_record_seq(&rx), 2);

	/* cleared after use: safe twice, then refuses */
	kd_record_clear(&tx);
	kd_record_clear(&tx);
	assert_true(all_zero((const uint8_t *)&tx, sizeof(tx)));
	assert_int_equal(kd_record_seal(&tx, NULL, 0, rec, sizeof(rec),
	    &reclen), E_INVALID);
	kd_record_clear(&rx);
}

/*
 * A parked direction (kd_record_park(): its context freed while idle)
 * seals and opens the same records as one that never was, across
 * rekeys (every 4 records here), and still counts as keyed.
 */
static void
test_park(void **state)
{
	struct kd_record_dir tx, rx, tx2, rx2;
	uint8_t plain[100], *rec, *rec2, out[100];
	size_t i, reclen, reclen2, outlen;

	(void)state;
	pair_init(&tx, &rx, 4);
	pair_init(&tx2, &rx2, 4);
	for (i = 0; i < 13; i++) {
		fill(plain, sizeof(plain), (unsigned)i);
		if (i % 2 == 0)
			kd_record_park(&tx);
		if (i % 3 == 0)
			kd_record_park(&rx);
		assert_true(kd_record_keyed(&tx));
		assert_true(kd_record_keyed(&rx));
		rec = seal_new(&tx, plain, sizeof(plain), &reclen);
		rec2 = seal_new(&tx2, plain, sizeof(plain), &reclen2);
		assert_memory_equal(rec, rec2, reclen);
		assert_int_equal(kd_record_open(&rx, rec, reclen, out,
		    sizeof(out), &outlen), 0);
		assert_memory_equal(out, plain, sizeof(plain));
		free(rec);
		free(rec2);
	}
	kd_record_park(&tx);
	kd_record_clear(&tx);
	assert_false(kd_record_keyed(&tx));
	kd_record_clear(&rx);
	kd_record_clear(&tx2);
	kd_record_clear(&rx2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_park),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_golden_records),
		cmocka_unit_test(test_bitflip_every_offset),
		cmocka_unit_test(test_replay_refused),
		cmocka_unit_test(test_reorder_and_drop_refused),
		cmocka_unit_test(test_other_session_refused),
		cmocka_unit_test(test_truncated_refused),
		cmocka_unit_test(test_rekey),
		cmocka_unit_test(test_peek_bounds),
		cmocka_unit_test(test_seq_exhausted),
		cmocka_unit_test(test_seal_buffer_too_small),
		cmocka_unit_test(test_open_buffer_too_small),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_init_clear_misuse),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
