/*
 * What the bytes on a connection mean (docs/PROTOCOL.md): the handshake
 * states, then the application frames, checked against a table of which
 * opcode is allowed in which state, as OpenSSH's monitor does.  The slow
 * steps go to the worker pool (server/auth.c) and come back here.
 */
#include <stddef.h>
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
#include "keydist/keys.h"
#include "server/conn.h"
#include "server/rooms.h"
#include "server/throttle.h"
#include "server/worker.h"

#define LOGIN_TRIES_MAX 3
#define TOKEN_MAX 32

/* Throttle keys "u:<user>" and "a:<ip>" are never cut (snprintf below). */
_Static_assert(THROTTLE_KEY_MAX >= 2 + NAME_USER_MAX &&
    THROTTLE_KEY_MAX >= 2 + INET6_ADDRSTRLEN - 1, "throttle keys fit");

/* ---- sending ---- */

/* Frames without a message or blob fit in the smallest max_frame. */
#define SHORT_FRAME FRAME_MAX_FRAME_MIN

/* Build a frame from NUL-terminated fields (notices, lists, presence). */
static int
build_fields(char line[SHORT_FRAME], size_t *len, unsigned opcode,
    const char *const *v, size_t n)
{
	struct frame_field f[FRAME_MAX_FIELDS];
	size_t i;

	for (i = 0; i < n; i++) {
		f[i].p = v[i];
		f[i].len = strlen(v[i]);
	}
	return frame_build(line, SHORT_FRAME, len, opcode, f, n);
}

static void
send_fields(struct conn *c, unsigned opcode, const char *const *v, size_t n)
{
	char line[SHORT_FRAME];
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

/*
 * A 1009 error: the connection stays open.  Logged, so that an admin can
 * see a misbehaving client; the frame's content is not (it may hold a
 * password, and it is the attacker's text).
 */
static void
send_error(struct conn *c, const char *code, const char *msg)
{
	log_info("refused frame id=%llu user=%s error=%s: %s",
	    (unsigned long long)c->id, c->user[0] != '\0' ? c->user : "-",
	    code, msg);
	SEND(c, 1009, code, msg);
}

/* `op|count` or, with conv, `op|conv|count`: the end of a list. */
static void
send_count(struct conn *c, unsigned op, const char *conv, size_t n)
{
	char count[24];

	(void)snprintf(count, sizeof(count), "%zu", n);
	if (conv == NULL)
		SEND(c, op, count);
	else
		SEND(c, op, conv, count);
}

/* Build a frame whose fields may be as long as a frame into a new buffer
   (the caller frees it); NULL if out of memory. */
static char *
build_alloc(size_t *len, unsigned opcode, const struct frame_field *f,
    size_t n)
{
	size_t cap = frame_build_size(f, n);
	char *line;

	if ((line = malloc(cap)) == NULL)
		return NULL;
	if (frame_build(line, cap, len, opcode, f, n) != 0) {
		free(line);
		return NULL;
	}
	return line;
}

static struct frame_field
field(const char *s)
{
	return (struct frame_field){ s, strlen(s) };
}

/* The connection whose room_client cl is. */
static struct conn *
conn_of(struct room_client *cl)
{
	return (struct conn *)(void *)((char *)cl -
	    offsetof(struct conn, rooms));
}

/* Whether o is logged in and not on its way out. */
static int
conn_present(const struct conn *o)
{
	return o->state == CONN_LOGGED_IN && !o->dead;
}

/* Queue frame to o unless it is the sender c or (with fp) its key is not
   fp; 1 if queued. */
static size_t
relay_to(const struct conn *c, struct conn *o, const struct frame_field *fp,
    const char *frame, size_t len)
{
	if (o == c || (fp != NULL && !frame_field_is(fp, o->key_fp)))
		return 0;
	conn_send(o, frame, len);
	return 1;
}

/* Queue frame to the members of r but c (with fp: those whose key it is);
   the number of them. */
static size_t
room_send(const struct room *r, const struct conn *c,
    const struct frame_field *fp, const char *frame, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < room_size(r); i++)
		n += relay_to(c, conn_of(room_member(r, i)), fp, frame, len);
	return n;
}

