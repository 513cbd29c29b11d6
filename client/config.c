#include "client/config.h"

#include <stddef.h>

#include "common/cfg.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/text.h"

#define HOST_MAX	253		/* longest DNS name */
#define PATH_LEN_MAX	4095

#define F(field)	offsetof(struct client_config, field)

/*
 * Defaults and ranges; conf/client.conf documents the same in place.
 * "user" comes first so that an empty file names it as what is missing.
 */
static const struct cfg_field client_fields[] = {
	{ "user", CFG_STRING, 1, 1, NAME_USER_MAX, 0, NULL,
	    F(user), "the account this folder belongs to" },
	{ "server.host", CFG_STRING, 1, 1, HOST_MAX, 0, NULL,
	    F(server_host), "name or address of the missive server" },
	{ "server.port", CFG_INT, 0, 1, 65535, 7777, NULL,
	    F(server_port), "TCP port of the missive server" },

	{ "keys.private", CFG_PATH, 0, 1, PATH_LEN_MAX, 0, "user.key",
	    F(private_key), "the user's RSA private key" },
	{ "keys.public", CFG_PATH, 0, 1, PATH_LEN_MAX, 0, "user.pub",
	    F(public_key), "the user's RSA public key" },
	{ "keys.server", CFG_PATH, 0, 1, PATH_LEN_MAX, 0, "server.pub",
	    F(server_key), "the server's pinned public key" },
	{ "known_keys", CFG_PATH, 0, 1, PATH_LEN_MAX, 0, "known_keys",
	    F(known_keys), "the peer keys this folder has pinned" },
	{ "history", CFG_PATH, 0, 1, PATH_LEN_MAX, 0, "history",
	    F(history), "the folder's encrypted message history" },

	{ "reconnect.min_ms", CFG_INT, 0, 10, 600000, 500, NULL,
	    F(reconnect_min_ms), "first reconnect delay in milliseconds" },
	{ "reconnect.max_ms", CFG_INT, 0, 0, 3600000, 30000, NULL,
	    F(reconnect_max_ms), "longest reconnect delay, 0 = never" },

	{ "keepalive_interval", CFG_INT, 0, 0, 3600, 30, NULL,
	    F(keepalive_interval), "seconds between keepalive pings" },
	{ "max_frame", CFG_INT, 0, FRAME_MAX_FRAME_MIN, FRAME_MAX_FRAME_MAX, 65536,
	    NULL, F(max_frame), "largest frame in bytes" },
};

#define NFIELDS (sizeof(client_fields) / sizeof(client_fields[0]))

void
client_config_free(struct client_config *cfg)
{
	cfg_free(client_fields, NFIELDS, cfg);
}

/* Rules that tie settings together or go beyond a length range. */
static int
client_config_check(const char *file, const void *out, char *err,
    size_t errlen)
{
	const struct client_config *cfg = out;

	if (name_check_user(cfg->user) != 0) {
		cfg_error(err, errlen, "%s: 'user' is not a valid user name "
		    "(lowercase letters, digits, '.', '_', '-', starting with "
		    "a letter or digit)", file);
		return E_CONFIG;
	}
	if (cfg->reconnect_max_ms != 0 &&
	    cfg->reconnect_max_ms < cfg->reconnect_min_ms) {
		cfg_error(err, errlen, "%s: 'reconnect.max_ms' (%lld) must be "
		    "0 or at least 'reconnect.min_ms' (%lld)", file,
		    cfg->reconnect_max_ms, cfg->reconnect_min_ms);
		return E_CONFIG;
	}
	return 0;
}

int
client_config_load(const char *file, struct client_config *cfg, char *err,
    size_t errlen)
{
	return cfg_load(file, client_fields, NFIELDS, cfg, client_config_check,
	    err, errlen);
}
