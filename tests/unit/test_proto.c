/* common/proto.c: the opcode table, the word tables, the validators of
   common/proto.h, common/b64.h (b64_shaped) and keydist (kd_fp_valid). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/frame.h"
#include "common/proto.h"
#include "keydist/keys.h"

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
	assert_int_equal(proto_op_spec(2)->max, 2);
	assert_int_equal(proto_op_spec(1001)->max, 2);
	assert_int_equal(proto_op_spec(1002)->max, 6);
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

static void
test_b64_shaped(void **state)
{
	(void)state;
	assert_true(b64_shaped("QUJD", 4, 4));
	assert_true(b64_shaped("QUI=", 4, 4));
	assert_true(b64_shaped("QQ==", 4, 4));
	assert_false(b64_shaped("QUJD", 4, 3));
	assert_false(b64_shaped("", 0, 4));
	assert_false(b64_shaped("QUJ", 3, 4));
	assert_false(b64_shaped("Q===", 4, 4));
	assert_false(b64_shaped("Q=JD", 4, 4));
	assert_false(b64_shaped("QU-D", 4, 4));
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
		cmocka_unit_test(test_b64_shaped),
		cmocka_unit_test(test_fp_valid),
		cmocka_unit_test(test_frame_put),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
