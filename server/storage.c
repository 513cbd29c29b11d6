/* Durable delivery's statements (server/storage.h). */
#include "server/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/frame.h"
#include "common/proto.h"

/* ---- sequence numbers: one statement per device and batch ---- */

/* The devices a batch writes to, with how many rows each gets. */
struct seq_slot {
	long long dev;                   /* 0 = free */
	long long n;                     /* rows in this batch */
	long long next;                  /* the next seq to give in it */
};

struct seq_map {
	struct seq_slot *slot;
	size_t cap;                      /* a power of 2, > twice the used */
};

static struct seq_slot *
seq_slot(struct seq_map *m, long long dev)
{
	size_t i = ((unsigned long long)dev * 0x9E3779B97F4A7C15ull) &
	    (m->cap - 1);

	while (m->slot[i].dev != 0 && m->slot[i].dev != dev)
		i = (i + 1) & (m->cap - 1);
	return &m->slot[i];
}

static int
seq_map_init(struct seq_map *m, const struct storage_item *items)
{
	const struct storage_item *it;
	size_t rows = 0;

	for (it = items; it != NULL; it = it->next)
		if (it->kind == STORAGE_LINE || it->kind == STORAGE_KEY)
			rows += it->ndev;
	for (m->cap = 16; m->cap < 2 * rows + 2; m->cap *= 2)
		;
	return (m->slot = calloc(m->cap, sizeof(*m->slot))) == NULL ?
	    E_NOMEM : 0;
}

/* Raise next_seq by sl->n for each device of sl[0..n) (sorted), in one
   statement; a new row starts at 1. */
static int
seq_bump(struct db *db, const struct seq_slot *sl, size_t n)
{
	long long *col[2];
	size_t i;
	int r;

	if ((col[0] = calloc(n, sizeof(long long))) == NULL)
		return E_NOMEM;
	if ((col[1] = calloc(n, sizeof(long long))) == NULL) {
		free(col[0]);
		return E_NOMEM;
	}
	for (i = 0; i < n; i++) {
		col[0][i] = sl[i].dev;
		col[1][i] = sl[i].n + 1;
	}
	r = db_exec_rows(db, "INSERT INTO device_inbox (key_id, next_seq) "
	    "VALUES (?, ?) ON DUPLICATE KEY UPDATE "
	    "next_seq = next_seq + VALUES(next_seq) - 1", col, 2, n);
	free(col[0]);
	free(col[1]);
	return r;
}

/* The sorted slots whose next_seq a read fills in. */
struct seq_read {
	struct seq_slot *sl;
	size_t n, found;
};

static int
by_dev_key(const void *key, const void *slot)
{
	long long x = *(const long long *)key;
	long long y = ((const struct seq_slot *)slot)->dev;

	return (x > y) - (x < y);
}

static int
seq_slot_read(void *arg, const struct db_val *cols)
{
	struct seq_read *rd = arg;
	struct seq_slot *sl = bsearch(&cols[0].i, rd->sl, rd->n,
	    sizeof(*rd->sl), by_dev_key);

	/* Another device in the range: not ours. */
	if (sl == NULL)
		return 0;
	sl->next = cols[1].i - sl->n;
	rd->found++;
	return sl->next >= 1 ? 0 : E_DB;
}

/*
 * Take sl->n seqs for each device of sl[0..n) (sorted by device, no
 * twice): sl->next gets the first.  The row lock on each device_inbox row
 * makes a second writer (another node) wait until this transaction ends,
 * so seqs are handed out and committed in the same order.  Two round
 * trips for the lot (more where the devices are sparse): the rows are
 * read back a range at a time, and a range takes in other devices only
 * where the batch's are far apart.
 */
static int
seq_take(struct db *db, struct seq_slot *sl, size_t n)
{
	struct db_val p[2], cols[] = { DB_OUT_INT(), DB_OUT_INT() };
	struct seq_read rd = { sl, n, 0 };
	size_t i, j;
	int r;

	if (n == 0)
		return 0;
	if ((r = seq_bump(db, sl, n)) != 0)
		return r;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n &&
		    sl[j].dev - sl[i].dev <= 4 * (long long)(j - i) + 64; j++)
			;
		p[0] = (struct db_val)DB_IN_INT(sl[i].dev);
		p[1] = (struct db_val)DB_IN_INT(sl[j - 1].dev);
		if ((r = db_query(db, "SELECT key_id, next_seq FROM "
		    "device_inbox WHERE key_id BETWEEN ? AND ?", p, 2, cols, 2,
		    seq_slot_read, &rd)) != 0)
			return r;
	}
	return rd.found == n ? 0 : E_DB;
}

