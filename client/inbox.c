/*
 * Rows the server stored for this device (docs/PROTOCOL.md 5.4, version
 * 3): the seq each 1002 and 1015 carries, the cumulative acknowledgement
 * (0020) once rows are handled (shown or refused, and saved when the
 * front end keeps a history), and the backlog that 1022 announces after
 * a login, and the peers' sender keys a history keeps with the rows it
 * acknowledges.  What a row says is client/convs.c's business.
 */
#include <stdio.h>
#include <string.h>

#include "client/session_int.h"
#include "common/err.h"

#define SEQ_DIGITS_MAX 19             /* 2^63 - 1 */

/* A seq (1 to 2^63-1, or 0 with zero_ok): 0 and *v, or -1. */
static int
parse_seq(const char *t, int zero_ok, int64_t *v)
{
	size_t i, len = strlen(t);
	uint64_t x = 0;

	*v = 0;
	if (len == 0 || len > SEQ_DIGITS_MAX || (t[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(t[i] - '0');
	}
	if (x > (uint64_t)INT64_MAX || (x == 0 && !zero_ok))
		return -1;
	*v = (int64_t)x;
	return 0;
}

/* What may be acknowledged: handled (and saved), and sent on this
   connection (a seq above the last one sent is refused). */
static int64_t
ackable(const struct session *s)
{
	return s->saved_seq < s->conn_seq ? s->saved_seq : s->conn_seq;
}

static void
send_ack(struct session *s)
{
	char seq[24];
	struct frame_field f = { seq, 0 };
	int64_t upto = ackable(s);
	int r;

	s->ack_at = 0;
	if (s->state != ST_OPEN || upto <= s->acked_seq)
		return;
	f.len = (size_t)snprintf(seq, sizeof(seq), "%lld", (long long)upto);
	if ((r = frame_put(&s->txplain, OP_ACK, &f, 1)) != 0) {
		cs_lost(s, r, "%s", err_str(r));
		return;
	}
	s->acked_seq = upto;
	cs_flush(s);
}

/* Rows are handled (and saved) up to saved_seq: acknowledge at once if
   enough wait, else within SESSION_ACK_MS. */
static void
ack_soon(struct session *s)
{
	int64_t upto = ackable(s);

	if (upto <= s->acked_seq)
		return;
	if (upto - s->acked_seq >= SESSION_ACK_ROWS)
		send_ack(s);
	else if (s->ack_at == 0)
		s->ack_at = s->now + SESSION_ACK_MS;
}

void
cs_ack_tick(struct session *s, int now)
{
	if (now || (s->ack_at != 0 && s->now >= s->ack_at))
		send_ack(s);
}

int64_t
cs_ack_due(const struct session *s)
{
	return s->state == ST_OPEN && s->ack_at != 0 ? s->ack_at : -1;
}

void
cs_inbox_login(struct session *s)
{
	s->conn_seq = 0;
	s->ack_at = 0;
	s->backlog = CS_BACKLOG_NONE;
	s->backlog_last = 0;
	s->backlog_lines = 0;
}

/* The rows stored while we were away have come: say how many lines, and
   acknowledge them (once saved) without waiting. */
static void
backlog_done(struct session *s)
{
	struct session_event ev = { .kind = SESSION_EV_BACKLOG_END,
	    .count = s->backlog_lines };

	s->backlog = CS_BACKLOG_DONE;
	if (ackable(s) > s->acked_seq)
		send_ack(s);
	cs_emit(s, &ev);
}

void
cs_on_backlog(struct session *s, char **f, size_t n)
{
	int64_t last;

	(void)n;
	if (s->backlog != CS_BACKLOG_NONE || parse_seq(f[0], 1, &last) != 0) {
		cs_lost(s, E_MALFORMED, "the server sent a malformed or second "
		    "%04u frame", OP_BACKLOG);
		return;
	}
	s->backlog_last = last;
	s->backlog = CS_BACKLOG_ON;
	/* Nothing stored that we have not acknowledged: no backlog. */
	if (last <= s->acked_seq)
		backlog_done(s);
}

/*
 * A row's seq: 0 and *seq, or -1 (the connection is lost).  A row after
 * the backlog's last ends the backlog (the rows between expired).
 */
static int
row_begin(struct session *s, unsigned op, const char *field, int64_t *seq)
{
	if (parse_seq(field, 0, seq) != 0) {
		cs_lost(s, E_MALFORMED, "the server sent a %04u frame with a "
		    "bad seq", op);
		return -1;
	}
	if (*seq > s->conn_seq)
		s->conn_seq = *seq;
	if (s->backlog == CS_BACKLOG_ON && *seq > s->backlog_last)
		backlog_done(s);
	return 0;
}

/* The row seq is handled (shown: a line of it was). */
static void
row_done(struct session *s, int64_t seq, int shown)
{
	int in_backlog = s->backlog == CS_BACKLOG_ON;

	if (shown > 0 && in_backlog)
		s->backlog_lines++;
	if (seq > s->handled_seq)
		s->handled_seq = seq;
	if (!s->ack_after_save)
		s->saved_seq = s->handled_seq;
	if (in_backlog && seq >= s->backlog_last)
		backlog_done(s);
	else
		ack_soon(s);
}

void
cs_on_chat(struct session *s, char **f, size_t n)
{
	int64_t seq;
	int r;

	(void)n;
	if (row_begin(s, OP_DELIVERY, f[0], &seq) != 0)
		return;
	if ((r = cs_chat_row(s, f + 1, s->backlog == CS_BACKLOG_ON)) >= 0)
		row_done(s, seq, r);
}

void
cs_on_sender_key(struct session *s, char **f, size_t n)
{
	int64_t seq;

	(void)n;
	if (row_begin(s, OP_SENDER_KEY_DELIVERY, f[0], &seq) != 0)
		return;
	if (cs_sender_key_row(s, f + 1, s->backlog == CS_BACKLOG_ON) >= 0)
		row_done(s, seq, 0);
}

void
cs_on_receipt(struct session *s, char **f, size_t n)
{
	uint8_t mid[E2E_MID_LEN];
	int64_t seq;

	(void)n;
	if (row_begin(s, OP_RECEIPT, f[0], &seq) != 0)
		return;
	if (e2e_mid_parse(f[1], mid) != 0) {
		cs_lost(s, E_MALFORMED, "the server sent a %04u frame with a "
		    "bad message id", OP_RECEIPT);
		return;
	}
	cs_delivered(s, mid);
	row_done(s, seq, 0);
}

void
session_ack_after_save(struct session *s)
{
	s->ack_after_save = 1;
}

void
session_history_saved(struct session *s)
{
	cs_enter(s);
	s->saved_seq = s->handled_seq;
	/* The save is the batch: no need to wait longer. */
	send_ack(s);
	(void)cs_leave(s, 0);
}

size_t
session_unsaved(const struct session *s)
{
	return s->saved_seq < s->handled_seq ?
	    (size_t)(s->handled_seq - s->saved_seq) : 0;
}

uint64_t
session_peer_keys_gen(const struct session *s)
{
	return s->e2e.peer_gen;
}

int
session_peer_keys_put(const struct session *s, struct buf *out)
{
	return e2e_peer_state_put(&s->e2e, out);
}

int
session_peer_keys_take(struct session *s, const uint8_t *state, size_t len)
{
	return e2e_peer_state_take(&s->e2e, state, len);
}
