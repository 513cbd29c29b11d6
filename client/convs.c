/*
 * Rooms and private conversations in the client core (docs/PROTOCOL.md
 * sections 5.2-5.4 and 8): the commands (join, leave, send, who, rooms)
 * and the frames that answer them or bring messages, sender keys and
 * presence.  Lines waiting or unconfirmed are client/outbox.c's, the
 * checks on peer keys client/peers.c's; the crypto and the
 * per-conversation state are in client/e2e.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client/session_int.h"
#include "common/clock.h"
#include "common/err.h"
#include "keydist/random.h"

_Static_assert(SESSION_SEEN_MAX == E2E_SEEN_MAX, "one limit of seen ids");

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

void
cs_ask_devices(struct session *s, struct e2e_conv *cv)
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
				cs_ask_devices(s, cv);
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

/* 1 if user may have a device in cv: anyone in a room; x or we in @x. */
static int
belongs(const struct session *s, const struct e2e_conv *cv,
    const char *user)
{
	return cv->name[0] != '@' || strcmp(user, cv->name + 1) == 0 ||
	    strcmp(user, s->user) == 0;
}

/* 1012's and 1004's state: 1 online, 0 offline, -1 neither. */
static int
state_of(const char *word)
{
	if (strcmp(word, PROTO_STATE_ONLINE) == 0)
		return 1;
	return strcmp(word, PROTO_STATE_OFFLINE) == 0 ? 0 : -1;
}

/* A device list entry (1012): conv, user, nickname, fp, spki, state. */
void
cs_on_device(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_DEVICE_DROPPED,
	    .room = f[0], .user = f[1], .fingerprint = f[3] };
	struct e2e_conv *cv;
	int r, online = state_of(f[5]);

	(void)n;
	if (online < 0 || (cv = e2e_conv(&s->e2e, f[0], 1)) == NULL) {
		server_broke(s, OP_DEVICE);
		return;
	}
	if (!cv->listing) {
		e2e_devices_clear(cv);
		cv->listing = 1;
	}
	/* A third party in @x would get every sender key of it. */
	if (!belongs(s, cv, f[1])) {
		cs_emit(s, &ev);
		return;
	}
	if ((r = e2e_device_add(cv, f[1], f[2], f[3], f[4], online)) != 0) {
		(void)cs_refuse(s, r, "the server sent a bad key for %s in %s: "
		    "%s", f[1], f[0], err_str(r));
		return;
	}
	cs_check_peer(s, f[1], f[3]);
}

/* A who entry (1004): user, nickname, state. */
void
cs_on_who(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .kind = SESSION_EV_WHO, .user = f[0],
	    .nickname = f[1], .online = state_of(f[2]) };

	(void)n;
	if (ev.online < 0) {
		server_broke(s, OP_WHO_ENTRY);
		return;
	}
	cs_emit(s, &ev);
}

/*
 * The devices of the conversation called name are listed: say what came
 * and went since the list before; send the lines waiting, unless some
 * were queued while disconnected and the set has changed meanwhile:
 * those are held for the user to decide (session_resend(), _drop()).
 */
static void
devices_listed(struct session *s, const char *name)
{
	struct session_event ev = { .kind = SESSION_EV_DEVICES_CHANGED,
	    .room = name };
	char diff[CS_MSG_MAX];
	struct e2e_conv *cv;
	struct cs_devset *d;
	int changed;

	if ((cv = e2e_conv(&s->e2e, name, 0)) == NULL)
		return;
	if ((changed = cs_devset_update(s, cv, diff, sizeof(diff))) < 0) {
		(void)cs_drop_pending(s, cv, "out of memory for its device "
		    "list");
		return;
	}
	ev.text = diff;
	if (changed)
		cs_emit(s, &ev);
	/* Its callback may have left the conversation. */
	if ((cv = e2e_conv(&s->e2e, name, 0)) == NULL ||
	    (d = cs_devset_of(s, name, 0)) == NULL)
		return;
	if (cv->npending > 0 && (d->held || (changed && d->offline))) {
		if (!d->held) {
			d->held = 1;
			ev.kind = SESSION_EV_HELD;
			ev.count = (long long)cv->npending;
			cs_emit(s, &ev);
		}
		return;
	}
	d->offline = 0;
	cs_flush_pending(s, name);
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
		devices_listed(s, f[0]);
	} else {
		/* Ask again next time: the other side's devices may change. */
		cv->ready = 0;
		if (!e2e_has_user(cv, cv->name + 1))
			(void)cs_drop_pending(s, cv, "no such user, or that "
			    "user has no device");
		else
			devices_listed(s, f[0]);
	}
	cs_quit_if_drained(s);
}

/*
 * 1003: JOIN|room|user|nickname|fp|spki (online), ADD|... (offline) or
 * LEAVE|room|user|nickname|fp|reason (offline, or out of the room).  Any
 * of them gives the room a new sender key before our next line.
 */
