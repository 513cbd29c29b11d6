/*
 * Unit tests: the client core (client/session.h) against a fake server in
 * this file that speaks over loopback TCP with the real server side of the
 * handshake (kd_hs_server_*) and real records.  Everything runs on one
 * thread: while the fake server waits for bytes it keeps driving the
 * client's event loop.  Timers are tested by moving the clock the client
 * sees (skew) instead of sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/session.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "keydist/channel.h"
#include "keydist/handshake.h"

#define MAX_FRAME 1024
#define PASSWORD "pa|ss word"          /* '|' and a space: the last field */
#define WAIT_MS 5000                   /* give up on anything after this */
#define MAX_EVENTS 256

static EVP_PKEY *server_key, *client_key, *other_key;
static char server_fp[KD_FP_SIZE], client_fp[KD_FP_SIZE], other_fp[KD_FP_SIZE];
static int64_t skew;                   /* added to the client's clock */
static long long reconnect_max_ms = 40; /* for the next fx_start() */

static int64_t
now(void)
{
	return session_clock_ms() + skew;
}

/* A copy of an event (the callback's strings die with the callback). */
struct rec {
	enum session_event_kind kind;
	char *host, *port, *fingerprint, *pinned, *user, *nickname, *code;
	char *text, *timestamp;
	int64_t time_ms;
	long long count, delay_ms;
	int err;
	enum session_end end;
};

struct fx {
	int lfd;                       /* the fake server's listening socket */
	int cfd;                       /* its accepted connection, or -1 */
	unsigned short port;
	struct buf in;                 /* bytes from the client */
	struct buf frames;             /* opened frames not yet taken */
	struct kd_hs hs;
	struct kd_record_dir tx, rx;   /* s2c sealing, c2s opening */
	struct client_config cfg;
	struct session *s;
	struct rec ev[MAX_EVENTS];
	size_t nev;
	const char *chat_on_login;     /* the callback sends this on login */
};

static char *
dup_or_null(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	assert_non_null(d);
	return d;
}

static void
on_event(void *arg, const struct session_event *ev)
{
	struct fx *x = arg;
	struct rec *r;

	assert_true(x->nev < MAX_EVENTS);
	r = &x->ev[x->nev++];
	r->kind = ev->kind;
	r->host = dup_or_null(ev->host);
	r->port = dup_or_null(ev->port);
	r->fingerprint = dup_or_null(ev->fingerprint);
	r->pinned = dup_or_null(ev->pinned);
	r->user = dup_or_null(ev->user);
	r->nickname = dup_or_null(ev->nickname);
	r->code = dup_or_null(ev->code);
	r->text = dup_or_null(ev->text);
	r->timestamp = dup_or_null(ev->timestamp);
	r->time_ms = ev->time_ms;
	r->count = ev->count;
	r->delay_ms = ev->delay_ms;
	r->err = ev->err;
	r->end = ev->end;
	if (ev->kind == SESSION_EV_LOGGED_IN && x->chat_on_login != NULL)
		assert_int_equal(session_send_chat(x->s, x->chat_on_login,
		    strlen(x->chat_on_login)), 0);
}

static size_t
count_events(const struct fx *x, enum session_event_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < x->nev; i++)
		n += x->ev[i].kind == kind;
	return n;
}

/* The last event of kind, or NULL. */
static const struct rec *
find_event(const struct fx *x, enum session_event_kind kind)
{
	size_t i;

	for (i = x->nev; i > 0; i--) {
		if (x->ev[i - 1].kind == kind)
			return &x->ev[i - 1];
	}
	return NULL;
}

/* One round of the client's event loop, waiting at most wait_ms. */
static void
pump(struct fx *x, int wait_ms)
{
	struct pollfd p = { .fd = -1 };
	int64_t t = session_timeout(x->s, now());

	if (t >= 0 && t < wait_ms)
		wait_ms = (int)t;
	if ((p.fd = session_fd(x->s)) >= 0)
		p.events = session_events(x->s);
	assert_true(poll(&p, 1, wait_ms) >= 0);
	if (p.fd >= 0 && p.revents != 0)
		session_handle(x->s, p.revents, now());
	session_tick(x->s, now());
}

