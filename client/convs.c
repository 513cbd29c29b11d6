/*
 * Rooms, private conversations and end-to-end messages in the client core
 * (docs/PROTOCOL.md sections 5.2-5.4 and 8): the commands, the frames that
 * answer them, and the trust checks on every peer key the server hands
 * out.  The crypto and the per-conversation state are in client/e2e.c,
 * the pinned keys in client/trust.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client/session_int.h"
#include "common/clock.h"
#include "common/err.h"
#include "keydist/random.h"

#define WARNED_MAX 1024

static int
is_own_device(const struct session *s, const char *user, const char *fp)
{
	return strcmp(user, s->user) == 0 && strcmp(fp, s->own_fp) == 0;
}

static enum session_trust
trust_of(const struct session *s, const char *user, const char *fp)
{
	if (is_own_device(s, user, fp))
		return SESSION_KEY_OWN;
	switch (trust_level_of(s->trust, user, fp)) {
	case TRUST_VERIFIED:
		return SESSION_KEY_VERIFIED;
	case TRUST_SEEN:
		return SESSION_KEY_SEEN;
	default:
		return SESSION_KEY_UNACCEPTED;
	}
}

static void
first_fp(void *arg, const char *fp, enum trust_level level)
{
	char *out = arg;

	(void)level;
	if (out[0] == '\0')
		(void)snprintf(out, KD_FP_SIZE, "%s", fp);
}

/* Remember that a changed key was reported; 0 if it already was. */
static int
warn_once(struct session *s, const char *user, const char *fp)
{
	struct cs_warned *w;
	size_t i;

	for (i = 0; i < s->nwarned; i++)
		if (strcmp(s->warned[i].user, user) == 0 &&
		    strcmp(s->warned[i].fp, fp) == 0)
			return 0;
	if (s->nwarned == WARNED_MAX)
		return 1;
	if ((w = reallocarray(s->warned, s->nwarned + 1, sizeof(*w))) == NULL)
		return 1;
	s->warned = w;
	(void)snprintf(w[s->nwarned].user, sizeof(w->user), "%s", user);
	(void)snprintf(w[s->nwarned].fp, sizeof(w->fp), "%s", fp);
	s->nwarned++;
	return 1;
}

/*
 * A peer device's key from the directory: pin it if it is the first for
 * its user, report it once if it is not the pinned one.
 */
static void
check_peer(struct session *s, const char *user, const char *fp)
{
	struct session_event ev = { .user = user, .fingerprint = fp };
	enum trust_check_result res;
	enum trust_level level;
	char pinned[KD_FP_SIZE] = "";
	int r;

	if (is_own_device(s, user, fp))
		return;
	if ((r = trust_check(s->trust, user, fp, &res, &level)) != 0) {
		(void)cs_refuse(s, r, "cannot pin %s's key %s in known_keys: "
		    "%s", user, fp, err_str(r));
		return;
	}
	if (res == TRUST_PINNED_NOW) {
		ev.kind = SESSION_EV_KEY_PINNED;
		cs_emit(s, &ev);
	} else if (res == TRUST_CHANGED && warn_once(s, user, fp)) {
		(void)trust_each(s->trust, user, first_fp, pinned);
		ev.kind = SESSION_EV_KEY_CHANGED;
		ev.pinned = pinned;
		cs_emit(s, &ev);
	}
}

/* The conversation a frame is about, as we see it: "@me" is "@sender". */
static const char *
conv_for_us(const struct session *s, const char *conv, const char *sender,
    char buf[E2E_CONV_MAX + 1])
{
	if (conv[0] == '@' && strcmp(conv + 1, s->user) == 0) {
		(void)snprintf(buf, E2E_CONV_MAX + 1, "@%s", sender);
		return buf;
	}
	return conv;
}

static void
server_broke(struct session *s, unsigned op)
{
	cs_lost(s, E_MALFORMED, "the server sent a malformed %04u frame", op);
}

