/* The writer thread and its group commits (server/store.h). */
#include "server/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "server/auth.h"
#include "server/conn.h"
#include "server/inbox.h"
#include "server/reply.h"
#include "server/worker.h"

#define STORE_RETRY_MS 1000          /* after a failed commit */
#define STORE_TRIES 3                /* runs of a batch rolled back */

_Static_assert(STORE_CONV_MAX >= ROOM_NAME_MAX, "a room fits a conv");

/* An item with what the loop does once it is committed. */
struct store_entry {
	struct storage_item it;
	struct conn *c;                  /* sender or acknowledger, held by
	                                    c->jobs until done; or NULL */
	char midhex[PROTO_MID_HEX + 1];
	char conv[STORE_CONV_MAX + 1];   /* LINE and KEY: as c named it */
	char *frame;                     /* owned */
	long long one;                   /* dev[0] of a key or an ack */
};

struct store_batch {
	struct worker_job job;
	struct server *srv;
	struct storage_item *head, **tail;
	size_t n;
	int r;
};

/* A conversation of a connection whose sender key was not stored. */
struct store_lost {
	struct store_lost *next;
	int r;                           /* why */
	char conv[STORE_CONV_MAX + 1];
};

static struct store_entry *
entry_of(struct storage_item *it)
{
	return (struct store_entry *)(void *)((char *)it -
	    offsetof(struct store_entry, it));
}

static void
entry_free(struct store_entry *e)
{
	struct conn *c = e->c;

	free(e->frame);
	if (e->it.dev != &e->one)
		free(e->it.dev);
	free(e->it.seq);
	free(e->it.receipts);
	free(e);
	if (c != NULL) {
		c->jobs--;
		conn_release(c);
	}
}

static void
store_run(struct worker_job *job, void *wctx)
{
	struct store_batch *b = WORKER_JOB_OWNER(job, struct store_batch, job);
	struct storage_item *it;
	struct db *db;
	int tries;

	if ((db = auth_thread_db(wctx)) == NULL) {
		b->r = E_DB_UNAVAILABLE;
		for (it = b->head; it != NULL; it = it->next)
			it->r = b->r;
		return;
	}
	/* A purge (or another node) that locked the same devices made
	   InnoDB roll one of us back: the batch is whole, run it again. */
	for (tries = 0; tries < STORE_TRIES; tries++)
		if ((b->r = storage_commit(db, b->head)) != E_DB_CONFLICT)
			break;
	if (b->r != 0 && b->r != E_NOMEM && b->r != E_DB_CONFLICT)
		(void)auth_thread_db_failed(wctx);
}

static struct store_batch *
batch_open(struct server *s)
{
	struct store_batch *b = s->store.open;

	if (b != NULL)
		return b;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->srv = s;
	b->tail = &b->head;
	b->job.run = store_run;
	return s->store.open = b;
}

static void
batch_add(struct store_batch *b, struct store_entry *e)
{
	e->it.next = NULL;
	*b->tail = &e->it;
	b->tail = &e->it.next;
	b->n++;
}

/* A conn that can still be told something. */
static int
conn_alive(const struct conn *c)
{
	return c != NULL && c->fd >= 0 && !c->dead;
}

/* Why a line was not stored, with its code. */
static const char *
refusal_of(int r, enum proto_error *code)
{
	if (r == E_NOMEM) {
		*code = PROTO_ERR_BUSY;
		return "the server is out of memory";
	}
	if (r == E_DB_FULL) {
		*code = PROTO_ERR_FULL;
		return "the server's storage is full; send it again later";
	}
	*code = PROTO_ERR_UNAVAILABLE;
	return "the server cannot store messages now (database "
	    "unavailable); send it again later";
}

static void
line_refused(struct conn *c, const char *midhex, int r)
{
	enum proto_error code;
	const char *why = refusal_of(r, &code);

	if (conn_alive(c))
		SEND(c, OP_NOT_STORED, midhex, proto_error_word(code), why);
}

/* A line of a conversation whose sender key was not stored: nobody
   could open it. */
