#include "server/worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

/*
 * Who touches what:
 *  - the submit queues (qhead..ninit_failed) only under qlock;
 *  - the completion list and wake_errno only under dlock;
 *  - pending and max_queued only on the loop thread;
 *  - the rest is fixed between start and stop.
 * A job's next link is written by submit (loop thread, before the job is
 * published under qlock), by the worker that popped it (under dlock, when
 * appending it to the completion list), and by drain after it has taken the
 * list under dlock.  Never by two threads without a lock between them.
 *
 * Workers never call log_*(): common/log.c is not thread-safe.  The one
 * error they can meet (an eventfd write failing) is kept in wake_errno and
 * logged by the next drain on the loop thread.
 */
struct worker_pool {
	pthread_mutex_t qlock;
	pthread_cond_t qcond;         /* a job was queued, or stopping was set */
	pthread_cond_t startcond;     /* a thread finished thread_init */
	struct worker_job *qhead[2];  /* next job to start, per class */
	struct worker_job *qtail[2];  /* (urgent first: see worker.h) */
	size_t nqueued;               /* jobs in the queues (not yet started) */
	int stopping;                 /* no more submits; workers exit when idle */
	unsigned ninit;               /* threads that finished thread_init */
	unsigned ninit_failed;        /* ... and of those, the ones it failed */

	pthread_mutex_t dlock;
	struct worker_job *dhead;     /* finished jobs, oldest first */
	struct worker_job *dtail;
	int wake_errno;               /* last eventfd write failure, 0 if none */

	size_t pending;               /* submitted, done() not yet called */
	size_t max_queued;

	int efd;
	unsigned nthreads;            /* threads running (joined by stop) */
	pthread_t *threads;
	void *(*thread_init)(void *arg);
	void (*thread_fini)(void *wctx);
	void *arg;
	unsigned inited;              /* POOL_HAVE_* bits, for pool_free() */
};

#define POOL_HAVE_QLOCK 0x1u
#define POOL_HAVE_QCOND 0x2u
#define POOL_HAVE_STARTCOND 0x4u
#define POOL_HAVE_DLOCK 0x8u

/*
 * Locking a valid, initialised default mutex, or waiting on a valid
 * condition variable, cannot fail; if it does, memory is corrupt and going
 * on would be worse than stopping here (with a core dump that shows where).
 */
static void
must(int e)
{
	if (e != 0)
		abort();
}

static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1) {
		log_warn("worker: cannot count online CPUs, using one thread");
		return 1;
	}
	return n > WORKER_MAX_THREADS ? WORKER_MAX_THREADS : (unsigned)n;
}

/* Tell the loop that the completion list became non-empty (worker side). */
static void
wake(struct worker_pool *p)
{
	const uint64_t one = 1;
	ssize_t n;
	int e;

	for (;;) {
		n = write(p->efd, &one, sizeof(one));
		if (n == (ssize_t)sizeof(one))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		/* The counter is at its maximum: the fd is readable already. */
		if (n < 0 && errno == EAGAIN)
			return;
		break;
	}
	e = n < 0 ? errno : EIO;
	must(pthread_mutex_lock(&p->dlock));
	p->wake_errno = e;
	must(pthread_mutex_unlock(&p->dlock));
}

/*
 * Hand a finished job to the loop.  The eventfd is written only when the
 * list goes from empty to non-empty; drain reads the fd before it takes the
 * list, so any job it does not take was appended after that read, and
 * either made the list non-empty (and writes the fd after the read) or
 * joined a list whose first job does so.  No wakeup is lost; at worst the
 * loop sees a readable fd and finds the list empty.
 */
static void
complete(struct worker_pool *p, struct worker_job *job)
{
	int was_empty;

	must(pthread_mutex_lock(&p->dlock));
	job->next = NULL;
	was_empty = p->dhead == NULL;
	if (was_empty)
		p->dhead = job;
	else
		p->dtail->next = job;
	p->dtail = job;
	must(pthread_mutex_unlock(&p->dlock));
	if (was_empty)
		wake(p);
}

