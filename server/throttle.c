#include "server/throttle.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

struct entry {
	struct entry *next;
	char key[THROTTLE_KEY_MAX + 1];
	unsigned count;          /* hits in the window, or failures in a row */
	uint64_t first_ms;       /* start of the hit window */
	uint64_t last_ms;        /* last touched */
	uint64_t locked_until;   /* 0 = not locked */
};

struct throttle {
	struct entry **bucket;
	size_t nbuckets, count, max;
};

struct throttle *
throttle_new(size_t max_entries)
{
	struct throttle *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->nbuckets = 1024;
	while (t->nbuckets < max_entries / 2)
		t->nbuckets *= 2;
	t->max = max_entries;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant */
	if ((t->bucket = calloc(t->nbuckets, sizeof(*t->bucket))) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
throttle_free(struct throttle *t)
{
	struct entry *e, *next;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (e = t->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t->bucket);
	free(t);
}

/* The entry for key; with create, a new zeroed one if there is room. */
static struct entry *
lookup(struct throttle *t, const char *key, int create)
{
	size_t len = strlen(key), b = fnv1a64(key, len) & (t->nbuckets - 1);
	struct entry *e;

	for (e = t->bucket[b]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!create || t->count >= t->max || len > THROTTLE_KEY_MAX ||
	    (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	memcpy(e->key, key, len + 1);
	e->next = t->bucket[b];
	t->bucket[b] = e;
	t->count++;
	return e;
}

unsigned
throttle_hit(struct throttle *t, const char *key, uint64_t now_ms,
    uint64_t window_ms)
{
	struct entry *e;

	if ((e = lookup(t, key, 1)) == NULL)
		return 0;
	if (e->count == 0 || now_ms - e->first_ms >= window_ms) {
		e->first_ms = now_ms;
		e->count = 0;
	}
	e->last_ms = now_ms;
	return ++e->count;
}

unsigned
throttle_fail(struct throttle *t, const char *key, uint64_t now_ms,
    unsigned lock_after, uint64_t lock_ms)
{
	struct entry *e;

	if ((e = lookup(t, key, 1)) == NULL)
		return 0;
	e->last_ms = now_ms;
	if (e->count < UINT32_MAX)
		e->count++;
	if (e->count >= lock_after)
		e->locked_until = now_ms + lock_ms;
	return e->count;
}

uint64_t
throttle_locked(struct throttle *t, const char *key, uint64_t now_ms)
{
	struct entry *e;

	if ((e = lookup(t, key, 0)) == NULL || e->locked_until <= now_ms)
		return 0;
	return e->locked_until - now_ms;
}

void
throttle_clear(struct throttle *t, const char *key)
{
	size_t b = fnv1a64(key, strlen(key)) & (t->nbuckets - 1);
	struct entry **pe, *e;

	for (pe = &t->bucket[b]; (e = *pe) != NULL; pe = &e->next) {
		if (strcmp(e->key, key) == 0) {
			*pe = e->next;
			free(e);
			t->count--;
			return;
		}
	}
}

size_t
throttle_prune(struct throttle *t, uint64_t now_ms, uint64_t idle_ms)
{
	struct entry **pe, *e;
	size_t i, dropped = 0;

	for (i = 0; i < t->nbuckets; i++) {
		pe = &t->bucket[i];
		while ((e = *pe) != NULL) {
			if (e->locked_until <= now_ms &&
			    now_ms - e->last_ms >= idle_ms) {
				*pe = e->next;
				free(e);
				t->count--;
				dropped++;
			} else
				pe = &e->next;
		}
	}
	return dropped;
}

size_t
throttle_count(const struct throttle *t)
{
	return t->count;
}

uint64_t
throttle_delay_ms(unsigned failures, uint64_t base_ms)
{
	uint64_t d = base_ms;

	if (d == 0)
		return 0;
	while (failures-- > 1 && d < THROTTLE_DELAY_MAX_MS)
		d *= 2;
	if (d > THROTTLE_DELAY_MAX_MS)
		d = THROTTLE_DELAY_MAX_MS;
	return d;
}
