/*
 * What durable delivery keeps in MariaDB (sql/migrations/0002-durable.sql),
 * and the statements that keep it: rooms and their member users, and the
 * per-device inbox (docs/PROTOCOL.md 5.4).  Worker threads only: every
 * function takes the thread's own connection and touches nothing of the
 * loop.  The server stores what it cannot open: the delivery frame of a
 * line or a sender key, once per line, and a row per receiving device
 * that names it with the device's next sequence number.
 */
#ifndef MISSIVE_STORAGE_H
#define MISSIVE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/db.h"
#include "common/text.h"

#define STORAGE_MID_LEN 16
#define STORAGE_ROOM_MAX 32

enum storage_kind {
	STORAGE_LINE,        /* a chat line: stored once per (sender, mid) */
	STORAGE_KEY,         /* a sender key for one device */
	STORAGE_JOIN,        /* user joins room (made if need be) */
	STORAGE_PART,        /* user leaves room */
	STORAGE_ACK,         /* device handled its rows up to seq */
};

/* A line that every device it was stored for has fetched: its sender
   device gets row seq, delivered as 1024|seq|mid. */
struct storage_receipt {
	long long msg;                   /* messages.msg_id */
	long long dev;                   /* the sending device */
	long long seq;                   /* the receipt's row */
	uint8_t mid[STORAGE_MID_LEN];
};

/* One change, in a batch that commits as one transaction. */
struct storage_item {
	struct storage_item *next;
	enum storage_kind kind;
	/* LINE and KEY */
	long long sender;                /* the sending device's key_id */
	uint8_t mid[STORAGE_MID_LEN];    /* LINE only */
	const char *frame;               /* the delivery frame, its seq left
	                                    out: "1002|" then the rest */
	size_t len;
	long long *dev;                  /* the receiving devices ... */
	long long *seq;                  /* ... and the seqs they got */
	size_t ndev;
	/* JOIN and PART */
	char user[NAME_USER_MAX + 1];
	char room[STORAGE_ROOM_MAX + 1];
	/* ACK: dev[0] handled every row up to ack; out: the receipts that
	   made (an array the item's owner frees, kept when the batch fails
	   but then not committed) */
	long long ack;
	struct storage_receipt *receipts;
	size_t nreceipts;
	/* Out: 0 stored (LINE: E_EXISTS, it was stored before and nothing
	   was added), else why the whole batch failed. */
	int r;
};

/* Commit the items of a batch in one transaction (one fsync), in order.
   0, or the error that rolled it all back (each item's r says so). */
int storage_commit(struct db *db, struct storage_item *items)
    __attribute__((warn_unused_result));

/* The rows of a device after seq `after`, at most `limit`, in order: fn
   gets each frame as stored (at most frame_max bytes; a longer one is an
   error), a receipt as "1024|mid".  *last gets the highest seq of a row
   of the device still stored, i.e. not acknowledged (0: none).
   With missed not NULL, *missed gets (and the database forgets) how many
   rows were removed before the device fetched them.  fn's non-zero
   return stops and is returned. */
int storage_read(struct db *db, long long dev, long long after, size_t limit,
    size_t frame_max, long long *last, long long *missed, int (*fn)(void *arg, long long seq, const char *frame,
    size_t len), void *arg) __attribute__((warn_unused_result));

/* Every room, and for each of its members a call with user set; a room
   without members gets one call with user NULL. */
int storage_rooms(struct db *db, int (*fn)(void *arg, const char *room,
    const char *user), void *arg) __attribute__((warn_unused_result));

/*
 * Accounts that are not yet members of anything by default: each is put
 * in room `lobby` (and marked in user_state, so that it happens once and a
 * user who leaves the lobby stays out), at most `max` of them per call;
 * fn gets each name after the commit.
 */
int storage_newcomers(struct db *db, const char *lobby, size_t max,
    int (*fn)(void *arg, const char *user), void *arg)
    __attribute__((warn_unused_result));

/*
 * Remove what retention and the caps allow no longer, a bounded step at a
 * time: the messages stored more than `days` ago (at most PURGE_STEP of
 * them, with their rows), and the oldest rows of devices holding more than
 * max_rows.  Each removed row counts as missed for its device.  *removed
 * gets the rows removed; 0 or an error (nothing removed by that step).
 */
#define STORAGE_PURGE_STEP 1000
int storage_purge(struct db *db, long long days, long long max_rows,
    long long *removed) __attribute__((warn_unused_result));

/* 0 if the database's schema is the version this build needs
   (MISSIVE_SCHEMA_VERSION), else E_DB with what to do in err. */
int storage_schema_check(struct db *db, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
