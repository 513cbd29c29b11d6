/*
 * missive-bench: the load generator of bench/suite.sh.  One process, one
 * epoll loop, many connections to a missive server or to one of its peers
 * (Redis pub/sub, Redis Streams, Mosquitto, the bare relay of
 * bench/relay.c), all carrying the same payloads (bench/proto.c).
 *
 *   missive-bench fanout    -P PROTO -S S [-s SIZES] [-d SECS]
 *   missive-bench durable   -P missive|streams -S S [-s SIZES] [-d SECS]
 *   missive-bench stored    -P missive|streams [-S S] [-r RATE] [-s SIZE] [-d SECS]
 *   missive-bench catchup   -P missive|streams [-n N] [-s SIZE] [--pid PID]
 *   missive-bench latency   -P PROTO [-M MEMBERS] [-r RATE] [-s SIZE] [-d SECS]
 *   missive-bench conns     -P PROTO -n N [--pid PID] [--ramp R]
 *   missive-bench handshake -n N [--parallel P] [--pid PID]
 *   missive-bench login     -n N [--parallel P] [-d SECS] [--pid PID]
 *   missive-bench argon2    [-m KIB] [-t T] [-n RUNS]
 *
 * Every mode but argon2 takes -a ADDR -p PORT; with PROTO missive (the
 * default) also --server-key PUB -k KEYDIR [-u PREFIX] [--first F]
 * [--accounts K]: account F + i % K (tests/tools/load.h names, made by
 * tests/tools/load-setup) logs in connection i, with the login secret
 * load-setup cached beside its key (derived once at set-up: the login
 * figures measure the server's Argon2id, not the client's).
 *
 * fanout: one sender, S receivers in one room (channel, topic); for each
 * payload size (default 64,1024) the sender publishes for SECS seconds
 * (default 2), never more than a window of messages ahead of the slowest
 * receiver, so that nothing is dropped; then every receiver must have
 * them all; for missive and Streams the window also counts what is not
 * yet stored (1020, XADD's answer), and the run also waits for that.
 * durable: the same into a room of S members of which half (the even
 * members: always the same accounts) are offline: they joined (Streams:
 * made their consumer group) and left before the run, and their rows are
 * stored, never read.  stored: one sender, RATE (default 10) lines a
 * second into such a room of S (default 10) for SECS; percentiles of send
 * to stored.  catchup: one member away while N (default 1) lines are
 * stored for it, then it logs in and drains them; time, rate and the
 * server's RSS before, at its highest and after.  Each mode has a room of
 * its own (fan10, dur100, ..., a stream per run).  latency: MEMBERS (default 100) each publish RATE (default
 * 10) messages a second for SECS (default 3) into the room; every payload
 * carries its send time and the receivers compute percentiles.  conns: N
 * connections set up (missive: logged in, out of the lobby) and held;
 * the server's RSS (--pid) before and after.  handshake, login: N cycles,
 * P at a time (default 50; login: or for SECS): connect and handshake
 * (and log in, quit), with the server's CPU time per cycle.  argon2: the
 * CPU time of one Argon2id hash (default m=19456 KiB, t=2, p=1: missive's).
 *
 * Output: "RESULT" lines of key=value pairs that bench/suite.sh collects.
 * Exit status 0 when nothing was lost and nothing failed, 1 otherwise,
 * 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/rand.h>

#include "bench/bench.h"
#include "common/err.h"
#include "common/secret.h"
#include "keydist/keys.h"
#include "tests/tools/load.h"

#define PROG "missive-bench"
#define EVENTS 512
#define READ_CHUNK 65536
#define SETUP_TIMEOUT_NS (400LL * 1000000000)
#define DRAIN_TIMEOUT_NS (10LL * 1000000000)
#define WINDOW_BYTES ((size_t)256 * 1024)
#define WINDOW_DELIVERIES 100000
#define PAYLOAD_MAX 4096
#define NS 1000000000LL

enum mode { MD_FANOUT, MD_LATENCY, MD_CONNS, MD_HANDSHAKE, MD_LOGIN,
	MD_ARGON2, MD_DURABLE, MD_STORED, MD_CATCHUP };

struct opts {
	enum mode mode;
	unsigned s, members, rate, n, parallel, ramp, runs, tcost, mkib;
	double secs;
	int secs_set;                   /* -d given */
	char sizes[64];
	int pid;
	const char *keydir, *server_pub;
};

struct run {
	struct bench b;
	struct opts o;
	struct bconn *c;
	size_t n;                       /* connections (or cycle slots) */
	size_t started;                 /* connections begun */
	int ep;
	struct sockaddr_in sa;
	char room[64];                  /* the mode's room (stream) */
	unsigned long cycles;           /* cycle modes: begun */
	int64_t deadline;               /* cycle modes with -d */
};

static double proc_cpu_s(int pid);
static long proc_rss_kb(int pid);

static const char *const proto_names[] = { "missive", "redis", "mqtt",
	"relay", "streams" };

int64_t
bench_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

void
bench_payload(char *buf, size_t size, int64_t t, unsigned m)
{
	char head[32];

	(void)snprintf(head, sizeof(head), "%016llx%04u",
	    (unsigned long long)t, m % 10000);
	memset(buf, 'x', size);
	memcpy(buf, head, size < 20 ? size : 20);
}

void
bench_sample(struct bench *b, int64_t ns)
{
	uint32_t *nl;

	if (b->nlat == b->caplat) {
		b->caplat = b->caplat ? 2 * b->caplat : 65536;
		if ((nl = realloc(b->lat, b->caplat * sizeof(*nl))) == NULL) {
			b->caplat = b->nlat;
			return;
		}
		b->lat = nl;
	}
	b->lat[b->nlat++] = (uint32_t)(ns / 1000);
}

