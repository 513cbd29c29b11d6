/* server/throttle.c: windows, failures, locks, pruning, the size bound
   (eviction, which a flood of new keys cannot turn into no limit), and
   the prefixes addresses are counted by. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "server/throttle.h"

static void
test_hits_per_window(void **state)
{
	struct throttle *t = throttle_new(16);

	(void)state;
	assert_non_null(t);
	assert_int_equal(throttle_hit(t, "10.0.0.1", 1000, 60000), 1);
	assert_int_equal(throttle_hit(t, "10.0.0.1", 2000, 60000), 2);
	assert_int_equal(throttle_hit(t, "10.0.0.2", 2000, 60000), 1);
	assert_int_equal(throttle_hit(t, "10.0.0.1", 60999, 60000), 3);
	/* A new window starts 60 s after the first hit of the old one. */
	assert_int_equal(throttle_hit(t, "10.0.0.1", 61000, 60000), 1);
	throttle_free(t);
}

static void
test_failures_lock(void **state)
{
	struct throttle *t = throttle_new(16);

	(void)state;
	assert_int_equal(throttle_fail(t, "u:alice", 0, 3, 5000), 1);
	assert_int_equal(throttle_locked(t, "u:alice", 0), 0);
	assert_int_equal(throttle_fail(t, "u:alice", 100, 3, 5000), 2);
	assert_int_equal(throttle_fail(t, "u:alice", 200, 3, 5000), 3);
	assert_int_equal(throttle_locked(t, "u:alice", 200), 5000);
	assert_int_equal(throttle_locked(t, "u:alice", 5199), 1);
	assert_int_equal(throttle_locked(t, "u:alice", 5200), 0);
	assert_int_equal(throttle_locked(t, "u:bob", 200), 0);
	/* Pruning keeps a locked entry, drops it once unlocked and idle. */
	assert_int_equal(throttle_prune(t, 1000, 100), 0);
	assert_int_equal(throttle_count(t), 1);
	assert_int_equal(throttle_prune(t, 6000, 100), 1);
	assert_int_equal(throttle_count(t), 0);
	/* A success clears the count. */
	assert_int_equal(throttle_fail(t, "u:bob", 0, 3, 5000), 1);
	throttle_clear(t, "u:bob");
	assert_int_equal(throttle_fail(t, "u:bob", 0, 3, 5000), 1);
	throttle_free(t);
}

static void
test_bounded(void **state)
{
	struct throttle *t = throttle_new(2);
	char key[80];

	(void)state;
	assert_int_equal(throttle_hit(t, "a", 0, 1000), 1);
	assert_int_equal(throttle_hit(t, "b", 1, 1000), 1);
	assert_int_equal(throttle_hit(t, "a", 2, 1000), 2);
	/* Full: a new key evicts the least recently touched one (b). */
	assert_int_equal(throttle_hit(t, "c", 3, 1000), 1);
	assert_int_equal(throttle_count(t), 2);
	assert_int_equal(throttle_evicted(t), 1);
	assert_int_equal(throttle_hit(t, "a", 4, 1000), 3);
	assert_int_equal(throttle_hit(t, "b", 5, 1000), 1);
	throttle_free(t);

	t = throttle_new(8);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(throttle_hit(t, key, 0, 1000), 0);
	throttle_free(t);
}

/*
 * An attacker fills the table with fresh keys (one connection from each
 * of many prefixes): the flood from one more prefix is still counted (the
 * table used to stop tracking new keys once full, and admit them all), and
 * a lock is not evicted by the flood.
 */
static void
test_flood_does_not_fail_open(void **state)
{
	struct throttle *t = throttle_new(16);
	char key[32];
	unsigned i, n = 0;

	(void)state;
	assert_int_equal(throttle_fail(t, "u:alice", 0, 1, 60000), 1);
	for (i = 0; i < 1000; i++) {
		(void)snprintf(key, sizeof(key), "c:10.%u.%u.0/24", i / 256,
		    i % 256);
		assert_int_equal(throttle_hit(t, key, 1 + i, 60000), 1);
		/* One more prefix, first seen once the table is full. */
		if (i >= 100 && i % 10 == 0)
			n = throttle_hit(t, "c:192.0.2.0/24", 1 + i, 60000);
	}
	assert_int_equal(n, 90);
	assert_int_equal(throttle_count(t), 16);
	assert_true(throttle_locked(t, "u:alice", 2000) > 0);
	throttle_free(t);
}

static void
test_prefix(void **state)
{
	char p[THROTTLE_PREFIX_MAX];

	(void)state;
	throttle_prefix("192.0.2.77", p);
	assert_string_equal(p, "192.0.2.0/24");
	throttle_prefix("::ffff:192.0.2.77", p);
	assert_string_equal(p, "192.0.2.0/24");
	throttle_prefix("2001:db8:1:2:3:4:5:6", p);
	assert_string_equal(p, "2001:db8:1:2::/64");
	throttle_prefix("::1", p);
	assert_string_equal(p, "::/64");
	throttle_prefix("?", p);
	assert_string_equal(p, "?");
}

static void
test_delay_grows(void **state)
{
	(void)state;
	assert_int_equal(throttle_delay_ms(1, 500), 500);
	assert_int_equal(throttle_delay_ms(2, 500), 1000);
	assert_int_equal(throttle_delay_ms(4, 500), 4000);
	assert_int_equal(throttle_delay_ms(5, 500), THROTTLE_DELAY_MAX_MS);
	assert_int_equal(throttle_delay_ms(1000000, 500), THROTTLE_DELAY_MAX_MS);
	assert_int_equal(throttle_delay_ms(7, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hits_per_window),
		cmocka_unit_test(test_failures_lock),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_flood_does_not_fail_open),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_delay_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
