/*
 * The five protocols of missive-bench, each reduced to what the workloads
 * need: set a connection up (connect, subscribe or log in and join the
 * room), publish a payload, and find the payloads in what arrives.
 *
 * missive: the real handshake (keydist/handshake.c) and records
 * (keydist/channel.c), a real login and room, protocol version 3; the
 * payload goes as the message of 0002 (with a mid unique to the run, the
 * member and the line) and comes back as the last field of 1002; the
 * sender counts 1020, a receiver acknowledges its rows (0020) every 256
 * and whenever it has read all there was.  No end-to-end layer: the
 * server cannot tell, it stores and relays base64 it cannot open either
 * way, and the bench measures the server, not the client.
 *
 * Redis Streams, the durable peer: the room is a stream (XADD), each
 * member a consumer group of its own; online members XREADGROUP in
 * batches and XACK what they got, offline ones only have their group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bench/bench.h"
#include "common/be.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/proto.h"
#include "keydist/channel.h"


enum mstep { MS_HELLO, MS_FINISHED, MS_LOGIN, MS_LISTS, MS_JOIN, MS_IN };

/* A receiver acknowledges (0020) every ACK_EVERY rows and when idle. */
#define ACK_EVERY 256

static int
put(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

/* ---- missive ---- */

static int
m_start(struct bconn *c)
{
	struct bench *b = c->b;
	char line[KD_HS_LINE_MAX + 1];
	size_t len;

	if ((c->hs = calloc(1, sizeof(*c->hs))) == NULL)
		return -1;
	kd_hs_client_init(c->hs, b->keys[c->account - b->first],
	    b->server_key);
	if (kd_hs_client_hello(c->hs, line, sizeof(line) - 1, &len) != 0)
		return -1;
	line[len++] = '\n';
	c->step = MS_HELLO;
	c->backlog = c->seq = c->acked = 0;
	c->in_lobby = c->in_room = c->answers = 0;
	c->backlog_got = 0;
	return buf_append(&c->out, line, len);
}

static int
seal_line(struct kd_record_dir *d, char *line, size_t len, struct buf *out)
{
	size_t n;

	line[len] = '\n';
	if (buf_reserve(out, len + 1 + KD_RECORD_OVERHEAD) != 0 ||
	    kd_record_seal(d, (uint8_t *)line, len + 1, buf_tail(out),
	    len + 1 + KD_RECORD_OVERHEAD, &n) != 0)
		return -1;
	buf_commit(out, n);
	return 0;
}

/* ServerHello: KeyExchange and ClientFinished. */
static int
m_hello(struct bconn *c)
{
	static char kx[KD_HS_LINE_MAX + 1], fin[KD_HS_LINE_MAX + 1];
	const char *line = (const char *)buf_data(&c->in), *nl;
	struct kd_record_dir hsdir;
	size_t kxlen, finlen, linelen;
	int r;

	if ((nl = memchr(line, '\n', buf_size(&c->in))) == NULL)
		return buf_size(&c->in) > KD_HS_LINE_MAX ? -1 : 0;
	linelen = (size_t)(nl - line);
	if (kd_hs_client_keyx(c->hs, line, linelen, kx, sizeof(kx) - 1, &kxlen,
	    fin, sizeof(fin) - 1, &finlen) != 0)
		return -1;
	buf_consume(&c->in, linelen + 1);
	memset(&hsdir, 0, sizeof(hsdir));
	r = kd_record_init(&hsdir, c->hs->hs_c2s.key, c->hs->hs_c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 1) == 0 &&
	    seal_line(&hsdir, kx, kxlen, &c->out) == 0 &&
	    kd_record_init(&c->tx, c->hs->c2s.key, c->hs->c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 1) == 0 &&
	    kd_record_init(&c->rx, c->hs->s2c.key, c->hs->s2c.iv,
	    KD_RECORD_REKEY_DEFAULT, 0) == 0 ? 0 : -1;
	kd_record_clear(&hsdir);
	c->keyed = 1;
	if (r == 0)
		r = seal_line(&c->tx, fin, finlen, &c->out);
	c->step = MS_FINISHED;
	return r;
}

/* ServerFinished: the handshake is done; log in unless that was all. */
static int
m_finished(struct bconn *c, const char *f, size_t len)
{
	struct bench *b = c->b;
	char user[64];
	struct frame_field login[2];
	int r;

	r = kd_hs_client_finish(c->hs, f, len);
	kd_hs_clear(c->hs);
	free(c->hs);
	c->hs = NULL;
	if (r != 0)
		return -1;
	if (c->role == R_HANDSHAKE) {
		c->state = BS_DONE;
		return 0;
	}
	(void)snprintf(user, sizeof(user), "%s%05u", b->prefix, c->account);
	login[0] = (struct frame_field){ user, strlen(user) };
	login[1] = (struct frame_field){ b->secrets[c->account - b->first],
	    strlen(b->secrets[c->account - b->first]) };
	c->step = MS_LOGIN;
	return frame_put(&c->txplain, OP_LOGIN, login, 2) == 0 ? 0 : -1;
}

/* Queue op with the one field v (NULL: none). */
static int
send_op(struct bconn *c, enum proto_op op, const char *v)
{
	struct frame_field f = { v, v != NULL ? strlen(v) : 0 };

	return frame_put(&c->txplain, op, &f, v != NULL) == 0 ? 0 : -1;
}

/* Parse f as the frame op with its fields: 0, or -1 if it is not one. */
static int
parse_op(const char *f, size_t len, enum proto_op op, struct frame *fr)
{
	const struct proto_op_spec *spec = proto_op_spec(op);

	return frame_parse(f, len, spec->min, spec->max, fr) == 0 &&
	    fr->opcode == (unsigned)op ? 0 : -1;
}

/* 1001: a login cycle quits; the others wait for the room lists. */
static int
m_login(struct bconn *c, const char *f, size_t len)
{
	struct frame fr;

	if (parse_op(f, len, OP_LOGIN_RESULT, &fr) != 0 ||
	    !frame_field_is(&fr.field[0], proto_login_word(PROTO_LOGIN_OK)))
		return -1;
	if (c->role == R_LOGIN) {
		c->state = BS_DONE;
		return send_op(c, OP_QUIT, NULL);
	}
	c->step = MS_LISTS;
	return 0;
}

/* A decimal seq (1022's last, a row's seq), or -1. */
static long long
seq_of(const struct frame_field *f)
{
	char s[24], *end;
	long long v;

	if (f->len == 0 || f->len >= sizeof(s))
		return -1;
	memcpy(s, f->p, f->len);
	s[f->len] = '\0';
	v = strtoll(s, &end, 10);
	return *end == '\0' && v >= 0 ? v : -1;
}

/*
 * 1022 after the room lists: the rooms the user is in are known (its
 * membership is durable), so only now out of the lobby and into the room
 * if it is not in it yet.
 */
static int
m_backlog(struct bconn *c, const char *f, size_t len)
{
	struct bench *b = c->b;
	struct frame fr;

	if (c->step != MS_LISTS || parse_op(f, len, OP_BACKLOG, &fr) != 0 ||
	    (c->backlog = seq_of(&fr.field[0])) < 0)
		return -1;
	c->step = MS_JOIN;
	if (c->in_lobby && (b->room == NULL || strcmp(b->room, PROTO_LOBBY) != 0) &&
	    send_op(c, OP_LEAVE, PROTO_LOBBY) != 0)
		return -1;
	c->answers = c->in_lobby;
	if (b->room != NULL && !c->in_room) {
		if (send_op(c, OP_JOIN, b->room) != 0)
			return -1;
		c->answers++;
	}
	return 0;
}

/* A room's list (1011) or the lobby left (1013). */
static void
m_room(struct bconn *c, unsigned op, const struct frame_field *room)
{
	int mine = c->b->room != NULL && frame_field_is(room, c->b->room);

	if (c->step == MS_LISTS) {
		c->in_lobby |= op == OP_DEVICES_END &&
		    frame_field_is(room, PROTO_LOBBY);
		c->in_room |= op == OP_DEVICES_END && mine;
	} else if (c->step == MS_JOIN && c->answers > 0 &&
	    ((op == OP_DEVICES_END && mine) ||
	    (op == OP_LEFT && frame_field_is(room, PROTO_LOBBY)))) {
		c->answers--;
	}
}

/*
 * Set up once in the room.  Not waiting for the backlog: 1022's last is
 * the highest seq handed out, acknowledged or not, so a new process
 * cannot tell whether rows up to it are still to come; they are not
 * counted as deliveries, and the server sends the live rows after them.
 */
static int
m_settled(struct bconn *c)
{
	if (c->step != MS_JOIN || c->answers > 0)
		return 0;
	if (c->role == R_ENROL) {
		/* A member that stays offline: its rows are never read. */
		c->state = BS_DONE;
		return send_op(c, OP_QUIT, NULL);
	}
	c->step = MS_IN;
	c->state = BS_READY;
	return 0;
}

static int
m_ack(struct bconn *c)
{
	char seq[24];

	(void)snprintf(seq, sizeof(seq), "%lld", c->seq);
	c->acked = c->seq;
	return send_op(c, OP_ACK, seq);
}

/* A row (1002, 1015): counted, acknowledged every ACK_EVERY rows. */
static int
m_row(struct bconn *c, const char *f, size_t len, enum proto_op op)
{
	struct frame fr;
	long long seq;

	if (parse_op(f, len, op, &fr) != 0 ||
	    (seq = seq_of(&fr.field[0])) <= c->seq)
		return -1;
	c->seq = seq;
	if (seq <= c->backlog)
		c->backlog_got++;
	else if (op == OP_DELIVERY)
		/* seq|mid|nickname|user|fp|conv|timestamp|message */
		bench_deliver(c, fr.field[7].p, fr.field[7].len);
	if (c->role == R_ENROL || c->seq - c->acked < ACK_EVERY)
		return 0;
	return m_ack(c);
}

/* 1020|mid: the line numbered by the mid's last 16 hex digits. */
static int
m_stored(struct bconn *c, const char *f, size_t len)
{
	struct frame fr;
	char num[17], *end;
	unsigned long long k;

	if (parse_op(f, len, OP_STORED, &fr) != 0 ||
	    fr.field[0].len != PROTO_MID_HEX)
		return -1;
	memcpy(num, fr.field[0].p + PROTO_MID_HEX - 16, 16);
	num[16] = '\0';
	k = strtoull(num, &end, 16);
	if (*end != '\0')
		return -1;
	bench_stored(c->b, k);
	return 0;
}

static void
m_complain(struct bench *b, const char *f, size_t len)
{
	if (b->errors++ < 5)
		(void)fprintf(stderr, "missive-bench: server: %.*s\n",
		    (int)(len < 200 ? len : 200), f);
}

static int
m_frame(struct bconn *c, const char *f, size_t len)
{
	struct frame fr;
	unsigned op;

	switch (c->step) {
	case MS_FINISHED:
		return m_finished(c, f, len);
	case MS_LOGIN:
		return m_login(c, f, len);
	default:
		break;
	}
	if (frame_opcode(f, len, &op) != 0)
		return -1;
	switch (op) {
	case OP_DELIVERY:
	case OP_SENDER_KEY_DELIVERY:
		if (m_row(c, f, len, (enum proto_op)op) != 0)
			return -1;
		break;
	case OP_STORED:
		return m_stored(c, f, len);
	case OP_NOT_STORED:
		c->b->refused++;
		m_complain(c->b, f, len);
		return 0;
	case OP_BACKLOG:
		if (m_backlog(c, f, len) != 0)
			return -1;
		break;
	case OP_DEVICES_END:
	case OP_LEFT:
		if (frame_parse(f, len, 1, 2, &fr) != 0)
			return -1;
		m_room(c, op, &fr.field[0]);
		break;
	case OP_SERVER_PING:
		/* A keepalive ping: answer 0006 with the token. */
		return parse_op(f, len, OP_SERVER_PING, &fr) == 0 &&
		    frame_put(&c->txplain, OP_PONG, fr.field, 1) == 0 ? 0 : -1;
	case OP_ERROR:
	case OP_CLOSING:
		m_complain(c->b, f, len);
		return op == OP_CLOSING ? -1 : 0;
	default:
		return 0;
	}
	return m_settled(c);
}

static int
m_input(struct bconn *c)
{
	size_t len, reclen, flen;
	char *frames, *f;
	int r;

	if (c->step == MS_HELLO)
		return m_hello(c);
	for (;;) {
		r = kd_chan_open(&c->rx, &c->in, BENCH_FRAME_MAX, &frames, &len,
		    &reclen);
		if (r == E_INCOMPLETE)
			return 0;
		if (r != 0)
			return -1;
		while ((r = kd_chan_next_frame(&frames, &len, &f, &flen)) == 1)
			if (m_frame(c, f, flen) != 0)
				return -1;
		buf_consume(&c->in, reclen);
		if (r != 0 || c->state == BS_DONE)
			return r;
	}
}

/* 0002|room|mid|payload; the mid: this run, the member, line number k. */
static int
m_publish(struct bconn *c, const char *payload, size_t n,
    unsigned long long k)
{
	char mid[PROTO_MID_HEX + 1];
	struct frame_field f[3] = {
		{ c->b->room, strlen(c->b->room) }, { mid, PROTO_MID_HEX },
		{ payload, n },
	};

	(void)snprintf(mid, sizeof(mid), "%.8s%08x%016llx", c->b->mid_run,
	    c->member, k);
	return frame_put(&c->txplain, OP_CHAT, f, 3) == 0 ? 0 : -1;
}

/* ---- Redis: RESP ---- */

/* The line at p (up to CRLF) as a number; its end in *next. */
static int
resp_num(const char *p, const char *end, long *v, const char **next)
{
	const char *cr = memchr(p, '\r', (size_t)(end - p));
	char *e;

	if (cr == NULL || cr + 1 >= end)
		return 0;
	*v = strtol(p, &e, 10);
	if (e != cr)
		return -1;
	*next = cr + 2;
	return 1;
}

/*
 * One reply at p: 1 and its length in *used, 0 incomplete, -1 bad.  For
 * an array of bulk strings, the third element (a message's payload) in
 * *pay, *paylen, and whether the first one is "message" in *msg.
 */
static int
resp_one(const char *p, const char *end, size_t *used, const char **pay,
    size_t *paylen, int *msg)
{
	const char *q = p + 1;
	long n, k, i;
	int r;

	*msg = 0;
	*pay = NULL;
	if (p >= end)
		return 0;
	if (*p != '*') {
		/* ":N", "+OK", "-ERR ...": one line. */
		if ((q = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return 0;
		*used = (size_t)(q - p) + 1;
		return 1;
	}
	if ((r = resp_num(q, end, &n, &q)) <= 0)
		return r;
	for (i = 0; i < n; i++) {
		if (q >= end)
			return 0;
		if (*q == ':') {
			if ((r = resp_num(q + 1, end, &k, &q)) <= 0)
				return r;
			continue;
		}
		if (*q != '$' || (r = resp_num(q + 1, end, &k, &q)) <= 0)
			return r <= 0 ? r : -1;
		if (k < 0 || end - q < k + 2)
			return 0;
		if (i == 0)
			*msg = k == 7 && memcmp(q, "message", 7) == 0;
		if (i == 2) {
			*pay = q;
			*paylen = (size_t)k;
		}
		q += k + 2;
	}
	*used = (size_t)(q - p);
	return 1;
}

static int
r_input(struct bconn *c)
{
	const char *p, *end, *pay;
	size_t used, paylen = 0;
	int r, msg;

	for (;;) {
		p = (const char *)buf_data(&c->in);
		end = p + buf_size(&c->in);
		if ((r = resp_one(p, end, &used, &pay, &paylen, &msg)) <= 0)
			return r;
		if (msg && pay != NULL)
			bench_deliver(c, pay, paylen);
		else if (c->state == BS_SETUP)
			c->state = BS_READY;    /* subscribed */
		buf_consume(&c->in, used);
	}
}

/* "*n": an array of n bulk strings follows. */
static int
r_array(struct buf *b, size_t n)
{
	char hdr[24];

	(void)snprintf(hdr, sizeof(hdr), "*%zu\r\n", n);
	return put(b, hdr);
}

static int
r_bulk(struct buf *b, const char *s, size_t n)
{
	char hdr[24];

	(void)snprintf(hdr, sizeof(hdr), "$%zu\r\n", n);
	return put(b, hdr) == 0 && buf_append(b, s, n) == 0 &&
	    put(b, "\r\n") == 0 ? 0 : -1;
}

/* The strings of argv, NULL-terminated, as the bulk strings of a
   command (its array header is the caller's). */
static int
r_words(struct buf *b, const char *const *argv)
{
	for (; *argv != NULL; argv++)
		if (r_bulk(b, *argv, strlen(*argv)) != 0)
			return -1;
	return 0;
}

/* SUBSCRIBE or PUBLISH on the bench channel. */
static int
r_cmd(struct buf *b, const char *cmd, const char *payload, size_t n)
{
	const char *argv[] = { cmd, BENCH_TOPIC, NULL };

	return r_array(b, payload != NULL ? 3 : 2) == 0 &&
	    r_words(b, argv) == 0 &&
	    (payload == NULL || r_bulk(b, payload, n) == 0) ? 0 : -1;
}

/* ---- Redis Streams: the room is a stream, a member a consumer group ---- */

/* The bulk string at *q: 1 (its bytes in *s, *n, *q past it), 0
   incomplete, -1 not one. */
static int
resp_bulk_at(const char **q, const char *end, const char **s, size_t *n)
{
	long k;
	int r;

	if (*q >= end)
		return 0;
	if (**q != '$')
		return -1;
	if ((r = resp_num(*q + 1, end, &k, q)) <= 0)
		return r;
	if (k < 0)
		return -1;
	if (end - *q < k + 2)
		return 0;
	*s = *q;
	*n = (size_t)k;
	*q += k + 2;
	return 1;
}

/* The array header at *q: 1 (its length in *n, -1 for a null array),
   0 incomplete, -1 not one. */
static int
resp_array_at(const char **q, const char *end, long *n)
{
	if (*q >= end)
		return 0;
	if (**q != '*')
		return -1;
	return resp_num(*q + 1, end, n, q);
}

/* An array header of exactly n elements at *q: as resp_array_at. */
static int
resp_array_of(const char **q, const char *end, long n)
{
	long k;
	int r;

	if ((r = resp_array_at(q, end, &k)) <= 0)
		return r;
	return k == n ? 1 : -1;
}

/* One entry, [id, [field, value, ...]]: its payload (the first value)
   delivered and its id kept for the XACK when deliver is set. */
static int
st_entry(struct bconn *c, const char **q, const char *end, int deliver)
{
	const char *s;
	size_t n;
	long nf, j;
	int r;

	if ((r = resp_array_of(q, end, 2)) <= 0 ||
	    (r = resp_bulk_at(q, end, &s, &n)) <= 0)
		return r;
	if (deliver) {
		if (r_bulk(&c->ack, s, n) != 0)
			return -1;
		c->nack++;
	}
	if ((r = resp_array_at(q, end, &nf)) <= 0)
		return r;
	for (j = 0; j < nf; j++) {
		if ((r = resp_bulk_at(q, end, &s, &n)) <= 0)
			return r;
		if (deliver && j == 1)
			bench_deliver(c, s, n);
	}
	return 1;
}

/*
 * XREADGROUP's answer at p, [[key, [entry, ...]]] or a null array (BLOCK
 * ran out): 1 and its length in *used, 0 incomplete, -1 bad.  Read once
 * to see it whole, then again with deliver set.
 */
static int
st_entries(struct bconn *c, const char *p, const char *end, size_t *used,
    int deliver)
{
	const char *q = p, *s;
	size_t n;
	long ns, ne, i, e;
	int r;

	if ((r = resp_array_at(&q, end, &ns)) <= 0)
		return r;
	for (i = 0; i < ns; i++) {
		if ((r = resp_array_of(&q, end, 2)) <= 0 ||
		    (r = resp_bulk_at(&q, end, &s, &n)) <= 0 ||
		    (r = resp_array_at(&q, end, &ne)) <= 0)
			return r;
		for (e = 0; e < ne; e++)
			if ((r = st_entry(c, &q, end, deliver)) <= 0)
				return r;
	}
	*used = (size_t)(q - p);
	return 1;
}

static void
st_group(struct bconn *c, char *g, size_t size)
{
	(void)snprintf(g, size, "g%u", c->member);
}

/* XGROUP CREATE: the member's group, from the stream's end on. */
static int
st_start(struct bconn *c)
{
	char g[16];
	const char *argv[] = { "XGROUP", "CREATE", c->b->room, g, "$",
		"MKSTREAM", NULL };

	st_group(c, g, sizeof(g));
	return r_array(&c->out, 6) == 0 && r_words(&c->out, argv) == 0 ?
	    0 : -1;
}

/* XACK what the last answer held (if anything), then the next
   XREADGROUP, COUNT batch, BLOCK 1 s. */
static int
st_read(struct bconn *c)
{
	char g[16], count[16];
	const char *xack[] = { "XACK", c->b->room, g, NULL };
	const char *argv[] = { "XREADGROUP", "GROUP", g, "c", "COUNT", count,
		"BLOCK", "1000", "STREAMS", c->b->room, ">", NULL };

	st_group(c, g, sizeof(g));
	(void)snprintf(count, sizeof(count), "%u", c->b->batch);
	if (c->nack > 0) {
		if (r_array(&c->out, 3 + c->nack) != 0 ||
		    r_words(&c->out, xack) != 0 ||
		    buf_append(&c->out, buf_data(&c->ack), buf_size(&c->ack)) !=
		    0)
			return -1;
		buf_truncate(&c->ack, 0);
		c->nack = 0;
	}
	return r_array(&c->out, 11) == 0 && r_words(&c->out, argv) == 0 ?
	    0 : -1;
}

/* A one-line answer: XGROUP's (+OK, or -BUSYGROUP from an earlier
   run), XACK's count, an error. */
static int
st_line(struct bconn *c, const char *p, size_t len)
{
	if (c->state == BS_SETUP) {
		if (*p == '-' && (len < 10 || memcmp(p, "-BUSYGROUP", 10) != 0))
			return -1;
		if (c->role == R_ENROL) {
			c->state = BS_DONE;     /* its group stays unread */
			return 0;
		}
		c->state = BS_READY;
		return st_read(c);
	}
	if (*p == '-') {
		c->b->refused++;
		if (c->b->errors++ < 5)
			(void)fprintf(stderr, "missive-bench: redis: %.*s\n",
			    (int)(len < 200 ? len : 200), p);
	}
	return 0;
}

static int
st_input(struct bconn *c)
{
	const char *p, *end, *q, *s;
	size_t used, n;
	int r;

	while (c->state != BS_DONE && buf_size(&c->in) > 0) {
		p = (const char *)buf_data(&c->in);
		end = p + buf_size(&c->in);
		if (*p == '*') {
			if ((r = st_entries(c, p, end, &used, 0)) <= 0)
				return r;
			if (st_entries(c, p, end, &used, 1) != 1 ||
			    st_read(c) != 0)
				return -1;
		} else if (*p == '$') {
			/* XADD's answer, the entry's id: stored, in order. */
			q = p;
			if ((r = resp_bulk_at(&q, end, &s, &n)) <= 0)
				return r;
			used = (size_t)(q - p);
			bench_stored(c->b, c->b->stored);
		} else {
			if ((s = memchr(p, '\n', (size_t)(end - p))) == NULL)
				return 0;
			used = (size_t)(s - p) + 1;
			if (st_line(c, p, used) != 0)
				return -1;
		}
		buf_consume(&c->in, used);
	}
	return 0;
}

static int
st_publish(struct bconn *c, const char *payload, size_t n)
{
	const char *argv[] = { "XADD", c->b->room, "*", "p", NULL };

	return r_array(&c->out, 5) == 0 && r_words(&c->out, argv) == 0 &&
	    r_bulk(&c->out, payload, n) == 0 ? 0 : -1;
}

/* ---- MQTT 3.1.1, QoS 0 ---- */

/* A fixed header: the type byte and the remaining length rem. */
static int
mq_header(struct buf *b, uint8_t type, size_t rem)
{
	uint8_t hdr[5];
	size_t len = 0;

	hdr[len++] = type;
	do {
		hdr[len] = (uint8_t)(rem % 128);
		rem /= 128;
		if (rem > 0)
			hdr[len] |= 0x80;
		len++;
	} while (rem > 0 && len < sizeof(hdr));
	return buf_append(b, hdr, len);
}

static int
mq_packet(struct buf *b, uint8_t type, const uint8_t *body, size_t n)
{
	return mq_header(b, type, n) == 0 && buf_append(b, body, n) == 0 ?
	    0 : -1;
}

static int
mq_start(struct bconn *c)
{
	/* CONNECT: "MQTT", level 4, clean session, keepalive 0 (none). */
	uint8_t body[64] = { 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 0 };
	size_t n = 10, t = strlen(BENCH_TOPIC);
	int idlen = snprintf((char *)body + 12, 32, "b%u", c->member);

	body[10] = 0;
	body[11] = (uint8_t)idlen;
	n += 2 + (size_t)idlen;
	if (mq_packet(&c->out, 0x10, body, n) != 0)
		return -1;
	if (c->role == R_PUB)
		return 0;
	/* SUBSCRIBE, packet id 1, the topic at QoS 0. */
	body[0] = 0;
	body[1] = 1;
	body[2] = 0;
	body[3] = (uint8_t)t;
	memcpy(body + 4, BENCH_TOPIC, t);
	body[4 + t] = 0;
	return mq_packet(&c->out, 0x82, body, 5 + t);
}

static int
mq_input(struct bconn *c)
{
	const uint8_t *p;
	size_t avail, rem, hl, tl;
	int shift;

	for (;;) {
		p = buf_data(&c->in);
		avail = buf_size(&c->in);
		rem = 0;
		shift = 0;
		for (hl = 1; hl < avail && hl < 5; hl++) {
			rem |= (size_t)(p[hl] & 0x7f) << shift;
			shift += 7;
			if (!(p[hl] & 0x80))
				break;
		}
		if (hl >= avail || hl >= 5 || avail < hl + 1 + rem)
			return hl >= 5 ? -1 : 0;
		hl++;
		if ((p[0] & 0xf0) == 0x30 && rem >= 2) {
			tl = be16_load(p + hl);
			if (tl + 2 <= rem)
				bench_deliver(c, (const char *)p + hl + 2 + tl,
				    rem - 2 - tl);
		} else if (p[0] == 0x90 || (p[0] == 0x20 && c->role == R_PUB)) {
			c->state = BS_READY;
		}
		buf_consume(&c->in, hl + rem);
	}
}

static int
mq_publish(struct bconn *c, const char *payload, size_t n)
{
	uint8_t tl[2] = { 0, (uint8_t)strlen(BENCH_TOPIC) };

	return mq_header(&c->out, 0x30, 2 + strlen(BENCH_TOPIC) + n) == 0 &&
	    buf_append(&c->out, tl, 2) == 0 && put(&c->out, BENCH_TOPIC) == 0 &&
	    buf_append(&c->out, payload, n) == 0 ? 0 : -1;
}

/* ---- the bare relay ---- */

static int
rl_input(struct bconn *c)
{
	const uint8_t *p;
	uint32_t n;

	while (buf_size(&c->in) >= 4) {
		p = buf_data(&c->in);
		n = be32_load(p);
		if (buf_size(&c->in) < 4 + (size_t)n)
			break;
		if (n == 0)
			c->state = BS_READY;
		else
			bench_deliver(c, (const char *)p + 4, n);
		buf_consume(&c->in, 4 + (size_t)n);
	}
	return 0;
}

static int
rl_publish(struct bconn *c, const char *payload, size_t n)
{
	uint8_t hdr[4];

	be32_store(hdr, (uint32_t)n);
	return buf_append(&c->out, hdr, 4) == 0 &&
	    buf_append(&c->out, payload, n) == 0 ? 0 : -1;
}

/* ---- dispatch ---- */

int
proto_start(struct bconn *c)
{
	static const uint8_t hello[4];

	c->state = BS_SETUP;
	switch (c->b->proto) {
	case P_MISSIVE:
		return m_start(c);
	case P_REDIS:
		if (c->role == R_PUB) {
			c->state = BS_READY;
			return 0;
		}
		return r_cmd(&c->out, "SUBSCRIBE", NULL, 0);
	case P_MQTT:
		return mq_start(c);
	case P_RELAY:
		return buf_append(&c->out, hello, sizeof(hello));
	case P_STREAMS:
		if (c->role == R_PUB) {
			c->state = BS_READY;
			return 0;
		}
		return st_start(c);
	}
	return -1;
}

int
proto_input(struct bconn *c)
{
	switch (c->b->proto) {
	case P_MISSIVE:
		return m_input(c);
	case P_REDIS:
		return r_input(c);
	case P_MQTT:
		return mq_input(c);
	case P_RELAY:
		return rl_input(c);
	case P_STREAMS:
		return st_input(c);
	}
	return -1;
}

int
proto_publish(struct bconn *c, const char *payload, size_t n)
{
	struct bench *b = c->b;
	unsigned long long k = b->lines++;

	b->sent++;
	if (b->store_latency && bench_sent_at(b, k) != 0)
		return -1;
	switch (b->proto) {
	case P_MISSIVE:
		return m_publish(c, payload, n, k);
	case P_REDIS:
		return r_cmd(&c->out, "PUBLISH", payload, n);
	case P_MQTT:
		return mq_publish(c, payload, n);
	case P_RELAY:
		return rl_publish(c, payload, n);
	case P_STREAMS:
		return st_publish(c, payload, n);
	}
	return -1;
}

/* missive: acknowledge what came (the receiver is idle now), seal what
   is queued into records (one per max_frame). */
int
proto_flush(struct bconn *c)
{
	int r;

	if (c->b->proto != P_MISSIVE)
		return 0;
	if (c->seq > c->acked && c->role != R_ENROL && c->state != BS_DONE &&
	    m_ack(c) != 0)
		return -1;
	if (buf_size(&c->txplain) == 0)
		return 0;
	r = kd_chan_seal(&c->tx, &c->txplain, &c->out, BENCH_FRAME_MAX);
	if (!c->b->keep_buffers)
		buf_shrink(&c->txplain);
	return r == 0 ? 0 : -1;
}

void
proto_free(struct bconn *c)
{
	if (c->hs != NULL) {
		kd_hs_clear(c->hs);
		free(c->hs);
		c->hs = NULL;
	}
	if (c->keyed) {
		kd_record_clear(&c->tx);
		kd_record_clear(&c->rx);
		c->keyed = 0;
	}
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->txplain);
	buf_free(&c->ack);
	c->nack = 0;
}
