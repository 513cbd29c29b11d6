/*
 * Unit tests: sender keys (keydist/senderkey.c): distribution between
 * users, messages in order, replays, forgeries by another member, binding
 * to room and sender, rotation, a peer's key saved and loaded again.
 */
#define _GNU_SOURCE                  /* memmem() */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "keydist/keys.h"
#include "keydist/senderkey.h"

static EVP_PKEY *alice, *bob, *carol;
static char bob_fp[KD_FP_SIZE], carol_fp[KD_FP_SIZE];

static int
setup(void **state)
{
	(void)state;
	if (kd_key_generate(KD_RSA_BITS, &alice) != 0 ||
	    kd_key_generate(KD_RSA_BITS, &bob) != 0 ||
	    kd_key_generate(KD_RSA_BITS, &carol) != 0 ||
	    kd_fingerprint(bob, bob_fp) != 0 ||
	    kd_fingerprint(carol, carol_fp) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(alice);
	EVP_PKEY_free(bob);
	EVP_PKEY_free(carol);
	return 0;
}

/* Alice's sender key for "lobby", as Alice holds it and as to holds it. */
static void
share(struct kd_sender_key *own, EVP_PKEY *to, const char *to_fp,
    struct kd_sender_key *peer)
{
	uint8_t blob[KD_SKD_MAX];
	size_t len;

	assert_int_equal(kd_sk_distribute(own, alice, to, "lobby", "alice",
	    to_fp, blob, sizeof(blob), &len), 0);
	assert_int_equal(kd_sk_accept(to, to_fp, alice, "lobby", "alice", blob,
	    len, peer), 0);
}

static size_t
seal(struct kd_sender_key *sk, const char *text, uint8_t *msg, size_t cap)
{
	size_t len;

	assert_int_equal(kd_sk_seal(sk, "lobby", "alice",
	    (const uint8_t *)text, strlen(text), msg, cap, &len), 0);
	assert_int_equal(len, strlen(text) + KD_SK_OVERHEAD);
	return len;
}

static void
test_round_trip_in_order(void **state)
{
	struct kd_sender_key own, at_bob;
	uint8_t m1[128], m2[128], out[128], id[KD_SK_ID_LEN];
	size_t l1, l2, n;

	(void)state;
	assert_int_equal(kd_sk_generate(&own), 0);
	share(&own, bob, bob_fp, &at_bob);
	l1 = seal(&own, "hello", m1, sizeof(m1));
	l2 = seal(&own, "", m2, sizeof(m2));
	assert_int_equal(kd_sk_message_id(m1, l1, id), 0);
	assert_memory_equal(id, own.id, KD_SK_ID_LEN);
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m1, l1, out,
	    sizeof(out), &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m2, l2, out,
	    sizeof(out), &n), 0);
	assert_int_equal(n, 0);
	/* The plaintext is not in the message. */
	assert_null(memmem(m1, l1, "hello", 5));
	/* A replay, and an older message after a newer one, are refused. */
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m1, l1, out,
	    sizeof(out), &n), E_REPLAY);
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m2, l2, out,
	    sizeof(out), &n), E_REPLAY);
	kd_sk_clear(&own);
	kd_sk_clear(&at_bob);
}

static void
test_binding_and_tampering(void **state)
{
	struct kd_sender_key own, at_bob;
	uint8_t m[128], bad[128], out[128];
	size_t len, n, i;

	(void)state;
	assert_int_equal(kd_sk_generate(&own), 0);
	share(&own, bob, bob_fp, &at_bob);
	len = seal(&own, "bound", m, sizeof(m));
	assert_int_equal(kd_sk_open(&at_bob, "other", "alice", m, len, out,
	    sizeof(out), &n), E_SIG_INVALID);
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "mallory", m, len, out,
	    sizeof(out), &n), E_SIG_INVALID);
	/* Every flipped bit after the id is refused; in the id, not found. */
	for (i = 0; i < len * 8; i++) {
		memcpy(bad, m, len);
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", bad, len,
		    out, sizeof(out), &n),
		    i < (size_t)KD_SK_ID_LEN * 8 ? E_NOT_FOUND : E_SIG_INVALID);
		assert_int_equal(n, 0);
	}
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m,
	    KD_SK_OVERHEAD - 1, out, sizeof(out), &n), E_MALFORMED);
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m, len, out, 4,
	    &n), E_TOO_LONG);
	/* None of that moved the counter: the real message still opens. */
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m, len, out,
	    sizeof(out), &n), 0);
	assert_memory_equal(out, "bound", 5);
	kd_sk_clear(&own);
	kd_sk_clear(&at_bob);
}

