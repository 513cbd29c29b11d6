/*
 * The client core's connections: address lookup, TCP connect, the
 * handshake (docs/PROTOCOL.md sections 2 and 7), and moving records in and
 * out.  Frames after the handshake go to client/frames.c.
 *
 * A record's frames are handled where kd_chan_open() left them, in s->in:
 * a frame or an event's callback may lose the connection, but that closes
 * it (and frees s->in) only when the call from the front end returns
 * (session_int.h, "Closing late").  The loops here go on while the state
 * says the connection streams.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "client/session_int.h"
#include "common/err.h"
#include "common/text.h"
#include "keydist/channel.h"

#define READ_CHUNK 16384
#define READS_PER_CALL 16             /* then other fds get their turn */

/* Send what the socket takes; the rest waits for POLLOUT. */
void
cs_write(struct session *s)
{
	ssize_t n;

	while (buf_size(&s->out) > 0) {
		n = send(s->fd, buf_data(&s->out), buf_size(&s->out),
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			cs_lost(s, E_IO, "cannot send to %s: %s", s->addr_text,
			    strerror(errno));
			return;
		}
		buf_consume(&s->out, (size_t)n);
	}
	buf_shrink(&s->out);
}

void
cs_flush(struct session *s)
{
	int r;

	/* Lost or ended: not one more byte to this server. */
	if (!cs_in(s, CS_STREAM))
		return;
	if (buf_size(&s->txplain) > 0) {
		r = kd_chan_seal(&s->tx, &s->txplain, &s->out, s->max_frame);
		/* Wipe the plaintext (the login holds the login secret) at once. */
		buf_free(&s->txplain);
		if (r != 0) {
			cs_lost(s, r, "cannot seal a record: %s", err_str(r));
			return;
		}
	}
	cs_write(s);
}

/* TCP is up: send ClientHello. */
static void
connected(struct session *s)
{
	char line[KD_HS_LINE_MAX + 1];
	size_t len;
	int r;

	freeaddrinfo(s->addrs);
	s->addrs = s->next_addr = NULL;
	kd_hs_client_init(&s->hs, s->key, s->server_key);
	if ((r = kd_hs_client_hello(&s->hs, line, sizeof(line), &len)) != 0) {
		cs_lost(s, r, "handshake: %s", err_str(r));
		return;
	}
	line[len] = '\n';
	if ((r = buf_append(&s->out, line, len + 1)) != 0) {
		cs_lost(s, r, "%s", err_str(r));
		return;
	}
	s->state = ST_HELLO;
	cs_write(s);
}

/* Try the addresses left, one at a time. */
static void
try_connect(struct session *s)
{
	const struct addrinfo *ai;
	int r;

	while ((ai = s->next_addr) != NULL) {
		s->next_addr = ai->ai_next;
		net_addr_text(ai, s->addr_text, sizeof(s->addr_text));
		r = net_connect(ai, &s->fd);
		if (r == E_INCOMPLETE) {
			s->state = ST_CONNECT;
			return;
		}
		if (r == 0) {
			connected(s);
			return;
		}
		(void)snprintf(s->connect_err, sizeof(s->connect_err),
		    "cannot connect to %s: %s", s->addr_text, strerror(errno));
	}
	cs_lost(s, E_IO, "%s", s->connect_err);
}

void
cs_connect_ready(struct session *s)
{
	if (net_connect_result(s->fd) == 0) {
		connected(s);
		return;
	}
	(void)snprintf(s->connect_err, sizeof(s->connect_err),
	    "cannot connect to %s: %s", s->addr_text, strerror(errno));
	close(s->fd);
	s->fd = -1;
	try_connect(s);
}

void
cs_lookup_ready(struct session *s)
{
	int gai = 0, r;

	r = net_lookup_done(s->lookup, &s->addrs, &gai);
	if (r == E_INCOMPLETE)
		return;
	s->lookup = NULL;
	if (r != 0) {
		cs_lost(s, r, "cannot find %s: %s", s->host,
		    gai == 0 ? err_str(r) : gai_strerror(gai));
		return;
	}
	s->next_addr = s->addrs;
	try_connect(s);
}

/* Start a connection attempt. */
void
cs_attempt(struct session *s)
{
	struct session_event ev = { .kind = SESSION_EV_CONNECTING,
	    .host = s->host, .port = s->port };
	int gai = 0, r;

	s->state = ST_LOOKUP;
	s->deadline = s->now + SESSION_CONNECT_TIMEOUT_MS;
	(void)snprintf(s->addr_text, sizeof(s->addr_text), "%s port %s",
	    s->host, s->port);
	(void)snprintf(s->connect_err, sizeof(s->connect_err),
	    "%s has no address", s->host);
	cs_emit(s, &ev);
	/* Its callback may have quit. */
	if (s->state != ST_LOOKUP)
		return;
	r = net_lookup_start(s->host, s->port, &s->lookup, &s->addrs, &gai);
	if (r != 0) {
		cs_lost(s, r, "cannot find %s: %s", s->host,
		    gai == 0 ? err_str(r) : gai_strerror(gai));
		return;
	}
	if (s->lookup == NULL) {
		s->next_addr = s->addrs;
		try_connect(s);
	}
}