/* Ask the server for the devices of a private conversation. */
static void
ask_devices(struct session *s, struct e2e_conv *cv)
{
	struct frame_field f = { cv->name + 1, strlen(cv->name + 1) };
	int r;

	if ((r = frame_put(&s->txplain, OP_DEVICES, &f, 1)) != 0) {
		cs_lost(s, r, "%s", err_str(r));
		return;
	}
	cv->asking = 1;
	cs_flush(s);
}

/*
 * A queued line: mid || uint32 length || text.  Unconfirmed lines have a
 * uint64 mark in front (the "c<mark>" ping that confirms them).
 */
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

/*
 * Ping after a chat line: the server handles frames in order, so its pong
 * confirms the line (docs/PROTOCOL.md 5.4, delivery).
 */
static int
track_unconfirmed(struct session *s, struct e2e_conv *cv,
    const uint8_t mid[E2E_MID_LEN], const char *text, size_t len)
{
	char token[24];
	struct frame_field f = { token, 0 };
	uint64_t mark = s->confirm_mark + 1;
	size_t size = buf_size(&cv->unconfirmed);
	int r;

	f.len = (size_t)snprintf(token, sizeof(token), "c%llu",
	    (unsigned long long)mark);
	if ((r = buf_append(&cv->unconfirmed, &mark, sizeof(mark))) != 0 ||
	    (r = put_line(&cv->unconfirmed, mid, text, len)) != 0 ||
	    (r = frame_put(&s->txplain, OP_PING, &f, 1)) != 0) {
		buf_truncate(&cv->unconfirmed, size);
		return r;
	}
	s->confirm_mark = mark;
	cv->nunconfirmed++;
	return 0;
}

/* Encrypt and send one line to cv, whose devices are known. */
static int
send_now(struct session *s, struct e2e_conv *cv,
    const uint8_t mid[E2E_MID_LEN], const char *text, size_t len)
{
	size_t i, mark = buf_size(&s->txplain);
	int r;

	if (cv->name[0] == '@' && !e2e_has_user(cv, cv->name + 1))
		return cs_refuse(s, E_NOT_FOUND, "not sent to %s: %s is not "
		    "online", cv->name, cv->name + 1);
	for (i = 0; i < cv->ndev; i++) {
		const struct e2e_device *d = &cv->dev[i];

		if (trust_of(s, d->user, d->fp) == SESSION_KEY_UNACCEPTED)
			return cs_refuse(s, E_UNTRUSTED, "not sent to %s: the "
			    "key of %s changed to %s; compare fingerprints "
			    "(/fingerprint %s), then /accept %s", cv->name,
			    d->user, d->fp, d->user, d->user);
	}
	if (buf_size(&s->out) > SESSION_OUT_MAX)
		return cs_refuse(s, E_TOO_LONG, "not sent: the server is not "
		    "reading (%zu bytes waiting)", buf_size(&s->out));
	if ((r = e2e_seal(&s->e2e, cv, mid, text, len, s->max_frame,
	    &s->txplain)) != 0 ||
	    (r = track_unconfirmed(s, cv, mid, text, len)) != 0) {
		buf_truncate(&s->txplain, mark);
		return cs_refuse(s, r, "not sent to %s: %s", cv->name,
		    err_str(r));
	}
	cs_flush(s);
	return 0;
}

/*
 * Send the lines waiting in the conversation called name, in order, while
 * logged in.  Each line leaves the queue before it is sent (into
 * cv->unconfirmed, or refused with an error event), and the conversation
 * is looked up again for the next one: the event's callback may add lines,
 * or leave the conversation.
 */
static void
flush_pending(struct session *s, const char *name)
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
		(void)send_now(s, cv, mid, text, len);
	}
	buf_free(&line);
}

/* Forget the lines waiting in cv, saying so; returns how many. */
static size_t
drop_pending(struct session *s, struct e2e_conv *cv, const char *why)
{
	size_t n = cv->npending;

	buf_free(&cv->pending);
	cv->npending = 0;
	buf_free(&cv->unconfirmed);
	cv->nunconfirmed = 0;
	if (n > 0 && why != NULL)
		(void)cs_refuse(s, E_CLOSED, "%zu line%s to %s not sent: %s", n,
		    n == 1 ? "" : "s", cv->name, why);
	return n;
}

