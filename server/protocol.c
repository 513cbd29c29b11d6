/*
 * What the bytes on a connection mean (docs/PROTOCOL.md): the handshake
 * states, then the application frames, checked against a table of which
 * opcode is allowed in which state, as OpenSSH's monitor does; quit and
 * keepalive; the once-a-second timeouts and the delayed login answers.
 * The families are server/handshake.c, login.c and relay.c; the slow
 * steps go to the worker pool (server/auth.c) and come back there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "keydist/channel.h"
#include "server/handlers.h"
#include "server/inbox.h"
#include "server/reply.h"

/* ---- quit, keepalive ---- */

static void
on_quit(struct conn *c, const struct frame *f)
{
	conn_fail(c, PROTO_CLOSE_QUIT, 1, "goodbye");
}

static void
on_ping(struct conn *c, const struct frame *f)
{
	if (!proto_token_valid(f->field[0].p, f->field[0].len)) {
		send_error(c, PROTO_ERR_MALFORMED, "ping token must be 1 to 32 "
		    "letters or digits");
		return;
	}
	send_frame(c, OP_SERVER_PONG, f->field, 1);
}

static void
on_pong(struct conn *c, const struct frame *f)
{
	/* Any frame resets the idle clock; the token needs no check. */
}

/* ---- dispatch ---- */

#define ST(s) (1u << (s))
#define ST_LOGIN_WAIT (ST(CONN_LOGIN_PENDING) | ST(CONN_LOGIN_DELAYED))
#define ST_OPEN (ST(CONN_OPEN) | ST_LOGIN_WAIT | ST(CONN_LOGGED_IN))

/* The client's frames after the handshake: where each is allowed.  Their
   fields are common/proto.c's. */
static const struct {
	enum proto_op op;
	unsigned states;
	void (*fn)(struct conn *, const struct frame *);
} handlers[] = {
	{ OP_LOGIN, ST(CONN_OPEN), on_login },
	{ OP_CHAT, ST(CONN_LOGGED_IN), on_chat },
	{ OP_QUIT, ST_OPEN, on_quit },
	{ OP_WHO, ST(CONN_LOGGED_IN), on_who },
	{ OP_PING, ST_OPEN, on_ping },
	{ OP_PONG, ST_OPEN, on_pong },
	{ OP_JOIN, ST(CONN_LOGGED_IN), on_join },
	{ OP_LEAVE, ST(CONN_LOGGED_IN), on_part },
	{ OP_ROOMS, ST(CONN_LOGGED_IN), on_list_rooms },
	{ OP_DEVICES, ST(CONN_LOGGED_IN), on_devices },
	{ OP_SENDER_KEY, ST(CONN_LOGGED_IN), on_sender_key },
	{ OP_ACK, ST(CONN_LOGGED_IN), on_ack },
};

/* Why a frame that is not allowed now is refused. */
static const char *
state_refusal(enum conn_state st)
{
	if (st == CONN_LOGGED_IN)
		return "already logged in";
	if (ST(st) & ST_LOGIN_WAIT)
		return "a login is being checked";
	return "log in first";
}

static void
dispatch(struct conn *c, const char *line, size_t len)
{
	const struct proto_op_spec *spec;
	struct frame f;
	unsigned op;
	size_t i;

	if (frame_opcode(line, len, &op) != 0) {
		send_error(c, PROTO_ERR_MALFORMED, "a frame starts with a "
		    "4-digit opcode");
		return;
	}
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if ((unsigned)handlers[i].op == op)
			break;
	if (i == sizeof(handlers) / sizeof(handlers[0]) ||
	    (spec = proto_op_spec(op)) == NULL) {
		send_error(c, PROTO_ERR_OPCODE, "unknown opcode");
		return;
	}
	if (frame_parse(line, len, spec->min, spec->max, &f) != 0) {
		send_error(c, PROTO_ERR_MALFORMED, "wrong fields for this "
		    "opcode");
		return;
	}
	if (!(handlers[i].states & ST(c->state))) {
		send_error(c, PROTO_ERR_STATE, state_refusal(c->state));
		return;
	}
	handlers[i].fn(c, &f);
}

