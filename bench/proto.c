/*
 * The four protocols of missive-bench, each reduced to what the workloads
 * need: set a connection up (connect, subscribe or log in and join the
 * room), publish a payload, and find the payloads in what arrives.
 *
 * missive: the real handshake (keydist/handshake.c) and records
 * (keydist/channel.c), a real login and room; the payload goes as the
 * message of 0002 and comes back as the last field of 1002.  No
 * end-to-end layer: the server cannot tell, it relays base64 it cannot
 * open either way, and the bench measures the server, not the client.
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


enum mstep { MS_HELLO, MS_FINISHED, MS_LOGIN, MS_JOIN, MS_IN };

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

/* 1001: out of the lobby, into the room. */
static int
m_login(struct bconn *c, const char *f, size_t len)
{
	struct bench *b = c->b;
	struct frame fr;

	if (parse_op(f, len, OP_LOGIN_RESULT, &fr) != 0 ||
	    !frame_field_is(&fr.field[0], proto_login_word(PROTO_LOGIN_OK)))
		return -1;
	if (c->role == R_LOGIN) {
		c->state = BS_DONE;
		return send_op(c, OP_QUIT, NULL);
	}
	c->step = MS_JOIN;
	if (send_op(c, OP_LEAVE, PROTO_LOBBY) != 0)
		return -1;
	return b->room == NULL ? 0 : send_op(c, OP_JOIN, b->room);
}

/* The answer that ends MS_JOIN: 1011 for the room, 1013 for the lobby. */
static int
m_joined(struct bconn *c, const char *f, size_t len)
{
	struct frame fr;

	if (c->b->room != NULL)
		return parse_op(f, len, OP_DEVICES_END, &fr) == 0 &&
		    frame_field_is(&fr.field[0], c->b->room);
	return parse_op(f, len, OP_LEFT, &fr) == 0 &&
	    frame_field_is(&fr.field[0], PROTO_LOBBY);
}

static int
m_frame(struct bconn *c, const char *f, size_t len)
{
	struct bench *b = c->b;
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
	if (op == OP_DELIVERY) {
		/* nickname|user|fp|conv|timestamp|message: the message. */
		if (parse_op(f, len, OP_DELIVERY, &fr) == 0)
			bench_deliver(c, fr.field[5].p, fr.field[5].len);
		return 0;
	}
	if (op == OP_SERVER_PING) {
		/* A keepalive ping: answer 0006 with the token. */
		return parse_op(f, len, OP_SERVER_PING, &fr) == 0 &&
		    frame_put(&c->txplain, OP_PONG, fr.field, 1) == 0 ? 0 : -1;
	}
	if (op == OP_ERROR || op == OP_CLOSING) {
		if (b->errors++ < 5)
			(void)fprintf(stderr, "missive-bench: server: %.*s\n",
			    (int)(len < 200 ? len : 200), f);
		return op == OP_CLOSING ? -1 : 0;
	}
	if (c->step != MS_JOIN)
		return 0;
	if (m_joined(c, f, len)) {
		c->step = MS_IN;
		c->state = BS_READY;
	}
	return 0;
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

static int
m_publish(struct bconn *c, const char *payload, size_t n)
{
	struct frame_field f[2] = {
		{ c->b->room, strlen(c->b->room) }, { payload, n },
	};

	return frame_put(&c->txplain, OP_CHAT, f, 2) == 0 ? 0 : -1;
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

static int
r_cmd(struct buf *b, const char *cmd, const char *payload, size_t n)
{
	char hdr[96];

	(void)snprintf(hdr, sizeof(hdr), "*%d\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
	    payload != NULL ? 3 : 2, strlen(cmd), cmd, strlen(BENCH_TOPIC),
	    BENCH_TOPIC);
	if (put(b, hdr) != 0)
		return -1;
	if (payload == NULL)
		return 0;
	(void)snprintf(hdr, sizeof(hdr), "$%zu\r\n", n);
	return put(b, hdr) == 0 && buf_append(b, payload, n) == 0 &&
	    put(b, "\r\n") == 0 ? 0 : -1;
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
	}
	return -1;
}

int
proto_publish(struct bconn *c, const char *payload, size_t n)
{
	c->b->sent++;
	switch (c->b->proto) {
	case P_MISSIVE:
		return m_publish(c, payload, n);
	case P_REDIS:
		return r_cmd(&c->out, "PUBLISH", payload, n);
	case P_MQTT:
		return mq_publish(c, payload, n);
	case P_RELAY:
		return rl_publish(c, payload, n);
	}
	return -1;
}

/* missive: seal what is queued into records (one per max_frame). */
int
proto_flush(struct bconn *c)
{
	int r;

	if (c->b->proto != P_MISSIVE || buf_size(&c->txplain) == 0)
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
}
