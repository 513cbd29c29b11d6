/*
 * The users who are members of rooms, by name: each holds the rooms it is
 * in (a struct room_client of server/rooms.h), so membership is the
 * user's, shared by all its devices and kept while it is offline.  Loaded
 * from MariaDB at start (server/storage.h), changed by joins and leaves.
 * Loop thread only.
 */
#ifndef MISSIVE_MEMBERS_H
#define MISSIVE_MEMBERS_H

#include <stddef.h>

#include "common/text.h"
#include "server/rooms.h"

struct member {
	struct member *next;             /* hash chain */
	char name[NAME_USER_MAX + 1];
	struct room_client rooms;
};

struct members {
	struct member **bucket;          /* nbucket is a power of 2 */
	size_t nbucket, n;
};

/* The member record of user name (made if create; NULL on E_NOMEM, or
   without create if it has none). */
struct member *members_get(struct members *m, const char *name, int create);

/* Take every member out of its rooms and free them all. */
void members_free(struct members *m, struct rooms *rs);

/* The member whose room_client cl is. */
struct member *member_of(struct room_client *cl);

#endif
