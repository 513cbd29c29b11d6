/*
 * The event loop: epoll, accept, the once-a-second tick, signals, and the
 * end of each pass (flush, reap).  A connection's socket and buffers are
 * server/conn.c's; what the bytes mean is server/protocol.c's.
 *
 * One pass: wait for events; read what is readable and let the session
 * use it; drain finished worker jobs; once a second check timeouts; then
 * seal every connection's queued frames into one record each and write;
 * last, close the connections that failed during the pass, and send what
 * their closing queued for the others (room leave notices).  Closing only
 * at the end of a pass means no handler ever sees a freed connection.
 */
#define _GNU_SOURCE                  /* accept4() */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "server/conn.h"
#include "server/handlers.h"
#include "server/inbox.h"
#include "server/store.h"
#include "server/throttle.h"
#include "server/worker.h"

#define MAX_EVENTS 256
#define ACCEPT_BUDGET 64             /* accepts per pass */
#define TICK_MS 1000
#define ACCEPT_PAUSE_MS 1000         /* after running out of fds */
#define SHUTDOWN_FLUSH_MS 2000

/* Tags in epoll_event.data.ptr for the fds that are not connections. */
char server_tag_listen, server_tag_signal, server_tag_pool, server_tag_store;

static int
epoll_add(int epfd, int fd, unsigned events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* "ip" and "ip:port" ("[ip]:port" for IPv6) of a peer. */
static void
peer_names(const struct sockaddr_storage *ss, socklen_t len,
    char ip[INET6_ADDRSTRLEN], char addr[CONN_ADDR_MAX])
{
	char port[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)ss, len, ip, INET6_ADDRSTRLEN,
	    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		(void)snprintf(ip, INET6_ADDRSTRLEN, "?");
		(void)snprintf(port, sizeof(port), "?");
	}
	(void)snprintf(addr, CONN_ADDR_MAX, ss->ss_family == AF_INET6 ?
	    "[%s]:%s" : "%s:%s", ip, port);
}

/* Whether a new connection from ip may stay (limits), logging a refusal. */
static int
admit(struct server *s, const char *addr, const char *ip)
{
	const struct server_config *cfg = s->cfg;
	char prefix[THROTTLE_PREFIX_MAX], key[THROTTLE_KEY_MAX + 1];
	unsigned n;

	if (s->nconns >= (size_t)cfg->max_clients) {
		log_warn("refused %s: max_clients (%lld) reached", addr,
		    cfg->max_clients);
		return 0;
	}
	if (cfg->conn_rate_per_addr > 0) {
		throttle_prefix(ip, prefix);
		(void)snprintf(key, sizeof(key), "c:%s", prefix);
		n = throttle_hit(s->conn_rate, key, s->now_ms, 60000);
		if (n > (unsigned)cfg->conn_rate_per_addr) {
			/* Once per minute and prefix, not per attempt. */
			if (n == (unsigned)cfg->conn_rate_per_addr + 1)
				log_warn("refused %s: more than %lld "
				    "connections a minute from %s", addr,
				    cfg->conn_rate_per_addr, prefix);
			return 0;
		}
	}
	return 1;
}

static void
accept_one(struct server *s, int fd, const struct sockaddr_storage *ss,
    socklen_t len)
{
	char ip[INET6_ADDRSTRLEN], addr[CONN_ADDR_MAX];

	peer_names(ss, len, ip, addr);
	if (!admit(s, addr, ip)) {
		close(fd);
		return;
	}
	conn_open(s, fd, ip, addr);
}

/*
 * Out of file descriptors: refuse the waiting connections (close them at
 * once, so that their clients learn it now rather than at a timeout) with
 * the descriptor kept spare for this, and say so once per episode.
 * Returns 0 when that worked, -1 when the spare could not be used.
 */
static int
refuse_without_fds(struct server *s)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, i, saved = EAGAIN;

	if (!s->fds_exhausted)
		log_error("out of file descriptors with %zu clients: refusing "
		    "new connections until some close", s->nconns);
	s->fds_exhausted = 1;
	if (s->spare_fd < 0)
		return -1;
	close(s->spare_fd);
	for (i = 0; i < ACCEPT_BUDGET; i++) {
		len = sizeof(ss);
		fd = accept4(s->lfd, (struct sockaddr *)&ss, &len,
		    SOCK_CLOEXEC);
		if (fd >= 0)
			(void)close(fd);
		else if (errno != EINTR && errno != ECONNABORTED) {
			saved = errno;
			break;
		}
	}
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return s->spare_fd >= 0 && (saved == EAGAIN ||
	    saved == EWOULDBLOCK) ? 0 : -1;
}

/* Stop listening for a moment rather than spin. */
static void
accept_pause(struct server *s)
{
	if (epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->lfd, NULL) == 0) {
		s->accept_paused = 1;
		s->accept_resume_ms = s->now_ms + ACCEPT_PAUSE_MS;
	}
}

static void
accept_clients(struct server *s)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, i;

	for (i = 0; i < ACCEPT_BUDGET; i++) {
		/*
		 * accept4() fills it, but clang's analyser does not see that
		 * through glibc's transparent union argument: zeroing it costs
		 * little and keeps peer_names() provably defined.
		 */
		memset(&ss, 0, sizeof(ss));
		len = sizeof(ss);
		fd = accept4(s->lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			if (s->fds_exhausted) {
				s->fds_exhausted = 0;
				log_info("file descriptors available again: "
				    "accepting connections");
			}
			accept_one(s, fd, &ss, len);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE) {
			if (refuse_without_fds(s) != 0) {
				log_error("accept: %s; not accepting for %d "
				    "ms", strerror(errno), ACCEPT_PAUSE_MS);
				accept_pause(s);
			}
		} else if (errno == ENOBUFS || errno == ENOMEM) {
			log_error("accept: %s; not accepting for %d ms",
			    strerror(errno), ACCEPT_PAUSE_MS);
			accept_pause(s);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_error("accept: %s", strerror(errno));
		return;
	}
}