size_t
cs_pending_drop_all(struct session *s)
{
	struct e2e_conv *cv;
	size_t n = 0;

	for (cv = s->e2e.convs; cv != NULL; cv = cv->next)
		n += drop_pending(s, cv, "the session ended");
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

/* A conversation whose first unconfirmed line is confirmed by upto. */
static struct e2e_conv *
confirmed(struct session *s, uint64_t upto)
{
	struct e2e_conv *cv;
	uint64_t mark;

	for (cv = s->e2e.convs; cv != NULL; cv = cv->next) {
		if (cv->nunconfirmed == 0)
			continue;
		memcpy(&mark, buf_data(&cv->unconfirmed), sizeof(mark));
		if (mark <= upto)
			return cv;
	}
	return NULL;
}

/*
 * Take the first unconfirmed line off cv and report it (SESSION_EV_SENT).
 * The event gets copies: the callback may send, join or leave.
 */
static void
confirm_first(struct session *s, struct e2e_conv *cv)
{
	struct session_event ev = { .kind = SESSION_EV_SENT,
	    .user = s->user, .nickname = s->nick };
	uint8_t mid[E2E_MID_LEN];
	char conv[E2E_CONV_MAX + 1], *copy;
	const uint8_t *m;
	const char *text;
	uint32_t len;
	size_t size;

	size = sizeof(uint64_t) + get_line(buf_data(&cv->unconfirmed) +
	    sizeof(uint64_t), &m, &text, &len);
	memcpy(mid, m, sizeof(mid));
	(void)snprintf(conv, sizeof(conv), "%s", cv->name);
	copy = malloc((size_t)len + 1);
	if (copy != NULL) {
		memcpy(copy, text, len);
		copy[len] = '\0';
	}
	buf_consume(&cv->unconfirmed, size);
	if (--cv->nunconfirmed == 0)
		buf_free(&cv->unconfirmed);
	if (copy == NULL)
		return;
	ev.room = conv;
	ev.text = copy;
	ev.mid = mid;
	ev.time_ms = clock_wall_ms();
	cs_emit(s, &ev);
	OPENSSL_clear_free(copy, (size_t)len + 1);
}

int
cs_confirm(struct session *s, const char *token)
{
	unsigned long long upto;
	struct e2e_conv *cv;
	char *end;

	if (token[0] != 'c' || token[1] < '0' || token[1] > '9')
		return -1;
	errno = 0;
	upto = strtoull(token + 1, &end, 10);
	if (errno != 0 || *end != '\0' || upto > s->confirm_mark)
		return -1;
	/* SENT's callback may send more: those have later marks. */
	while ((cv = confirmed(s, upto)) != NULL)
		confirm_first(s, cv);
	return 0;
}

/* cs_requeue_unconfirmed() for one conversation. */
static int
requeue(struct e2e_conv *cv)
{
	struct buf both = BUF_INIT;
	const uint8_t *mid;
	const char *text;
	uint32_t len;
	size_t size, n = cv->nunconfirmed;
	int r = 0;

	while (r == 0 && cv->nunconfirmed > 0) {
		size = get_line(buf_data(&cv->unconfirmed) + sizeof(uint64_t),
		    &mid, &text, &len);
		r = put_line(&both, mid, text, len);
		buf_consume(&cv->unconfirmed, sizeof(uint64_t) + size);
		cv->nunconfirmed--;
	}
	if (r == 0 && buf_size(&cv->pending) > 0)
		r = buf_append(&both, buf_data(&cv->pending),
		    buf_size(&cv->pending));
	buf_free(&cv->unconfirmed);
	if (r != 0) {
		buf_free(&both);
		return r;
	}
	buf_free(&cv->pending);
	cv->pending = both;
	cv->npending += n;
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
	}
	return n;
}

