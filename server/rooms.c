#include "server/rooms.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/text.h"

#define BUCKETS_MIN 64
#define ARRAY_MIN 4

/* One member of a room, and the room's index among the client's slots. */
struct room_member {
	struct room_client *client;
	size_t slot;
};

struct room {
	struct room *next;           /* hash chain */
	struct room_member *member;  /* nmember used, cap allocated */
	size_t nmember, cap;
	size_t namelen;
	char name[ROOM_NAME_MAX + 1];
};

int
room_name_valid(const char *name, size_t len)
{
	char s[ROOM_NAME_MAX + 1];

	if (len == 0 || len > ROOM_NAME_MAX || memchr(name, '\0', len) != NULL)
		return 0;
	memcpy(s, name, len);
	s[len] = '\0';
	return name_check_user(s) == 0;
}

void
rooms_init(struct rooms *rs, size_t max_rooms, size_t max_members,
    size_t max_per_client)
{
	memset(rs, 0, sizeof(*rs));
	rs->max_rooms = max_rooms;
	rs->max_members = max_members;
	rs->max_per_client = max_per_client;
}

static void
room_free(struct room *r)
{
	free(r->member);
	free(r);
}

void
rooms_free(struct rooms *rs)
{
	struct room *r, *next;
	size_t i;

	for (i = 0; i < rs->nbucket; i++)
		for (r = rs->bucket[i]; r != NULL; r = next) {
			next = r->next;
			room_free(r);
		}
	free(rs->bucket);
	rs->bucket = NULL;
	rs->nbucket = rs->nroom = 0;
}

struct room *
rooms_find(const struct rooms *rs, const char *name, size_t len)
{
	struct room *r;

	if (rs->nbucket == 0)
		return NULL;
	for (r = rs->bucket[fnv1a64(name, len) & (rs->nbucket - 1)];
	    r != NULL; r = r->next)
		if (r->namelen == len && memcmp(r->name, name, len) == 0)
			return r;
	return NULL;
}

void
rooms_foreach(const struct rooms *rs, void (*fn)(const struct room *, void *),
    void *arg)
{
	const struct room *r;
	size_t i;

	for (i = 0; i < rs->nbucket; i++)
		for (r = rs->bucket[i]; r != NULL; r = r->next)
			fn(r, arg);
}

/*
 * Make room for one more room in the hash: double the buckets when the
 * chains get long.  A failed growth only makes chains longer; E_NOMEM
 * only if there is no table at all.
 */
static int
rooms_reserve(struct rooms *rs)
{
	struct room **b, *r, *next;
	size_t n, i, h;

	if (rs->nbucket != 0 && rs->nroom < rs->nbucket)
		return 0;
	n = rs->nbucket == 0 ? BUCKETS_MIN : rs->nbucket * 2;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant */
	if ((b = calloc(n, sizeof(*b))) == NULL)
		return rs->nbucket == 0 ? E_NOMEM : 0;
	for (i = 0; i < rs->nbucket; i++)
		for (r = rs->bucket[i]; r != NULL; r = next) {
			next = r->next;
			h = fnv1a64(r->name, r->namelen) & (n - 1);
			r->next = b[h];
			b[h] = r;
		}
	free(rs->bucket);
	rs->bucket = b;
	rs->nbucket = n;
	return 0;
}

/*
 * p (of *cap elements of size), or a larger copy, with room for one more
 * than used, at most max; NULL if it cannot grow (p is left as it was).
 */
static void *
array_grow(void *p, size_t *cap, size_t used, size_t size, size_t max)
{
	size_t n;

	if (used < *cap)
		return p;
	n = *cap == 0 ? ARRAY_MIN : *cap * 2;
	if (n > max)
		n = max;
	if (n <= used || (p = realloc(p, n * size)) == NULL)
		return NULL;
	*cap = n;
	return p;
}

int
room_has(const struct room_client *cl, const struct room *room)
{
	size_t i;

	for (i = 0; i < cl->nslot; i++)
		if (cl->slot[i].room == room)
			return 1;
	return 0;
}

