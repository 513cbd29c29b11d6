/*
 * fault-proxy: a TCP relay between clients and the server that damages
 * the client-to-server stream on request, for integration tests.
 *
 *   fault-proxy LISTEN_PORT SERVER_PORT
 *
 * Listens on 127.0.0.1:LISTEN_PORT and relays each accepted connection to
 * 127.0.0.1:SERVER_PORT, one at a time.  Prints "ready" once listening.
 *   SIGUSR1  flip the lowest bit of the last byte of the next chunk from
 *            the client (a record's tag: the record must not authenticate)
 *   SIGUSR2  forward only the first half of the next chunk from the
 *            client, then nothing more from it (a peer dying mid-record)
 * Prints "flipped N" or "cut N" (N: the chunk's size) when it did.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t want_flip, want_cut;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_flip = 1;
	else
		want_cut = 1;
}

/* A TCP port number 1-65535 from the command line, or -1. */
static int
port_arg(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535)
		return -1;
	return (int)v;
}

static int
tcp_socket(int port, int do_listen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, one = 1;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (do_listen) {
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one)) != 0 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    listen(fd, 16) != 0) {
			close(fd);
			return -1;
		}
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Relay one client until either side closes. */
static void
relay(int cfd, int sfd)
{
	struct pollfd pfd[2] = { { cfd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
	char buf[65536];
	int cut = 0;
	ssize_t n;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd[0].revents) {
			if ((n = read(cfd, buf, sizeof(buf))) <= 0)
				return;
			if (cut)
				continue;
			if (want_flip) {
				want_flip = 0;
				buf[n - 1] ^= 1;
				printf("flipped %zd\n", n);
			} else if (want_cut) {
				want_cut = 0;
				cut = 1;
				printf("cut %zd\n", n);
				n /= 2;
			}
			if (write_all(sfd, buf, (size_t)n) != 0)
				return;
		}
		if (pfd[1].revents) {
			if ((n = read(sfd, buf, sizeof(buf))) <= 0 ||
			    write_all(cfd, buf, (size_t)n) != 0)
				return;
		}
	}
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int lfd, cfd, sfd, lport, sport;

	if (argc != 3 || (lport = port_arg(argv[1])) < 0 ||
	    (sport = port_arg(argv[2])) < 0) {
		(void)fprintf(stderr,
		    "usage: fault-proxy LISTEN_PORT SERVER_PORT\n");
		return 2;
	}
	(void)setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) != 0 ||
	    sigaction(SIGUSR2, &sa, NULL) != 0 ||
	    (lfd = tcp_socket(lport, 1)) < 0) {
		perror("fault-proxy");
		return 1;
	}
	printf("ready\n");
	for (;;) {
		if ((cfd = accept(lfd, NULL, NULL)) < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		if ((sfd = tcp_socket(sport, 0)) >= 0) {
			relay(cfd, sfd);
			close(sfd);
		}
		close(cfd);
	}
}