void
bench_deliver(struct bconn *c, const char *p, size_t n)
{
	struct bench *b = c->b;
	unsigned long long t;
	unsigned long m;
	char head[21], *end;

	if (b->latency) {
		if (n < 20)
			return;
		memcpy(head, p, 20);
		head[20] = '\0';
		m = strtoul(head + 16, &end, 10);
		head[16] = '\0';
		if (*end != '\0' || m == c->member)
			return;         /* our own, echoed (Redis, MQTT) */
		t = strtoull(head, &end, 16);
		if (*end != '\0')
			return;
		bench_sample(b, bench_now_ns() - (int64_t)t);
	}
	c->got++;
	b->deliveries++;
}

int
bench_sent_at(struct bench *b, unsigned long long k)
{
	int64_t *n;

	if (k >= b->cap_sent_at) {
		b->cap_sent_at = b->cap_sent_at ? 2 * b->cap_sent_at : 65536;
		if ((n = realloc(b->sent_at, b->cap_sent_at * sizeof(*n))) ==
		    NULL)
			return -1;
		b->sent_at = n;
	}
	b->sent_at[k] = bench_now_ns();
	return 0;
}

void
bench_stored(struct bench *b, unsigned long long k)
{
	b->t_stored = bench_now_ns();
	if (b->store_latency && k < b->lines)
		bench_sample(b, b->t_stored - b->sent_at[k]);
	b->stored++;
}

/* ---- connections ---- */

static void
watch(struct run *rn, struct bconn *c, int out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0),
	    .data.ptr = c };

	if (c->epout != out && epoll_ctl(rn->ep, EPOLL_CTL_MOD, c->fd,
	    &ev) == 0)
		c->epout = out;
}

static void
bc_close(struct bconn *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	proto_free(c);
}

