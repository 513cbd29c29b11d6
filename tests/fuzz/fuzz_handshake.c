/*
 * Fuzz every handshake message parser of keydist/handshake.c, each in the
 * state where its message comes:
 *
 *   0 ClientHello      kd_hs_server_hello()    fresh server
 *   1 ServerHello      kd_hs_client_keyx()     client that sent ClientHello
 *   2 KeyExchange      kd_hs_server_keyx()     server that sent ServerHello
 *   3 ClientFinished   kd_hs_server_finish()   server that opened the envelope
 *   4 ServerFinished   kd_hs_client_finish()   client that sent Finished
 *
 * LLVMFuzzerInitialize() runs one real handshake with the fixed test keys
 * and keeps a copy of each side before each step, and each real message.
 * Byte 0: (byte & 0x7f) % 5 picks the message; with bit 0x80 clear the
 * rest of the input is the message, with it set the input edits the real
 * message: bytes 1-2 an offset, 3-4 how many bytes to delete there, the
 * rest is inserted (so the fuzzer gets past base64 and lengths at once,
 * and four zero bytes give the real message).  The nonces and X25519
 * shares are fresh in every process, so an edit means the same thing in
 * every run; a whole message from another run does not.
 *
 * Checked: the real message is accepted; a failure leaves the handshake
 * KD_HS_FAILED, a success moves it on; nothing but the real KeyExchange
 * and Finished lines is accepted (they are signed or MACed and base64 has
 * one encoding); a ServerHello that is accepted yields well-formed
 * KeyExchange and ClientFinished lines.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/frame.h"
#include "keydist/handshake.h"
#include "tests/fuzz/util.h"

enum { M_CH, M_SH, M_KX, M_CF, M_SF, NMSG };

static EVP_PKEY *server_key, *client_key;
static struct kd_hs snap[NMSG];       /* the side that takes message i */
static char valid[NMSG][KD_HS_LINE_MAX + 1];
static size_t valid_len[NMSG];
static struct kd_hs work;

