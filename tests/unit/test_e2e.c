/*
 * Unit tests: the client core's end-to-end state (client/e2e.c) with real
 * keys and the frames it produces: a room round trip, rotation when a
 * member leaves or joins (a former member with its old keys cannot read on,
 * a new one cannot read back), a forgery by a member who holds the
 * sender's AES key, replays, private conversations bound to both users,
 * the peers' keys put away and taken back after a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/e2e.h"
#include "common/b64.h"
#include "common/clock.h"
#include "common/proto.h"
#include "common/err.h"
#include "keydist/keys.h"
#include "keydist/random.h"

#define MAX_FRAME 65536

struct party {
	const char *user;
	EVP_PKEY *key;
	char fp[KD_FP_SIZE];
	char spki[1024];
	struct e2e e2e;
};

static struct party alice = { .user = "alice" }, bob = { .user = "bob" },
    carol = { .user = "carol" }, dave = { .user = "dave" };
static struct party *const all[] = { &alice, &bob, &carol, &dave };

static int
setup(void **state)
{
	unsigned char *der = NULL;
	size_t i, len;

	(void)state;
	for (i = 0; i < 4; i++) {
		struct party *p = all[i];

		if (kd_key_generate(KD_RSA_BITS, &p->key) != 0 ||
		    kd_fingerprint(p->key, p->fp) != 0 ||
		    kd_key_to_der(p->key, &der, &len) != 0 ||
		    b64_encode(der, len, p->spki, sizeof(p->spki), 1) < 0)
			return -1;
		OPENSSL_free(der);
	}
	return 0;
}

static int
teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		EVP_PKEY_free(all[i]->key);
	return 0;
}

static int
start(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		if (e2e_init(&all[i]->e2e, all[i]->key, all[i]->user) != 0)
			return -1;
	return 0;
}

static int
stop(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		e2e_fini(&all[i]->e2e);
	return 0;
}

/* p's conversation name, with devices of the others listed. */
static struct e2e_conv *
conv_with(struct party *p, const char *name, struct party *const *others,
    size_t n)
{
	struct e2e_conv *cv = e2e_conv(&p->e2e, name, 1);
	size_t i;

	assert_non_null(cv);
	for (i = 0; i < n; i++)
		assert_int_equal(e2e_device_add(cv, others[i]->user,
		    others[i]->user, others[i]->fp, others[i]->spki, 1), 0);
	return cv;
}

/* The frames p sealed: how many 0015s (all), and the last 0002's message
   and message id. */
struct sealed {
	char keys[4][KD_FP_SIZE];
	char *blob[4];
	size_t nkeys;
	char *msg;
	uint8_t mid[E2E_MID_LEN];
};

static void
sealed_free(struct sealed *s)
{
	size_t i;

	for (i = 0; i < s->nkeys; i++)
		free(s->blob[i]);
	free(s->msg);
	memset(s, 0, sizeof(*s));
}

/* Seal text from p in cv with message id mid, signed at time_ms, and split
   the frames. */
static void
seal_at(struct party *p, struct e2e_conv *cv, const uint8_t *mid,
    int64_t time_ms, const char *text, struct sealed *out)
{
	struct buf b = BUF_INIT;
	char *all_frames, *line, *save = NULL, *f[4], hex[E2E_MID_HEX_SIZE];
	size_t k, n, prefix = strlen(cv->name) + 6;

	memset(out, 0, sizeof(*out));
	assert_int_equal(e2e_seal(&p->e2e, cv, mid, p->user, time_ms,
	    text, strlen(text), MAX_FRAME, &b), 0);
	e2e_commit(cv);
	n = buf_size(&b);
	all_frames = strndup((const char *)buf_data(&b), n);
	assert_non_null(all_frames);
	for (line = strtok_r(all_frames, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "0015|", 5) == 0) {
			assert_true(out->nkeys < 4);
			assert_memory_equal(line + 5, cv->name,
			    strlen(cv->name));
			f[0] = line + prefix;
			f[1] = strchr(f[0], '|');
			assert_non_null(f[1]);
			*f[1]++ = '\0';
			k = out->nkeys;
			(void)snprintf(out->keys[k], KD_FP_SIZE, "%s", f[0]);
			out->blob[k] = strdup(f[1]);
			assert_non_null(out->blob[k]);
			out->nkeys = k + 1;
		} else {
			/* 0002|conv|mid|message: the mid in hex. */
			assert_memory_equal(line, "0002|", 5);
			e2e_mid_hex(mid, hex);
			assert_memory_equal(line + prefix, hex, PROTO_MID_HEX);
			assert_int_equal(line[prefix + PROTO_MID_HEX], '|');
			assert_int_equal(e2e_mid_parse(hex, out->mid), 0);
			assert_memory_equal(out->mid, mid, E2E_MID_LEN);
			free(out->msg);
			out->msg = strdup(line + prefix + PROTO_MID_HEX + 1);
		}
	}
	assert_non_null(out->msg);
	free(all_frames);
	buf_free(&b);
}

