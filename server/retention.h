/*
 * Retention (docs/PROTOCOL.md 5.4): every delivery.purge_interval seconds
 * a worker removes the rows older than delivery.retention_days and the
 * oldest rows of devices over delivery.max_rows_per_device, a bounded step
 * per job (server/storage.h), so neither the loop nor the writer waits for
 * a large purge.  What a device lost so is told at its next login (1023).
 * Loop thread only.
 */
#ifndef MISSIVE_RETENTION_H
#define MISSIVE_RETENTION_H

#include <stdint.h>

struct server;

struct retention {
	uint64_t next_ms;                /* the next purge, 0 = at once */
	int busy;                        /* a purge job runs */
	int failing;                     /* logged once per outage */
};

/* The tick: start a purge if one is due. */
void retention_tick(struct server *s);

#endif
