#include "server/config.h"

#include <stddef.h>

#include "common/cfg.h"
#include "common/err.h"
#include "common/frame.h"

#define HOST_MAX	253		/* longest DNS name */
#define PATH_LEN_MAX	4095
#define DB_NAME_MAX	64		/* MariaDB identifier limit */
#define DB_USER_MAX	80		/* MariaDB user name limit */

#define F(field)	offsetof(struct server_config, field)

/* Defaults and ranges; conf/server.conf documents the same in place. */
static const struct cfg_field server_fields[] = {
	{ "listen.address", CFG_STRING, 0, 1, HOST_MAX, 0, "0.0.0.0",
	    F(listen_address), "address to listen on" },
	{ "listen.port", CFG_INT, 0, 1, 65535, 7777, NULL,
	    F(listen_port), "TCP port to listen on" },

	{ "keys.private", CFG_PATH, 0, 1, PATH_LEN_MAX, 0, "server.key",
	    F(private_key), "server's RSA private key" },
	{ "keys.public", CFG_PATH, 0, 1, PATH_LEN_MAX, 0, "server.pub",
	    F(public_key), "server's RSA public key" },

	{ "database.socket", CFG_PATH, 0, 1, PATH_LEN_MAX, 0, NULL,
	    F(db_socket), "MariaDB unix socket" },
	{ "database.host", CFG_STRING, 0, 1, HOST_MAX, 0, NULL,
	    F(db_host), "MariaDB host" },
	{ "database.port", CFG_INT, 0, 1, 65535, 3306, NULL,
	    F(db_port), "MariaDB TCP port" },
	{ "database.name", CFG_STRING, 0, 1, DB_NAME_MAX, 0, "missive",
	    F(db_name), "database name" },
	{ "database.user", CFG_STRING, 0, 1, DB_USER_MAX, 0, "missived",
	    F(db_user), "the server's database account" },
	{ "database.password_file", CFG_PATH, 1, 1, PATH_LEN_MAX, 0, NULL,
	    F(db_password_file),
	    "file whose first line is the password of database.user" },
	{ "database.admin_user", CFG_STRING, 0, 1, DB_USER_MAX, 0,
	    "missive_admin", F(db_admin_user),
	    "database account of missive-admin" },
	{ "database.admin_password_file", CFG_PATH, 1, 1, PATH_LEN_MAX, 0,
	    NULL, F(db_admin_password_file),
	    "file whose first line is the password of database.admin_user" },

	{ "workers", CFG_INT, 0, 0, 256, 0, NULL,
	    F(workers), "event-loop threads, 0 = one per core" },

	{ "limits.max_clients", CFG_INT, 0, 1, 1000000, 10000, NULL,
	    F(max_clients), "connections at once" },
	{ "limits.max_frame", CFG_INT, 0, FRAME_MAX_FRAME_MIN, FRAME_MAX_FRAME_MAX,
	    65536, NULL, F(max_frame), "largest frame in bytes" },
	{ "limits.handshake_timeout", CFG_INT, 0, 1, 300, 10, NULL,
	    F(handshake_timeout), "seconds to complete the handshake" },
	{ "limits.idle_timeout", CFG_INT, 0, 0, 86400, 90, NULL,
	    F(idle_timeout), "seconds of silence before a drop" },
	{ "limits.keepalive_interval", CFG_INT, 0, 0, 3600, 30, NULL,
	    F(keepalive_interval), "seconds between keepalive pings" },
	{ "limits.conn_rate_per_addr", CFG_INT, 0, 0, 100000, 60, NULL,
	    F(conn_rate_per_addr), "new connections per /24 or /64 per minute" },
	{ "limits.output_queue_max", CFG_INT, 0, 4096, 1LL << 30, 1LL << 20,
	    NULL, F(output_queue_max), "bytes queued to one client" },
	{ "limits.max_rooms_per_client", CFG_INT, 0, 1, 1024, 16, NULL,
	    F(max_rooms_per_client), "rooms one user may be in" },
	{ "limits.max_room_members", CFG_INT, 0, 2, 1000000, 10000, NULL,
	    F(max_room_members), "users in one room" },
	{ "limits.max_rooms", CFG_INT, 0, 1, 1000000, 1000, NULL,
	    F(max_rooms), "rooms on the server" },

	{ "delivery.retention_days", CFG_INT, 0, 1, 3650, 30, NULL,
	    F(retention_days), "days a stored row waits for its device" },
	{ "delivery.max_rows_per_device", CFG_INT, 0, 10, 100000000, 100000,
	    NULL, F(max_rows_per_device), "rows kept for one device" },
	{ "delivery.purge_interval", CFG_INT, 0, 1, 86400, 60, NULL,
	    F(purge_interval), "seconds between purges of old rows" },

	{ "login.fail_delay_ms", CFG_INT, 0, 0, 10000, 500, NULL,
	    F(login_fail_delay_ms), "milliseconds before a failure answer" },
	{ "login.lock_after", CFG_INT, 0, 1, 1000, 5, NULL,
	    F(login_lock_after), "failures that lock an account" },
	{ "login.lock_seconds", CFG_INT, 0, 1, 86400, 300, NULL,
	    F(login_lock_seconds), "seconds a lock lasts" },

	{ "log.file", CFG_PATH, 0, 1, PATH_LEN_MAX, 0, NULL,
	    F(log_file), "log file, stderr if unset" },
	{ "log.quiet", CFG_BOOL, 0, 0, 1, 0, NULL,
	    F(log_quiet), "log only warnings and errors" },
};

#define NFIELDS (sizeof(server_fields) / sizeof(server_fields[0]))

void
server_config_free(struct server_config *cfg)
{
	cfg_free(server_fields, NFIELDS, cfg);
}

/* Rules that tie settings together; the table cannot say these. */
static int
server_config_check(const char *file, const void *out, char *err,
    size_t errlen)
{
	const struct server_config *cfg = out;

	if (cfg->db_socket == NULL && cfg->db_host == NULL) {
		cfg_error(err, errlen, "%s: database: set socket or host",
		    file);
		return E_CONFIG;
	}
	if (cfg->idle_timeout != 0 && cfg->keepalive_interval != 0 &&
	    cfg->idle_timeout <= cfg->keepalive_interval) {
		cfg_error(err, errlen, "%s: 'limits.idle_timeout' (%lld) must "
		    "be greater than 'limits.keepalive_interval' (%lld)", file,
		    cfg->idle_timeout, cfg->keepalive_interval);
		return E_CONFIG;
	}
	if (cfg->output_queue_max < 2 * cfg->max_frame) {
		cfg_error(err, errlen, "%s: 'limits.output_queue_max' (%lld) "
		    "must be at least twice 'limits.max_frame' (%lld)", file,
		    cfg->output_queue_max, cfg->max_frame);
		return E_CONFIG;
	}
	return 0;
}

int
server_config_load(const char *file, struct server_config *cfg, char *err,
    size_t errlen)
{
	return cfg_load(file, server_fields, NFIELDS, cfg, server_config_check,
	    err, errlen);
}