/* Drive the client until there has been an event of kind; the last one. */
static const struct rec *
wait_event(struct fx *x, enum session_event_kind kind)
{
	int64_t end = session_clock_ms() + WAIT_MS;

	while (count_events(x, kind) == 0) {
		assert_true(session_clock_ms() < end);
		pump(x, 10);
	}
	return find_event(x, kind);
}

/*
 * Fake server: read more from the client, driving the client meanwhile.
 * 1 got bytes, 0 end of stream.
 */
static int
srv_recv(struct fx *x)
{
	int64_t end = session_clock_ms() + WAIT_MS;
	struct pollfd p = { .fd = x->cfd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		assert_true(session_clock_ms() < end);
		if (session_end(x->s) == SESSION_RUNNING)
			pump(x, 5);
		if (poll(&p, 1, 5) <= 0)
			continue;
		assert_int_equal(buf_reserve(&x->in, 65536), 0);
		n = recv(x->cfd, buf_tail(&x->in), 65536, 0);
		if (n < 0 && errno == ECONNRESET)
			return 0;
		assert_true(n >= 0);
		if (n == 0)
			return 0;
		buf_commit(&x->in, (size_t)n);
		return 1;
	}
}

static void
srv_accept(struct fx *x)
{
	int64_t end = session_clock_ms() + WAIT_MS;
	struct pollfd p = { .fd = x->lfd, .events = POLLIN };

	while (poll(&p, 1, 0) == 0) {
		assert_true(session_clock_ms() < end);
		pump(x, 5);
	}
	x->cfd = accept(x->lfd, NULL, NULL);
	assert_true(x->cfd >= 0);
}

/* The next plain line (the ClientHello), without its LF, into out. */
static size_t
srv_line(struct fx *x, char *out, size_t cap)
{
	uint8_t *nl;
	size_t len;

	while (buf_size(&x->in) == 0 ||
	    (nl = memchr(buf_data(&x->in), '\n', buf_size(&x->in))) == NULL)
		assert_int_equal(srv_recv(x), 1);
	len = (size_t)(nl - buf_data(&x->in));
	assert_true(len < cap);
	memcpy(out, buf_data(&x->in), len);
	out[len] = '\0';
	buf_consume(&x->in, len + 1);
	return len;
}

/*
 * Open the next record from the client with d into x->frames.  The
 * KeyExchange record may be longer than max_frame: up to a handshake line.
 */
static void
srv_record(struct fx *x, struct kd_record_dir *d)
{
	size_t len, reclen, max = d->seq == 0 ? KD_HS_LINE_MAX + 1 : MAX_FRAME;
	char *frames;
	int r;

	while (buf_size(&x->in) == 0 || (r = kd_chan_open(d, &x->in, max,
	    &frames, &len, &reclen)) == E_INCOMPLETE)
		assert_int_equal(srv_recv(x), 1);
	assert_int_equal(r, 0);
	assert_int_equal(buf_append(&x->frames, frames, len), 0);
	buf_consume(&x->in, reclen);
}

/* The next frame from the client (opened with d), without its LF. */
static size_t
srv_frame_with(struct fx *x, struct kd_record_dir *d, char *out, size_t cap)
{
	uint8_t *nl;
	size_t len;

	if (buf_size(&x->frames) == 0)
		srv_record(x, d);
	nl = memchr(buf_data(&x->frames), '\n', buf_size(&x->frames));
	assert_non_null(nl);
	len = (size_t)(nl - buf_data(&x->frames));
	assert_true(len < cap);
	memcpy(out, buf_data(&x->frames), len);
	out[len] = '\0';
	buf_consume(&x->frames, len + 1);
	return len;
}

/* Expect exactly this frame next from the client. */
static void
srv_expect(struct fx *x, const char *want)
{
	char got[MAX_FRAME + 1];

	srv_frame_with(x, &x->rx, got, sizeof(got));
	assert_string_equal(got, want);
}

