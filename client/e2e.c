/*
 * End-to-end state of the client core: conversations, their devices and
 * sender keys (docs/PROTOCOL.md sections 5.4 and 8).
 */
#include "client/e2e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client/session_int.h"
#include "common/b64.h"
#include "common/be.h"
#include "common/err.h"
#include "common/frame.h"

_Static_assert(PROTO_MID_HEX == 2 * E2E_MID_LEN, "a mid in hex");

int
e2e_init(struct e2e *e, EVP_PKEY *key, const char *user)
{
	int r;

	memset(e, 0, sizeof(*e));
	if (strlen(user) > NAME_USER_MAX)
		return E_INVALID;
	if ((r = kd_fingerprint(key, e->fp)) != 0)
		return r;
	if (EVP_PKEY_up_ref(key) != 1)
		return E_CRYPTO;
	e->key = key;
	(void)snprintf(e->user, sizeof(e->user), "%s", user);
	return 0;
}

/* Drop peer key p, remembering it: it is never taken again. */
static void
retire(struct e2e *e, struct e2e_peer_key *p)
{
	struct e2e_retired *t = &e->retired[e->retired_next];

	(void)snprintf(t->user, sizeof(t->user), "%s", p->user);
	memcpy(t->id, p->sk.id, KD_SK_ID_LEN);
	t->next = p->sk.next;
	e->retired_next = (e->retired_next + 1) % E2E_RETIRED_MAX;
	kd_sk_clear(&p->sk);
	e->peer_gen++;
}

static const struct e2e_retired *
retired(const struct e2e *e, const char *user, const uint8_t id[KD_SK_ID_LEN])
{
	size_t i;

	for (i = 0; i < E2E_RETIRED_MAX; i++)
		if (strcmp(e->retired[i].user, user) == 0 &&
		    memcmp(e->retired[i].id, id, KD_SK_ID_LEN) == 0)
			return &e->retired[i];
	return NULL;
}

static void
peer_keys_clear(struct e2e_conv *cv)
{
	size_t i;

	for (i = 0; i < cv->npeer; i++)
		retire(cv->owner, &cv->peer[i]);
	free(cv->peer);
	cv->peer = NULL;
	cv->npeer = cv->cappeer = 0;
}

void
e2e_devices_clear(struct e2e_conv *cv)
{
	size_t i;

	for (i = 0; i < cv->ndev; i++)
		EVP_PKEY_free(cv->dev[i].key);
	free(cv->dev);
	cv->dev = NULL;
	cv->ndev = cv->capdev = 0;
	cv->changed = 1;
}

/* Forget the devices of cv and our sender keys in it. */
static void
conv_disconnect(struct e2e_conv *cv)
{
	e2e_devices_clear(cv);
	kd_sk_clear(&cv->own);
	kd_sk_clear(&cv->fresh);
	cv->have_own = cv->have_fresh = 0;
	cv->ready = cv->listing = cv->asking = 0;
}

void
e2e_conv_drop(struct e2e *e, struct e2e_conv *cv)
{
	struct e2e_conv **pp;

	for (pp = &e->convs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == cv) {
			*pp = cv->next;
			break;
		}
	}
	conv_disconnect(cv);
	peer_keys_clear(cv);
	buf_free(&cv->pending);
	buf_free(&cv->unconfirmed);
	OPENSSL_cleanse(cv, sizeof(*cv));
	free(cv);
}

void
e2e_fini(struct e2e *e)
{
	while (e->convs != NULL)
		e2e_conv_drop(e, e->convs);
	EVP_PKEY_free(e->key);
	OPENSSL_cleanse(e, sizeof(*e));
}

void
e2e_reset(struct e2e *e)
{
	struct e2e_conv *cv;

	for (cv = e->convs; cv != NULL; cv = cv->next)
		conv_disconnect(cv);
}

int
e2e_conv_name_ok(const char *name)
{
	return name_check_user(name[0] == '@' ? name + 1 : name) == 0;
}