/* Open the next record and handle its frames; 1 when none is complete. */
static int
on_records(struct conn *c)
{
	size_t len, flen, reclen;
	char *frames, *frame;
	int r;

	r = kd_chan_open(&c->rx, &c->in, (size_t)c->srv->cfg->max_frame,
	    &frames, &len, &reclen);
	if (r == E_INCOMPLETE)
		return 1;
	if (r != 0) {
		conn_fail(c, PROTO_CLOSE_PROTOCOL, 0, "record refused: %s",
		    err_str(r));
		return 1;
	}
	while (!c->dead && (r = kd_chan_next_frame(&frames, &len, &frame,
	    &flen)) == 1)
		dispatch(c, frame, flen);
	if (r < 0)
		conn_fail(c, PROTO_CLOSE_PROTOCOL, 0, "empty frame");
	buf_consume(&c->in, reclen);
	return 0;
}

void
protocol_input(struct conn *c)
{
	int wait = 0;

	while (!wait && !c->dead && !c->paused && buf_size(&c->in) > 0) {
		switch (c->state) {
		case CONN_HELLO:
			wait = on_client_hello(c);
			break;
		case CONN_KEYX:
			wait = on_key_exchange(c);
			break;
		case CONN_FINISHED:
			wait = on_client_finished(c);
			break;
		case CONN_OPEN:
		case CONN_LOGIN_PENDING:
		case CONN_LOGIN_DELAYED:
		case CONN_LOGGED_IN:
			wait = on_records(c);
			break;
		case CONN_KEYX_PENDING:
			wait = 1;
			break;
		}
	}
}

void
protocol_tick(struct conn *c, uint64_t now_ms)
{
	const struct server_config *cfg = c->srv->cfg;
	uint64_t idle = now_ms - c->last_rx_ms;
	char token[24];

	if (c->state != CONN_LOGGED_IN) {
		if (now_ms - c->accepted_ms >=
		    (uint64_t)cfg->handshake_timeout * 1000)
			conn_fail(c, PROTO_CLOSE_TIMEOUT, 1, "no login within %lld s",
			    cfg->handshake_timeout);
		return;
	}
	if (cfg->idle_timeout > 0 && idle >= (uint64_t)cfg->idle_timeout * 1000)
		conn_fail(c, PROTO_CLOSE_TIMEOUT, 1, "silent for %llu s",
		    (unsigned long long)(idle / 1000));
	else if (cfg->keepalive_interval > 0 && !c->ping_out &&
	    idle >= (uint64_t)cfg->keepalive_interval * 1000) {
		(void)snprintf(token, sizeof(token), "%llu",
		    (unsigned long long)now_ms);
		SEND(c, OP_SERVER_PING, token);
		c->ping_out = 1;
	}
}

void
protocol_due(struct server *s)
{
	struct conn *c;
	uint64_t next = 0;

	for (c = s->conns; c != NULL; c = c->next) {
		if (c->delayed.due_ms == 0 || c->dead)
			continue;
		if (c->delayed.due_ms > s->now_ms) {
			if (next == 0 || c->delayed.due_ms < next)
				next = c->delayed.due_ms;
			continue;
		}
		login_refusal_due(c);
	}
	s->next_delayed_ms = next;
}

void
protocol_leave(struct conn *c)
{
	if (c->state != CONN_LOGGED_IN)
		return;
	c->state = CONN_OPEN;
	c->srv->nlogged--;
	relay_offline(c, c->close_reason);
}

void
protocol_free(struct conn *c)
{
	handshake_free_parked(c);
	if (c->hs != NULL) {
		kd_hs_clear(c->hs);
		free(c->hs);
		c->hs = NULL;
	}
	free(c->spki);
	c->spki = NULL;
}
