/*
 * Rooms (docs/PROTOCOL.md section 5.2): a table of rooms by name, each
 * with an array of its member clients, and for each client the rooms it
 * is in.  A room exists while it has members, or for good with
 * keep_empty (the server's rooms are durable: its clients are users).  Both sides record the
 * other's index, so a client leaves a room in O(1): the last entry of
 * each array moves into the freed slot and its back reference follows.
 *
 * A client is a struct room_client embedded in what it stands for (the
 * server's struct conn), so the table can be tested without sockets.
 * Loop thread only.
 */
#ifndef MISSIVE_ROOMS_H
#define MISSIVE_ROOMS_H

#include <stddef.h>

#define ROOM_NAME_MAX 32

struct room;

/* One room a client is in, and the client's index among its members. */
struct room_slot {
	struct room *room;
	size_t member;
};

struct room_client {
	struct room_slot *slot;      /* nslot used, cap allocated */
	size_t nslot, cap;
};

struct rooms {
	struct room **bucket;        /* hash chains; nbucket is a power of 2 */
	size_t nbucket, nroom;
	size_t max_rooms, max_members, max_per_client;
	int keep_empty;              /* rooms outlive their members */
};

enum room_join_result {
	ROOM_JOINED,                 /* a new member */
	ROOM_ALREADY,                /* was a member already */
	ROOM_FULL,                   /* max_members reached */
	ROOM_CLIENT_LIMIT,           /* the client is in max_per_client rooms */
	ROOM_SERVER_LIMIT,           /* it would be room max_rooms + 1 */
	ROOM_NOMEM,
};

/* 1 if name[0..len) is a valid room name (the rule for user names). */
int room_name_valid(const char *name, size_t len);

/* An empty table with these limits (each at least 1). */
void rooms_init(struct rooms *rs, size_t max_rooms, size_t max_members,
    size_t max_per_client);

/* Free every room; the clients must have left (room_leave_all) first. */
void rooms_free(struct rooms *rs);

/* The room called name[0..len), or NULL if it has no members. */
struct room *rooms_find(const struct rooms *rs, const char *name,
    size_t len);

/* Call fn for every room, in no particular order. */
void rooms_foreach(const struct rooms *rs,
    void (*fn)(const struct room *, void *), void *arg);

/* Join cl to the room name[0..len) (created if need be); *room gets it
   for ROOM_JOINED and ROOM_ALREADY.  The name must be valid.  cl NULL:
   only make the room (ROOM_JOINED if it is new). */
enum room_join_result room_join(struct rooms *rs, struct room_client *cl,
    const char *name, size_t len, struct room **room);

/* Take cl out of room (freed when it empties): 0, or E_NOT_FOUND if cl
   is not a member. */
int room_leave(struct rooms *rs, struct room_client *cl,
    const struct room *room);

/* Take cl out of every room and free its slots. */
void room_leave_all(struct rooms *rs, struct room_client *cl);

/* 1 if cl is a member of room. */
int room_has(const struct room_client *cl, const struct room *room);

const char *room_name(const struct room *room);
size_t room_size(const struct room *room);
/* Member i, 0 <= i < room_size(room); the order changes as members leave. */
struct room_client *room_member(const struct room *room, size_t i);

#endif
