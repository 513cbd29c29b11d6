/*
 * What the admin tools (missive-admin, missive-keys) share: finding the
 * server configuration and opening the database with the admin account.
 */
#ifndef MISSIVE_ADMIN_H
#define MISSIVE_ADMIN_H

#include "common/db.h"
#include "server/config.h"

/* The server config path: -c, else $MISSIVE_SERVER_CONF, else the installed one. */
const char *admin_config_path(const char *given);

/*
 * Load the server config at path and connect as its admin account.
 * Errors are printed on stderr, prefixed with prog.  0 or an error code.
 */
int admin_open(const char *prog, const char *path, struct server_config *cfg,
    struct db **db) __attribute__((warn_unused_result));

/* Fill p for the given account of cfg's database. */
void admin_db_params(const struct server_config *cfg, const char *user,
    const char *password_file, struct db_params *p);

#endif