static void
seal_mid(struct party *p, struct e2e_conv *cv, const uint8_t *mid,
    const char *text, struct sealed *out)
{
	seal_at(p, cv, mid, clock_wall_ms(), text, out);
}

/* The same with a new message id, as the client core does. */
static void
seal(struct party *p, struct e2e_conv *cv, const char *text,
    struct sealed *out)
{
	uint8_t mid[E2E_MID_LEN];

	assert_int_equal(kd_random(mid, sizeof(mid)), 0);
	seal_mid(p, cv, mid, text, out);
}

/* Give to the sender key in s that was made for it (if any). */
static int
accept_for(struct party *to, struct e2e_conv *cv, struct party *from,
    const struct sealed *s)
{
	size_t i;

	for (i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i], to->fp) == 0)
			return e2e_accept(&to->e2e, cv, from->user, from->fp,
			    from->spki, s->blob[i]);
	return E_NOT_FOUND;
}

/* Open msg as a live row (or, with behind_ms, a stored one) labelled
   outer_mid (NULL: none). */
static int
open_row(struct e2e_conv *cv, struct party *from, const char *msg,
    int64_t behind_ms, const uint8_t *outer_mid, char *out, size_t cap)
{
	struct e2e_line line;
	int r = e2e_open(cv, from->user, msg, clock_wall_ms(), behind_ms,
	    outer_mid, out, cap, &line);

	if (r == 0) {
		assert_string_equal(line.fp, from->fp);
		assert_string_equal(line.nick, from->user);
	}
	return r;
}

static int
open_text(struct e2e_conv *cv, struct party *from, const char *msg,
    char *out, size_t cap)
{
	return open_row(cv, from, msg, E2E_BEHIND_MS, NULL, out, cap);
}

static void
test_room_round_trip(void **state)
{
	struct party *const others[] = { &bob, &carol };
	struct party *const to_alice[] = { &alice };
	struct e2e_conv *a = conv_with(&alice, "lobby", others, 2);
	struct e2e_conv *b = conv_with(&bob, "lobby", to_alice, 1);
	struct e2e_conv *c = conv_with(&carol, "lobby", to_alice, 1);
	struct sealed s;
	char text[128];

	(void)state;
	seal(&alice, a, "hello | world", &s);
	assert_int_equal(s.nkeys, 2);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(accept_for(&carol, c, &alice, &s), 0);
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "hello | world");
	assert_int_equal(open_text(c, &alice, s.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "hello | world");
	/* The same message again is a replay. */
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)),
	    E_REPLAY);
	sealed_free(&s);

	/* Nobody came or went: no new key, the next message just opens. */
	seal(&alice, a, "second", &s);
	assert_int_equal(s.nkeys, 0);
	assert_int_equal(open_text(c, &alice, s.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "second");
	sealed_free(&s);
}

/*
 * A line sent again after a reconnect (same message id, new sender key)
 * is dropped as a duplicate; a new id opens.
 */
static void
test_resent_line_is_dropped(void **state)
{
	struct party *const others[] = { &bob };
	struct party *const to_alice[] = { &alice };
	struct e2e_conv *a = conv_with(&alice, "lobby", others, 1);
	struct e2e_conv *b = conv_with(&bob, "lobby", to_alice, 1);
	uint8_t mid[E2E_MID_LEN];
	struct sealed s;
	char text[128];

	(void)state;
	memset(mid, 0x5a, sizeof(mid));
	seal_mid(&alice, a, mid, "once", &s);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "once");
	sealed_free(&s);

	/* A reconnect: Alice's device list changes, so a new sender key. */
	e2e_devices_clear(a);
	assert_int_equal(e2e_device_add(a, bob.user, "Bob", bob.fp, bob.spki,
	    1), 0);
	seal_mid(&alice, a, mid, "once", &s);
	assert_int_equal(s.nkeys, 1);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)),
	    E_DUPLICATE);
	sealed_free(&s);

	seal(&alice, a, "twice", &s);
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "twice");
	sealed_free(&s);
}

