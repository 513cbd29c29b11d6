/*
 * Fuzz the peers' sender keys a history keeps (client/e2e.c,
 * e2e_peer_state_take(), kd_sk_peer_load(), docs/HISTORY.md): the input is
 * the decrypted keys field.  What is refused is one of the documented
 * errors; whatever was taken (all of it, or the keys before a bad one)
 * puts back out as a state that a fresh client takes whole, and that
 * state is canonical: taken and put once more, it gives the same bytes
 * (conversations come back in the reverse order each time: twice is the
 * order again).
 */
#include <stdlib.h>
#include <string.h>

#include "client/e2e.h"
#include "common/buf.h"
#include "common/err.h"
#include "tests/fuzz/util.h"

static EVP_PKEY *alice_key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	alice_key = fuzz_key(fuzz_key_alice_pem);
	return 0;
}

/* A fresh client takes state (whole) and puts it into out. */
static void
again(const struct buf *state, struct buf *out)
{
	struct e2e e;

	FUZZ_CHECK(e2e_init(&e, alice_key, "alice") == 0);
	FUZZ_CHECK(e2e_peer_state_take(&e, buf_data(state),
	    buf_size(state)) == 0);
	FUZZ_CHECK(e2e_peer_state_put(&e, out) == 0);
	e2e_fini(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf first = BUF_INIT, second = BUF_INIT, third = BUF_INIT;
	struct e2e e;
	int r;

	FUZZ_CHECK(e2e_init(&e, alice_key, "alice") == 0);
	r = e2e_peer_state_take(&e, data, size);
	FUZZ_CHECK(r == 0 || r == E_MALFORMED || r == E_EXISTS ||
	    r == E_REPLAY);
	FUZZ_CHECK(e2e_peer_state_put(&e, &first) == 0);
	e2e_fini(&e);
	again(&first, &second);
	FUZZ_CHECK(buf_size(&second) == buf_size(&first));
	again(&second, &third);
	FUZZ_CHECK(buf_size(&third) == buf_size(&first) &&
	    memcmp(buf_data(&third), buf_data(&first), buf_size(&first)) == 0);
	buf_free(&first);
	buf_free(&second);
	buf_free(&third);
	return 0;
}