struct e2e_conv *
e2e_conv(struct e2e *e, const char *name, int create)
{
	struct e2e_conv *cv;
	const char *peer = name + 1;

	for (cv = e->convs; cv != NULL; cv = cv->next)
		if (strcmp(cv->name, name) == 0)
			return cv;
	if (!create || !e2e_conv_name_ok(name) ||
	    (cv = calloc(1, sizeof(*cv))) == NULL)
		return NULL;
	(void)snprintf(cv->name, sizeof(cv->name), "%s", name);
	cv->owner = e;
	/* Both ends of a private conversation bind the same string. */
	if (name[0] != '@')
		(void)snprintf(cv->bound, sizeof(cv->bound), "%s", name);
	else if (strcmp(e->user, peer) < 0)
		(void)snprintf(cv->bound, sizeof(cv->bound), "@%s,%s", e->user,
		    peer);
	else
		(void)snprintf(cv->bound, sizeof(cv->bound), "@%s,%s", peer,
		    e->user);
	cv->next = e->convs;
	e->convs = cv;
	return cv;
}

/* Decode b64 text into a new buffer (freed by the caller). */
static int
decode(const char *text, uint8_t **out, size_t *len)
{
	size_t n = strlen(text);
	long got;

	if (n == 0 || (*out = malloc(B64_DECODED_MAX(n))) == NULL)
		return n == 0 ? E_MALFORMED : E_NOMEM;
	if ((got = b64_decode(text, n, *out, B64_DECODED_MAX(n))) <= 0) {
		free(*out);
		*out = NULL;
		return E_MALFORMED;
	}
	*len = (size_t)got;
	return 0;
}

/* The key in spki (b64 DER), checked against fp. */
static int
key_from_spki(const char *spki, const char *fp, EVP_PKEY **key)
{
	char got[KD_FP_SIZE];
	uint8_t *der;
	size_t len;
	int r;

	*key = NULL;
	if ((r = decode(spki, &der, &len)) != 0)
		return r;
	r = kd_key_from_der(der, len, key);
	free(der);
	if (r != 0)
		return E_MALFORMED;
	if ((r = kd_fingerprint(*key, got)) != 0 || strcmp(got, fp) != 0) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return r != 0 ? r : E_KEY_MISMATCH;
	}
	return 0;
}

static int
is_device(const struct e2e_device *d, const char *user, const char *fp)
{
	return strcmp(d->user, user) == 0 && strcmp(d->fp, fp) == 0;
}

/* The entry of device (user, fp) in cv, or NULL. */
static struct e2e_device *
device_of(const struct e2e_conv *cv, const char *user, const char *fp)
{
	size_t i;

	for (i = 0; i < cv->ndev; i++)
		if (is_device(&cv->dev[i], user, fp))
			return &cv->dev[i];
	return NULL;
}

int
e2e_device_add(struct e2e_conv *cv, const char *user, const char *nick,
    const char *fp, const char *spki, int online)
{
	struct e2e_device *d;
	EVP_PKEY *key;
	size_t cap;
	int r;

	if (strlen(user) > NAME_USER_MAX || strlen(fp) >= KD_FP_SIZE ||
	    strlen(nick) >= sizeof(d->nick))
		return E_MALFORMED;
	if ((r = key_from_spki(spki, fp, &key)) != 0)
		return r;
	cv->changed = 1;
	/* One device, one entry: its key is its fingerprint's. */
	if ((d = device_of(cv, user, fp)) != NULL) {
		EVP_PKEY_free(key);
		(void)snprintf(d->nick, sizeof(d->nick), "%s", nick);
		d->online = online;
		return 0;
	}
	if (cv->ndev == cv->capdev) {
		cap = cv->capdev ? 2 * cv->capdev : 8;
		if ((d = reallocarray(cv->dev, cap, sizeof(*d))) == NULL) {
			EVP_PKEY_free(key);
			return E_NOMEM;
		}
		cv->dev = d;
		cv->capdev = cap;
	}
	d = &cv->dev[cv->ndev++];
	(void)snprintf(d->user, sizeof(d->user), "%s", user);
	(void)snprintf(d->nick, sizeof(d->nick), "%s", nick);
	(void)snprintf(d->fp, sizeof(d->fp), "%s", fp);
	d->key = key;
	d->online = online;
	return 0;
}

void
e2e_device_offline(struct e2e_conv *cv, const char *user, const char *fp)
{
	struct e2e_device *d = device_of(cv, user, fp);

	if (d != NULL)
		d->online = 0;
	cv->changed = 1;
}