/* A worker thread: init, then run jobs in FIFO order until told to stop. */
static void *
worker_main(void *arg)
{
	struct worker_pool *p = arg;
	struct worker_job *job;
	void *wctx = NULL;
	int failed = 0, q;

	if (p->thread_init != NULL && (wctx = p->thread_init(p->arg)) == NULL)
		failed = 1;
	must(pthread_mutex_lock(&p->qlock));
	p->ninit++;
	if (failed)
		p->ninit_failed++;
	must(pthread_cond_signal(&p->startcond));
	must(pthread_mutex_unlock(&p->qlock));
	if (failed)
		return NULL;

	for (;;) {
		must(pthread_mutex_lock(&p->qlock));
		while (p->nqueued == 0 && !p->stopping)
			must(pthread_cond_wait(&p->qcond, &p->qlock));
		/* Stopping: leave only once the queue is empty. */
		if (p->nqueued == 0) {
			must(pthread_mutex_unlock(&p->qlock));
			break;
		}
		q = p->qhead[1] != NULL ? 1 : 0;
		job = p->qhead[q];
		if ((p->qhead[q] = job->next) == NULL)
			p->qtail[q] = NULL;
		p->nqueued--;
		must(pthread_mutex_unlock(&p->qlock));

		job->run(job, wctx);
		complete(p, job);
	}
	if (p->thread_fini != NULL)
		p->thread_fini(wctx);
	return NULL;
}

/* Release what start/stop set up; the threads are joined already. */
static void
pool_free(struct worker_pool *p)
{
	int e;

	if (p->efd >= 0 && close(p->efd) != 0)
		log_warn("worker: closing eventfd: %s", strerror(errno));
	if ((p->inited & POOL_HAVE_DLOCK) &&
	    (e = pthread_mutex_destroy(&p->dlock)) != 0)
		log_warn("worker: destroying mutex: %s", strerror(e));
	if ((p->inited & POOL_HAVE_STARTCOND) &&
	    (e = pthread_cond_destroy(&p->startcond)) != 0)
		log_warn("worker: destroying condvar: %s", strerror(e));
	if ((p->inited & POOL_HAVE_QCOND) &&
	    (e = pthread_cond_destroy(&p->qcond)) != 0)
		log_warn("worker: destroying condvar: %s", strerror(e));
	if ((p->inited & POOL_HAVE_QLOCK) &&
	    (e = pthread_mutex_destroy(&p->qlock)) != 0)
		log_warn("worker: destroying mutex: %s", strerror(e));
	free(p->threads);
	free(p);
}

/* Tell every thread to finish the queue and exit, then join them all. */
static void
stop_threads(struct worker_pool *p)
{
	unsigned i;
	int e;

	must(pthread_mutex_lock(&p->qlock));
	p->stopping = 1;
	must(pthread_cond_broadcast(&p->qcond));
	must(pthread_mutex_unlock(&p->qlock));
	for (i = 0; i < p->nthreads; i++)
		if ((e = pthread_join(p->threads[i], NULL)) != 0)
			log_error("worker: joining thread %u: %s", i,
			    strerror(e));
	p->nthreads = 0;
}

