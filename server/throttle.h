/*
 * In-memory counters keyed by short strings: failed logins per account
 * name, client key and source address (growing delay, then a temporary
 * lock), and new connections and refusals per address prefix per minute.
 * A name that does not exist is counted like one that does, so the
 * answers never tell them apart.
 *
 * Bounded: past max_entries, a new key evicts the least recently touched
 * one (passing over up to THROTTLE_EVICT_SKIP locked ones), so a flood of
 * new keys cannot switch the counting off; an allocation failure leaves
 * a key untracked, it never stops the server.  Addresses are counted by
 * prefix (throttle_prefix()), so one network cannot multiply itself.
 * Loop thread only.
 */
#ifndef MISSIVE_THROTTLE_H
#define MISSIVE_THROTTLE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define THROTTLE_KEY_MAX 64
#define THROTTLE_EVICT_SKIP 8
/* "ffff:ffff:ffff:ffff::/64", "255.255.255.0/24", or an address as is. */
#define THROTTLE_PREFIX_MAX (INET6_ADDRSTRLEN + 4)
/* Longest delay before a failed-login answer, however many failures. */
#define THROTTLE_DELAY_MAX_MS 8000

struct throttle;

/* A table of at most max_entries keys; NULL if out of memory. */
struct throttle *throttle_new(size_t max_entries);
void throttle_free(struct throttle *t);

/*
 * Count one event for key in the current window of window_ms starting at
 * its first event; returns the events in that window, this one included
 * (0 if key is longer than THROTTLE_KEY_MAX or memory ran out).
 */
unsigned throttle_hit(struct throttle *t, const char *key, uint64_t now_ms,
    uint64_t window_ms);

/*
 * Count one failure for key; after lock_after failures in a row, lock it
 * for lock_ms.  Returns the failures in a row, this one included (0 as
 * for throttle_hit()).
 */
unsigned throttle_fail(struct throttle *t, const char *key, uint64_t now_ms,
    unsigned lock_after, uint64_t lock_ms);

/* Milliseconds key stays locked, 0 if it is not. */
uint64_t throttle_locked(struct throttle *t, const char *key, uint64_t now_ms);

/* Forget key (a successful login clears its failures). */
void throttle_clear(struct throttle *t, const char *key);

/* Drop entries untouched for idle_ms and not locked; returns how many. */
size_t throttle_prune(struct throttle *t, uint64_t now_ms, uint64_t idle_ms);

/* Entries held, and evicted to make room so far, for tests and logs. */
size_t throttle_count(const struct throttle *t);
size_t throttle_evicted(const struct throttle *t);

/*
 * The prefix an address is counted by: its /24 for IPv4 (an IPv4-mapped
 * IPv6 address too), its /64 for IPv6, the text itself if it is neither.
 */
void throttle_prefix(const char *ip, char out[THROTTLE_PREFIX_MAX]);

/* The delay before the answer to the n-th failure in a row. */
uint64_t throttle_delay_ms(unsigned failures, uint64_t base_ms);

#endif
