/* The logged-in connections by user name (server/users.h): hash chains
   of one set per name, each a list of links. */
#include "server/users.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"

#define BUCKETS_MIN 64

struct user_set {
	struct user_set *next;               /* in its bucket */
	struct user_link *first;
	char name[NAME_USER_MAX + 1];
};

static size_t
name_hash(const char *name)
{
	return (size_t)fnv1a64(name, strlen(name));
}

void
users_init(struct users *u)
{
	memset(u, 0, sizeof(*u));
}

void
users_free(struct users *u)
{
	struct user_set *set;
	size_t i;

	for (i = 0; i < u->nbucket; i++)
		while ((set = u->bucket[i]) != NULL) {
			u->bucket[i] = set->next;
			free(set);
		}
	free(u->bucket);
	users_init(u);
}

static struct user_set **
find(const struct users *u, const char *name)
{
	struct user_set **p;

	if (u->nbucket == 0)
		return NULL;
	for (p = &u->bucket[name_hash(name) & (u->nbucket - 1)]; *p != NULL;
	    p = &(*p)->next)
		if (strcmp((*p)->name, name) == 0)
			return p;
	return NULL;
}

/* Twice the buckets (or the first ones) once there are as many names. */
static int
grow(struct users *u)
{
	size_t n = u->nbucket == 0 ? BUCKETS_MIN : u->nbucket * 2, i, h;
	struct user_set **b, *set;

	if (u->nuser < u->nbucket)
		return 0;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant */
	if ((b = calloc(n, sizeof(*b))) == NULL)
		return u->nbucket == 0 ? E_NOMEM : 0; /* longer chains will do */
	for (i = 0; i < u->nbucket; i++)
		while ((set = u->bucket[i]) != NULL) {
			u->bucket[i] = set->next;
			h = name_hash(set->name) & (n - 1);
			set->next = b[h];
			b[h] = set;
		}
	free(u->bucket);
	u->bucket = b;
	u->nbucket = n;
	return 0;
}

int
users_add(struct users *u, struct user_link *l, const char *name)
{
	struct user_set **p = find(u, name), *set;
	size_t h;

	if (p != NULL)
		set = *p;
	else {
		if (strlen(name) > NAME_USER_MAX)
			return E_BAD_NAME;
		if (grow(u) != 0 || (set = calloc(1, sizeof(*set))) == NULL)
			return E_NOMEM;
		memcpy(set->name, name, strlen(name) + 1);
		h = name_hash(name) & (u->nbucket - 1);
		set->next = u->bucket[h];
		u->bucket[h] = set;
		u->nuser++;
	}
	l->prev = NULL;
	l->next = set->first;
	if (set->first != NULL)
		set->first->prev = l;
	set->first = l;
	l->set = set;
	return 0;
}

void
users_remove(struct users *u, struct user_link *l)
{
	struct user_set *set = l->set, **p;

	if (set == NULL)
		return;
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		set->first = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
	l->set = NULL;
	if (set->first != NULL)
		return;
	if ((p = find(u, set->name)) != NULL)
		*p = set->next;
	free(set);
	u->nuser--;
}

struct user_link *
users_first(const struct users *u, const char *name)
{
	struct user_set **p = find(u, name);

	return p != NULL ? (*p)->first : NULL;
}