static void
room_send_fields(const struct room *r, const struct conn *c, unsigned opcode,
    const char *const *v, size_t n)
{
	char line[SHORT_FRAME];
	size_t len;

	if (build_fields(line, &len, opcode, v, n) == 0)
		(void)room_send(r, c, NULL, line, len);
}

/* Presence in a room: to every member but c. */
#define ROOM_SEND(r, c, op, ...) do {                                     \
	const char *const v_[] = { __VA_ARGS__ };                          \
	room_send_fields((r), (c), (op), v_, sizeof(v_) / sizeof(v_[0]));  \
} while (0)

static void join_room(struct conn *, const char *, size_t);

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
	kd_hs_server_init(c->hs, c->srv->key, c->srv->key_spki,
	    c->srv->key_spki_len);
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
	if (worker_pool_submit(c->srv->pool, &j->job) != 0) {
		free(j);
		conn_fail(c, "busy", 0, "worker queue full");
		return 1;
	}
	c->jobs++;
	c->state = CONN_KEYX_PENDING;
	conn_pause(c, 1);
	return 1;
}

/*
 * Keep b64(DER SPKI) of the client key: peers get it with each device.
 * The bytes the handshake received, without OpenSSL's encoder: when their
 * fingerprint is enrolled they are the enrolled key's DER, and otherwise
 * the connection is refused next.
 */
