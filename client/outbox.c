/*
 * The client core's outbox (docs/PROTOCOL.md section 5.4, delivery): the
 * chat lines of each conversation waiting for its device list, the lines
 * sent but not yet confirmed by the server (1020|mid: stored; 1021: refused,
 * reported and dropped), and what happens to both when the connection
 * is lost (they go out again, with the same message ids, after the next
 * login) or the session ends (reported as not sent).  Lines queued
 * while disconnected go out only if the conversation's devices are the
 * same after the login (client/convs.c holds them otherwise), and the
 * commands that then send or drop them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client/session_int.h"
#include "common/clock.h"
#include "common/err.h"

/* A queued or unconfirmed line: mid || uint32 length || text. */
static int
put_line(struct buf *b, const uint8_t mid[E2E_MID_LEN], const char *text,
    size_t len)
{
	uint32_t len32 = (uint32_t)len;
	size_t mark = buf_size(b);
	int r;

	if ((r = buf_append(b, mid, E2E_MID_LEN)) != 0 ||
	    (r = buf_append(b, &len32, sizeof(len32))) != 0 ||
	    (r = buf_append(b, text, len)) != 0)
		buf_truncate(b, mark);
	return r;
}

/* The line at p: its mid, text and length; returns its size in bytes. */
static size_t
get_line(const uint8_t *p, const uint8_t **mid, const char **text,
    uint32_t *len)
{
	*mid = p;
	memcpy(len, p + E2E_MID_LEN, sizeof(*len));
	*text = (const char *)p + E2E_MID_LEN + sizeof(*len);
	return E2E_MID_LEN + sizeof(*len) + *len;
}

int
cs_send_line(struct session *s, struct e2e_conv *cv,
    const uint8_t mid[E2E_MID_LEN], const char *text, size_t len)
{
	size_t mark = buf_size(&s->txplain);
	int r;

	if (cv->name[0] == '@' && !e2e_has_user(cv, cv->name + 1))
		return cs_refuse(s, E_NOT_FOUND, "not sent to %s: no such "
		    "user, or %s has no device", cv->name, cv->name + 1);
	if ((r = cs_check_devices(s, cv)) != 0)
		return r;
	if (buf_size(&s->out) > SESSION_OUT_MAX)
		return cs_refuse(s, E_TOO_LONG, "not sent: the server is not "
		    "reading (%zu bytes waiting)", buf_size(&s->out));
	if ((r = e2e_seal(&s->e2e, cv, mid, s->nick, clock_wall_ms(), text,
	    len, s->max_frame, &s->txplain)) != 0 ||
	    (r = put_line(&cv->unconfirmed, mid, text, len)) != 0) {
		buf_truncate(&s->txplain, mark);
		return cs_refuse(s, r, "not sent to %s: %s", cv->name,
		    err_str(r));
	}
	/* Queued: only now is a new sender key counted as given out. */
	cv->nunconfirmed++;
	e2e_commit(cv);
	cs_flush(s);
	return 0;
}

/*
 * Lines of cv wait for a login: typed for the devices known before it.
 * Without memory to note it they are dropped, said so, rather than sent
 * unchecked.
 */
static void
mark_offline(struct session *s, struct e2e_conv *cv)
{
	struct cs_devset *d = cs_devset_of(s, cv->name, 1);

	if (d != NULL)
		d->offline = 1;
	else
		(void)cs_drop_pending(s, cv, err_str(E_NOMEM));
}

int
cs_queue_line(struct session *s, struct e2e_conv *cv,
    const uint8_t mid[E2E_MID_LEN], const char *text, size_t len)
{
	int r;

	if (cv->npending >= SESSION_QUEUE_LINES ||
	    buf_size(&cv->pending) + len > SESSION_QUEUE_BYTES)
		return cs_refuse(s, E_TOO_LONG, "not sent: %zu lines are "
		    "already waiting for %s", cv->npending, cv->name);
	if ((r = put_line(&cv->pending, mid, text, len)) != 0)
		return cs_refuse(s, r, "not sent: %s", err_str(r));
	cv->npending++;
	if (s->state != ST_OPEN)
		mark_offline(s, cv);
	return 0;
}

/*
 * Send the lines waiting in the conversation called name, in order, while
 * logged in.  Each line leaves the queue before it is sent (into
 * cv->unconfirmed, or refused with an error event), and the conversation
 * is looked up again for the next one: the event's callback may add lines,
 * or leave the conversation.
 */
