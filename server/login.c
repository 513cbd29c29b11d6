/*
 * Logins (docs/PROTOCOL.md section 5): 0001 is checked by a worker
 * (server/auth.c) against the database; a refusal is counted against the
 * session's key and address, and against the name only when the key is
 * that account's (server/throttle.c), and answered after a delay that
 * grows with the failures, in the state CONN_LOGIN_DELAYED.  A name that
 * is not the key's owner is refused at once, without Argon2id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/secret.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "server/reply.h"
#include "server/inbox.h"
#include "server/throttle.h"
#include "server/worker.h"

/* Throttle keys "u:<user>", "k:<fingerprint>" and "a:<ip>" are never cut
   (snprintf below). */
_Static_assert(THROTTLE_KEY_MAX >= 2 + NAME_USER_MAX &&
    THROTTLE_KEY_MAX >= 2 + KD_FP_SIZE - 1 &&
    THROTTLE_KEY_MAX >= 2 + INET6_ADDRSTRLEN - 1, "throttle keys fit");

struct login_job {
	struct worker_job job;
	struct conn *c;
	enum proto_login res;
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

/* Schedule `1001|ERR|reason` after the delay a failure earns. */
static void
login_answer_later(struct conn *c, enum proto_login reason, uint64_t delay_ms)
{
	struct server *s = c->srv;

	c->delayed.reason = reason;
	c->delayed.due_ms = s->now_ms + delay_ms;
	if (s->next_delayed_ms == 0 || c->delayed.due_ms < s->next_delayed_ms)
		s->next_delayed_ms = c->delayed.due_ms;
	c->state = CONN_LOGIN_DELAYED;
}

void
login_refusal_due(struct conn *c)
{
	c->delayed.due_ms = 0;
	c->state = CONN_OPEN;
	SEND(c, OP_LOGIN_RESULT, PROTO_LOGIN_REFUSED, proto_login_word(c->delayed.reason));
	if (c->login_tries >= LOGIN_TRIES_MAX)
		conn_fail(c, PROTO_CLOSE_LOGIN, 1, "too many failed logins");
}

/*
 * Whether the session's key is enrolled for user.  Only then may a failure
 * count against the account: anyone else naming it would lock it out.
 */
static int
key_is_users(const struct conn *c, const char *user)
{
	return c->owner_r == 0 && strcmp(c->owner, user) == 0;
}

/* The throttle key prefix || value into key. */
static const char *
throttle_key(char key[THROTTLE_KEY_MAX + 1], const char *prefix,
    const char *value)
{
	(void)snprintf(key, THROTTLE_KEY_MAX + 1, "%s%s", prefix, value);
	return key;
}

/* Count one failure for prefix || value; the failures in a row. */
static unsigned
count_failure(struct server *s, const char *prefix, const char *value)
{
	const struct server_config *cfg = s->cfg;
	char key[THROTTLE_KEY_MAX + 1];

	return throttle_fail(s->login_fails, throttle_key(key, prefix, value),
	    s->now_ms, (unsigned)cfg->login_lock_after,
	    (uint64_t)cfg->login_lock_seconds * 1000);
}

/*
 * A refused login: log it in the line fail2ban matches, count it against
 * the key and the address (and the name, if the key is its own), answer
 * after a growing delay.
 */
static void
login_failed(struct conn *c, const char *user, enum proto_login reason,
    int count)
{
	struct server *s = c->srv;
	const struct server_config *cfg = s->cfg;
	unsigned n = 0, nu = 0, nk, na;

	log_warn("login failed user=%s addr=%s reason=%s id=%llu", user,
	    c->ip, proto_login_word(reason), (unsigned long long)c->id);
	if (count) {
		if (key_is_users(c, user))
			nu = count_failure(s, "u:", user);
		nk = count_failure(s, "k:", c->key_fp);
		na = count_failure(s, "a:", c->ip);
		n = nu > nk ? nu : nk;
		n = n > na ? n : na;
		if (nu == (unsigned)cfg->login_lock_after)
			log_warn("login locked user=%s addr=%s for %lld s after "
			    "%u failures (key %s)", user, c->ip,
			    cfg->login_lock_seconds, n, c->key_fp);
		else if (nk == (unsigned)cfg->login_lock_after ||
		    na == (unsigned)cfg->login_lock_after)
			log_warn("login locked key=%s addr=%s for %lld s after "
			    "%u failures (naming %s, which is not locked)",
			    c->key_fp, c->ip, cfg->login_lock_seconds, n, user);
	}
	login_answer_later(c, reason, throttle_delay_ms(n,
	    (uint64_t)cfg->login_fail_delay_ms));
}

/* Whether the name (if it is the key's), the key or the address is locked. */
static int
login_locked(struct conn *c, const char *user)
{
	struct server *s = c->srv;
	char key[THROTTLE_KEY_MAX + 1];

	return (key_is_users(c, user) && throttle_locked(s->login_fails,
	    throttle_key(key, "u:", user), s->now_ms) != 0) ||
	    throttle_locked(s->login_fails, throttle_key(key, "k:", c->key_fp),
	    s->now_ms) != 0 ||
	    throttle_locked(s->login_fails, throttle_key(key, "a:", c->ip),
	    s->now_ms) != 0;
}

/* The device's key id, from the key directory its handshake passed. */
static long long
device_of(const struct conn *c)
{
	const struct enrolled_key *k = enrolled_find(&c->srv->enrolled,
	    c->key_fp);

	return k != NULL ? k->key_id : 0;
}

/*
 * 1001|OK, then (docs/PROTOCOL.md 5.2, 5.4) the device goes online, its
 * user's rooms are listed, and its inbox is read: 1022 and the backlog
 * follow from a worker.
 */
static void
login_ok(struct conn *c)
{
	struct server *s = c->srv;

	if ((c->dev = device_of(c)) == 0 || inbox_login(c) != 0) {
		c->state = CONN_OPEN;
		SEND(c, OP_LOGIN_RESULT, PROTO_LOGIN_REFUSED,
		    proto_login_word(PROTO_LOGIN_BUSY));
		return;
	}
	c->state = CONN_LOGGED_IN;
	s->nlogged++;
	SEND(c, OP_LOGIN_RESULT, proto_login_word(PROTO_LOGIN_OK), c->nick);
	log_info("login ok user=%s addr=%s id=%llu key=%s", c->user,
	    c->ip, (unsigned long long)c->id, c->key_fp);
	if (relay_online(c) != 0)
		conn_fail(c, PROTO_CLOSE_ERROR, 1, "out of memory");
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
	case PROTO_LOGIN_OK:
		(void)snprintf(c->user, sizeof(c->user), "%s", j->user);
		(void)snprintf(c->nick, sizeof(c->nick), "%s", j->nick);
		throttle_clear(s->login_fails, throttle_key(key, "u:", j->user));
		throttle_clear(s->login_fails, throttle_key(key, "k:", c->key_fp));
		throttle_clear(s->login_fails, throttle_key(key, "a:", c->ip));
		s->db_down = 0;
		login_ok(c);
		break;
	case PROTO_LOGIN_UNAVAILABLE:
		if (!s->db_down)
			log_error("database unavailable: logins refused until "
			    "it is back");
		s->db_down = 1;
		log_warn("login failed user=%s addr=%s reason=unavailable "
		    "id=%llu", j->user, c->ip, (unsigned long long)c->id);
		c->state = CONN_OPEN;
		SEND(c, OP_LOGIN_RESULT, PROTO_LOGIN_REFUSED, proto_login_word(j->res));
		break;
	case PROTO_LOGIN_DISABLED:
		login_failed(c, j->user, j->res, 0);
		break;
	case PROTO_LOGIN_INVALID:
	case PROTO_LOGIN_LOCKED:
	case PROTO_LOGIN_BUSY:
		s->db_down = 0;
		login_failed(c, j->user, j->res, j->res == PROTO_LOGIN_INVALID);
		break;
	}
	login_job_free(j);
}