/* Seal frames (each ending in LF) into one record to the client. */
static void
srv_send_raw(struct fx *x, const char *frames, int tamper)
{
	uint8_t rec[MAX_FRAME + KD_RECORD_OVERHEAD];
	size_t len = strlen(frames), n;

	assert_int_equal(kd_record_seal(&x->tx, (const uint8_t *)frames, len,
	    rec, sizeof(rec), &n), 0);
	if (tamper)
		rec[KD_RECORD_HDR_LEN + 1] ^= 0x01;
	assert_int_equal(send(x->cfd, rec, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
srv_send(struct fx *x, const char *frames)
{
	srv_send_raw(x, frames, 0);
}

/* Fake server handshake, how far it goes. */
enum hs_end {
	HS_HELLO,                      /* stop after sending ServerHello */
	HS_REFUSE,                     /* answer 1199 instead of 1102 */
	HS_DONE,                       /* complete, read the login frame */
};

static void
srv_handshake(struct fx *x, enum hs_end upto)
{
	char line[KD_HS_LINE_MAX + 1], sh[KD_HS_LINE_MAX + 1], sf[256];
	struct kd_record_dir hsrx;
	size_t len, shlen, sflen;

	srv_accept(x);
	kd_hs_server_init(&x->hs, server_key);
	len = srv_line(x, line, sizeof(line));
	assert_int_equal(kd_hs_server_hello(&x->hs, line, len, sh,
	    sizeof(sh) - 1, &shlen), 0);
	sh[shlen++] = '\n';
	assert_int_equal(send(x->cfd, sh, shlen, MSG_NOSIGNAL), (ssize_t)shlen);
	if (upto == HS_HELLO)
		return;
	memset(&hsrx, 0, sizeof(hsrx));
	assert_int_equal(kd_record_init(&hsrx, x->hs.hs_c2s.key,
	    x->hs.hs_c2s.iv, KD_RECORD_REKEY_DEFAULT, 0), 0);
	len = srv_frame_with(x, &hsrx, line, sizeof(line));
	kd_record_clear(&hsrx);
	assert_int_equal(kd_hs_server_keyx(&x->hs, line, len), 0);
	assert_string_equal(x->hs.peer_fp, client_fp);
	assert_int_equal(kd_record_init(&x->rx, x->hs.c2s.key, x->hs.c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 0), 0);
	assert_int_equal(kd_record_init(&x->tx, x->hs.s2c.key, x->hs.s2c.iv,
	    KD_RECORD_REKEY_DEFAULT, 1), 0);
	len = srv_frame_with(x, &x->rx, line, sizeof(line));
	assert_int_equal(kd_hs_server_finish(&x->hs, line, len, sf,
	    sizeof(sf) - 1, &sflen), 0);
	if (upto == HS_REFUSE) {
		srv_send(x, "1199|not_enrolled|this key is not enrolled\n");
		return;
	}
	sf[sflen++] = '\n';
	sf[sflen] = '\0';
	srv_send(x, sf);
	srv_expect(x, "0001|alice|" PASSWORD);
}

/* The fake server drops the connection (for the client's reconnect). */
static void
srv_drop(struct fx *x)
{
	close(x->cfd);
	x->cfd = -1;
	kd_hs_clear(&x->hs);
	kd_record_clear(&x->tx);
	kd_record_clear(&x->rx);
	buf_free(&x->in);
	buf_free(&x->frames);
}

/* The client has closed: the fake server reads nothing more but the end. */
static void
srv_expect_eof(struct fx *x)
{
	size_t before = buf_size(&x->in);

	assert_int_equal(srv_recv(x), 0);
	assert_int_equal(buf_size(&x->in), before);
}

/* A session to a fake server on a free port (no server if !listening). */
static void
fx_start_on(struct fx *x, const char *host, EVP_PKEY *pinned, int listening)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	static char hostbuf[64];

	memset(x, 0, sizeof(*x));
	skew = 0;
	x->cfd = -1;
	x->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(x->lfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(x->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(x->lfd, 8), 0);
	assert_int_equal(getsockname(x->lfd, (struct sockaddr *)&sin, &slen),
	    0);
	x->port = ntohs(sin.sin_port);
	if (!listening) {
		close(x->lfd);
		x->lfd = -1;
	}
	(void)snprintf(hostbuf, sizeof(hostbuf), "%s", host);
	x->cfg.server_host = hostbuf;
	x->cfg.server_port = x->port;
	x->cfg.user = (char *)"alice";
	x->cfg.reconnect_min_ms = 10;
	x->cfg.reconnect_max_ms = reconnect_max_ms;
	x->cfg.keepalive_interval = 30;
	x->cfg.max_frame = MAX_FRAME;
	assert_int_equal(session_new(&x->cfg, client_key, pinned, PASSWORD,
	    on_event, x, &x->s), 0);
	session_start(x->s, now());
}

static void
fx_start(struct fx *x, const char *host, EVP_PKEY *pinned)
{
	fx_start_on(x, host, pinned, 1);
}

/* Start, handshake and log in as "Alice A.". */
static void
fx_login(struct fx *x)
{
	const struct rec *e;

	fx_start(x, "127.0.0.1", server_key);
	srv_handshake(x, HS_DONE);
	srv_send(x, "1001|OK|Alice A.\n");
	e = wait_event(x, SESSION_EV_LOGGED_IN);
	assert_string_equal(e->nickname, "Alice A.");
}

static void
fx_end(struct fx *x)
{
	size_t i;

	session_free(x->s);
	if (x->cfd >= 0)
		srv_drop(x);
	if (x->lfd >= 0)
		close(x->lfd);
	for (i = 0; i < x->nev; i++) {
		free(x->ev[i].host);
		free(x->ev[i].port);
		free(x->ev[i].fingerprint);
		free(x->ev[i].pinned);
		free(x->ev[i].user);
		free(x->ev[i].nickname);
		free(x->ev[i].code);
		free(x->ev[i].text);
		free(x->ev[i].timestamp);
	}
}

static int
setup(void **state)
{
	(void)state;
	if (kd_key_generate(KD_RSA_BITS, &server_key) != 0 ||
	    kd_key_generate(KD_RSA_BITS, &client_key) != 0 ||
	    kd_key_generate(KD_RSA_BITS, &other_key) != 0 ||
	    kd_fingerprint(server_key, server_fp) != 0 ||
	    kd_fingerprint(client_key, client_fp) != 0 ||
	    kd_fingerprint(other_key, other_fp) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(server_key);
	EVP_PKEY_free(client_key);
	EVP_PKEY_free(other_key);
	return 0;
}

static void
test_login_chat_quit(void **state)
{
	struct fx x;
	const struct rec *e;
	char port[8];

	(void)state;
	fx_login(&x);
	e = find_event(&x, SESSION_EV_CONNECTING);
	assert_non_null(e);
	assert_string_equal(e->host, "127.0.0.1");
	(void)snprintf(port, sizeof(port), "%u", x.port);
	assert_string_equal(e->port, port);
	e = find_event(&x, SESSION_EV_CONNECTED);
	assert_non_null(e);
	assert_string_equal(e->fingerprint, server_fp);
	assert_int_equal(x.ev[0].kind, SESSION_EV_CONNECTING);

	/* A delivery, with '|' and TAB in the text. */
	srv_send(&x, "1002|bob|2026-11-21T09:15:02.123Z|hi | there\t!\n");
	e = wait_event(&x, SESSION_EV_CHAT);
	assert_string_equal(e->nickname, "bob");
	assert_string_equal(e->timestamp, "2026-11-21T09:15:02.123Z");
	assert_int_equal(e->time_ms, 1795252502123LL);
	assert_string_equal(e->text, "hi | there\t!");

	/* Our chat line, as the server receives it. */
	assert_int_equal(session_send_chat(x.s, "hello, world", 12), 0);
	srv_expect(&x, "0002|hello, world");

	/* Who, answered with several frames in one record. */
	assert_int_equal(session_who(x.s), 0);
	srv_expect(&x, "0004");
	srv_send(&x, "1004|alice|Alice A.\n1004|bob|Bob\n1014|2\n");
	e = wait_event(&x, SESSION_EV_WHO_END);
	assert_int_equal(e->count, 2);
	assert_int_equal(count_events(&x, SESSION_EV_WHO), 2);
	assert_string_equal(x.ev[x.nev - 2].nickname, "Bob");
	assert_string_equal(x.ev[x.nev - 2].user, "bob");

	/* Presence and a server error. */
	srv_send(&x, "1003|JOIN|carol|Carol\n1003|LEAVE|bob|Bob|timeout\n"
	    "1009|state|not now\n");
	e = wait_event(&x, SESSION_EV_SERVER_ERROR);
	assert_string_equal(e->code, "state");
	assert_string_equal(e->text, "not now");
	e = find_event(&x, SESSION_EV_JOIN);
	assert_string_equal(e->user, "carol");
	assert_string_equal(e->nickname, "Carol");
	e = find_event(&x, SESSION_EV_LEAVE);
	assert_string_equal(e->user, "bob");
	assert_string_equal(e->code, "timeout");

	/* Quit: 0003, the server's goodbye, done. */
	session_quit(x.s, now());
	srv_expect(&x, "0003");
	srv_send(&x, "1010|quit|goodbye\n");
	wait_event(&x, SESSION_EV_DONE);
	assert_int_equal(session_end(x.s), SESSION_QUIT);
	assert_int_equal(session_fd(x.s), -1);
	assert_int_equal(session_timeout(x.s, now()), -1);
	assert_int_equal(count_events(&x, SESSION_EV_DISCONNECTED), 0);
	assert_int_equal(count_events(&x, SESSION_EV_ERROR), 0);
	srv_expect_eof(&x);
	fx_end(&x);
}

static void
test_key_mismatch(void **state)
{
	struct fx x;
	const struct rec *e;

	(void)state;
	fx_start(&x, "127.0.0.1", other_key);
	srv_handshake(&x, HS_HELLO);
	e = wait_event(&x, SESSION_EV_KEY_MISMATCH);
	assert_string_equal(e->pinned, other_fp);
	assert_string_equal(e->fingerprint, server_fp);
	e = wait_event(&x, SESSION_EV_FATAL);
	assert_int_equal(e->end, SESSION_KEY_MISMATCH);
	assert_int_equal(session_end(x.s), SESSION_KEY_MISMATCH);
	/* Not one byte after the ServerHello, and no retry. */
	srv_expect_eof(&x);
	assert_int_equal(buf_size(&x.in), 0);
	assert_int_equal(count_events(&x, SESSION_EV_RECONNECTING), 0);
	assert_int_equal(session_timeout(x.s, now()), -1);
	fx_end(&x);
}

static void
test_not_enrolled(void **state)
{
	struct fx x;
	const struct rec *e;

	(void)state;
	fx_start(&x, "127.0.0.1", server_key);
	srv_handshake(&x, HS_REFUSE);
	e = wait_event(&x, SESSION_EV_NOT_ENROLLED);
	assert_string_equal(e->fingerprint, client_fp);
	assert_string_equal(e->code, "not_enrolled");
	assert_string_equal(e->text, "this key is not enrolled");
	e = wait_event(&x, SESSION_EV_FATAL);
	assert_int_equal(e->end, SESSION_NOT_ENROLLED);
	assert_int_equal(session_end(x.s), SESSION_NOT_ENROLLED);
	assert_int_equal(count_events(&x, SESSION_EV_CONNECTED), 0);
	assert_int_equal(count_events(&x, SESSION_EV_RECONNECTING), 0);
	/* No login went out. */
	srv_expect_eof(&x);
	assert_int_equal(buf_size(&x.in), 0);
	fx_end(&x);
}

static void
test_login_invalid_is_final(void **state)
{
	struct pollfd p;
	struct fx x;
	const struct rec *e;
	int i;

	(void)state;
	fx_start(&x, "127.0.0.1", server_key);
	srv_handshake(&x, HS_DONE);
	srv_send(&x, "1001|ERR|invalid\n");
	e = wait_event(&x, SESSION_EV_LOGIN_FAILED);
	assert_string_equal(e->code, "invalid");
	e = wait_event(&x, SESSION_EV_FATAL);
	assert_int_equal(e->end, SESSION_LOGIN_REFUSED);
	assert_int_equal(session_end(x.s), SESSION_LOGIN_REFUSED);
	assert_int_equal(session_timeout(x.s, now()), -1);
	srv_expect_eof(&x);
	/* A minute later, still no new connection. */
	skew += 60000;
	for (i = 0; i < 5; i++)
		pump(&x, 2);
	p.fd = x.lfd;
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 20), 0);
	assert_int_equal(count_events(&x, SESSION_EV_RECONNECTING), 0);
	assert_int_equal(count_events(&x, SESSION_EV_CONNECTING), 1);
	fx_end(&x);
}

static void
test_login_busy_retries(void **state)
{
	struct fx x;
	const struct rec *e;

	(void)state;
	fx_start(&x, "127.0.0.1", server_key);
	srv_handshake(&x, HS_DONE);
	srv_send(&x, "1001|ERR|busy\n");
	e = wait_event(&x, SESSION_EV_RECONNECTING);
	assert_int_equal(e->delay_ms, 10);
	assert_string_equal(find_event(&x, SESSION_EV_LOGIN_FAILED)->code,
	    "busy");
	srv_expect_eof(&x);
	srv_drop(&x);
	/* The retry logs in again with the stored password. */
	srv_handshake(&x, HS_DONE);
	srv_send(&x, "1001|OK|Alice A.\n");
	wait_event(&x, SESSION_EV_LOGGED_IN);
	assert_int_equal(count_events(&x, SESSION_EV_FATAL), 0);
	fx_end(&x);
}

static void
test_pings(void **state)
{
	struct fx x;
	const struct rec *e;

	(void)state;
	/* By name: the lookup runs on a thread. */
	fx_start(&x, "localhost", server_key);
	srv_handshake(&x, HS_DONE);
	srv_send(&x, "1001|OK|Alice A.\n");
	wait_event(&x, SESSION_EV_LOGGED_IN);

	/* The server's ping is answered with its token. */
	srv_send(&x, "1006|abc123XYZ\n");
	srv_expect(&x, "0006|abc123XYZ");

	/* Silent for the keepalive interval: the client pings. */
	skew += 30 * 1000;
	srv_expect(&x, "0005|k1");
	srv_send(&x, "1005|k1\n");
	/* The answer counts as life: no disconnect yet. */
	skew += 15 * 1000;
	pump(&x, 20);
	pump(&x, 20);
	assert_int_equal(count_events(&x, SESSION_EV_DISCONNECTED), 0);

	/* Silent for twice the interval: the server is gone. */
	skew += 2 * 30 * 1000;
	e = wait_event(&x, SESSION_EV_DISCONNECTED);
	assert_non_null(strstr(e->text, "silent"));
	e = wait_event(&x, SESSION_EV_RECONNECTING);
	assert_int_equal(e->delay_ms, 10);
	fx_end(&x);
}

static void
test_tampered_record_closes(void **state)
{
	struct fx x;
	const struct rec *e;

	(void)state;
	fx_login(&x);
	srv_send_raw(&x, "1002|bob|2026-11-21T09:15:02.123Z|forged\n", 1);
	e = wait_event(&x, SESSION_EV_DISCONNECTED);
	assert_int_equal(e->err, E_MAC_INVALID);
	assert_int_equal(count_events(&x, SESSION_EV_CHAT), 0);
	srv_expect_eof(&x);
	/* A lost connection, not the end: it will reconnect. */
	wait_event(&x, SESSION_EV_RECONNECTING);
	assert_int_equal(session_end(x.s), SESSION_RUNNING);
	fx_end(&x);
}

static void
test_malformed_and_unknown(void **state)
{
	struct fx x;
	const struct rec *e;

	(void)state;
	fx_login(&x);
	/* An unknown opcode is reported and ignored. */
	srv_send(&x, "1234|something new\n1006|t1\n");
	srv_expect(&x, "0006|t1");
	e = find_event(&x, SESSION_EV_ERROR);
	assert_non_null(e);
	assert_non_null(strstr(e->text, "1234"));
	assert_int_equal(count_events(&x, SESSION_EV_DISCONNECTED), 0);
	/* A malformed known frame closes the connection. */
	srv_send(&x, "1002|bob|yesterday|hi\n");
	e = wait_event(&x, SESSION_EV_DISCONNECTED);
	assert_int_equal(e->err, E_MALFORMED);
	srv_expect_eof(&x);
	fx_end(&x);
}

static void
test_invalid_text_refused(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		int err;
	} bad[] = {
		{ "", 0, E_MALFORMED },
		{ "bell\a", 5, E_MALFORMED },
		{ "new\nline", 8, E_MALFORMED },
		{ "nul\0byte", 8, E_MALFORMED },
		{ "del\x7f", 4, E_MALFORMED },
		{ "c1 \xc2\x9b" "31m", 8, E_MALFORMED },
		{ "bad \xff utf-8", 11, E_MALFORMED },
		{ "overlong \xc0\xaf", 11, E_MALFORMED },
	};
	char big[MAX_FRAME], want[MAX_FRAME];
	struct fx x;
	const struct rec *e;
	size_t i, errors;

	(void)state;
	fx_login(&x);
	errors = count_events(&x, SESSION_EV_ERROR);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(session_send_chat(x.s, bad[i].text,
		    bad[i].len), bad[i].err);
		e = find_event(&x, SESSION_EV_ERROR);
		assert_int_equal(count_events(&x, SESSION_EV_ERROR),
		    errors + i + 1);
		assert_non_null(strstr(e->text, "not sent"));
	}
	/* max_frame - FRAME_CHAT_OVERHEAD bytes is the limit. */
	memset(big, 'a', sizeof(big));
	assert_int_equal(session_send_chat(x.s, big,
	    MAX_FRAME - FRAME_CHAT_OVERHEAD + 1), E_TOO_LONG);
	assert_int_equal(session_send_chat(x.s, big,
	    MAX_FRAME - FRAME_CHAT_OVERHEAD), 0);
	/* Nothing refused reached the server: the next frames are these. */
	assert_int_equal(session_send_chat(x.s, "tab\tand | bar", 13), 0);
	memcpy(want, "0002|", 5);
	memcpy(want + 5, big, MAX_FRAME - FRAME_CHAT_OVERHEAD);
	want[5 + MAX_FRAME - FRAME_CHAT_OVERHEAD] = '\0';
	srv_expect(&x, want);
	srv_expect(&x, "0002|tab\tand | bar");
	fx_end(&x);
}

