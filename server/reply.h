/*
 * Building and queueing the server's frames, shared by the protocol's
 * families (server/handshake.c, login.c, relay.c, messages.c, inbox.c,
 * store.c, protocol.c): one frame to a connection, a list's end, a 1009.
 * Loop thread only.
 */
#ifndef MISSIVE_REPLY_H
#define MISSIVE_REPLY_H

#include <stddef.h>
#include <string.h>

#include "common/frame.h"
#include "common/proto.h"
#include "server/conn.h"

/* Queue `op|v[0]|...|v[n-1]` (fields without a message or blob: they
   fit in the smallest max_frame) to c. */
void send_fields(struct conn *c, enum proto_op op, const char *const *v,
    size_t n);

/* The same with fields that are not NUL-terminated (as received). */
void send_frame(struct conn *c, enum proto_op op, const struct frame_field *f,
    size_t n);

#define SEND(c, op, ...) do {                                             \
	const char *const v_[] = { __VA_ARGS__ };                          \
	send_fields((c), (op), v_, sizeof(v_) / sizeof(v_[0]));            \
} while (0)

/* A 1009: the frame is refused, the connection stays open.  Logged. */
void send_error(struct conn *c, enum proto_error code, const char *msg);

/* `op|count` or, with conv, `op|conv|count`: the end of a list. */
void send_count(struct conn *c, enum proto_op op, const char *conv, size_t n);


/* Build a frame whose fields may be as long as a frame into a new buffer
   (the caller frees it); NULL if out of memory. */
char *build_alloc(size_t *len, enum proto_op op, const struct frame_field *f,
    size_t n);

static inline struct frame_field
field(const char *s)
{
	return (struct frame_field){ s, strlen(s) };
}

/* Whether o is logged in and not on its way out. */
static inline int
conn_present(const struct conn *o)
{
	return o->state == CONN_LOGGED_IN && !o->dead;
}

/* Copy the user name in f to out: 1 if it is a valid one. */
int user_name(const struct frame_field *f, char out[NAME_USER_MAX + 1]);

#endif