/*
 * Bob holds Alice's AES key: he can encrypt a message that decrypts
 * under it, but not sign it as her sender key; Carol refuses it.
 */
static void
test_member_cannot_forge(void **state)
{
	struct kd_sender_key own, at_bob, at_carol, forged;
	uint8_t m[128], out[128];
	size_t len, n;

	(void)state;
	assert_int_equal(kd_sk_generate(&own), 0);
	share(&own, bob, bob_fp, &at_bob);
	share(&own, carol, carol_fp, &at_carol);
	assert_int_equal(kd_sk_generate(&forged), 0);
	memcpy(forged.id, at_bob.id, KD_SK_ID_LEN);
	memcpy(forged.ck, at_bob.ck, sizeof(forged.ck));
	len = seal(&forged, "pay mallory", m, sizeof(m));
	assert_int_equal(kd_sk_open(&at_carol, "lobby", "alice", m, len, out,
	    sizeof(out), &n), E_SIG_INVALID);
	kd_sk_clear(&own);
	kd_sk_clear(&at_bob);
	kd_sk_clear(&at_carol);
	kd_sk_clear(&forged);
}

static void
test_distribution_refusals(void **state)
{
	struct kd_sender_key own, peer;
	uint8_t blob[KD_SKD_MAX];
	size_t len;

	(void)state;
	assert_int_equal(kd_sk_generate(&own), 0);
	assert_int_equal(kd_sk_distribute(&own, alice, bob, "lobby", "alice",
	    bob_fp, blob, sizeof(blob), &len), 0);
	/* Not for Carol; not from Carol; not for another room or sender. */
	assert_int_equal(kd_sk_accept(carol, carol_fp, alice, "lobby", "alice",
	    blob, len, &peer), E_SIG_INVALID);
	assert_int_equal(kd_sk_accept(bob, bob_fp, carol, "lobby", "alice",
	    blob, len, &peer), E_SIG_INVALID);
	assert_int_equal(kd_sk_accept(bob, bob_fp, alice, "other", "alice",
	    blob, len, &peer), E_SIG_INVALID);
	assert_int_equal(kd_sk_accept(bob, bob_fp, alice, "lobby", "carol",
	    blob, len, &peer), E_SIG_INVALID);
	assert_int_equal(kd_sk_accept(bob, bob_fp, alice, "lobby", "alice",
	    blob, len - 1, &peer), E_MALFORMED);
	blob[len - 1] ^= 1;          /* the sealed sender key */
	assert_int_equal(kd_sk_accept(bob, bob_fp, alice, "lobby", "alice",
	    blob, len, &peer), E_MAC_INVALID);
	assert_null(peer.sign);
	kd_sk_clear(&own);
}

/* After a rotation, a member who only had the old key reads nothing. */
static void
test_rotation_shuts_out_former_member(void **state)
{
	struct kd_sender_key old, fresh, at_bob;
	uint8_t m[128], out[128];
	size_t len, n;

	(void)state;
	assert_int_equal(kd_sk_generate(&old), 0);
	share(&old, bob, bob_fp, &at_bob);
	assert_int_equal(kd_sk_generate(&fresh), 0);
	len = seal(&fresh, "after bob left", m, sizeof(m));
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m, len, out,
	    sizeof(out), &n), E_NOT_FOUND);
	assert_memory_not_equal(fresh.ck, old.ck, sizeof(old.ck));
	kd_sk_clear(&old);
	kd_sk_clear(&fresh);
	kd_sk_clear(&at_bob);
}

