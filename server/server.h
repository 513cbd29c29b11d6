/*
 * missived's relay: one epoll loop on the calling thread, a worker pool
 * for the slow work.  server_run() returns after SIGTERM or SIGINT, once
 * every connection has been sent a shutdown notice and closed.
 */
#ifndef MISSIVE_SERVER_H
#define MISSIVE_SERVER_H

#include <openssl/evp.h>

#include "server/config.h"

struct server;

/*
 * Bind the listening socket, block the signals the loop handles, start the
 * workers.  key: the server's private key (borrowed, outlives the server).
 * E_IO (with a log line saying why), E_NOMEM, E_INTERNAL.
 */
int server_new(const struct server_config *cfg, EVP_PKEY *key,
    struct server **out) __attribute__((warn_unused_result));

/* Serve until SIGTERM or SIGINT.  0 after a clean shutdown. */
int server_run(struct server *s) __attribute__((warn_unused_result));

void server_free(struct server *s);

#endif