/* dst = a copy of src with references of its own. */
static void
hs_clone(struct kd_hs *dst, const struct kd_hs *src)
{
	memcpy(dst, src, sizeof(*dst));
	if (dst->peer != NULL)
		FUZZ_CHECK(EVP_PKEY_up_ref(dst->peer) == 1);
	if (dst->eph != NULL)
		FUZZ_CHECK(EVP_PKEY_up_ref(dst->eph) == 1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct kd_hs c, s;

	(void)argc;
	(void)argv;
	server_key = fuzz_key(fuzz_key_server_pem);
	client_key = fuzz_key(fuzz_key_alice_pem);
	kd_hs_client_init(&c, client_key, server_key);
	kd_hs_server_init(&s, server_key, NULL, 0);
	hs_clone(&snap[M_CH], &s);
	FUZZ_CHECK(kd_hs_client_hello(&c, valid[M_CH], sizeof(valid[M_CH]),
	    &valid_len[M_CH]) == 0);
	hs_clone(&snap[M_SH], &c);
	FUZZ_CHECK(kd_hs_server_hello(&s, valid[M_CH], valid_len[M_CH],
	    valid[M_SH], sizeof(valid[M_SH]), &valid_len[M_SH]) == 0);
	hs_clone(&snap[M_KX], &s);
	FUZZ_CHECK(kd_hs_client_keyx(&c, valid[M_SH], valid_len[M_SH],
	    valid[M_KX], sizeof(valid[M_KX]), &valid_len[M_KX], valid[M_CF],
	    sizeof(valid[M_CF]), &valid_len[M_CF]) == 0);
	hs_clone(&snap[M_SF], &c);
	FUZZ_CHECK(kd_hs_server_keyx(&s, valid[M_KX], valid_len[M_KX]) == 0);
	hs_clone(&snap[M_CF], &s);
	FUZZ_CHECK(kd_hs_server_finish(&s, valid[M_CF], valid_len[M_CF],
	    valid[M_SF], sizeof(valid[M_SF]), &valid_len[M_SF]) == 0);
	FUZZ_CHECK(kd_hs_client_finish(&c, valid[M_SF], valid_len[M_SF]) ==
	    0);
	kd_hs_clear(&c);
	kd_hs_clear(&s);
	return 0;
}

/* The message to try: the input, or the real one edited by it. */
static char *
make_message(int edit, int m, struct fuzz_in *in, size_t *len)
{
	size_t off, del, blen = valid_len[m];
	char *msg;

	if (!edit) {
		*len = in->left;
		if ((msg = malloc(*len + 1)) == NULL)
			abort();
		memcpy(msg, in->p, in->left);
		return msg;
	}
	off = fuzz_u16(in) % (blen + 1);
	del = fuzz_u16(in) % (blen - off + 1);
	*len = blen - del + in->left;
	if ((msg = malloc(*len + 1)) == NULL)
		abort();
	memcpy(msg, valid[m], off);
	memcpy(msg + off, in->p, in->left);
	memcpy(msg + off + in->left, valid[m] + off + del, blen - off - del);
	return msg;
}

/* A line we made ourselves parses with its opcode and field count. */
static void
check_line(const char *line, size_t len, unsigned op, size_t n)
{
	struct frame f;

	FUZZ_CHECK(len <= KD_HS_LINE_MAX);
	FUZZ_CHECK(frame_parse(line, len, n, n, &f) == 0 && f.opcode == op);
}

static int
run(int m, const char *msg, size_t len)
{
	char out[KD_HS_LINE_MAX + 1], fin[256];
	size_t olen = 0, flen = 0;
	int r;

	switch (m) {
	case M_CH:
		r = kd_hs_server_hello(&work, msg, len, out, sizeof(out), &olen);
		if (r == 0) {
			FUZZ_CHECK(work.state == KD_HS_SERVER_WAIT_KEYX);
			check_line(out, olen, OP_SERVER_HELLO, 4);
		}
		return r;
	case M_SH:
		r = kd_hs_client_keyx(&work, msg, len, out, sizeof(out), &olen,
		    fin, sizeof(fin), &flen);
		if (r == 0) {
			FUZZ_CHECK(work.state == KD_HS_CLIENT_WAIT_FINISHED);
			check_line(out, olen, OP_KEY_EXCHANGE, 3);
			check_line(fin, flen, OP_CLIENT_FINISHED, 1);
		}
		return r;
	case M_KX:
		r = kd_hs_server_keyx(&work, msg, len);
		FUZZ_CHECK(r != 0 || work.state == KD_HS_SERVER_WAIT_FINISHED);
		return r;
	case M_CF:
		r = kd_hs_server_finish(&work, msg, len, out, sizeof(out),
		    &olen);
		if (r == 0) {
			FUZZ_CHECK(work.state == KD_HS_DONE);
			FUZZ_CHECK(olen == valid_len[M_SF] &&
			    memcmp(out, valid[M_SF], olen) == 0);
		}
		return r;
	default:
		r = kd_hs_client_finish(&work, msg, len);
		FUZZ_CHECK(r != 0 || work.state == KD_HS_DONE);
		return r;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t b = fuzz_u8(&in);
	int m = (b & 0x7f) % NMSG, r, real;
	size_t len;
	char *msg;

	msg = make_message((b & 0x80) != 0, m, &in, &len);
	real = len == valid_len[m] && memcmp(msg, valid[m], len) == 0;
	hs_clone(&work, &snap[m]);
	r = run(m, msg, len);
	if (real)
		FUZZ_CHECK(r == 0);
	if (r != 0)
		FUZZ_CHECK(work.state == KD_HS_FAILED);
	/* Signed or MACed, and base64 has one encoding: only the real one. */
	if (r == 0 && (m == M_KX || m == M_CF || m == M_SF))
		FUZZ_CHECK(real);
	kd_hs_clear(&work);
	free(msg);
	return 0;
}