void
cs_on_presence(struct session *s, char **f, size_t n)
{
	struct session_event ev = { .room = f[1], .user = f[2],
	    .nickname = f[3], .fingerprint = f[4] };
	char diff[CS_MSG_MAX];
	struct e2e_conv *cv;
	int r, online = strcmp(f[0], PROTO_PRESENCE_JOIN) == 0;

	(void)n;
	/* A room we have just left: its news is not ours any more. */
	if ((cv = e2e_conv(&s->e2e, f[1], 0)) == NULL || f[1][0] == '@')
		return;
	if (online || strcmp(f[0], PROTO_PRESENCE_ADD) == 0) {
		ev.kind = SESSION_EV_JOIN;
		ev.online = online;
		if ((r = e2e_device_add(cv, f[2], f[3], f[4], f[5],
		    online)) != 0) {
			(void)cs_refuse(s, r, "the server sent a bad key for "
			    "%s in %s: %s", f[2], f[1], err_str(r));
			return;
		}
	} else if (strcmp(f[0], PROTO_PRESENCE_LEAVE) == 0) {
		ev.kind = SESSION_EV_LEAVE;
		ev.code = f[5];
		if (proto_leave_stays(f[5])) {
			e2e_device_offline(cv, f[2], f[4]);
		} else {
			ev.online = -1;
			e2e_device_remove(cv, f[2], f[4]);
		}
	} else {
		server_broke(s, OP_PRESENCE);
		return;
	}
	/* The set follows silently: JOIN and LEAVE are the notice. */
	if (cs_devset_update(s, cv, diff, sizeof(diff)) < 0)
		(void)cs_refuse(s, E_NOMEM, "the device list of %s is not "
		    "up to date: %s", f[1], err_str(E_NOMEM));
	/* Its event's callback may drop cv. */
	if (ev.kind == SESSION_EV_JOIN)
		cs_check_peer(s, f[2], f[4]);
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
		(void)cs_drop_pending(s, cv, "you left");
		e2e_conv_drop(&s->e2e, cv);
		cs_devset_forget(s, f[0]);
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
	case E_TOO_LONG:
		(void)snprintf(msg, sizeof(msg), "%s from %s in %s refused: "
		    "%d or more earlier messages are missing", what, user, room,
		    KD_SK_SKIP_MAX);
		break;
	case E_EXISTS:
		(void)snprintf(msg, sizeof(msg), "%s from %s in %s refused: "
		    "other key material under the id of one already held",
		    what, user, room);
		break;
	case E_STATE:
		(void)snprintf(msg, sizeof(msg), "%s from %s in %s refused: "
		    "dated more than %lld minutes ahead of our clock or %lld "
		    "minutes (%lld days if stored while we were away) behind "
		    "it (replayed, or a clock set wrong)", what, user, room,
		    E2E_AHEAD_MS / 60000, E2E_BEHIND_MS / 60000,
		    E2E_BACKLOG_MS / (24LL * 3600 * 1000));
		break;
	case E_INVALID:
		(void)snprintf(msg, sizeof(msg), "%s from %s in %s refused: "
		    "the server labelled it with another message id than the "
		    "one its sender signed (passing an old line off as new?)",
		    what, user, room);
		break;
	case E_UNTRUSTED:
		(void)snprintf(msg, sizeof(msg), "%s from %s in %s refused: "
		    "%s", what, user, room, room[0] == '@' ? "a private "
		    "conversation takes lines only from its two users" :
		    "that device is not a member of the room");
		break;
	default:
		(void)snprintf(msg, sizeof(msg), "%s from %s in %s refused: %s",
		    what, user, room, err_str(err));
		break;
	}
	ev.text = msg;
	cs_emit(s, &ev);
}

/*
 * May user's device fp speak in cv?  In "@x" only x and we may; in a room
 * only a device of its member list (as far as the server told us), or,
 * for a row stored while we were away (backlog), a device whose key we
 * accepted for user: it may have left since it spoke.
 */
static int
may_speak(const struct session *s, const struct e2e_conv *cv,
    const char *user, const char *fp, int backlog)
{
	if (cv->name[0] == '@')
		return belongs(s, cv, user);
	return e2e_has_device(cv, user, fp) || (backlog &&
	    cs_trust_of(s, user, fp) != SESSION_KEY_UNACCEPTED);
}

/* "Nick (user)" when the nickname alone could mislead, else "Nick". */
static void
display_name(struct session *s, const char *nick, const char *user,
    char *out, size_t cap)
{
	if (e2e_nick_misleads(&s->e2e, user, nick))
		(void)snprintf(out, cap, "%s (%s)", nick, user);
	else
		(void)snprintf(out, cap, "%s", nick);
}

static void
report_gap(struct session *s, const char *conv, const char *user,
    uint64_t gap)
{
	struct session_event ev = { .kind = SESSION_EV_UNREADABLE,
	    .room = conv, .user = user, .err = E_INCOMPLETE };
	char msg[CS_MSG_MAX];

	(void)snprintf(msg, sizeof(msg), "%llu earlier message%s from %s in "
	    "%s did not arrive (yet)", (unsigned long long)gap,
	    gap == 1 ? "" : "s", user, conv);
	ev.text = msg;
	cs_emit(s, &ev);
}

