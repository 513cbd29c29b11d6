/*
 * Time for timeouts and rates (clock_ms(): never goes back, unlike the
 * wall clock), and wall-clock times as the protocol writes them.
 */
#ifndef MISSIVE_CLOCK_H
#define MISSIVE_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t clock_ms(void);

#define CLOCK_ISO_SIZE 25       /* "2024-05-01T12:00:00.000Z" and NUL */

/* Milliseconds since the Unix epoch, of CLOCK_REALTIME (0 if unknown). */
int64_t clock_wall_ms(void);

/* ISO 8601 UTC with milliseconds, exactly as above, to ms since the
   epoch; -1 if it is not that form or not a valid time. */
int64_t clock_parse_iso(const char *t);

/* The inverse of clock_parse_iso(); -1 for a time before the epoch. */
int clock_format_iso(int64_t ms, char out[CLOCK_ISO_SIZE]);

#endif
