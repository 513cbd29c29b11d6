/* common/proto.c: the opcode table, the word tables, the validators of
   common/proto.h and keydist (kd_fp_valid), and the shortest payloads
   (PROTO_MSG_MIN, PROTO_BLOB_MIN) measured on the real formats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/e2e.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/proto.h"
#include "keydist/keys.h"
#include "keydist/senderkey.h"

/* Every opcode once, four digits, in the direction its number says. */
static void
test_op_table(void **state)
{
	size_t i, j;

	(void)state;
	assert_true(proto_nops >= 32);
	for (i = 0; i < proto_nops; i++) {
		assert_true(proto_ops[i].op >= 1 && proto_ops[i].op <= 1999);
		assert_true(proto_ops[i].min <= proto_ops[i].max);
		assert_true(proto_ops[i].max <= FRAME_MAX_FIELDS);
		assert_non_null(proto_ops[i].name);
		assert_ptr_equal(proto_op_spec(proto_ops[i].op), &proto_ops[i]);
		for (j = i + 1; j < proto_nops; j++)
			assert_int_not_equal(proto_ops[i].op, proto_ops[j].op);
	}
	assert_null(proto_op_spec(0));
	assert_null(proto_op_spec(7));
	assert_null(proto_op_spec(1007));
	assert_false(proto_op_from_server(OP_LOGIN));
	assert_false(proto_op_from_server(OP_CLIENT_FINISHED));
	assert_true(proto_op_from_server(OP_LOGIN_RESULT));
	assert_true(proto_op_from_server(OP_REFUSED));
	/* The core four of the mission, as docs/PROTOCOL.md numbers them. */
	assert_int_equal(proto_op_spec(1)->max, 2);
	assert_int_equal(proto_op_spec(2)->max, 3);      /* version 3: mid */
	assert_int_equal(proto_op_spec(1001)->max, 2);
	assert_int_equal(proto_op_spec(1002)->max, 8);   /* seq, mid */
	assert_int_equal(proto_op_spec(OP_ACK)->max, 1);
	assert_int_equal(proto_op_spec(OP_NOT_STORED)->min, 3);
	assert_int_equal(proto_op_spec(OP_WHO)->min, 0);
	assert_int_equal(proto_op_spec(OP_WHO)->max, 1);
}

static void
test_close_words(void **state)
{
	(void)state;
	assert_string_equal(proto_close_word(PROTO_CLOSE_QUIT), "quit");
	assert_string_equal(proto_close_word(PROTO_CLOSE_NOT_ENROLLED),
	    "not_enrolled");
	assert_true(proto_close_normal(PROTO_CLOSE_TIMEOUT));
	assert_true(proto_close_normal(PROTO_CLOSE_SHUTDOWN));
	assert_false(proto_close_normal(PROTO_CLOSE_SLOW));
	assert_false(proto_close_normal(PROTO_CLOSE_PROTOCOL));
	/* 1003 LEAVE knows quit, closed, timeout, slow, shutdown, error. */
	assert_string_equal(proto_close_leave_word(PROTO_CLOSE_SLOW), "slow");
	assert_string_equal(proto_close_leave_word(PROTO_CLOSE_CLOSED),
	    "closed");
	assert_string_equal(proto_close_leave_word(PROTO_CLOSE_PROTOCOL),
	    "error");
	assert_string_equal(proto_close_leave_word(PROTO_CLOSE_LOGIN),
	    "error");
	assert_string_equal(proto_error_word(PROTO_ERR_USER), "user");
	assert_true(proto_leave_stays("quit"));
	assert_false(proto_leave_stays(PROTO_LEAVE_LEFT));
	assert_false(proto_leave_stays(PROTO_LEAVE_REVOKED));
}

static void
test_login_words(void **state)
{
	int l;

	(void)state;
	assert_string_equal(proto_login_word(PROTO_LOGIN_OK), "OK");
	for (l = PROTO_LOGIN_INVALID; l <= PROTO_LOGIN_BUSY; l++)
		assert_int_equal(proto_login_reason(
		    proto_login_word((enum proto_login)l)), l);
	assert_int_equal(proto_login_reason("OK"), -1);
	assert_int_equal(proto_login_reason("Invalid"), -1);
	assert_int_equal(proto_login_reason(""), -1);
	assert_true(proto_login_transient(PROTO_LOGIN_BUSY));
	assert_true(proto_login_transient(PROTO_LOGIN_UNAVAILABLE));
	assert_false(proto_login_transient(PROTO_LOGIN_LOCKED));
}

static void
test_token(void **state)
{
	(void)state;
	assert_true(proto_token_valid("a", 1));
	assert_true(proto_token_valid("Az09", 4));
	assert_true(proto_token_valid("abcdefghijklmnopqrstuvwxyz012345", 32));
	assert_false(proto_token_valid("abcdefghijklmnopqrstuvwxyz0123456",
	    33));
	assert_false(proto_token_valid("", 0));
	assert_false(proto_token_valid("a-b", 3));
	assert_false(proto_token_valid("a|b", 3));
}

