/*
 * The snapshot of enrolled keys (server/enrolled.h), kept fresh: a worker
 * loads it from MariaDB once a second (sooner for a key it did not know)
 * and the loop swaps it in.  Then every session whose key is no longer
 * in it (revoked, or removed), or whose account is disabled, is closed
 * with 1010|revoked, and the handshakes parked for this refresh go on.
 * The same job puts accounts made since in the lobby (storage_newcomers).
 * The loop never waits for the database.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "server/storage.h"
#include "server/worker.h"

#define REFRESH_EVERY_MS 1000
#define REFRESH_MIN_GAP_MS 200

#define NEWCOMERS_MAX 1000       /* put in the lobby per refresh */

struct refresh_job {
	struct worker_job job;
	struct server *srv;
	uint64_t gen;                /* its number: s->refresh_gen at start */
	int r;
	struct enrolled keys;
	struct buf newcomers;        /* NUL-terminated names */
};

static int
keep_newcomer(void *arg, const char *user)
{
	struct refresh_job *j = arg;

	return buf_append(&j->newcomers, user, strlen(user) + 1);
}

static void
refresh_run(struct worker_job *job, void *wctx)
{
	struct refresh_job *j = WORKER_JOB_OWNER(job, struct refresh_job, job);
	struct db *db;

	/* The new accounts' lobby first: their keys are then in the
	   snapshot that makes them members in memory. */
	if ((db = auth_thread_db(wctx)) != NULL &&
	    storage_newcomers(db, PROTO_LOBBY, NEWCOMERS_MAX, keep_newcomer,
	    j) != 0)
		(void)auth_thread_db_failed(wctx);
	j->r = auth_enrolled(wctx, &j->keys);
}

/* c's key is gone from a snapshot taken after its handshake: close it. */
static void
sweep_one(struct conn *c, uint64_t gen)
{
	const struct enrolled_key *k;

	if (c->dead || c->admitted_gen >= gen || c->key_fp[0] == '\0' ||
	    (c->state != CONN_OPEN && c->state != CONN_LOGIN_PENDING &&
	    c->state != CONN_LOGIN_DELAYED && c->state != CONN_LOGGED_IN))
		return;
	if ((k = enrolled_find(&c->srv->enrolled, c->key_fp)) == NULL)
		conn_fail(c, PROTO_CLOSE_REVOKED, 1, "this client key has "
		    "been revoked");
	else if (k->disabled && c->state == CONN_LOGGED_IN)
		conn_fail(c, PROTO_CLOSE_REVOKED, 1, "this account has been "
		    "disabled");
}

static void
refresh_done(struct worker_job *job)
{
	struct refresh_job *j = WORKER_JOB_OWNER(job, struct refresh_job, job);
	struct server *s = j->srv;
	const char *p, *end;
	struct conn *c;
	int ok = j->r == 0;

	s->refresh_busy = 0;
	if (ok) {
		struct enrolled old = s->enrolled;

		if (!s->enrolled_loaded)
			log_info("enrolled keys: %zu in memory", j->keys.n);
		s->enrolled = j->keys;
		if (s->enrolled_loaded)
			relay_directory_changed(s, &old);
		enrolled_free(&old);
		s->enrolled_loaded = 1;
	}
	for (c = s->conns; c != NULL; c = c->next) {
		if (ok)
			sweep_one(c, j->gen);
		if (c->parked != NULL && !c->dead && c->parked_for <= j->gen)
			handshake_resume(c, ok);
	}
	p = (const char *)buf_data(&j->newcomers);
	for (end = p + buf_size(&j->newcomers); p < end; p += strlen(p) + 1)
		relay_newcomer(s, p);
	buf_free(&j->newcomers);
	free(j);
}

void
refresh_start(struct server *s, int urgent)
{
	struct refresh_job *j;
	uint64_t gap = urgent ? REFRESH_MIN_GAP_MS : REFRESH_EVERY_MS;

	if (s->refresh_busy || s->stopping ||
	    (s->refresh_gen > 0 && s->now_ms - s->refresh_started_ms < gap))
		return;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return;              /* the next tick tries again */
	j->srv = s;
	j->gen = s->refresh_gen + 1;
	j->job.run = refresh_run;
	j->job.done = refresh_done;
	j->job.urgent = 1;           /* revocations must not wait for a flood */
	if (worker_pool_submit(s->pool, &j->job) != 0) {
		free(j);
		return;
	}
	s->refresh_gen++;
	s->refresh_busy = 1;
	s->refresh_started_ms = s->now_ms;
}