static int
keep_spki(struct conn *c, const uint8_t *der, size_t len)
{
	long n;

	if ((c->spki = malloc(B64_ENCODED_SIZE(len))) == NULL)
		return E_NOMEM;
	if ((n = b64_encode(der, len, c->spki, B64_ENCODED_SIZE(len), 1)) < 0)
		return (int)n;
	return 0;
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
	if ((r = keep_spki(c, c->hs->peer_spki, c->hs->peer_spki_len)) != 0) {
		conn_fail(c, "error", 0, "client key: %s", err_str(r));
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

/* Copy the user name in f to out: 1 if it is a valid one. */
static int
user_name(const struct frame_field *f, char out[NAME_USER_MAX + 1])
{
	if (f->len == 0 || f->len > NAME_USER_MAX)
		return 0;
	memcpy(out, f->p, f->len);
	out[f->len] = '\0';
	return name_check_user(out) == 0;
}

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

	(void)snprintf(c->delayed.frame, sizeof(c->delayed.frame),
	    "1001|ERR|%s", word);
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
		(void)snprintf(key, sizeof(key), "u:%s", user);
		nu = throttle_fail(s->login_fails, key, s->now_ms,
		    (unsigned)cfg->login_lock_after,
		    (uint64_t)cfg->login_lock_seconds * 1000);
		(void)snprintf(key, sizeof(key), "a:%s", c->ip);
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
		(void)snprintf(c->user, sizeof(c->user), "%s", j->user);
		(void)snprintf(c->nick, sizeof(c->nick), "%s", j->nick);
		(void)snprintf(key, sizeof(key), "u:%s", j->user);
		throttle_clear(s->login_fails, key);
		(void)snprintf(key, sizeof(key), "a:%s", c->ip);
		throttle_clear(s->login_fails, key);
		c->state = CONN_LOGGED_IN;
		s->nlogged++;
		s->db_down = 0;
		SEND(c, 1001, "OK", c->nick);
		log_info("login ok user=%s addr=%s id=%llu key=%s", c->user,
		    c->ip, (unsigned long long)c->id, c->key_fp);
		join_room(c, ROOM_LOBBY, strlen(ROOM_LOBBY));
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
	int valid;

	c->login_tries++;
	/* A name that cannot exist is refused like any wrong one. */
	valid = user_name(user, name);
	if (!valid || pw->len == 0 || pw->len > SECRET_MAX) {
		login_failed(c, valid ? name : "(invalid)", "invalid", 1);
		return;
	}
	(void)snprintf(key, sizeof(key), "u:%s", name);
	if (throttle_locked(s->login_fails, key, s->now_ms) == 0) {
		(void)snprintf(key, sizeof(key), "a:%s", c->ip);
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

/* ---- rooms (docs/PROTOCOL.md 5.2) ---- */

/* One device of a room or a private conversation: a 1012 to c. */
static void
send_device(struct conn *c, const char *conv, const struct conn *o)
{
	SEND(c, 1012, conv, o->user, o->nick, o->key_fp, o->spki);
}

/*
 * Join c to the room name[0..len) (0011, and the lobby at login): its
 * member list and 1011 to c, JOIN to the others unless c was in already.
 */
static void
join_room(struct conn *c, const char *name, size_t len)
{
	const struct server_config *cfg = c->srv->cfg;
	struct room *r;
	struct conn *o;
	char msg[96];
	size_t i, n = 0;

	if (!room_name_valid(name, len)) {
		send_error(c, "room", "invalid room name");
		return;
	}
	switch (room_join(&c->srv->rooms, &c->rooms, name, len, &r)) {
	case ROOM_JOINED:
		ROOM_SEND(r, c, 1003, "JOIN", room_name(r), c->user, c->nick,
		    c->key_fp, c->spki);
		log_info("join id=%llu user=%s room=%s",
		    (unsigned long long)c->id, c->user, room_name(r));
		break;
	case ROOM_ALREADY:
		break;
	case ROOM_FULL:
		(void)snprintf(msg, sizeof(msg),
		    "the room is full (%lld members)", cfg->max_room_members);
		send_error(c, "room", msg);
		return;
	case ROOM_CLIENT_LIMIT:
		(void)snprintf(msg, sizeof(msg),
		    "you are in too many rooms (at most %lld)",
		    cfg->max_rooms_per_client);
		send_error(c, "room", msg);
		return;
	case ROOM_SERVER_LIMIT:
		(void)snprintf(msg, sizeof(msg),
		    "too many rooms on this server (at most %lld)",
		    cfg->max_rooms);
		send_error(c, "room", msg);
		return;
	case ROOM_NOMEM:
		send_error(c, "busy", "out of memory");
		return;
	}
	for (i = 0; i < room_size(r); i++)
		if ((o = conn_of(room_member(r, i))) != c) {
			send_device(c, room_name(r), o);
			n++;
		}
	send_count(c, 1011, room_name(r), n);
}

/* Take c out of r, telling the members that stay. */
static void
leave_room(struct conn *c, struct room *r, const char *reason)
{
	log_info("leave id=%llu user=%s room=%s reason=%s",
	    (unsigned long long)c->id, c->user, room_name(r), reason);
	ROOM_SEND(r, c, 1003, "LEAVE", room_name(r), c->user, c->nick,
	    c->key_fp, reason);
	/* c is a member: this cannot fail.  r may be gone after it. */
	(void)room_leave(&c->srv->rooms, &c->rooms, r);
}

/* The room named by f that c is in, or NULL with 1009|room sent. */
static struct room *
my_room(struct conn *c, const struct frame_field *f)
{
	struct room *r;

	if (!room_name_valid(f->p, f->len)) {
		send_error(c, "room", "invalid room name");
		return NULL;
	}
	if ((r = rooms_find(&c->srv->rooms, f->p, f->len)) == NULL ||
	    !room_has(&c->rooms, r)) {
		send_error(c, "room", "you are not in this room");
		return NULL;
	}
	return r;
}

static void
on_join(struct conn *c, const struct frame *f)
{
	join_room(c, f->field[0].p, f->field[0].len);
}

static void
on_part(struct conn *c, const struct frame *f)
{
	struct room *r;

	if ((r = my_room(c, &f->field[0])) == NULL)
		return;
	SEND(c, 1013, room_name(r));
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
	SEND(l->c, 1016, room_name(r), members);
	l->n++;
}

static void
on_list_rooms(struct conn *c, const struct frame *f)
{
	struct room_list l = { c, 0 };

	rooms_foreach(&c->srv->rooms, list_one, &l);
	send_count(c, 1017, NULL, l.n);
}

static void
on_who(struct conn *c, const struct frame *f)
{
	const struct room *r;
	struct conn *o;
	size_t i, n = 0;

	if (f->nfields == 0) {
		for (o = c->srv->conns; o != NULL; o = o->next)
			if (conn_present(o)) {
				SEND(c, 1004, o->user, o->nick);
				n++;
			}
	} else if (!room_name_valid(f->field[0].p, f->field[0].len)) {
		send_error(c, "room", "invalid room name");
		return;
	} else if ((r = rooms_find(&c->srv->rooms, f->field[0].p,
	    f->field[0].len)) != NULL) {
		for (i = 0; i < room_size(r); i++) {
			o = conn_of(room_member(r, i));
			SEND(c, 1004, o->user, o->nick);
		}
		n = room_size(r);
	}
	send_count(c, 1014, NULL, n);
}

/* ---- private conversations (5.3) ---- */

/*
 * The connection after o (NULL: the first) in c's private conversation
 * with user: every connection of user and of c's own user, c excepted.
 * This scans every connection until they are indexed by user (issue 6).
 */
static struct conn *
pm_next(const struct conn *c, const char *user, struct conn *o)
{
	for (o = o == NULL ? c->srv->conns : o->next; o != NULL; o = o->next)
		if (o != c && conn_present(o) && (strcmp(o->user, user) == 0 ||
		    strcmp(o->user, c->user) == 0))
			return o;
	return NULL;
}

/* Whether user has a connection (a scan, as in pm_next). */
static int
user_online(const struct server *s, const char *user)
{
	const struct conn *o;

	for (o = s->conns; o != NULL; o = o->next)
		if (conn_present(o) && strcmp(o->user, user) == 0)
			return 1;
	return 0;
}

static void
on_devices(struct conn *c, const struct frame *f)
{
	char user[NAME_USER_MAX + 1], conv[NAME_USER_MAX + 2];
	struct conn *o = NULL;
	size_t n = 0;

	if (!user_name(&f->field[0], user)) {
		send_error(c, "malformed", "invalid user name");
		return;
	}
	(void)snprintf(conv, sizeof(conv), "@%s", user);
	while ((o = pm_next(c, user, o)) != NULL) {
		send_device(c, conv, o);
		n++;
	}
	send_count(c, 1011, conv, n);
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
			send_error(c, "malformed", "invalid user name");
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

/*
 * Whether f looks like canonical base64 of 1 to max characters: the
 * alphabet, at most two '=' at the end, a multiple of 4 long.  The server
 * cannot open what it encodes; the recipients check the rest.
 */
static int
b64_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

static int
b64_plausible(const struct frame_field *f, size_t max)
{
	size_t i, pad = 0;

	if (f->len == 0 || f->len > max || f->len % 4 != 0)
		return 0;
	for (i = 0; i < f->len; i++) {
		char ch = f->p[i];

		if (ch == '=')
			pad++;
		else if (pad > 0 || !b64_char(ch))
			return 0;
	}
	return pad <= 2;
}

/* "SHA256:" and 43 characters of unpadded base64, as kd_fingerprint(). */
static int
fp_plausible(const struct frame_field *f)
{
	size_t i;

	if (f->len != KD_FP_SIZE - 1 || memcmp(f->p, "SHA256:", 7) != 0)
		return 0;
	for (i = 7; i < f->len; i++)
		if (!b64_char(f->p[i]))
			return 0;
	return 1;
}

/* The longest message or blob: its delivery must fit in max_frame. */
static size_t
payload_max(const struct conn *c)
{
	return (size_t)c->srv->cfg->max_frame - FRAME_CHAT_OVERHEAD;
}

static void
on_chat(struct conn *c, const struct frame *f)
{
	const struct frame_field *msg = &f->field[1];
	struct frame_field v[6];
	struct conv cv;
	char ts[32], *line;
	size_t len;

	if (conv_resolve(c, &f->field[0], &cv) != 0)
		return;
	if (!b64_plausible(msg, payload_max(c))) {
		send_error(c, "text", "message not relayed: not base64 of a "
		    "plausible length");
		return;
	}
	if (cv.room == NULL && !user_online(c->srv, cv.user)) {
		send_error(c, "offline", "message not relayed: that user is "
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
	if ((line = build_alloc(&len, 1002, v, 6)) == NULL) {
		send_error(c, "busy", "out of memory");
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

static void
on_sender_key(struct conn *c, const struct frame *f)
{
	const struct frame_field *fp = &f->field[1], *blob = &f->field[2];
	struct frame_field v[6];
	struct conv cv;
	char *line;
	size_t len, n;

	if (!fp_plausible(fp)) {
		send_error(c, "malformed", "not a key fingerprint");
		return;
	}
	if (conv_resolve(c, &f->field[0], &cv) != 0)
		return;
	if (!b64_plausible(blob, payload_max(c))) {
		send_error(c, "text", "sender key not relayed: not base64 of "
		    "a plausible length");
		return;
	}
	v[0] = *cv.name;
	v[1] = field(c->user);
	v[2] = field(c->nick);
	v[3] = field(c->key_fp);
	v[4] = field(c->spki);
	v[5] = *blob;
	if ((line = build_alloc(&len, 1015, v, 6)) == NULL) {
		send_error(c, "busy", "out of memory");
		return;
	}
	/* It carries the sender's key too: check the whole delivery. */
	if (len + 1 > (size_t)c->srv->cfg->max_frame) {
		free(line);
		send_error(c, "text", "sender key not relayed: too long with "
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

/* ---- quit, keepalive ---- */

static void
on_quit(struct conn *c, const struct frame *f)
{
	conn_fail(c, "quit", 1, "goodbye");
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
	(void)snprintf(line, sizeof(line), "1005|%.*s", (int)f->field[0].len,
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
	{ 2, 2, 2, ST(CONN_LOGGED_IN), on_chat },
	{ 3, 0, 0, ST_OPEN, on_quit },
	{ 4, 0, 1, ST(CONN_LOGGED_IN), on_who },
	{ 5, 1, 1, ST_OPEN, on_ping },
	{ 6, 1, 1, ST_OPEN, on_pong },
	{ 11, 1, 1, ST(CONN_LOGGED_IN), on_join },
	{ 12, 1, 1, ST(CONN_LOGGED_IN), on_part },
	{ 13, 0, 0, ST(CONN_LOGGED_IN), on_list_rooms },
	{ 14, 1, 1, ST(CONN_LOGGED_IN), on_devices },
	{ 15, 3, 3, ST(CONN_LOGGED_IN), on_sender_key },
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
	size_t len, flen, reclen;
	char *frames, *frame;
	int r;

	r = kd_chan_open(&c->rx, &c->in, (size_t)c->srv->cfg->max_frame,
	    &frames, &len, &reclen);
	if (r == E_INCOMPLETE)
		return 1;
	if (r != 0) {
		conn_fail(c, "protocol", 0, "record refused: %s", err_str(r));
		return 1;
	}
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
		(void)snprintf(line, sizeof(line), "1006|%llu",
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
	while (c->rooms.nslot > 0)
		leave_room(c, c->rooms.slot[c->rooms.nslot - 1].room, reason);
	room_leave_all(&c->srv->rooms, &c->rooms);
}

void
protocol_free(struct conn *c)
{
	if (c->hs != NULL) {
		kd_hs_clear(c->hs);
		free(c->hs);
		c->hs = NULL;
	}
	free(c->spki);
	c->spki = NULL;
}