void
cs_flush_pending(struct session *s, const char *name)
{
	struct e2e_conv *cv;
	struct buf line = BUF_INIT;
	const uint8_t *mid;
	const char *text;
	uint32_t len;
	size_t size;

	while (s->state == ST_OPEN &&
	    (cv = e2e_conv(&s->e2e, name, 0)) != NULL && cv->npending > 0) {
		size = get_line(buf_data(&cv->pending), &mid, &text, &len);
		buf_truncate(&line, 0);
		if (buf_append(&line, buf_data(&cv->pending), size) != 0) {
			(void)cs_refuse(s, E_NOMEM, "not sent to %s: %s", name,
			    err_str(E_NOMEM));
			break;
		}
		buf_consume(&cv->pending, size);
		if (--cv->npending == 0)
			buf_free(&cv->pending);
		(void)get_line(buf_data(&line), &mid, &text, &len);
		(void)snprintf(s->flushing, sizeof(s->flushing), "%s", name);
		memcpy(s->flushing_mid, mid, E2E_MID_LEN);
		(void)cs_send_line(s, cv, mid, text, len);
		s->flushing[0] = '\0';
	}
	buf_free(&line);
}

size_t
cs_drop_pending(struct session *s, struct e2e_conv *cv, const char *why)
{
	size_t n = cv->npending;

	buf_free(&cv->pending);
	cv->npending = 0;
	buf_free(&cv->unconfirmed);
	cv->nunconfirmed = 0;
	if (n > 0 && why != NULL)
		(void)cs_refuse_lines(s, cv, n, E_CLOSED, "%zu line%s to %s not "
		    "sent: %s", n, n == 1 ? "" : "s", cv->name, why);
	return n;
}

size_t
cs_pending_drop_all(struct session *s)
{
	struct e2e_conv *cv;
	size_t n = 0;

	for (cv = s->e2e.convs; cv != NULL; cv = cv->next)
		n += cs_drop_pending(s, cv, "the session ended");
	return n;
}

size_t
cs_pending_count(const struct session *s)
{
	const struct e2e_conv *cv;
	size_t n = 0;

	for (cv = s->e2e.convs; cv != NULL; cv = cv->next)
		n += cv->npending;
	return n;
}

/* The unconfirmed line whose id is mid: its conversation and where it is
   in cv->unconfirmed, or NULL. */
static struct e2e_conv *
unconfirmed_line(struct session *s, const uint8_t mid[E2E_MID_LEN],
    size_t *off)
{
	struct e2e_conv *cv;
	const uint8_t *m;
	const char *text;
	uint32_t len;
	size_t i, at;

	for (cv = s->e2e.convs; cv != NULL; cv = cv->next) {
		for (i = at = 0; i < cv->nunconfirmed; i++) {
			*off = at;
			at += get_line(buf_data(&cv->unconfirmed) + at, &m,
			    &text, &len);
			if (memcmp(m, mid, E2E_MID_LEN) == 0)
				return cv;
		}
	}
	return NULL;
}

/* Keep a stored line (text, size bytes with its NUL, ours now) for the
   receipt that names it, in place of the oldest. */
static void
keep_sent(struct session *s, const uint8_t mid[E2E_MID_LEN],
    const char *conv, char *text, size_t size)
{
	struct cs_sent *slot = &s->sent[s->sent_next];

	if (slot->text != NULL)
		OPENSSL_clear_free(slot->text, slot->size);
	memcpy(slot->mid, mid, E2E_MID_LEN);
	(void)snprintf(slot->conv, sizeof(slot->conv), "%s", conv);
	slot->text = text;
	slot->size = size;
	s->sent_next = (s->sent_next + 1) % CS_SENT_RECENT;
}

/*
 * Take the line at off out of cv's unconfirmed ones and report it with
 * ev (SENT or NOT_STORED).  The event gets copies: the callback may send,
 * join or leave.
 */
static void
settle_line(struct session *s, struct e2e_conv *cv, size_t off,
    struct session_event *ev)
{
	uint8_t mid[E2E_MID_LEN], *p = buf_data(&cv->unconfirmed);
	char conv[E2E_CONV_MAX + 1], *copy;
	const uint8_t *m;
	const char *text;
	uint32_t len;
	size_t size, total = buf_size(&cv->unconfirmed);

	size = get_line(p + off, &m, &text, &len);
	memcpy(mid, m, sizeof(mid));
	(void)snprintf(conv, sizeof(conv), "%s", cv->name);
	copy = malloc((size_t)len + 1);
	if (copy != NULL) {
		memcpy(copy, text, len);
		copy[len] = '\0';
	}
	memmove(p + off, p + off + size, total - off - size);
	buf_truncate(&cv->unconfirmed, total - size);
	if (--cv->nunconfirmed == 0)
		buf_free(&cv->unconfirmed);
	/* A refusal is reported even without its text. */
	if (copy == NULL && ev->kind == SESSION_EV_SENT)
		return;
	ev->room = conv;
	ev->text = copy != NULL ? copy : "";
	ev->mid = mid;
	cs_emit(s, ev);
	if (copy != NULL && ev->kind == SESSION_EV_SENT)
		keep_sent(s, mid, conv, copy, (size_t)len + 1);
	else if (copy != NULL)
		OPENSSL_clear_free(copy, (size_t)len + 1);
}

