/*
 * Messages and sender keys (docs/PROTOCOL.md 5.4): the server checks the
 * shape of what it cannot open, finds the devices of the conversation
 * (every enrolled device of its users, online or not, from the key
 * directory) and hands the delivery frame to the writer, which stores it
 * for each of them before the sender hears `1020` (server/store.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/log.h"
#include "keydist/keys.h"
#include "server/handlers.h"
#include "server/reply.h"
#include "server/rooms.h"

/* A conversation as c named it: a room c's user is in, or @user. */
struct conv {
	const struct frame_field *name;      /* as sent */
	char spelled[STORE_CONV_MAX + 1];    /* ... as a string */
	struct room *room;                   /* NULL for @user */
	char user[NAME_USER_MAX + 1];
};

/* Resolve f: 0, or -1 with *code and *why set. */
static int
conv_resolve(struct conn *c, const struct frame_field *f, struct conv *cv,
    enum proto_error *code, const char **why)
{
	struct frame_field u;

	cv->name = f;
	cv->room = NULL;
	if (f->len > 0 && f->p[0] == '@') {
		u = (struct frame_field){ f->p + 1, f->len - 1 };
		if (!user_name(&u, cv->user)) {
			*code = PROTO_ERR_MALFORMED;
			*why = "invalid user name";
			return -1;
		}
	} else if ((cv->room = relay_my_room(c, f, why)) == NULL) {
		*code = PROTO_ERR_ROOM;
		return -1;
	}
	/* Valid, so short enough. */
	(void)snprintf(cv->spelled, sizeof(cv->spelled), "%.*s",
	    (int)f->len, f->p);
	return 0;
}

/* Whether device k belongs to conversation cv (for c). */
static int
conv_has(const struct conn *c, const struct conv *cv,
    const struct enrolled_key *k)
{
	struct member *m;

	if (!enrolled_usable(k) || k->key_id == c->dev)
		return 0;
	if (cv->room == NULL)
		return strcmp(k->owner, cv->user) == 0 ||
		    strcmp(k->owner, c->user) == 0;
	m = members_get(&c->srv->members, k->owner, 0);
	return m != NULL && room_has(&m->rooms, cv->room);
}

/* Append the usable devices of user but c's to dev[*n..]. */
static int
add_devices(const struct conn *c, const char *user, long long **dev,
    size_t *n, size_t *cap)
{
	struct enrolled_key *const *d;
	size_t i, nd = enrolled_devices(&c->srv->enrolled, user, &d);
	long long *p;

	for (i = 0; i < nd; i++) {
		if (!enrolled_usable(d[i]) || d[i]->key_id == c->dev)
			continue;
		if (*n == *cap) {
			*cap = *cap == 0 ? 16 : *cap * 2;
			if ((p = realloc(*dev, *cap * sizeof(*p))) == NULL)
				return -1;
			*dev = p;
		}
		(*dev)[(*n)++] = d[i]->key_id;
	}
	return 0;
}

/* The devices of cv (c's excepted) into *dev (for free()): how many, or
   (size_t)-1 out of memory. */
static size_t
conv_devices(const struct conn *c, const struct conv *cv, long long **dev)
{
	size_t i, n = 0, cap = 0;
	int r = 0;

	*dev = NULL;
	if (cv->room == NULL) {
		r = add_devices(c, cv->user, dev, &n, &cap);
		if (r == 0 && strcmp(cv->user, c->user) != 0)
			r = add_devices(c, c->user, dev, &n, &cap);
	} else {
		for (i = 0; i < room_size(cv->room) && r == 0; i++)
			r = add_devices(c, member_of(room_member(cv->room,
			    i))->name, dev, &n, &cap);
	}
	if (r != 0) {
		free(*dev);
		*dev = NULL;
		return (size_t)-1;
	}
	return n;
}

/* The longest message or blob: its delivery must fit in max_frame. */
static size_t
payload_max(const struct conn *c)
{
	return (size_t)c->srv->cfg->max_frame - FRAME_CHAT_OVERHEAD;
}

