/*
 * The enrolled client keys, as a snapshot in memory: the fingerprint of
 * every key that is not revoked, with its owner and whether the owner's
 * account is disabled.  A worker builds a fresh snapshot from MariaDB
 * (server/refresh.c, about once a second) and the loop swaps it in, so
 * the loop can refuse the KeyExchange of a key nobody enrolled before
 * any RSA work, and find the sessions of keys revoked since.
 */
#ifndef MISSIVE_ENROLLED_H
#define MISSIVE_ENROLLED_H

#include <stddef.h>

#include "common/db.h"
#include "common/text.h"
#include "keydist/keys.h"

struct enrolled_key {
	char fp[KD_FP_SIZE];
	char owner[NAME_USER_MAX + 1];
	int disabled;                /* the owner's account is disabled */
};

struct enrolled {
	struct enrolled_key *keys;   /* sorted by fp */
	size_t n, cap;
};

/* Add one key (any order): 0, E_INVALID (not a fingerprint, or a bad
   owner name), E_NOMEM. */
int enrolled_add(struct enrolled *e, const char *fp, const char *owner,
    int disabled) __attribute__((warn_unused_result));

/* Sort the keys added, for enrolled_find(). */
void enrolled_seal(struct enrolled *e);

/* The sealed snapshot's entry for fp, or NULL. */
const struct enrolled_key *enrolled_find(const struct enrolled *e,
    const char *fp);

/* Free the keys; e is then empty. */
void enrolled_free(struct enrolled *e);

/* Worker thread: a fresh, sealed snapshot from db into *out (empty on
   entry).  0 or the database's error (*out is then empty). */
int enrolled_load(struct db *db, struct enrolled *out)
    __attribute__((warn_unused_result));

#endif
