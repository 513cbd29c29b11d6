/*
 * Rooms and who is in them (docs/PROTOCOL.md 5.2), the devices of private
 * conversations (5.3), and presence.  Membership is the user's and
 * durable (server/members.h, saved through server/store.h); the devices
 * of a conversation are the enrolled devices of its users (the key
 * directory, server/enrolled.h), online or not.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "server/handlers.h"
#include "server/inbox.h"
#include "server/reply.h"
#include "server/rooms.h"
#include "server/users.h"

static struct conn *
conn_of_link(struct user_link *l)
{
	return (struct conn *)(void *)((char *)l -
	    offsetof(struct conn, by_user));
}

/* ---- devices ---- */

static const char *
device_state(const struct server *s, const struct enrolled_key *k)
{
	return inbox_online(s, k->key_id) != NULL ? PROTO_STATE_ONLINE :
	    PROTO_STATE_OFFLINE;
}

/* 1012 to c for every usable device of user but c's own: how many. */
static size_t
send_devices_of(struct conn *c, const char *conv, const char *user)
{
	const struct server *s = c->srv;
	struct enrolled_key *const *d;
	size_t i, n = enrolled_devices(&s->enrolled, user, &d), sent = 0;

	for (i = 0; i < n; i++)
		if (enrolled_usable(d[i]) && d[i]->key_id != c->dev) {
			SEND(c, OP_DEVICE, conv, d[i]->owner, d[i]->nick,
			    d[i]->fp, d[i]->spki, device_state(s, d[i]));
			sent++;
		}
	return sent;
}

/* Room r's devices to c, then 1011. */
static void
send_room_list(struct conn *c, const struct room *r)
{
	size_t i, n = 0;

	for (i = 0; i < room_size(r); i++)
		n += send_devices_of(c, room_name(r),
		    member_of(room_member(r, i))->name);
	send_count(c, OP_DEVICES_END, room_name(r), n);
}

/* ---- presence ---- */

/*
 * 1003|kind|room|user|nickname|fp|last (last: the spki, or LEAVE's
 * reason) to the online connections of r's members: all but `except`,
 * and none of user `skip_user` (NULL: none skipped).
 */
static void
room_presence(struct server *s, const struct room *r,
    const struct conn *except, const char *skip_user, const char *kind,
    const char *user, const char *nick, const char *fp, const char *last)
{
	const char *v[] = { kind, room_name(r), user, nick, fp, last };
	struct user_link *l;
	struct conn *o;
	const char *name;
	size_t i;

	for (i = 0; i < room_size(r); i++) {
		name = member_of(room_member(r, i))->name;
		if (skip_user != NULL && strcmp(name, skip_user) == 0)
			continue;
		for (l = users_first(&s->users, name); l != NULL; l = l->next)
			if ((o = conn_of_link(l)) != except && conn_present(o))
				send_fields(o, OP_PRESENCE, v,
				    sizeof(v) / sizeof(v[0]));
	}
}

/* Every usable device of user, as it is now in r, to the other members:
   JOIN if online, ADD if not; or LEAVE for reason `leave`. */
static void
user_presence(struct server *s, const char *user, const struct room *r,
    const char *leave)
{
	struct enrolled_key *const *d;
	size_t i, n = enrolled_devices(&s->enrolled, user, &d);
	const char *kind;

	for (i = 0; i < n; i++) {
		if (!enrolled_usable(d[i]))
			continue;
		kind = leave != NULL ? PROTO_PRESENCE_LEAVE :
		    inbox_online(s, d[i]->key_id) != NULL ?
		    PROTO_PRESENCE_JOIN : PROTO_PRESENCE_ADD;
		room_presence(s, r, NULL, user, kind, user, d[i]->nick,
		    d[i]->fp, leave != NULL ? leave : d[i]->spki);
	}
}

/* user is a new member of r: the others hear of its devices, and every
   connection of user gets r's list. */
static void
user_joined(struct server *s, const char *user, const struct room *r)
{
	struct user_link *l;
	struct conn *o;

	user_presence(s, user, r, NULL);
	for (l = users_first(&s->users, user); l != NULL; l = l->next)
		if (conn_present(o = conn_of_link(l)))
			send_room_list(o, r);
}

/* c's own device comes online in, or goes offline from, every room of
   its user (its user's other devices hear it too). */
static void
device_presence(struct conn *c, const char *leave)
{
	const struct room_client *rc = &c->member->rooms;
	size_t k;

	for (k = 0; k < rc->nslot; k++)
		room_presence(c->srv, rc->slot[k].room, c, NULL,
		    leave != NULL ? PROTO_PRESENCE_LEAVE : PROTO_PRESENCE_JOIN,
		    c->user, c->nick, c->key_fp,
		    leave != NULL ? leave : c->spki);
}