static void
test_queue_across_reconnect(void **state)
{
	struct fx x;
	const struct rec *e;

	(void)state;
	fx_login(&x);
	srv_drop(&x);
	e = wait_event(&x, SESSION_EV_DISCONNECTED);
	assert_int_equal(e->err, E_CLOSED);
	e = wait_event(&x, SESSION_EV_RECONNECTING);
	assert_int_equal(e->delay_ms, 10);
	/* Typed while away: queued, sent after the new login, in order. */
	assert_int_equal(session_send_chat(x.s, "one", 3), 0);
	assert_int_equal(session_who(x.s), 0);
	assert_int_equal(session_send_chat(x.s, "two", 3), 0);
	x.chat_on_login = "three";
	srv_handshake(&x, HS_DONE);
	srv_send(&x, "1001|OK|Alice A.\n");
	srv_expect(&x, "0002|one");
	srv_expect(&x, "0004");
	srv_expect(&x, "0002|two");
	srv_expect(&x, "0002|three");
	assert_int_equal(count_events(&x, SESSION_EV_LOGGED_IN), 2);
	assert_int_equal(count_events(&x, SESSION_EV_ERROR), 0);
	fx_end(&x);
}

static void
test_no_reconnect_when_disabled(void **state)
{
	struct fx x;
	const struct rec *e;

	(void)state;
	reconnect_max_ms = 0;
	fx_login(&x);
	reconnect_max_ms = 40;
	srv_drop(&x);
	e = wait_event(&x, SESSION_EV_FATAL);
	assert_int_equal(e->end, SESSION_UNREACHABLE);
	assert_int_equal(count_events(&x, SESSION_EV_DISCONNECTED), 1);
	assert_int_equal(count_events(&x, SESSION_EV_RECONNECTING), 0);
	assert_int_equal(session_timeout(x.s, now()), -1);
	fx_end(&x);
}

