/*
 * The client core: the session's life (start, loss, reconnect, end),
 * timers, quitting, and the requests queued while not logged in.
 * Connections and the handshake are in client/conn.c, frames from the
 * server in client/frames.c; session_int.h lists the rest.
 *
 * A loss or the end takes effect in two steps (session_int.h, "Closing
 * late"): cs_lost(), cs_fatal() and cs_finish() set the state, and
 * settle() closes and reports when the outermost call from the front end
 * returns through cs_leave().
 */
#include "client/session.h"

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "client/session_int.h"
#include "common/err.h"
#include "common/clock.h"
#include "common/secret.h"
#include "common/text.h"
#include "keydist/login.h"

int64_t
session_clock_ms(void)
{
	return (int64_t)clock_ms();
}

void
cs_emit(struct session *s, const struct session_event *ev)
{
	s->on_event(s->arg, ev);
}

static int __attribute__((format(printf, 3, 0)))
refuse(struct session *s, struct session_event *ev, const char *fmt,
    va_list ap)
{
	char msg[CS_MSG_MAX];

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	ev->text = msg;
	cs_emit(s, ev);
	return ev->err;
}

int
cs_refuse(struct session *s, int err, const char *fmt, ...)
{
	struct session_event ev = { .kind = SESSION_EV_ERROR, .err = err };
	va_list ap;
	int r;

	if (s->flushing[0] != '\0') {
		ev.room = s->flushing;
		ev.mid = s->flushing_mid;
		ev.count = 1;
	}
	va_start(ap, fmt);
	r = refuse(s, &ev, fmt, ap);
	va_end(ap);
	return r;
}

int
cs_refuse_lines(struct session *s, const struct e2e_conv *cv, size_t n,
    int err, const char *fmt, ...)
{
	struct session_event ev = { .kind = SESSION_EV_ERROR, .err = err,
	    .room = cv->name, .count = (long long)n };
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = refuse(s, &ev, fmt, ap);
	va_end(ap);
	return r;
}

_Static_assert(SESSION_SECRET_SIZE == KD_LOGIN_B64_LEN + 1,
    "session.h's secret size is keydist's");

int
session_login_secret(const char *password, EVP_PKEY *server_key,
    const char *user, char out[SESSION_SECRET_SIZE])
{
	char fp[KD_FP_SIZE];
	size_t pwlen = strlen(password);
	int r;

	out[0] = '\0';
	if (pwlen == 0 || pwlen > SECRET_MAX ||
	    !utf8_valid((const uint8_t *)password, pwlen) ||
	    strpbrk(password, "\r\n") != NULL)
		return E_PASSWORD;
	if (name_check_user(user) != 0)
		return E_INVALID;
	if ((r = kd_fingerprint(server_key, fp)) != 0)
		return r;
	return kd_login_secret(password, pwlen, fp, user, out);
}

