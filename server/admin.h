/*
 * What the admin tools (missive-admin, missive-keys) share: finding the
 * server configuration, opening the database with the admin account, and
 * the login secret of a password.
 */
#ifndef MISSIVE_ADMIN_H
#define MISSIVE_ADMIN_H

#include "common/db.h"
#include "keydist/login.h"
#include "server/config.h"

/* The server config path: -c, else $MISSIVE_SERVER_CONF, else the installed one. */
const char *admin_config_path(const char *given);

/*
 * Load the server config at path and connect as its admin account.
 * Errors are printed on stderr, prefixed with prog.  0 or an error code.
 */
int admin_open(const char *prog, const char *path, struct server_config *cfg,
    struct db **db) __attribute__((warn_unused_result));

/*
 * The login secret (keydist/login.h) that user's clients derive from
 * password for the server of cfg, whose key the secret is bound to (read
 * from cfg's public_key).  What the account stores is its Argon2id hash.
 * Errors are printed on stderr, prefixed with prog.  0 or an error code.
 */
int admin_login_secret(const char *prog, const struct server_config *cfg,
    const char *user, const char *password, char out[KD_LOGIN_B64_LEN + 1])
    __attribute__((warn_unused_result));

/* Fill p for the given account of cfg's database. */
void admin_db_params(const struct server_config *cfg, const char *user,
    const char *password_file, struct db_params *p);

#endif
