/*
 * The server's configuration (missived, missive-admin), read from a
 * libconfig file such as conf/server.conf, which documents every setting
 * with its unit, range and default.  Relative paths in the file are
 * resolved against the file's own directory; every path below is absolute
 * after a successful load.
 */
#ifndef MISSIVE_SERVER_CONFIG_H
#define MISSIVE_SERVER_CONFIG_H

#include <stddef.h>

struct server_config {
	char *listen_address;		/* address to bind, "0.0.0.0" */
	long long listen_port;		/* TCP port, 7777 */

	char *private_key;		/* PEM RSA private key (path) */
	char *public_key;		/* PEM RSA public key (path) */

	char *db_socket;		/* MariaDB unix socket (path) or NULL;
					   when set it is used and db_host and
					   db_port are ignored */
	char *db_host;			/* MariaDB host for TCP, or NULL */
	long long db_port;		/* MariaDB TCP port, 3306 */
	char *db_name;			/* database, "missive" */
	char *db_user;			/* the server's least-privilege account,
					   "missived" */
	char *db_password_file;		/* its password, first line (path) */
	char *db_admin_user;		/* account of missive-admin and
					   missive-keys, "missive_admin" */
	char *db_admin_password_file;	/* its password, first line (path) */

	long long workers;		/* threads for slow work (Argon2id,
					   RSA, MariaDB); 0: one per core */

	long long max_clients;		/* connections at once */
	long long max_frame;		/* largest frame in bytes, either way */
	long long handshake_timeout;	/* seconds to finish the handshake
					   and login */
	long long idle_timeout;		/* seconds without a byte from the
					   peer before a drop; 0 = never */
	long long keepalive_interval;	/* seconds between pings to an idle
					   peer; 0 = none */
	long long conn_rate_per_addr;	/* new connections per source address
					   per minute; 0 = unlimited */
	long long output_queue_max;	/* bytes queued to one slow client
					   before it is dropped */
	long long max_rooms_per_client;	/* rooms one user may be in */
	long long max_room_members;	/* users in one room */
	long long max_rooms;		/* rooms on the server */

	long long retention_days;	/* a stored row older than this is
					   removed (the device is told) */
	long long max_rows_per_device;	/* a device's oldest rows go beyond
					   this many */
	long long purge_interval;	/* seconds between purges */

	long long login_fail_delay_ms;	/* delay before a "login failed"
					   answer, milliseconds */
	long long login_lock_after;	/* failures in a row that lock an
					   account (and an address) */
	long long login_lock_seconds;	/* how long such a lock lasts */

	char *log_file;			/* path to append to; NULL = stderr */
	int log_quiet;			/* only warnings and errors */
};

/*
 * Load file into cfg (every field is overwritten).  Returns 0, or
 * E_CONFIG, E_IO or E_NOMEM with a one-line message in err; on error no
 * string in cfg is left allocated.
 */
int server_config_load(const char *file, struct server_config *cfg,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* Free cfg's strings and set them to NULL; cfg may then be loaded again. */
void server_config_free(struct server_config *cfg);

#endif
