/* Unit tests: Argon2id password hashing (common/passwd.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/passwd.h"

static void
test_hash_verify(void **state)
{
	char a[PASSWD_PHC_MAX], b[PASSWD_PHC_MAX];

	(void)state;
	assert_int_equal(passwd_hash("111111", 6, a), 0);
	assert_non_null(strstr(a, "$argon2id$v=19$m=19456,t=2,p=1$"));
	assert_int_equal(passwd_verify(a, "111111", 6), 0);
	assert_int_equal(passwd_verify(a, "111112", 6), E_PASSWORD);
	assert_int_equal(passwd_verify(a, "11111", 5), E_PASSWORD);
	assert_int_equal(passwd_verify(a, "", 0), E_PASSWORD);
	/* A fresh salt each time. */
	assert_int_equal(passwd_hash("111111", 6, b), 0);
	assert_string_not_equal(a, b);
}

static void
test_stored_hash_bounds(void **state)
{
	static const char *bad[] = {
		"",
		"111111",
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		/* 4 GiB of memory per login: refused before argon2 runs. */
		"$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m=19456,t=1000,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=64$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$!!!$aGFzaA",
		/* 2^32 + 19456, a sign, a space: what %u would let by. */
		"$argon2id$v=19$m=4294986752,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m=+19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m= 19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(passwd_verify(bad[i], "111111", 6),
		    E_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_stored_hash_bounds),
	};

	return cmocka_run_group_tests_name("passwd", tests, NULL, NULL);
}