int
session_new(const struct client_config *cfg, EVP_PKEY *key,
    EVP_PKEY *server_key, const char *secret, session_event_fn *on_event,
    void *arg, struct session **out, char *err, size_t errlen)
{
	struct e2e_conv *cv;
	struct session *s;
	int r;

	*out = NULL;
	(void)snprintf(err, errlen, "%s", "");
	if (cfg == NULL || key == NULL || server_key == NULL ||
	    secret == NULL || on_event == NULL || cfg->server_host == NULL ||
	    cfg->user == NULL || name_check_user(cfg->user) != 0 ||
	    cfg->known_keys == NULL ||
	    cfg->server_port < 1 || cfg->server_port > 65535 ||
	    cfg->max_frame < FRAME_MAX_FRAME_MIN ||
	    cfg->max_frame > FRAME_MAX_FRAME_MAX || cfg->reconnect_min_ms < 1 ||
	    cfg->reconnect_max_ms < 0 || cfg->keepalive_interval < 0)
		return E_INVALID;
	if (!kd_login_secret_valid(secret, strlen(secret)))
		return E_PASSWORD;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return E_NOMEM;
	s->fd = -1;
	s->on_event = on_event;
	s->arg = arg;
	(void)snprintf(s->port, sizeof(s->port), "%lld", cfg->server_port);
	s->max_frame = (size_t)cfg->max_frame;
	s->reconnect_min_ms = cfg->reconnect_min_ms;
	s->reconnect_max_ms = cfg->reconnect_max_ms;
	s->keepalive_ms = cfg->keepalive_interval * 1000;
	s->backoff_ms = s->reconnect_min_ms;
	r = E_NOMEM;
	if ((s->host = strdup(cfg->server_host)) == NULL ||
	    (s->user = strdup(cfg->user)) == NULL ||
	    (s->secret = strdup(secret)) == NULL)
		goto fail;
	s->secret_len = KD_LOGIN_B64_LEN;
	r = E_CRYPTO;
	if (EVP_PKEY_up_ref(key) != 1)
		goto fail;
	s->key = key;
	if (EVP_PKEY_up_ref(server_key) != 1)
		goto fail;
	s->server_key = server_key;
	if ((r = kd_fingerprint(key, s->own_fp)) != 0 ||
	    (r = kd_fingerprint(server_key, s->pinned_fp)) != 0 ||
	    (r = e2e_init(&s->e2e, key, cfg->user)) != 0)
		goto fail;
	if ((r = trust_load(cfg->known_keys, &s->trust, err, errlen)) != 0)
		goto fail;
	/* Our own key first (older folders lack it): any other key of our
	   user is a new device to accept by its fingerprint. */
	if ((r = trust_accept(s->trust, cfg->user, s->own_fp,
	    TRUST_VERIFIED)) != 0) {
		(void)snprintf(err, errlen, "%s: cannot pin this device's key: "
		    "%s", cfg->known_keys, err_str(r));
		goto fail;
	}
	/* The server puts every login in the lobby. */
	r = E_NOMEM;
	if ((cv = e2e_conv(&s->e2e, PROTO_LOBBY, 1)) == NULL)
		goto fail;
	cv->member = 1;
	*out = s;
	return 0;
fail:
	session_free(s);
	return r;
}