static void
test_queue_limit(void **state)
{
	struct fx x;
	const struct rec *e;
	int i;

	(void)state;
	fx_start(&x, "127.0.0.1", server_key);
	/* Not logged in yet: lines queue, up to the limit. */
	for (i = 0; i < SESSION_QUEUE_LINES; i++)
		assert_int_equal(session_send_chat(x.s, "x", 1), 0);
	assert_int_equal(session_send_chat(x.s, "y", 1), E_TOO_LONG);
	e = find_event(&x, SESSION_EV_ERROR);
	assert_non_null(e);
	assert_non_null(strstr(e->text, "not sent"));
	fx_end(&x);
}

static void
test_quit_sends_queue_first(void **state)
{
	struct fx x;

	(void)state;
	/* Like `echo hi | missive`: input ends before the login. */
	fx_start(&x, "127.0.0.1", server_key);
	assert_int_equal(session_send_chat(x.s, "early", 5), 0);
	session_quit(x.s, now());
	assert_int_equal(session_end(x.s), SESSION_RUNNING);
	srv_handshake(&x, HS_DONE);
	srv_send(&x, "1001|OK|Alice A.\n");
	srv_expect(&x, "0002|early");
	srv_expect(&x, "0003");
	srv_send(&x, "1010|quit|goodbye\n");
	wait_event(&x, SESSION_EV_DONE);
	assert_int_equal(session_end(x.s), SESSION_QUIT);
	fx_end(&x);
}

