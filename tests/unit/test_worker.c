/*
 * Unit tests: the worker pool (server/worker.c), with real threads.
 *
 * cmocka's assertions longjmp and so work only on the main thread: code
 * that runs on workers (run, thread_init, thread_fini) records what it saw
 * in atomics or job fields, and the main thread checks.  No sleep is used
 * to wait for anything: the tests wait on poll() of the pool's fd, or on
 * condition variables they control, always with a time limit so a broken
 * pool fails instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "server/worker.h"

#define WAIT_MS 5000            /* the longest any test waits for an event */

static pthread_t main_thread;

/* Wait until the pool's fd is readable, then drain it. */
static void
poll_and_drain(struct worker_pool *p)
{
	struct pollfd pfd = { .fd = worker_pool_fd(p), .events = POLLIN };
	int n;

	do {
		n = poll(&pfd, 1, WAIT_MS);
	} while (n < 0 && errno == EINTR);
	assert_int_equal(n, 1);
	assert_true(pfd.revents & POLLIN);
	worker_pool_drain(p);
}

/* Is the fd readable right now? */
static int
fd_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&pfd, 1, 0);
	} while (n < 0 && errno == EINTR);
	assert_true(n >= 0);
	return n == 1 && (pfd.revents & POLLIN);
}

/* An absolute CLOCK_REALTIME deadline ms from now, for timed waits. */
static struct timespec
deadline_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * A gate the test controls: jobs count themselves in and block until the
 * test opens it (or the time limit passes, so nothing hangs forever).
 */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned arrived;
	unsigned open_at;       /* opens by itself when this many arrived */
	int open;
	long limit_ms;          /* how long a job waits at most */
};

static void
gate_init(struct gate *g, unsigned open_at, long limit_ms)
{
	assert_int_equal(pthread_mutex_init(&g->lock, NULL), 0);
	assert_int_equal(pthread_cond_init(&g->cond, NULL), 0);
	g->arrived = 0;
	g->open_at = open_at;
	g->open = 0;
	g->limit_ms = limit_ms;
}

static void
gate_destroy(struct gate *g)
{
	assert_int_equal(pthread_cond_destroy(&g->cond), 0);
	assert_int_equal(pthread_mutex_destroy(&g->lock), 0);
}

/* Worker side: arrive and wait for the gate.  0 if it opened, -1 timeout. */
static int
gate_pass(struct gate *g)
{
	struct timespec ts = deadline_ms(g->limit_ms);
	int e = 0;

	pthread_mutex_lock(&g->lock);
	g->arrived++;
	if (g->open_at != 0 && g->arrived >= g->open_at)
		g->open = 1;
	pthread_cond_broadcast(&g->cond);
	while (!g->open && e == 0)
		e = pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	e = g->open ? 0 : -1;
	pthread_mutex_unlock(&g->lock);
	return e;
}

/* Test side: wait until n jobs have arrived. */
static void
gate_wait_arrived(struct gate *g, unsigned n)
{
	struct timespec ts = deadline_ms(WAIT_MS);
	int e = 0;

	assert_int_equal(pthread_mutex_lock(&g->lock), 0);
	while (g->arrived < n && e == 0)
		e = pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	assert_int_equal(pthread_mutex_unlock(&g->lock), 0);
	assert_int_equal(e, 0);
}

static void
gate_open(struct gate *g)
{
	assert_int_equal(pthread_mutex_lock(&g->lock), 0);
	g->open = 1;
	assert_int_equal(pthread_cond_broadcast(&g->cond), 0);
	assert_int_equal(pthread_mutex_unlock(&g->lock), 0);
}

/* ---- many jobs: each run and done exactly once, on the right threads ---- */

struct sq_job {
	struct worker_job job;
	unsigned input;
	unsigned long result;       /* written by run, read by done */
	atomic_uint runs;
	unsigned dones;
	int run_on_main;
	int done_off_main;
	unsigned start_seq;         /* order in which run began */
	unsigned done_seq;          /* order in which done was called */
};

