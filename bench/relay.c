/*
 * bench-relay: the ceiling of bench/run.sh.  A minimal plaintext epoll
 * relay: every frame a client sends goes to every other client, nothing
 * is encrypted, authenticated or checked.  What it costs is what moving
 * the bytes costs on this machine: missive is measured against it.
 *
 *   bench-relay [-a ADDR] -p PORT
 *
 * A frame is uint32_be(n) || n bytes.  An empty frame (n = 0) is a hello:
 * the relay answers it with an empty frame to the sender alone, so a
 * client knows it is registered before anyone sends.  Writes are batched
 * as missive's are: each pass of the loop appends to the recipients'
 * queues, then writes each queue once.  Runs until killed.
 */
#define _GNU_SOURCE             /* accept4() */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/be.h"
#include "common/buf.h"

#define PROG "bench-relay"
#define MAX_FD 20000
#define EVENTS 256
#define READ_CHUNK 65536
#define FRAME_MAX (1u << 20)

struct rclient {
	int live, dirty;
	struct buf in, out;
};

static struct rclient clients[MAX_FD];
static int live_fds[MAX_FD], nlive;
static int dirty[MAX_FD], ndirty;

static void
drop(int ep, int fd)
{
	int i;

	(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	(void)close(fd);
	clients[fd].live = 0;
	buf_free(&clients[fd].in);
	buf_free(&clients[fd].out);
	for (i = 0; i < nlive; i++)
		if (live_fds[i] == fd) {
			live_fds[i] = live_fds[--nlive];
			break;
		}
}

static int
queue(int fd, const uint8_t *p, size_t n)
{
	struct rclient *c = &clients[fd];

	if (buf_append(&c->out, p, n) != 0)
		return -1;
	if (!c->dirty) {
		c->dirty = 1;
		dirty[ndirty++] = fd;
	}
	return 0;
}

/* Forward the whole frames in fd's input. */
static int
forward(int fd)
{
	struct rclient *c = &clients[fd];
	uint8_t *p;
	uint32_t n;
	int i;

	while (buf_size(&c->in) >= 4) {
		p = buf_data(&c->in);
		n = be32_load(p);
		if (n > FRAME_MAX)
			return -1;
		if (buf_size(&c->in) < 4 + (size_t)n)
			break;
		if (n == 0) {
			if (queue(fd, p, 4) != 0)
				return -1;
		} else {
			for (i = 0; i < nlive; i++)
				if (live_fds[i] != fd &&
				    queue(live_fds[i], p, 4 + (size_t)n) != 0)
					return -1;
		}
		buf_consume(&c->in, 4 + (size_t)n);
	}
	return 0;
}

static int
readable(int fd)
{
	struct rclient *c = &clients[fd];
	ssize_t n;

	for (;;) {
		if (buf_reserve(&c->in, READ_CHUNK) != 0)
			return -1;
		n = read(fd, buf_tail(&c->in), READ_CHUNK);
		if (n > 0) {
			buf_commit(&c->in, (size_t)n);
			if (forward(fd) != 0)
				return -1;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			buf_shrink(&c->in);     /* idle clients hold none */
			return 0;
		}
		return -1;
	}
}

/* One write per dirty client; what does not go stays queued. */
static void
flush_all(int ep)
{
	struct epoll_event ev;
	struct rclient *c;
	ssize_t n;
	int i, fd;

	for (i = 0; i < ndirty; i++) {
		fd = dirty[i];
		c = &clients[fd];
		c->dirty = 0;
		if (!c->live || buf_size(&c->out) == 0)
			continue;
		n = send(fd, buf_data(&c->out), buf_size(&c->out),
		    MSG_NOSIGNAL);
		if (n > 0)
			buf_consume(&c->out, (size_t)n);
		else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			drop(ep, fd);
			continue;
		}
		ev.events = EPOLLIN | (buf_size(&c->out) > 0 ? EPOLLOUT : 0);
		ev.data.fd = fd;
		(void)epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
		if (buf_size(&c->out) == 0)
			buf_shrink(&c->out);
	}
	ndirty = 0;
}

static void
accept_all(int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, one = 1;

	while ((fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK)) >= 0) {
		len = sizeof(ss);
		if (fd >= MAX_FD) {
			(void)close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			(void)close(fd);
			continue;
		}
		clients[fd].live = 1;
		live_fds[nlive++] = fd;
	}
}

static int
listen_on(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 4096) != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[EVENTS], ev = { .events = EPOLLIN };
	const char *addr = "127.0.0.1";
	int ch, port = 0, ep, lfd, n, i, fd;

	while ((ch = getopt(argc, argv, "a:p:")) != -1) {
		if (ch == 'a')
			addr = optarg;
		else if (ch == 'p')
			port = (int)strtol(optarg, NULL, 10);
		else
			port = -1;
	}
	if (port <= 0 || port > 65535 || optind != argc) {
		(void)fprintf(stderr, "usage: " PROG " [-a ADDR] -p PORT\n");
		return 2;
	}
	if ((lfd = listen_on(addr, port)) < 0 ||
	    (ep = epoll_create1(0)) < 0) {
		(void)fprintf(stderr, PROG ": %s:%d: %s\n", addr, port,
		    strerror(errno));
		return 1;
	}
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0)
		return 1;
	printf(PROG ": listening on %s:%d\n", addr, port);
	(void)fflush(stdout);
	for (;;) {
		if ((n = epoll_wait(ep, evs, EVENTS, -1)) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd)
				accept_all(ep, lfd);
			else if (clients[fd].live && (evs[i].events & EPOLLOUT) &&
			    !clients[fd].dirty) {
				clients[fd].dirty = 1;
				dirty[ndirty++] = fd;
			}
			if (fd != lfd && clients[fd].live &&
			    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
			    readable(fd) != 0)
				drop(ep, fd);
		}
		flush_all(ep);
	}
}
