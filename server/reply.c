/* Building and queueing the server's frames (server/reply.h). */
#include "server/reply.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/rooms.h"

/* Frames without a message or blob fit in the smallest max_frame. */
#define SHORT_FRAME FRAME_MAX_FRAME_MIN

/* Build a frame from NUL-terminated fields (notices, lists, presence). */
static int
build_fields(char line[SHORT_FRAME], size_t *len, enum proto_op op,
    const char *const *v, size_t n)
{
	struct frame_field f[FRAME_MAX_FIELDS];
	size_t i;

	for (i = 0; i < n; i++)
		f[i] = field(v[i]);
	return frame_build(line, SHORT_FRAME, len, op, f, n);
}

/* Queue line[0..len), or close c if it could not be built (r != 0). */
static void
send_built(struct conn *c, enum proto_op op, int r, const char *line,
    size_t len)
{
	if (r != 0) {
		conn_fail(c, PROTO_CLOSE_ERROR, 0, "cannot build frame %04u",
		    (unsigned)op);
		return;
	}
	conn_send(c, line, len);
}

void
send_fields(struct conn *c, enum proto_op op, const char *const *v, size_t n)
{
	char line[SHORT_FRAME];
	size_t len = 0;
	int r = build_fields(line, &len, op, v, n);

	send_built(c, op, r, line, len);
}

void
send_frame(struct conn *c, enum proto_op op, const struct frame_field *f,
    size_t n)
{
	char line[SHORT_FRAME];
	size_t len = 0;
	int r = frame_build(line, SHORT_FRAME, &len, op, f, n);

	send_built(c, op, r, line, len);
}

/*
 * Logged, so that an admin can see a misbehaving client; the frame's
 * content is not (it may hold a password, and it is the attacker's text).
 */
void
send_error(struct conn *c, enum proto_error code, const char *msg)
{
	log_info("refused frame id=%llu user=%s error=%s: %s",
	    (unsigned long long)c->id, c->user[0] != '\0' ? c->user : "-",
	    proto_error_word(code), msg);
	SEND(c, OP_ERROR, proto_error_word(code), msg);
}

void
send_count(struct conn *c, enum proto_op op, const char *conv, size_t n)
{
	char count[24];

	(void)snprintf(count, sizeof(count), "%zu", n);
	if (conv == NULL)
		SEND(c, op, count);
	else
		SEND(c, op, conv, count);
}

char *
build_alloc(size_t *len, enum proto_op op, const struct frame_field *f,
    size_t n)
{
	size_t cap = frame_build_size(f, n);
	char *line;

	if ((line = malloc(cap)) == NULL)
		return NULL;
	if (frame_build(line, cap, len, op, f, n) != 0) {
		free(line);
		return NULL;
	}
	return line;
}

struct conn *
conn_of_member(struct room_client *cl)
{
	return (struct conn *)(void *)((char *)cl -
	    offsetof(struct conn, rooms));
}

size_t
relay_to(const struct conn *c, struct conn *o, const struct frame_field *fp,
    const char *frame, size_t len)
{
	if (o == c || (fp != NULL && !frame_field_is(fp, o->key_fp)))
		return 0;
	conn_send(o, frame, len);
	return 1;
}

size_t
room_send(const struct room *r, const struct conn *c,
    const struct frame_field *fp, const char *frame, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < room_size(r); i++)
		n += relay_to(c, conn_of_member(room_member(r, i)), fp,
		    frame, len);
	return n;
}

static void
room_send_fields(const struct room *r, const struct conn *c, enum proto_op op,
    const char *const *v, size_t n)
{
	char line[SHORT_FRAME];
	size_t len;

	if (build_fields(line, &len, op, v, n) == 0)
		(void)room_send(r, c, NULL, line, len);
}

/* Presence in a room: to every member but c. */
#define ROOM_SEND(r, c, op, ...) do {                                     \
	const char *const v_[] = { __VA_ARGS__ };                          \
	room_send_fields((r), (c), (op), v_, sizeof(v_) / sizeof(v_[0]));  \
} while (0)

void
send_device(struct conn *c, const char *conv, const struct conn *o)
{
	SEND(c, OP_DEVICE, conv, o->user, o->nick, o->key_fp, o->spki);
}

void
join_room(struct conn *c, const char *name, size_t len)
{
	const struct server_config *cfg = c->srv->cfg;
	struct room *r;
	struct conn *o;
	char msg[96];
	size_t i, n = 0;

	if (!room_name_valid(name, len)) {
		send_error(c, PROTO_ERR_ROOM, "invalid room name");
		return;
	}
	switch (room_join(&c->srv->rooms, &c->rooms, name, len, &r)) {
	case ROOM_JOINED:
		ROOM_SEND(r, c, OP_PRESENCE, "JOIN", room_name(r), c->user,
		    c->nick, c->key_fp, c->spki);
		log_info("join id=%llu user=%s room=%s",
		    (unsigned long long)c->id, c->user, room_name(r));
		break;
	case ROOM_ALREADY:
		break;
	case ROOM_FULL:
		(void)snprintf(msg, sizeof(msg),
		    "the room is full (%lld members)", cfg->max_room_members);
		send_error(c, PROTO_ERR_ROOM, msg);
		return;
	case ROOM_CLIENT_LIMIT:
		(void)snprintf(msg, sizeof(msg),
		    "you are in too many rooms (at most %lld)",
		    cfg->max_rooms_per_client);
		send_error(c, PROTO_ERR_ROOM, msg);
		return;
	case ROOM_SERVER_LIMIT:
		(void)snprintf(msg, sizeof(msg),
		    "too many rooms on this server (at most %lld)",
		    cfg->max_rooms);
		send_error(c, PROTO_ERR_ROOM, msg);
		return;
	case ROOM_NOMEM:
		send_error(c, PROTO_ERR_BUSY, "out of memory");
		return;
	}
	for (i = 0; i < room_size(r); i++)
		if ((o = conn_of_member(room_member(r, i))) != c) {
			send_device(c, room_name(r), o);
			n++;
		}
	send_count(c, OP_DEVICES_END, room_name(r), n);
}

void
leave_room(struct conn *c, struct room *r, const char *reason)
{
	log_info("leave id=%llu user=%s room=%s reason=%s",
	    (unsigned long long)c->id, c->user, room_name(r), reason);
	ROOM_SEND(r, c, OP_PRESENCE, "LEAVE", room_name(r), c->user,
	    c->nick, c->key_fp, reason);
	/* c is a member: this cannot fail.  r may be gone after it. */
	(void)room_leave(&c->srv->rooms, &c->rooms, r);
}

int
user_name(const struct frame_field *f, char out[NAME_USER_MAX + 1])
{
	if (f->len == 0 || f->len > NAME_USER_MAX)
		return 0;
	memcpy(out, f->p, f->len);
	out[f->len] = '\0';
	return name_check_user(out) == 0;
}
