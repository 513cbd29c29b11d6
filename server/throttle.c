#include "server/throttle.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

struct entry {
	struct entry *next;
	struct entry *newer, *older;     /* the recency list */
	char key[THROTTLE_KEY_MAX + 1];
	unsigned count;          /* hits in the window, or failures in a row */
	uint64_t first_ms;       /* start of the hit window */
	uint64_t last_ms;        /* last touched */
	uint64_t locked_until;   /* 0 = not locked */
};

struct throttle {
	struct entry **bucket;
	size_t nbuckets, count, max;
	struct entry *newest, *oldest;   /* every entry, by last touch */
	size_t evicted;
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

static void
recency_unlink(struct throttle *t, struct entry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	e->newer = e->older = NULL;
}

/* e was just touched: the newest. */
static void
recency_touch(struct throttle *t, struct entry *e)
{
	if (t->newest == e)
		return;
	if (e->newer != NULL || e->older != NULL || t->oldest == e)
		recency_unlink(t, e);
	e->older = t->newest;
	if (t->newest != NULL)
		t->newest->newer = e;
	t->newest = e;
	if (t->oldest == NULL)
		t->oldest = e;
}

/* Take e out of its chain and the recency list, and free it. */
static void
drop(struct throttle *t, struct entry *e)
{
	size_t b = fnv1a64(e->key, strlen(e->key)) & (t->nbuckets - 1);
	struct entry **pe;

	for (pe = &t->bucket[b]; *pe != NULL; pe = &(*pe)->next) {
		if (*pe == e) {
			*pe = e->next;
			break;
		}
	}
	recency_unlink(t, e);
	free(e);
	t->count--;
}

/*
 * Make room: drop the least recently touched entry, passing over a few
 * locked ones (a lock is what a flood of new keys would like to evict).
 */
static void
evict(struct throttle *t, uint64_t now_ms)
{
	struct entry *e = t->oldest;
	int skip;

	for (skip = 0; skip < THROTTLE_EVICT_SKIP && e != NULL &&
	    e->locked_until > now_ms && e->newer != NULL; skip++)
		e = e->newer;
	if (e != NULL && e->locked_until > now_ms)
		e = t->oldest;
	if (e != NULL) {
		drop(t, e);
		t->evicted++;
	}
}

/* The entry for key; with create, a new zeroed one (evicting if full). */
static struct entry *
lookup(struct throttle *t, const char *key, int create, uint64_t now_ms)
{
	size_t len = strlen(key), b = fnv1a64(key, len) & (t->nbuckets - 1);
	struct entry *e;

	for (e = t->bucket[b]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!create || len > THROTTLE_KEY_MAX)
		return NULL;
	if (t->count >= t->max)
		evict(t, now_ms);
	if (t->max == 0 || (e = calloc(1, sizeof(*e))) == NULL)
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

	if ((e = lookup(t, key, 1, now_ms)) == NULL)
		return 0;
	recency_touch(t, e);
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

	if ((e = lookup(t, key, 1, now_ms)) == NULL)
		return 0;
	recency_touch(t, e);
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

	if ((e = lookup(t, key, 0, now_ms)) == NULL || e->locked_until <= now_ms)
		return 0;
	return e->locked_until - now_ms;
}

void
throttle_clear(struct throttle *t, const char *key)
{
	struct entry *e;

	if ((e = lookup(t, key, 0, 0)) != NULL)
		drop(t, e);
}

size_t
throttle_prune(struct throttle *t, uint64_t now_ms, uint64_t idle_ms)
{
	struct entry *e, *newer;
	size_t dropped = 0;

	/* Oldest first: the rest of the list was touched later. */
	for (e = t->oldest; e != NULL && now_ms - e->last_ms >= idle_ms;
	    e = newer) {
		newer = e->newer;
		if (e->locked_until <= now_ms) {
			drop(t, e);
			dropped++;
		}
	}
	return dropped;
}

size_t
throttle_count(const struct throttle *t)
{
	return t->count;
}

size_t
throttle_evicted(const struct throttle *t)
{
	return t->evicted;
}

void
throttle_prefix(const char *ip, char out[THROTTLE_PREFIX_MAX])
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET, ip, a) == 1) {
		(void)snprintf(out, THROTTLE_PREFIX_MAX, "%u.%u.%u.0/24", a[0],
		    a[1], a[2]);
		return;
	}
	if (inet_pton(AF_INET6, ip, a) != 1) {
		(void)snprintf(out, THROTTLE_PREFIX_MAX, "%s", ip);
		return;
	}
	/* An IPv4 client of a dual-stack socket: ::ffff:a.b.c.d. */
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		(void)snprintf(out, THROTTLE_PREFIX_MAX, "%u.%u.%u.0/24",
		    a[12], a[13], a[14]);
		return;
	}
	memset(a + 8, 0, 8);
	if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL)
		(void)snprintf(text, sizeof(text), "?");
	(void)snprintf(out, THROTTLE_PREFIX_MAX, "%s/64", text);
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
