/* Purging what retention no longer allows (server/retention.h). */
#include "server/retention.h"

#include <stdlib.h>

#include "common/err.h"
#include "common/log.h"
#include "server/auth.h"
#include "server/conn.h"
#include "server/storage.h"
#include "server/worker.h"

struct purge_job {
	struct worker_job job;
	struct server *srv;
	long long days, max_rows, removed;
	int r;
};

static void
purge_run(struct worker_job *job, void *wctx)
{
	struct purge_job *j = WORKER_JOB_OWNER(job, struct purge_job, job);
	struct db *db;

	if ((db = auth_thread_db(wctx)) == NULL) {
		j->r = E_DB_UNAVAILABLE;
		return;
	}
	if ((j->r = storage_purge(db, j->days, j->max_rows, &j->removed)) != 0 &&
	    j->r != E_NOMEM)
		(void)auth_thread_db_failed(wctx);
}

static void
purge_done(struct worker_job *job)
{
	struct purge_job *j = WORKER_JOB_OWNER(job, struct purge_job, job);
	struct retention *rt = &j->srv->retention;
	const struct server_config *cfg = j->srv->cfg;

	rt->busy = 0;
	if (j->r != 0) {
		if (!rt->failing)
			log_warn("retention: cannot purge old rows (%s); trying "
			    "again in %lld s", err_str(j->r), cfg->purge_interval);
		rt->failing = 1;
	} else {
		rt->failing = 0;
		if (j->removed > 0)
			log_info("retention: %lld rows removed (older than %lld "
			    "days, or over %lld for their device)", j->removed,
			    cfg->retention_days, cfg->max_rows_per_device);
	}
	/* A full step: there may be more; go on soon, else wait. */
	rt->next_ms = j->srv->now_ms + (j->r == 0 && j->removed >=
	    STORAGE_PURGE_STEP ? 0 : (uint64_t)cfg->purge_interval * 1000);
	free(j);
}

void
retention_tick(struct server *s)
{
	struct retention *rt = &s->retention;
	struct purge_job *j;

	if (rt->busy || s->stopping || s->now_ms < rt->next_ms)
		return;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return;              /* the next tick tries again */
	j->srv = s;
	j->days = s->cfg->retention_days;
	j->max_rows = s->cfg->max_rows_per_device;
	j->job.run = purge_run;
	j->job.done = purge_done;
	if (worker_pool_submit(s->pool, &j->job) != 0) {
		free(j);
		return;
	}
	rt->busy = 1;
}