static atomic_uint total_runs;
static atomic_uint start_counter;
static unsigned total_dones;

static void
sq_run(struct worker_job *job, void *wctx)
{
	struct sq_job *j = WORKER_JOB_OWNER(job, struct sq_job, job);

	(void)wctx;
	j->start_seq = atomic_fetch_add(&start_counter, 1);
	atomic_fetch_add(&j->runs, 1);
	atomic_fetch_add(&total_runs, 1);
	if (pthread_equal(pthread_self(), main_thread))
		j->run_on_main = 1;
	j->result = (unsigned long)j->input * j->input + 1;
}

static void
sq_done(struct worker_job *job)
{
	struct sq_job *j = WORKER_JOB_OWNER(job, struct sq_job, job);

	if (!pthread_equal(pthread_self(), main_thread))
		j->done_off_main = 1;
	j->done_seq = total_dones++;
	j->dones++;
}

static void
sq_reset(struct sq_job *jobs, unsigned n)
{
	unsigned i;

	memset(jobs, 0, n * sizeof(*jobs));
	for (i = 0; i < n; i++) {
		jobs[i].job.run = sq_run;
		jobs[i].job.done = sq_done;
		jobs[i].input = i;
		atomic_init(&jobs[i].runs, 0);
	}
	atomic_store(&total_runs, 0);
	atomic_store(&start_counter, 0);
	total_dones = 0;
}

static void
test_many_jobs(void **state)
{
	enum { N = 1000 };
	static struct sq_job jobs[N];
	struct worker_pool *p;
	unsigned i;

	(void)state;
	sq_reset(jobs, N);
	assert_int_equal(worker_pool_start(&p, 4, NULL, NULL, NULL), 0);
	assert_int_equal(worker_pool_threads(p), 4);
	for (i = 0; i < N; i++)
		assert_int_equal(worker_pool_submit(p, &jobs[i].job), 0);
	while (total_dones < N) {
		assert_int_equal(worker_pool_pending(p), N - total_dones);
		poll_and_drain(p);
	}
	assert_int_equal(worker_pool_pending(p), 0);
	assert_int_equal(atomic_load(&total_runs), N);
	for (i = 0; i < N; i++) {
		assert_int_equal(atomic_load(&jobs[i].runs), 1);
		assert_int_equal(jobs[i].dones, 1);
		assert_false(jobs[i].run_on_main);
		assert_false(jobs[i].done_off_main);
		assert_int_equal(jobs[i].result, (unsigned long)i * i + 1);
	}
	worker_pool_stop(p);
	/* Nothing is called twice by stop. */
	assert_int_equal(total_dones, N);
	assert_int_equal(atomic_load(&total_runs), N);
}

/* With one thread, jobs start and finish in submission order. */
static void
test_fifo_one_thread(void **state)
{
	enum { N = 200 };
	static struct sq_job jobs[N];
	struct worker_pool *p;
	unsigned i;

	(void)state;
	sq_reset(jobs, N);
	assert_int_equal(worker_pool_start(&p, 1, NULL, NULL, NULL), 0);
	for (i = 0; i < N; i++)
		assert_int_equal(worker_pool_submit(p, &jobs[i].job), 0);
	while (total_dones < N)
		poll_and_drain(p);
	for (i = 0; i < N; i++) {
		assert_int_equal(jobs[i].start_seq, i);
		assert_int_equal(jobs[i].done_seq, i);
	}
	worker_pool_stop(p);
}

/* ---- per-thread contexts ---- */

#define CTX_MAGIC 0x776f726bu

struct init_arg {
	atomic_uint inits;
	atomic_uint finis;
	atomic_uint bad_arg;        /* init/fini saw something wrong */
	unsigned fail_on;           /* init call number (1-based) that fails */
};

struct thread_ctx {
	unsigned magic;
	unsigned id;
	pthread_t tid;              /* the thread init ran on */
	struct init_arg *arg;
};

