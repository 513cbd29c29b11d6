/*
 * The device set of each conversation as the user was last shown it
 * (issue 15, items 1 and 5): distinct (user, key) pairs, kept across
 * reconnects, so that a device list that differs from the one before is
 * a visible notice, /devices can show the set, and lines queued while
 * disconnected go out only to the set they were typed for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/session_int.h"
#include "common/err.h"

static int
dev_cmp(const void *a, const void *b)
{
	const struct cs_dev *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c != 0 ? c : strcmp(x->fp, y->fp);
}

struct cs_devset *
cs_devset_of(struct session *s, const char *conv, int create)
{
	struct cs_devset *d;

	for (d = s->devsets; d != NULL; d = d->next)
		if (strcmp(d->conv, conv) == 0)
			return d;
	if (!create || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	(void)snprintf(d->conv, sizeof(d->conv), "%s", conv);
	d->next = s->devsets;
	s->devsets = d;
	return d;
}

/* cv's devices, sorted, each (user, key) once; E_NOMEM. */
static int
current(const struct e2e_conv *cv, struct cs_dev **out, size_t *n)
{
	struct cs_dev *v;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if (cv->ndev == 0)
		return 0;
	if ((v = calloc(cv->ndev, sizeof(*v))) == NULL)
		return E_NOMEM;
	for (i = 0; i < cv->ndev; i++) {
		(void)snprintf(v[i].user, sizeof(v[i].user), "%s",
		    cv->dev[i].user);
		(void)snprintf(v[i].fp, sizeof(v[i].fp), "%s", cv->dev[i].fp);
		v[i].online = cv->dev[i].online;
	}
	qsort(v, cv->ndev, sizeof(*v), dev_cmp);
	for (i = 0; i < cv->ndev; i++)
		if (k == 0 || dev_cmp(&v[k - 1], &v[i]) != 0)
			v[k++] = v[i];
	*out = v;
	*n = k;
	return 0;
}

/* Append " +user fp" (or '-') to diff, cut short when full. */
static void
note(char *diff, size_t cap, char sign, const struct cs_dev *d)
{
	size_t len = strlen(diff);

	if (len + 1 < cap)
		(void)snprintf(diff + len, cap - len, "%s%c%s %s",
		    len > 0 ? ", " : "", sign, d->user, d->fp);
}

/* Walk the two sorted sets: what came and what went, into diff. */
static int
differ(const struct cs_devset *d, const struct cs_dev *v, size_t n,
    char *diff, size_t cap)
{
	size_t i = 0, j = 0;
	int c, changed = 0;

	diff[0] = '\0';
	while (i < d->ndev || j < n) {
		c = i == d->ndev ? 1 : j == n ? -1 : dev_cmp(&d->dev[i], &v[j]);
		if (c == 0) {
			i++;
			j++;
			continue;
		}
		changed = 1;
		if (c < 0)
			note(diff, cap, '-', &d->dev[i++]);
		else
			note(diff, cap, '+', &v[j++]);
	}
	return changed;
}

int
cs_devset_update(struct session *s, const struct e2e_conv *cv, char *diff,
    size_t cap)
{
	struct cs_devset *d;
	struct cs_dev *v;
	size_t n;
	int changed;

	diff[0] = '\0';
	if ((d = cs_devset_of(s, cv->name, 1)) == NULL ||
	    current(cv, &v, &n) != 0)
		return E_NOMEM;
	changed = d->known && differ(d, v, n, diff, cap);
	free(d->dev);
	d->dev = v;
	d->ndev = n;
	d->known = 1;
	return changed;
}

void
cs_devset_forget(struct session *s, const char *conv)
{
	struct cs_devset **p, *d;

	for (p = &s->devsets; (d = *p) != NULL; p = &d->next) {
		if (strcmp(d->conv, conv) == 0) {
			*p = d->next;
			free(d->dev);
			free(d);
			return;
		}
	}
}

void
cs_devset_free_all(struct session *s)
{
	struct cs_devset *d;

	while ((d = s->devsets) != NULL) {
		s->devsets = d->next;
		free(d->dev);
		free(d);
	}
}

int
cs_devset_held(struct session *s, const char *conv)
{
	const struct cs_devset *d = cs_devset_of(s, conv, 0);

	return d != NULL && d->held;
}

/* conv's device list, if it was ever listed. */
static const struct cs_devset *
devset_listed(const struct session *s, const char *conv)
{
	const struct cs_devset *d;

	for (d = s->devsets; d != NULL; d = d->next)
		if (strcmp(d->conv, conv) == 0)
			return d->known ? d : NULL;
	return NULL;
}

size_t
session_devices(const struct session *s, const char *conv,
    void (*fn)(void *arg, const char *user, const char *fingerprint,
    enum session_trust trust, int online), void *arg)
{
	const struct cs_devset *d = devset_listed(s, conv);
	size_t i;

	if (d == NULL)
		return 0;
	fn(arg, s->user, s->own_fp, SESSION_KEY_OWN, 1);
	for (i = 0; i < d->ndev; i++)
		fn(arg, d->dev[i].user, d->dev[i].fp,
		    cs_trust_of(s, d->dev[i].user, d->dev[i].fp),
		    d->dev[i].online);
	return d->ndev + 1;
}

size_t
session_user_devices(const struct session *s, const char *conv,
    const char *user, size_t *online)
{
	const struct cs_devset *d = devset_listed(s, conv);
	size_t i, n = 0;

	*online = 0;
	if (d == NULL)
		return 0;
	if (strcmp(user, s->user) == 0) {
		n++;
		(*online)++;
	}
	for (i = 0; i < d->ndev; i++)
		if (strcmp(d->dev[i].user, user) == 0) {
			n++;
			*online += d->dev[i].online != 0;
		}
	return n;
}
