/*
 * missived: the missive server.
 *
 *   missived [-c server.conf] [--log FILE] [--quiet] [--check]
 *
 * Loads and validates the configuration, the server key pair, the
 * database account and the schema version, and reports each step.
 * --check stops there with status 0 when everything is usable, so an
 * admin can validate a change before restarting the server.  Otherwise it
 * serves until SIGTERM or SIGINT (exit 0); SIGHUP reopens the log file.
 *
 * The database must be there at start: the rooms and their members are
 * loaded from it.  Once the server runs, an outage is waited out (logins
 * answer "unavailable", lines are refused with 1021|unavailable).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/err.h"
#include "common/log.h"
#include "keydist/keys.h"
#include "server/admin.h"
#include "server/config.h"
#include "server/server.h"
#include "server/storage.h"

static void __attribute__((noreturn))
usage(void)
{
	(void)fprintf(stderr, "usage: missived [-c server.conf] [--log FILE] "
	    "[--quiet] [--check]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "check", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = NULL, *logfile = NULL;
	struct server_config cfg;
	struct db_params dbp;
	struct db *db = NULL;
	struct server *srv = NULL;
	EVP_PKEY *key = NULL;
	char err[512], fp[KD_FP_SIZE];
	int ch, quiet = 0, check = 0, r, status = 1;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'k':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	conf = admin_config_path(conf);
	if (server_config_load(conf, &cfg, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "missived: %s\n", err);
		return 1;
	}
	if (log_open(logfile ? logfile : cfg.log_file,
	    quiet || cfg.log_quiet) != 0) {
		(void)fprintf(stderr, "missived: cannot open log %s\n",
		    logfile ? logfile : cfg.log_file);
		goto out;
	}
	log_info("config %s loaded", conf);
	if ((r = kd_key_read_private(cfg.private_key, &key)) != 0 ||
	    (r = kd_fingerprint(key, fp)) != 0) {
		log_error("server key %s: %s", cfg.private_key, err_str(r));
		goto out;
	}
	log_info("server key %s (RSA-%d)", fp, EVP_PKEY_get_bits(key));
	admin_db_params(&cfg, cfg.db_user, cfg.db_password_file, &dbp);
	/* Rooms and their members are loaded from it: needed at start. */
	if (db_open(&dbp, &db, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	log_info("database '%s' reachable as '%s'", cfg.db_name, cfg.db_user);
	if (storage_schema_check(db, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	log_info("database schema at version %d", MISSIVE_SCHEMA_VERSION);
	db_close(db);
	db = NULL;
	if (check) {
		status = 0;
		goto out;
	}
	if (server_new(&cfg, key, &srv) != 0)
		goto out;
	if (server_run(srv) == 0)
		status = 0;
	log_info("stopped");
out:
	server_free(srv);
	db_close(db);
	EVP_PKEY_free(key);
	server_config_free(&cfg);
	log_close();
	return status;
}