/* A mid: PROTO_MID_HEX lowercase hex digits into mid. */
static int
mid_parse(const struct frame_field *f, uint8_t mid[STORAGE_MID_LEN],
    char hex[PROTO_MID_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	const char *hi, *lo;
	size_t i;

	if (f->len != PROTO_MID_HEX)
		return -1;
	for (i = 0; i < STORAGE_MID_LEN; i++) {
		if ((hi = memchr(digits, f->p[2 * i], 16)) == NULL ||
		    (lo = memchr(digits, f->p[2 * i + 1], 16)) == NULL)
			return -1;
		mid[i] = (uint8_t)((hi - digits) << 4 | (lo - digits));
	}
	memcpy(hex, f->p, PROTO_MID_HEX);
	hex[PROTO_MID_HEX] = '\0';
	return 0;
}

static void
not_stored(struct conn *c, const char *midhex, enum proto_error code,
    const char *why)
{
	log_info("refused line id=%llu user=%s error=%s: %s",
	    (unsigned long long)c->id, c->user, proto_error_word(code), why);
	SEND(c, OP_NOT_STORED, midhex, proto_error_word(code), why);
}

void
on_chat(struct conn *c, const struct frame *f)
{
	const struct frame_field *msg = &f->field[2];
	uint8_t mid[STORAGE_MID_LEN];
	char midhex[PROTO_MID_HEX + 1], ts[32], *line;
	struct frame_field v[7];
	enum proto_error code;
	const char *why;
	long long *dev;
	struct conv cv;
	size_t len, ndev;

	if (mid_parse(&f->field[1], mid, midhex) != 0) {
		send_error(c, PROTO_ERR_MALFORMED, "not a message id");
		return;
	}
	if (conv_resolve(c, &f->field[0], &cv, &code, &why) != 0) {
		not_stored(c, midhex, code, why);
		return;
	}
	if (!b64_canonical(msg->p, msg->len, PROTO_MSG_MIN, payload_max(c))) {
		not_stored(c, midhex, PROTO_ERR_TEXT, "not base64 of a "
		    "plausible length");
		return;
	}
	if ((ndev = conv_devices(c, &cv, &dev)) == (size_t)-1) {
		not_stored(c, midhex, PROTO_ERR_BUSY, "out of memory");
		return;
	}
	if (cv.room == NULL && strcmp(cv.user, c->user) != 0 && ndev == 0) {
		free(dev);
		not_stored(c, midhex, PROTO_ERR_USER, "no such user");
		return;
	}
	log_timestamp(ts);
	v[0] = field(midhex);
	v[1] = field(c->nick);
	v[2] = field(c->user);
	v[3] = field(c->key_fp);
	v[4] = *cv.name;
	v[5] = field(ts);
	v[6] = *msg;
	if ((line = build_alloc(&len, OP_DELIVERY, v, 7)) == NULL) {
		free(dev);
		not_stored(c, midhex, PROTO_ERR_BUSY, "out of memory");
		return;
	}
	/* The console sees that it passed, never more than its start. */
	log_info("chat id=%llu user=%s conv=%.*s bytes=%zu devices=%zu "
	    "e2e=%.*s...", (unsigned long long)c->id, c->user,
	    (int)cv.name->len, cv.name->p, msg->len, ndev,
	    (int)(msg->len < 16 ? msg->len : 16), msg->p);
	store_line(c, cv.spelled, mid, midhex, line, len, dev, ndev);
}

void
on_sender_key(struct conn *c, const struct frame *f)
{
	const struct frame_field *fp = &f->field[1], *blob = &f->field[2];
	const struct enrolled_key *k;
	struct frame_field v[6];
	char want[KD_FP_SIZE];
	enum proto_error code;
	const char *why;
	struct conv cv;
	char *line;
	size_t len;

	if (!kd_fp_valid(fp->p, fp->len)) {
		send_error(c, PROTO_ERR_MALFORMED, "not a key fingerprint");
		return;
	}
	if (conv_resolve(c, &f->field[0], &cv, &code, &why) != 0) {
		send_error(c, code, why);
		return;
	}
	if (!b64_canonical(blob->p, blob->len, PROTO_BLOB_MIN, payload_max(c))) {
		send_error(c, PROTO_ERR_TEXT, "sender key not relayed: not base64 of "
		    "a plausible length");
		return;
	}
	memcpy(want, fp->p, fp->len);
	want[fp->len] = '\0';
	if ((k = enrolled_find(&c->srv->enrolled, want)) == NULL ||
	    !conv_has(c, &cv, k)) {
		log_debug("keys id=%llu user=%s conv=%.*s to=%s: not a device "
		    "of it, dropped", (unsigned long long)c->id, c->user,
		    (int)cv.name->len, cv.name->p, want);
		return;
	}
	v[0] = *cv.name;
	v[1] = field(c->user);
	v[2] = field(c->nick);
	v[3] = field(c->key_fp);
	v[4] = field(c->spki);
	v[5] = *blob;
	if ((line = build_alloc(&len, OP_SENDER_KEY_DELIVERY, v, 6)) == NULL) {
		send_error(c, PROTO_ERR_BUSY, "out of memory");
		return;
	}
	/* It carries the sender's key and a seq too: check the whole. */
	if (len + 1 + 21 > (size_t)c->srv->cfg->max_frame) {
		free(line);
		send_error(c, PROTO_ERR_TEXT, "sender key not relayed: too long with "
		    "your key");
		return;
	}
	log_debug("keys id=%llu user=%s conv=%.*s to=%s bytes=%zu",
	    (unsigned long long)c->id, c->user, (int)cv.name->len, cv.name->p,
	    want, blob->len);
	store_key(c, cv.spelled, line, len, k->key_id);
}
