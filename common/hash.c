#include "common/hash.h"

uint64_t
fnv1a64(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;	/* the offset basis */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;	/* the FNV prime */
	return h;
}
