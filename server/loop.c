/*
 * The event loop: accept, read, write, timers and signals.  What the bytes
 * mean is server/protocol.c's business.
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
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
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
#include "common/frame.h"
#include "common/log.h"
#include "keydist/channel.h"
#include "server/conn.h"
#include "server/throttle.h"
#include "server/worker.h"

#define MAX_EVENTS 256
#define READ_CHUNK 16384
#define READ_BUDGET ((size_t)256 * 1024) /* bytes per connection per pass */
#define WRITE_BUDGET ((size_t)1024 * 1024)
/*
 * A connection's queued frames are sealed and sent once they pass this
 * many bytes, not only at the end of the pass: one record from a fast
 * sender can put 64 KiB into each of a room's members' queues, megabytes
 * that no longer fit in the caches by the time they are sealed (perf:
 * a quarter of a fan-out in memcpy).  Still few records: the fixed cost
 * of one is nothing beside 16 KiB.
 */
#define SEAL_EARLY ((size_t)16 * 1024)
#define ACCEPT_BUDGET 64             /* accepts per pass */
#define TICK_MS 1000
#define ACCEPT_PAUSE_MS 1000         /* after running out of fds */
#define SHUTDOWN_FLUSH_MS 2000

/* Tags in epoll_event.data.ptr for the fds that are not connections. */
char server_tag_listen, server_tag_signal, server_tag_pool;

static int
epoll_add(int epfd, int fd, unsigned events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Register the events c needs now: input unless paused, output if queued. */
static void
conn_update_events(struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };
	unsigned want = 0;

	if (c->fd < 0)
		return;
	if (!c->paused)
		want |= EPOLLIN;
	if (buf_size(&c->out) > 0)
		want |= EPOLLOUT;
	if (want == c->epoll_mask)
		return;
	ev.events = want;
	if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		conn_fail(c, "error", 0, "epoll_ctl: %s", strerror(errno));
	else
		c->epoll_mask = want;
}

static void conn_flush(struct conn *c);

static void
conn_mark_dirty(struct conn *c)
{
	if (c->dirty || c->fd < 0)
		return;
	c->dirty = 1;
	c->dirty_next = c->srv->dirty;
	c->srv->dirty = c;
}

void
conn_send(struct conn *c, const char *frame, size_t len)
{
	const struct server_config *cfg = c->srv->cfg;

	if (c->dead)
		return;
	if (buf_size(&c->out) + buf_size(&c->pend) + len + 1 >
	    (size_t)cfg->output_queue_max) {
		conn_fail(c, "slow", 0, "output queue over %lld bytes",
		    cfg->output_queue_max);
		return;
	}
	if (buf_append(&c->pend, frame, len) != 0 ||
	    buf_append(&c->pend, "\n", 1) != 0) {
		conn_fail(c, "error", 0, "out of memory");
		return;
	}
	conn_mark_dirty(c);
	if (buf_size(&c->pend) >= SEAL_EARLY)
		conn_flush(c);
}

void
conn_send_plain(struct conn *c, const char *line, size_t len)
{
	if (buf_append(&c->out, line, len) != 0 ||
	    buf_append(&c->out, "\n", 1) != 0) {
		conn_fail(c, "error", 0, "out of memory");
		return;
	}
	conn_mark_dirty(c);
}

void
conn_fail(struct conn *c, const char *reason, int notify, const char *fmt, ...)
{
	va_list ap;

	if (c->dead)
		return;
	c->dead = 1;
	c->notify = notify && kd_record_keyed(&c->tx);
	(void)snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	va_start(ap, fmt);
	(void)vsnprintf(c->close_detail, sizeof(c->close_detail), fmt, ap);
	va_end(ap);
	c->dead_next = c->srv->dead;
	c->srv->dead = c;
}

void
conn_pause(struct conn *c, int paused)
{
	c->paused = paused;
	conn_update_events(c);
}

/* Seal the queued frames into records and write as much as the socket takes. */
static void
conn_flush(struct conn *c)
{
	size_t budget = WRITE_BUDGET;
	ssize_t n;
	int r;

	if (c->fd < 0)
		return;
	if (buf_size(&c->pend) > 0 && (r = kd_chan_seal(&c->tx, &c->pend,
	    &c->out, (size_t)c->srv->cfg->max_frame)) != 0) {
		conn_fail(c, "error", 0, "sealing: %s", err_str(r));
		return;
	}
	/*
	 * pend and out keep their storage from pass to pass: freeing it
	 * here (with its wipe) and allocating it again on the next pass
	 * cost a busy relay a fifth of its time (malloc, page faults,
	 * OPENSSL_cleanse; bench/RESULTS.md).  tick() releases what an
	 * idle connection holds, so it holds none after a second.
	 */
	while (buf_size(&c->out) > 0 && budget > 0) {
		n = send(c->fd, buf_data(&c->out), buf_size(&c->out) < budget ?
		    buf_size(&c->out) : budget, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			conn_fail(c, "closed", 0, "send: %s", strerror(errno));
			return;
		}
		buf_consume(&c->out, (size_t)n);
		budget -= (size_t)n;
	}
	conn_update_events(c);
}

static void
conn_read(struct conn *c)
{
	size_t budget = READ_BUDGET;
	ssize_t n;

	while (!c->dead && !c->paused && budget > 0) {
		if (buf_reserve(&c->in, READ_CHUNK) != 0) {
			conn_fail(c, "error", 0, "out of memory");
			return;
		}
		n = recv(c->fd, buf_tail(&c->in), READ_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (n == 0 && buf_size(&c->in) > 0)
				conn_fail(c, "closed", 0, "peer closed "
				    "inside a record or line (%zu bytes "
				    "unused)", buf_size(&c->in));
			else if (n == 0)
				conn_fail(c, "closed", 0, "peer closed");
			else
				conn_fail(c, "closed", 0, "recv: %s",
				    strerror(errno));
			break;
		}
		buf_commit(&c->in, (size_t)n);
		budget -= (size_t)n;
		c->last_rx_ms = c->srv->now_ms;
		c->ping_out = 0;
		protocol_input(c);
	}
	buf_shrink(&c->in);
}

