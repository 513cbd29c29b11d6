/*
 * What the bytes on a connection mean (docs/PROTOCOL.md): the handshake
 * states, then the application frames, checked against a table of which
 * opcode is allowed in which state, as OpenSSH's monitor does.  The slow
 * steps go to the worker pool (server/auth.c) and come back here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/b64.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/secret.h"
#include "keydist/channel.h"
#include "server/conn.h"
#include "server/throttle.h"
#include "server/worker.h"

#define LOGIN_TRIES_MAX 3
#define TOKEN_MAX 32

/* ---- sending ---- */

/* Build a frame from NUL-terminated fields (short ones: notices, lists). */
static int
build_fields(char line[512], size_t *len, unsigned opcode,
    const char *const *v, size_t n)
{
	struct frame_field f[FRAME_MAX_FIELDS];
	size_t i;

	for (i = 0; i < n; i++) {
		f[i].p = v[i];
		f[i].len = strlen(v[i]);
	}
	return frame_build(line, 512, len, opcode, f, n);
}

static void
send_fields(struct conn *c, unsigned opcode, const char *const *v, size_t n)
{
	char line[512];
	size_t len;

	if (build_fields(line, &len, opcode, v, n) != 0) {
		conn_fail(c, "error", 0, "cannot build frame %04u", opcode);
		return;
	}
	conn_send(c, line, len);
}

#define SEND(c, op, ...) do {                                             \
	const char *const v_[] = { __VA_ARGS__ };                          \
	send_fields((c), (op), v_, sizeof(v_) / sizeof(v_[0]));            \
} while (0)

/* A 1009 error: the connection stays open. */
static void
send_error(struct conn *c, const char *code, const char *msg)
{
	SEND(c, 1009, code, msg);
}

/* Queue frame to every logged-in connection but except. */
static void
broadcast(struct server *s, const struct conn *except, const char *frame,
    size_t len)
{
	struct conn *o;

	for (o = s->conns; o != NULL; o = o->next)
		if (o != except && o->state == CONN_LOGGED_IN && !o->dead)
			conn_send(o, frame, len);
}

static void
broadcast_fields(struct server *s, const struct conn *except, unsigned opcode,
    const char *const *v, size_t n)
{
	char line[512];
	size_t len;

	if (build_fields(line, &len, opcode, v, n) == 0)
		broadcast(s, except, line, len);
}

#define BROADCAST(s, except, op, ...) do {                                \
	const char *const v_[] = { __VA_ARGS__ };                          \
	broadcast_fields((s), (except), (op), v_,                          \
	    sizeof(v_) / sizeof(v_[0]));                                   \
} while (0)

/* ---- handshake ---- */

struct hs_job {
	struct worker_job job;
	struct conn *c;
	int r, owner_r;
	char owner[NAME_USER_MAX + 1];
	size_t len;
	char kx[];                   /* the KeyExchange line */
};

static void
hs_job_run(struct worker_job *job, void *wctx)
{
	struct hs_job *j = WORKER_JOB_OWNER(job, struct hs_job, job);

	j->r = auth_handshake(wctx, j->c->hs, j->kx, j->len, &j->owner_r,
	    j->owner);
}

/* Keys are ready (or not): go on with the ClientFinished already read. */
static void
hs_job_done(struct worker_job *job)
{
	struct hs_job *j = WORKER_JOB_OWNER(job, struct hs_job, job);
	struct conn *c = j->c;
	struct kd_hs *hs = c->hs;
	int r = j->r;

	c->jobs--;
	if (c->fd < 0) {
		free(j);
		conn_release(c);
		return;
	}
	memcpy(c->key_fp, hs->peer_fp, sizeof(c->key_fp));
	c->owner_r = j->owner_r;
	memcpy(c->owner, j->owner, sizeof(c->owner));
	free(j);
	if (r != 0) {
		conn_fail(c, "handshake", 0, "KeyExchange refused: %s%s%s",
		    err_str(r), c->key_fp[0] ? ", client key " : "", c->key_fp);
		return;
	}
	if ((r = kd_record_init(&c->rx, hs->c2s.key, hs->c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 0)) != 0 ||
	    (r = kd_record_init(&c->tx, hs->s2c.key, hs->s2c.iv,
	    KD_RECORD_REKEY_DEFAULT, 1)) != 0) {
		conn_fail(c, "error", 0, "record keys: %s", err_str(r));
		return;
	}
	if (c->owner_r == E_DB_UNAVAILABLE && !c->srv->db_down) {
		c->srv->db_down = 1;
		log_warn("database unavailable: enrolment of %s checked at login",
		    c->key_fp);
	}
	c->state = CONN_FINISHED;
	conn_pause(c, 0);
	protocol_input(c);
}

