/*
 * The load accounts that tests/tools/load-setup.c makes and
 * tests/tools/load.c logs in: account i (1 to LOAD_MAX) is PREFIX and i in
 * five digits ("load00017"), and its private key is KEYDIR/00017.key, so
 * that one cache of keys serves any prefix.
 */
#ifndef MISSIVE_TESTS_LOAD_H
#define MISSIVE_TESTS_LOAD_H

#include <stdio.h>

#define LOAD_MAX 99999
#define LOAD_PREFIX "load"
#define LOAD_PREFIX_MAX 16      /* leaves room for the digits in a name */

/* 0, or -1 if it does not fit. */
static inline int
load_user(char *buf, size_t len, const char *prefix, unsigned i)
{
	int n = snprintf(buf, len, "%s%05u", prefix, i);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static inline int
load_key_path(char *buf, size_t len, const char *dir, unsigned i)
{
	int n = snprintf(buf, len, "%s/%05u.key", dir, i);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Account i's login secret (keydist/login.h), cached by load-setup. */
static inline int
load_secret_path(char *buf, size_t len, const char *dir, unsigned i)
{
	int n = snprintf(buf, len, "%s/%05u.login", dir, i);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

#endif
