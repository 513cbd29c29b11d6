/* Room members by user name (server/members.h). */
#include "server/members.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

static size_t
name_hash(const char *name)
{
	return (size_t)fnv1a64(name, strlen(name));
}

/* Double the table when it is as full as it is long. */
static int
members_grow(struct members *m)
{
	size_t nb = m->nbucket == 0 ? 64 : m->nbucket * 2, i;
	struct member **b, *e, *next;

	if (m->n < m->nbucket)
		return 0;
	if ((b = calloc(nb, sizeof(struct member *))) == NULL)
		return -1;
	for (i = 0; i < m->nbucket; i++)
		for (e = m->bucket[i]; e != NULL; e = next) {
			next = e->next;
			e->next = b[name_hash(e->name) & (nb - 1)];
			b[name_hash(e->name) & (nb - 1)] = e;
		}
	free(m->bucket);
	m->bucket = b;
	m->nbucket = nb;
	return 0;
}

struct member *
members_get(struct members *m, const char *name, int create)
{
	struct member *e;
	size_t h;

	if (m->nbucket != 0)
		for (e = m->bucket[name_hash(name) & (m->nbucket - 1)];
		    e != NULL; e = e->next)
			if (strcmp(e->name, name) == 0)
				return e;
	if (!create || strlen(name) > NAME_USER_MAX || members_grow(m) != 0 ||
	    (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	memcpy(e->name, name, strlen(name) + 1);
	h = name_hash(name) & (m->nbucket - 1);
	e->next = m->bucket[h];
	m->bucket[h] = e;
	m->n++;
	return e;
}

void
members_free(struct members *m, struct rooms *rs)
{
	struct member *e, *next;
	size_t i;

	for (i = 0; i < m->nbucket; i++)
		for (e = m->bucket[i]; e != NULL; e = next) {
			next = e->next;
			room_leave_all(rs, &e->rooms);
			free(e);
		}
	free(m->bucket);
	memset(m, 0, sizeof(*m));
}

struct member *
member_of(struct room_client *cl)
{
	return (struct member *)(void *)((char *)cl -
	    offsetof(struct member, rooms));
}