static void
line_keyless(struct conn *c, const char *midhex, int r)
{
	enum proto_error code;
	const char *why = refusal_of(r, &code);
	char msg[160];

	if (!conn_alive(c))
		return;
	(void)snprintf(msg, sizeof(msg), "your sender key for this "
	    "conversation was not stored (%s)", why);
	SEND(c, OP_NOT_STORED, midhex, proto_error_word(code), msg);
}

static struct store_lost **
lost_find(struct conn *c, const char *conv)
{
	struct store_lost **l;

	for (l = &c->keys_lost; *l != NULL; l = &(*l)->next)
		if (strcmp((*l)->conv, conv) == 0)
			break;
	return l;
}

/* c sends a new sender key for conv: its lines there may be stored. */
static void
lost_clear(struct conn *c, const char *conv)
{
	struct store_lost **l = lost_find(c, conv), *gone;

	if ((gone = *l) != NULL) {
		*l = gone->next;
		free(gone);
	}
}

/* Refuse c's lines of conv waiting in the open batch: a device that
   missed the key could not open them. */
static void
refuse_waiting(struct server *s, const struct conn *c, const char *conv,
    int r)
{
	struct store_batch *b = s->store.open;
	struct storage_item **p, *it;
	struct store_entry *e;

	if (b == NULL)
		return;
	for (p = &b->head; (it = *p) != NULL;) {
		e = entry_of(it);
		if (it->kind != STORAGE_LINE || e->c != c ||
		    strcmp(e->conv, conv) != 0) {
			p = &it->next;
			continue;
		}
		*p = it->next;
		b->n--;
		line_keyless(e->c, e->midhex, r);
		entry_free(e);
	}
	b->tail = p;
}

/*
 * c's sender key for conv was not stored (r): until c sends a new one,
 * its lines there are refused (1021), those waiting in the open batch
 * at once.  The client answers a 1021 with a new key.
 */
static void
key_lost(struct conn *c, const char *conv, int r)
{
	struct store_lost **l = lost_find(c, conv);

	refuse_waiting(c->srv, c, conv, r);
	if (!conn_alive(c))
		return;              /* its next session has keys of its own */
	if (*l != NULL) {
		(*l)->r = r;
		return;
	}
	log_error("store: a sender key of id=%llu user=%s for %s was not "
	    "stored (%s): its lines there are refused until it sends a new "
	    "one", (unsigned long long)c->id, c->user, conv, err_str(r));
	if ((*l = calloc(1, sizeof(**l))) == NULL) {
		/* Not marked: the lines come to no harm but they cannot be
		   opened either; the conn is closed so that they are sent
		   again, under a new key. */
		conn_fail(c, PROTO_CLOSE_ERROR, 1, "out of memory");
		return;
	}
	(*l)->r = r;
	(void)snprintf((*l)->conv, sizeof((*l)->conv), "%s", conv);
}

void
store_conn_free(struct conn *c)
{
	struct store_lost *l, *next;

	for (l = c->keys_lost; l != NULL; l = next) {
		next = l->next;
		free(l);
	}
	c->keys_lost = NULL;
}

/* Offer a committed row to each receiving device that is online. */
static void
offer_rows(struct server *s, const struct store_entry *e)
{
	struct conn *o;
	size_t i;

	for (i = 0; i < e->it.ndev; i++)
		if ((o = inbox_online(s, e->it.dev[i])) != NULL)
			inbox_offer(o, e->it.seq[i], e->frame, e->it.len);
}

/* "1024|mid" (the seq goes in when it is sent), as storage_read()
   gives it. */
static void
receipt_frame(char out[FRAME_OPCODE_LEN + 1 + PROTO_MID_HEX + 1],
    const uint8_t mid[STORAGE_MID_LEN])
{
	static const char digits[] = "0123456789abcdef";
	size_t i, n;

	n = (size_t)snprintf(out, FRAME_OPCODE_LEN + 2, "%04u|",
	    (unsigned)OP_RECEIPT);
	for (i = 0; i < STORAGE_MID_LEN; i++) {
		out[n++] = digits[mid[i] >> 4];
		out[n++] = digits[mid[i] & 15];
	}
	out[n] = '\0';
}