static int
on_client_hello(struct conn *c)
{
	uint8_t *p = buf_data(&c->in);
	size_t n = buf_size(&c->in), scan = n < KD_HS_LINE_MAX + 1 ? n :
	    KD_HS_LINE_MAX + 1;
	uint8_t *nl = memchr(p, '\n', scan);
	char sh[KD_HS_LINE_MAX];
	size_t shlen;
	int r;

	if (nl == NULL) {
		if (n > KD_HS_LINE_MAX)
			conn_fail(c, "handshake", 0, "ClientHello too long");
		return 1;
	}
	if ((c->hs = calloc(1, sizeof(*c->hs))) == NULL) {
		conn_fail(c, "error", 0, "out of memory");
		return 1;
	}
	kd_hs_server_init(c->hs, c->srv->key);
	if ((r = kd_hs_server_hello(c->hs, (const char *)p, (size_t)(nl - p),
	    sh, sizeof(sh), &shlen)) != 0) {
		conn_fail(c, "handshake", 0, "ClientHello refused: %s",
		    err_str(r));
		return 1;
	}
	buf_consume(&c->in, (size_t)(nl - p) + 1);
	conn_send_plain(c, sh, shlen);
	if ((r = kd_record_init(&c->rx, c->hs->hs_c2s.key, c->hs->hs_c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 0)) != 0) {
		conn_fail(c, "error", 0, "handshake key: %s", err_str(r));
		return 1;
	}
	c->state = CONN_KEYX;
	return 0;
}

/*
 * Open the one record the handshake expects now: it must hold exactly one
 * frame.  1 (with the connection failed, or waiting) if there is none.
 */
static int
open_handshake_record(struct conn *c, size_t max, const char *what,
    char **frame, size_t *len, size_t *reclen)
{
	char *frames, *extra;
	size_t flen, left, xlen;
	int r;

	r = kd_chan_open(&c->rx, &c->in, max, &frames, &flen, reclen);
	if (r == E_INCOMPLETE)
		return 1;
	if (r == 0) {
		left = flen;
		if (kd_chan_next_frame(&frames, &left, frame, len) != 1 ||
		    kd_chan_next_frame(&frames, &left, &extra, &xlen) != 0)
			r = E_MALFORMED;
	}
	if (r != 0) {
		conn_fail(c, "handshake", 0, "%s record: %s", what, err_str(r));
		return 1;
	}
	return 0;
}

static int
on_key_exchange(struct conn *c)
{
	struct hs_job *j;
	size_t len, reclen;
	char *kx;
	int r;

	if (open_handshake_record(c, KD_HS_LINE_MAX + 1, "KeyExchange", &kx,
	    &len, &reclen) != 0)
		return 1;
	if ((j = calloc(1, sizeof(*j) + len)) == NULL) {
		conn_fail(c, "error", 0, "out of memory");
		return 1;
	}
	memcpy(j->kx, kx, len);
	j->len = len;
	j->c = c;
	j->job.run = hs_job_run;
	j->job.done = hs_job_done;
	buf_consume(&c->in, reclen);
	kd_record_clear(&c->rx);
	if ((r = worker_pool_submit(c->srv->pool, &j->job)) != 0) {
		free(j);
		conn_fail(c, "busy", 0, "worker queue full");
		return 1;
	}
	c->jobs++;
	c->state = CONN_KEYX_PENDING;
	conn_pause(c, 1);
	return 1;
}