static int
by_dev(const void *a, const void *b)
{
	long long x = ((const struct seq_slot *)a)->dev;
	long long y = ((const struct seq_slot *)b)->dev;

	return (x > y) - (x < y);
}

/* Put the slots back where seq_slot() finds them (after the sort). */
static int
seq_rehash(struct seq_map *m)
{
	struct seq_slot *old = m->slot, *sl;
	size_t i;

	if (m->cap == 0)
		return 0;
	if ((m->slot = calloc(m->cap, sizeof(*m->slot))) == NULL) {
		m->slot = old;
		return E_NOMEM;
	}
	for (i = 0; i < m->cap; i++)
		if (old[i].dev != 0) {
			sl = seq_slot(m, old[i].dev);
			*sl = old[i];
		}
	free(old);
	return 0;
}

static int
seq_assign(struct db *db, struct storage_item *items, size_t *rows)
{
	struct storage_item *it;
	struct seq_slot *sl;
	struct seq_map m;
	size_t i;
	int r = 0;

	*rows = 0;
	if ((r = seq_map_init(&m, items)) != 0)
		return r;
	for (it = items; it != NULL; it = it->next)
		if ((it->kind == STORAGE_LINE || it->kind == STORAGE_KEY) &&
		    it->r == 0)
			for (i = 0; i < it->ndev; i++) {
				sl = seq_slot(&m, it->dev[i]);
				sl->dev = it->dev[i];
				sl->n++;
			}
	/* Rows locked in one order (by device), so that two writers wait
	   for each other instead of deadlocking; the free slots sort first. */
	qsort(m.slot, m.cap, sizeof(*m.slot), by_dev);
	for (i = 0; i < m.cap && m.slot[i].dev == 0; i++)
		;
	if ((r = seq_take(db, m.slot + i, m.cap - i)) == 0)
		r = seq_rehash(&m);
	for (it = items; it != NULL && r == 0; it = it->next)
		if ((it->kind == STORAGE_LINE || it->kind == STORAGE_KEY) &&
		    it->r == 0)
			for (i = 0; i < it->ndev; i++) {
				it->seq[i] = seq_slot(&m, it->dev[i])->next++;
				(*rows)++;
			}
	free(m.slot);
	return r;
}

/* ---- the statements of each kind ---- */

/* The stored payload; *msg gets its id.  E_EXISTS: a retry of a line. */
static int
store_message(struct db *db, const struct storage_item *it, long long *msg)
{
	struct db_val p[] = {
		DB_IN_INT(it->sender),
		{ .type = DB_STR, .str = it->kind == STORAGE_LINE ?
		    (const char *)it->mid : NULL, .len = STORAGE_MID_LEN },
		{ .type = DB_STR, .str = it->frame, .len = it->len },
		DB_IN_INT((long long)it->ndev),
	};
	unsigned long long id = 0;
	int r;

	if ((r = db_exec_id(db, "INSERT INTO messages "
	    "(sender_key_id, mid, frame, pending) VALUES (?, ?, ?, ?)",
	    p, 4, NULL, &id)) != 0)
		return r;
	*msg = (long long)id;
	return 0;
}

static int
store_membership(struct db *db, const struct storage_item *it)
{
	struct db_val p[] = { DB_IN_STR(it->room), DB_IN_STR(it->user) };

	if (it->kind == STORAGE_PART)
		return db_exec(db, "DELETE m FROM room_members m "
		    "JOIN rooms r ON r.room_id = m.room_id "
		    "JOIN users u ON u.user_id = m.user_id "
		    "WHERE r.room_name = ? AND u.user_name = ?", p, 2, NULL);
	return db_exec(db, "INSERT IGNORE INTO rooms (room_name, created_by) "
	    "SELECT ?, user_id FROM users WHERE user_name = ?", p, 2, NULL) ||
	    db_exec(db, "INSERT IGNORE INTO room_members (room_id, user_id) "
	    "SELECT r.room_id, u.user_id FROM rooms r JOIN users u "
	    "WHERE r.room_name = ? AND u.user_name = ?", p, 2, NULL) ?
	    E_DB : 0;
}