/* Seal one record of n plaintext bytes with d onto out. */
static int
seal_into(struct kd_record_dir *d, const char *p, size_t n, struct buf *out)
{
	size_t sealed;
	int r;

	if ((r = buf_reserve(out, n + KD_RECORD_OVERHEAD)) != 0 ||
	    (r = kd_record_seal(d, (const uint8_t *)p, n, buf_tail(out),
	    n + KD_RECORD_OVERHEAD, &sealed)) != 0)
		return r;
	buf_commit(out, sealed);
	return 0;
}

static void
key_mismatch(struct session *s)
{
	char presented[KD_FP_SIZE];
	struct session_event ev = { .kind = SESSION_EV_KEY_MISMATCH,
	    .pinned = s->pinned_fp, .fingerprint = presented };

	memcpy(presented, s->hs.peer_fp, sizeof(presented));
	presented[sizeof(presented) - 1] = '\0';
	/* Not one more byte to this server: END before the event. */
	cs_fatal(s, SESSION_KEY_MISMATCH, E_KEY_MISMATCH, &ev,
	    "the server presented %s, not the pinned key %s",
	    presented[0] != '\0' ? presented : "an unreadable key",
	    s->pinned_fp);
}

/*
 * HELLO: take the ServerHello line from s->in, check the server's key and
 * send KeyExchange and ClientFinished.  0 when done, E_INCOMPLETE to wait
 * for more, another error when the connection is gone.
 */
static int
server_hello(struct session *s)
{
	char kx[KD_HS_LINE_MAX + 1], fin[256];
	struct kd_record_dir hsdir;
	const char *line = (const char *)buf_data(&s->in), *nl;
	size_t n = buf_size(&s->in), kxlen, finlen, linelen;
	int r;

	nl = n == 0 ? NULL : memchr(line, '\n',
	    n < KD_HS_LINE_MAX + 1 ? n : KD_HS_LINE_MAX + 1);
	if (nl == NULL) {
		if (n <= KD_HS_LINE_MAX)
			return E_INCOMPLETE;
		cs_lost(s, E_TOO_LONG, "%s sent an overlong hello: "
		    "not a missive server?", s->addr_text);
		return E_TOO_LONG;
	}
	linelen = (size_t)(nl - line);
	r = kd_hs_client_keyx(&s->hs, line, linelen, kx, sizeof(kx), &kxlen,
	    fin, sizeof(fin), &finlen);
	buf_consume(&s->in, linelen + 1);
	if (r == E_KEY_MISMATCH) {
		key_mismatch(s);
		return r;
	}
	if (r != 0) {
		cs_lost(s, r, "%s sent no valid missive hello (%s): not a "
		    "missive server, or another protocol version", s->addr_text,
		    err_str(r));
		return r;
	}
	kx[kxlen] = '\n';
	fin[finlen] = '\n';
	/* KeyExchange under the handshake key, Finished under key_c2s. */
	memset(&hsdir, 0, sizeof(hsdir));
	if ((r = kd_record_init(&hsdir, s->hs.hs_c2s.key, s->hs.hs_c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 1)) == 0 &&
	    (r = seal_into(&hsdir, kx, kxlen + 1, &s->out)) == 0 &&
	    (r = kd_record_init(&s->tx, s->hs.c2s.key, s->hs.c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 1)) == 0 &&
	    (r = kd_record_init(&s->rx, s->hs.s2c.key, s->hs.s2c.iv,
	    KD_RECORD_REKEY_DEFAULT, 0)) == 0)
		r = seal_into(&s->tx, fin, finlen + 1, &s->out);
	kd_record_clear(&hsdir);
	if (r != 0) {
		cs_lost(s, r, "handshake: %s", err_str(r));
		return r;
	}
	s->state = ST_FINISHED;
	cs_write(s);
	return 0;
}

/* FINISHED: 1199 from the real server (the record authenticated). */
static void
refused(struct session *s, char *f, size_t len)
{
	struct session_event ev = { .kind = SESSION_EV_NOT_ENROLLED,
	    .fingerprint = s->own_fp };
	const struct proto_op_spec *spec = proto_op_spec(OP_REFUSED);
	struct frame fr;
	char *reason, *msg;

	if (spec == NULL || frame_parse(f, len, spec->min, spec->max,
	    &fr) != 0 ||
	    !utf8_valid((const uint8_t *)fr.field[1].p, fr.field[1].len)) {
		cs_lost(s, E_MALFORMED, "the server sent a malformed %04u",
		    OP_REFUSED);
		return;
	}
	reason = f + (fr.field[0].p - f);
	msg = f + (fr.field[1].p - f);
	reason[fr.field[0].len] = '\0';
	msg[fr.field[1].len] = '\0';
	if (strcmp(reason, proto_close_word(PROTO_CLOSE_NOT_ENROLLED)) != 0) {
		cs_fatal(s, SESSION_FAILED, E_STATE, NULL,
		    "the server refused the handshake (%s): %s", reason, msg);
		return;
	}
	ev.code = reason;
	ev.text = msg;
	cs_fatal(s, SESSION_NOT_ENROLLED, E_NOT_FOUND, &ev,
	    "this client's key %s is not enrolled on the server", s->own_fp);
}

