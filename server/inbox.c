/* A device's inbox on the loop side (server/inbox.h). */
#include "server/inbox.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "server/auth.h"
#include "server/conn.h"
#include "server/handlers.h"
#include "server/reply.h"
#include "server/storage.h"
#include "server/store.h"
#include "server/worker.h"

#define ONLINE_BUCKETS 4096          /* a power of 2 */
#define PAGE_ROWS 256                /* rows per backlog read */
#define READ_RETRY_MS 1000           /* after a failed read */
/* A device whose output holds more than this share of
   limits.output_queue_max reads its rows from the database instead of
   being sent them live (and then dropped as slow). */
#define LIVE_SHARE 4

static size_t
dev_bucket(long long dev)
{
	return (size_t)(((unsigned long long)dev * 0x9E3779B97F4A7C15ull) >>
	    52) & (ONLINE_BUCKETS - 1);
}

struct conn *
inbox_online(const struct server *s, long long dev)
{
	struct conn *c;

	if (s->online == NULL)
		return NULL;
	for (c = s->online[dev_bucket(dev)]; c != NULL; c = c->dev_next)
		if (c->dev == dev && !c->dead)
			return c;
	return NULL;
}

static void
online_remove(struct conn *c)
{
	struct conn **pp;

	if (c->srv->online == NULL)
		return;
	for (pp = &c->srv->online[dev_bucket(c->dev)]; *pp != NULL;
	    pp = &(*pp)->dev_next)
		if (*pp == c) {
			*pp = c->dev_next;
			c->dev_next = NULL;
			return;
		}
}

void
inbox_free(struct server *s)
{
	free(s->online);
	s->online = NULL;
}

/* Bytes waiting to go out to c. */
static size_t
queued(const struct conn *c)
{
	return buf_size(&c->out) + buf_size(&c->pend);
}

static int
room_for_rows(const struct conn *c)
{
	return queued(c) < (size_t)c->srv->cfg->output_queue_max / LIVE_SHARE;
}

/* Send row seq of c: the stored frame with the seq after its opcode. */
static void
send_row(struct conn *c, long long seq, const char *frame, size_t len)
{
	char head[FRAME_OPCODE_LEN + 24];
	int n;

	if (len <= FRAME_OPCODE_LEN || frame[FRAME_OPCODE_LEN] != '|') {
		log_error("inbox: stored row %lld of device %lld is damaged",
		    seq, c->dev);
		return;
	}
	n = snprintf(head, sizeof(head), "%.*s|%lld", FRAME_OPCODE_LEN,
	    frame, seq);
	conn_send_parts(c, head, (size_t)n, frame + FRAME_OPCODE_LEN,
	    len - FRAME_OPCODE_LEN);
	c->delivered = seq;
}

/* ---- reading the backlog ---- */

struct read_job {
	struct worker_job job;
	struct conn *c;
	long long dev, after, last, missed;
	size_t frame_max;
	int first;                       /* the login's: 1022, 1023 */
	struct buf rows;                 /* (u64 seq, u32 len, frame)... */
	size_t n;
	int r;
};

static int
keep_row(void *arg, long long seq, const char *frame, size_t len)
{
	struct read_job *j = arg;
	uint8_t head[12];

	be64_store(head, (uint64_t)seq);
	be32_store(head + 8, (uint32_t)len);
	if (buf_append(&j->rows, head, sizeof(head)) != 0 ||
	    buf_append(&j->rows, frame, len) != 0)
		return E_NOMEM;
	j->n++;
	return 0;
}

static void
read_run(struct worker_job *job, void *wctx)
{
	struct read_job *j = WORKER_JOB_OWNER(job, struct read_job, job);
	struct db *db;

	if ((db = auth_thread_db(wctx)) == NULL) {
		j->r = E_DB_UNAVAILABLE;
		return;
	}
	if ((j->r = storage_read(db, j->dev, j->after, PAGE_ROWS, j->frame_max,
	    &j->last, j->first ? &j->missed : NULL, keep_row, j)) != 0 &&
	    j->r != E_NOMEM)
		(void)auth_thread_db_failed(wctx);
}

static void read_next(struct conn *c);