void
e2e_device_remove(struct e2e_conv *cv, const char *user, const char *fp)
{
	struct e2e_device *d = device_of(cv, user, fp);
	size_t i, j;

	cv->changed = 1;
	if (d == NULL)
		return;
	EVP_PKEY_free(d->key);
	*d = cv->dev[--cv->ndev];
	/* That device has gone: its sender keys are of no more use. */
	for (i = j = 0; i < cv->npeer; i++) {
		if (strcmp(cv->peer[i].user, user) == 0 &&
		    strcmp(cv->peer[i].fp, fp) == 0)
			retire(cv->owner, &cv->peer[i]);
		else
			cv->peer[j++] = cv->peer[i];
	}
	cv->npeer = j;
}

int
e2e_has_user(const struct e2e_conv *cv, const char *user)
{
	size_t i;

	for (i = 0; i < cv->ndev; i++)
		if (strcmp(cv->dev[i].user, user) == 0)
			return 1;
	return 0;
}

int
e2e_has_device(const struct e2e_conv *cv, const char *user, const char *fp)
{
	return device_of(cv, user, fp) != NULL;
}

size_t
e2e_text_max(size_t max_frame)
{
	return (max_frame - FRAME_CHAT_OVERHEAD) / 4 * 3 - E2E_HEAD_LEN -
	    NAME_NICK_MAX - KD_SK_OVERHEAD;
}

/* Append "op|conv|[id|]b64(bin)" LF to out, if it fits in max_frame: id
   is a device's fingerprint (0015) or a message id in hex (0002). */
static int
put_b64(struct buf *out, unsigned op, const char *conv, const char *id,
    const uint8_t *bin, size_t len, size_t max_frame)
{
	struct frame_field f[3];
	size_t n = 0, cap = B64_ENCODED_SIZE(len);
	char *text;
	long tlen;
	int r;

	if ((text = malloc(cap)) == NULL)
		return E_NOMEM;
	if ((tlen = b64_encode(bin, len, text, cap, 1)) < 0) {
		free(text);
		return E_INTERNAL;
	}
	f[n++] = (struct frame_field){ conv, strlen(conv) };
	if (id != NULL)
		f[n++] = (struct frame_field){ id, strlen(id) };
	f[n++] = (struct frame_field){ text, (size_t)tlen };
	r = frame_build_size(f, n) + 1 > max_frame ? E_TOO_LONG :
	    frame_put(out, op, f, n);
	free(text);
	return r;
}

/* A new sender key in cv->fresh, sent to each distinct device of cv. */
static int
rotate(struct e2e *e, struct e2e_conv *cv, size_t max_frame,
    struct buf *out)
{
	uint8_t blob[KD_SKD_MAX];
	size_t i, j, len;
	int r;

	kd_sk_clear(&cv->fresh);
	cv->have_fresh = 0;
	if ((r = kd_sk_generate(&cv->fresh)) != 0)
		return r;
	for (i = 0; i < cv->ndev; i++) {
		/* One per key: the server hands it to each connection. */
		for (j = 0; j < i &&
		    strcmp(cv->dev[j].fp, cv->dev[i].fp) != 0; j++)
			;
		if (j < i)
			continue;
		if ((r = kd_sk_distribute(&cv->fresh, e->key, cv->dev[i].key,
		    cv->bound, e->user, cv->dev[i].fp, blob, sizeof(blob),
		    &len)) != 0 ||
		    (r = put_b64(out, OP_SENDER_KEY, cv->name, cv->dev[i].fp,
		    blob, len, max_frame)) != 0)
			break;
	}
	OPENSSL_cleanse(blob, sizeof(blob));
	if (r != 0) {
		kd_sk_clear(&cv->fresh);
		return r;
	}
	cv->have_fresh = 1;
	return 0;
}

/* Our sender key is due to be replaced (devices, count or age). */
static int
rotation_due(const struct e2e_conv *cv, int64_t now_ms)
{
	return !cv->have_own || cv->changed ||
	    cv->own.next >= E2E_KEY_MESSAGES ||
	    now_ms - cv->own_made_ms >= E2E_KEY_AGE_MS;
}

void
e2e_commit(struct e2e_conv *cv)
{
	if (!cv->have_fresh)
		return;
	kd_sk_clear(&cv->own);
	cv->own = cv->fresh;
	memset(&cv->fresh, 0, sizeof(cv->fresh));
	cv->have_fresh = 0;
	cv->have_own = 1;
	cv->own_made_ms = cv->fresh_made_ms;
	cv->changed = 0;
}

