/*
 * The logged-in connections of each user name, so that private messages,
 * device lists and "is this user online" do not scan every connection.
 * A connection is a struct user_link embedded in what it stands for (the
 * server's struct conn), as server/rooms.h does for room members, so the
 * index can be tested without sockets.  Loop thread only.
 */
#ifndef MISSIVE_USERS_H
#define MISSIVE_USERS_H

#include <stddef.h>

#include "common/text.h"

struct user_set;

struct user_link {
	struct user_link *prev, *next;       /* the same user's others */
	struct user_set *set;                /* NULL while not indexed */
};

struct users {
	struct user_set **bucket;    /* hash chains; nbucket is a power of 2 */
	size_t nbucket, nuser;
};

/* An empty index (no allocation until the first user). */
void users_init(struct users *u);

/* Free the index; every link must have been removed. */
void users_free(struct users *u);

/* Index l under name: 0, E_BAD_NAME (too long) or E_NOMEM. */
int users_add(struct users *u, struct user_link *l, const char *name)
    __attribute__((warn_unused_result));

/* Take l out of the index (nothing if it is not in). */
void users_remove(struct users *u, struct user_link *l);

/* The first connection of name, or NULL if it has none; the others
   follow through ->next, newest first. */
struct user_link *users_first(const struct users *u, const char *name);

#endif