/* Close the connection or attempt and wipe its secrets. */
static void
conn_close(struct session *s)
{
	if (s->lookup != NULL) {
		net_lookup_cancel(s->lookup);
		s->lookup = NULL;
	}
	if (s->addrs != NULL) {
		freeaddrinfo(s->addrs);
		s->addrs = NULL;
	}
	s->next_addr = NULL;
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	kd_hs_clear(&s->hs);
	kd_record_clear(&s->tx);
	kd_record_clear(&s->rx);
	e2e_reset(&s->e2e);
	buf_free(&s->in);
	buf_free(&s->out);
	buf_free(&s->txplain);
	s->deadline = 0;
	s->ping_sent = 0;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	conn_close(s);
	buf_free(&s->queue);
	e2e_fini(&s->e2e);
	trust_free(s->trust);
	free(s->warned);
	cs_devset_free_all(s);
	cs_sent_free(s);
	if (s->secret != NULL)
		OPENSSL_clear_free(s->secret, s->secret_len);
	free(s->host);
	free(s->user);
	EVP_PKEY_free(s->key);
	EVP_PKEY_free(s->server_key);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* Forget the queue, saying so (nothing goes away unnoticed). */
static void
drop_queue(struct session *s)
{
	struct session_event ev = { .kind = SESSION_EV_ERROR, .err = E_CLOSED };
	char msg[CS_MSG_MAX];
	size_t n = s->queued;

	(void)cs_pending_drop_all(s);
	buf_free(&s->queue);
	s->queued = 0;
	if (n == 0)
		return;
	(void)snprintf(msg, sizeof(msg), "%zu queued line%s not sent", n,
	    n == 1 ? " was" : "s were");
	ev.text = msg;
	cs_emit(s, &ev);
}

void
cs_finish(struct session *s)
{
	if (s->state == ST_END)
		return;
	s->state = ST_END;
	s->end = SESSION_QUIT;
	s->ended = 1;
	s->end_err = 0;
}

void
cs_fatal(struct session *s, enum session_end end, int err,
    const struct session_event *first, const char *fmt, ...)
{
	va_list ap;

	if (s->state == ST_END)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(s->end_why, sizeof(s->end_why), fmt, ap);
	va_end(ap);
	s->state = ST_END;
	s->end = end;
	s->ended = 1;
	s->end_err = err;
	if (first != NULL)
		cs_emit(s, first);
}

void
cs_lost(struct session *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (!cs_in(s, CS_CONNECTION))
		return;
	if (s->state == ST_QUIT) {
		/* We were only waiting for the server to go. */
		cs_finish(s);
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(s->lost_why, sizeof(s->lost_why), fmt, ap);
	va_end(ap);
	s->state = ST_WAIT;
	s->reconnect_at = 0;
	s->lost = 1;
	s->lost_err = err;
}

/*
 * The connection is closed: report the loss, then reconnect after the
 * backoff, or end the session if that is not allowed.
 */
static void
report_lost(struct session *s)
{
	struct session_event ev = { .kind = SESSION_EV_DISCONNECTED,
	    .err = s->lost_err, .text = s->lost_why };
	char *why = s->lost_why;
	int giving_up = s->quit_wanted;
	size_t n = strlen(why), resend;

	if ((resend = cs_requeue_unconfirmed(s)) > 0)
		(void)snprintf(why + n, sizeof(s->lost_why) - n, " (%zu line%s "
		    "not confirmed by the server will be sent again)", resend,
		    resend == 1 ? "" : "s");
	cs_emit(s, &ev);
	/* Its callback may have quit. */
	if (s->state != ST_WAIT)
		return;
	if (!s->handshaked)
		cs_fatal(s, SESSION_UNREACHABLE, s->lost_err, NULL,
		    "server unreachable: %s", why);
	else if (s->reconnect_max_ms == 0)
		cs_fatal(s, SESSION_UNREACHABLE, s->lost_err, NULL,
		    "connection lost and reconnecting is disabled");
	else if (giving_up)
		cs_fatal(s, SESSION_UNREACHABLE, s->lost_err, NULL,
		    "connection lost while quitting");
	else {
		struct session_event rev = { .kind = SESSION_EV_RECONNECTING,
		    .delay_ms = s->backoff_ms };

		s->reconnect_at = s->now + s->backoff_ms;
		s->backoff_ms = s->backoff_ms > s->reconnect_max_ms / 2 ?
		    s->reconnect_max_ms : s->backoff_ms * 2;
		cs_emit(s, &rev);
	}
}

/* The session is over: drop what waits, report the end. */
static void
report_end(struct session *s)
{
	struct session_event ev = { .kind = SESSION_EV_DONE, .end = s->end,
	    .err = s->end_err };

	if (s->end != SESSION_QUIT) {
		ev.kind = SESSION_EV_FATAL;
		ev.text = s->end_why;
	}
	drop_queue(s);
	cs_emit(s, &ev);
}

/*
 * Close and report what cs_lost(), cs_fatal() and cs_finish() noted.  The
 * events' callbacks may quit or end the session again: go on until
 * nothing is left.
 */
static void
settle(struct session *s)
{
	while (s->lost || s->ended) {
		conn_close(s);
		if (s->lost) {
			s->lost = 0;
			report_lost(s);
		} else {
			s->ended = 0;
			report_end(s);
		}
	}
}

void
cs_enter(struct session *s)
{
	s->busy++;
}

int
cs_leave(struct session *s, int r)
{
	/* Settle only when the front end gets control back. */
	if (s->busy == 1)
		settle(s);
	s->busy--;
	return r;
}

void
cs_send_quit(struct session *s)
{
	/* What is handled goes with the goodbye, not again next time. */
	cs_ack_tick(s, 1);
	if (s->state != ST_OPEN)
		return;
	s->state = ST_QUIT;
	s->deadline = s->now + SESSION_QUIT_TIMEOUT_MS;
	/* Out of memory for four bytes: leave without the goodbye. */
	if (frame_put(&s->txplain, OP_QUIT, NULL, 0) != 0) {
		cs_finish(s);
		return;
	}
	cs_flush(s);
}

void
session_start(struct session *s, int64_t now_ms)
{
	cs_enter(s);
	s->now = now_ms;
	if (s->state == ST_IDLE)
		cs_attempt(s);
	(void)cs_leave(s, 0);
}

int
session_fd(const struct session *s)
{
	if (s->state == ST_LOOKUP)
		return s->lookup != NULL ? net_lookup_fd(s->lookup) : -1;
	return cs_in(s, CS_SOCKET) ? s->fd : -1;
}

short
session_events(const struct session *s)
{
	if (s->state == ST_LOOKUP)
		return POLLIN;
	if (s->state == ST_CONNECT)
		return POLLOUT;
	if (!cs_in(s, CS_STREAM))
		return 0;
	return buf_size(&s->out) > 0 ? POLLIN | POLLOUT : POLLIN;
}

void
session_handle(struct session *s, short revents, int64_t now_ms)
{
	cs_enter(s);
	s->now = now_ms;
	if (s->state == ST_LOOKUP) {
		if (revents & (POLLIN | POLLERR | POLLHUP))
			cs_lookup_ready(s);
	} else if (s->state == ST_CONNECT) {
		if (revents & (POLLOUT | POLLERR | POLLHUP))
			cs_connect_ready(s);
	} else if (cs_in(s, CS_STREAM)) {
		if (revents & POLLOUT)
			cs_write(s);
		/* cs_read() reads nothing if writing lost the connection. */
		if (revents & (POLLIN | POLLERR | POLLHUP))
			cs_read(s);
	}
	(void)cs_leave(s, 0);
}

/* OPEN: ping a silent server, drop one silent for twice the interval. */
static void
keepalive(struct session *s)
{
	char token[PROTO_TOKEN_MAX + 1];
	struct frame_field f;
	int64_t silent = s->now - s->last_rx;
	int r;

	if (s->keepalive_ms == 0)
		return;
	if (silent >= 2 * s->keepalive_ms) {
		cs_lost(s, E_IO, "the server has been silent for %lld s",
		    (long long)(silent / 1000));
		return;
	}
	if (silent < s->keepalive_ms || s->ping_sent)
		return;
	f.len = (size_t)snprintf(token, sizeof(token), "k%u", ++s->ping_count);
	f.p = token;
	if ((r = frame_put(&s->txplain, OP_PING, &f, 1)) != 0) {
		cs_lost(s, r, "%s", err_str(r));
		return;
	}
	s->ping_sent = 1;
	cs_flush(s);
}

/* LOOKUP..LOGIN: the attempt took too long. */
static void
attempt_timed_out(struct session *s)
{
	if (s->state == ST_LOOKUP)
		cs_lost(s, E_IO, "looking up %s timed out", s->host);
	else if (s->state == ST_CONNECT)
		cs_lost(s, E_IO, "connecting to %s timed out", s->addr_text);
	else
		cs_lost(s, E_IO, "%s did not complete the %s within %d s",
		    s->addr_text, s->state == ST_LOGIN ? "login" : "handshake",
		    SESSION_CONNECT_TIMEOUT_MS / 1000);
}

void
session_tick(struct session *s, int64_t now_ms)
{
	cs_enter(s);
	s->now = now_ms;
	if (cs_in(s, CS_ATTEMPT)) {
		if (now_ms >= s->deadline)
			attempt_timed_out(s);
	} else if (s->state == ST_OPEN) {
		if (s->quit_wanted && now_ms >= s->deadline) {
			(void)cs_pending_drop_all(s);
			cs_send_quit(s);
		} else {
			cs_ack_tick(s, 0);
			keepalive(s);
		}
	} else if (s->state == ST_QUIT) {
		if (now_ms >= s->deadline)
			cs_finish(s);
	} else if (s->state == ST_WAIT) {
		if (now_ms >= s->reconnect_at)
			cs_attempt(s);
	}
	(void)cs_leave(s, 0);
}

int64_t
session_timeout(const struct session *s, int64_t now_ms)
{
	int64_t due, ack = cs_ack_due(s);

	if (cs_in(s, CS_ATTEMPT | CS_IN(ST_QUIT)) ||
	    (s->state == ST_OPEN && s->quit_wanted))
		due = s->deadline;
	else if (s->state == ST_OPEN && s->keepalive_ms > 0)
		due = s->last_rx + (s->ping_sent ? 2 : 1) * s->keepalive_ms;
	else if (s->state == ST_WAIT)
		due = s->reconnect_at;
	else
		due = -1;
	if (ack >= 0 && (due < 0 || ack < due))
		due = ack;
	if (due < 0)
		return -1;
	return due <= now_ms ? 0 : due - now_ms;
}

int
session_check_text(const struct session *s, const char *text, size_t len,
    const char **why)
{
	size_t max = session_text_max(s);

	if ((*why = text_chat_problem((const uint8_t *)text, len, max)) == NULL)
		return 0;
	return len > max ? E_TOO_LONG : E_MALFORMED;
}

int
cs_refuse_closing(struct session *s)
{
	if (!cs_in(s, CS_CLOSING) && !s->quit_wanted)
		return 0;
	return cs_refuse(s, E_STATE, "not sent: the session is %s",
	    s->state == ST_END ? "over" : "closing");
}

int
cs_send_or_queue(struct session *s, unsigned opcode, const struct frame_field *f,
    size_t n)
{
	size_t need = frame_build_size(f, n);
	int r;

	if (s->state == ST_OPEN) {
		if (buf_size(&s->out) + need > SESSION_OUT_MAX)
			return cs_refuse(s, E_TOO_LONG, "not sent: the server is "
			    "not reading (%zu bytes waiting)",
			    buf_size(&s->out));
		if ((r = frame_put(&s->txplain, opcode, f, n)) != 0)
			return cs_refuse(s, r, "not sent: %s", err_str(r));
		cs_flush(s);
		return 0;
	}
	if ((r = cs_refuse_closing(s)) != 0)
		return r;
	if (s->queued >= SESSION_QUEUE_LINES ||
	    buf_size(&s->queue) + need > SESSION_QUEUE_BYTES)
		return cs_refuse(s, E_TOO_LONG, "not sent: %zu lines are "
		    "already waiting for the connection", s->queued);
	if ((r = frame_put(&s->queue, opcode, f, n)) != 0)
		return cs_refuse(s, r, "not sent: %s", err_str(r));
	s->queued++;
	return 0;
}

void
session_quit(struct session *s, int64_t now_ms)
{
	cs_enter(s);
	s->now = now_ms;
	if (s->state == ST_OPEN) {
		/* Lines waiting for a device list go out first. */
		if (cs_pending_count(s) > 0) {
			s->quit_wanted = 1;
			s->deadline = s->now + SESSION_CONNECT_TIMEOUT_MS;
		} else {
			cs_send_quit(s);
		}
	} else if (!cs_in(s, CS_CLOSING)) {
		/* Not logged in: queued lines go out first, after the login. */
		if (s->state != ST_IDLE &&
		    (s->queued > 0 || cs_pending_count(s) > 0))
			s->quit_wanted = 1;
		else
			cs_finish(s);
	}
	(void)cs_leave(s, 0);
}

void
cs_quit_if_drained(struct session *s)
{
	if (s->quit_wanted && s->state == ST_OPEN && cs_pending_count(s) == 0)
		cs_send_quit(s);
}

enum session_end
session_end(const struct session *s)
{
	return s->end;
}