/* kind || mid || uint64_be(time_ms) || uint8(len(nick)) || nick || text */
static void
put_plain(uint8_t *p, const uint8_t mid[E2E_MID_LEN], int64_t time_ms,
    const char *nick, size_t nlen, const char *text, size_t len)
{
	p[0] = E2E_KIND_TEXT;
	memcpy(p + 1, mid, E2E_MID_LEN);
	be64_store(p + 1 + E2E_MID_LEN, (uint64_t)time_ms);
	p[E2E_HEAD_LEN - 1] = (uint8_t)nlen;
	memcpy(p + E2E_HEAD_LEN, nick, nlen);
	memcpy(p + E2E_HEAD_LEN + nlen, text, len);
}

int
e2e_seal(struct e2e *e, struct e2e_conv *cv, const uint8_t mid[E2E_MID_LEN],
    const char *nick, int64_t now_ms, const char *text, size_t len,
    size_t max_frame, struct buf *out)
{
	const size_t nlen = strlen(nick), plen = E2E_HEAD_LEN + nlen + len;
	size_t mark = buf_size(out), cap, n;
	uint8_t *plain = NULL, *msg = NULL;
	char hex[E2E_MID_HEX_SIZE];
	struct kd_sender_key *sk = &cv->own;
	int r;

	if (len > e2e_text_max(max_frame) || nlen > NAME_NICK_MAX)
		return E_TOO_LONG;
	cap = plen + KD_SK_OVERHEAD;
	r = E_NOMEM;
	if ((plain = malloc(plen)) == NULL || (msg = malloc(cap)) == NULL)
		goto out;
	put_plain(plain, mid, now_ms, nick, nlen, text, len);
	if (rotation_due(cv, now_ms)) {
		if ((r = rotate(e, cv, max_frame, out)) != 0)
			goto out;
		cv->fresh_made_ms = now_ms;
		sk = &cv->fresh;
	}
	if ((r = kd_sk_seal(sk, cv->bound, e->user, plain, plen,
	    msg, cap, &n)) == 0) {
		e2e_mid_hex(mid, hex);
		r = put_b64(out, OP_CHAT, cv->name, hex, msg, n, max_frame);
	}
out:
	if (plain != NULL)
		OPENSSL_clear_free(plain, plen);
	free(msg);
	if (r != 0) {
		buf_truncate(out, mark);
		kd_sk_clear(&cv->fresh);
		cv->have_fresh = 0;
	}
	return r;
}

/* The peer key of user with this id in cv, or NULL. */
static struct e2e_peer_key *
peer_key(struct e2e_conv *cv, const char *user,
    const uint8_t id[KD_SK_ID_LEN])
{
	size_t i;

	for (i = 0; i < cv->npeer; i++)
		if (strcmp(cv->peer[i].user, user) == 0 &&
		    memcmp(cv->peer[i].sk.id, id, KD_SK_ID_LEN) == 0)
			return &cv->peer[i];
	return NULL;
}

/* Room for one more peer key from (user, fp), retiring its oldest. */
static struct e2e_peer_key *
peer_slot(struct e2e_conv *cv, const char *user, const char *fp)
{
	struct e2e_peer_key *p, *oldest = NULL;
	size_t i, count = 0, cap;

	for (i = 0; i < cv->npeer; i++) {
		p = &cv->peer[i];
		if (strcmp(p->user, user) != 0 || strcmp(p->fp, fp) != 0)
			continue;
		count++;
		if (oldest == NULL || p->age < oldest->age)
			oldest = p;
	}
	if (count >= E2E_PEER_KEYS_MAX) {
		retire(cv->owner, oldest);
		return oldest;
	}
	if (cv->npeer == cv->cappeer) {
		cap = cv->cappeer ? 2 * cv->cappeer : 8;
		if ((p = reallocarray(cv->peer, cap, sizeof(*p))) == NULL)
			return NULL;
		cv->peer = p;
		cv->cappeer = cap;
	}
	p = &cv->peer[cv->npeer++];
	memset(p, 0, sizeof(*p));
	return p;
}

/*
 * Keep the peer key *sk of device (user, fp) in cv (taken from *sk, which
 * is cleared either way), aged age: as e2e_accept().
 */