/*
 * bytes[0..n) in base64 are exactly min characters long, pass the relay's
 * check with that lower bound, and one quantum less does not.
 */
static void
assert_shortest(const uint8_t *bytes, size_t n, size_t min)
{
	char *t = malloc(B64_ENCODED_SIZE(n));
	long len;

	assert_non_null(t);
	len = b64_encode(bytes, n, t, B64_ENCODED_SIZE(n), 1);
	assert_int_equal(len, min);
	assert_true(b64_canonical(t, min, min, min));
	assert_false(b64_canonical(t + 4, min - 4, min, min));
	free(t);
}

/*
 * PROTO_MSG_MIN and PROTO_BLOB_MIN are what the formats make: the
 * shortest chat line a client opens, sealed, and a distribution between
 * keys of the smallest size.
 */
static void
test_payload_min(void **state)
{
	struct kd_sender_key sk;
	struct e2e_line line;
	EVP_PKEY *key = NULL;
	char fp[KD_FP_SIZE], text[8];
	uint8_t plain[E2E_HEAD_LEN + 2] = { E2E_KIND_TEXT }, *msg, *blob;
	size_t n;

	(void)state;
	/* The shortest line: a 1-byte nickname and a 1-byte text. */
	plain[E2E_HEAD_LEN - 1] = 1;
	plain[E2E_HEAD_LEN] = 'a';
	plain[E2E_HEAD_LEN + 1] = 'b';
	assert_int_equal(e2e_parse_line(plain, sizeof(plain), text,
	    sizeof(text), &line), 0);
	assert_int_equal(e2e_parse_line(plain, sizeof(plain) - 1, text,
	    sizeof(text), &line), E_MALFORMED);
	/* A distribution first: only a key that sealed nothing goes out. */
	assert_int_equal(kd_sk_generate(&sk), 0);
	assert_int_equal(kd_key_generate(KD_RSA_MIN_BITS, &key), 0);
	assert_int_equal(kd_fingerprint(key, fp), 0);
	assert_non_null(blob = malloc(KD_SKD_MAX));
	assert_int_equal(kd_sk_distribute(&sk, key, key, "lobby", "alice", fp,
	    blob, KD_SKD_MAX, &n), 0);
	assert_shortest(blob, n, PROTO_BLOB_MIN);
	free(blob);

	assert_non_null(msg = malloc(sizeof(plain) + KD_SK_OVERHEAD));
	assert_int_equal(kd_sk_seal(&sk, "lobby", "alice", plain,
	    sizeof(plain), msg, sizeof(plain) + KD_SK_OVERHEAD, &n), 0);
	assert_shortest(msg, n, PROTO_MSG_MIN);
	free(msg);
	EVP_PKEY_free(key);
	kd_sk_clear(&sk);
}

static void
test_fp_valid(void **state)
{
	const char *ok = "SHA256:JbkB3+gADdG4AbNwzqv4ENJudKcFutCnh2FDjfKLqlI";
	char fp[KD_FP_SIZE];

	(void)state;
	assert_true(kd_fp_valid(ok, strlen(ok)));
	assert_false(kd_fp_valid(ok, strlen(ok) - 1));
	memcpy(fp, ok, sizeof(fp));
	fp[0] = 's';
	assert_false(kd_fp_valid(fp, strlen(fp)));
	memcpy(fp, ok, sizeof(fp));
	fp[20] = '=';
	assert_false(kd_fp_valid(fp, strlen(fp)));
	/* The last character's low bits must be 0: one spelling only. */
	memcpy(fp, ok, sizeof(fp));
	fp[KD_FP_SIZE - 2] = 'J';
	assert_false(kd_fp_valid(fp, strlen(fp)));
}

static void
test_frame_put(void **state)
{
	struct buf b = BUF_INIT;
	struct frame_field f[2] = { { "lobby", 5 }, { "a|b", 3 } };

	(void)state;
	assert_int_equal(frame_put(&b, OP_CHAT, f, 2), 0);
	assert_int_equal(frame_put(&b, OP_QUIT, NULL, 0), 0);
	assert_int_equal(buf_size(&b), 20);
	assert_memory_equal(buf_data(&b), "0002|lobby|a|b\n0003\n", 20);
	f[0].p = "lo|bby";
	f[0].len = 6;
	assert_int_not_equal(frame_put(&b, OP_CHAT, f, 2), 0);
	assert_int_equal(buf_size(&b), 20);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_table),
		cmocka_unit_test(test_close_words),
		cmocka_unit_test(test_login_words),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_payload_min),
		cmocka_unit_test(test_fp_valid),
		cmocka_unit_test(test_frame_put),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