void
cs_rooms_login(struct session *s)
{
	struct e2e_conv *cv;
	struct frame_field f;
	int r;

	for (cv = s->e2e.convs; cv != NULL && s->state == ST_OPEN;
	    cv = cv->next) {
		if (cv->name[0] == '@') {
			if (cv->npending > 0)
				ask_devices(s, cv);
			continue;
		}
		/* The server puts every login in the lobby by itself. */
		if (!cv->member || strcmp(cv->name, PROTO_LOBBY) == 0)
			continue;
		f = (struct frame_field){ cv->name, strlen(cv->name) };
		if ((r = frame_put(&s->txplain, OP_JOIN, &f, 1)) != 0) {
			cs_lost(s, r, "%s", err_str(r));
			return;
		}
	}
	if (s->state == ST_OPEN)
		cs_flush(s);
}

/* ---- frames ---- */

/* A device list entry (1012): conv, user, nickname, fp, spki. */
void
cs_on_device(struct session *s, char **f, size_t n)
{
	struct e2e_conv *cv;
	int r;

	(void)n;
	if ((cv = e2e_conv(&s->e2e, f[0], 1)) == NULL) {
		server_broke(s, OP_DEVICE);
		return;
	}
	if (!cv->listing) {
		e2e_devices_clear(cv);
		cv->listing = 1;
	}
	if ((r = e2e_device_add(cv, f[1], f[2], f[3], f[4])) != 0) {
		(void)cs_refuse(s, r, "the server sent a bad key for %s in %s: "
		    "%s", f[1], f[0], err_str(r));
		return;
	}
	check_peer(s, f[1], f[3]);
}

/* The end of a device list (1011): conv, count. */
void
cs_on_devices_end(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_JOINED, .room = f[0] };
	struct e2e_conv *cv;

	(void)n;
	if (cs_parse_count(f[1], &ev.count) != 0 ||
	    (cv = e2e_conv(&s->e2e, f[0], 1)) == NULL) {
		server_broke(s, OP_DEVICES_END);
		return;
	}
	if (!cv->listing)
		e2e_devices_clear(cv);
	cv->listing = cv->asking = 0;
	cv->ready = 1;
	if (cv->name[0] != '@') {
		cv->member = 1;
		cs_emit(s, &ev);
		flush_pending(s, f[0]);
	} else {
		/* Ask again next time: the other side's devices may change. */
		cv->ready = 0;
		if (!e2e_has_user(cv, cv->name + 1))
			(void)drop_pending(s, cv, "that user is not online");
		else
			flush_pending(s, f[0]);
	}
	cs_quit_if_drained(s);
}

/* 1003: JOIN|room|user|nickname|fp|spki or LEAVE|room|user|nickname|fp|
   reason. */
void
cs_on_presence(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .room = f[1], .user = f[2],
	    .nickname = f[3], .fingerprint = f[4] };
	struct e2e_conv *cv;
	int r;

	(void)n;
	/* A room we have just left: its news is not ours any more. */
	if ((cv = e2e_conv(&s->e2e, f[1], 0)) == NULL || f[1][0] == '@')
		return;
	if (strcmp(f[0], "JOIN") == 0) {
		ev.kind = SESSION_EV_JOIN;
		if ((r = e2e_device_add(cv, f[2], f[3], f[4], f[5])) != 0) {
			(void)cs_refuse(s, r, "the server sent a bad key for "
			    "%s in %s: %s", f[2], f[1], err_str(r));
			return;
		}
		check_peer(s, f[2], f[4]);
	} else if (strcmp(f[0], "LEAVE") == 0) {
		ev.kind = SESSION_EV_LEAVE;
		ev.code = f[5];
		e2e_device_remove(cv, f[2], f[4]);
	} else {
		server_broke(s, OP_PRESENCE);
		return;
	}
	cs_emit(s, &ev);
}

/* 1013|room: we left it. */
void
cs_on_left(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_LEFT, .room = f[0] };
	struct e2e_conv *cv;

	(void)n;
	if ((cv = e2e_conv(&s->e2e, f[0], 0)) != NULL && !cv->member) {
		(void)drop_pending(s, cv, "you left");
		e2e_conv_drop(&s->e2e, cv);
	}
	cs_emit(s, &ev);
}

