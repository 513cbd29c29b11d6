/* Building and queueing the server's frames (server/reply.h). */
#include "server/reply.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

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

int
user_name(const struct frame_field *f, char out[NAME_USER_MAX + 1])
{
	if (f->len == 0 || f->len > NAME_USER_MAX)
		return 0;
	memcpy(out, f->p, f->len);
	out[f->len] = '\0';
	return name_check_user(out) == 0;
}
