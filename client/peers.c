/*
 * The trust checks of the client core on every peer key the server hands
 * out (docs/PROTOCOL.md section 8.4): pin a user's first key (never one
 * of our own user: this device's is pinned at the start), report a
 * changed one or a new device of ours once, refuse to send to a
 * conversation with a key not accepted, and the commands that accept
 * one key by its fingerprint or list them.  The pinned
 * keys themselves (known_keys) are client/trust.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/session_int.h"
#include "common/err.h"

#define WARNED_MAX 1024

_Static_assert(SESSION_FP_SIZE == KD_FP_SIZE, "a fingerprint's size");

static int
is_own_device(const struct session *s, const char *user, const char *fp)
{
	return strcmp(user, s->user) == 0 && strcmp(fp, s->own_fp) == 0;
}

enum session_trust
cs_trust_of(const struct session *s, const char *user, const char *fp)
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

void
cs_check_peer(struct session *s, const char *user, const char *fp)
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
		/* Our own user's first key is this device's, pinned at the
		   start: any other is a new device (or a ghost). */
		ev.kind = strcmp(user, s->user) == 0 ? SESSION_EV_NEW_DEVICE :
		    SESSION_EV_KEY_CHANGED;
		ev.pinned = pinned;
		cs_emit(s, &ev);
	}
}

int
cs_check_devices(struct session *s, const struct e2e_conv *cv)
{
	size_t i;

	for (i = 0; i < cv->ndev; i++) {
		const struct e2e_device *d = &cv->dev[i];

		if (cs_trust_of(s, d->user, d->fp) == SESSION_KEY_UNACCEPTED)
			return cs_refuse(s, E_UNTRUSTED, "not sent to %s: %s "
			    "has a key not accepted, %s; compare fingerprints "
			    "(/fingerprint %s), then /accept %s %s", cv->name,
			    d->user, d->fp, d->user, d->user, d->fp);
	}
	return 0;
}

/* The keys of user that a prefix may name: pinned and seen unaccepted. */
struct match {
	const char *prefix;           /* "" for the shortcut */
	enum trust_level below;       /* the shortcut: keys under this level */
	size_t n;                     /* keys that fit */
	char fp[KD_FP_SIZE];          /* the first of them */
};

static void
match_key(struct match *m, const char *fp, enum trust_level level)
{
	const char *tail = fp + sizeof("SHA256:") - 1;
	size_t len = strlen(m->prefix);

	if (len > 0 ? strncmp(fp, m->prefix, len) != 0 &&
	    strncmp(tail, m->prefix, len) != 0 : level >= m->below)
		return;
	if (m->n++ == 0)
		(void)snprintf(m->fp, sizeof(m->fp), "%s", fp);
}

static void
match_pinned(void *arg, const char *fp, enum trust_level level)
{
	match_key(arg, fp, level);
}

/* The key of user that prefix (or the shortcut) names, into m. */
static void
find_match(const struct session *s, const char *user, struct match *m)
{
	size_t i;

	(void)trust_each(s->trust, user, match_pinned, m);
	for (i = 0; i < s->nwarned; i++)
		if (strcmp(s->warned[i].user, user) == 0 &&
		    trust_level_of(s->trust, user, s->warned[i].fp) ==
		    TRUST_NONE)
			match_key(m, s->warned[i].fp, TRUST_NONE);
}

static int
accept_key(struct session *s, const char *user, const char *fp,
    int verified, char *which)
{
	enum trust_level level = verified ? TRUST_VERIFIED : TRUST_SEEN;
	struct match m = { fp != NULL ? fp : "", TRUST_NONE, 0, "" };
	const char *verb = verified ? "verify" : "accept";
	int r;

	if (name_check_user(user) != 0)
		return cs_refuse(s, E_MALFORMED, "not a user name: %s", user);
	if (m.prefix[0] == '\0' && strcmp(user, s->user) == 0)
		return cs_refuse(s, E_INVALID, "a device of your own account "
		    "is accepted by its fingerprint only: /%s %s FINGERPRINT",
		    verb, user);
	/* The shortcut: to accept, the one key not accepted; to verify,
	   the one key there is. */
	m.below = verified ? TRUST_VERIFIED + 1 : TRUST_SEEN;
	find_match(s, user, &m);
	if (m.n == 0 && m.prefix[0] == '\0')
		return 0;
	if (m.n == 0)
		return cs_refuse(s, E_NOT_FOUND, "no key of %s starts with "
		    "%s (/fingerprint %s lists them)", user, m.prefix, user);
	if (m.n > 1)
		return cs_refuse(s, E_INVALID, "%zu keys of %s fit; give "
		    "more of the fingerprint: /%s %s FINGERPRINT "
		    "(/fingerprint %s lists them)", m.n, user, verb, user,
		    user);
	if (which != NULL)
		(void)snprintf(which, SESSION_FP_SIZE, "%s", m.fp);
	if (trust_level_of(s->trust, user, m.fp) >= level)
		return 0;
	if ((r = trust_accept(s->trust, user, m.fp, level)) != 0)
		return cs_refuse(s, r, "cannot save known_keys: %s",
		    err_str(r));
	return 1;
}

int
session_accept_key(struct session *s, const char *user, const char *fp,
    int verified, char *which)
{
	cs_enter(s);
	return cs_leave(s, accept_key(s, user, fp, verified, which));
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