static void
unreadable(struct session *s, const char *room, const char *user, int err,
    const char *what)
{
	struct session_event ev = { .kind = SESSION_EV_UNREADABLE,
	    .room = room, .user = user, .err = err };
	char msg[CS_MSG_MAX];

	switch (err) {
	case E_NOT_FOUND:
		(void)snprintf(msg, sizeof(msg), "cannot read a %s from %s in "
		    "%s: it was sent under a key we were not given (before "
		    "we joined?)", what, user, room);
		break;
	case E_SIG_INVALID:
		(void)snprintf(msg, sizeof(msg), "FORGED %s in %s refused: it "
		    "claims to be from %s but is not signed by %s's key",
		    what, room, user, user);
		break;
	case E_REPLAY:
		(void)snprintf(msg, sizeof(msg), "replayed %s from %s in %s "
		    "refused", what, user, room);
		break;
	default:
		(void)snprintf(msg, sizeof(msg), "%s from %s in %s refused: %s",
		    what, user, room, err_str(err));
		break;
	}
	ev.text = msg;
	cs_emit(s, &ev);
}

/* 1002: nickname, user, fp, conv, timestamp, message. */
void
cs_on_chat(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_CHAT, .nickname = f[0],
	    .user = f[1], .timestamp = f[4] };
	char buf[E2E_CONV_MAX + 1], *text;
	uint8_t mid[E2E_MID_LEN];
	size_t cap = strlen(f[5]) + 1;
	struct e2e_conv *cv;
	const char *conv, *fp;
	int r;

	(void)n;
	conv = conv_for_us(s, f[3], f[1], buf);
	if ((ev.time_ms = clock_parse_iso(f[4])) < 0 ||
	    !e2e_conv_name_ok(conv)) {
		server_broke(s, OP_DELIVERY);
		return;
	}
	/* A room we have left: what was on its way is not ours any more. */
	if ((cv = e2e_conv(&s->e2e, conv, conv[0] == '@')) == NULL)
		return;
	if ((text = malloc(cap)) == NULL) {
		unreadable(s, conv, f[1], E_NOMEM, "message");
		return;
	}
	r = e2e_open(cv, f[1], f[5], text, cap, &fp, mid);
	if (r == E_DUPLICATE) {
		/* Sent again after the sender's reconnect: shown already. */
	} else if (r != 0) {
		unreadable(s, conv, f[1], r, "message");
	} else {
		ev.room = conv;
		ev.fingerprint = fp;
		ev.trust = trust_of(s, f[1], fp);
		ev.text = text;
		ev.mid = mid;
		cs_emit(s, &ev);
	}
	OPENSSL_clear_free(text, cap);
}

/* 1015: conv, user, nickname, fp, spki, blob. */
void
cs_on_sender_key(struct session *s, char **f, size_t n)
{
	char buf[E2E_CONV_MAX + 1];
	struct e2e_conv *cv;
	const char *conv;
	int r;

	(void)n;
	conv = conv_for_us(s, f[0], f[1], buf);
	if (!e2e_conv_name_ok(conv)) {
		server_broke(s, OP_SENDER_KEY_DELIVERY);
		return;
	}
	if ((cv = e2e_conv(&s->e2e, conv, conv[0] == '@')) == NULL)
		return;
	/* Pin or check the key last: its event's callback may drop cv. */
	if ((r = e2e_accept(&s->e2e, cv, f[1], f[3], f[4], f[5])) != 0)
		unreadable(s, conv, f[1], r, "sender key");
	else
		check_peer(s, f[1], f[3]);
}

/* 1016: room, members. */
void
cs_on_room(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_ROOM, .room = f[0] };

	(void)n;
	if (cs_parse_count(f[1], &ev.count) != 0) {
		server_broke(s, OP_ROOM_ENTRY);
		return;
	}
	cs_emit(s, &ev);
}

/* 1017: count. */
void
cs_on_rooms_end(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_ROOMS_END };

	(void)n;
	if (cs_parse_count(f[0], &ev.count) != 0) {
		server_broke(s, OP_ROOMS_END);
		return;
	}
	cs_emit(s, &ev);
}

/* ---- commands ---- */

static int
room_name_ok(const char *room)
{
	return room[0] != '@' && e2e_conv_name_ok(room);
}

