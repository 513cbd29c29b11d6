/*
 * The connection object: its socket, its three buffers (bytes received,
 * frames to seal, bytes to write), sealing and writing, and its end.  A
 * failure only marks the connection (conn_fail()); server/loop.c closes
 * it at the end of the pass (conn_close(), conn_release()), so no handler
 * ever sees a freed connection.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/frame.h"
#include "common/log.h"
#include "keydist/channel.h"
#include "server/conn.h"
#include "server/inbox.h"

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
		conn_fail(c, PROTO_CLOSE_ERROR, 0, "epoll_ctl: %s", strerror(errno));
	else
		c->epoll_mask = want;
}

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
	conn_send_parts(c, frame, len, NULL, 0);
}

void
conn_send_parts(struct conn *c, const char *head, size_t hlen,
    const char *rest, size_t rlen)
{
	const struct server_config *cfg = c->srv->cfg;

	if (c->dead)
		return;
	if (buf_size(&c->out) + buf_size(&c->pend) + hlen + rlen + 1 >
	    (size_t)cfg->output_queue_max) {
		conn_fail(c, PROTO_CLOSE_SLOW, 0, "output queue over %lld bytes",
		    cfg->output_queue_max);
		return;
	}
	if (buf_append(&c->pend, head, hlen) != 0 ||
	    (rlen > 0 && buf_append(&c->pend, rest, rlen) != 0) ||
	    buf_append(&c->pend, "\n", 1) != 0) {
		conn_fail(c, PROTO_CLOSE_ERROR, 0, "out of memory");
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
		conn_fail(c, PROTO_CLOSE_ERROR, 0, "out of memory");
		return;
	}
	conn_mark_dirty(c);
}

void
conn_fail(struct conn *c, enum proto_close reason, int notify,
    const char *fmt, ...)
{
	va_list ap;

	if (c->dead)
		return;
	c->dead = 1;
	c->notify = notify && kd_record_keyed(&c->tx);
	c->close_reason = reason;
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
void
conn_flush(struct conn *c)
{
	size_t budget = WRITE_BUDGET;
	ssize_t n;
	int r;

	if (c->fd < 0)
		return;
	if (buf_size(&c->pend) > 0 && (r = kd_chan_seal(&c->tx, &c->pend,
	    &c->out, (size_t)c->srv->cfg->max_frame)) != 0) {
		conn_fail(c, PROTO_CLOSE_ERROR, 0, "sealing: %s", err_str(r));
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
			conn_fail(c, PROTO_CLOSE_CLOSED, 0, "send: %s", strerror(errno));
			return;
		}
		buf_consume(&c->out, (size_t)n);
		budget -= (size_t)n;
	}
	if (c->read_waiting)
		inbox_drained(c);
	conn_update_events(c);
}

void
conn_read(struct conn *c)
{
	size_t budget = READ_BUDGET;
	ssize_t n;

	while (!c->dead && !c->paused && budget > 0) {
		if (buf_reserve(&c->in, READ_CHUNK) != 0) {
			conn_fail(c, PROTO_CLOSE_ERROR, 0, "out of memory");
			return;
		}
		n = recv(c->fd, buf_tail(&c->in), READ_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (n == 0 && buf_size(&c->in) > 0)
				conn_fail(c, PROTO_CLOSE_CLOSED, 0, "peer closed "
				    "inside a record or line (%zu bytes "
				    "unused)", buf_size(&c->in));
			else if (n == 0)
				conn_fail(c, PROTO_CLOSE_CLOSED, 0, "peer closed");
			else
				conn_fail(c, PROTO_CLOSE_CLOSED, 0, "recv: %s",
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

void
conn_open(struct server *s, int fd, const char *ip, const char *addr)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *c;
	int one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_error("refused %s: out of memory", addr);
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	(void)snprintf(c->ip, sizeof(c->ip), "%s", ip);
	throttle_prefix(ip, c->prefix);
	(void)snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->id = ++s->next_id;
	c->accepted_ms = c->last_rx_ms = s->now_ms;
	c->state = CONN_HELLO;
	c->owner_r = E_DB_UNAVAILABLE;
	/* Small frames should leave at once; records are batched already. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
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

/* Queue and flush `1010|reason|detail` if conn_fail() asked for it. */
void
conn_send_notice(struct conn *c)
{
	const char *word = proto_close_word(c->close_reason);
	struct frame_field f[2] = {
		{ word, strlen(word) },
		{ c->close_detail, strlen(c->close_detail) },
	};

	if (!c->notify)
		return;
	c->notify = 0;
	if (frame_put(&c->pend, OP_CLOSING, f, 2) != 0)
		return;
	conn_flush(c);
}

/* Send the closing notice, close the socket, tell the others. */
void
conn_close(struct conn *c)
{
	struct server *s = c->srv;

	conn_send_notice(c);
	log_msg(proto_close_normal(c->close_reason) ? LOG_INFO : LOG_WARN,
	    "disconnect %s id=%llu user=%s reason=%s: %s", c->addr,
	    (unsigned long long)c->id, c->user[0] ? c->user : "-",
	    proto_close_word(c->close_reason), c->close_detail);
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
	store_conn_free(c);
	kd_record_clear(&c->rx);
	kd_record_clear(&c->tx);
	buf_free(&c->in);
	buf_free(&c->pend);
	buf_free(&c->out);
	free(c);
}