static void *
ctx_init(void *argp)
{
	struct init_arg *a = argp;
	struct thread_ctx *c;
	unsigned n = atomic_fetch_add(&a->inits, 1) + 1;

	if (pthread_equal(pthread_self(), main_thread))
		atomic_fetch_add(&a->bad_arg, 1);
	if (a->fail_on != 0 && n == a->fail_on)
		return NULL;
	if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	c->magic = CTX_MAGIC;
	c->id = n;
	c->tid = pthread_self();
	c->arg = a;
	return c;
}

static void
ctx_fini(void *wctx)
{
	struct thread_ctx *c = wctx;

	if (c == NULL || c->magic != CTX_MAGIC ||
	    !pthread_equal(c->tid, pthread_self())) {
		/* Cannot find the arg without a valid context: leak on
		   purpose so that ASan reports it, and count nothing. */
		return;
	}
	atomic_fetch_add(&c->arg->finis, 1);
	c->magic = 0;
	free(c);
}

struct ctx_job {
	struct worker_job job;
	struct gate *gate;
	struct thread_ctx *ctx;     /* the wctx run() received */
	int ctx_is_own;             /* ... made on the thread run() ran on */
	int gate_ok;
	int done;
};

static void
ctx_run(struct worker_job *job, void *wctx)
{
	struct ctx_job *j = WORKER_JOB_OWNER(job, struct ctx_job, job);

	j->ctx = wctx;
	j->ctx_is_own = j->ctx != NULL && j->ctx->magic == CTX_MAGIC &&
	    pthread_equal(j->ctx->tid, pthread_self());
	j->gate_ok = gate_pass(j->gate) == 0;
}

static void
ctx_done(struct worker_job *job)
{
	WORKER_JOB_OWNER(job, struct ctx_job, job)->done++;
}

static void
test_thread_ctx(void **state)
{
	enum { T = 4 };
	struct init_arg a = { .fail_on = 0 };
	struct ctx_job jobs[T];
	struct worker_pool *p;
	struct gate g;
	unsigned i, k, dones;

	(void)state;
	atomic_init(&a.inits, 0);
	atomic_init(&a.finis, 0);
	atomic_init(&a.bad_arg, 0);
	/*
	 * Each job blocks until all T have arrived.  A thread holds one job
	 * while it waits, so the gate opens only if T different threads took
	 * the T jobs: every context must be used.
	 */
	gate_init(&g, T, WAIT_MS);
	memset(jobs, 0, sizeof(jobs));
	assert_int_equal(worker_pool_start(&p, T, ctx_init, ctx_fini, &a), 0);
	/* start returns after every init finished. */
	assert_int_equal(atomic_load(&a.inits), T);
	assert_int_equal(atomic_load(&a.finis), 0);
	for (i = 0; i < T; i++) {
		jobs[i].job.run = ctx_run;
		jobs[i].job.done = ctx_done;
		jobs[i].gate = &g;
		assert_int_equal(worker_pool_submit(p, &jobs[i].job), 0);
	}
	for (;;) {
		for (dones = 0, i = 0; i < T; i++)
			dones += jobs[i].done;
		if (dones == T)
			break;
		poll_and_drain(p);
	}
	for (i = 0; i < T; i++) {
		assert_int_equal(jobs[i].done, 1);
		assert_true(jobs[i].gate_ok);
		assert_true(jobs[i].ctx_is_own);
		for (k = 0; k < i; k++)
			assert_ptr_not_equal(jobs[i].ctx, jobs[k].ctx);
	}
	worker_pool_stop(p);
	assert_int_equal(atomic_load(&a.inits), T);
	assert_int_equal(atomic_load(&a.finis), T);
	assert_int_equal(atomic_load(&a.bad_arg), 0);
	gate_destroy(&g);
}

/* ---- the eventfd ---- */