size_t
session_text_max(const struct session *s)
{
	return e2e_text_max(s->max_frame);
}

static int
send_chat(struct session *s, const char *conv, const char *text, size_t len)
{
	struct e2e_conv *cv;
	const char *why;
	uint8_t mid[E2E_MID_LEN];
	int r;

	if ((r = session_check_text(s, text, len, &why)) == E_TOO_LONG)
		return cs_refuse(s, r, "message not sent: %zu bytes, at most "
		    "%zu", len, session_text_max(s));
	if (r != 0)
		return cs_refuse(s, r, "message not sent: %s", why);
	if (!e2e_conv_name_ok(conv))
		return cs_refuse(s, E_MALFORMED, "message not sent: no "
		    "conversation can be called %s", conv);
	if ((r = cs_refuse_closing(s)) != 0)
		return r;
	cv = e2e_conv(&s->e2e, conv, conv[0] == '@');
	if (conv[0] == '@' && cv == NULL)
		return cs_refuse(s, E_NOMEM, "not sent: %s", err_str(E_NOMEM));
	if (conv[0] != '@' && (cv == NULL || !cv->member))
		return cs_refuse(s, E_STATE, "not sent: you are not in #%s "
		    "(/join %s)", conv, conv);
	if ((r = kd_random(mid, sizeof(mid))) != 0)
		return cs_refuse(s, r, "not sent: %s", err_str(r));
	if (s->state == ST_OPEN && cv->ready)
		return send_now(s, cv, mid, text, len);
	/* Wait for the device list: a login, a join or a 0014 answer. */
	if (cv->npending >= SESSION_QUEUE_LINES ||
	    buf_size(&cv->pending) + len > SESSION_QUEUE_BYTES)
		return cs_refuse(s, E_TOO_LONG, "not sent: %zu lines are "
		    "already waiting for %s", cv->npending, conv);
	if ((r = put_line(&cv->pending, mid, text, len)) != 0)
		return cs_refuse(s, r, "not sent: %s", err_str(r));
	cv->npending++;
	if (s->state == ST_OPEN && conv[0] == '@' && !cv->asking)
		ask_devices(s, cv);
	return 0;
}

int
session_send_chat(struct session *s, const char *conv, const char *text,
    size_t len)
{
	cs_enter(s);
	return cs_leave(s, send_chat(s, conv, text, len));
}

static int
join(struct session *s, const char *room)
{
	struct frame_field f = { room, strlen(room) };
	struct e2e_conv *cv;
	int r;

	if (!room_name_ok(room))
		return cs_refuse(s, E_MALFORMED, "not a room name: %s (1 to 32 "
		    "of a-z 0-9 . _ -, starting with a letter or digit)",
		    room);
	if (cs_in(s, CS_CLOSING))
		return cs_refuse(s, E_STATE, "the session is closing");
	if ((cv = e2e_conv(&s->e2e, room, 1)) == NULL)
		return cs_refuse(s, E_NOMEM, "%s", err_str(E_NOMEM));
	cv->member = 1;
	if (s->state != ST_OPEN)
		return 0;
	if ((r = frame_put(&s->txplain, OP_JOIN, &f, 1)) != 0)
		return cs_refuse(s, r, "%s", err_str(r));
	cs_flush(s);
	return 0;
}

int
session_join(struct session *s, const char *room)
{
	cs_enter(s);
	return cs_leave(s, join(s, room));
}

static int
leave(struct session *s, const char *room)
{
	struct session_event ev = { .kind = SESSION_EV_LEFT, .room = room };
	struct frame_field f = { room, strlen(room) };
	struct e2e_conv *cv;
	int r;

	if (!room_name_ok(room) || (cv = e2e_conv(&s->e2e, room, 0)) == NULL ||
	    !cv->member)
		return cs_refuse(s, E_STATE, "you are not in #%s", room);
	cv->member = 0;
	if (s->state == ST_OPEN) {
		/* Forgotten when the server confirms (1013). */
		if ((r = frame_put(&s->txplain, OP_LEAVE, &f, 1)) != 0)
			return cs_refuse(s, r, "%s", err_str(r));
		cs_flush(s);
		return 0;
	}
	(void)drop_pending(s, cv, "you left");
	e2e_conv_drop(&s->e2e, cv);
	cs_emit(s, &ev);
	return 0;
}

