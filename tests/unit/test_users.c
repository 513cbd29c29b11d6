/* server/users.c: the logged-in connections by user name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "server/users.h"

#define NLINK 300

static size_t
count(const struct users *u, const char *name)
{
	const struct user_link *l;
	size_t n = 0;

	for (l = users_first(u, name); l != NULL; l = l->next) {
		assert_true(l->next == NULL || l->next->prev == l);
		n++;
	}
	return n;
}

static void
test_add_remove(void **state)
{
	struct users u;
	struct user_link a1 = { 0 }, a2 = { 0 }, b = { 0 };

	(void)state;
	users_init(&u);
	assert_null(users_first(&u, "alice"));
	assert_int_equal(users_add(&u, &a1, "alice"), 0);
	assert_int_equal(users_add(&u, &a2, "alice"), 0);
	assert_int_equal(users_add(&u, &b, "bob"), 0);
	assert_int_equal(u.nuser, 2);
	/* Newest first. */
	assert_ptr_equal(users_first(&u, "alice"), &a2);
	assert_ptr_equal(a2.next, &a1);
	assert_int_equal(count(&u, "alice"), 2);
	assert_int_equal(count(&u, "bob"), 1);
	assert_null(users_first(&u, "carol"));
	assert_null(users_first(&u, "alic"));
	users_remove(&u, &a2);
	assert_ptr_equal(users_first(&u, "alice"), &a1);
	assert_null(a1.prev);
	users_remove(&u, &a2);          /* not in: nothing happens */
	users_remove(&u, &a1);
	assert_null(users_first(&u, "alice"));
	assert_int_equal(u.nuser, 1);
	assert_int_equal(users_add(&u, &a1, "alice"), 0);
	assert_int_equal(count(&u, "alice"), 1);
	users_remove(&u, &a1);
	users_remove(&u, &b);
	assert_int_equal(u.nuser, 0);
	assert_int_equal(users_add(&u, &b,
	    "abcdefghijklmnopqrstuvwxyz0123456"), E_BAD_NAME);
	users_free(&u);
}

/* Many names: the table grows, every chain stays whole. */
static void
test_many(void **state)
{
	static struct user_link l[NLINK];
	struct users u;
	char name[16];
	size_t i;

	(void)state;
	users_init(&u);
	for (i = 0; i < NLINK; i++) {
		(void)snprintf(name, sizeof(name), "u%zu", i / 2);
		assert_int_equal(users_add(&u, &l[i], name), 0);
	}
	assert_int_equal(u.nuser, NLINK / 2);
	assert_true(u.nbucket >= NLINK / 2);
	for (i = 0; i < NLINK / 2; i++) {
		(void)snprintf(name, sizeof(name), "u%zu", i);
		assert_int_equal(count(&u, name), 2);
	}
	for (i = 0; i < NLINK; i += 2)
		users_remove(&u, &l[i]);
	for (i = 0; i < NLINK / 2; i++) {
		(void)snprintf(name, sizeof(name), "u%zu", i);
		assert_ptr_equal(users_first(&u, name), &l[2 * i + 1]);
	}
	for (i = 1; i < NLINK; i += 2)
		users_remove(&u, &l[i]);
	assert_int_equal(u.nuser, 0);
	users_free(&u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_remove),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