static int
on_client_finished(struct conn *c)
{
	char sf[KD_HS_LINE_MAX], *cf;
	size_t sflen, len, reclen;
	int r;

	if (open_handshake_record(c, KD_HS_LINE_MAX + 1, "ClientFinished",
	    &cf, &len, &reclen) != 0)
		return 1;
	r = kd_hs_server_finish(c->hs, cf, len, sf, sizeof(sf), &sflen);
	buf_consume(&c->in, reclen);
	if (r != 0) {
		conn_fail(c, "handshake", 0, "ClientFinished refused: %s",
		    err_str(r));
		return 1;
	}
	kd_hs_clear(c->hs);
	free(c->hs);
	c->hs = NULL;
	if (c->owner_r == E_NOT_FOUND) {
		SEND(c, 1199, "not_enrolled", "this client key is not enrolled "
		    "on this server; ask the administrator to enrol it");
		conn_fail(c, "not_enrolled", 0, "client key %s is not enrolled",
		    c->key_fp);
		return 1;
	}
	conn_send(c, sf, sflen);
	c->state = CONN_OPEN;
	log_info("handshake %s id=%llu key=%s owner=%s", c->addr,
	    (unsigned long long)c->id, c->key_fp,
	    c->owner_r == 0 ? c->owner : "(database unavailable)");
	return 0;
}

/* ---- login ---- */

struct login_job {
	struct worker_job job;
	struct conn *c;
	enum login_result res;
	char user[NAME_USER_MAX + 1];
	char fp[KD_FP_SIZE];
	char nick[NAME_NICK_MAX * 4 + 1];
	size_t pwlen;
	char pw[SECRET_MAX + 1];
};

static void
login_job_run(struct worker_job *job, void *wctx)
{
	struct login_job *j = WORKER_JOB_OWNER(job, struct login_job, job);

	j->res = auth_login(wctx, j->user, j->pw, j->pwlen, j->fp, j->nick);
}

