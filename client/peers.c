/*
 * The trust checks of the client core on every peer key the server hands
 * out (docs/PROTOCOL.md section 8.4): pin a user's first key, report a
 * changed one once, refuse to send to a conversation with a key not
 * accepted, and the commands that accept keys or list them.  The pinned
 * keys themselves (known_keys) are client/trust.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/session_int.h"
#include "common/err.h"

#define WARNED_MAX 1024

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
		ev.kind = SESSION_EV_KEY_CHANGED;
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
			return cs_refuse(s, E_UNTRUSTED, "not sent to %s: the "
			    "key of %s changed to %s; compare fingerprints "
			    "(/fingerprint %s), then /accept %s", cv->name,
			    d->user, d->fp, d->user, d->user);
	}
	return 0;
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