void
cs_delivered(struct session *s, const uint8_t mid[E2E_MID_LEN])
{
	struct session_event ev = { .kind = SESSION_EV_DELIVERED, .mid = mid };
	size_t i;

	for (i = 0; i < CS_SENT_RECENT; i++)
		if (s->sent[i].text != NULL &&
		    memcmp(s->sent[i].mid, mid, E2E_MID_LEN) == 0) {
			ev.room = s->sent[i].conv;
			ev.text = s->sent[i].text;
			break;
		}
	cs_emit(s, &ev);
}

void
cs_sent_free(struct session *s)
{
	size_t i;

	for (i = 0; i < CS_SENT_RECENT; i++)
		if (s->sent[i].text != NULL) {
			OPENSSL_clear_free(s->sent[i].text, s->sent[i].size);
			s->sent[i].text = NULL;
		}
}

/*
 * 1020 or 1021 (op) about the line whose mid is hex: report it with ev.
 * None such is a retry's answer after the line was given up; a bad mid
 * loses the connection.
 */
static void
answered(struct session *s, unsigned op, const char *hex,
    struct session_event *ev)
{
	uint8_t mid[E2E_MID_LEN];
	struct e2e_conv *cv;
	size_t off;

	if (e2e_mid_parse(hex, mid) != 0) {
		cs_lost(s, E_MALFORMED, "the server sent a %04u frame with a "
		    "bad message id", op);
		return;
	}
	if ((cv = unconfirmed_line(s, mid, &off)) == NULL)
		return;
	/* The sender key that went out with a refused line may have been
	   refused with it (0015 has no answer): the next line gets a new
	   one. */
	if (op == OP_NOT_STORED)
		cv->changed = 1;
	ev->user = s->user;
	ev->nickname = s->nick;
	ev->time_ms = clock_wall_ms();
	settle_line(s, cv, off, ev);
}

void
cs_on_stored(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_SENT };

	(void)n;
	answered(s, OP_STORED, f[0], &ev);
}

void
cs_on_not_stored(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_NOT_STORED,
	    .code = f[1], .reason = f[2], .err = E_CLOSED };

	(void)n;
	answered(s, OP_NOT_STORED, f[0], &ev);
}

/* cs_requeue_unconfirmed() for one conversation: its unconfirmed lines
   go in front of those waiting. */
static int
requeue(struct e2e_conv *cv)
{
	int r;

	if (buf_size(&cv->pending) > 0 && (r = buf_append(&cv->unconfirmed,
	    buf_data(&cv->pending), buf_size(&cv->pending))) != 0)
		return r;
	buf_free(&cv->pending);
	cv->pending = cv->unconfirmed;
	cv->unconfirmed = (struct buf)BUF_INIT;
	cv->npending += cv->nunconfirmed;
	cv->nunconfirmed = 0;
	return 0;
}

size_t
cs_requeue_unconfirmed(struct session *s)
{
	struct e2e_conv *cv;
	size_t n = 0;
	int r;

	for (cv = s->e2e.convs; cv != NULL; cv = cv->next) {
		n += cv->nunconfirmed;
		if (cv->nunconfirmed > 0 && (r = requeue(cv)) != 0) {
			(void)cs_refuse(s, r, "lines not confirmed by the "
			    "server are lost: %s", err_str(r));
			(void)cs_pending_drop_all(s);
			return 0;
		}
		/* Also those still waiting for a device list. */
		if (cv->npending > 0)
			mark_offline(s, cv);
	}
	return n;
}

/* The conversation conv with lines held, or NULL (refused, reported). */
static struct e2e_conv *
held(struct session *s, const char *conv, struct cs_devset **d)
{
	struct e2e_conv *cv;

	*d = cs_devset_of(s, conv, 0);
	if (*d == NULL || !(*d)->held ||
	    (cv = e2e_conv(&s->e2e, conv, 0)) == NULL || cv->npending == 0) {
		(void)cs_refuse(s, E_STATE, "no lines are held for %s", conv);
		return NULL;
	}
	return cv;
}

static int
resend(struct session *s, const char *conv)
{
	struct cs_devset *d;
	struct e2e_conv *cv;
	size_t n;

	if ((cv = held(s, conv, &d)) == NULL)
		return E_STATE;
	n = cv->npending;
	d->held = d->offline = 0;
	if (s->state != ST_OPEN)
		d->offline = 1;
	else if (cv->name[0] == '@') {
		if (!cv->asking)
			cs_ask_devices(s, cv);
	} else if (cv->ready)
		cs_flush_pending(s, conv);
	return (int)n;
}

int
session_resend(struct session *s, const char *conv)
{
	cs_enter(s);
	return cs_leave(s, resend(s, conv));
}

int
session_drop(struct session *s, const char *conv)
{
	struct cs_devset *d;
	struct e2e_conv *cv;
	int r = E_STATE;

	cs_enter(s);
	if ((cv = held(s, conv, &d)) != NULL) {
		d->held = d->offline = 0;
		r = (int)cs_drop_pending(s, cv, "you dropped them");
		cs_quit_if_drained(s);
	}
	return cs_leave(s, r);
}