static void
read_done(struct worker_job *job)
{
	struct read_job *j = WORKER_JOB_OWNER(job, struct read_job, job);
	struct conn *c = j->c;
	const uint8_t *p = buf_data(&j->rows);
	char count[24];
	size_t i, len;
	long long seq;

	c->jobs--;
	c->reading = 0;
	if (c->fd < 0 || c->dead) {
		buf_free(&j->rows);
		free(j);
		conn_release(c);
		return;
	}
	if (j->r != 0) {
		log_warn("inbox: cannot read the rows of device %lld (%s); "
		    "trying again", c->dev, err_str(j->r));
		c->read_retry_ms = c->srv->now_ms + READ_RETRY_MS;
		buf_free(&j->rows);
		free(j);
		return;
	}
	if (j->first) {
		/* Where the backlog ends, and what was removed unread. */
		(void)snprintf(count, sizeof(count), "%lld", j->last);
		SEND(c, OP_BACKLOG, count);
		if (j->missed > 0) {
			(void)snprintf(count, sizeof(count), "%lld", j->missed);
			SEND(c, OP_MISSED, count);
		}
		c->backlog_told = 1;
	}
	/* A page may be more than the output queue takes: what does not
	   fit now is read again once it drains. */
	for (i = 0; i < j->n && room_for_rows(c); i++) {
		seq = (long long)be64_load(p);
		len = be32_load(p + 8);
		if (seq > c->delivered)
			send_row(c, seq, (const char *)p + 12, len);
		p += 12 + len;
	}
	buf_free(&j->rows);
	/* More to read, or rows came while this read ran: read on. */
	if (i < j->n || j->n == PAGE_ROWS || c->missed) {
		free(j);
		c->missed = 0;
		read_next(c);
		return;
	}
	free(j);
	c->live = 1;
}

/* Read the next page, now or once c's output has room for it. */
static void
read_next(struct conn *c)
{
	struct read_job *j;

	c->live = 0;
	if (c->reading || c->dead)
		return;
	if (!room_for_rows(c)) {
		c->read_waiting = 1;
		return;
	}
	c->read_waiting = 0;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		c->read_retry_ms = c->srv->now_ms + READ_RETRY_MS;
		return;
	}
	j->c = c;
	j->dev = c->dev;
	j->after = c->delivered;
	j->frame_max = (size_t)c->srv->cfg->max_frame;
	j->first = !c->backlog_told;
	j->job.run = read_run;
	j->job.done = read_done;
	if (worker_pool_submit(c->srv->pool, &j->job) != 0) {
		free(j);
		c->read_retry_ms = c->srv->now_ms + READ_RETRY_MS;
		return;
	}
	c->jobs++;
	c->reading = 1;
	c->read_retry_ms = 0;
}

/* ---- live rows ---- */

void
inbox_offer(struct conn *c, long long seq, const char *frame, size_t len)
{
	if (!c->live) {
		c->missed = 1;
		return;
	}
	if (seq <= c->delivered)
		return;
	if (seq != c->delivered + 1 || !room_for_rows(c)) {
		/* A row it has not got, or it is behind: from the inbox. */
		c->missed = 0;
		read_next(c);
		return;
	}
	send_row(c, seq, frame, len);
}

void
inbox_drained(struct conn *c)
{
	if (c->read_waiting && room_for_rows(c))
		read_next(c);
}

void
inbox_tick(struct conn *c)
{
	if (c->read_retry_ms != 0 && c->srv->now_ms >= c->read_retry_ms) {
		c->read_retry_ms = 0;
		read_next(c);
	}
}

int
inbox_login(struct conn *c)
{
	struct server *s = c->srv;
	struct conn *old;

	if (s->online == NULL &&
	    (s->online = calloc(ONLINE_BUCKETS, sizeof(struct conn *))) == NULL)
		return E_NOMEM;
	/* One connection per device: the newest. */
	if ((old = inbox_online(s, c->dev)) != NULL)
		conn_fail(old, PROTO_CLOSE_REPLACED, 1, "this device has logged "
		    "in again elsewhere");
	c->dev_next = s->online[dev_bucket(c->dev)];
	s->online[dev_bucket(c->dev)] = c;
	read_next(c);
	return 0;
}

void
inbox_logout(struct conn *c)
{
	online_remove(c);
	c->live = 0;
}

void
on_ack(struct conn *c, const struct frame *f)
{
	const struct frame_field *v = &f->field[0];
	long long seq = 0;
	size_t i;

	for (i = 0; i < v->len && i < 19; i++) {
		if (v->p[i] < '0' || v->p[i] > '9')
			break;
		seq = seq * 10 + (v->p[i] - '0');
	}
	if (v->len == 0 || i != v->len || (v->len > 1 && v->p[0] == '0')) {
		send_error(c, PROTO_ERR_MALFORMED, "not a sequence number");
		return;
	}
	if (seq > c->delivered) {
		send_error(c, PROTO_ERR_STATE, "acknowledges rows not sent");
		return;
	}
	if (seq <= c->acked)
		return;
	c->acked = seq;
	store_ack(c, seq);
}
