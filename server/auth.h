/*
 * The slow steps of a session, run on worker threads (server/worker.h):
 * opening the client's KeyExchange (one RSA private-key operation),
 * checking a login against MariaDB (one Argon2id verification) and
 * loading the snapshot of enrolled keys (server/enrolled.h).  Each
 * worker thread has its own database connection, opened at start and
 * reopened after an outage, at most once a second.  Nothing here touches
 * a connection or logs: results go back to the loop thread.
 */
#ifndef MISSIVE_AUTH_H
#define MISSIVE_AUTH_H

#include <stddef.h>

#include "common/db.h"
#include "common/proto.h"
#include "common/text.h"
#include "keydist/handshake.h"
#include "server/enrolled.h"

struct auth_settings {
	struct db_params db;
	unsigned lock_after;         /* failures in a row that lock */
	unsigned lock_seconds;       /* for this long */
};

/* worker_pool_start() callbacks; arg is a const struct auth_settings *. */
void *auth_thread_init(void *arg);
void auth_thread_fini(void *wctx);

/* The worker's own MariaDB connection, (re)opened if it is time to try;
   NULL while the database cannot be reached. */
struct db *auth_thread_db(void *wctx);

/* After a failed statement: drop the connection (the next job opens a
   fresh one).  E_DB_UNAVAILABLE. */
int auth_thread_db_failed(void *wctx);

/*
 * Take the KeyExchange line (kd_hs_server_keyx()) and find the user the
 * client key is enrolled for: *owner_r is 0 with owner set, E_NOT_FOUND
 * (not enrolled or revoked) or E_DB_UNAVAILABLE (decide at login).
 * Returns the handshake's error, if any.
 */
int auth_handshake(void *wctx, struct kd_hs *hs, const char *kx, size_t len,
    int *owner_r, char owner[NAME_USER_MAX + 1]);

/*
 * A fresh snapshot of the enrolled keys into *out (empty on entry): 0,
 * E_DB_UNAVAILABLE or E_NOMEM (*out is then empty).
 */
int auth_enrolled(void *wctx, struct enrolled *out);

/*
 * Check user/password (the client's login secret, keydist/login.h: its
 * Argon2id hash is what the account stores) and that the session's client
 * key (fingerprint fp) is enrolled for that user: PROTO_LOGIN_OK, and nick
 * holds the nickname; PROTO_LOGIN_INVALID (no such user, a wrong secret or
 * one not shaped as a login secret, or the wrong key),
 * PROTO_LOGIN_LOCKED (locked in the database), PROTO_LOGIN_DISABLED
 * (right password and key, disabled account), PROTO_LOGIN_UNAVAILABLE
 * (the database cannot be reached).  A
 * failure for an existing account counts in the database (and locks it
 * after lock_after in a row); a success clears the count.
 */
enum proto_login auth_login(void *wctx, const char *user,
    const char *password, size_t pwlen, const char *fp,
    char nick[NAME_NICK_MAX * 4 + 1]);

#endif
