/*
 * Frames from the server once the handshake is done (docs/PROTOCOL.md
 * section 5): a table of {opcode, states, handler}, the field counts from
 * common/proto.h.  A frame that breaks the protocol closes the connection
 * (the session then reconnects); an unknown opcode is reported and
 * ignored, so that a newer server can add messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/session_int.h"
#include "common/err.h"
#include "common/text.h"

struct handler {
	enum proto_op opcode;
	unsigned states;              /* where it may come (CS_*) */
	void (*fn)(struct session *, char **field, size_t n);
};

static void
malformed(struct session *s, unsigned op)
{
	cs_lost(s, E_MALFORMED, "the server sent a malformed %04u frame", op);
}

static void
on_login(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_LOGGED_IN };
	int r, reason;

	if (strcmp(f[0], "ERR") == 0) {
		ev.kind = SESSION_EV_LOGIN_FAILED;
		ev.code = f[1];
		ev.err = E_PASSWORD;
		/* Worth another try later, by itself. */
		if ((reason = proto_login_reason(f[1])) >= 0 &&
		    proto_login_transient((enum proto_login)reason) &&
		    s->reconnect_max_ms > 0) {
			cs_emit(s, &ev);
			cs_lost(s, E_PASSWORD, "login refused (%s)", f[1]);
			return;
		}
		cs_fatal(s, SESSION_LOGIN_REFUSED, E_PASSWORD, &ev,
		    "login refused (%s)", f[1]);
		return;
	}
	if (strcmp(f[0], proto_login_word(PROTO_LOGIN_OK)) != 0) {
		malformed(s, OP_LOGIN_RESULT);
		return;
	}
	s->state = ST_OPEN;
	s->deadline = 0;
	s->backoff_ms = s->reconnect_min_ms;
	cs_inbox_login(s);
	/* Back into our rooms first, so that requests typed meanwhile see
	   them. */
	cs_rooms_login(s);
	if (s->state != ST_OPEN)
		return;
	/*
	 * What was typed while we were away goes next, in order, before
	 * anything the callback sends.
	 */
	if (s->queued > 0) {
		if ((r = buf_append(&s->txplain, buf_data(&s->queue),
		    buf_size(&s->queue))) != 0) {
			/* The queue stays for the next login. */
			cs_lost(s, r, "%s", err_str(r));
			return;
		}
		buf_free(&s->queue);
		s->queued = 0;
	}
	ev.nickname = f[1];
	(void)snprintf(s->nick, sizeof(s->nick), "%s", f[1]);
	cs_emit(s, &ev);
	/* Its callback may have quit, or lost the connection. */
	if (s->state != ST_OPEN)
		return;
	if (s->quit_wanted)
		s->deadline = s->now + SESSION_CONNECT_TIMEOUT_MS;
	cs_flush(s);
	cs_quit_if_drained(s);
}

int
cs_parse_count(const char *t, long long *v)
{
	size_t i, len = strlen(t);

	*v = 0;
	if (len == 0 || len > 9)
		return -1;
	for (i = 0; i < len; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		*v = *v * 10 + (t[i] - '0');
	}
	return 0;
}

static void
on_who_end(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_WHO_END };

	if (cs_parse_count(f[0], &ev.count) != 0) {
		malformed(s, OP_WHO_END);
		return;
	}
	cs_emit(s, &ev);
}

static void
on_ping(struct session *s, char **f, size_t n)
{
	struct frame_field token = { f[0], strlen(f[0]) };
	int r;

	if (!proto_token_valid(f[0], strlen(f[0]))) {
		malformed(s, OP_SERVER_PING);
		return;
	}
	if ((r = frame_put(&s->txplain, OP_PONG, &token, 1)) != 0) {
		cs_lost(s, r, "%s", err_str(r));
		return;
	}
	cs_flush(s);
}

static void
on_pong(struct session *s, char **f, size_t n)
{
	/* Any record counts as a sign of life; process_input() noted it. */
	if (!proto_token_valid(f[0], strlen(f[0])))
		malformed(s, OP_SERVER_PONG);
}

static void
on_error(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_SERVER_ERROR,
	    .code = f[0], .text = f[1] };

	cs_emit(s, &ev);
}