/* The three columns (device, seq, message) of rows inserted in one
   statement (db_exec_rows). */
static int
cols_new(long long *col[3], size_t rows)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if ((col[i] = calloc(rows, sizeof(long long))) == NULL) {
			while (i-- > 0)
				free(col[i]);
			return E_NOMEM;
		}
	return 0;
}

static void
cols_free(long long *col[3])
{
	size_t i;

	for (i = 0; i < 3; i++)
		free(col[i]);
}

/* ---- rows that go: fetched (acknowledged) or removed unfetched ---- */

/* The messages that no device waits for any more, among rows that go:
   their frames to empty, and (it not NULL) the receipts they make. */
struct done_list {
	struct storage_item *it;
	long long *msg;
	size_t n, cap, rcap;
};

/* Room in *v (of *cap elements of size, n used) for one more: 0 or
   E_NOMEM (*v unchanged). */
static int
grow_one(void **v, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap == 0 ? 16 : 2 * *cap;
	void *p;

	if (n < *cap)
		return 0;
	if ((p = realloc(*v, want * size)) == NULL)
		return E_NOMEM;
	*v = p;
	*cap = want;
	return 0;
}

static int
done_one(void *arg, const struct db_val *cols)
{
	struct done_list *l = arg;
	struct storage_item *it = l->it;
	struct storage_receipt *v;
	void *p = l->msg;

	if (grow_one(&p, &l->cap, l->n, sizeof(*l->msg)) != 0)
		return E_NOMEM;
	l->msg = p;
	l->msg[l->n++] = cols[0].i;
	if (it == NULL || cols[3].i == 0)
		return 0;
	if (cols[2].is_null || cols[2].len != STORAGE_MID_LEN)
		return E_DB;
	p = it->receipts;
	if (grow_one(&p, &l->rcap, it->nreceipts, sizeof(*it->receipts)) != 0)
		return E_NOMEM;
	it->receipts = p;
	v = &it->receipts[it->nreceipts++];
	v->msg = cols[0].i;
	v->dev = cols[1].i;
	memcpy(v->mid, cols[2].buf, STORAGE_MID_LEN);
	return 0;
}

/*
 * A receipt row for the sending device of each line of it->receipts
 * (sorted by that device): seqs taken for all the devices at once.
 */
static int
store_receipts(struct db *db, struct storage_item *it)
{
	struct seq_slot *sl;
	long long *col[3];
	size_t i, j, n;
	int r;

	if (it->nreceipts == 0)
		return 0;
	if ((sl = calloc(it->nreceipts, sizeof(*sl))) == NULL)
		return E_NOMEM;
	for (i = 0, n = 0; i < it->nreceipts; i = j, n++) {
		for (j = i; j < it->nreceipts &&
		    it->receipts[j].dev == it->receipts[i].dev; j++)
			;
		sl[n] = (struct seq_slot){ it->receipts[i].dev,
		    (long long)(j - i), 0 };
	}
	if ((r = seq_take(db, sl, n)) == 0)
		for (i = 0, n = 0; i < it->nreceipts; n++)
			for (; i < it->nreceipts &&
			    it->receipts[i].dev == sl[n].dev; i++)
				it->receipts[i].seq = sl[n].next++;
	free(sl);
	if (r != 0 || (r = cols_new(col, it->nreceipts)) != 0)
		return r;
	for (i = 0; i < it->nreceipts; i++) {
		col[0][i] = it->receipts[i].dev;
		col[1][i] = it->receipts[i].seq;
		col[2][i] = it->receipts[i].msg;
	}
	r = db_exec_rows(db, "INSERT INTO inbox (key_id, seq, msg_id, kind) "
	    "VALUES (?, ?, ?, 1)", col, 3, it->nreceipts);
	cols_free(col);
	return r;
}

/*
 * The rows up to upto of dev go: each message they carry has one device
 * fewer to wait for (and, when they were not fetched, one more that never
 * got it; with receipts, the lines now fetched by all get theirs: those
 * none of whose rows was removed unfetched, whose sending device exists
 * and is not revoked).  A message none waits for keeps its row, emptied:
 * it is the key that makes a late retry idempotent.  One read finds both
 * the messages to empty and the receipts (sorted by sending device), so
 * the rows are walked three times: count down, read, delete.  *n gets
 * the rows removed.
 */
