/*
 * The writer: what the loop must keep durable goes through one worker
 * thread of its own with group commit.  The loop adds items to the open
 * batch as frames come in; at the end of each pass, if no batch is being
 * committed, the open one is handed to the writer, which commits it as
 * one transaction (server/storage.h); meanwhile the next batch fills.  So
 * under load many lines share one fsync, and the loop never waits for
 * MariaDB.  When a batch has committed, its lines are acknowledged to
 * their senders (1020) and offered to the receiving devices that are
 * online (server/inbox.c); when it failed, its lines are refused (1021)
 * and its membership changes are tried again.  A sender key that was not
 * stored makes its connection's lines of that conversation refused too,
 * until it sends a new key: no device could open them.  Loop thread only.
 */
#ifndef MISSIVE_STORE_H
#define MISSIVE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "server/storage.h"

struct server;
struct conn;
struct worker_pool;
struct store_batch;
struct store_lost;

/* A conversation as 0002 and 0015 name it: "room" or "@user". */
#define STORE_CONV_MAX (1 + NAME_USER_MAX)

struct store {
	struct worker_pool *pool;        /* one thread: the writer */
	struct store_batch *open;        /* filling */
	struct store_batch *busy;        /* being committed */
	uint64_t retry_ms;               /* after a failure: not before */
	int down;                        /* logged once per outage */
};

/* Start the writer thread (its own MariaDB connection). */
int store_start(struct server *s) __attribute__((warn_unused_result));

/* Commit what is queued, stop the writer. */
void store_stop(struct server *s);

/* The writer's eventfd, for epoll. */
int store_fd(const struct server *s);

/* The writer's eventfd is readable: handle the committed batch. */
void store_drain(struct server *s);

/* End of a loop pass (and the tick): hand the open batch over if the
   writer is idle. */
void store_kick(struct server *s);

/*
 * Queue c's line (mid, its hex for the answer) or sender key for the
 * devices dev[0..ndev) of conversation conv: frame ("1002|..." or
 * "1015|...", no seq) and dev become the store's (freed by it, also on
 * failure).  A line gets 1020 or 1021 when its batch is done (at once,
 * out of memory, or while a sender key of c for conv is lost: one whose
 * batch failed, until c queues a new one).
 */
void store_line(struct conn *c, const char *conv,
    const uint8_t mid[STORAGE_MID_LEN], const char *midhex, char *frame,
    size_t len, long long *dev, size_t ndev);
void store_key(struct conn *c, const char *conv, char *frame, size_t len,
    long long dev);

/* Free what the store keeps for c (its lost keys). */
void store_conn_free(struct conn *c);

/* Queue a durable join or leave of user in room. */
void store_membership(struct server *s, enum storage_kind kind,
    const char *user, const char *room);

/* Queue c's acknowledgement of its rows up to seq (one per batch). */
void store_ack(struct conn *c, long long seq);

#endif