/*
 * The hash ratchet: late messages open once, in any order, within the
 * window of skipped keys; a gap wider than it is refused; the chain key
 * moves on with every message, so a receiver's state taken later opens
 * nothing sent before.
 */
static void
test_ratchet_late_and_gaps(void **state)
{
	struct kd_sender_key own, at_bob, stolen;
	uint8_t m[3][128], far[128], out[128], ck0[KD_SK_CHAIN_LEN];
	size_t l[3], lf, n, i;

	(void)state;
	assert_int_equal(kd_sk_generate(&own), 0);
	memcpy(ck0, own.ck, sizeof(ck0));
	share(&own, bob, bob_fp, &at_bob);
	for (i = 0; i < 3; i++)
		l[i] = seal(&own, "late", m[i], sizeof(m[i]));
	assert_memory_not_equal(own.ck, ck0, sizeof(ck0));
	/* Message 2 first: 0 and 1 are skipped, not replays. */
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m[2], l[2], out,
	    sizeof(out), &n), 0);
	assert_int_equal(at_bob.nskipped, 2);
	/* What an attacker who takes Bob's state now can do with it. */
	memset(&stolen, 0, sizeof(stolen));
	memcpy(stolen.id, at_bob.id, KD_SK_ID_LEN);
	memcpy(stolen.ck, at_bob.ck, sizeof(stolen.ck));
	stolen.sign = at_bob.sign;
	assert_int_equal(EVP_PKEY_up_ref(stolen.sign), 1);
	stolen.next = at_bob.next;
	assert_int_equal(kd_sk_open(&stolen, "lobby", "alice", m[2], l[2], out,
	    sizeof(out), &n), E_REPLAY);
	kd_sk_clear(&stolen);
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m[0], l[0], out,
	    sizeof(out), &n), 0);
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m[0], l[0], out,
	    sizeof(out), &n), E_REPLAY);
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m[1], l[1], out,
	    sizeof(out), &n), 0);
	assert_int_equal(at_bob.nskipped, 0);
	/* KD_SK_SKIP_MAX messages lost on the way: too far ahead. */
	for (i = 0; i < KD_SK_SKIP_MAX; i++)
		(void)seal(&own, "lost", far, sizeof(far));
	lf = seal(&own, "far", far, sizeof(far));
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", far, lf, out,
	    sizeof(out), &n), E_TOO_LONG);
	assert_int_equal(at_bob.next, 3);
	kd_sk_clear(&own);
	kd_sk_clear(&at_bob);
}

/* A resent distribution is the same key; a new one under its id is not. */
static void
test_same_key(void **state)
{
	struct kd_sender_key own, other, a, b, c;
	uint8_t blob[KD_SKD_MAX], m[128];
	size_t len;

	(void)state;
	assert_int_equal(kd_sk_generate(&own), 0);
	assert_int_equal(kd_sk_generate(&other), 0);
	memcpy(other.id, own.id, KD_SK_ID_LEN);
	share(&own, bob, bob_fp, &a);
	share(&own, bob, bob_fp, &b);
	share(&other, bob, bob_fp, &c);
	assert_true(kd_sk_same(&a, &b));
	assert_true(kd_sk_same(&a, &own));
	assert_false(kd_sk_same(&a, &c));
	/* Only a fresh key goes out: receivers start at counter 0. */
	(void)seal(&own, "x", m, sizeof(m));
	assert_int_equal(kd_sk_distribute(&own, alice, bob, "lobby", "alice",
	    bob_fp, blob, sizeof(blob), &len), E_STATE);
	kd_sk_clear(&own);
	kd_sk_clear(&other);
	kd_sk_clear(&a);
	kd_sk_clear(&b);
	kd_sk_clear(&c);
}