static int
rows_gone(struct db *db, long long dev, long long upto, int fetched,
    struct storage_item *receipts, unsigned long long *n)
{
	struct db_val p[] = { DB_IN_INT(fetched ? 0 : 1), DB_IN_INT(dev),
		DB_IN_INT(upto) };
	const struct db_val *q = p + 1;
	char mid[STORAGE_MID_LEN + 1];
	struct db_val cols[] = { DB_OUT_INT(), DB_OUT_INT(), DB_OUT_STR(mid),
		DB_OUT_INT() };
	struct done_list l = { receipts, NULL, 0, 0, 0 };
	long long *col[1];
	int r;

	if ((r = db_exec(db, "UPDATE messages m JOIN inbox i "
	    "ON i.msg_id = m.msg_id SET m.pending = m.pending - 1, "
	    "m.dropped = m.dropped + ? WHERE i.key_id = ? AND i.seq <= ? "
	    "AND i.kind = 0 AND m.pending > 0", p, 3, NULL)) != 0 ||
	    (r = db_query(db, "SELECT m.msg_id, m.sender_key_id, m.mid, "
	    "COALESCE(m.dropped = 0 AND m.mid IS NOT NULL AND "
	    "k.revoked = 0, 0) FROM inbox i "
	    "JOIN messages m ON m.msg_id = i.msg_id "
	    "LEFT JOIN client_keys k ON k.key_id = m.sender_key_id "
	    "WHERE i.key_id = ? AND i.seq <= ? AND i.kind = 0 "
	    "AND m.pending = 0 AND m.frame <> '' "
	    "ORDER BY m.sender_key_id, m.msg_id", q, 2, cols, 4, done_one,
	    &l)) != 0 ||
	    (receipts != NULL && (r = store_receipts(db, receipts)) != 0))
		goto out;
	col[0] = l.msg;
	if ((r = db_exec_rows(db, "UPDATE messages SET frame = '' "
	    "WHERE msg_id = ?", col, 1, l.n)) == 0)
		r = db_exec(db, "DELETE FROM inbox WHERE key_id = ? "
		    "AND seq <= ?", q, 2, n);
out:
	free(l.msg);
	return r;
}

/* The rows up to it->ack are handled. */
static int
store_ack(struct db *db, struct storage_item *it)
{
	struct db_val p[] = { DB_IN_INT(it->ack), DB_IN_INT(it->dev[0]) };
	unsigned long long n;

	/* A batch run again starts its receipts anew. */
	free(it->receipts);
	it->receipts = NULL;
	it->nreceipts = 0;
	if (db_exec(db, "UPDATE device_inbox SET acked_seq = "
	    "GREATEST(acked_seq, ?) WHERE key_id = ?", p, 2, NULL) != 0)
		return E_DB;
	return rows_gone(db, it->dev[0], it->ack, 1, it, &n);
}

/* The inbox rows of every stored item, in one statement. */
static int
store_rows(struct db *db, const struct storage_item *items,
    const long long *msg, size_t rows)
{
	const struct storage_item *it;
	long long *col[3];
	size_t i, k = 0, m = 0;
	int r;

	if (rows == 0)
		return 0;
	if ((r = cols_new(col, rows)) != 0)
		return r;
	for (it = items; it != NULL; it = it->next) {
		if (it->kind != STORAGE_LINE && it->kind != STORAGE_KEY)
			continue;
		if (it->r == 0)
			for (i = 0; i < it->ndev; i++, k++) {
				col[0][k] = it->dev[i];
				col[1][k] = it->seq[i];
				col[2][k] = msg[m];
			}
		m++;
	}
	r = db_exec_rows(db, "INSERT INTO inbox (key_id, seq, msg_id) "
	    "VALUES (?, ?, ?)", col, 3, rows);
	cols_free(col);
	return r;
}

static void
items_fail(struct storage_item *items, int r)
{
	for (; items != NULL; items = items->next)
		items->r = r;
}