/* Create the synchronisation objects and the eventfd. */
static int
pool_init(struct worker_pool *p)
{
	int e;

	if ((e = pthread_mutex_init(&p->qlock, NULL)) != 0)
		goto fail;
	p->inited |= POOL_HAVE_QLOCK;
	if ((e = pthread_cond_init(&p->qcond, NULL)) != 0)
		goto fail;
	p->inited |= POOL_HAVE_QCOND;
	if ((e = pthread_cond_init(&p->startcond, NULL)) != 0)
		goto fail;
	p->inited |= POOL_HAVE_STARTCOND;
	if ((e = pthread_mutex_init(&p->dlock, NULL)) != 0)
		goto fail;
	p->inited |= POOL_HAVE_DLOCK;
	if ((p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		log_error("worker: eventfd: %s", strerror(errno));
		return E_IO;
	}
	return 0;
fail:
	log_error("worker: initialising locks: %s", strerror(e));
	return e == ENOMEM ? E_NOMEM : E_INTERNAL;
}

/*
 * Create n threads with every signal blocked (they inherit the mask), so
 * that signals go to the loop thread.  p->nthreads counts those created.
 */
static int
create_threads(struct worker_pool *p, unsigned n)
{
	sigset_t all, old;
	int e, r = 0;

	if (sigfillset(&all) != 0)
		return E_INTERNAL;
	if ((e = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0) {
		log_error("worker: blocking signals: %s", strerror(e));
		return E_INTERNAL;
	}
	for (; p->nthreads < n; p->nthreads++) {
		if ((e = pthread_create(&p->threads[p->nthreads], NULL,
		    worker_main, p)) != 0) {
			log_error("worker: creating thread %u of %u: %s",
			    p->nthreads + 1, n, strerror(e));
			r = e == EAGAIN ? E_NOMEM : E_INTERNAL;
			break;
		}
	}
	if ((e = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0) {
		log_error("worker: restoring signal mask: %s", strerror(e));
		r = E_INTERNAL;
	}
	return r;
}

int
worker_pool_start(struct worker_pool **out, unsigned nthreads,
    void *(*thread_init)(void *arg), void (*thread_fini)(void *wctx),
    void *arg)
{
	struct worker_pool *p;
	unsigned failed;
	int r;

	if (out == NULL)
		return E_INVALID;
	*out = NULL;
	if (nthreads > WORKER_MAX_THREADS)
		return E_INVALID;
	if (nthreads == 0)
		nthreads = online_cpus();
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return E_NOMEM;
	p->efd = -1;
	p->max_queued = WORKER_DEFAULT_MAX_QUEUED;
	p->thread_init = thread_init;
	p->thread_fini = thread_fini;
	p->arg = arg;
	if ((p->threads = calloc(nthreads, sizeof(*p->threads))) == NULL) {
		pool_free(p);
		return E_NOMEM;
	}
	if ((r = pool_init(p)) != 0) {
		pool_free(p);
		return r;
	}
	r = create_threads(p, nthreads);

	/* Wait for every thread that exists to finish thread_init. */
	must(pthread_mutex_lock(&p->qlock));
	while (p->ninit < p->nthreads)
		must(pthread_cond_wait(&p->startcond, &p->qlock));
	failed = p->ninit_failed;
	must(pthread_mutex_unlock(&p->qlock));
	if (r == 0 && failed > 0) {
		log_error("worker: thread_init failed in %u of %u threads",
		    failed, nthreads);
		r = E_INTERNAL;
	}
	if (r != 0) {
		/* No job was queued: the threads that are up just exit. */
		stop_threads(p);
		pool_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int
worker_pool_fd(const struct worker_pool *p)
{
	return p->efd;
}

unsigned
worker_pool_threads(const struct worker_pool *p)
{
	return p->nthreads;
}

size_t
worker_pool_pending(const struct worker_pool *p)
{
	return p->pending;
}

void
worker_pool_set_max_queued(struct worker_pool *p, size_t max)
{
	p->max_queued = max;
}

int
worker_pool_submit(struct worker_pool *p, struct worker_job *job)
{
	int r = 0, q;

	if (p == NULL || job == NULL || job->run == NULL || job->done == NULL)
		return E_INVALID;
	q = job->urgent ? 1 : 0;
	must(pthread_mutex_lock(&p->qlock));
	if (p->stopping) {
		r = E_STATE;
	} else if (p->nqueued >= p->max_queued) {
		r = E_TOO_LONG;
	} else {
		job->next = NULL;
		if (p->qtail[q] == NULL)
			p->qhead[q] = job;
		else
			p->qtail[q]->next = job;
		p->qtail[q] = job;
		p->nqueued++;
		must(pthread_cond_signal(&p->qcond));
	}
	must(pthread_mutex_unlock(&p->qlock));
	if (r == 0)
		p->pending++;
	return r;
}

void
worker_pool_drain(struct worker_pool *p)
{
	struct worker_job *job, *next;
	uint64_t count;
	ssize_t n;
	int e;

	/* Clear the fd first: see complete() for why this order matters. */
	for (;;) {
		n = read(p->efd, &count, sizeof(count));
		if (n == (ssize_t)sizeof(count) || (n < 0 && errno == EAGAIN))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		log_error("worker: reading eventfd: %s",
		    n < 0 ? strerror(errno) : "short read");
		break;
	}

	must(pthread_mutex_lock(&p->dlock));
	job = p->dhead;
	p->dhead = p->dtail = NULL;
	e = p->wake_errno;
	p->wake_errno = 0;
	must(pthread_mutex_unlock(&p->dlock));
	if (e != 0)
		log_error("worker: writing eventfd: %s", strerror(e));

	/* done() may free or resubmit its job: read the link first. */
	for (; job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		p->pending--;
		job->done(job);
	}
}

void
worker_pool_stop(struct worker_pool *p)
{
	if (p == NULL)
		return;
	/* Workers run the whole queue before they exit. */
	stop_threads(p);
	/* Every job is on the completion list now; done() them all. */
	worker_pool_drain(p);
	if (p->pending != 0)
		log_error("worker: %zu jobs lost at stop", p->pending);
	pool_free(p);
}
