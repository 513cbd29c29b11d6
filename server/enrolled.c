#include "server/enrolled.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/err.h"
#include "server/accounts.h"

int
enrolled_add(struct enrolled *e, const struct enrolled_key *in)
{
	struct enrolled_key *k;
	char *spki = NULL;
	size_t cap;

	if (!kd_fp_valid(in->fp, strlen(in->fp)) ||
	    name_check_user(in->owner) != 0)
		return E_INVALID;
	if (in->spki != NULL && (spki = strdup(in->spki)) == NULL)
		return E_NOMEM;
	if (e->n == e->cap) {
		cap = e->cap == 0 ? 64 : e->cap * 2;
		if ((k = realloc(e->keys, cap * sizeof(*k))) == NULL) {
			free(spki);
			return E_NOMEM;
		}
		e->keys = k;
		e->cap = cap;
	}
	k = &e->keys[e->n++];
	*k = *in;
	k->spki = spki;
	return 0;
}

static int
by_fp(const void *a, const void *b)
{
	return strcmp(((const struct enrolled_key *)a)->fp,
	    ((const struct enrolled_key *)b)->fp);
}

static int
by_owner(const void *a, const void *b)
{
	const struct enrolled_key *x = *(const struct enrolled_key *const *)a;
	const struct enrolled_key *y = *(const struct enrolled_key *const *)b;
	int d = strcmp(x->owner, y->owner);

	return d != 0 ? d : strcmp(x->fp, y->fp);
}

int
enrolled_seal(struct enrolled *e)
{
	size_t i;

	if (e->n > 1)
		qsort(e->keys, e->n, sizeof(*e->keys), by_fp);
	free(e->by_owner);
	if ((e->by_owner = calloc(e->n + 1,
	    sizeof(struct enrolled_key *))) == NULL) {
		enrolled_free(e);
		return E_NOMEM;
	}
	for (i = 0; i < e->n; i++)
		e->by_owner[i] = &e->keys[i];
	if (e->n > 1)
		qsort(e->by_owner, e->n, sizeof(struct enrolled_key *),
		    by_owner);
	return 0;
}

size_t
enrolled_devices(const struct enrolled *e, const char *user,
    struct enrolled_key *const **first)
{
	size_t lo = 0, hi = e->n, end;

	*first = e->by_owner;
	/* The first entry of user, then the first after it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(e->by_owner[mid]->owner, user) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < e->n && strcmp(e->by_owner[end]->owner, user) == 0;
	    end++)
		;
	if (e->by_owner != NULL)
		*first = e->by_owner + lo;
	return end - lo;
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
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->keys[i].spki);
	free(e->keys);
	free(e->by_owner);
	memset(e, 0, sizeof(*e));
}

/*
 * The SPKI as peers get it (b64 of the DER) from the stored PEM: the
 * PEM's body without its line breaks, checked to decode to a key whose
 * fingerprint is the row's.  NULL for anything else.
 */
static char *
spki_of_pem(const char *pem, size_t len, const char *fp)
{
	static const char begin[] = "-----BEGIN PUBLIC KEY-----";
	static const char end[] = "-----END PUBLIC KEY-----";
	const char *p, *q;
	uint8_t der[KD_RSA_MAX_BYTES * 2 + 64];
	char got[KD_FP_SIZE], *b;
	size_t n = 0;
	long dlen;

	if ((p = strstr(pem, begin)) == NULL || (q = strstr(p, end)) == NULL ||
	    (size_t)(q - pem) > len || (b = malloc((size_t)(q - p) + 1)) == NULL)
		return NULL;
	for (p += sizeof(begin) - 1; p < q; p++)
		if (*p != '\n' && *p != '\r')
			b[n++] = *p;
	b[n] = '\0';
	if ((dlen = b64_decode(b, n, der, sizeof(der))) <= 0 ||
	    kd_fingerprint_der(der, (size_t)dlen, got) != 0 ||
	    strcmp(got, fp) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

/* A row the schema's checks would not let in is skipped, not fatal. */
static int
load_one(void *arg, const struct account_key *row)
{
	struct enrolled_key k = { .key_id = row->key_id,
		.disabled = row->disabled };
	int r;

	if (snprintf(k.fp, sizeof(k.fp), "%s", row->fp) >= (int)sizeof(k.fp) ||
	    snprintf(k.owner, sizeof(k.owner), "%s", row->owner) >=
	    (int)sizeof(k.owner) ||
	    (k.spki = spki_of_pem(row->pem, row->pem_len, row->fp)) == NULL)
		return 0;
	(void)snprintf(k.nick, sizeof(k.nick), "%s", row->nick);
	r = enrolled_add(arg, &k);
	free(k.spki);
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
	return enrolled_seal(out);
}