/* Offer each committed receipt to its sending device, if online. */
static void
offer_receipts(struct server *s, const struct storage_item *it)
{
	char frame[FRAME_OPCODE_LEN + 1 + PROTO_MID_HEX + 1];
	struct conn *o;
	size_t i;

	for (i = 0; i < it->nreceipts; i++) {
		if ((o = inbox_online(s, it->receipts[i].dev)) == NULL)
			continue;
		receipt_frame(frame, it->receipts[i].mid);
		inbox_offer(o, it->receipts[i].seq, frame, sizeof(frame) - 1);
	}
}

static void
entry_done(struct server *s, struct store_entry *e)
{
	switch (e->it.kind) {
	case STORAGE_LINE:
		if (e->it.r != 0 && e->it.r != E_EXISTS) {
			line_refused(e->c, e->midhex, e->it.r);
			break;
		}
		if (conn_alive(e->c))
			SEND(e->c, OP_STORED, e->midhex);
		if (e->it.r == 0)
			offer_rows(s, e);
		break;
	case STORAGE_KEY:
		if (e->it.r == 0)
			offer_rows(s, e);
		else
			key_lost(e->c, e->conv, e->it.r);
		break;
	case STORAGE_JOIN:
	case STORAGE_PART:
		/* Idempotent: kept for the next batch until it is saved. */
		if (e->it.r != 0) {
			struct store_batch *b = batch_open(s);

			if (b != NULL) {
				batch_add(b, e);
				return;
			}
			log_error("membership of %s in #%s not saved: out of "
			    "memory", e->it.user, e->it.room);
		}
		break;
	case STORAGE_ACK:
		/* A lost acknowledgement costs a row sent again. */
		if (e->it.r == 0)
			offer_receipts(s, &e->it);
		break;
	}
	entry_free(e);
}

/* What a batch's commit (or its refusal) means for each of its items. */
static void
batch_finish(struct server *s, struct store_batch *b)
{
	struct storage_item *it, *next;

	s->store.busy = NULL;
	if (b->r != 0) {
		if (!s->store.down)
			log_error("store: cannot commit (%s): lines refused "
			    "until the database is back", err_str(b->r));
		s->store.down = 1;
		s->store.retry_ms = s->now_ms + STORE_RETRY_MS;
	} else if (s->store.down) {
		log_info("store: the database is back");
		s->store.down = 0;
	}
	for (it = b->head; it != NULL; it = next) {
		next = it->next;
		entry_done(s, entry_of(it));
	}
	free(b);
}

static void
batch_done(struct worker_job *job)
{
	struct store_batch *b = WORKER_JOB_OWNER(job, struct store_batch, job);
	struct server *s = b->srv;

	batch_finish(s, b);
	store_kick(s);
}

void
store_kick(struct server *s)
{
	struct store_batch *b = s->store.open;
	struct storage_item *it;

	if (b == NULL || b->n == 0 || s->store.busy != NULL ||
	    s->now_ms < s->store.retry_ms)
		return;
	/* Acknowledgements from now on go to the next batch. */
	for (it = b->head; it != NULL; it = it->next)
		if (it->kind == STORAGE_ACK && entry_of(it)->c != NULL)
			entry_of(it)->c->ack_item = NULL;
	s->store.open = NULL;
	b->job.done = batch_done;
	if (worker_pool_submit(s->store.pool, &b->job) != 0) {
		/* Stopping: nothing more is stored. */
		b->r = E_STATE;
		for (it = b->head; it != NULL; it = it->next)
			it->r = E_STATE;
		batch_finish(s, b);
		return;
	}
	s->store.busy = b;
}

/* A new entry for c (held), or NULL with c told for a line. */
static struct store_entry *
entry_new(struct conn *c, enum storage_kind kind)
{
	struct store_entry *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->it.kind = kind;
	if (c != NULL) {
		e->c = c;
		c->jobs++;
	}
	return e;
}

