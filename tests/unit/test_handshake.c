/* Unit tests: the session handshake (keydist/handshake.c), sans I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "common/err.h"
#include "keydist/handshake.h"
#include "keydist/keys.h"

static EVP_PKEY *server_key, *client_key, *other_key, *server_pub_only;

/* The lines of one run, kept for replays. */
struct run {
	char ch[KD_HS_LINE_MAX], sh[KD_HS_LINE_MAX], kx[KD_HS_LINE_MAX];
	char cf[256], sf[256];
	size_t chlen, shlen, kxlen, cflen, sflen;
	struct kd_hs c, s;
};

static int
setup(void **state)
{
	unsigned char *der = NULL;
	size_t len;

	(void)state;
	if (kd_key_generate(KD_RSA_BITS, &server_key) != 0 ||
	    kd_key_generate(KD_RSA_BITS, &client_key) != 0 ||
	    kd_key_generate(KD_RSA_BITS, &other_key) != 0 ||
	    kd_key_to_der(server_key, &der, &len) != 0 ||
	    kd_key_from_der(der, len, &server_pub_only) != 0)
		return -1;
	OPENSSL_free(der);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(server_key);
	EVP_PKEY_free(client_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(server_pub_only);
	return 0;
}

/* ClientHello and ServerHello. */
static void
hellos(struct run *r, EVP_PKEY *pinned, EVP_PKEY *server_own)
{
	kd_hs_client_init(&r->c, client_key, pinned);
	kd_hs_server_init(&r->s, server_own, NULL, 0);
	assert_int_equal(kd_hs_client_hello(&r->c, r->ch, sizeof(r->ch),
	    &r->chlen), 0);
	assert_int_equal(kd_hs_server_hello(&r->s, r->ch, r->chlen, r->sh,
	    sizeof(r->sh), &r->shlen), 0);
}

static void
clear(struct run *r)
{
	kd_hs_clear(&r->c);
	kd_hs_clear(&r->s);
}

static void
test_full_handshake(void **state)
{
	struct run r;
	char fp[KD_FP_SIZE], kfp[KD_FP_SIZE];

	(void)state;
	hellos(&r, server_pub_only, server_key);
	assert_memory_equal(r.ch, "0100|" KD_HS_VERSION "|", 7);
	assert_memory_equal(r.sh, "1100|" KD_HS_VERSION "|", 7);
	assert_int_equal(kd_hs_client_keyx(&r.c, r.sh, r.shlen, r.kx,
	    sizeof(r.kx), &r.kxlen, r.cf, sizeof(r.cf), &r.cflen), 0);
	assert_memory_equal(r.kx, "0101|", 5);
	assert_memory_equal(r.cf, "0102|", 5);
	/* Both sides agree on the key that protects KeyExchange. */
	assert_memory_equal(&r.c.hs_c2s, &r.s.hs_c2s, sizeof(r.c.hs_c2s));
	assert_int_equal(kd_fingerprint(client_key, fp), 0);
	/* The loop's enrolment check reads the same key, without RSA. */
	assert_int_equal(kd_hs_keyx_fingerprint(r.kx, r.kxlen, kfp), 0);
	assert_string_equal(kfp, fp);
	assert_int_equal(kd_hs_keyx_fingerprint(r.cf, r.cflen, kfp),
	    E_MALFORMED);
	assert_int_equal(kd_hs_server_keyx(&r.s, r.kx, r.kxlen), 0);
	assert_string_equal(r.s.peer_fp, fp);
	assert_int_equal(kd_hs_server_finish(&r.s, r.cf, r.cflen, r.sf,
	    sizeof(r.sf), &r.sflen), 0);
	assert_int_equal(kd_hs_client_finish(&r.c, r.sf, r.sflen), 0);
	assert_int_equal(r.c.state, KD_HS_DONE);
	assert_int_equal(r.s.state, KD_HS_DONE);
	assert_memory_equal(&r.c.c2s, &r.s.c2s, sizeof(r.c.c2s));
	assert_memory_equal(&r.c.s2c, &r.s.s2c, sizeof(r.c.s2c));
	assert_memory_not_equal(r.c.c2s.key, r.c.s2c.key, KD_AEAD_KEY_LEN);
	assert_memory_not_equal(r.c.c2s.key, r.c.hs_c2s.key, KD_AEAD_KEY_LEN);
	clear(&r);
}

/*
 * A server that passes its key's DER once (as missived does) presents the
 * pinned key, and keeps the client's DER as received.
 */
static void
test_server_key_der_given(void **state)
{
	unsigned char *der = NULL, *cder = NULL;
	size_t len, clen;
	struct run r;

	(void)state;
	assert_int_equal(kd_key_to_der(server_key, &der, &len), 0);
	assert_int_equal(kd_key_to_der(client_key, &cder, &clen), 0);
	kd_hs_client_init(&r.c, client_key, server_pub_only);
	kd_hs_server_init(&r.s, server_key, der, len);
	assert_int_equal(kd_hs_client_hello(&r.c, r.ch, sizeof(r.ch),
	    &r.chlen), 0);
	assert_int_equal(kd_hs_server_hello(&r.s, r.ch, r.chlen, r.sh,
	    sizeof(r.sh), &r.shlen), 0);
	assert_int_equal(kd_hs_client_keyx(&r.c, r.sh, r.shlen, r.kx,
	    sizeof(r.kx), &r.kxlen, r.cf, sizeof(r.cf), &r.cflen), 0);
	assert_int_equal(kd_hs_server_keyx(&r.s, r.kx, r.kxlen), 0);
	assert_int_equal(r.s.peer_spki_len, clen);
	assert_memory_equal(r.s.peer_spki, cder, clen);
	assert_int_equal(kd_hs_server_finish(&r.s, r.cf, r.cflen, r.sf,
	    sizeof(r.sf), &r.sflen), 0);
	assert_int_equal(kd_hs_client_finish(&r.c, r.sf, r.sflen), 0);
	clear(&r);
	OPENSSL_free(der);
	OPENSSL_free(cder);
}

static void
test_fresh_keys_each_session(void **state)
{
	struct run a, b;

	(void)state;
	hellos(&a, server_pub_only, server_key);
	hellos(&b, server_pub_only, server_key);
	assert_int_equal(kd_hs_client_keyx(&a.c, a.sh, a.shlen, a.kx,
	    sizeof(a.kx), &a.kxlen, a.cf, sizeof(a.cf), &a.cflen), 0);
	assert_int_equal(kd_hs_client_keyx(&b.c, b.sh, b.shlen, b.kx,
	    sizeof(b.kx), &b.kxlen, b.cf, sizeof(b.cf), &b.cflen), 0);
	assert_memory_not_equal(a.c.c2s.key, b.c.c2s.key, KD_AEAD_KEY_LEN);
	assert_string_not_equal(a.ch, b.ch);
	assert_string_not_equal(a.sh, b.sh);
	clear(&a);
	clear(&b);
}

static void
test_other_server_key_refused(void **state)
{
	struct run r;
	char fp[KD_FP_SIZE];

	(void)state;
	/* The client pins other_key; the server presents its own. */
	hellos(&r, other_key, server_key);
	assert_int_equal(kd_hs_client_keyx(&r.c, r.sh, r.shlen, r.kx,
	    sizeof(r.kx), &r.kxlen, r.cf, sizeof(r.cf), &r.cflen),
	    E_KEY_MISMATCH);
	assert_int_equal(kd_fingerprint(server_key, fp), 0);
	assert_string_equal(r.c.peer_fp, fp);
	assert_int_equal(r.c.state, KD_HS_FAILED);
	clear(&r);
}

static void
test_impostor_presenting_pinned_key_fails(void **state)
{
	struct run r;
	char sf[256];
	size_t sflen;

	(void)state;
	/* An impostor copies the public key but holds no private key. */
	hellos(&r, server_pub_only, server_pub_only);
	assert_int_equal(kd_hs_client_keyx(&r.c, r.sh, r.shlen, r.kx,
	    sizeof(r.kx), &r.kxlen, r.cf, sizeof(r.cf), &r.cflen), 0);
	assert_int_not_equal(kd_hs_server_keyx(&r.s, r.kx, r.kxlen), 0);
	/* Whatever it sends as ServerFinished, the client refuses it. */
	memcpy(sf, "1102|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 49);
	sflen = 49;
	assert_int_equal(kd_hs_client_finish(&r.c, sf, sflen), E_MAC_INVALID);
	clear(&r);
}

static void
test_replayed_keyx_refused(void **state)
{
	struct run old, r;

	(void)state;
	hellos(&old, server_pub_only, server_key);
	assert_int_equal(kd_hs_client_keyx(&old.c, old.sh, old.shlen, old.kx,
	    sizeof(old.kx), &old.kxlen, old.cf, sizeof(old.cf), &old.cflen), 0);
	/* A recorded ClientHello + KeyExchange against a new server session. */
	kd_hs_server_init(&r.s, server_key, NULL, 0);
	assert_int_equal(kd_hs_server_hello(&r.s, old.ch, old.chlen, r.sh,
	    sizeof(r.sh), &r.shlen), 0);
	assert_int_equal(kd_hs_server_keyx(&r.s, old.kx, old.kxlen),
	    E_SIG_INVALID);
	assert_int_equal(r.s.state, KD_HS_FAILED);
	kd_hs_clear(&r.s);
	clear(&old);
}

static void
test_altered_server_hello_detected(void **state)
{
	struct run r;
	char *p;

	(void)state;
	hellos(&r, server_pub_only, server_key);
	/* A man in the middle changes a character of the server nonce. */
	p = r.sh + 7;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(kd_hs_client_keyx(&r.c, r.sh, r.shlen, r.kx,
	    sizeof(r.kx), &r.kxlen, r.cf, sizeof(r.cf), &r.cflen), 0);
	assert_int_equal(kd_hs_server_keyx(&r.s, r.kx, r.kxlen),
	    E_SIG_INVALID);
	clear(&r);
}

static void
test_altered_finished_refused(void **state)
{
	struct run r;

	(void)state;
	hellos(&r, server_pub_only, server_key);
	assert_int_equal(kd_hs_client_keyx(&r.c, r.sh, r.shlen, r.kx,
	    sizeof(r.kx), &r.kxlen, r.cf, sizeof(r.cf), &r.cflen), 0);
	assert_int_equal(kd_hs_server_keyx(&r.s, r.kx, r.kxlen), 0);
	r.cf[6] = r.cf[6] == 'A' ? 'B' : 'A';
	assert_int_equal(kd_hs_server_finish(&r.s, r.cf, r.cflen, r.sf,
	    sizeof(r.sf), &r.sflen), E_MAC_INVALID);
	/* A failed handshake stays failed. */
	r.cf[6] = r.cf[6] == 'A' ? 'B' : 'A';
	assert_int_equal(kd_hs_server_finish(&r.s, r.cf, r.cflen, r.sf,
	    sizeof(r.sf), &r.sflen), E_STATE);
	clear(&r);
}

static void
test_malformed_client_hello(void **state)
{
	static const char *bad[] = {
		"",
		"0100",
		"0100|2",
		"0101|1|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"0100|2|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"0100|2|AAAA|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"0100|2|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|x",
		"0100|2|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		/* an all-zero X25519 share: low order, refused */
		"0100|2|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	};
	char out[KD_HS_LINE_MAX];
	struct kd_hs s;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kd_hs_server_init(&s, server_key, NULL, 0);
		assert_int_equal(kd_hs_server_hello(&s, bad[i], strlen(bad[i]),
		    out, sizeof(out), &len), E_MALFORMED);
		assert_int_equal(s.state, KD_HS_FAILED);
		kd_hs_clear(&s);
	}
}

static void
test_out_of_order_refused(void **state)
{
	struct run r;

	(void)state;
	kd_hs_client_init(&r.c, client_key, server_pub_only);
	kd_hs_server_init(&r.s, server_key, NULL, 0);
	/* KeyExchange before ServerHello, Finished before KeyExchange. */
	assert_int_equal(kd_hs_server_keyx(&r.s, "0101|", 5), E_STATE);
	kd_hs_server_init(&r.s, server_key, NULL, 0);
	assert_int_equal(kd_hs_client_finish(&r.c, "1102|", 5), E_STATE);
	clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_handshake),
		cmocka_unit_test(test_server_key_der_given),
		cmocka_unit_test(test_fresh_keys_each_session),
		cmocka_unit_test(test_other_server_key_refused),
		cmocka_unit_test(test_impostor_presenting_pinned_key_fails),
		cmocka_unit_test(test_replayed_keyx_refused),
		cmocka_unit_test(test_altered_server_hello_detected),
		cmocka_unit_test(test_altered_finished_refused),
		cmocka_unit_test(test_malformed_client_hello),
		cmocka_unit_test(test_out_of_order_refused),
	};

	return cmocka_run_group_tests_name("handshake", tests, setup, teardown);
}
