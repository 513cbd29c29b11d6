#include "client/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"

/*
 * A lookup is shared by the caller and its thread; whichever lets go last
 * frees it, so the caller may abandon a lookup that is still running (a
 * slow DNS server must not hold up the event loop or session_free()).
 * Everything below mu is written only under mu once the thread runs.
 */
struct net_lookup {
	char *host, *port;            /* fixed before the thread starts */
	int efd;                      /* eventfd, written once when done */
	pthread_mutex_t mu;
	int refs;                     /* 2 while both the caller and the
	                                 thread hold it */
	int done;                     /* getaddrinfo() has returned */
	int gai;                      /* its result */
	struct addrinfo *res;         /* its list, until taken */
};

/* A default mutex that cannot be locked or unlocked means corrupt memory. */
static void
must(int e)
{
	if (e != 0)
		abort();
}

static void
lookup_free(struct net_lookup *lk)
{
	if (lk->res != NULL)
		freeaddrinfo(lk->res);
	close(lk->efd);
	must(pthread_mutex_destroy(&lk->mu));
	free(lk->host);
	free(lk->port);
	free(lk);
}

/* Drop one reference; the last one frees. */
static void
lookup_unref(struct net_lookup *lk)
{
	int last;

	must(pthread_mutex_lock(&lk->mu));
	last = --lk->refs == 0;
	must(pthread_mutex_unlock(&lk->mu));
	if (last)
		lookup_free(lk);
}

static void
hints_init(struct addrinfo *hints, int flags)
{
	memset(hints, 0, sizeof(*hints));
	hints->ai_family = AF_UNSPEC;
	hints->ai_socktype = SOCK_STREAM;
	hints->ai_protocol = IPPROTO_TCP;
	hints->ai_flags = flags | AI_NUMERICSERV;
}

static void *
lookup_main(void *arg)
{
	struct net_lookup *lk = arg;
	struct addrinfo hints, *res = NULL;
	const uint64_t one = 1;
	ssize_t n;
	int gai;

	hints_init(&hints, 0);
	gai = getaddrinfo(lk->host, lk->port, &hints, &res);
	must(pthread_mutex_lock(&lk->mu));
	lk->gai = gai;
	lk->res = gai == 0 ? res : NULL;
	lk->done = 1;
	must(pthread_mutex_unlock(&lk->mu));
	/*
	 * One write to a fresh eventfd cannot find the counter full.  Should
	 * it fail anyway, the caller's connect timeout ends the wait.
	 */
	do
		n = write(lk->efd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	lookup_unref(lk);
	return NULL;
}

int
net_lookup_start(const char *host, const char *port, struct net_lookup **lkp,
    struct addrinfo **res, int *gai)
{
	struct net_lookup *lk;
	struct addrinfo hints;
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int e, r;

	*lkp = NULL;
	*res = NULL;
	*gai = 0;
	/* An address needs no lookup (and no thread). */
	hints_init(&hints, AI_NUMERICHOST);
	if ((e = getaddrinfo(host, port, &hints, res)) == 0)
		return 0;
	*res = NULL;
	if (e != EAI_NONAME) {
		*gai = e;
		return E_NOT_FOUND;
	}
	if ((lk = calloc(1, sizeof(*lk))) == NULL)
		return E_NOMEM;
	lk->efd = -1;
	r = E_NOMEM;
	if ((lk->host = strdup(host)) == NULL ||
	    (lk->port = strdup(port)) == NULL)
		goto fail;
	if ((lk->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		r = E_IO;
		goto fail;
	}
	if (pthread_mutex_init(&lk->mu, NULL) != 0)
		goto fail;
	/* The thread takes no signals: they belong to the caller's loop. */
	if (sigfillset(&all) != 0 || pthread_attr_init(&attr) != 0) {
		must(pthread_mutex_destroy(&lk->mu));
		r = E_INTERNAL;
		goto fail;
	}
	lk->refs = 2;
	e = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (e == 0 && (e = pthread_sigmask(SIG_SETMASK, &all, &old)) == 0) {
		e = pthread_create(&tid, &attr, lookup_main, lk);
		must(pthread_sigmask(SIG_SETMASK, &old, NULL));
	}
	must(pthread_attr_destroy(&attr));
	if (e != 0) {
		/* No thread: ours is the only reference. */
		lk->refs = 1;
		lookup_unref(lk);
		return E_INTERNAL;
	}
	*lkp = lk;
	return 0;
fail:
	if (lk->efd >= 0)
		close(lk->efd);
	free(lk->host);
	free(lk->port);
	free(lk);
	return r;
}

int
net_lookup_fd(const struct net_lookup *lk)
{
	return lk->efd;
}

int
net_lookup_done(struct net_lookup *lk, struct addrinfo **res, int *gai)
{
	int done;

	must(pthread_mutex_lock(&lk->mu));
	if ((done = lk->done)) {
		*res = lk->res;
		*gai = lk->gai;
		lk->res = NULL;
	}
	must(pthread_mutex_unlock(&lk->mu));
	if (!done)
		return E_INCOMPLETE;
	lookup_unref(lk);
	return *gai == 0 ? 0 : E_NOT_FOUND;
}

void
net_lookup_cancel(struct net_lookup *lk)
{
	lookup_unref(lk);
}

int
net_connect(const struct addrinfo *ai, int *fdp)
{
	const int one = 1;
	int fd, e;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return E_IO;
	/* Chat lines are small and interactive: no Nagle delay. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		*fdp = fd;
		return 0;
	}
	if (errno == EINPROGRESS) {
		*fdp = fd;
		return E_INCOMPLETE;
	}
fail:
	e = errno;
	close(fd);
	errno = e;
	return E_IO;
}

int
net_connect_result(int fd)
{
	socklen_t len = sizeof(int);
	int e = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		return E_IO;
	if (e != 0) {
		errno = e;
		return E_IO;
	}
	return 0;
}

void
net_addr_text(const struct addrinfo *ai, char *out, size_t len)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		(void)snprintf(out, len, "(unknown address)");
	else
		(void)snprintf(out, len, "%s port %s", host, port);
}