int
storage_commit(struct db *db, struct storage_item *items)
{
	struct storage_item *it;
	long long *msg;
	size_t n = 0, m = 0, rows;
	int r;

	for (it = items; it != NULL; it = it->next) {
		it->r = 0;
		n += it->kind == STORAGE_LINE || it->kind == STORAGE_KEY;
	}
	if ((msg = calloc(n + 1, sizeof(*msg))) == NULL) {
		items_fail(items, E_NOMEM);
		return E_NOMEM;
	}
	if ((r = db_begin(db)) != 0)
		goto fail;
	for (it = items; it != NULL; it = it->next) {
		switch (it->kind) {
		case STORAGE_LINE:
		case STORAGE_KEY:
			/* A line stored before: E_EXISTS, nothing more. */
			r = store_message(db, it, &msg[m++]);
			if (r == E_EXISTS)
				it->r = r;
			else if (r != 0)
				goto fail;
			break;
		case STORAGE_JOIN:
		case STORAGE_PART:
			if ((r = store_membership(db, it)) != 0)
				goto fail;
			break;
		case STORAGE_ACK:
			if ((r = store_ack(db, it)) != 0)
				goto fail;
			break;
		}
	}
	if ((r = seq_assign(db, items, &rows)) != 0 ||
	    (r = store_rows(db, items, msg, rows)) != 0 ||
	    (r = db_commit(db)) != 0)
		goto fail;
	free(msg);
	return 0;
fail:
	db_rollback(db);
	items_fail(items, r);
	free(msg);
	return r;
}

/* ---- reading ---- */

struct read_ctx {
	int (*fn)(void *, long long, const char *, size_t);
	void *arg;
};

static int
read_one(void *arg, const struct db_val *cols)
{
	struct read_ctx *ctx = arg;

	return ctx->fn(ctx->arg, cols[0].i, cols[1].buf, cols[1].len);
}

static int
last_one(void *arg, const struct db_val *cols)
{
	*(long long *)arg = cols[0].i;
	return 0;
}

static int
two_ints(void *arg, const struct db_val *cols)
{
	((long long *)arg)[0] = cols[0].i;
	((long long *)arg)[1] = cols[1].i;
	return 0;
}

int
storage_read(struct db *db, long long dev, long long after, size_t limit,
    size_t frame_max, long long *last, long long *missed,
    int (*fn)(void *arg, long long seq, const char *frame, size_t len),
    void *arg)
{
	struct db_val p[] = { DB_IN_INT(dev) };
	char receipt[FRAME_OPCODE_LEN + 2];
	struct db_val q[] = { { .type = DB_STR, .str = receipt,
		.len = FRAME_OPCODE_LEN + 1 }, DB_IN_INT(dev),
		DB_IN_INT(after), DB_IN_INT((long long)limit) };
	struct db_val cols[2] = { DB_OUT_INT(), { .type = DB_STR } };
	struct db_val state[2] = { DB_OUT_INT(), DB_OUT_INT() };
	struct read_ctx ctx = { fn, arg };
	long long got[2] = { 0, 0 };
	int r;

	(void)snprintf(receipt, sizeof(receipt), "%04u|",
	    (unsigned)OP_RECEIPT);
	/* Rows still here are the ones not acknowledged. */
	if ((r = db_query(db, "SELECT COALESCE((SELECT MAX(seq) FROM inbox "
	    "WHERE key_id = d.key_id), 0), missed FROM device_inbox d "
	    "WHERE key_id = ?", p, 1, state, 2, two_ints, got)) != 0)
		return r;
	*last = got[0];
	if (missed != NULL) {
		struct db_val m[] = { DB_IN_INT(got[1]), DB_IN_INT(dev) };

		/* What it is told is taken off; later removals stay. */
		*missed = got[1];
		if (got[1] > 0 && (r = db_exec(db, "UPDATE device_inbox SET "
		    "missed = missed - ? WHERE key_id = ?", m, 2, NULL)) != 0)
			return r;
	}
	if ((cols[1].buf = malloc(frame_max + 1)) == NULL)
		return E_NOMEM;
	cols[1].cap = frame_max + 1;
	r = db_query(db, "SELECT i.seq, IF(i.kind = 1, CONCAT(?, "
	    "LOWER(HEX(m.mid))), m.frame) FROM inbox i "
	    "JOIN messages m ON m.msg_id = i.msg_id "
	    "WHERE i.key_id = ? AND i.seq > ? ORDER BY i.seq LIMIT ?",
	    q, 4, cols, 2, read_one, &ctx);
	free(cols[1].buf);
	return r;
}

