/*
 * Logins (docs/PROTOCOL.md section 5): 0001 is checked by a worker
 * (server/auth.c) against the database; a refusal is counted against the
 * name and the address (server/throttle.c) and answered after a delay
 * that grows with the failures, in the state CONN_LOGIN_DELAYED.
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
#include "server/throttle.h"
#include "server/worker.h"

/* Throttle keys "u:<user>" and "a:<ip>" are never cut (snprintf below). */
_Static_assert(THROTTLE_KEY_MAX >= 2 + NAME_USER_MAX &&
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
 * A refused login: log it in the line fail2ban matches, count it against
 * the name and the address, answer after a growing delay.
 */
static void
login_failed(struct conn *c, const char *user, enum proto_login reason,
    int count)
{
	struct server *s = c->srv;
	const struct server_config *cfg = s->cfg;
	char key[THROTTLE_KEY_MAX + 1];
	unsigned nu = 0, na = 0;

	log_warn("login failed user=%s addr=%s reason=%s id=%llu", user,
	    c->ip, proto_login_word(reason), (unsigned long long)c->id);
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
	login_answer_later(c, reason, throttle_delay_ms(nu > na ? nu : na,
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
	case PROTO_LOGIN_OK:
		(void)snprintf(c->user, sizeof(c->user), "%s", j->user);
		(void)snprintf(c->nick, sizeof(c->nick), "%s", j->nick);
		(void)snprintf(key, sizeof(key), "u:%s", j->user);
		throttle_clear(s->login_fails, key);
		(void)snprintf(key, sizeof(key), "a:%s", c->ip);
		throttle_clear(s->login_fails, key);
		s->db_down = 0;
		if (relay_online(c) != 0) {
			c->state = CONN_OPEN;
			SEND(c, OP_LOGIN_RESULT, PROTO_LOGIN_REFUSED,
			    proto_login_word(PROTO_LOGIN_BUSY));
			break;
		}
		c->state = CONN_LOGGED_IN;
		s->nlogged++;
		SEND(c, OP_LOGIN_RESULT, proto_login_word(PROTO_LOGIN_OK),
		    c->nick);
		log_info("login ok user=%s addr=%s id=%llu key=%s", c->user,
		    c->ip, (unsigned long long)c->id, c->key_fp);
		join_room(c, PROTO_LOBBY, strlen(PROTO_LOBBY));
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
	char key[THROTTLE_KEY_MAX + 1], name[NAME_USER_MAX + 1];
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
	(void)snprintf(key, sizeof(key), "u:%s", name);
	if (throttle_locked(s->login_fails, key, s->now_ms) == 0) {
		(void)snprintf(key, sizeof(key), "a:%s", c->ip);
		if (throttle_locked(s->login_fails, key, s->now_ms) == 0)
			key[0] = '\0';
	}
	if (key[0] != '\0') {
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