/*
 * A 1002 row: mid, nickname, user, fp, conv, timestamp, message.  The
 * nickname and time shown are the ones the sender signed, not the
 * server's.  A line whose mid we have seen is dropped unopened: a row
 * sent again (we went before acknowledging it).
 */
int
cs_chat_row(struct session *s, char **f, int backlog)
{
	struct session_event ev = { .kind = SESSION_EV_CHAT, .user = f[2],
	    .timestamp = f[5], .backlog = backlog };
	char buf[E2E_CONV_MAX + 1], *text;
	char display[NAME_NICK_MAX + NAME_USER_MAX + 4];
	uint8_t mid[E2E_MID_LEN];
	struct e2e_line line;
	size_t cap = strlen(f[6]) + 1;
	struct e2e_conv *cv;
	const char *conv;
	int r;

	conv = conv_for_us(s, f[4], f[2], buf);
	if (e2e_mid_parse(f[0], mid) != 0 || clock_parse_iso(f[5]) < 0 ||
	    !e2e_conv_name_ok(conv)) {
		server_broke(s, OP_DELIVERY);
		return -1;
	}
	/* Seen: dropped unopened.  A room we have left: what was on its way
	   is not ours any more. */
	if (e2e_seen_has(&s->e2e, mid) ||
	    (cv = e2e_conv(&s->e2e, conv, conv[0] == '@')) == NULL)
		return 0;
	if ((text = malloc(cap)) == NULL) {
		unreadable(s, conv, f[2], E_NOMEM, "message");
		return 0;
	}
	r = e2e_open(cv, f[2], f[6], clock_wall_ms(), backlog ?
	    E2E_BACKLOG_MS : E2E_BEHIND_MS, mid, text, cap, &line);
	if (r == 0 && !may_speak(s, cv, f[2], line.fp, backlog))
		r = E_UNTRUSTED;
	if (r == E_DUPLICATE) {
		/* Sent again after the sender's reconnect, or replayed by the
		   server: shown already. */
	} else if (r != 0) {
		unreadable(s, conv, f[2], r, "message");
	} else {
		if (line.gap > 0)
			report_gap(s, conv, f[2], line.gap);
		display_name(s, line.nick, f[2], display, sizeof(display));
		ev.room = conv;
		ev.nickname = line.nick;
		ev.display = display;
		ev.time_ms = line.time_ms;
		ev.fingerprint = line.fp;
		ev.trust = cs_trust_of(s, f[2], line.fp);
		ev.text = text;
		ev.mid = line.mid;
		cs_emit(s, &ev);
	}
	OPENSSL_clear_free(text, cap);
	return r == 0;
}

/* A 1015 row: conv, user, nickname, fp, spki, blob. */
int
cs_sender_key_row(struct session *s, char **f, int backlog)
{
	char buf[E2E_CONV_MAX + 1];
	struct e2e_conv *cv;
	const char *conv;
	int r;

	conv = conv_for_us(s, f[0], f[1], buf);
	if (!e2e_conv_name_ok(conv)) {
		server_broke(s, OP_SENDER_KEY_DELIVERY);
		return -1;
	}
	if ((cv = e2e_conv(&s->e2e, conv, conv[0] == '@')) == NULL)
		return 0;
	/* Pin or check the key last: its event's callback may drop cv. */
	if (!may_speak(s, cv, f[1], f[3], backlog))
		unreadable(s, conv, f[1], E_UNTRUSTED, "sender key");
	else if ((r = e2e_accept(&s->e2e, cv, f[1], f[3], f[4], f[5])) != 0)
		unreadable(s, conv, f[1], r, "sender key");
	else
		cs_check_peer(s, f[1], f[3]);
	return 0;
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
send_chat(struct session *s, const char *conv, const char *text, size_t len,
    uint8_t *mid_out)
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
	if (mid_out != NULL)
		memcpy(mid_out, mid, sizeof(mid));
	/* Behind lines held for the user, in order. */
	if (s->state == ST_OPEN && cv->ready && !cs_devset_held(s, conv))
		return cs_send_line(s, cv, mid, text, len);
	/* Wait for the device list: a login, a join or a 0014 answer. */
	if ((r = cs_queue_line(s, cv, mid, text, len)) != 0)
		return r;
	if (s->state == ST_OPEN && conv[0] == '@' && !cv->asking)
		cs_ask_devices(s, cv);
	return 0;
}

int
session_send_chat(struct session *s, const char *conv, const char *text,
    size_t len)
{
	return session_send_chat_mid(s, conv, text, len, NULL);
}

int
session_send_chat_mid(struct session *s, const char *conv, const char *text,
    size_t len, uint8_t *mid)
{
	cs_enter(s);
	return cs_leave(s, send_chat(s, conv, text, len, mid));
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

void
session_seen(struct session *s, const uint8_t mid[SESSION_MID_LEN],
    int64_t time_ms)
{
	e2e_seen_add(&s->e2e, mid, time_ms);
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
	(void)cs_drop_pending(s, cv, "you left");
	e2e_conv_drop(&s->e2e, cv);
	cs_devset_forget(s, room);
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