struct rooms_ctx {
	int (*fn)(void *, const char *, const char *);
	void *arg;
};

static int
room_one(void *arg, const struct db_val *cols)
{
	struct rooms_ctx *ctx = arg;

	return ctx->fn(ctx->arg, cols[0].buf, cols[1].is_null ? NULL :
	    cols[1].buf);
}

int
storage_rooms(struct db *db, int (*fn)(void *arg, const char *room,
    const char *user), void *arg)
{
	char room[STORAGE_ROOM_MAX + 1], user[NAME_USER_MAX + 1];
	struct db_val cols[] = { DB_OUT_STR(room), DB_OUT_STR(user) };
	struct rooms_ctx ctx = { fn, arg };

	return db_query(db, "SELECT r.room_name, u.user_name FROM rooms r "
	    "LEFT JOIN room_members m ON m.room_id = r.room_id "
	    "LEFT JOIN users u ON u.user_id = m.user_id "
	    "ORDER BY r.room_name, u.user_name", NULL, 0, cols, 2, room_one,
	    &ctx);
}

struct newcomer {
	long long id;
	char name[NAME_USER_MAX + 1];
};

struct newcomers {
	struct newcomer *v;
	size_t n, max;
};

static int
newcomer_one(void *arg, const struct db_val *cols)
{
	struct newcomers *nc = arg;

	if (nc->n == nc->max)
		return 0;
	nc->v[nc->n].id = cols[0].i;
	memcpy(nc->v[nc->n].name, cols[1].buf, cols[1].len + 1);
	nc->n++;
	return 0;
}

int
storage_newcomers(struct db *db, const char *lobby, size_t max,
    int (*fn)(void *arg, const char *user), void *arg)
{
	char name[NAME_USER_MAX + 1];
	struct db_val cols[] = { DB_OUT_INT(), DB_OUT_STR(name) };
	struct db_val lim[] = { DB_IN_INT((long long)max) };
	struct newcomers nc = { NULL, 0, max };
	size_t i;
	int r;

	if ((nc.v = calloc(max + 1, sizeof(*nc.v))) == NULL)
		return E_NOMEM;
	if ((r = db_query(db, "SELECT u.user_id, u.user_name FROM users u "
	    "LEFT JOIN user_state s ON s.user_id = u.user_id "
	    "WHERE s.user_id IS NULL ORDER BY u.user_id LIMIT ?", lim, 1,
	    cols, 2, newcomer_one, &nc)) != 0 || nc.n == 0) {
		free(nc.v);
		return r;
	}
	if ((r = db_begin(db)) != 0)
		goto out;
	for (i = 0; i < nc.n && r == 0; i++) {
		struct db_val p[] = { DB_IN_INT(nc.v[i].id), DB_IN_STR(lobby) };
		struct db_val q[] = { DB_IN_INT(nc.v[i].id) };

		if ((r = db_exec(db, "INSERT IGNORE INTO room_members "
		    "(room_id, user_id) SELECT room_id, ? FROM rooms "
		    "WHERE room_name = ?", p, 2, NULL)) == 0)
			r = db_exec(db, "INSERT IGNORE INTO user_state (user_id) "
			    "VALUES (?)", q, 1, NULL);
	}
	if (r == 0)
		r = db_commit(db);
	if (r != 0) {
		db_rollback(db);
		goto out;
	}
	for (i = 0; i < nc.n && r == 0; i++)
		r = fn(arg, nc.v[i].name);
out:
	free(nc.v);
	return r;
}

/* The messages older than days: the highest msg_id of the oldest step. */
static int
expired_upto(struct db *db, long long days, long long *upto)
{
	struct db_val p[] = { DB_IN_INT(days), DB_IN_INT(STORAGE_PURGE_STEP) };
	struct db_val cols[] = { DB_OUT_INT() };

	*upto = 0;
	return db_query(db, "SELECT COALESCE(MAX(msg_id), 0) FROM "
	    "(SELECT msg_id FROM messages WHERE created_at < "
	    "NOW(3) - INTERVAL ? DAY ORDER BY msg_id LIMIT ?) x", p, 2, cols,
	    1, last_one, upto);
}