static void
test_fd_readable(void **state)
{
	struct sq_job job[1];
	struct worker_pool *p;
	int fd, fl;

	(void)state;
	sq_reset(job, 1);
	assert_int_equal(worker_pool_start(&p, 1, NULL, NULL, NULL), 0);
	fd = worker_pool_fd(p);
	assert_true(fd >= 0);
	assert_true((fl = fcntl(fd, F_GETFL)) >= 0);
	assert_true(fl & O_NONBLOCK);
	assert_true((fl = fcntl(fd, F_GETFD)) >= 0);
	assert_true(fl & FD_CLOEXEC);
	assert_false(fd_readable(fd));
	/* Drain with nothing finished is harmless. */
	worker_pool_drain(p);

	assert_int_equal(worker_pool_submit(p, &job[0].job), 0);
	assert_int_equal(worker_pool_pending(p), 1);
	{
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
		assert_true(pfd.revents & POLLIN);
	}
	/* done() waits for the loop to drain. */
	assert_int_equal(job[0].dones, 0);
	assert_int_equal(atomic_load(&job[0].runs), 1);
	worker_pool_drain(p);
	assert_int_equal(job[0].dones, 1);
	assert_int_equal(worker_pool_pending(p), 0);
	assert_false(fd_readable(fd));
	worker_pool_stop(p);
	assert_int_equal(job[0].dones, 1);
}

/* ---- backpressure ---- */

struct gated_job {
	struct worker_job job;
	struct gate *gate;
	int gate_ok;
	unsigned dones;
};

static void
gated_run(struct worker_job *job, void *wctx)
{
	struct gated_job *j = WORKER_JOB_OWNER(job, struct gated_job, job);

	(void)wctx;
	j->gate_ok = gate_pass(j->gate) == 0;
}

static void
gated_done(struct worker_job *job)
{
	WORKER_JOB_OWNER(job, struct gated_job, job)->dones++;
}

static unsigned
gated_dones(const struct gated_job *jobs, unsigned n)
{
	unsigned i, d = 0;

	for (i = 0; i < n; i++)
		d += jobs[i].dones;
	return d;
}

/*
 * A flood of ordinary jobs (the server's handshakes) is queued; an urgent
 * one (a login) submitted after them starts first, once the thread is
 * free, instead of waiting for the whole flood.
 */
static void
test_urgent_first(void **state)
{
	enum { N = 100 };
	static struct sq_job jobs[N + 1];
	struct gate g;
	struct gated_job hold = { .job = { .run = gated_run,
	    .done = gated_done }, .gate = &g };
	struct worker_pool *p;
	unsigned i;

	(void)state;
	sq_reset(jobs, N + 1);
	gate_init(&g, 0, WAIT_MS);
	assert_int_equal(worker_pool_start(&p, 1, NULL, NULL, NULL), 0);
	assert_int_equal(worker_pool_submit(p, &hold.job), 0);
	gate_wait_arrived(&g, 1);
	for (i = 0; i < N; i++)
		assert_int_equal(worker_pool_submit(p, &jobs[i].job), 0);
	jobs[N].job.urgent = 1;
	assert_int_equal(worker_pool_submit(p, &jobs[N].job), 0);
	gate_open(&g);
	while (total_dones < N + 1)
		poll_and_drain(p);
	assert_true(hold.gate_ok);
	assert_int_equal(jobs[N].start_seq, 0);
	for (i = 0; i < N; i++)
		assert_int_equal(jobs[i].start_seq, i + 1);
	worker_pool_stop(p);
	assert_int_equal(hold.dones, 1);
	gate_destroy(&g);
}