static int
peer_keep(struct e2e *e, struct e2e_conv *cv, const char *user,
    const char *fp, uint64_t age, struct kd_sender_key *sk)
{
	struct e2e_peer_key *p;
	int r;

	if ((p = peer_key(cv, user, sk->id)) != NULL ||
	    retired(e, user, sk->id) != NULL) {
		/* Resent: keep the counter.  Other material: refused. */
		r = p == NULL ? E_REPLAY : kd_sk_same(&p->sk, sk) ? 0 :
		    E_EXISTS;
		kd_sk_clear(sk);
		return r;
	}
	if ((p = peer_slot(cv, user, fp)) == NULL) {
		kd_sk_clear(sk);
		return E_NOMEM;
	}
	(void)snprintf(p->user, sizeof(p->user), "%s", user);
	(void)snprintf(p->fp, sizeof(p->fp), "%s", fp);
	p->age = age;
	if (age > e->ages)
		e->ages = age;
	p->sk = *sk;
	memset(sk, 0, sizeof(*sk));
	e->peer_gen++;
	return 0;
}

int
e2e_accept(struct e2e *e, struct e2e_conv *cv, const char *user,
    const char *fp, const char *spki, const char *blob)
{
	struct kd_sender_key sk;
	EVP_PKEY *key;
	uint8_t *bin;
	size_t len;
	int r;

	memset(&sk, 0, sizeof(sk));
	if (strlen(user) > NAME_USER_MAX || strlen(fp) >= KD_FP_SIZE)
		return E_MALFORMED;
	if ((r = key_from_spki(spki, fp, &key)) != 0)
		return r;
	if ((r = decode(blob, &bin, &len)) == 0) {
		r = kd_sk_accept(e->key, e->fp, key, cv->bound, user, bin,
		    len, &sk);
		free(bin);
	}
	EVP_PKEY_free(key);
	if (r != 0)
		return r;
	return peer_keep(e, cv, user, fp, e->ages + 1, &sk);
}

#define STATE_VERSION 1

_Static_assert(KD_SK_SAVED_MAX <= UINT16_MAX, "a saved key's length");
_Static_assert(E2E_CONV_MAX <= UINT8_MAX && KD_FP_SIZE <= UINT8_MAX,
    "names of the saved state");

/* m(s) = uint8(len(s)) || s; strings of the state are short. */
static int
state_put_name(struct buf *out, const char *s)
{
	uint8_t n = (uint8_t)strlen(s);
	int r;

	if ((r = buf_append(out, &n, 1)) != 0)
		return r;
	return buf_append(out, s, n);
}

/* One key of the state: m(conv) || m(user) || m(fp) || age || key. */
static int
state_put_key(struct buf *out, const struct e2e_conv *cv,
    const struct e2e_peer_key *p)
{
	uint8_t b[8 + 2] = { 0 };
	size_t at;
	int r;

	if ((r = state_put_name(out, cv->name)) != 0 ||
	    (r = state_put_name(out, p->user)) != 0 ||
	    (r = state_put_name(out, p->fp)) != 0)
		return r;
	/* The key's length follows it: filled in once it is written. */
	be64_store(b, p->age);
	if ((r = buf_append(out, b, sizeof(b))) != 0)
		return r;
	at = buf_size(out);
	if ((r = kd_sk_peer_save(&p->sk, out)) != 0)
		return r;
	be16_store(buf_data(out) + at - 2, (uint16_t)(buf_size(out) - at));
	return 0;
}

int
e2e_peer_state_put(const struct e2e *e, struct buf *out)
{
	const struct e2e_conv *cv;
	size_t mark = buf_size(out), i;
	uint32_t count = 0;
	uint8_t head[5];
	int r;

	for (cv = e->convs; cv != NULL; cv = cv->next)
		count += (uint32_t)cv->npeer;
	head[0] = STATE_VERSION;
	be32_store(head + 1, count);
	if ((r = buf_append(out, head, sizeof(head))) != 0)
		goto fail;
	for (cv = e->convs; cv != NULL; cv = cv->next)
		for (i = 0; i < cv->npeer; i++)
			if ((r = state_put_key(out, cv, &cv->peer[i])) != 0)
				goto fail;
	return 0;
fail:
	buf_truncate(out, mark);
	return r;
}

/* A reader of the saved state; err once anything did not fit. */
struct state_rd {
	const uint8_t *p;
	size_t left;
	int err;
};

static const uint8_t *
state_get(struct state_rd *rd, size_t n)
{
	const uint8_t *v = rd->p;

	if (rd->err || n > rd->left) {
		rd->err = E_MALFORMED;
		return NULL;
	}
	rd->p += n;
	rd->left -= n;
	return v;
}