/* Remove the rows of messages up to msg_id upto, and the messages. */
static int
purge_expired(struct db *db, long long upto, long long *removed)
{
	struct db_val p[] = { DB_IN_INT(upto) };
	unsigned long long n = 0;

	if (db_exec(db, "UPDATE device_inbox d JOIN (SELECT key_id, "
	    "COUNT(*) AS n FROM inbox WHERE msg_id <= ? AND kind = 0 "
	    "GROUP BY key_id) x "
	    "ON x.key_id = d.key_id SET d.missed = d.missed + x.n", p, 1,
	    NULL) != 0 ||
	    db_exec(db, "DELETE FROM inbox WHERE msg_id <= ?", p, 1, &n) != 0 ||
	    db_exec(db, "DELETE FROM messages WHERE msg_id <= ?", p, 1,
	    NULL) != 0)
		return E_DB;
	*removed += (long long)n;
	return 0;
}

struct over_cap {
	long long dev[STORAGE_PURGE_STEP], upto[STORAGE_PURGE_STEP];
	size_t n;
};

static int
over_one(void *arg, const struct db_val *cols)
{
	struct over_cap *o = arg;

	if (o->n < STORAGE_PURGE_STEP) {
		o->dev[o->n] = cols[0].i;
		o->upto[o->n] = cols[1].i;
		o->n++;
	}
	return 0;
}

/* Drop the oldest rows of the devices over the cap: missed, and one
   device fewer for their messages to wait for. */
static int
purge_over_cap(struct db *db, long long max_rows, long long *removed)
{
	struct db_val p[] = { DB_IN_INT(max_rows), DB_IN_INT(max_rows),
		DB_IN_INT(STORAGE_PURGE_STEP) };
	struct db_val cols[] = { DB_OUT_INT(), DB_OUT_INT() };
	struct over_cap *o;
	unsigned long long n;
	size_t i;
	int r;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return E_NOMEM;
	/* next_seq - 1 - acked_seq bounds the rows a device holds. */
	r = db_query(db, "SELECT key_id, next_seq - 1 - ? FROM device_inbox "
	    "WHERE next_seq - 1 - acked_seq > ? LIMIT ?", p, 3, cols, 2,
	    over_one, o);
	for (i = 0; i < o->n && r == 0; i++) {
		struct db_val m[] = { DB_IN_INT(0), DB_IN_INT(o->dev[i]) };

		n = 0;
		if ((r = rows_gone(db, o->dev[i], o->upto[i], 0, NULL,
		    &n)) != 0)
			break;
		m[0].i = (long long)n;
		if (n > 0 && (r = db_exec(db, "UPDATE device_inbox SET "
		    "missed = missed + ? WHERE key_id = ?", m, 2, NULL)) != 0)
			break;
		*removed += (long long)n;
	}
	free(o);
	return r;
}

int
storage_purge(struct db *db, long long days, long long max_rows,
    long long *removed)
{
	long long upto;
	int r;

	*removed = 0;
	if ((r = expired_upto(db, days, &upto)) != 0)
		return r;
	if ((r = db_begin(db)) != 0)
		return r;
	if ((upto > 0 && (r = purge_expired(db, upto, removed)) != 0) ||
	    (r = purge_over_cap(db, max_rows, removed)) != 0 ||
	    (r = db_commit(db)) != 0) {
		db_rollback(db);
		*removed = 0;
	}
	return r;
}

int
storage_schema_check(struct db *db, char *err, size_t errlen)
{
	struct db_val cols[] = { DB_OUT_INT() };
	long long version = 0;

	if (db_query(db, "SELECT COALESCE(MAX(version), 0) "
	    "FROM schema_version", NULL, 0, cols, 1, last_one, &version) != 0) {
		(void)snprintf(err, errlen, "cannot read the schema version "
		    "(%s): run scripts/db.sh migrate", db_error(db));
		return E_DB;
	}
	if (version != MISSIVE_SCHEMA_VERSION) {
		(void)snprintf(err, errlen, "the database schema is at version "
		    "%lld, this server needs %d: %s", version,
		    MISSIVE_SCHEMA_VERSION, version < MISSIVE_SCHEMA_VERSION ?
		    "run scripts/db.sh migrate" : "run a newer missived");
		return E_DB;
	}
	return 0;
}