static int
bc_connect(struct run *rn, struct bconn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->b = &rn->b;
	c->state = BS_CONNECTING;
	c->step = 0;
	c->got = 0;
	c->epout = 1;
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((connect(c->fd, (struct sockaddr *)&rn->sa, sizeof(rn->sa)) != 0 &&
	    errno != EINPROGRESS) ||
	    epoll_ctl(rn->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		(void)fprintf(stderr, PROG ": connect: %s\n", strerror(errno));
		bc_close(c);
		c->state = BS_FAILED;
		return -1;
	}
	return 0;
}

/* Seal what is queued and write what can go. */
static int
bc_write(struct run *rn, struct bconn *c)
{
	ssize_t n;

	if (proto_flush(c) != 0)
		return -1;
	while (buf_size(&c->out) > 0) {
		n = send(c->fd, buf_data(&c->out), buf_size(&c->out),
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -1;
		buf_consume(&c->out, (size_t)n);
	}
	watch(rn, c, buf_size(&c->out) > 0);
	if (!rn->b.keep_buffers)
		buf_shrink(&c->out);
	return 0;
}

static int
bc_read(struct bconn *c)
{
	ssize_t n;

	for (;;) {
		if (buf_reserve(&c->in, READ_CHUNK) != 0)
			return -1;
		n = recv(c->fd, buf_tail(&c->in), READ_CHUNK, 0);
		if (n > 0) {
			buf_commit(&c->in, (size_t)n);
			if (proto_input(c) != 0)
				return -1;
			if (c->state == BS_DONE)
				return 0;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		return -1;      /* EOF or error */
	}
	if (!c->b->keep_buffers)
		buf_shrink(&c->in);
	return 0;
}

static int
bc_connected(struct bconn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
	    err != 0) {
		(void)fprintf(stderr, PROG ": connect: %s\n", strerror(err));
		return -1;
	}
	return proto_start(c);
}

/* Count c's change of state; close it when it is over. */
static void
settle(struct run *rn, struct bconn *c, enum bstate was)
{
	if (c->state == BS_READY && was != BS_READY)
		rn->b.ready++;
	if (c->state == BS_DONE) {
		rn->b.done++;
		bc_close(c);
	} else if (c->state == BS_FAILED) {
		rn->b.failed++;
		bc_close(c);
	}
}

static void
on_event(struct run *rn, struct bconn *c, uint32_t ev)
{
	enum bstate was = c->state;
	int r = 0;

	if (c->fd < 0)
		return;
	if (c->state == BS_CONNECTING) {
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		r = bc_connected(c);
	}
	if (r == 0 && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		r = bc_read(c);
	if (r == 0 || c->state == BS_DONE)
		r = bc_write(rn, c);
	if (r != 0 && c->state != BS_DONE) {
		if (rn->b.failed < 5)
			(void)fprintf(stderr, PROG ": connection %u (account "
			    "%u) failed in state %d/%d\n", c->member,
			    c->account, c->state, c->step);
		c->state = BS_FAILED;
	}
	settle(rn, c, was);
}

/* One pass: wait up to ms for events and handle them. */
static int
pump(struct run *rn, int ms)
{
	struct epoll_event evs[EVENTS];
	int n, i;

	if ((n = epoll_wait(rn->ep, evs, EVENTS, ms)) < 0)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++)
		on_event(rn, evs[i].data.ptr, evs[i].events);
	return 0;
}

/* Start connections while fewer than ramp are being set up. */
static void
start_more(struct run *rn)
{
	while (rn->started < rn->n && rn->started - rn->b.ready -
	    rn->b.done - rn->b.failed < rn->o.ramp)
		if (bc_connect(rn, &rn->c[rn->started++]) != 0)
			rn->b.failed++;
}

/*
 * Connect every connection; 0 once all are ready (or, members that go
 * offline, done).  With warm, the
 * server's RSS (--pid) in warm[0] when a tenth are ready, and how many
 * were then in warm[1].
 */
static int
setup_all(struct run *rn, long *warm)
{
	int64_t t0 = bench_now_ns();

	while (rn->b.ready + rn->b.done < rn->n) {
		if (warm != NULL && warm[1] == 0 && rn->b.ready >= rn->n / 10) {
			warm[0] = proc_rss_kb(rn->o.pid);
			warm[1] = (long)rn->b.ready;
		}
		start_more(rn);
		if (rn->b.failed > 0 || bench_now_ns() - t0 > SETUP_TIMEOUT_NS) {
			(void)fprintf(stderr, PROG ": set-up: %lu of %zu ready, "
			    "%lu failed\n", rn->b.ready, rn->n, rn->b.failed);
			return -1;
		}
		if (pump(rn, 100) != 0)
			return -1;
	}
	return 0;
}

static int
alloc_conns(struct run *rn, size_t n)
{
	size_t i;

	rn->n = n;
	if ((rn->c = calloc(n, sizeof(*rn->c))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		rn->c[i].fd = -1;
		rn->c[i].b = &rn->b;
		rn->c[i].member = (unsigned)i;
		rn->c[i].account = rn->b.first + (unsigned)(i %
		    (rn->b.naccounts ? rn->b.naccounts : 1));
	}
	return 0;
}

/* ---- fan-out ---- */

/* A connection that receives (online), not the sender. */
static int
receives(const struct bconn *c)
{
	return c->role == R_SUB || c->role == R_BOTH;
}

static size_t
online(const struct run *rn)
{
	size_t i, n = 0;

	for (i = 0; i < rn->n; i++)
		n += receives(&rn->c[i]);
	return n;
}

/* The fewest deliveries at one receiver; for a store-and-forward server
   also no more than it has stored. */
static unsigned long long
min_got(const struct run *rn)
{
	unsigned long long m = ULLONG_MAX;
	size_t i;

	for (i = 0; i < rn->n; i++)
		if (receives(&rn->c[i]) && rn->c[i].got < m)
			m = rn->c[i].got;
	if ((rn->b.proto == P_MISSIVE || rn->b.proto == P_STREAMS) &&
	    rn->b.stored < m)
		m = rn->b.stored;
	return m;
}

/* Member i of a room with half of its members offline (the even ones:
   the same accounts in every room); 0 is the sender. */
static void
half_offline(struct run *rn)
{
	size_t i;

	rn->c[0].role = R_PUB;
	for (i = 1; i < rn->n; i++)
		rn->c[i].role = i % 2 ? R_SUB : R_ENROL;
}

/* CPU seconds this process has used. */
static double
self_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
fanout_report(const struct run *rn, size_t size, unsigned long long sent,
    unsigned long long want, int64_t ns, int64_t t0, double srv_cpu,
    double own_cpu)
{
	const struct bench *b = &rn->b;

	printf("RESULT mode=%s proto=%s S=%zu online=%zu size=%zu sent=%llu "
	    "delivered=%llu lost=%llu secs=%.3f rate=%.0f stored=%llu "
	    "refused=%llu stored_rate=%.0f server_cpu_s=%.3f "
	    "server_ns_each=%.0f bench_cpu_s=%.3f\n",
	    rn->o.mode == MD_DURABLE ? "durable" : "fanout",
	    proto_names[b->proto], rn->n - 1, online(rn), size, sent,
	    b->deliveries, want - b->deliveries, (double)ns / NS,
	    (double)b->deliveries * NS / (double)ns, b->stored, b->refused,
	    b->stored && b->t_stored > t0 ? (double)b->stored * NS /
	    (double)(b->t_stored - t0) : 0, srv_cpu,
	    b->deliveries ? srv_cpu * 1e9 / (double)b->deliveries : 0,
	    own_cpu);
	(void)fflush(stdout);
}

/* Everything sent has arrived everywhere (and is stored). */
static int
all_in(const struct run *rn, unsigned long long sent,
    unsigned long long want)
{
	return rn->b.deliveries >= want &&
	    ((rn->b.proto != P_MISSIVE && rn->b.proto != P_STREAMS) ||
	    rn->b.stored + rn->b.refused >= sent);
}

/* One size: publish for secs, then wait until every receiver has all. */
static int
fanout_size(struct run *rn, size_t size)
{
	static char payload[PAYLOAD_MAX];
	struct bconn *snd = &rn->c[0];
	unsigned long long window, sent = 0, low, k, want;
	size_t i, receivers = online(rn);
	int64_t t0, t_end, t_last;
	double cpu0 = proc_cpu_s(rn->o.pid), own0 = self_cpu_s();

	/* Per receiver, and at most ~100k deliveries in flight in all:
	   a slow broker must drain the window within DRAIN_TIMEOUT_NS. */
	window = WINDOW_BYTES / (size + 160);
	if (receivers > 0 && window > WINDOW_DELIVERIES / receivers)
		window = WINDOW_DELIVERIES / receivers;
	if (window < 8)
		window = 8;
	bench_payload(payload, size, 0, 0);
	for (i = 0; i < rn->n; i++)
		rn->c[i].got = 0;
	rn->b.deliveries = rn->b.sent = rn->b.stored = rn->b.refused = 0;
	t0 = bench_now_ns();
	t_end = t0 + (int64_t)(rn->o.secs * NS);
	while (bench_now_ns() < t_end) {
		low = min_got(rn);
		for (k = sent - low; k < window; k++, sent++)
			if (proto_publish(snd, payload, size) != 0)
				return -1;
		if (bc_write(rn, snd) != 0 || pump(rn, 1) != 0 ||
		    rn->b.failed > 0)
			return -1;
	}
	want = sent * receivers;
	while (!all_in(rn, sent, want) && rn->b.failed == 0 &&
	    bench_now_ns() - t_end < DRAIN_TIMEOUT_NS)
		if (pump(rn, 10) != 0)
			return -1;
	t_last = bench_now_ns();
	fanout_report(rn, size, sent, want, t_last - t0, t0,
	    proc_cpu_s(rn->o.pid) - cpu0, self_cpu_s() - own0);
	return all_in(rn, sent, want) && rn->b.refused == 0 ? 0 : -1;
}

/* fanout: S receivers; durable: S members, half of them offline. */
static int
run_fanout(struct run *rn)
{
	char sizes[sizeof(rn->o.sizes)], *tok, *save = NULL;
	unsigned long v;
	size_t i;
	int r = 0;

	if (alloc_conns(rn, (size_t)rn->o.s + 1) != 0)
		return -1;
	rn->b.keep_buffers = 1;
	rn->c[0].role = R_PUB;
	for (i = 1; i < rn->n; i++)
		rn->c[i].role = R_SUB;
	if (rn->o.mode == MD_DURABLE)
		half_offline(rn);
	if (setup_all(rn, NULL) != 0)
		return -1;
	(void)snprintf(sizes, sizeof(sizes), "%s", rn->o.sizes);
	for (tok = strtok_r(sizes, ",", &save); tok != NULL && r == 0;
	    tok = strtok_r(NULL, ",", &save)) {
		v = strtoul(tok, NULL, 10);
		if (v < 20 || v > PAYLOAD_MAX || v % 4 != 0)
			return -1;
		r = fanout_size(rn, v);
	}
	return r;
}

/* ---- latency ---- */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
pct(const struct bench *b, double p)
{
	size_t i = (size_t)(p * (double)b->nlat);

	return b->nlat == 0 ? 0 : b->lat[i < b->nlat ? i : b->nlat - 1];
}

/* The connection member m sends on. */
static struct bconn *
sender_of(struct run *rn, unsigned m)
{
	return rn->b.proto == P_REDIS ? &rn->c[2 * m + 1] : &rn->c[m];
}

/* Members send when their time comes; returns ms to the next send. */
static int
latency_send(struct run *rn, int64_t *next, int64_t period, size_t size)
{
	char payload[PAYLOAD_MAX];
	int64_t now = bench_now_ns(), first = INT64_MAX;
	struct bconn *c;
	unsigned m;

	for (m = 0; m < rn->o.members; m++) {
		if (next[m] <= now) {
			c = sender_of(rn, m);
			bench_payload(payload, size, bench_now_ns(), m);
			if (proto_publish(c, payload, size) != 0 ||
			    bc_write(rn, c) != 0)
				return -1;
			next[m] += period;
		}
		if (next[m] < first)
			first = next[m];
	}
	now = bench_now_ns();
	return first <= now ? 0 : (int)((first - now) / 1000000);
}

static void
latency_report(struct run *rn, const char *mode, unsigned members,
    unsigned long long want)
{
	struct bench *b = &rn->b;

	if (b->nlat > 0)
		qsort(b->lat, b->nlat, sizeof(*b->lat), cmp_u32);
	printf("RESULT mode=%s proto=%s members=%u rate=%u sent=%llu "
	    "stored=%llu refused=%llu delivered=%llu lost=%llu samples=%zu "
	    "p50=%u p99=%u p999=%u max=%u\n", mode, proto_names[b->proto],
	    members, rn->o.rate, b->sent, b->stored, b->refused,
	    b->deliveries, want - b->deliveries, b->nlat, pct(b, 0.5),
	    pct(b, 0.99), pct(b, 0.999), b->nlat ? b->lat[b->nlat - 1] : 0);
	(void)fflush(stdout);
}

static int
run_latency(struct run *rn)
{
	unsigned m, per = rn->b.proto == P_REDIS ? 2 : 1;
	struct bconn *c;
	int64_t *next, period = NS / rn->o.rate, t_end;
	unsigned long long want;
	size_t size = strtoul(rn->o.sizes, NULL, 10);
	int ms, r = -1;

	if (size < 20 || size > PAYLOAD_MAX || size % 4 != 0 ||
	    alloc_conns(rn, (size_t)rn->o.members * per) != 0 ||
	    (next = calloc(rn->o.members, sizeof(*next))) == NULL)
		return -1;
	rn->b.keep_buffers = 1;
	for (m = 0; m < rn->o.members; m++) {
		c = &rn->c[(size_t)m * per];
		c->member = m;
		c->role = per == 2 ? R_SUB : R_BOTH;
		if (per == 2) {
			c[1].member = m;
			c[1].role = R_PUB;
		}
	}
	if (setup_all(rn, NULL) != 0)
		goto out;
	rn->b.latency = 1;
	rn->b.sent = rn->b.deliveries = 0;
	t_end = bench_now_ns() + (int64_t)(rn->o.secs * NS);
	/* Spread the members' sends evenly over one period. */
	for (m = 0; m < rn->o.members; m++)
		next[m] = bench_now_ns() + period * m / rn->o.members;
	while (bench_now_ns() < t_end) {
		if ((ms = latency_send(rn, next, period, size)) < 0 ||
		    pump(rn, ms > 10 ? 10 : ms) != 0 || rn->b.failed > 0)
			goto out;
	}
	want = rn->b.sent * (rn->o.members - 1);
	while (rn->b.deliveries < want && rn->b.failed == 0 &&
	    bench_now_ns() - t_end < DRAIN_TIMEOUT_NS)
		if (pump(rn, 10) != 0)
			goto out;
	latency_report(rn, "latency", rn->o.members, want);
	r = rn->b.deliveries == want ? 0 : -1;
out:
	free(next);
	return r;
}

/* ---- the durable send: send to stored ---- */

/* Wait (at most DRAIN_TIMEOUT_NS) until all is in; 1 if it is. */
static int
drain(struct run *rn, unsigned long long want)
{
	int64_t t = bench_now_ns();

	while (!all_in(rn, rn->b.sent, want) && rn->b.failed == 0 &&
	    bench_now_ns() - t < DRAIN_TIMEOUT_NS)
		if (pump(rn, 10) != 0)
			return 0;
	return all_in(rn, rn->b.sent, want);
}

/*
 * stored: one sender, RATE lines a second for SECS into a room of S
 * members, half of them offline; the samples are send to 1020 (missive)
 * or to XADD's answer (Streams, appendfsync always).
 */
static int
run_stored(struct run *rn)
{
	char payload[PAYLOAD_MAX];
	size_t size = strtoul(rn->o.sizes, NULL, 10);
	int64_t period = NS / rn->o.rate, next, t_end, now;
	unsigned long long want;
	int ok;

	if (size < 20 || size > PAYLOAD_MAX || size % 4 != 0 ||
	    alloc_conns(rn, (size_t)rn->o.s + 1) != 0)
		return -1;
	rn->b.keep_buffers = 1;
	half_offline(rn);
	if (setup_all(rn, NULL) != 0)
		return -1;
	rn->b.store_latency = 1;
	bench_payload(payload, size, 0, 0);
	next = bench_now_ns();
	t_end = next + (int64_t)(rn->o.secs * NS);
	while ((now = bench_now_ns()) < t_end) {
		for (; next <= now; next += period)
			if (proto_publish(&rn->c[0], payload, size) != 0)
				return -1;
		if (bc_write(rn, &rn->c[0]) != 0 ||
		    pump(rn, (int)((next - bench_now_ns() + 999999) /
		    1000000)) != 0 || rn->b.failed > 0)
			return -1;
	}
	want = rn->b.sent * online(rn);
	ok = drain(rn, want);
	latency_report(rn, "stored", rn->o.s, want);
	return ok && rn->b.refused == 0 ? 0 : -1;
}

/* ---- catch-up ---- */

#define CATCHUP_WINDOW 1000             /* lines not yet stored */
#define CATCHUP_BATCH 1000              /* Streams: XREADGROUP COUNT */
#define RSS_EVERY_MS 50

/* Rows dev has of the backlog (missive: rows up to 1022's last). */
static unsigned long long
drained(const struct bconn *dev)
{
	return dev->b->proto == P_MISSIVE ? dev->backlog_got : dev->got;
}

/* The sender stores n lines while dev is away. */
static int
catchup_fill(struct run *rn, unsigned long long n, size_t size)
{
	static char payload[PAYLOAD_MAX];
	int64_t t0 = bench_now_ns();

	bench_payload(payload, size, 0, 0);
	while (rn->b.stored < n) {
		for (; rn->b.sent < n &&
		    rn->b.sent - rn->b.stored < CATCHUP_WINDOW;)
			if (proto_publish(&rn->c[0], payload, size) != 0)
				return -1;
		if (bc_write(rn, &rn->c[0]) != 0 || pump(rn, 10) != 0 ||
		    rn->b.failed > 0 || rn->b.refused > 0 ||
		    bench_now_ns() - t0 > SETUP_TIMEOUT_NS)
			return -1;
	}
	return 0;
}

/*
 * catchup: member 1 joins the room and goes offline, the sender stores
 * N lines (a window of CATCHUP_WINDOW not yet stored), then member 1
 * comes back and drains them (missive: 1022, then the backlog, which it
 * acknowledges as it goes; Streams: XREADGROUP COUNT 1000 and XACK).
 * The time from its connect to the last row; the server's RSS (--pid)
 * before, at its highest (every RSS_EVERY_MS) and after.
 */
static int
run_catchup(struct run *rn)
{
	size_t size = strtoul(rn->o.sizes, NULL, 10);
	unsigned long long n = rn->o.n;
	struct bconn *dev;
	long rss0, rss, peak, rss1;
	int64_t f0, f1, t0, t1;

	if (size < 20 || size > PAYLOAD_MAX || size % 4 != 0 ||
	    alloc_conns(rn, 2) != 0)
		return -1;
	rn->b.keep_buffers = 1;
	rn->b.batch = CATCHUP_BATCH;
	dev = &rn->c[1];
	rn->c[0].role = R_PUB;
	dev->role = R_ENROL;
	if (setup_all(rn, NULL) != 0)
		return -1;
	f0 = bench_now_ns();
	if (catchup_fill(rn, n, size) != 0) {
		(void)fprintf(stderr, PROG ": catch-up: %llu of %llu stored\n",
		    rn->b.stored, n);
		return -1;
	}
	f1 = bench_now_ns();
	peak = rss0 = proc_rss_kb(rn->o.pid);
	dev->role = R_SUB;
	t0 = bench_now_ns();
	if (bc_connect(rn, dev) != 0)
		return -1;
	while (drained(dev) < n) {
		if (pump(rn, RSS_EVERY_MS) != 0 || rn->b.failed > 0 ||
		    bench_now_ns() - t0 > SETUP_TIMEOUT_NS) {
			(void)fprintf(stderr, PROG ": catch-up: %llu of %llu "
			    "rows\n", dev->got + dev->backlog_got, n);
			return -1;
		}
		if ((rss = proc_rss_kb(rn->o.pid)) > peak)
			peak = rss;
	}
	t1 = bench_now_ns();
	/* The last acknowledgement goes out; then the server settles. */
	while (bench_now_ns() - t1 < NS / 2)
		if (pump(rn, 100) != 0)
			return -1;
	rss1 = proc_rss_kb(rn->o.pid);
	printf("RESULT mode=catchup proto=%s n=%llu rows=%llu size=%zu "
	    "secs=%.3f rate=%.0f rss_before_kb=%ld rss_peak_kb=%ld "
	    "rss_after_kb=%ld fill_secs=%.2f fill_rate=%.0f\n",
	    proto_names[rn->b.proto], n, drained(dev), size,
	    (double)(t1 - t0) / NS, (double)drained(dev) * NS /
	    (double)(t1 - t0), rss0, peak, rss1, (double)(f1 - f0) / NS,
	    (double)n * NS / (double)(f1 - f0));
	(void)fflush(stdout);
	return 0;
}

/* ---- connections ---- */

/* The number after "key" on its line of a /proc file (kB), or -1. */
static long
proc_field(const char *path, const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, n) == 0) {
			v = strtol(line + n, NULL, 10);
			break;
		}
	(void)fclose(f);
	return v;
}

static long
proc_rss_kb(int pid)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return pid > 0 ? proc_field(path, "VmRSS:") : -1;
}

