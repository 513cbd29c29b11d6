#include "common/clock.h"

#include <stdlib.h>
#include <time.h>

uint64_t
clock_ms(void)
{
	struct timespec ts;

	/* Cannot fail with a valid clock and pointer. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