static void
login_job_free(struct login_job *j)
{
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

/* Schedule `1001|ERR|word` after the delay a failure earns. */
static void
login_answer_later(struct conn *c, const char *word, uint64_t delay_ms)
{
	struct server *s = c->srv;

	snprintf(c->delayed.frame, sizeof(c->delayed.frame), "1001|ERR|%s",
	    word);
	c->delayed.due_ms = s->now_ms + delay_ms;
	if (s->next_delayed_ms == 0 || c->delayed.due_ms < s->next_delayed_ms)
		s->next_delayed_ms = c->delayed.due_ms;
	c->state = CONN_LOGIN_PENDING;
}

/*
 * A refused login: log it in the line fail2ban matches, count it against
 * the name and the address, answer after a growing delay.
 */
static void
login_failed(struct conn *c, const char *user, const char *word, int count)
{
	struct server *s = c->srv;
	const struct server_config *cfg = s->cfg;
	char key[THROTTLE_KEY_MAX + 1];
	unsigned nu = 0, na = 0;

	log_warn("login failed user=%s addr=%s reason=%s id=%llu", user,
	    c->ip, word, (unsigned long long)c->id);
	if (count) {
		snprintf(key, sizeof(key), "u:%s", user);
		nu = throttle_fail(s->login_fails, key, s->now_ms,
		    (unsigned)cfg->login_lock_after,
		    (uint64_t)cfg->login_lock_seconds * 1000);
		snprintf(key, sizeof(key), "a:%s", c->ip);
		na = throttle_fail(s->login_fails, key, s->now_ms,
		    (unsigned)cfg->login_lock_after,
		    (uint64_t)cfg->login_lock_seconds * 1000);
		if (nu == (unsigned)cfg->login_lock_after ||
		    na == (unsigned)cfg->login_lock_after)
			log_warn("login locked user=%s addr=%s for %lld s "
			    "after %u failures", user, c->ip,
			    cfg->login_lock_seconds, nu > na ? nu : na);
	}
	login_answer_later(c, word, throttle_delay_ms(nu > na ? nu : na,
	    (uint64_t)cfg->login_fail_delay_ms));
}

static void
login_job_done(struct worker_job *job)
{
	struct login_job *j = WORKER_JOB_OWNER(job, struct login_job, job);
	struct conn *c = j->c;
	struct server *s = c->srv;
	char key[THROTTLE_KEY_MAX + 1];

	c->jobs--;
	if (c->fd < 0) {
		login_job_free(j);
		conn_release(c);
		return;
	}
	switch (j->res) {
	case LOGIN_OK:
		snprintf(c->user, sizeof(c->user), "%s", j->user);
		snprintf(c->nick, sizeof(c->nick), "%s", j->nick);
		snprintf(key, sizeof(key), "u:%s", j->user);
		throttle_clear(s->login_fails, key);
		snprintf(key, sizeof(key), "a:%s", c->ip);
		throttle_clear(s->login_fails, key);
		c->state = CONN_LOGGED_IN;
		s->nlogged++;
		s->db_down = 0;
		SEND(c, 1001, "OK", c->nick);
		log_info("login ok user=%s addr=%s id=%llu key=%s", c->user,
		    c->ip, (unsigned long long)c->id, c->key_fp);
		BROADCAST(s, c, 1003, "JOIN", c->user, c->nick);
		break;
	case LOGIN_UNAVAILABLE:
		if (!s->db_down)
			log_error("database unavailable: logins refused until "
			    "it is back");
		s->db_down = 1;
		log_warn("login failed user=%s addr=%s reason=unavailable "
		    "id=%llu", j->user, c->ip, (unsigned long long)c->id);
		c->state = CONN_OPEN;
		SEND(c, 1001, "ERR", "unavailable");
		break;
	case LOGIN_DISABLED:
		login_failed(c, j->user, login_result_word(j->res), 0);
		break;
	case LOGIN_INVALID:
	case LOGIN_LOCKED:
		s->db_down = 0;
		login_failed(c, j->user, login_result_word(j->res),
		    j->res == LOGIN_INVALID);
		break;
	}
	login_job_free(j);
}

static void
on_login(struct conn *c, const struct frame *f)
{
	struct server *s = c->srv;
	const struct frame_field *user = &f->field[0], *pw = &f->field[1];
	char key[THROTTLE_KEY_MAX + 1], name[NAME_USER_MAX + 1];
	struct login_job *j;

	c->login_tries++;
	/* A name that cannot exist is refused like any wrong one. */
	if (user->len == 0 || user->len > NAME_USER_MAX) {
		login_failed(c, "(invalid)", "invalid", 1);
		return;
	}
	memcpy(name, user->p, user->len);
	name[user->len] = '\0';
	if (name_check_user(name) != 0 || pw->len == 0 || pw->len > SECRET_MAX) {
		login_failed(c, name_check_user(name) ? "(invalid)" : name,
		    "invalid", 1);
		return;
	}
	snprintf(key, sizeof(key), "u:%s", name);
	if (throttle_locked(s->login_fails, key, s->now_ms) == 0) {
		snprintf(key, sizeof(key), "a:%s", c->ip);
		if (throttle_locked(s->login_fails, key, s->now_ms) == 0)
			key[0] = '\0';
	}
	if (key[0] != '\0') {
		login_failed(c, name, "locked", 0);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		SEND(c, 1001, "ERR", "busy");
		return;
	}
	j->c = c;
	j->job.run = login_job_run;
	j->job.done = login_job_done;
	memcpy(j->user, name, sizeof(name));
	memcpy(j->fp, c->key_fp, sizeof(j->fp));
	memcpy(j->pw, pw->p, pw->len);
	j->pwlen = pw->len;
	if (worker_pool_submit(s->pool, &j->job) != 0) {
		login_job_free(j);
		SEND(c, 1001, "ERR", "busy");
		return;
	}
	c->jobs++;
	c->state = CONN_LOGIN_PENDING;
}

/* ---- chat, presence, keepalive ---- */

static void
on_chat(struct conn *c, const struct frame *f)
{
	struct server *s = c->srv;
	const struct frame_field *text = &f->field[0];
	size_t max = (size_t)s->cfg->max_frame - FRAME_CHAT_OVERHEAD, len;
	char ts[32], ct[24], msg[64], *line;
	const char *why;

	if ((why = text_chat_problem((const uint8_t *)text->p, text->len,
	    max)) != NULL) {
		snprintf(msg, sizeof(msg), "message not relayed: %s", why);
		send_error(c, "text", msg);
		return;
	}
	log_timestamp(ts);
	len = 4 + 1 + strlen(c->nick) + 1 + strlen(ts) + 1 + text->len;
	if ((line = malloc(len + 1)) == NULL) {
		send_error(c, "busy", "out of memory");
		return;
	}
	snprintf(line, len + 1, "1002|%s|%s|%.*s", c->nick, ts,
	    (int)text->len, text->p);
	broadcast(s, c, line, len);
	free(line);
	if (b64_encode(c->rec_prefix, sizeof(c->rec_prefix), ct, sizeof(ct),
	    1) < 0)
		ct[0] = '\0';
	log_info("chat id=%llu user=%s record=%zu ct=%s...",
	    (unsigned long long)c->id, c->user, c->rec_len, ct);
}

static void
on_quit(struct conn *c, const struct frame *f)
{
	conn_fail(c, "quit", 1, "goodbye");
}

static void
on_who(struct conn *c, const struct frame *f)
{
	struct conn *o;
	char count[24];
	size_t n = 0;

	for (o = c->srv->conns; o != NULL; o = o->next) {
		if (o->state == CONN_LOGGED_IN && !o->dead) {
			SEND(c, 1004, o->user, o->nick);
			n++;
		}
	}
	snprintf(count, sizeof(count), "%zu", n);
	SEND(c, 1014, count);
}

static int
token_valid(const struct frame_field *t)
{
	size_t i;

	if (t->len == 0 || t->len > TOKEN_MAX)
		return 0;
	for (i = 0; i < t->len; i++) {
		char ch = t->p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9')))
			return 0;
	}
	return 1;
}

static void
on_ping(struct conn *c, const struct frame *f)
{
	char line[8 + TOKEN_MAX];

	if (!token_valid(&f->field[0])) {
		send_error(c, "malformed", "ping token must be 1 to 32 "
		    "letters or digits");
		return;
	}
	snprintf(line, sizeof(line), "1005|%.*s", (int)f->field[0].len,
	    f->field[0].p);
	conn_send(c, line, strlen(line));
}

static void
on_pong(struct conn *c, const struct frame *f)
{
	/* Any frame resets the idle clock; the token needs no check. */
}

/* ---- dispatch ---- */

#define ST(s) (1u << (s))
#define ST_OPEN (ST(CONN_OPEN) | ST(CONN_LOGIN_PENDING) | ST(CONN_LOGGED_IN))

static const struct {
	unsigned opcode;
	size_t min, max;              /* fields */
	unsigned states;              /* where it is allowed */
	void (*fn)(struct conn *, const struct frame *);
} handlers[] = {
	{ 1, 2, 2, ST(CONN_OPEN), on_login },
	{ 2, 1, 1, ST(CONN_LOGGED_IN), on_chat },
	{ 3, 0, 0, ST_OPEN, on_quit },
	{ 4, 0, 0, ST(CONN_LOGGED_IN), on_who },
	{ 5, 1, 1, ST_OPEN, on_ping },
	{ 6, 1, 1, ST_OPEN, on_pong },
};

static void
dispatch(struct conn *c, const char *line, size_t len)
{
	struct frame f;
	unsigned op;
	size_t i;

	if (frame_opcode(line, len, &op) != 0) {
		send_error(c, "malformed", "a frame starts with a 4-digit "
		    "opcode");
		return;
	}
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].opcode == op)
			break;
	if (i == sizeof(handlers) / sizeof(handlers[0])) {
		send_error(c, "opcode", "unknown opcode");
		return;
	}
	if (frame_parse(line, len, handlers[i].min, handlers[i].max, &f) != 0) {
		send_error(c, "malformed", "wrong fields for this opcode");
		return;
	}
	if (!(handlers[i].states & ST(c->state))) {
		send_error(c, "state", c->state == CONN_LOGGED_IN ?
		    "already logged in" : c->state == CONN_LOGIN_PENDING ?
		    "a login is being checked" : "log in first");
		return;
	}
	handlers[i].fn(c, &f);
}