/* m(s) into out (cap bytes, NUL-ended). */
static void
state_get_name(struct state_rd *rd, char *out, size_t cap)
{
	const uint8_t *n = state_get(rd, 1), *s;

	out[0] = '\0';
	if (n == NULL || (s = state_get(rd, *n)) == NULL)
		return;
	if (*n >= cap || memchr(s, '\0', *n) != NULL) {
		rd->err = E_MALFORMED;
		return;
	}
	memcpy(out, s, *n);
	out[*n] = '\0';
}

/* One key of the state, checked and kept. */
static int
state_take_key(struct e2e *e, struct state_rd *rd)
{
	char conv[E2E_CONV_MAX + 1], user[NAME_USER_MAX + 1], fp[KD_FP_SIZE];
	const uint8_t *age, *len, *blob;
	struct kd_sender_key sk;
	struct e2e_conv *cv;
	int r;

	state_get_name(rd, conv, sizeof(conv));
	state_get_name(rd, user, sizeof(user));
	state_get_name(rd, fp, sizeof(fp));
	age = state_get(rd, 8);
	len = state_get(rd, 2);
	if (len == NULL || (blob = state_get(rd, be16_load(len))) == NULL ||
	    rd->err != 0 || !e2e_conv_name_ok(conv) ||
	    name_check_user(user) != 0 || fp[0] == '\0')
		return E_MALFORMED;
	if ((r = kd_sk_peer_load(blob, be16_load(len), &sk)) != 0)
		return r;
	if ((cv = e2e_conv(e, conv, 1)) == NULL) {
		kd_sk_clear(&sk);
		return E_NOMEM;
	}
	return peer_keep(e, cv, user, fp, be64_load(age), &sk);
}

int
e2e_peer_state_take(struct e2e *e, const uint8_t *state, size_t len)
{
	struct state_rd rd = { state, len, 0 };
	const uint8_t *head = state_get(&rd, 5);
	uint32_t count, i;
	int r;

	if (head == NULL || head[0] != STATE_VERSION)
		return E_MALFORMED;
	count = be32_load(head + 1);
	for (i = 0; i < count; i++)
		if ((r = state_take_key(e, &rd)) != 0)
			return r;
	return rd.left == 0 ? 0 : E_MALFORMED;
}

int
e2e_nick_misleads(struct e2e *e, const char *user, const char *nick)
{
	const struct e2e_nick *n;
	int known = 0, misleads;
	size_t i;

	misleads = strcmp(nick, user) != 0 && strcmp(nick, e->user) == 0;
	for (i = 0; i < E2E_NICKS_MAX && e->nicks[i].user[0] != '\0'; i++) {
		n = &e->nicks[i];
		if (strcmp(n->user, user) == 0) {
			known = 1;
			misleads |= strcmp(n->nick, nick) != 0;
		} else {
			misleads |= strcmp(n->nick, nick) == 0 ||
			    strcmp(n->user, nick) == 0;
		}
	}
	if (!known) {
		(void)snprintf(e->nicks[e->nicks_next].user,
		    sizeof(e->nicks[0].user), "%s", user);
		(void)snprintf(e->nicks[e->nicks_next].nick,
		    sizeof(e->nicks[0].nick), "%s", nick);
		e->nicks_next = (e->nicks_next + 1) % E2E_NICKS_MAX;
	}
	return misleads;
}

void
e2e_seen_add(struct e2e *e, const uint8_t mid[E2E_MID_LEN], int64_t time_ms)
{
	memcpy(e->seen[e->seen_next].mid, mid, E2E_MID_LEN);
	e->seen[e->seen_next].time_ms = time_ms;
	e->seen_next = (e->seen_next + 1) % E2E_SEEN_MAX;
}

int
e2e_seen_has(const struct e2e *e, const uint8_t mid[E2E_MID_LEN])
{
	size_t i;

	for (i = 0; i < E2E_SEEN_MAX; i++)
		if (memcmp(e->seen[i].mid, mid, E2E_MID_LEN) == 0)
			return 1;
	return 0;
}

/*
 * E_DUPLICATE if a line with this message id was received lately (a
 * sender resends the lines the server had not confirmed when its
 * connection broke; a server replays one); else remember it.
 */
static int
remember_mid(struct e2e *e, const uint8_t mid[E2E_MID_LEN], int64_t time_ms)
{
	if (e2e_seen_has(e, mid))
		return E_DUPLICATE;
	e2e_seen_add(e, mid, time_ms);
	return 0;
}

