/* Unit tests: words and times the front ends show (client/wording.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "client/wording.h"

#define DAY_MS (24LL * 3600 * 1000)

/* A line of today: the clock alone, with or without seconds. */
static void
test_when_today(void **state)
{
	char out[WORDING_WHEN_MAX];
	time_t now = time(NULL);
	struct tm tm;

	(void)state;
	/* Noon of today, so the test does not straddle midnight. */
	assert_non_null(localtime_r(&now, &tm));
	tm.tm_hour = 12;
	tm.tm_min = 34;
	tm.tm_sec = 56;
	now = mktime(&tm);
	wording_when((int64_t)now * 1000, 1, out);
	assert_string_equal(out, "12:34:56");
	wording_when((int64_t)now * 1000, 0, out);
	assert_string_equal(out, "12:34");
	/* 0 is now: a clock of today. */
	wording_when(0, 1, out);
	assert_int_equal(strlen(out), 8);
}

/* A line of another day (stored while we were away): dated. */
static void
test_when_other_day(void **state)
{
	char out[WORDING_WHEN_MAX], want[WORDING_WHEN_MAX];
	time_t then = time(NULL) - 3 * (time_t)(DAY_MS / 1000);
	struct tm tm;

	(void)state;
	assert_non_null(localtime_r(&then, &tm));
	assert_true(strftime(want, sizeof(want), "%Y-%m-%d %H:%M:%S", &tm) > 0);
	wording_when((int64_t)then * 1000, 1, out);
	assert_string_equal(out, want);
	assert_true(strftime(want, sizeof(want), "%Y-%m-%d %H:%M", &tm) > 0);
	wording_when((int64_t)then * 1000, 0, out);
	assert_string_equal(out, want);
}

/* The notice of a room joined counts devices, in each front end's case. */
static void
test_joined(void **state)
{
	struct session_event ev = { .kind = SESSION_EV_JOINED, .room = "dev",
	    .count = 1 };
	char out[WORDING_MAX];

	(void)state;
	wording_joined(out, sizeof(out), WORDING_TERMINAL, &ev);
	assert_string_equal(out, "you are in #dev with 1 other device");
	ev.count = 2;
	wording_joined(out, sizeof(out), WORDING_GUI, &ev);
	assert_string_equal(out, "You are in #dev with 2 other devices");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_when_today),
		cmocka_unit_test(test_when_other_day),
		cmocka_unit_test(test_joined),
	};

	/* Local time is UTC here, whatever the machine says. */
	if (setenv("TZ", "UTC", 1) != 0)
		return 1;
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
