/* Time for timeouts and rates: never goes back, unlike the wall clock. */
#ifndef MISSIVE_CLOCK_H
#define MISSIVE_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t clock_ms(void);

#endif