static void
test_former_member_cannot_read_on(void **state)
{
	struct party *const others[] = { &bob, &carol };
	struct party *const to_alice[] = { &alice };
	struct e2e_conv *a = conv_with(&alice, "dev", others, 2);
	struct e2e_conv *b = conv_with(&bob, "dev", to_alice, 1);
	struct e2e_conv *c = conv_with(&carol, "dev", to_alice, 1);
	struct sealed s;
	char text[128];

	(void)state;
	seal(&alice, a, "before", &s);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(accept_for(&carol, c, &alice, &s), 0);
	assert_int_equal(open_text(c, &alice, s.msg, text, sizeof(text)), 0);
	sealed_free(&s);

	/* Carol leaves; she keeps every key she had. */
	e2e_device_remove(a, "carol", carol.fp);
	seal(&alice, a, "after carol left", &s);
	assert_int_equal(s.nkeys, 1);
	assert_string_equal(s.keys[0], bob.fp);
	assert_int_equal(accept_for(&carol, c, &alice, &s), E_NOT_FOUND);
	assert_int_equal(open_text(c, &alice, s.msg, text, sizeof(text)),
	    E_NOT_FOUND);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "after carol left");
	sealed_free(&s);
}

static void
test_new_member_cannot_read_back(void **state)
{
	struct party *const others[] = { &bob };
	struct party *const newcomer[] = { &dave };
	struct party *const to_alice[] = { &alice };
	struct e2e_conv *a = conv_with(&alice, "dev", others, 1);
	struct e2e_conv *d = conv_with(&dave, "dev", to_alice, 1);
	struct sealed old, s;
	char text[128];

	(void)state;
	seal(&alice, a, "said before dave", &old);
	(void)conv_with(&alice, "dev", newcomer, 1);
	seal(&alice, a, "said after dave", &s);
	assert_int_equal(s.nkeys, 2);
	assert_int_equal(accept_for(&dave, d, &alice, &s), 0);
	assert_int_equal(open_text(d, &alice, old.msg, text, sizeof(text)),
	    E_NOT_FOUND);
	assert_int_equal(open_text(d, &alice, s.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "said after dave");
	sealed_free(&old);
	sealed_free(&s);
}

/*
 * Bob holds Alice's AES key and IV, so he can encrypt in her name; he
 * cannot sign as her.  Carol refuses his message as a forgery.
 */
static void
test_forgery_by_member(void **state)
{
	struct party *const others[] = { &bob, &carol };
	struct party *const to_alice[] = { &alice };
	struct e2e_conv *a = conv_with(&alice, "lobby", others, 2);
	struct e2e_conv *b = conv_with(&bob, "lobby", to_alice, 1);
	struct e2e_conv *c = conv_with(&carol, "lobby", to_alice, 1);
	struct kd_sender_key forged;
	struct sealed s;
	uint8_t plain[16], bin[256];
	char msg[512], text[128];
	size_t len;

	(void)state;
	seal(&alice, a, "genuine", &s);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(accept_for(&carol, c, &alice, &s), 0);
	sealed_free(&s);
	assert_int_equal(b->npeer, 1);

	assert_int_equal(kd_sk_generate(&forged), 0);
	memcpy(forged.id, b->peer[0].sk.id, KD_SK_ID_LEN);
	memcpy(forged.ck, b->peer[0].sk.ck, sizeof(forged.ck));
	forged.next = 1;
	plain[0] = E2E_KIND_TEXT;
	memcpy(plain + 1, "pay bob", 7);
	assert_int_equal(kd_sk_seal(&forged, "lobby", "alice", plain, 8, bin,
	    sizeof(bin), &len), 0);
	assert_true(b64_encode(bin, len, msg, sizeof(msg), 1) > 0);
	assert_int_equal(open_text(c, &alice, msg, text, sizeof(text)),
	    E_SIG_INVALID);
	kd_sk_clear(&forged);

	/* Alice's real next message still opens. */
	seal(&alice, a, "still genuine", &s);
	assert_int_equal(open_text(c, &alice, s.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "still genuine");
	sealed_free(&s);
}

/* A private conversation: both ends bind "@alice,bob". */
static void
test_private_conversation(void **state)
{
	struct party *const to_bob[] = { &bob };
	struct party *const to_alice[] = { &alice };
	struct e2e_conv *a = conv_with(&alice, "@bob", to_bob, 1);
	struct e2e_conv *b = conv_with(&bob, "@alice", to_alice, 1);
	struct e2e_conv *c = conv_with(&carol, "@alice", to_alice, 1);
	struct sealed s;
	char text[128];

	(void)state;
	assert_string_equal(a->bound, "@alice,bob");
	assert_string_equal(b->bound, "@alice,bob");
	seal(&alice, a, "just for bob", &s);
	assert_int_equal(s.nkeys, 1);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "just for bob");
	/* Carol, handed the blob, cannot open it: not hers. */
	assert_int_not_equal(e2e_accept(&carol.e2e, c, "alice", alice.fp,
	    alice.spki, s.blob[0]), 0);
	sealed_free(&s);
}

static void
test_device_key_must_match(void **state)
{
	struct e2e_conv *a = e2e_conv(&alice.e2e, "lobby", 1);

	(void)state;
	assert_non_null(a);
	assert_int_equal(e2e_device_add(a, "bob", "Bob", carol.fp, bob.spki,
	    1), E_KEY_MISMATCH);
	assert_int_equal(e2e_device_add(a, "bob", "Bob", bob.fp, "!!", 1),
	    E_MALFORMED);
	assert_int_equal(a->ndev, 0);
	assert_null(e2e_conv(&alice.e2e, "@Bad|name", 1));
	assert_true(e2e_text_max(4096) > 2000);
}

/* How many 0015 frames one e2e_seal() of text appends (not committed). */
static size_t
keys_sent(struct e2e_conv *cv, int64_t now_ms)
{
	uint8_t mid[E2E_MID_LEN] = { 0 };
	struct buf b = BUF_INIT;
	const char *p, *end;
	size_t n = 0;

	assert_int_equal(e2e_seal(&alice.e2e, cv, mid, "Alice", now_ms, "x",
	    1, MAX_FRAME, &b), 0);
	p = (const char *)buf_data(&b);
	end = p + buf_size(&b);
	for (; p < end; p = (const char *)memchr(p, '\n', (size_t)(end - p)) +
	    1)
		n += strncmp(p, "0015|", 5) == 0;
	buf_free(&b);
	return n;
}

/*
 * A new sender key counts as given out only once the caller queued its
 * frames (e2e_commit()); it is replaced after E2E_KEY_MESSAGES messages
 * and after E2E_KEY_AGE_MS.
 */
static void
test_key_committed_and_rotated(void **state)
{
	struct party *const others[] = { &bob };
	struct e2e_conv *a = conv_with(&alice, "lobby", others, 1);
	int64_t now = clock_wall_ms();
	size_t i;

	(void)state;
	/* The frames were never queued: the key goes out again. */
	assert_int_equal(keys_sent(a, now), 1);
	assert_int_equal(keys_sent(a, now), 1);
	e2e_commit(a);
	assert_int_equal(keys_sent(a, now), 0);
	for (i = 2; i < E2E_KEY_MESSAGES; i++)
		assert_int_equal(keys_sent(a, now), 0);
	assert_int_equal(keys_sent(a, now), 1);
	e2e_commit(a);
	assert_int_equal(keys_sent(a, now + E2E_KEY_AGE_MS - 1), 0);
	assert_int_equal(keys_sent(a, now + E2E_KEY_AGE_MS), 1);
}

/*
 * A resent distribution keeps the counter: the line it came with is a
 * replay, not news; a dropped key is never taken again.
 */
static void
test_resent_key_keeps_counter(void **state)
{
	struct party *const to_bob[] = { &bob };
	struct party *const to_alice[] = { &alice };
	struct e2e_conv *a = conv_with(&alice, "lobby", to_bob, 1);
	struct e2e_conv *b = conv_with(&bob, "lobby", to_alice, 1);
	struct sealed s;
	char text[64];

	(void)state;
	seal(&alice, a, "once", &s);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)), 0);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)),
	    E_REPLAY);
	/* Alice left: her key is retired, and stays so. */
	e2e_device_remove(b, "alice", alice.fp);
	assert_int_equal(accept_for(&bob, b, &alice, &s), E_REPLAY);
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)),
	    E_REPLAY);
	sealed_free(&s);
}

