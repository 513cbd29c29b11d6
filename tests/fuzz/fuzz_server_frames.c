/*
 * Fuzz the server's frame handlers after login (server/protocol.c: the
 * dispatch table, rooms, who, private conversations, chat, sender keys and
 * acknowledgements), without sockets or a database: a struct server with
 * three logged-in connections whose fds are -1, so that server/loop.c only
 * queues what they are sent, and no writer thread, so that every line
 * queued for storage is refused (1021) when the batch is handed over.
 * alice (the fuzzed one), bob, and alice's second device; bob is in lobby
 * and dev.
 *
 * Input: byte 0 is a set of flags (F_* below), the rest is frames from
 * alice, one per line, sealed into records with her receiving key and
 * handed to protocol_input() as the loop does.  At the end the connections
 * that failed leave their rooms (the loop's reap), then all are freed.
 *
 * Checked: every frame queued to any connection is one the client accepts:
 * a known opcode with the field count of common/proto.c's table, valid
 * UTF-8 (the client drops a connection otherwise), and with its LF at
 * most max_frame bytes (else sealing it would fail).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/text.h"
#include "keydist/channel.h"
#include "server/conn.h"
#include "server/inbox.h"
#include "server/store.h"
#include "tests/fuzz/util.h"

#define F_LOBBY     0x01  /* alice is in the lobby, as after a login */
#define F_ONE       0x02  /* all frames in one record (else one each) */
#define F_SMALL     0x04  /* max_frame 8192, else 65536 */
#define F_FULL      0x08  /* rooms of at most 2 members */

#define NCONN 3

static struct server_config cfg;
static int trace;                     /* MISSIVE_FUZZ_TRACE: print output */
static char fp[NCONN][KD_FP_SIZE];
static char *spki[NCONN];

/* Who the connections are. */
static const char *const users[NCONN] = { "alice", "bob", "alice" };
static const char *const nicks[NCONN] = { "Alice", "Bob \xc3\xa9", "Alice" };


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *pem[NCONN] = { fuzz_key_alice_pem, fuzz_key_bob_pem,
	    fuzz_key_server_pem };
	unsigned char *der;
	EVP_PKEY *key;
	size_t len, i;

	(void)argc;
	(void)argv;
	/* Only warnings, and those nowhere: the handlers log every join. */
	FUZZ_CHECK(log_open("/dev/null", 1) == 0);
	trace = getenv("MISSIVE_FUZZ_TRACE") != NULL;
	for (i = 0; i < NCONN; i++) {
		key = fuzz_key(pem[i]);
		FUZZ_CHECK(kd_fingerprint(key, fp[i]) == 0);
		FUZZ_CHECK(kd_key_to_der(key, &der, &len) == 0);
		FUZZ_CHECK((spki[i] = malloc(B64_ENCODED_SIZE(len))) != NULL);
		FUZZ_CHECK(b64_encode(der, len, spki[i], B64_ENCODED_SIZE(len),
		    1) > 0);
		OPENSSL_free(der);
		EVP_PKEY_free(key);
	}
	cfg.max_clients = 100;
	cfg.output_queue_max = 1 << 20;
	cfg.handshake_timeout = 10;
	cfg.idle_timeout = 90;
	cfg.keepalive_interval = 30;
	cfg.max_rooms_per_client = 4;
	cfg.max_rooms = 5;
	return 0;
}

static struct conn *
conn_new(struct server *s, size_t i, struct kd_record_dir *ctx)
{
	struct conn *c;

	FUZZ_CHECK((c = calloc(1, sizeof(*c))) != NULL);
	c->srv = s;
	c->fd = -1;
	c->id = i + 1;
	(void)snprintf(c->ip, sizeof(c->ip), "192.0.2.%zu", i + 1);
	(void)snprintf(c->addr, sizeof(c->addr), "%s:4000", c->ip);
	c->state = CONN_LOGGED_IN;
	(void)snprintf(c->user, sizeof(c->user), "%s", users[i]);
	(void)snprintf(c->nick, sizeof(c->nick), "%s", nicks[i]);
	memcpy(c->key_fp, fp[i], sizeof(c->key_fp));
	FUZZ_CHECK((c->spki = strdup(spki[i])) != NULL);
	FUZZ_CHECK(kd_record_init(&c->rx, fuzz_record_key, fuzz_record_iv,
	    KD_RECORD_REKEY_DEFAULT, 0) == 0);
	FUZZ_CHECK(kd_record_init(&c->tx, fuzz_record_key, fuzz_record_iv,
	    KD_RECORD_REKEY_DEFAULT, 1) == 0);
	/* What the client seals with: c->rx's key, its own sequence. */
	FUZZ_CHECK(kd_record_init(ctx, fuzz_record_key, fuzz_record_iv,
	    KD_RECORD_REKEY_DEFAULT, 1) == 0);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	s->nlogged++;
	c->dev = (long long)i + 1;
	FUZZ_CHECK((c->member = members_get(&s->members, c->user, 1)) != NULL);
	FUZZ_CHECK(users_add(&s->users, &c->by_user, c->user) == 0);
	FUZZ_CHECK(inbox_login(c) == 0);
	/* Held until the end: with fd -1 it is "closed", and the store's
	   last reference would free it. */
	c->jobs++;
	return c;
}

