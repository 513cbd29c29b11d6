/* Unit tests: text frames (common/frame.c): empty, truncated, max cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/frame.h"

static int
parse(const char *s, size_t min, size_t max, struct frame *f)
{
	return frame_parse(s, strlen(s), min, max, f);
}

static void
test_parse_success(void **state)
{
	struct frame f;

	(void)state;
	assert_int_equal(parse("0001|user1|111111", 2, 2, &f), 0);
	assert_int_equal(f.opcode, 1);
	assert_int_equal(f.nfields, 2);
	assert_true(frame_field_is(&f.field[0], "user1"));
	assert_true(frame_field_is(&f.field[1], "111111"));
	/* The last field takes the rest, '|' included. */
	assert_int_equal(parse("0002|a|b||c", 1, 1, &f), 0);
	assert_true(frame_field_is(&f.field[0], "a|b||c"));
	/* Empty fields are fields. */
	assert_int_equal(parse("1002|||", 3, 3, &f), 0);
	assert_int_equal(f.nfields, 3);
	assert_int_equal(f.field[2].len, 0);
	assert_int_equal(parse("0003", 0, 0, &f), 0);
	assert_int_equal(f.nfields, 0);
	assert_int_equal(parse("9999|x", 0, 1, &f), 0);
	assert_int_equal(f.opcode, 9999);
}

static void
test_parse_refused(void **state)
{
	static const struct {
		const char *line;
		size_t min, max;
	} bad[] = {
		{ "", 0, 0 },            /* empty */
		{ "000", 0, 0 },         /* truncated opcode */
		{ "00a1|x", 1, 1 },      /* not digits */
		{ "00011|x", 1, 1 },     /* five digits */
		{ "0001x", 0, 1 },       /* no separator */
		{ "0001|user1", 2, 2 },  /* too few fields */
		{ "0003|x", 0, 0 },      /* too many fields */
		{ "0002|a\rb", 1, 1 },   /* CR */
	};
	struct frame f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i].line, bad[i].min, bad[i].max, &f),
		    E_MALFORMED);
	assert_int_equal(frame_parse("0002|a\nb", 8, 1, 1, &f), E_MALFORMED);
	assert_int_equal(frame_parse("0002|a\0b", 8, 1, 1, &f), E_MALFORMED);
	assert_int_equal(parse("0002|x", 1, FRAME_MAX_FIELDS + 1, &f),
	    E_INVALID);
}

static void
test_max_fields(void **state)
{
	char line[128] = "0005";
	size_t len = 4;
	struct frame f;
	int i;

	(void)state;
	assert_true(len + 2 * (size_t)FRAME_MAX_FIELDS + 2 < sizeof(line));
	for (i = 0; i < FRAME_MAX_FIELDS; i++) {
		memcpy(line + len, "|f", 3);
		len += 2;
	}
	assert_int_equal(parse(line, FRAME_MAX_FIELDS, FRAME_MAX_FIELDS, &f), 0);
	assert_int_equal(f.nfields, FRAME_MAX_FIELDS);
	memcpy(line + len, "|g", 3);
	/* One more: it lands in the last field, which then holds "f|g". */
	assert_int_equal(parse(line, FRAME_MAX_FIELDS, FRAME_MAX_FIELDS, &f), 0);
	assert_true(frame_field_is(&f.field[FRAME_MAX_FIELDS - 1], "f|g"));
}

static void
test_build(void **state)
{
	struct frame_field fl[] = { { "Alice", 5 }, { "12:00", 5 }, { "a|b", 3 } };
	struct frame_field pipe_first[] = { { "a|b", 3 }, { "x", 1 } };
	struct frame_field nl[] = { { "a\nb", 3 } };
	char out[32];
	size_t len;

	(void)state;
	assert_int_equal(frame_build(out, sizeof(out), &len, 1002, fl, 3), 0);
	assert_string_equal(out, "1002|Alice|12:00|a|b");
	assert_int_equal(len, strlen(out));
	assert_int_equal(frame_build(out, sizeof(out), &len, 7, NULL, 0), 0);
	assert_string_equal(out, "0007");
	assert_int_equal(frame_build(out, sizeof(out), &len, 2, pipe_first, 2),
	    E_MALFORMED);
	assert_int_equal(frame_build(out, sizeof(out), &len, 2, nl, 1),
	    E_MALFORMED);
	/* Exactly fitting (what frame_build_size() says), and one byte short. */
	assert_int_equal(frame_build_size(fl, 3), 21);
	assert_int_equal(frame_build_size(NULL, 0), 5);
	assert_int_equal(frame_build(out, 21, &len, 1002, fl, 3), 0);
	assert_int_equal(frame_build(out, 20, &len, 1002, fl, 3), E_TOO_LONG);
	assert_int_equal(frame_build(out, sizeof(out), &len, 10000, NULL, 0),
	    E_INVALID);
}

static void
test_b64_fields(void **state)
{
	struct frame_field ok = { "Zm9v", 4 }, pad = { "Zm8=", 4 };
	struct frame_field bad = { "Zm9", 3 };
	uint8_t out[8];
	size_t len;

	(void)state;
	assert_int_equal(frame_field_b64(&ok, out, 3), 0);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(frame_field_b64(&ok, out, 2), E_MALFORMED);
	assert_int_equal(frame_field_b64(&bad, out, 2), E_MALFORMED);
	assert_int_equal(frame_field_b64_var(&pad, out, sizeof(out), &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(frame_field_b64_var(&ok, out, 2, &len), E_TOO_LONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_success),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_max_fields),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_b64_fields),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