/*
 * Bob's peer keys put away and taken back by a new e2e (a restart): the
 * lines after the ones he opened open, those before are replays; the
 * state is checked as a 1015 is.
 */
static void
test_peer_state_round_trip(void **state)
{
	struct party *const to_bob[] = { &bob };
	struct party *const to_alice[] = { &alice };
	struct e2e_conv *a = conv_with(&alice, "dev", to_bob, 1);
	struct e2e_conv *ap = conv_with(&alice, "@bob", to_bob, 1);
	struct e2e_conv *b = conv_with(&bob, "dev", to_alice, 1);
	struct e2e_conv *bp = conv_with(&bob, "@alice", to_alice, 1);
	struct sealed s1, s2, p1, p2;
	struct buf st = BUF_INIT;
	char text[64];
	uint64_t gen;
	size_t i;

	(void)state;
	seal(&alice, a, "one", &s1);
	seal(&alice, a, "two", &s2);
	seal(&alice, ap, "private one", &p1);
	seal(&alice, ap, "private two", &p2);
	gen = bob.e2e.peer_gen;
	assert_int_equal(accept_for(&bob, b, &alice, &s1), 0);
	assert_int_equal(accept_for(&bob, bp, &alice, &p1), 0);
	assert_true(bob.e2e.peer_gen > gen);
	gen = bob.e2e.peer_gen;
	assert_int_equal(open_text(b, &alice, s1.msg, text, sizeof(text)), 0);
	assert_int_equal(open_text(bp, &alice, p1.msg, text, sizeof(text)), 0);
	assert_true(bob.e2e.peer_gen > gen);
	assert_int_equal(e2e_peer_state_put(&bob.e2e, &st), 0);

	/* Bob restarts: no conversation yet, then the keys come back. */
	e2e_fini(&bob.e2e);
	assert_int_equal(e2e_init(&bob.e2e, bob.key, bob.user), 0);
	assert_int_equal(e2e_peer_state_take(&bob.e2e, buf_data(&st),
	    buf_size(&st)), 0);
	assert_non_null(b = e2e_conv(&bob.e2e, "dev", 0));
	assert_non_null(bp = e2e_conv(&bob.e2e, "@alice", 0));
	assert_string_equal(bp->bound, "@alice,bob");
	assert_int_equal(open_text(b, &alice, s1.msg, text, sizeof(text)),
	    E_REPLAY);
	assert_int_equal(open_text(b, &alice, s2.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "two");
	assert_int_equal(open_text(bp, &alice, p2.msg, text, sizeof(text)), 0);
	assert_string_equal(text, "private two");
	/* The same state again: the same keys, their counters kept. */
	assert_int_equal(e2e_peer_state_take(&bob.e2e, buf_data(&st),
	    buf_size(&st)), 0);
	assert_int_equal(open_text(b, &alice, s2.msg, text, sizeof(text)),
	    E_REPLAY);
	/* A key dropped since (Alice's device left) is not taken back. */
	assert_int_equal(e2e_device_add(b, "alice", "alice", alice.fp,
	    alice.spki, 1), 0);
	assert_int_equal(e2e_device_add(bp, "alice", "alice", alice.fp,
	    alice.spki, 1), 0);
	e2e_device_remove(b, "alice", alice.fp);
	e2e_device_remove(bp, "alice", alice.fp);
	assert_int_equal(e2e_peer_state_take(&bob.e2e, buf_data(&st),
	    buf_size(&st)), E_REPLAY);
	/* Cut anywhere: refused, nothing read past the end. */
	e2e_fini(&bob.e2e);
	assert_int_equal(e2e_init(&bob.e2e, bob.key, bob.user), 0);
	for (i = 0; i < buf_size(&st); i++)
		assert_int_not_equal(e2e_peer_state_take(&bob.e2e,
		    buf_data(&st), i), 0);
	buf_free(&st);
	sealed_free(&s1);
	sealed_free(&s2);
	sealed_free(&p1);
	sealed_free(&p2);
}

/* A chat line's plaintext: a NUL in the nickname is refused (fuzzed). */
static void
test_parse_line(void **state)
{
	uint8_t plain[E2E_HEAD_LEN + 8] = { E2E_KIND_TEXT };
	struct e2e_line line;
	char out[16];

	(void)state;
	plain[E2E_HEAD_LEN - 1] = 3;
	memcpy(plain + E2E_HEAD_LEN, "Bob", 3);
	memcpy(plain + E2E_HEAD_LEN + 3, "hello", 5);
	assert_int_equal(e2e_parse_line(plain, sizeof(plain), out, sizeof(out),
	    &line), 0);
	assert_string_equal(line.nick, "Bob");
	assert_string_equal(out, "hello");
	plain[E2E_HEAD_LEN + 1] = '\0';
	assert_int_equal(e2e_parse_line(plain, sizeof(plain), out, sizeof(out),
	    &line), E_MALFORMED);
	plain[E2E_HEAD_LEN + 1] = 'o';
	plain[E2E_HEAD_LEN - 1] = 9;        /* longer than what is left */
	assert_int_equal(e2e_parse_line(plain, sizeof(plain), out, sizeof(out),
	    &line), E_MALFORMED);
	plain[E2E_HEAD_LEN - 1] = 3;
	assert_int_equal(e2e_parse_line(plain, sizeof(plain), out, 5, &line),
	    E_MALFORMED);
}

/*
 * Version 3: a device is one entry, online or not; going offline keeps it
 * (and its sender keys), leaving the room removes it.
 */
static void
test_device_states(void **state)
{
	struct party *const to_alice[] = { &alice };
	struct e2e_conv *a = e2e_conv(&alice.e2e, "dev", 1);
	struct e2e_conv *b = conv_with(&bob, "dev", to_alice, 1);
	struct sealed s;
	char text[128];

	(void)state;
	assert_non_null(a);
	assert_int_equal(e2e_device_add(a, "bob", "Bob", bob.fp, bob.spki, 0),
	    0);
	assert_int_equal(e2e_device_add(a, "bob", "Bobby", bob.fp, bob.spki,
	    1), 0);
	assert_int_equal(a->ndev, 1);
	assert_int_equal(a->dev[0].online, 1);
	assert_string_equal(a->dev[0].nick, "Bobby");
	/* Offline devices get the sender key too. */
	e2e_device_offline(a, "bob", bob.fp);
	assert_int_equal(a->ndev, 1);
	assert_int_equal(a->dev[0].online, 0);
	assert_true(a->changed);
	seal(&alice, a, "while you sleep", &s);
	assert_int_equal(s.nkeys, 1);
	assert_string_equal(s.keys[0], bob.fp);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(open_text(b, &alice, s.msg, text, sizeof(text)), 0);
	sealed_free(&s);
	e2e_device_remove(a, "bob", bob.fp);
	assert_int_equal(a->ndev, 0);
}

/*
 * A stored row may be up to E2E_BACKLOG_MS old; a live one E2E_BEHIND_MS.
 * An outer mid that is not the inner one is refused, and the line's id
 * is not taken as seen.
 */
static void
test_backlog_bounds_and_outer_mid(void **state)
{
	struct party *const others[] = { &bob };
	struct party *const to_alice[] = { &alice };
	struct e2e_conv *a = conv_with(&alice, "dev", others, 1);
	struct e2e_conv *b = conv_with(&bob, "dev", to_alice, 1);
	uint8_t mid[E2E_MID_LEN], other[E2E_MID_LEN];
	struct sealed s;
	char text[128];

	(void)state;
	memset(mid, 0x11, sizeof(mid));
	memset(other, 0x22, sizeof(other));
	seal_at(&alice, a, mid, clock_wall_ms() - 2 * E2E_BEHIND_MS, "old",
	    &s);
	assert_int_equal(accept_for(&bob, b, &alice, &s), 0);
	assert_int_equal(open_row(b, &alice, s.msg, E2E_BEHIND_MS, NULL, text,
	    sizeof(text)), E_STATE);
	sealed_free(&s);
	seal_at(&alice, a, mid, clock_wall_ms() - 2 * E2E_BEHIND_MS, "old",
	    &s);
	assert_int_equal(open_row(b, &alice, s.msg, E2E_BACKLOG_MS, other,
	    text, sizeof(text)), E_INVALID);
	assert_false(e2e_seen_has(&bob.e2e, mid));
	sealed_free(&s);
	seal_at(&alice, a, mid, clock_wall_ms() - 2 * E2E_BEHIND_MS, "old",
	    &s);
	assert_int_equal(open_row(b, &alice, s.msg, E2E_BACKLOG_MS, mid, text,
	    sizeof(text)), 0);
	assert_string_equal(text, "old");
	assert_true(e2e_seen_has(&bob.e2e, mid));
	sealed_free(&s);
	seal_at(&alice, a, other, clock_wall_ms() - E2E_BACKLOG_MS - 60000,
	    "too old", &s);
	assert_int_equal(open_row(b, &alice, s.msg, E2E_BACKLOG_MS, other,
	    text, sizeof(text)), E_STATE);
	sealed_free(&s);
}

/* A mid in hex: 32 lowercase digits, nothing else. */
static void
test_mid_hex(void **state)
{
	uint8_t mid[E2E_MID_LEN], back[E2E_MID_LEN];
	char hex[E2E_MID_HEX_SIZE];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(mid); i++)
		mid[i] = (uint8_t)(i * 17 + 3);
	e2e_mid_hex(mid, hex);
	assert_string_equal(hex, "031425364758697a8b9cadbecfe0f102");
	assert_int_equal(e2e_mid_parse(hex, back), 0);
	assert_memory_equal(back, mid, sizeof(mid));
	assert_int_equal(e2e_mid_parse("031425364758697A8B9CADBECFE0F102",
	    back), E_MALFORMED);
	assert_int_equal(e2e_mid_parse("0314", back), E_MALFORMED);
	assert_int_equal(e2e_mid_parse("031425364758697a8b9cadbecfe0f10g",
	    back), E_MALFORMED);
}