/* The client sends plain (whole frames) in one record. */
static void
send_record(struct conn *c, struct kd_record_dir *ctx, const void *plain,
    size_t len)
{
	size_t n;

	if (len == 0 || len > (size_t)cfg.max_frame)
		return;
	FUZZ_CHECK(buf_reserve(&c->in, len + KD_RECORD_OVERHEAD) == 0);
	FUZZ_CHECK(kd_record_seal(ctx, plain, len, buf_tail(&c->in),
	    len + KD_RECORD_OVERHEAD, &n) == 0);
	buf_commit(&c->in, n);
	protocol_input(c);
}

static void
send_text(struct conn *c, struct kd_record_dir *ctx, const char *text)
{
	send_record(c, ctx, text, strlen(text));
}

/* Every frame queued to c is one the client takes. */
static void
check_output(const struct conn *c)
{
	const struct proto_op_spec *spec;
	const char *p, *nl;
	size_t left = buf_size(&c->pend), len;
	struct frame f;
	unsigned op;

	if (left == 0)
		return;		/* maybe no storage: buf_data() is NULL + 0 */
	p = (const char *)buf_data(&c->pend);
	while (left > 0) {
		nl = memchr(p, '\n', left);
		FUZZ_CHECK(nl != NULL);
		len = (size_t)(nl - p);
		if (trace)
			(void)fprintf(stderr, "to %s#%llu: %.*s\n", c->user,
			    (unsigned long long)c->id, (int)len, p);
		FUZZ_CHECK(len + 1 <= (size_t)cfg.max_frame);
		FUZZ_CHECK(utf8_valid((const uint8_t *)p, len));
		FUZZ_CHECK(frame_opcode(p, len, &op) == 0);
		/* After the handshake, only frames to a client. */
		FUZZ_CHECK((spec = proto_op_spec(op)) != NULL &&
		    proto_op_from_server(op) && op != OP_SERVER_HELLO &&
		    op != OP_SERVER_FINISHED && op != OP_REFUSED);
		FUZZ_CHECK(frame_parse(p, len, spec->min, spec->max, &f) == 0);
		p += len + 1;
		left -= len + 1;
	}
}

/* Alice's frames: one record each, or all in one. */
static void
alice_sends(struct conn *a, struct kd_record_dir *ctx, int one,
    const uint8_t *p, size_t left)
{
	const uint8_t *nl;
	char *plain;
	size_t len;

	if (one) {
		if ((plain = malloc(left + 1)) == NULL)
			abort();
		memcpy(plain, p, left);
		if (left > 0 && plain[left - 1] != '\n')
			plain[left++] = '\n';
		send_record(a, ctx, plain, left);
		free(plain);
		return;
	}
	while (left > 0 && !a->dead) {
		nl = memchr(p, '\n', left);
		len = nl != NULL ? (size_t)(nl - p) : left;
		if (len > 0) {
			if ((plain = malloc(len + 1)) == NULL)
				abort();
			memcpy(plain, p, len);
			plain[len] = '\n';
			send_record(a, ctx, plain, len + 1);
			free(plain);
		}
		p += len + (nl != NULL);
		left -= len + (nl != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	struct kd_record_dir ctx[NCONN];
	struct conn *c[NCONN], *o;
	struct server s;
	size_t i;

	cfg.max_frame = (flags & F_SMALL) ? FRAME_MAX_FRAME_MIN : 65536;
	cfg.max_room_members = (flags & F_FULL) ? 2 : 8;
	memset(&s, 0, sizeof(s));
	s.cfg = &cfg;
	s.epfd = s.lfd = s.sigfd = -1;
	s.now_ms = 1000000;
	rooms_init(&s.rooms, (size_t)cfg.max_rooms,
	    (size_t)cfg.max_room_members, (size_t)cfg.max_rooms_per_client);
	s.rooms.keep_empty = 1;
	users_init(&s.users);
	for (i = 0; i < NCONN; i++) {
		struct enrolled_key k = { .key_id = (long long)i + 1,
			.spki = spki[i] };

		memcpy(k.fp, fp[i], sizeof(k.fp));
		(void)snprintf(k.owner, sizeof(k.owner), "%s", users[i]);
		(void)snprintf(k.nick, sizeof(k.nick), "%s", nicks[i]);
		FUZZ_CHECK(enrolled_add(&s.enrolled, &k) == 0);
	}
	FUZZ_CHECK(enrolled_seal(&s.enrolled) == 0);
	for (i = NCONN; i > 0; i--)
		c[i - 1] = conn_new(&s, i - 1, &ctx[i - 1]);
	send_text(c[1], &ctx[1], "0011|" PROTO_LOBBY "\n0011|dev\n");
	if (flags & F_LOBBY)
		send_text(c[0], &ctx[0], "0011|" PROTO_LOBBY "\n");
	alice_sends(c[0], &ctx[0], (flags & F_ONE) != 0, in.p, in.left);
	/* The end of the pass: the batch goes (and is refused). */
	store_kick(&s);
	/* The reap: the failed ones go offline, telling the others. */
	for (o = s.dead; o != NULL; o = o->dead_next)
		protocol_leave(o);
	for (i = 0; i < NCONN; i++)
		check_output(c[i]);
	for (i = 0; i < NCONN; i++)
		protocol_leave(c[i]);
	store_stop(&s);
	for (i = 0; i < NCONN; i++) {
		c[i]->jobs--;
		conn_release(c[i]);
		kd_record_clear(&ctx[i]);
	}
	members_free(&s.members, &s.rooms);
	rooms_free(&s.rooms);
	users_free(&s.users);
	enrolled_free(&s.enrolled);
	inbox_free(&s);
	return 0;
}
