/*
 * What the server relays for logged-in connections: rooms and their
 * members (docs/PROTOCOL.md 5.2), private conversations (5.3), messages
 * and sender keys (5.4).  The server checks only the shape of what it
 * cannot open; the recipients check the rest.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/log.h"
#include "keydist/keys.h"
#include "server/handlers.h"
#include "server/reply.h"
#include "server/rooms.h"
#include "server/users.h"

/* ---- rooms (docs/PROTOCOL.md 5.2) ---- */

/* The room named by f that c is in, or NULL with 1009|room sent. */
static struct room *
my_room(struct conn *c, const struct frame_field *f)
{
	struct room *r;

	if (!room_name_valid(f->p, f->len)) {
		send_error(c, PROTO_ERR_ROOM, "invalid room name");
		return NULL;
	}
	if ((r = rooms_find(&c->srv->rooms, f->p, f->len)) == NULL ||
	    !room_has(&c->rooms, r)) {
		send_error(c, PROTO_ERR_ROOM, "you are not in this room");
		return NULL;
	}
	return r;
}

void
on_join(struct conn *c, const struct frame *f)
{
	join_room(c, f->field[0].p, f->field[0].len);
}

void
on_part(struct conn *c, const struct frame *f)
{
	struct room *r;

	if ((r = my_room(c, &f->field[0])) == NULL)
		return;
	SEND(c, OP_LEFT, room_name(r));
	leave_room(c, r, "left");
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

void
on_who(struct conn *c, const struct frame *f)
{
	const struct room *r;
	struct conn *o;
	size_t i, n = 0;

	if (f->nfields == 0) {
		for (o = c->srv->conns; o != NULL; o = o->next)
			if (conn_present(o)) {
				SEND(c, OP_WHO_ENTRY, o->user, o->nick);
				n++;
			}
	} else if (!room_name_valid(f->field[0].p, f->field[0].len)) {
		send_error(c, PROTO_ERR_ROOM, "invalid room name");
		return;
	} else if ((r = rooms_find(&c->srv->rooms, f->field[0].p,
	    f->field[0].len)) != NULL) {
		for (i = 0; i < room_size(r); i++) {
			o = conn_of_member(room_member(r, i));
			SEND(c, OP_WHO_ENTRY, o->user, o->nick);
		}
		n = room_size(r);
	}
	send_count(c, OP_WHO_END, NULL, n);
}

/* ---- private conversations (5.3) ---- */

static struct conn *
conn_of_link(struct user_link *l)
{
	return (struct conn *)(void *)((char *)l -
	    offsetof(struct conn, by_user));
}

/*
 * The connection after o (NULL: the first) in c's private conversation
 * with user: every connection of user, then of c's own user, c and those
 * on their way out excepted.
 */
static struct conn *
pm_next(const struct conn *c, const char *user, const struct conn *o)
{
	const struct users *u = &c->srv->users;
	struct user_link *l;
	struct conn *n;
	int own;                             /* in c's own user's list */

	if (o == NULL) {
		l = users_first(u, user);
		own = 0;
	} else {
		l = o->by_user.next;
		own = strcmp(o->user, user) != 0;
	}
	for (;;) {
		for (; l != NULL; l = l->next)
			if ((n = conn_of_link(l)) != c && !n->dead)
				return n;
		if (own || strcmp(user, c->user) == 0)
			return NULL;
		l = users_first(u, c->user);
		own = 1;
	}
}

/* Whether user has a connection that is not on its way out. */
static int
user_online(const struct server *s, const char *user)
{
	struct user_link *l;

	for (l = users_first(&s->users, user); l != NULL; l = l->next)
		if (!conn_of_link(l)->dead)
			return 1;
	return 0;
}

void
on_devices(struct conn *c, const struct frame *f)
{
	char user[NAME_USER_MAX + 1], conv[NAME_USER_MAX + 2];
	struct conn *o = NULL;
	size_t n = 0;

	if (!user_name(&f->field[0], user)) {
		send_error(c, PROTO_ERR_MALFORMED, "invalid user name");
		return;
	}
	(void)snprintf(conv, sizeof(conv), "@%s", user);
	while ((o = pm_next(c, user, o)) != NULL) {
		send_device(c, conv, o);
		n++;
	}
	send_count(c, OP_DEVICES_END, conv, n);
}

/* ---- messages and sender keys (5.4) ---- */

/* A conversation as c named it: a room c is in, or @user. */
struct conv {
	const struct frame_field *name;      /* as sent */
	struct room *room;                   /* NULL for @user */
	char user[NAME_USER_MAX + 1];
};

/* Resolve the conversation f for c: 0, or -1 with the 1009 sent. */
static int
conv_resolve(struct conn *c, const struct frame_field *f, struct conv *cv)
{
	struct frame_field u;

	cv->name = f;
	cv->room = NULL;
	if (f->len > 0 && f->p[0] == '@') {
		u = (struct frame_field){ f->p + 1, f->len - 1 };
		if (!user_name(&u, cv->user)) {
			send_error(c, PROTO_ERR_MALFORMED, "invalid user name");
			return -1;
		}
		return 0;
	}
	return (cv->room = my_room(c, f)) == NULL ? -1 : 0;
}

/* Queue frame to everyone in cv but c (with fp: only that key's
   connections); the number of them. */
static size_t
conv_send(struct conn *c, const struct conv *cv, const struct frame_field *fp,
    const char *frame, size_t len)
{
	struct conn *o = NULL;
	size_t n = 0;

	if (cv->room != NULL)
		return room_send(cv->room, c, fp, frame, len);
	while ((o = pm_next(c, cv->user, o)) != NULL)
		n += relay_to(c, o, fp, frame, len);
	return n;
}

/* The longest message or blob: its delivery must fit in max_frame. */
static size_t
payload_max(const struct conn *c)
{
	return (size_t)c->srv->cfg->max_frame - FRAME_CHAT_OVERHEAD;
}

void
on_chat(struct conn *c, const struct frame *f)
{
	const struct frame_field *msg = &f->field[1];
	struct frame_field v[6];
	struct conv cv;
	char ts[32], *line;
	size_t len;

	if (conv_resolve(c, &f->field[0], &cv) != 0)
		return;
	if (!b64_canonical(msg->p, msg->len, PROTO_MSG_MIN, payload_max(c))) {
		send_error(c, PROTO_ERR_TEXT, "message not relayed: not base64 of a "
		    "plausible length");
		return;
	}
	if (cv.room == NULL && !user_online(c->srv, cv.user)) {
		send_error(c, PROTO_ERR_OFFLINE, "message not relayed: that user is "
		    "not online");
		return;
	}
	log_timestamp(ts);
	v[0] = field(c->nick);
	v[1] = field(c->user);
	v[2] = field(c->key_fp);
	v[3] = *cv.name;
	v[4] = field(ts);
	v[5] = *msg;
	if ((line = build_alloc(&len, OP_DELIVERY, v, 6)) == NULL) {
		send_error(c, PROTO_ERR_BUSY, "out of memory");
		return;
	}
	(void)conv_send(c, &cv, NULL, line, len);
	free(line);
	/* The console sees that it passed, never more than its start. */
	log_info("chat id=%llu user=%s conv=%.*s bytes=%zu e2e=%.*s...",
	    (unsigned long long)c->id, c->user, (int)cv.name->len,
	    cv.name->p, msg->len, (int)(msg->len < 16 ? msg->len : 16),
	    msg->p);
}

void
on_sender_key(struct conn *c, const struct frame *f)
{
	const struct frame_field *fp = &f->field[1], *blob = &f->field[2];
	struct frame_field v[6];
	struct conv cv;
	char *line;
	size_t len, n;

	if (!kd_fp_valid(fp->p, fp->len)) {
		send_error(c, PROTO_ERR_MALFORMED, "not a key fingerprint");
		return;
	}
	if (conv_resolve(c, &f->field[0], &cv) != 0)
		return;
	if (!b64_canonical(blob->p, blob->len, PROTO_BLOB_MIN, payload_max(c))) {
		send_error(c, PROTO_ERR_TEXT, "sender key not relayed: not base64 of "
		    "a plausible length");
		return;
	}
	v[0] = *cv.name;
	v[1] = field(c->user);
	v[2] = field(c->nick);
	v[3] = field(c->key_fp);
	v[4] = field(c->spki);
	v[5] = *blob;
	if ((line = build_alloc(&len, OP_SENDER_KEY_DELIVERY, v, 6)) == NULL) {
		send_error(c, PROTO_ERR_BUSY, "out of memory");
		return;
	}
	/* It carries the sender's key too: check the whole delivery. */
	if (len + 1 > (size_t)c->srv->cfg->max_frame) {
		free(line);
		send_error(c, PROTO_ERR_TEXT, "sender key not relayed: too long with "
		    "your key");
		return;
	}
	n = conv_send(c, &cv, fp, line, len);
	free(line);
	log_debug("keys id=%llu user=%s conv=%.*s to=%.*s bytes=%zu sent=%zu",
	    (unsigned long long)c->id, c->user, (int)cv.name->len, cv.name->p,
	    (int)fp->len, fp->p,
	    blob->len, n);
}


/* ---- the index of who is online ---- */

int
relay_online(struct conn *c)
{
	return users_add(&c->srv->users, &c->by_user, c->user);
}

void
relay_offline(struct conn *c, enum proto_close why)
{
	const char *reason = proto_close_leave_word(why);

	while (c->rooms.nslot > 0)
		leave_room(c, c->rooms.slot[c->rooms.nslot - 1].room, reason);
	room_leave_all(&c->srv->rooms, &c->rooms);
	users_remove(&c->srv->users, &c->by_user);
}