/* FINISHED: the first frame after our Finished must be 1102 or 1199. */
static void
server_finished(struct session *s, char *f, size_t len)
{
	char fp[KD_FP_SIZE];
	struct session_event ev = { .kind = SESSION_EV_CONNECTED,
	    .fingerprint = fp };
	const struct frame_field login[] = {
		{ s->user, strlen(s->user) },
		{ s->secret, s->secret_len },
	};
	unsigned op;
	int r;

	if (frame_opcode(f, len, &op) != 0 ||
	    (op != OP_SERVER_FINISHED && op != OP_REFUSED)) {
		cs_lost(s, E_MALFORMED, "the server broke the handshake");
		return;
	}
	if (op == OP_REFUSED) {
		refused(s, f, len);
		return;
	}
	if ((r = kd_hs_client_finish(&s->hs, f, len)) != 0) {
		cs_lost(s, r, "%s did not prove that it holds the pinned "
		    "server key (%s): an impostor?", s->addr_text, err_str(r));
		return;
	}
	memcpy(fp, s->hs.peer_fp, sizeof(fp));
	fp[sizeof(fp) - 1] = '\0';
	kd_hs_clear(&s->hs);
	s->handshaked = 1;
	s->state = ST_LOGIN;
	if ((r = frame_put(&s->txplain, OP_LOGIN, login, 2)) != 0) {
		cs_lost(s, r, "login: %s", err_str(r));
		return;
	}
	cs_emit(s, &ev);
	/* Nothing goes if its callback ended the session. */
	cs_flush(s);
}

/* Dispatch the frames of a record, len bytes at p. */
static void
dispatch(struct session *s, char *p, size_t len)
{
	size_t left = len, flen;
	char *f;
	int r = 0;

	while (cs_in(s, CS_STREAM) &&
	    (r = kd_chan_next_frame(&p, &left, &f, &flen)) == 1) {
		if (s->state == ST_FINISHED)
			server_finished(s, f, flen);
		else
			cs_frame(s, f, flen);
	}
	if (r < 0)
		cs_lost(s, r, "the server sent an empty frame");
}

static const char *
record_error(int r)
{
	switch (r) {
	case E_MAC_INVALID:
		return "a record from the server failed authentication";
	case E_TOO_LONG:
		return "the server sent a record longer than max_frame";
	case E_MALFORMED:
		return "the server sent a malformed record";
	default:
		return err_str(r);
	}
}

/* Handle what has arrived in s->in. */
static void
process_input(struct session *s)
{
	size_t len, reclen;
	char *frames;
	int r;

	while (cs_in(s, CS_STREAM)) {
		if (s->state == ST_HELLO) {
			if (server_hello(s) != 0)
				return;
			continue;
		}
		r = kd_chan_open(&s->rx, &s->in, s->max_frame, &frames, &len,
		    &reclen);
		if (r == E_INCOMPLETE)
			return;
		if (r != 0) {
			cs_lost(s, r, "%s", record_error(r));
			return;
		}
		s->last_rx = s->now;
		s->ping_sent = 0;
		dispatch(s, frames, len);
		OPENSSL_cleanse(frames, len);
		buf_consume(&s->in, reclen);
	}
}

static void
conn_eof(struct session *s)
{
	switch (s->state) {
	case ST_HELLO:
		cs_lost(s, E_CLOSED, "%s closed the connection without a "
		    "hello: not a missive server?", s->addr_text);
		break;
	case ST_FINISHED:
		cs_lost(s, E_CLOSED, "the server closed the connection during "
		    "the handshake");
		break;
	default:
		cs_lost(s, E_CLOSED, "the server closed the connection");
		break;
	}
}

void
cs_read(struct session *s)
{
	ssize_t n;
	int i, r;

	for (i = 0; i < READS_PER_CALL && cs_in(s, CS_STREAM); i++) {
		if ((r = buf_reserve(&s->in, READ_CHUNK)) != 0) {
			cs_lost(s, r, "%s", err_str(r));
			return;
		}
		n = recv(s->fd, buf_tail(&s->in), READ_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			cs_lost(s, E_IO, "cannot read from %s: %s",
			    s->addr_text, strerror(errno));
			return;
		}
		if (n == 0) {
			conn_eof(s);
			return;
		}
		buf_commit(&s->in, (size_t)n);
		process_input(s);
	}
	buf_shrink(&s->in);
}