/* When a nickname alone could mislead, the user name goes with it. */
static void
test_nick_misleads(void **state)
{
	(void)state;
	assert_false(e2e_nick_misleads(&alice.e2e, "bob", "Bob"));
	assert_false(e2e_nick_misleads(&alice.e2e, "bob", "Bob"));
	/* Carol signs bob's nickname, or bob's user name, or alice's. */
	assert_true(e2e_nick_misleads(&alice.e2e, "carol", "Bob"));
	assert_true(e2e_nick_misleads(&alice.e2e, "dave", "bob"));
	assert_true(e2e_nick_misleads(&alice.e2e, "erin", "alice"));
	/* Bob changes his. */
	assert_true(e2e_nick_misleads(&alice.e2e, "bob", "Robert"));
	assert_false(e2e_nick_misleads(&alice.e2e, "frank", "Frank"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resent_line_is_dropped,
		    start, stop),
		cmocka_unit_test_setup_teardown(test_room_round_trip, start,
		    stop),
		cmocka_unit_test_setup_teardown(
		    test_former_member_cannot_read_on, start, stop),
		cmocka_unit_test_setup_teardown(
		    test_new_member_cannot_read_back, start, stop),
		cmocka_unit_test_setup_teardown(test_forgery_by_member, start,
		    stop),
		cmocka_unit_test_setup_teardown(test_private_conversation,
		    start, stop),
		cmocka_unit_test_setup_teardown(test_device_key_must_match,
		    start, stop),
		cmocka_unit_test_setup_teardown(test_key_committed_and_rotated,
		    start, stop),
		cmocka_unit_test_setup_teardown(test_resent_key_keeps_counter,
		    start, stop),
		cmocka_unit_test_setup_teardown(test_nick_misleads, start,
		    stop),
		cmocka_unit_test_setup_teardown(test_peer_state_round_trip,
		    start, stop),
		cmocka_unit_test_setup_teardown(test_parse_line, start, stop),
		cmocka_unit_test_setup_teardown(test_device_states, start,
		    stop),
		cmocka_unit_test_setup_teardown(
		    test_backlog_bounds_and_outer_mid, start, stop),
		cmocka_unit_test(test_mid_hex),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