void
on_login(struct conn *c, const struct frame *f)
{
	struct server *s = c->srv;
	const struct frame_field *user = &f->field[0], *pw = &f->field[1];
	char name[NAME_USER_MAX + 1];
	struct login_job *j;
	int valid;

	c->login_tries++;
	/* A name that cannot exist is refused like any wrong one. */
	valid = user_name(user, name);
	if (!valid || pw->len == 0 || pw->len > SECRET_MAX) {
		login_failed(c, valid ? name : "(invalid)",
		    PROTO_LOGIN_INVALID, 1);
		return;
	}
	/*
	 * Another user's name with this key: refused at once (no Argon2id),
	 * counted against the key and the address, never the account.
	 */
	if (c->owner_r == 0 && !key_is_users(c, name)) {
		log_info("login id=%llu names %s, but key %s is %s's",
		    (unsigned long long)c->id, name, c->key_fp, c->owner);
		login_failed(c, name, PROTO_LOGIN_INVALID, 1);
		return;
	}
	if (login_locked(c, name)) {
		login_failed(c, name, PROTO_LOGIN_LOCKED, 0);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		SEND(c, OP_LOGIN_RESULT, PROTO_LOGIN_REFUSED,
		    proto_login_word(PROTO_LOGIN_BUSY));
		return;
	}
	j->c = c;
	j->job.run = login_job_run;
	j->job.done = login_job_done;
	/* Not behind a flood of handshakes: this key has proved itself. */
	j->job.urgent = 1;
	memcpy(j->user, name, sizeof(name));
	memcpy(j->fp, c->key_fp, sizeof(j->fp));
	memcpy(j->pw, pw->p, pw->len);
	j->pwlen = pw->len;
	if (worker_pool_submit(s->pool, &j->job) != 0) {
		login_job_free(j);
		SEND(c, OP_LOGIN_RESULT, PROTO_LOGIN_REFUSED,
		    proto_login_word(PROTO_LOGIN_BUSY));
		return;
	}
	c->jobs++;
	c->state = CONN_LOGIN_PENDING;
}