static void
test_unreachable_first_attempt(void **state)
{
	struct fx x;
	const struct rec *e;

	(void)state;
	/* Nobody listens on that port. */
	fx_start_on(&x, "127.0.0.1", server_key, 0);
	e = wait_event(&x, SESSION_EV_FATAL);
	assert_int_equal(e->end, SESSION_UNREACHABLE);
	assert_non_null(strstr(e->text, "cannot connect"));
	assert_int_equal(count_events(&x, SESSION_EV_DISCONNECTED), 1);
	assert_int_equal(count_events(&x, SESSION_EV_RECONNECTING), 0);
	fx_end(&x);
}

static void
test_handshake_timeout(void **state)
{
	struct fx x;
	const struct rec *e;

	(void)state;
	fx_start(&x, "127.0.0.1", server_key);
	srv_accept(&x);
	/* The "server" never says hello. */
	skew += SESSION_CONNECT_TIMEOUT_MS;
	e = wait_event(&x, SESSION_EV_FATAL);
	assert_int_equal(e->end, SESSION_UNREACHABLE);
	assert_non_null(strstr(e->text, "handshake"));
	fx_end(&x);
}

static void
test_free_during_lookup(void **state)
{
	struct fx x;

	(void)state;
	/* Freed while the lookup thread may still run: it cleans up. */
	fx_start(&x, "localhost", server_key);
	assert_int_equal(count_events(&x, SESSION_EV_CONNECTING), 1);
	fx_end(&x);
	/* Let the thread finish before the leak check at exit. */
	(void)poll(NULL, 0, 200);
}