void
e2e_mid_hex(const uint8_t mid[E2E_MID_LEN], char out[E2E_MID_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < E2E_MID_LEN; i++) {
		out[2 * i] = digits[mid[i] >> 4];
		out[2 * i + 1] = digits[mid[i] & 0x0f];
	}
	out[PROTO_MID_HEX] = '\0';
}

/* A lowercase hex digit's value, or -1. */
static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
e2e_mid_parse(const char *hex, uint8_t mid[E2E_MID_LEN])
{
	size_t i;
	int hi, lo;

	if (strlen(hex) != PROTO_MID_HEX)
		return E_MALFORMED;
	for (i = 0; i < E2E_MID_LEN; i++) {
		if ((hi = hex_digit(hex[2 * i])) < 0 ||
		    (lo = hex_digit(hex[2 * i + 1])) < 0)
			return E_MALFORMED;
		mid[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
e2e_parse_line(const uint8_t *plain, size_t n, char *out, size_t cap,
    struct e2e_line *line)
{
	size_t nlen, tlen;

	if (n < E2E_HEAD_LEN || plain[0] != E2E_KIND_TEXT)
		return E_MALFORMED;
	nlen = plain[E2E_HEAD_LEN - 1];
	/* A NUL would cut the nickname short of what was checked. */
	if (nlen > NAME_NICK_MAX || n - E2E_HEAD_LEN < nlen ||
	    memchr(plain + E2E_HEAD_LEN, '\0', nlen) != NULL)
		return E_MALFORMED;
	tlen = n - E2E_HEAD_LEN - nlen;
	memcpy(line->nick, plain + E2E_HEAD_LEN, nlen);
	line->nick[nlen] = '\0';
	if (name_check_nick(line->nick) != 0 || tlen >= cap ||
	    text_chat_problem(plain + E2E_HEAD_LEN + nlen, tlen, tlen) != NULL)
		return E_MALFORMED;
	memcpy(line->mid, plain + 1, E2E_MID_LEN);
	line->time_ms = (int64_t)be64_load(plain + 1 + E2E_MID_LEN);
	memcpy(out, plain + E2E_HEAD_LEN + nlen, tlen);
	out[tlen] = '\0';
	return 0;
}

int
e2e_open(struct e2e_conv *cv, const char *user, const char *msg,
    int64_t now_ms, int64_t behind_ms, const uint8_t *outer_mid, char *out,
    size_t cap, struct e2e_line *line)
{
	uint8_t id[KD_SK_ID_LEN], *bin, *plain = NULL;
	const struct e2e_retired *t;
	struct e2e_peer_key *p;
	size_t len, n = 0;
	uint64_t counter;
	int r;

	memset(line, 0, sizeof(*line));
	if ((r = decode(msg, &bin, &len)) != 0)
		return r;
	if ((r = kd_sk_message_id(bin, len, id)) != 0)
		goto out;
	counter = kd_sk_message_counter(bin);
	if ((p = peer_key(cv, user, id)) == NULL) {
		/* Under a key dropped since: an old message sent again. */
		t = retired(cv->owner, user, id);
		r = t != NULL && counter < t->next ? E_REPLAY : E_NOT_FOUND;
		goto out;
	}
	r = E_NOMEM;
	if ((plain = malloc(len)) == NULL)
		goto out;
	line->gap = counter > p->sk.next ? counter - p->sk.next : 0;
	if ((r = kd_sk_open(&p->sk, cv->bound, user, bin, len, plain, len,
	    &n)) != 0)
		goto out;
	cv->owner->peer_gen++;
	if ((r = e2e_parse_line(plain, n, out, cap, line)) != 0)
		goto out;
	line->fp = p->fp;
	if (line->time_ms > now_ms + E2E_AHEAD_MS ||
	    line->time_ms < now_ms - behind_ms)
		r = E_STATE;
	else if (outer_mid != NULL &&
	    memcmp(outer_mid, line->mid, E2E_MID_LEN) != 0)
		r = E_INVALID;
	else
		r = remember_mid(cv->owner, line->mid, line->time_ms);
out:
	if (r != 0 && cap > 0)
		OPENSSL_cleanse(out, cap);
	if (plain != NULL)
		OPENSSL_clear_free(plain, len);
	free(bin);
	return r;
}
