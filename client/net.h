/*
 * Socket helpers for the client core: an address lookup that does not
 * block the caller's event loop, and a non-blocking TCP connect.
 */
#ifndef MISSIVE_CLIENT_NET_H
#define MISSIVE_CLIENT_NET_H

#include <stddef.h>

#include <netdb.h>

/* Room for "ADDRESS port N" (and "HOST port N" with a DNS name). */
#define NET_ADDR_TEXT_MAX 300

struct net_lookup;

/*
 * Start looking up host and port (a decimal string) for TCP.  A numeric
 * address resolves at once: 0, *res set (freeaddrinfo() it), *lk NULL.  A
 * name is looked up on a thread: 0, *lk set, *res NULL; poll
 * net_lookup_fd(*lk) for POLLIN, then call net_lookup_done().  Errors:
 * E_NOMEM, E_INTERNAL (no thread), E_NOT_FOUND with *gai (an EAI_* code
 * for gai_strerror()).
 */
int net_lookup_start(const char *host, const char *port,
    struct net_lookup **lk, struct addrinfo **res, int *gai)
    __attribute__((warn_unused_result));

/* The fd that becomes readable when the lookup has finished. */
int net_lookup_fd(const struct net_lookup *lk);

/*
 * Take the result: E_INCOMPLETE if the lookup is still running (lk stays
 * valid); otherwise lk is freed and the result is 0 with *res, or
 * E_NOT_FOUND with *gai.
 */
int net_lookup_done(struct net_lookup *lk, struct addrinfo **res, int *gai)
    __attribute__((warn_unused_result));

/*
 * Abandon a lookup (lk is invalid afterwards); its thread frees what is
 * left when getaddrinfo() returns.
 */
void net_lookup_cancel(struct net_lookup *lk);

/*
 * Open a non-blocking TCP socket to ai and start connecting: 0 (connected
 * already) or E_INCOMPLETE (wait for POLLOUT, then net_connect_result()),
 * with *fd set; or E_IO with errno set and no fd left open.
 */
int net_connect(const struct addrinfo *ai, int *fd)
    __attribute__((warn_unused_result));

/* The outcome of a connect in progress: 0, or E_IO with errno set. */
int net_connect_result(int fd) __attribute__((warn_unused_result));

/* "ADDRESS port N" for ai, for messages. */
void net_addr_text(const struct addrinfo *ai, char *out, size_t len);

#endif
