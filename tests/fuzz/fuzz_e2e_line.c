/*
 * Fuzz the chat line inside an end-to-end message (client/e2e.c,
 * e2e_parse_line(), docs/PROTOCOL.md 8.2): what it accepts has a valid
 * nickname and chat text that fits, NUL-ended; what it refuses is
 * E_MALFORMED.  The input is the plaintext, as if it had decrypted and
 * verified: a sender (any member) can put any bytes there.  The output
 * buffer is a heap copy of the input's size, so ASan sees a byte written
 * past it.
 */
#include <stdlib.h>
#include <string.h>

#include "client/e2e.h"
#include "common/err.h"
#include "common/text.h"
#include "tests/fuzz/util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct e2e_line line;
	size_t cap = size + 1, tlen;
	char *out = fuzz_malloc(cap);
	int r;

	r = e2e_parse_line(data, size, out, cap, &line);
	FUZZ_CHECK(r == 0 || r == E_MALFORMED);
	if (r == 0) {
		tlen = strlen(out);
		FUZZ_CHECK(tlen < cap);
		FUZZ_CHECK(name_check_nick(line.nick) == 0);
		FUZZ_CHECK(text_chat_problem((const uint8_t *)out, tlen,
		    tlen) == NULL);
		FUZZ_CHECK(E2E_HEAD_LEN + strlen(line.nick) + tlen == size);
		FUZZ_CHECK(memcmp(line.mid, data + 1, E2E_MID_LEN) == 0);
	}
	free(out);
	return 0;
}