/* "ip" and "ip:port" ("[ip]:port" for IPv6) of a peer. */
static void
peer_names(const struct sockaddr_storage *ss, socklen_t len, struct conn *c)
{
	char port[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)ss, len, c->ip, sizeof(c->ip),
	    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		(void)snprintf(c->ip, sizeof(c->ip), "?");
		(void)snprintf(port, sizeof(port), "?");
	}
	(void)snprintf(c->addr, sizeof(c->addr), ss->ss_family == AF_INET6 ?
	    "[%s]:%s" : "%s:%s", c->ip, port);
}

/* Whether a new connection from ip may stay (limits), logging a refusal. */
static int
admit(struct server *s, const char *addr, const char *ip)
{
	const struct server_config *cfg = s->cfg;
	unsigned n;

	if (s->nconns >= (size_t)cfg->max_clients) {
		log_warn("refused %s: max_clients (%lld) reached", addr,
		    cfg->max_clients);
		return 0;
	}
	if (cfg->conn_rate_per_addr > 0) {
		n = throttle_hit(s->conn_rate, ip, s->now_ms, 60000);
		if (n > (unsigned)cfg->conn_rate_per_addr) {
			/* Once per minute and address, not per attempt. */
			if (n == (unsigned)cfg->conn_rate_per_addr + 1)
				log_warn("refused %s: more than %lld "
				    "connections a minute from %s", addr,
				    cfg->conn_rate_per_addr, ip);
			return 0;
		}
	}
	return 1;
}

static void
conn_new(struct server *s, int fd, const struct sockaddr_storage *ss,
    socklen_t sslen)
{
	struct conn *c;
	int one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_error("refused a connection: out of memory");
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	peer_names(ss, sslen, c);
	if (!admit(s, c->addr, c->ip)) {
		close(fd);
		free(c);
		return;
	}
	c->id = ++s->next_id;
	c->accepted_ms = c->last_rx_ms = s->now_ms;
	c->state = CONN_HELLO;
	c->owner_r = E_DB_UNAVAILABLE;
	/* Small frames should leave at once; records are batched already. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (epoll_add(s->epfd, fd, EPOLLIN, c) != 0) {
		log_error("refused %s: epoll: %s", c->addr, strerror(errno));
		close(fd);
		free(c);
		return;
	}
	c->epoll_mask = EPOLLIN;
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	log_info("connect %s id=%llu", c->addr, (unsigned long long)c->id);
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
			conn_new(s, fd, &ss, len);
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

/* Whether c ends in one of the ways clients end every day. */
static int
conn_closed_normally(const struct conn *c)
{
	static const char *const normal[] = {
		"quit", "closed", "timeout", "shutdown",
	};
	size_t i;

	for (i = 0; i < sizeof(normal) / sizeof(normal[0]); i++)
		if (strcmp(c->close_reason, normal[i]) == 0)
			return 1;
	return 0;
}

/* Queue and flush `1010|reason|detail` if conn_fail() asked for it. */
static void
conn_send_notice(struct conn *c)
{
	char frame[256];
	size_t len;
	struct frame_field f[2] = {
		{ c->close_reason, strlen(c->close_reason) },
		{ c->close_detail, strlen(c->close_detail) },
	};

	if (!c->notify)
		return;
	c->notify = 0;
	if (frame_build(frame, sizeof(frame), &len, 1010, f, 2) != 0 ||
	    buf_append(&c->pend, frame, len) != 0 ||
	    buf_append(&c->pend, "\n", 1) != 0)
		return;
	conn_flush(c);
}

/* Send the closing notice, close the socket, tell the others. */
static void
conn_close(struct conn *c)
{
	struct server *s = c->srv;

	conn_send_notice(c);
	log_msg(conn_closed_normally(c) ? LOG_INFO : LOG_WARN,
	    "disconnect %s id=%llu user=%s reason=%s: %s", c->addr,
	    (unsigned long long)c->id, c->user[0] ? c->user : "-",
	    c->close_reason, c->close_detail);
	protocol_leave(c);
	if (c->fd >= 0) {
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	s->nconns--;
}

void
conn_release(struct conn *c)
{
	/* A closed c may still be on the dirty list (marked by a broadcast
	   from an earlier close in the same reap): flush_dirty() frees it. */
	if (c->fd >= 0 || c->jobs > 0 || c->dirty)
		return;
	protocol_free(c);
	kd_record_clear(&c->rx);
	kd_record_clear(&c->tx);
	buf_free(&c->in);
	buf_free(&c->pend);
	buf_free(&c->out);
	free(c);
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
	}
	throttle_prune(s->login_fails, s->now_ms,
	    (uint64_t)s->cfg->login_lock_seconds * 1000);
	throttle_prune(s->conn_rate, s->now_ms, 60000);
	accept_resume(s);
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
		conn_fail(c, "shutdown", 1, "the server is shutting down");
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
			else if (!c->dead) {
				if (c->paused &&
				    (ev[i].events & (EPOLLERR | EPOLLHUP)))
					conn_fail(c, "closed", 0, "peer hung up");
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
		flush_dirty(s);
		reap(s);
		/* The leave notices of those closed: now, not next pass. */
		flush_dirty(s);
	}
	shutdown_all(s);
	return 0;
}