/* ---- rooms (docs/PROTOCOL.md 5.2) ---- */

/* The room named by f that c's user is in, or NULL (*why says why). */
struct room *
relay_my_room(struct conn *c, const struct frame_field *f, const char **why)
{
	struct room *r;

	if (!room_name_valid(f->p, f->len)) {
		*why = "invalid room name";
		return NULL;
	}
	if ((r = rooms_find(&c->srv->rooms, f->p, f->len)) == NULL ||
	    !room_has(&c->member->rooms, r)) {
		*why = "you are not in this room";
		return NULL;
	}
	return r;
}

void
relay_join(struct conn *c, const char *name, size_t len)
{
	const struct server_config *cfg = c->srv->cfg;
	struct room *r;
	char msg[96];

	if (!room_name_valid(name, len)) {
		send_error(c, PROTO_ERR_ROOM, "invalid room name");
		return;
	}
	switch (room_join(&c->srv->rooms, &c->member->rooms, name, len, &r)) {
	case ROOM_JOINED:
		store_membership(c->srv, STORAGE_JOIN, c->user, room_name(r));
		log_info("join id=%llu user=%s room=%s",
		    (unsigned long long)c->id, c->user, room_name(r));
		user_joined(c->srv, c->user, r);
		return;
	case ROOM_ALREADY:
		send_room_list(c, r);
		return;
	case ROOM_FULL:
		(void)snprintf(msg, sizeof(msg),
		    "the room is full (%lld members)", cfg->max_room_members);
		break;
	case ROOM_CLIENT_LIMIT:
		(void)snprintf(msg, sizeof(msg),
		    "you are in too many rooms (at most %lld)",
		    cfg->max_rooms_per_client);
		break;
	case ROOM_SERVER_LIMIT:
		(void)snprintf(msg, sizeof(msg),
		    "too many rooms on this server (at most %lld)",
		    cfg->max_rooms);
		break;
	case ROOM_NOMEM:
		send_error(c, PROTO_ERR_BUSY, "out of memory");
		return;
	}
	send_error(c, PROTO_ERR_ROOM, msg);
}

void
on_join(struct conn *c, const struct frame *f)
{
	relay_join(c, f->field[0].p, f->field[0].len);
}

void
on_part(struct conn *c, const struct frame *f)
{
	struct user_link *l;
	const char *why;
	struct room *r;
	struct conn *o;
	char name[ROOM_NAME_MAX + 1];

	if ((r = relay_my_room(c, &f->field[0], &why)) == NULL) {
		send_error(c, PROTO_ERR_ROOM, why);
		return;
	}
	(void)snprintf(name, sizeof(name), "%s", room_name(r));
	log_info("leave id=%llu user=%s room=%s", (unsigned long long)c->id,
	    c->user, name);
	user_presence(c->srv, c->user, r, PROTO_LEAVE_LEFT);
	/* c's user is a member: this cannot fail.  r stays (durable). */
	(void)room_leave(&c->srv->rooms, &c->member->rooms, r);
	store_membership(c->srv, STORAGE_PART, c->user, name);
	for (l = users_first(&c->srv->users, c->user); l != NULL; l = l->next)
		if ((o = conn_of_link(l)) == c || conn_present(o))
			SEND(o, OP_LEFT, name);
}

struct room_list {
	struct conn *c;
	size_t n;
};

static void
list_one(const struct room *r, void *arg)
{
	struct room_list *l = arg;
	char members[24];

	(void)snprintf(members, sizeof(members), "%zu", room_size(r));
	SEND(l->c, OP_ROOM_ENTRY, room_name(r), members);
	l->n++;
}

void
on_list_rooms(struct conn *c, const struct frame *f)
{
	struct room_list l = { c, 0 };

	rooms_foreach(&c->srv->rooms, list_one, &l);
	send_count(c, OP_ROOMS_END, NULL, l.n);
}

/* Whether user has a connection that is logged in and not going. */
static int
user_online(const struct server *s, const char *user)
{
	struct user_link *l;

	for (l = users_first(&s->users, user); l != NULL; l = l->next)
		if (conn_present(conn_of_link(l)))
			return 1;
	return 0;
}