/* utime + stime of PID in seconds (/proc/PID/stat). */
static double
proc_cpu_s(int pid)
{
	char path[64], buf[1024], *p, *save = NULL;
	unsigned long ut = 0, st = 0;
	size_t n;
	int field;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	/* After "(comm) ": state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	field = 2;
	for (p = strtok_r(p + 1, " ", &save); p != NULL && field < 15;
	    p = strtok_r(NULL, " ", &save)) {
		if (++field == 14)
			ut = strtoul(p, NULL, 10);
		else if (field == 15)
			st = strtoul(p, NULL, 10);
	}
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The kernel's slab memory in kB (sockets live there), or -1. */
static long
slab_kb(void)
{
	return proc_field("/proc/meminfo", "Slab:");
}

/*
 * RSS per connection is measured from the moment a tenth of them are
 * logged in: the first logins also grow the server once and for all
 * (the workers' Argon2id memory stays in their malloc arenas, database
 * and OpenSSL state), which is not what a connection costs.  The figure
 * from before the first connection is printed too.
 */
static int
run_conns(struct run *rn)
{
	long before = proc_rss_kb(rn->o.pid), after, warm[2] = { 0, 0 };
	long kmem0 = slab_kb(), kmem1;
	int64_t t0 = bench_now_ns(), t1, hold;
	size_t i;

	if (alloc_conns(rn, rn->o.n) != 0)
		return -1;
	for (i = 0; i < rn->n; i++)
		rn->c[i].role = R_IDLE;
	rn->b.room = NULL;
	if (setup_all(rn, warm) != 0)
		return -1;
	t1 = bench_now_ns();
	/* Let the server settle (queues drained, shrunk), then measure. */
	hold = t1 + NS + NS / 2;
	while (bench_now_ns() < hold)
		if (pump(rn, 100) != 0)
			return -1;
	after = proc_rss_kb(rn->o.pid);
	kmem1 = slab_kb();
	/* Both ends' sockets are on this machine: the slab grows by two
	   sockets a connection (noisy: other processes use it too). */
	printf("RESULT mode=conns proto=%s n=%zu ready=%lu secs=%.2f "
	    "rate=%.0f rss_before_kb=%ld rss_warm_kb=%ld warm_n=%ld "
	    "rss_after_kb=%ld per_conn_kb=%.3f from_start_kb=%.3f "
	    "kernel_per_socket_kb=%.3f\n",
	    proto_names[rn->b.proto], rn->n, rn->b.ready,
	    (double)(t1 - t0) / NS, (double)rn->n * NS / (double)(t1 - t0),
	    before, warm[0], warm[1], after,
	    (double)(after - warm[0]) / (double)((long)rn->n - warm[1]),
	    (double)(after - before) / (double)rn->n,
	    (double)(kmem1 - kmem0) / (2.0 * (double)rn->n));
	(void)fflush(stdout);
	return 0;
}

/* ---- handshake and login cycles ---- */

static int
cycle_refill(struct run *rn, enum role role)
{
	struct bconn *c;
	size_t i;

	for (i = 0; i < rn->n; i++) {
		c = &rn->c[i];
		if (c->fd >= 0)
			continue;
		if (rn->cycles >= rn->o.n ||
		    (rn->deadline != 0 && bench_now_ns() >= rn->deadline))
			continue;
		c->role = role;
		c->account = rn->b.first + (unsigned)(rn->cycles %
		    rn->b.naccounts);
		rn->cycles++;
		if (bc_connect(rn, c) != 0)
			rn->b.failed++;
	}
	return 0;
}

static int
run_cycles(struct run *rn, enum role role)
{
	double cpu0 = proc_cpu_s(rn->o.pid), cpu;
	int64_t t0 = bench_now_ns(), t;
	size_t i;

	if (alloc_conns(rn, rn->o.parallel) != 0)
		return -1;
	if (rn->o.secs_set)
		rn->deadline = t0 + (int64_t)(rn->o.secs * NS);
	for (;;) {
		(void)cycle_refill(rn, role);
		for (i = 0; i < rn->n && rn->c[i].fd < 0; i++)
			;
		if (i == rn->n)
			break;
		if (pump(rn, 100) != 0 || bench_now_ns() - t0 >
		    SETUP_TIMEOUT_NS)
			return -1;
	}
	t = bench_now_ns() - t0;
	cpu = proc_cpu_s(rn->o.pid) - cpu0;
	printf("RESULT mode=%s n=%lu parallel=%zu done=%lu failed=%lu "
	    "secs=%.2f rate=%.1f server_cpu_ms_each=%.3f\n",
	    role == R_HANDSHAKE ? "handshake" : "login", rn->cycles, rn->n,
	    rn->b.done, rn->b.failed, (double)t / NS,
	    (double)rn->b.done * NS / (double)t,
	    rn->b.done ? cpu * 1000 / (double)rn->b.done : 0);
	(void)fflush(stdout);
	return rn->b.failed == 0 ? 0 : -1;
}

/* ---- Argon2id ---- */

/* CPU time of this process in ns: a busy machine does not inflate it. */
static int64_t
cpu_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* The best of runs hashes, in CPU time (as openssl speed counts). */
static int
run_argon2(const struct opts *o)
{
	static const char pw[] = "bench-password";
	uint8_t salt[16] = { 0 }, out[32];
	int64_t t, w, best = INT64_MAX, wall = INT64_MAX;
	unsigned i;

	for (i = 0; i < o->runs; i++) {
		t = cpu_now_ns();
		w = bench_now_ns();
		if (argon2id_hash_raw(o->tcost, o->mkib, 1, pw, sizeof(pw) - 1,
		    salt, sizeof(salt), out, sizeof(out)) != ARGON2_OK)
			return -1;
		t = cpu_now_ns() - t;
		w = bench_now_ns() - w;
		if (t < best)
			best = t;
		if (w < wall)
			wall = w;
	}
	printf("RESULT mode=argon2 m=%u t=%u p=1 ms=%.2f wall_ms=%.2f\n",
	    o->mkib, o->tcost, (double)best / 1e6, (double)wall / 1e6);
	return 0;
}

/* ---- set-up ---- */

static void __attribute__((noreturn))
usage(void)
{
	(void)fprintf(stderr,
	    "usage: " PROG " fanout|latency|conns|handshake|login|argon2|"
	    "durable|stored|catchup\n"
	    "           [-P missive|redis|mqtt|relay|streams]\n"
	    "           -a ADDR -p PORT [-S S] [-s SIZES] [-d SECS] [-M MEMBERS] "
	    "[-r RATE] [-n N]\n"
	    "           [--parallel P] [--ramp R] [--pid PID] [-m KIB] [-t T]\n"
	    "           [--server-key PUB -k KEYDIR "
	    "[-u PREFIX] [--first F] [--accounts K]]\n");
	exit(2);
}

static unsigned
num(const char *s, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v > max)
		usage();
	return (unsigned)v;
}