/* Open the next record and handle its frames; 1 when none is complete. */
static int
on_records(struct conn *c)
{
	size_t n = buf_size(&c->in), len, flen, reclen;
	char *frames, *frame;
	int r;

	/* Kept for the console line of a chat message in this record. */
	if (n > KD_RECORD_HDR_LEN)
		memcpy(c->rec_prefix, buf_data(&c->in) + KD_RECORD_HDR_LEN,
		    n - KD_RECORD_HDR_LEN < sizeof(c->rec_prefix) ?
		    n - KD_RECORD_HDR_LEN : sizeof(c->rec_prefix));
	r = kd_chan_open(&c->rx, &c->in, (size_t)c->srv->cfg->max_frame,
	    &frames, &len, &reclen);
	if (r == E_INCOMPLETE)
		return 1;
	if (r != 0) {
		conn_fail(c, "protocol", 0, "record refused: %s", err_str(r));
		return 1;
	}
	c->rec_len = reclen;
	while (!c->dead && (r = kd_chan_next_frame(&frames, &len, &frame,
	    &flen)) == 1)
		dispatch(c, frame, flen);
	if (r < 0)
		conn_fail(c, "protocol", 0, "empty frame");
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
	char line[32];

	if (c->state != CONN_LOGGED_IN) {
		if (now_ms - c->accepted_ms >=
		    (uint64_t)cfg->handshake_timeout * 1000)
			conn_fail(c, "timeout", 1, "no login within %lld s",
			    cfg->handshake_timeout);
		return;
	}
	if (cfg->idle_timeout > 0 && idle >= (uint64_t)cfg->idle_timeout * 1000)
		conn_fail(c, "timeout", 1, "silent for %llu s",
		    (unsigned long long)(idle / 1000));
	else if (cfg->keepalive_interval > 0 && !c->ping_out &&
	    idle >= (uint64_t)cfg->keepalive_interval * 1000) {
		snprintf(line, sizeof(line), "1006|%llu",
		    (unsigned long long)now_ms);
		conn_send(c, line, strlen(line));
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
		c->delayed.due_ms = 0;
		c->state = CONN_OPEN;
		conn_send(c, c->delayed.frame, strlen(c->delayed.frame));
		if (c->login_tries >= LOGIN_TRIES_MAX)
			conn_fail(c, "login", 1, "too many failed logins");
	}
	s->next_delayed_ms = next;
}

void
protocol_leave(struct conn *c)
{
	static const char *const words[] = {
		"quit", "closed", "timeout", "slow", "shutdown",
	};
	const char *reason = "error";
	size_t i;

	if (c->state != CONN_LOGGED_IN)
		return;
	c->state = CONN_OPEN;
	c->srv->nlogged--;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(c->close_reason, words[i]) == 0)
			reason = words[i];
	BROADCAST(c->srv, c, 1003, "LEAVE", c->user, c->nick, reason);
}

void
protocol_free(struct conn *c)
{
	if (c->hs != NULL) {
		kd_hs_clear(c->hs);
		free(c->hs);
		c->hs = NULL;
	}
}