static void
test_backpressure(void **state)
{
	enum { T = 2, Q = 3, N = T + Q + 1 };
	struct gated_job jobs[N], again;
	struct worker_pool *p;
	struct gate g;
	unsigned i;

	(void)state;
	gate_init(&g, 0, WAIT_MS);
	memset(jobs, 0, sizeof(jobs));
	memset(&again, 0, sizeof(again));
	for (i = 0; i < N; i++) {
		jobs[i].job.run = gated_run;
		jobs[i].job.done = gated_done;
		jobs[i].gate = &g;
	}
	again = jobs[0];

	assert_int_equal(worker_pool_start(&p, T, NULL, NULL, NULL), 0);
	worker_pool_set_max_queued(p, Q);
	/* Occupy both threads, and make sure they have taken their jobs. */
	for (i = 0; i < T; i++)
		assert_int_equal(worker_pool_submit(p, &jobs[i].job), 0);
	gate_wait_arrived(&g, T);
	/* Fill the queue; the next one is refused and not touched. */
	for (i = T; i < T + Q; i++)
		assert_int_equal(worker_pool_submit(p, &jobs[i].job), 0);
	assert_int_equal(worker_pool_submit(p, &jobs[N - 1].job), E_TOO_LONG);
	assert_int_equal(worker_pool_submit(p, &jobs[N - 1].job), E_TOO_LONG);
	assert_int_equal(worker_pool_pending(p), T + Q);

	gate_open(&g);
	while (gated_dones(jobs, N) < T + Q)
		poll_and_drain(p);
	assert_int_equal(worker_pool_pending(p), 0);
	for (i = 0; i < T + Q; i++) {
		assert_int_equal(jobs[i].dones, 1);
		assert_true(jobs[i].gate_ok);
	}
	assert_int_equal(jobs[N - 1].dones, 0);

	/* Room again. */
	assert_int_equal(worker_pool_submit(p, &again.job), 0);
	while (again.dones == 0)
		poll_and_drain(p);
	assert_int_equal(again.dones, 1);

	/* A limit of 0 refuses everything. */
	worker_pool_set_max_queued(p, 0);
	assert_int_equal(worker_pool_submit(p, &again.job), E_TOO_LONG);
	worker_pool_stop(p);
	assert_int_equal(again.dones, 1);
	gate_destroy(&g);
}

/* ---- stop with queued jobs ---- */

struct heap_job {
	struct worker_job job;
	struct gate *gate;          /* NULL: do not wait */
	unsigned *dones;
	unsigned *runs_seen;        /* runs counted by done */
	struct worker_pool *pool;   /* resubmit from done (stop must refuse) */
	int *resubmit_rc;
	int ran;
};

static void
heap_run(struct worker_job *job, void *wctx)
{
	struct heap_job *j = WORKER_JOB_OWNER(job, struct heap_job, job);

	(void)wctx;
	if (j->gate != NULL)
		(void)gate_pass(j->gate);
	j->ran++;
}

static void
heap_done(struct worker_job *job)
{
	struct heap_job *j = WORKER_JOB_OWNER(job, struct heap_job, job);

	(*j->dones)++;
	*j->runs_seen += (unsigned)j->ran;
	if (j->pool != NULL)
		*j->resubmit_rc = worker_pool_submit(j->pool, &j->job);
	if (j->pool == NULL || *j->resubmit_rc != 0)
		free(j);
}

static void
test_stop_with_queued(void **state)
{
	enum { N = 50 };
	struct worker_pool *p;
	struct heap_job *j;
	struct gate g;
	unsigned i, dones = 0, runs = 0;
	int resubmit_rc = 1;

	(void)state;
	/* The first job holds the only thread for up to 300 ms. */
	gate_init(&g, 0, 300);
	assert_int_equal(worker_pool_start(&p, 1, NULL, NULL, NULL), 0);
	for (i = 0; i < N; i++) {
		assert_non_null(j = calloc(1, sizeof(*j)));
		j->job.run = heap_run;
		j->job.done = heap_done;
		j->gate = i == 0 ? &g : NULL;
		j->dones = &dones;
		j->runs_seen = &runs;
		if (i == N - 1) {
			j->pool = p;
			j->resubmit_rc = &resubmit_rc;
		}
		assert_int_equal(worker_pool_submit(p, &j->job), 0);
		if (i == 0)
			gate_wait_arrived(&g, 1);
	}
	/*
	 * The first job is running and the rest are queued.  Stop without
	 * draining or opening the gate: it must wait for the running job,
	 * run the queue, and call done() for all of them, once.
	 */
	assert_int_equal(worker_pool_pending(p), N);
	worker_pool_stop(p);
	assert_int_equal(dones, N);
	assert_int_equal(runs, N);
	assert_int_equal(resubmit_rc, E_STATE);
	gate_destroy(&g);
}

