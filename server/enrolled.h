/*
 * The enrolled client keys, as a snapshot in memory: the key directory.
 * Every key that is not revoked, with its row id (the device's inbox is
 * keyed by it), owner, the owner's nickname, its SPKI for peers, and
 * whether the owner's account is disabled.  A worker builds a fresh
 * snapshot from MariaDB (server/refresh.c, about once a second) and the
 * loop swaps it in, so the loop can refuse the KeyExchange of a key
 * nobody enrolled before any RSA work, find the sessions of keys revoked
 * since, and list and store for the devices of users who are offline.
 */
#ifndef MISSIVE_ENROLLED_H
#define MISSIVE_ENROLLED_H

#include <stddef.h>

#include "common/db.h"
#include "common/text.h"
#include "keydist/keys.h"

struct enrolled_key {
	long long key_id;            /* client_keys.key_id: the device */
	char fp[KD_FP_SIZE];
	char owner[NAME_USER_MAX + 1];
	char nick[NAME_NICK_MAX * 4 + 1]; /* the owner's nickname */
	char *spki;                  /* b64 of its DER SPKI (NULL in tests
	                                that do not need it) */
	int disabled;                /* the owner's account is disabled */
};

struct enrolled {
	struct enrolled_key *keys;   /* sorted by fp */
	struct enrolled_key **by_owner; /* sorted by owner, then fp */
	size_t n, cap;
};

/* Add a copy of k (any order; spki is copied): 0, E_INVALID (not a
   fingerprint, or a bad owner name), E_NOMEM. */
int enrolled_add(struct enrolled *e, const struct enrolled_key *k)
    __attribute__((warn_unused_result));

/* Sort the keys added, for enrolled_find() and enrolled_devices():
   0 or E_NOMEM (e is then empty). */
int enrolled_seal(struct enrolled *e) __attribute__((warn_unused_result));

/* The devices of user (enabled or not): *first gets the first of the
   returned number of entries, ordered by fingerprint. */
size_t enrolled_devices(const struct enrolled *e, const char *user,
    struct enrolled_key *const **first);

/* A device that may be listed and stored for: its account is enabled. */
static inline int
enrolled_usable(const struct enrolled_key *k)
{
	return !k->disabled;
}

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