/* A peer key saved and loaded again: the same key, where it stood. */
static void
test_peer_save_load(void **state)
{
	struct kd_sender_key own, at_bob, loaded;
	struct buf saved = BUF_INIT;
	uint8_t m[4][128], out[128], *bad;
	size_t l[4], n, i, len;

	(void)state;
	assert_int_equal(kd_sk_generate(&own), 0);
	share(&own, bob, bob_fp, &at_bob);
	for (i = 0; i < 4; i++)
		l[i] = seal(&own, "kept", m[i], sizeof(m[i]));
	/* 2 opened: 0 and 1 skipped, 3 ahead. */
	assert_int_equal(kd_sk_open(&at_bob, "lobby", "alice", m[2], l[2], out,
	    sizeof(out), &n), 0);
	assert_int_equal(kd_sk_peer_save(&at_bob, &saved), 0);
	len = buf_size(&saved);
	assert_int_equal(len, KD_SK_SAVED_HEAD + 2 * KD_SK_SAVED_SKIP);
	assert_int_equal(kd_sk_peer_load(buf_data(&saved), len, &loaded), 0);
	assert_true(kd_sk_same(&loaded, &at_bob));
	assert_int_equal(loaded.next, 3);
	assert_int_equal(loaded.nskipped, 2);
	/* What came after the save opens; what was opened before does not. */
	assert_int_equal(kd_sk_open(&loaded, "lobby", "alice", m[3], l[3], out,
	    sizeof(out), &n), 0);
	assert_memory_equal(out, "kept", 4);
	assert_int_equal(kd_sk_open(&loaded, "lobby", "alice", m[2], l[2], out,
	    sizeof(out), &n), E_REPLAY);
	assert_int_equal(kd_sk_open(&loaded, "lobby", "alice", m[1], l[1], out,
	    sizeof(out), &n), 0);
	assert_int_equal(kd_sk_open(&loaded, "lobby", "alice", m[0], l[0], out,
	    sizeof(out), &n), 0);
	assert_int_equal(loaded.nskipped, 0);
	kd_sk_clear(&loaded);
	/* Every truncation, a byte more, and damage to the counts: refused. */
	bad = buf_data(&saved);
	for (i = 0; i < len; i++)
		assert_int_equal(kd_sk_peer_load(bad, i, &loaded),
		    E_MALFORMED);
	assert_int_equal(buf_append(&saved, "x", 1), 0);
	bad = buf_data(&saved);
	assert_int_equal(kd_sk_peer_load(bad, len + 1, &loaded), E_MALFORMED);
	bad[0] = 2;
	assert_int_equal(kd_sk_peer_load(bad, len, &loaded), E_MALFORMED);
	bad[0] = KD_SK_SAVED_VERSION;
	/* Skipped keys out of order, or not below next. */
	bad[KD_SK_SAVED_HEAD + 7] = 1;
	bad[KD_SK_SAVED_HEAD + KD_SK_SAVED_SKIP + 7] = 0;
	assert_int_equal(kd_sk_peer_load(bad, len, &loaded), E_MALFORMED);
	bad[KD_SK_SAVED_HEAD + KD_SK_SAVED_SKIP + 7] = 3;
	assert_int_equal(kd_sk_peer_load(bad, len, &loaded), E_MALFORMED);
	bad[KD_SK_SAVED_HEAD + KD_SK_SAVED_SKIP + 7] = 2;
	assert_int_equal(kd_sk_peer_load(bad, len, &loaded), 0);
	kd_sk_clear(&loaded);
	/* More skipped keys than kept. */
	bad[KD_SK_SAVED_HEAD - 2] = 0xff;
	assert_int_equal(kd_sk_peer_load(bad, len, &loaded), E_MALFORMED);
	assert_true(loaded.sign == NULL && loaded.skipped == NULL);
	buf_free(&saved);
	kd_sk_clear(&own);
	kd_sk_clear(&at_bob);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_in_order),
		cmocka_unit_test(test_binding_and_tampering),
		cmocka_unit_test(test_member_cannot_forge),
		cmocka_unit_test(test_distribution_refusals),
		cmocka_unit_test(test_rotation_shuts_out_former_member),
		cmocka_unit_test(test_ratchet_late_and_gaps),
		cmocka_unit_test(test_same_key),
		cmocka_unit_test(test_peer_save_load),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