/* ---- thread counts and start failures ---- */

static void
test_nthreads_default(void **state)
{
	struct init_arg a = { .fail_on = 0 };
	struct worker_pool *p;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned want;

	(void)state;
	atomic_init(&a.inits, 0);
	atomic_init(&a.finis, 0);
	atomic_init(&a.bad_arg, 0);
	assert_true(cpus >= 1);
	want = cpus > WORKER_MAX_THREADS ? WORKER_MAX_THREADS : (unsigned)cpus;
	assert_int_equal(worker_pool_start(&p, 0, ctx_init, ctx_fini, &a), 0);
	assert_int_equal(worker_pool_threads(p), want);
	assert_int_equal(atomic_load(&a.inits), want);
	worker_pool_stop(p);
	assert_int_equal(atomic_load(&a.finis), want);
	assert_int_equal(atomic_load(&a.bad_arg), 0);
}

static void
test_init_fails(void **state)
{
	static const unsigned cases[][2] = {
		/* threads, failing init call */
		{ 4, 3 }, { 4, 1 }, { 1, 1 }, { 8, 8 },
	};
	struct worker_pool *p;
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct init_arg a = { .fail_on = cases[c][1] };

		atomic_init(&a.inits, 0);
		atomic_init(&a.finis, 0);
		atomic_init(&a.bad_arg, 0);
		p = (struct worker_pool *)&a;   /* must be reset to NULL */
		assert_int_equal(worker_pool_start(&p, cases[c][0], ctx_init,
		    ctx_fini, &a), E_INTERNAL);
		assert_null(p);
		/* Every thread ran init; those that succeeded ran fini. */
		assert_int_equal(atomic_load(&a.inits), cases[c][0]);
		assert_int_equal(atomic_load(&a.finis), cases[c][0] - 1);
		assert_int_equal(atomic_load(&a.bad_arg), 0);
	}
}

static void
test_invalid(void **state)
{
	struct worker_pool *p;
	struct sq_job job[1];

	(void)state;
	assert_int_equal(worker_pool_start(NULL, 1, NULL, NULL, NULL),
	    E_INVALID);
	assert_int_equal(worker_pool_start(&p, WORKER_MAX_THREADS + 1, NULL,
	    NULL, NULL), E_INVALID);
	assert_null(p);
	worker_pool_stop(NULL);

	sq_reset(job, 1);
	assert_int_equal(worker_pool_start(&p, 1, NULL, NULL, NULL), 0);
	assert_int_equal(worker_pool_submit(p, NULL), E_INVALID);
	job[0].job.done = NULL;
	assert_int_equal(worker_pool_submit(p, &job[0].job), E_INVALID);
	job[0].job.done = sq_done;
	job[0].job.run = NULL;
	assert_int_equal(worker_pool_submit(p, &job[0].job), E_INVALID);
	assert_int_equal(worker_pool_pending(p), 0);
	worker_pool_stop(p);
	assert_int_equal(job[0].dones, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_jobs),
		cmocka_unit_test(test_fifo_one_thread),
		cmocka_unit_test(test_urgent_first),
		cmocka_unit_test(test_thread_ctx),
		cmocka_unit_test(test_fd_readable),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_stop_with_queued),
		cmocka_unit_test(test_nthreads_default),
		cmocka_unit_test(test_init_fails),
		cmocka_unit_test(test_invalid),
	};

	main_thread = pthread_self();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
