#include "server/enrolled.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "server/accounts.h"

int
enrolled_add(struct enrolled *e, const char *fp, const char *owner,
    int disabled)
{
	struct enrolled_key *k;
	size_t cap;

	if (!kd_fp_valid(fp, strlen(fp)) || name_check_user(owner) != 0)
		return E_INVALID;
	if (e->n == e->cap) {
		cap = e->cap == 0 ? 64 : e->cap * 2;
		if ((k = realloc(e->keys, cap * sizeof(*k))) == NULL)
			return E_NOMEM;
		e->keys = k;
		e->cap = cap;
	}
	k = &e->keys[e->n++];
	memcpy(k->fp, fp, KD_FP_SIZE);
	(void)snprintf(k->owner, sizeof(k->owner), "%s", owner);
	k->disabled = disabled;
	return 0;
}

static int
by_fp(const void *a, const void *b)
{
	return strcmp(((const struct enrolled_key *)a)->fp,
	    ((const struct enrolled_key *)b)->fp);
}

void
enrolled_seal(struct enrolled *e)
{
	if (e->n > 1)
		qsort(e->keys, e->n, sizeof(*e->keys), by_fp);
}

const struct enrolled_key *
enrolled_find(const struct enrolled *e, const char *fp)
{
	struct enrolled_key want = { .disabled = 0 };

	if (e->n == 0 || !kd_fp_valid(fp, strlen(fp)))
		return NULL;
	memcpy(want.fp, fp, KD_FP_SIZE);
	return bsearch(&want, e->keys, e->n, sizeof(*e->keys), by_fp);
}

void
enrolled_free(struct enrolled *e)
{
	free(e->keys);
	memset(e, 0, sizeof(*e));
}

/* A row the schema's checks would not let in is skipped, not fatal. */
static int
load_one(void *arg, const char *fp, const char *owner, int disabled)
{
	int r = enrolled_add(arg, fp, owner, disabled);

	return r == E_INVALID ? 0 : r;
}

int
enrolled_load(struct db *db, struct enrolled *out)
{
	int r;

	if ((r = accounts_enrolled_keys(db, load_one, out)) != 0) {
		enrolled_free(out);
		return r;
	}
	enrolled_seal(out);
	return 0;
}
