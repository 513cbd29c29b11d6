/*
 * The worker pool: a few threads that run slow work (Argon2id checks, RSA
 * private-key operations, MariaDB queries) off the event loop, and hand the
 * finished jobs back to it through an eventfd.
 *
 * Threading contract:
 *  - worker_pool_start() is called once, from the thread that will run the
 *    event loop (the "loop thread").  Every other function here is called
 *    only from that thread: the pool's own locks protect its state against
 *    its workers, not against a second caller.
 *  - run() executes on a worker thread.  It may use its job and its wctx
 *    (that thread's own context) and nothing that belongs to the loop:
 *    no connections, no loop-owned buffers, no pool calls, and no log_*()
 *    (common/log.c is not thread-safe): leave an error code in the job and
 *    let done() log it.
 *  - done() executes on the loop thread, from worker_pool_drain() or
 *    worker_pool_stop(), after run() returned.  Anything run() wrote into
 *    the job is visible there.  done() may free the job, or submit it or
 *    another job again (from worker_pool_stop() such a submit fails with
 *    E_STATE).  It must not call worker_pool_stop().
 *
 * Ordering: jobs start in submission order, except that every urgent job
 * (job->urgent set) starts before any queued job that is not: two FIFO
 * queues.  With more than one thread they may finish in any order; done()
 * calls follow the order in which jobs finished.
 *
 * Lifetime: once worker_pool_submit() has accepted a job, the pool owns its
 * link field and the job must stay valid (not freed, not reused, not
 * submitted again) until its done() has been called.  done() is called
 * exactly once for every accepted job, worker_pool_stop() included, so
 * done() is the place to free it.  A job that submit refused is not touched.
 *
 * Wakeups are coalesced: a worker writes the eventfd only when the list of
 * finished jobs goes from empty to non-empty, so one readable event may
 * stand for many jobs, and an event may also find nothing new (a job
 * already handed out by an earlier drain).  Either way the loop simply
 * calls worker_pool_drain() whenever the fd is readable.
 *
 * Worker threads block every signal, so process signals reach the loop.
 */
#ifndef MISSIVE_WORKER_H
#define MISSIVE_WORKER_H

#include <stddef.h>

#define WORKER_MAX_THREADS 256      /* upper bound on nthreads */
#define WORKER_DEFAULT_MAX_QUEUED 4096

struct worker_pool;

/*
 * One unit of work.  Callers embed this struct in their own job struct and
 * recover it in run()/done() with WORKER_JOB_OWNER().
 */
struct worker_job {
	/* Runs on a worker thread.  wctx is that thread's own context (e.g.
	   its own MariaDB connection), made by the pool's thread_init (NULL
	   without one). */
	void (*run)(struct worker_job *job, void *wctx);
	/* Runs on the loop thread, from worker_pool_drain() or
	   worker_pool_stop(), after run() finished.  Exactly once. */
	void (*done)(struct worker_job *job);
	/* Start before the jobs queued without it (the server's logins and
	   refreshes pass its handshakes so). */
	int urgent;
	struct worker_job *next;    /* queue link, owned by the pool */
};

/* The struct of type type whose member member is at job. */
#define WORKER_JOB_OWNER(job, type, member)                                   \
	((type *)(void *)((char *)(job) - offsetof(type, member)))

/*
 * Start nthreads worker threads (0 = the number of online CPUs, at most
 * WORKER_MAX_THREADS).  Each thread first calls thread_init(arg) and uses
 * the pointer it returns as its wctx; a NULL return is a failure.  When the
 * thread exits it calls thread_fini(wctx).  Either callback may be NULL.
 * Returns only once every thread finished thread_init: if any of them
 * failed, the others call thread_fini, all are joined, nothing is left
 * behind, and the result is E_INTERNAL.  E_INVALID, E_NOMEM, E_IO (no
 * eventfd), E_INTERNAL (thread creation).  *out is NULL on failure.
 */
int worker_pool_start(struct worker_pool **out, unsigned nthreads,
    void *(*thread_init)(void *arg), void (*thread_fini)(void *wctx),
    void *arg) __attribute__((warn_unused_result));

/*
 * The pool's eventfd (non-blocking, close-on-exec), for the loop to poll
 * for EPOLLIN (level- or edge-triggered).  Owned by the pool: do not read
 * or close it.
 */
int worker_pool_fd(const struct worker_pool *p);

/*
 * Queue job for a worker.  job->run and job->done must be set; job->next
 * is the pool's.  E_TOO_LONG if max_queued jobs are already waiting for a
 * thread (backpressure: answer "busy" and retry later), E_STATE once
 * worker_pool_stop() has begun, E_INVALID.  On any error the job was not
 * accepted and its done() will not be called.
 */
int worker_pool_submit(struct worker_pool *p, struct worker_job *job)
    __attribute__((warn_unused_result));

/*
 * Clear the eventfd and call done() for every job that had finished when
 * the call began, in completion order.  Jobs finishing meanwhile wait for
 * the next call (the fd will be readable again).  Never blocks.
 */
void worker_pool_drain(struct worker_pool *p);

/* Jobs submitted whose done() has not been called yet. */
size_t worker_pool_pending(const struct worker_pool *p);

/*
 * Limit the jobs waiting for a thread (not counting those running or
 * finished); default WORKER_DEFAULT_MAX_QUEUED.  0 refuses every submit.
 * Lowering the limit drops nothing already queued.
 */
void worker_pool_set_max_queued(struct worker_pool *p, size_t max);

/*
 * Shut down: refuse new jobs, let the workers finish the running jobs and
 * run every queued one, join the threads (each calls thread_fini), call
 * done() for every job not yet drained, close the fd and free the pool.
 * Blocks for as long as the remaining work takes.  p may be NULL.
 */
void worker_pool_stop(struct worker_pool *p);

/* The number of worker threads. */
unsigned worker_pool_threads(const struct worker_pool *p);

#endif
