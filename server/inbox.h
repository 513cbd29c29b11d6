/*
 * A logged-in device's inbox on the loop side (docs/PROTOCOL.md 5.4):
 * after login the rows stored for it are read in pages on a worker
 * (`1022|last`, then the backlog), then it goes *live*: rows committed
 * for it are sent as the writer commits them (server/store.h).  A row
 * that does not follow the last one sent (committed elsewhere, or while
 * the device could not keep up) sends it back to reading pages, so no
 * row is skipped and none is sent twice in a session.  Also the index of
 * online devices by key id, one connection per device.  Loop thread only.
 */
#ifndef MISSIVE_INBOX_H
#define MISSIVE_INBOX_H

#include <stddef.h>

struct server;
struct conn;
struct frame;

/* c has logged in (c->dev set): index it (an older connection of the
   same device is closed, 1010|replaced) and start its backlog.  0, or
   E_NOMEM. */
int inbox_login(struct conn *c) __attribute__((warn_unused_result));

/* c is going: out of the index. */
void inbox_logout(struct conn *c);

/* The connection of device dev, logged in and not going, or NULL. */
struct conn *inbox_online(const struct server *s, long long dev);

/* A row committed for c's device: frame "1002|..." (no seq). */
void inbox_offer(struct conn *c, long long seq, const char *frame,
    size_t len);

/* c's output has drained: go on reading a backlog that waited for it. */
void inbox_drained(struct conn *c);

/* The tick: retry reads that failed. */
void inbox_tick(struct conn *c);

/* 0020|seq */
void on_ack(struct conn *c, const struct frame *f);

/* Free the index. */
void inbox_free(struct server *s);

#endif