static void
test_bad_password_refused(void **state)
{
	struct client_config cfg = {
		.server_host = (char *)"127.0.0.1", .server_port = 7777,
		.user = (char *)"alice", .reconnect_min_ms = 10,
		.reconnect_max_ms = 0, .max_frame = MAX_FRAME,
	};
	struct session *s = NULL;

	(void)state;
	assert_int_equal(session_new(&cfg, client_key, server_key, "",
	    on_event, NULL, &s), E_PASSWORD);
	assert_int_equal(session_new(&cfg, client_key, server_key, "a\nb",
	    on_event, NULL, &s), E_PASSWORD);
	assert_int_equal(session_new(&cfg, client_key, server_key, "\xff",
	    on_event, NULL, &s), E_PASSWORD);
	assert_null(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_chat_quit),
		cmocka_unit_test(test_key_mismatch),
		cmocka_unit_test(test_not_enrolled),
		cmocka_unit_test(test_login_invalid_is_final),
		cmocka_unit_test(test_login_busy_retries),
		cmocka_unit_test(test_pings),
		cmocka_unit_test(test_tampered_record_closes),
		cmocka_unit_test(test_malformed_and_unknown),
		cmocka_unit_test(test_invalid_text_refused),
		cmocka_unit_test(test_queue_across_reconnect),
		cmocka_unit_test(test_no_reconnect_when_disabled),
		cmocka_unit_test(test_queue_limit),
		cmocka_unit_test(test_quit_sends_queue_first),
		cmocka_unit_test(test_unreachable_first_attempt),
		cmocka_unit_test(test_handshake_timeout),
		cmocka_unit_test(test_free_during_lookup),
		cmocka_unit_test(test_bad_password_refused),
	};

	return cmocka_run_group_tests_name("session", tests, setup, teardown);
}