int
session_leave(struct session *s, const char *room)
{
	cs_enter(s);
	return cs_leave(s, leave(s, room));
}

int
session_in_room(const struct session *s, const char *room)
{
	const struct e2e_conv *cv;

	for (cv = s->e2e.convs; cv != NULL; cv = cv->next)
		if (strcmp(cv->name, room) == 0)
			return cv->member;
	return 0;
}

int
session_rooms(struct session *s)
{
	cs_enter(s);
	return cs_leave(s, cs_send_or_queue(s, OP_ROOMS, NULL, 0));
}

int
session_who(struct session *s, const char *room)
{
	struct frame_field f = { room, room != NULL ? strlen(room) : 0 };

	cs_enter(s);
	if (room != NULL && !room_name_ok(room))
		return cs_leave(s, cs_refuse(s, E_MALFORMED, "not a room "
		    "name: %s", room));
	return cs_leave(s, cs_send_or_queue(s, OP_WHO, &f, room != NULL));
}

struct verify_arg {
	struct session *s;
	const char *user;
	int changed, err;
};

static void
verify_pinned(void *arg, const char *fp, enum trust_level level)
{
	struct verify_arg *v = arg;
	int r;

	if (level == TRUST_VERIFIED || v->err != 0)
		return;
	if ((r = trust_accept(v->s->trust, v->user, fp, TRUST_VERIFIED)) != 0)
		v->err = r;
	else
		v->changed++;
}

static int
accept_key(struct session *s, const char *user, int verified)
{
	struct verify_arg v = { s, user, 0, 0 };
	size_t i;
	int r;

	if (name_check_user(user) != 0)
		return cs_refuse(s, E_MALFORMED, "not a user name: %s", user);
	for (i = 0; i < s->nwarned; i++) {
		if (strcmp(s->warned[i].user, user) != 0 ||
		    trust_level_of(s->trust, user, s->warned[i].fp) !=
		    TRUST_NONE)
			continue;
		if ((r = trust_accept(s->trust, user, s->warned[i].fp,
		    verified ? TRUST_VERIFIED : TRUST_SEEN)) != 0)
			return cs_refuse(s, r, "cannot save known_keys: %s",
			    err_str(r));
		v.changed++;
	}
	if (verified) {
		(void)trust_each(s->trust, user, verify_pinned, &v);
		if (v.err != 0)
			return cs_refuse(s, v.err, "cannot save known_keys: %s",
			    err_str(v.err));
	}
	return v.changed;
}

int
session_accept_key(struct session *s, const char *user, int verified)
{
	cs_enter(s);
	return cs_leave(s, accept_key(s, user, verified));
}

struct keys_arg {
	void (*fn)(void *, const char *, enum session_trust);
	void *arg;
};

static void
each_pinned(void *arg, const char *fp, enum trust_level level)
{
	struct keys_arg *k = arg;

	k->fn(k->arg, fp, level == TRUST_VERIFIED ? SESSION_KEY_VERIFIED :
	    SESSION_KEY_SEEN);
}

size_t
session_keys(const struct session *s, const char *user,
    void (*fn)(void *arg, const char *fingerprint, enum session_trust trust),
    void *arg)
{
	struct keys_arg k = { fn, arg };
	size_t i, n = 0;

	if (strcmp(user, s->user) == 0) {
		fn(arg, s->own_fp, SESSION_KEY_OWN);
		n++;
	}
	n += trust_each(s->trust, user, each_pinned, &k);
	for (i = 0; i < s->nwarned; i++) {
		if (strcmp(s->warned[i].user, user) == 0 &&
		    trust_level_of(s->trust, user, s->warned[i].fp) ==
		    TRUST_NONE) {
			fn(arg, s->warned[i].fp, SESSION_KEY_UNACCEPTED);
			n++;
		}
	}
	return n;
}

const char *
session_fingerprint(const struct session *s)
{
	return s->own_fp;
}
