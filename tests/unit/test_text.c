/* Unit tests: user names, nicknames and UTF-8 (common/text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/text.h"

static void
test_user_names(void **state)
{
	static const char *good[] = {
		"user1", "a", "0day", "alice.smith", "bob_b", "carol-c",
		"abcdefghijklmnopqrstuvwxyz012345",   /* 32 */
	};
	static const char *bad[] = {
		"", "User1", "_x", ".x", "-x", "a|b", "a b", "a\nb", "é",
		"x'; DROP TABLE users;--", "a%", "abcdefghijklmnopqrstuvwxyz0123456",
		"tab\tx", "semi;colon",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(name_check_user(good[i]), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(name_check_user(bad[i]), E_BAD_NAME);
}

static void
test_nicknames(void **state)
{
	static const char *good[] = {
		"Alice", "Zoë", "Олександр", "李小龙", "Robert'); DROP TABLE users;--",
		"🙂 smile",
	};
	static const char *bad[] = {
		"", "a|b", "new\nline", "tab\t", "del\x7f", "\xff\xfe",
		"\xc0\xaf" /* overlong '/' */, "\xed\xa0\x80" /* surrogate */,
		"\xe2\x82" /* truncated */,
	};
	char longnick[NAME_NICK_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(name_check_nick(good[i]), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(name_check_nick(bad[i]), E_BAD_NICK);
	memset(longnick, 'n', sizeof(longnick) - 1);
	longnick[sizeof(longnick) - 1] = '\0';
	assert_int_equal(name_check_nick(longnick), E_BAD_NICK);
	longnick[NAME_NICK_MAX] = '\0';
	assert_int_equal(name_check_nick(longnick), 0);
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(utf8_valid((const uint8_t *)"", 0));
	assert_true(utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4));
	assert_false(utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
	assert_false(utf8_valid((const uint8_t *)"\xe0\x80\xaf", 3));
	assert_false(utf8_valid((const uint8_t *)"\xf0\x9f\x99", 3));
	assert_false(utf8_valid((const uint8_t *)"\x80", 1));
	assert_true(utf8_valid((const uint8_t *)"a\0b", 3));
}

static int
chat_ok(const char *s, size_t max)
{
	return text_chat_problem((const uint8_t *)s, strlen(s), max) == NULL;
}

static void
test_chat_text(void **state)
{
	(void)state;
	assert_true(chat_ok("hello", 100));
	assert_true(chat_ok("a|b with\ttab, ünïcödé, \xf0\x9f\x98\x80", 100));
	assert_true(chat_ok("12345", 5));
	assert_false(chat_ok("123456", 5));
	assert_false(chat_ok("", 100));
	assert_false(chat_ok("bell\a", 100));
	assert_false(chat_ok("esc\x1b[2J", 100));
	assert_false(chat_ok("del\x7f", 100));
	assert_false(chat_ok("c1 \xc2\x9b", 100));      /* U+009B CSI */
	assert_true(chat_ok("nbsp \xc2\xa0", 100));     /* U+00A0 is text */
	assert_false(chat_ok("bad \xc3\x28", 100));     /* not UTF-8 */
	assert_string_equal(text_chat_problem((const uint8_t *)"a\0b", 3, 100),
	    "it contains a control character");
	assert_string_equal(text_chat_problem((const uint8_t *)"abc", 3, 2),
	    "it is too long");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_names),
		cmocka_unit_test(test_nicknames),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_chat_text),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