void
on_who(struct conn *c, const struct frame *f)
{
	const struct room *r;
	const struct member *m;
	struct enrolled_key *const *d;
	struct conn *o;
	size_t i, n = 0;

	if (f->nfields == 0) {
		for (o = c->srv->conns; o != NULL; o = o->next)
			if (conn_present(o)) {
				SEND(c, OP_WHO_ENTRY, o->user, o->nick,
				    PROTO_STATE_ONLINE);
				n++;
			}
	} else if (!room_name_valid(f->field[0].p, f->field[0].len)) {
		send_error(c, PROTO_ERR_ROOM, "invalid room name");
		return;
	} else if ((r = rooms_find(&c->srv->rooms, f->field[0].p,
	    f->field[0].len)) != NULL) {
		for (i = 0; i < room_size(r); i++) {
			m = member_of(room_member(r, i));
			/* The nickname of its first device, as 1012 has it. */
			if (enrolled_devices(&c->srv->enrolled, m->name, &d) == 0)
				continue;
			SEND(c, OP_WHO_ENTRY, m->name, d[0]->nick,
			    user_online(c->srv, m->name) ? PROTO_STATE_ONLINE :
			    PROTO_STATE_OFFLINE);
			n++;
		}
	}
	send_count(c, OP_WHO_END, NULL, n);
}

/* ---- private conversations (5.3) ---- */

void
on_devices(struct conn *c, const struct frame *f)
{
	char user[NAME_USER_MAX + 1], conv[NAME_USER_MAX + 2];
	size_t n;

	if (!user_name(&f->field[0], user)) {
		send_error(c, PROTO_ERR_MALFORMED, "invalid user name");
		return;
	}
	(void)snprintf(conv, sizeof(conv), "@%s", user);
	n = send_devices_of(c, conv, user);
	if (strcmp(user, c->user) != 0)
		n += send_devices_of(c, conv, c->user);
	send_count(c, OP_DEVICES_END, conv, n);
}

void
relay_newcomer(struct server *s, const char *user)
{
	struct member *m;
	struct room *r;

	if ((m = members_get(&s->members, user, 1)) == NULL ||
	    room_join(&s->rooms, &m->rooms, PROTO_LOBBY, strlen(PROTO_LOBBY),
	    &r) != ROOM_JOINED) {
		log_warn("rooms: %s could not be put in #%s", user, PROTO_LOBBY);
		return;
	}
	log_info("join user=%s room=%s (a new account)", user, room_name(r));
	user_joined(s, user, r);
}

/* Device k of a member is now in (ADD) or out of (LEAVE, revoked) every
   room of its user: the members online hear it. */
static void
device_changed(struct server *s, const struct enrolled_key *k, int added)
{
	const struct member *m = members_get(&s->members, k->owner, 0);
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->rooms.nslot; i++)
		room_presence(s, m->rooms.slot[i].room, NULL, NULL,
		    added ? PROTO_PRESENCE_ADD : PROTO_PRESENCE_LEAVE,
		    k->owner, k->nick, k->fp,
		    added ? k->spki : PROTO_LEAVE_REVOKED);
}

void
relay_directory_changed(struct server *s, const struct enrolled *old)
{
	const struct enrolled *now = &s->enrolled;
	const struct enrolled_key *a, *b;
	size_t i = 0, j = 0;
	int d;

	/* Both are sorted by fingerprint: one walk. */
	while (i < old->n || j < now->n) {
		a = i < old->n ? &old->keys[i] : NULL;
		b = j < now->n ? &now->keys[j] : NULL;
		d = a == NULL ? 1 : b == NULL ? -1 : strcmp(a->fp, b->fp);
		if (d < 0 && a != NULL) {
			/* Gone: an online one is closed, and says so itself. */
			if (enrolled_usable(a) &&
			    inbox_online(s, a->key_id) == NULL)
				device_changed(s, a, 0);
			i++;
		} else if (d > 0 && b != NULL) {
			if (enrolled_usable(b))
				device_changed(s, b, 1);
			j++;
		} else if (a != NULL && b != NULL) {
			if (enrolled_usable(a) != enrolled_usable(b) &&
			    inbox_online(s, a->key_id) == NULL)
				device_changed(s, enrolled_usable(b) ? b : a,
				    enrolled_usable(b));
			i++;
			j++;
		} else {
			break;
		}
	}
}

/* ---- logging in and out ---- */

int
relay_online(struct conn *c)
{
	const struct room_client *rc;
	size_t k;

	if ((c->member = members_get(&c->srv->members, c->user, 1)) == NULL ||
	    users_add(&c->srv->users, &c->by_user, c->user) != 0)
		return E_NOMEM;
	device_presence(c, NULL);
	rc = &c->member->rooms;
	for (k = 0; k < rc->nslot; k++)
		send_room_list(c, rc->slot[k].room);
	return 0;
}

void
relay_offline(struct conn *c, enum proto_close why)
{
	if (c->member != NULL)
		device_presence(c, proto_close_leave_word(why));
	inbox_logout(c);
	users_remove(&c->srv->users, &c->by_user);
}