/* Put the new room r into its hash chain. */
static void
rooms_link(struct rooms *rs, struct room *r)
{
	size_t h = fnv1a64(r->name, r->namelen) & (rs->nbucket - 1);

	r->next = rs->bucket[h];
	rs->bucket[h] = r;
	rs->nroom++;
}

enum room_join_result
room_join(struct rooms *rs, struct room_client *cl, const char *name,
    size_t len, struct room **room)
{
	struct room *r = rooms_find(rs, name, len), *fresh = NULL;
	struct room_member *mem;
	struct room_slot *slot;

	if (r != NULL && cl != NULL && room_has(cl, r)) {
		*room = r;
		return ROOM_ALREADY;
	}
	if (cl != NULL && cl->nslot >= rs->max_per_client)
		return ROOM_CLIENT_LIMIT;
	if (r == NULL) {
		if (rs->nroom >= rs->max_rooms)
			return ROOM_SERVER_LIMIT;
		if (rooms_reserve(rs) != 0 ||
		    (fresh = r = calloc(1, sizeof(*r))) == NULL)
			return ROOM_NOMEM;
		memcpy(r->name, name, len);
		r->namelen = len;
		if (cl == NULL) {
			rooms_link(rs, r);
			*room = r;
			return ROOM_JOINED;
		}
	} else if (cl == NULL) {
		*room = r;
		return ROOM_ALREADY;
	} else if (r->nmember >= rs->max_members)
		return ROOM_FULL;
	if ((slot = array_grow(cl->slot, &cl->cap, cl->nslot, sizeof(*slot),
	    rs->max_per_client)) != NULL)
		cl->slot = slot;
	if (slot == NULL || (mem = array_grow(r->member, &r->cap, r->nmember,
	    sizeof(*mem), rs->max_members)) == NULL) {
		if (fresh != NULL)
			room_free(fresh);
		return ROOM_NOMEM;
	}
	r->member = mem;
	r->member[r->nmember] = (struct room_member){ cl, cl->nslot };
	cl->slot[cl->nslot] = (struct room_slot){ r, r->nmember };
	r->nmember++;
	cl->nslot++;
	if (fresh != NULL)
		rooms_link(rs, r);
	*room = r;
	return ROOM_JOINED;
}

static void
room_unlink(struct rooms *rs, struct room *room)
{
	struct room **pp;

	for (pp = &rs->bucket[fnv1a64(room->name, room->namelen) &
	    (rs->nbucket - 1)]; *pp != room; pp = &(*pp)->next)
		;
	*pp = room->next;
	rs->nroom--;
	room_free(room);
}

/* Take cl out of the room of its slot k; the last entries move in. */
static void
leave_slot(struct rooms *rs, struct room_client *cl, size_t k)
{
	struct room *r = cl->slot[k].room;
	size_t m = cl->slot[k].member;
	struct room_member *mv;
	struct room_slot *sv;

	if (m != --r->nmember) {
		mv = &r->member[m];
		*mv = r->member[r->nmember];
		mv->client->slot[mv->slot].member = m;
	}
	if (k != --cl->nslot) {
		sv = &cl->slot[k];
		*sv = cl->slot[cl->nslot];
		sv->room->member[sv->member].slot = k;
	}
	if (r->nmember == 0 && !rs->keep_empty)
		room_unlink(rs, r);
}

int
room_leave(struct rooms *rs, struct room_client *cl,
    const struct room *room)
{
	size_t k;

	for (k = 0; k < cl->nslot; k++)
		if (cl->slot[k].room == room) {
			leave_slot(rs, cl, k);
			return 0;
		}
	return E_NOT_FOUND;
}

void
room_leave_all(struct rooms *rs, struct room_client *cl)
{
	while (cl->nslot > 0)
		leave_slot(rs, cl, cl->nslot - 1);
	free(cl->slot);
	cl->slot = NULL;
	cl->cap = 0;
}

const char *
room_name(const struct room *room)
{
	return room->name;
}

size_t
room_size(const struct room *room)
{
	return room->nmember;
}

struct room_client *
room_member(const struct room *room, size_t i)
{
	return room->member[i].client;
}