static void
accept_resume(struct server *s)
{
	if (!s->accept_paused || s->now_ms < s->accept_resume_ms)
		return;
	if (epoll_add(s->epfd, s->lfd, EPOLLIN, &server_tag_listen) == 0) {
		s->accept_paused = 0;
		log_info("accepting connections again");
	} else
		s->accept_resume_ms = s->now_ms + ACCEPT_PAUSE_MS;
}

/* Close everything that failed during the pass (closing may fail more). */
static void
reap(struct server *s)
{
	struct conn *c;

	while ((c = s->dead) != NULL) {
		s->dead = c->dead_next;
		conn_close(c);
		conn_release(c);
	}
}

static void
flush_dirty(struct server *s)
{
	struct conn *c;

	while ((c = s->dirty) != NULL) {
		s->dirty = c->dirty_next;
		c->dirty = 0;
		/* Dead ones too: their last frames (1199, a 1001) must leave. */
		if (c->fd >= 0)
			conn_flush(c);
		else
			conn_release(c);   /* closed while on this list */
	}
}

static int
handle_signals(struct server *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			if (log_reopen() == 0)
				log_info("log reopened (SIGHUP)");
			break;
		case SIGTERM:
		case SIGINT:
			log_info("%s: shutting down",
			    si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			s->stopping = 1;
			break;
		}
	}
	return s->stopping;
}

static void
tick(struct server *s)
{
	struct conn *c;

	for (c = s->conns; c != NULL; c = c->next) {
		if (c->dead)
			continue;
		/* Idle connections hold no buffers (see conn_flush()), nor
		   cipher contexts (kd_record_park()). */
		buf_shrink(&c->pend);
		buf_shrink(&c->out);
		if (c->state == CONN_LOGGED_IN && buf_size(&c->pend) == 0 &&
		    buf_size(&c->out) == 0 && buf_size(&c->in) == 0) {
			kd_record_park(&c->rx);
			kd_record_park(&c->tx);
		}
		protocol_tick(c, s->now_ms);
		if (c->state == CONN_LOGGED_IN)
			inbox_tick(c);
	}
	throttle_prune(s->login_fails, s->now_ms,
	    (uint64_t)s->cfg->login_lock_seconds * 1000);
	throttle_prune(s->conn_rate, s->now_ms, 60000);
	accept_resume(s);
	refresh_start(s, 0);
	retention_tick(s);
	store_kick(s);
}

/*
 * Tell every connection the server is going, give the notices a moment
 * to leave, and close them all.
 */
static void
shutdown_all(struct server *s)
{
	struct conn *c;
	uint64_t until = clock_ms() + SHUTDOWN_FLUSH_MS;
	size_t n = s->nconns;
	int pending;

	for (c = s->conns; c != NULL; c = c->next) {
		conn_fail(c, PROTO_CLOSE_SHUTDOWN, 1, "the server is shutting down");
		conn_send_notice(c);
	}
	/* Give queued frames and notices a moment to leave. */
	for (;;) {
		pending = 0;
		for (c = s->conns; c != NULL; c = c->next) {
			if (c->fd >= 0 && buf_size(&c->out) > 0)
				conn_flush(c);
			pending |= c->fd >= 0 && buf_size(&c->out) > 0;
		}
		if (!pending || clock_ms() >= until)
			break;
		nanosleep(&(struct timespec){ 0, 10L * 1000 * 1000 }, NULL);
	}
	reap(s);
	flush_dirty(s);
	log_info("shutdown: %zu connections closed", n);
}

int
server_run(struct server *s)
{
	struct epoll_event ev[MAX_EVENTS];
	uint64_t next_tick;
	int i, n, timeout;

	s->now_ms = clock_ms();
	next_tick = s->now_ms + TICK_MS;
	refresh_start(s, 0);
	while (!s->stopping) {
		timeout = (int)(next_tick > s->now_ms ? next_tick - s->now_ms : 0);
		if (s->next_delayed_ms != 0 && s->next_delayed_ms < next_tick)
			timeout = (int)(s->next_delayed_ms > s->now_ms ?
			    s->next_delayed_ms - s->now_ms : 0);
		n = epoll_wait(s->epfd, ev, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			return E_IO;
		}
		s->now_ms = clock_ms();
		for (i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;
			struct conn *c = p;

			if (p == &server_tag_listen)
				accept_clients(s);
			else if (p == &server_tag_signal)
				handle_signals(s);
			else if (p == &server_tag_pool)
				worker_pool_drain(s->pool);
			else if (p == &server_tag_store)
				store_drain(s);
			else if (!c->dead) {
				if (c->paused &&
				    (ev[i].events & (EPOLLERR | EPOLLHUP)))
					conn_fail(c, PROTO_CLOSE_CLOSED, 0,
					    "peer hung up");
				else if (ev[i].events &
				    (EPOLLIN | EPOLLERR | EPOLLHUP))
					conn_read(c);
				if (!c->dead && (ev[i].events & EPOLLOUT))
					conn_flush(c);
			}
		}
		if (s->now_ms >= next_tick) {
			tick(s);
			next_tick = s->now_ms + TICK_MS;
		}
		if (s->next_delayed_ms != 0 && s->now_ms >= s->next_delayed_ms)
			protocol_due(s);
		/* What this pass asked to store: one commit for all of it. */
		store_kick(s);
		flush_dirty(s);
		reap(s);
		/* The leave notices of those closed: now, not next pass. */
		flush_dirty(s);
	}
	shutdown_all(s);
	return 0;
}