static void
on_closing(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_CLOSING, .code = f[0],
	    .text = f[1] };

	cs_emit(s, &ev);
	/* The server closes after 1010; so do we, without waiting. */
	if (s->state == ST_QUIT)
		cs_finish(s);
	else if (strcmp(f[0], proto_close_word(PROTO_CLOSE_REVOKED)) == 0)
		/* Coming back would be refused: end, do not reconnect. */
		cs_fatal(s, SESSION_NOT_ENROLLED, E_NOT_FOUND, NULL,
		    "the server revoked this client's key or disabled the "
		    "account: %s", f[1]);
	else if (strcmp(f[0], proto_close_word(PROTO_CLOSE_REPLACED)) == 0)
		/* Coming back would close the other one: the two would take
		   turns for ever.  One device, one connection (5.1). */
		cs_fatal(s, SESSION_REPLACED, E_STATE, NULL,
		    "this client folder logged in again elsewhere (another "
		    "machine or window uses the same folder), so this one "
		    "ends; give each machine a folder of its own "
		    "(missive-keys client --device NAME)");
	else
		cs_lost(s, E_CLOSED, "the server closed the connection (%s)",
		    f[0]);
}

static const struct handler handlers[] = {
	{ OP_LOGIN_RESULT, CS_IN(ST_LOGIN), on_login },
	{ OP_DELIVERY, CS_LOGGED_IN, cs_on_chat },
	{ OP_PRESENCE, CS_LOGGED_IN, cs_on_presence },
	{ OP_DEVICE, CS_LOGGED_IN, cs_on_device },
	{ OP_DEVICES_END, CS_LOGGED_IN, cs_on_devices_end },
	{ OP_LEFT, CS_LOGGED_IN, cs_on_left },
	{ OP_SENDER_KEY_DELIVERY, CS_LOGGED_IN, cs_on_sender_key },
	{ OP_ROOM_ENTRY, CS_LOGGED_IN, cs_on_room },
	{ OP_ROOMS_END, CS_LOGGED_IN, cs_on_rooms_end },
	{ OP_WHO_ENTRY, CS_LOGGED_IN, cs_on_who },
	{ OP_STORED, CS_LOGGED_IN, cs_on_stored },
	{ OP_NOT_STORED, CS_LOGGED_IN, cs_on_not_stored },
	{ OP_BACKLOG, CS_LOGGED_IN, cs_on_backlog },
	{ OP_RECEIPT, CS_LOGGED_IN, cs_on_receipt },
	{ OP_WHO_END, CS_LOGGED_IN, on_who_end },
	{ OP_SERVER_PONG, CS_SECURED, on_pong },
	{ OP_SERVER_PING, CS_SECURED, on_ping },
	{ OP_ERROR, CS_SECURED, on_error },
	{ OP_CLOSING, CS_SECURED, on_closing },
	/* Handshake messages: known, and never right after the handshake. */
	{ OP_SERVER_HELLO, 0, NULL },
	{ OP_SERVER_FINISHED, 0, NULL },
	{ OP_REFUSED, 0, NULL },
};

void
cs_frame(struct session *s, char *f, size_t len)
{
	struct session_event ev = { .kind = SESSION_EV_ERROR,
	    .err = E_MALFORMED };
	const struct handler *h = NULL;
	const struct proto_op_spec *spec;
	char *field[FRAME_MAX_FIELDS], msg[CS_MSG_MAX];
	struct frame fr;
	unsigned op;
	size_t i;

	if (frame_opcode(f, len, &op) != 0) {
		cs_lost(s, E_MALFORMED, "the server sent a malformed frame");
		return;
	}
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if ((unsigned)handlers[i].opcode == op)
			h = &handlers[i];
	}
	/* A client's opcode from the server is as unknown as a new one. */
	if ((spec = proto_op_spec(op)) == NULL || h == NULL) {
		(void)snprintf(msg, sizeof(msg), "ignored a message with the "
		    "unknown opcode %04u from the server", op);
		ev.text = msg;
		cs_emit(s, &ev);
		return;
	}
	if (!cs_in(s, h->states)) {
		cs_lost(s, E_STATE, "the server sent %04u out of turn", op);
		return;
	}
	if (frame_parse(f, len, spec->min, spec->max, &fr) != 0) {
		malformed(s, op);
		return;
	}
	/* Fields become strings in place: each ends at a '|' or the LF. */
	for (i = 0; i < fr.nfields; i++) {
		if (!utf8_valid((const uint8_t *)fr.field[i].p,
		    fr.field[i].len)) {
			malformed(s, op);
			return;
		}
		field[i] = f + (fr.field[i].p - f);
	}
	for (i = 0; i < fr.nfields; i++)
		field[i][fr.field[i].len] = '\0';
	h->fn(s, field, fr.nfields);
}
