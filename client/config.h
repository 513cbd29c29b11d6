/*
 * A client folder's configuration, read from a libconfig file such as
 * conf/client.conf, which documents every setting with its unit, range and
 * default.  Paths are resolved against the directory of the file, so a
 * folder (config, keys, the server's pinned key, the pinned peer keys) can
 * be copied anywhere; every path below is absolute after a successful load.
 */
#ifndef MISSIVE_CLIENT_CONFIG_H
#define MISSIVE_CLIENT_CONFIG_H

#include <stddef.h>

struct client_config {
	char *server_host;		/* name or address of the server */
	long long server_port;		/* its TCP port, 7777 */
	char *user;			/* the account this folder belongs to;
					   a valid user name (common/text.h) */
	char *private_key;		/* the user's RSA private key (path) */
	char *public_key;		/* the user's RSA public key (path) */
	char *server_key;		/* server's pinned public key (path) */
	char *known_keys;		/* pinned peer keys (path, trust.h) */
	char *history;			/* the sealed history (path,
					   history.h) */
	long long reconnect_min_ms;	/* first reconnect delay, doubled on
					   each failure */
	long long reconnect_max_ms;	/* cap on that delay; 0 = do not
					   reconnect */
	long long keepalive_interval;	/* seconds between pings; 0 = none */
	long long max_frame;		/* largest frame in bytes, either way */
};

/*
 * Load file into cfg (every field is overwritten).  Returns 0, or
 * E_CONFIG, E_IO or E_NOMEM with a one-line message in err; on error no
 * string in cfg is left allocated.
 */
int client_config_load(const char *file, struct client_config *cfg,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* Free cfg's strings and set them to NULL; cfg may then be loaded again. */
void client_config_free(struct client_config *cfg);

#endif