/* Queue a line or a key whose frame and dev are ours now. */
static void
queue_rows(struct conn *c, struct store_entry *e, char *frame, size_t len,
    long long *dev, size_t ndev)
{
	struct store_batch *b;

	e->frame = frame;
	e->it.frame = frame;
	e->it.len = len;
	e->it.dev = dev;
	e->it.ndev = ndev;
	e->it.sender = c->dev;
	if ((e->it.seq = calloc(ndev + 1, sizeof(long long))) == NULL ||
	    (b = batch_open(c->srv)) == NULL) {
		if (e->it.kind == STORAGE_LINE)
			line_refused(c, e->midhex, E_NOMEM);
		else
			key_lost(c, e->conv, E_NOMEM);
		entry_free(e);
		return;
	}
	if (e->it.kind == STORAGE_KEY)
		lost_clear(c, e->conv);
	batch_add(b, e);
}

void
store_line(struct conn *c, const char *conv,
    const uint8_t mid[STORAGE_MID_LEN], const char *midhex, char *frame,
    size_t len, long long *dev, size_t ndev)
{
	const struct store_lost *lost = *lost_find(c, conv);
	struct store_entry *e;

	if (lost != NULL) {
		free(frame);
		free(dev);
		line_keyless(c, midhex, lost->r);
		return;
	}
	if ((e = entry_new(c, STORAGE_LINE)) == NULL) {
		free(frame);
		free(dev);
		line_refused(c, midhex, E_NOMEM);
		return;
	}
	memcpy(e->it.mid, mid, STORAGE_MID_LEN);
	(void)snprintf(e->midhex, sizeof(e->midhex), "%s", midhex);
	(void)snprintf(e->conv, sizeof(e->conv), "%s", conv);
	queue_rows(c, e, frame, len, dev, ndev);
}

void
store_key(struct conn *c, const char *conv, char *frame, size_t len,
    long long dev)
{
	struct store_entry *e;

	if ((e = entry_new(c, STORAGE_KEY)) == NULL) {
		free(frame);
		key_lost(c, conv, E_NOMEM);
		return;
	}
	(void)snprintf(e->conv, sizeof(e->conv), "%s", conv);
	e->one = dev;
	queue_rows(c, e, frame, len, &e->one, 1);
}

void
store_membership(struct server *s, enum storage_kind kind, const char *user,
    const char *room)
{
	struct store_entry *e;
	struct store_batch *b;

	if ((e = entry_new(NULL, kind)) == NULL ||
	    (b = batch_open(s)) == NULL) {
		free(e);
		log_error("membership of %s in #%s not saved: out of memory",
		    user, room);
		return;
	}
	(void)snprintf(e->it.user, sizeof(e->it.user), "%s", user);
	(void)snprintf(e->it.room, sizeof(e->it.room), "%s", room);
	batch_add(b, e);
}

void
store_ack(struct conn *c, long long seq)
{
	struct store_entry *e;
	struct store_batch *b;

	if (c->ack_item != NULL) {
		c->ack_item->ack = seq;
		return;
	}
	if ((e = entry_new(c, STORAGE_ACK)) == NULL)
		return;              /* the next one covers it */
	if ((b = batch_open(c->srv)) == NULL) {
		entry_free(e);
		return;
	}
	e->one = c->dev;
	e->it.dev = &e->one;
	e->it.ndev = 1;
	e->it.ack = seq;
	c->ack_item = &e->it;
	batch_add(b, e);
}

int
store_start(struct server *s)
{
	return worker_pool_start(&s->store.pool, 1, auth_thread_init,
	    auth_thread_fini, &s->auth);
}

int
store_fd(const struct server *s)
{
	return worker_pool_fd(s->store.pool);
}

void
store_drain(struct server *s)
{
	worker_pool_drain(s->store.pool);
}

void
store_stop(struct server *s)
{
	struct storage_item *it, *next;
	struct store_batch *b;

	/* Commit what came in last, then no more. */
	s->store.retry_ms = 0;
	store_kick(s);
	worker_pool_stop(s->store.pool);
	s->store.pool = NULL;
	if ((b = s->store.open) != NULL) {
		for (it = b->head; it != NULL; it = next) {
			next = it->next;
			entry_free(entry_of(it));
		}
		free(b);
		s->store.open = NULL;
	}
}