static enum mode
mode_of(const char *s)
{
	static const char *const names[] = { "fanout", "latency", "conns",
		"handshake", "login", "argon2", "durable", "stored", "catchup" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (enum mode)i;
	usage();
}

static enum proto
proto_of(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (strcmp(s, proto_names[i]) == 0)
			return (enum proto)i;
	usage();
}

static void
parse(struct run *rn, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "parallel", required_argument, NULL, 'L' },
		{ "ramp", required_argument, NULL, 'R' },
		{ "pid", required_argument, NULL, 'I' },
		{ "server-key", required_argument, NULL, 'K' },
		{ "first", required_argument, NULL, 'F' },
		{ "accounts", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts *o = &rn->o;
	int ch;

	if (argc < 2)
		usage();
	o->mode = mode_of(argv[1]);
	optind = 2;
	while ((ch = getopt_long(argc, argv, "P:a:p:S:s:d:M:r:n:k:u:m:t:", lo,
	    NULL)) != -1) {
		switch (ch) {
		case 'P': rn->b.proto = proto_of(optarg); break;
		case 'a': rn->b.addr = optarg; break;
		case 'p': rn->b.port = (int)num(optarg, 65535); break;
		case 'S': o->s = num(optarg, 19000); break;
		case 's': (void)snprintf(o->sizes, sizeof(o->sizes), "%s",
		    optarg); break;
		case 'd':
			o->secs = strtod(optarg, NULL);
			o->secs_set = 1;
			break;
		case 'M': o->members = num(optarg, 5000); break;
		case 'r': o->rate = num(optarg, 1000000); break;
		case 'n': o->n = num(optarg, 100000000); break;
		case 'k': o->keydir = optarg; break;
		case 'u': rn->b.prefix = optarg; break;
		case 'm': o->mkib = num(optarg, 4194304); break;
		case 't': o->tcost = num(optarg, 100); break;
		case 'L': o->parallel = num(optarg, 19000); break;
		case 'R': o->ramp = num(optarg, 19000); break;
		case 'I': o->pid = (int)num(optarg, INT_MAX); break;
		case 'K': o->server_pub = optarg; break;
		case 'F': rn->b.first = num(optarg, LOAD_MAX); break;
		case 'A': rn->b.naccounts = num(optarg, LOAD_MAX); break;
		default: usage();
		}
	}
	if (optind != argc || o->members < 2 || o->rate == 0 ||
	    o->parallel == 0 || o->ramp == 0 || o->runs == 0 ||
	    (o->mode != MD_ARGON2 && rn->b.port == 0))
		usage();
}

/* The server key and the accounts' keys and login secrets. */
static int
load_keys(struct run *rn)
{
	struct bench *b = &rn->b;
	char path[PATH_MAX];
	unsigned i;
	int r;

	if (rn->o.server_pub == NULL || rn->o.keydir == NULL ||
	    b->naccounts == 0)
		usage();
	if ((r = kd_key_read_public(rn->o.server_pub, &b->server_key)) != 0 ||
	    (b->keys = calloc(b->naccounts, sizeof(EVP_PKEY *))) == NULL ||
	    (b->secrets = calloc(b->naccounts, sizeof(char *))) == NULL) {
		(void)fprintf(stderr, PROG ": keys: %s\n", err_str(r));
		return -1;
	}
	for (i = 0; i < b->naccounts; i++)
		if (load_key_path(path, sizeof(path), rn->o.keydir,
		    b->first + i) != 0 ||
		    (r = kd_key_read_private(path, &b->keys[i])) != 0 ||
		    load_secret_path(path, sizeof(path), rn->o.keydir,
		    b->first + i) != 0 ||
		    (r = secret_read_file(path, &b->secrets[i])) != 0) {
			(void)fprintf(stderr, PROG ": %s: %s\n", path,
			    err_str(r));
			return -1;
		}
	return 0;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * This run's mids (8 random hex digits ahead of the member and the line
 * number: a mid used in an earlier run would be taken for a retry) and
 * the mode's room: its own for each mode and size, since membership is
 * durable (a room of S members stays one).  A stream gets the run's
 * digits too, so that no entry or group of an earlier run is in it.
 */
static int
name_run(struct run *rn)
{
	static const char *const rooms[] = { "fan", "lat", NULL, NULL, NULL,
		NULL, "dur", "sto", "catchup" };
	const char *r = rooms[rn->o.mode];
	unsigned char rnd[4];
	unsigned size = rn->o.mode == MD_LATENCY ? rn->o.members : rn->o.s;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	(void)snprintf(rn->b.mid_run, sizeof(rn->b.mid_run), "%02x%02x%02x%02x",
	    rnd[0], rnd[1], rnd[2], rnd[3]);
	if (r == NULL)
		return 0;
	if (rn->o.mode == MD_CATCHUP)
		size = 0;
	(void)snprintf(rn->room, sizeof(rn->room), "%s%.0u%s%s", r, size,
	    rn->b.proto == P_STREAMS ? "-" : "",
	    rn->b.proto == P_STREAMS ? rn->b.mid_run : "");
	rn->b.room = rn->room;
	return 0;
}

static int
dispatch(struct run *rn)
{
	switch (rn->o.mode) {
	case MD_FANOUT:
		return run_fanout(rn);
	case MD_LATENCY:
		return run_latency(rn);
	case MD_CONNS:
		return run_conns(rn);
	case MD_HANDSHAKE:
		return run_cycles(rn, R_HANDSHAKE);
	case MD_LOGIN:
		return run_cycles(rn, R_LOGIN);
	case MD_ARGON2:
		return run_argon2(&rn->o);
	case MD_DURABLE:
		return run_fanout(rn);
	case MD_STORED:
		return run_stored(rn);
	case MD_CATCHUP:
		return run_catchup(rn);
	}
	return -1;
}

static void
run_free(struct run *rn)
{
	size_t i;

	for (i = 0; rn->c != NULL && i < rn->n; i++)
		bc_close(&rn->c[i]);
	for (i = 0; rn->b.keys != NULL && i < rn->b.naccounts; i++)
		EVP_PKEY_free(rn->b.keys[i]);
	for (i = 0; rn->b.secrets != NULL && i < rn->b.naccounts; i++)
		secret_free(rn->b.secrets[i]);
	free(rn->b.keys);
	free(rn->b.secrets);
	free(rn->c);
	free(rn->b.lat);
	free(rn->b.sent_at);
	EVP_PKEY_free(rn->b.server_key);
	if (rn->ep >= 0)
		(void)close(rn->ep);
}

int
main(int argc, char **argv)
{
	struct run rn = { .o = { .s = 10, .members = 100, .rate = 10,
	    .secs = 2, .sizes = "64,1024", .parallel = 50, .ramp = 64,
	    .runs = 5, .tcost = 2, .mkib = 19456, .n = 1 },
	    .b = { .addr = "127.0.0.1", .prefix = LOAD_PREFIX, .first = 1,
	    .batch = 256 }, .ep = -1 };
	int r = -1;

	parse(&rn, argc, argv);
	if (rn.o.mode == MD_HANDSHAKE || rn.o.mode == MD_LOGIN)
		rn.b.proto = P_MISSIVE;
	if (name_run(&rn) != 0)
		return 1;
	rn.sa.sin_family = AF_INET;
	rn.sa.sin_port = htons((uint16_t)rn.b.port);
	raise_nofile();
	if (rn.o.mode != MD_ARGON2 &&
	    inet_pton(AF_INET, rn.b.addr, &rn.sa.sin_addr) != 1)
		usage();
	if ((rn.o.mode == MD_ARGON2 || rn.b.proto != P_MISSIVE ||
	    load_keys(&rn) == 0) &&
	    (rn.o.mode == MD_ARGON2 || (rn.ep = epoll_create1(0)) >= 0))
		r = dispatch(&rn);
	run_free(&rn);
	return r == 0 ? 0 : 1;
}
