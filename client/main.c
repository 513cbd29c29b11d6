/*
 * missive: the missive client.
 *
 *   missive [-c FOLDER/client.conf] --check
 *
 * Loads the client folder (config, the user's key pair, the pinned server
 * key) and prints what it holds.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/config.h"
#include "common/err.h"
#include "keydist/keys.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: missive [-c FOLDER/client.conf] --check\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = "client.conf";
	struct client_config cfg;
	EVP_PKEY *key = NULL, *server = NULL;
	char err[512], fp[KD_FP_SIZE], sfp[KD_FP_SIZE];
	int ch, check = 0, r, status = 1;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch == 'c')
			conf = optarg;
		else if (ch == 'k')
			check = 1;
		else
			usage();
	}
	if (optind != argc || !check)
		usage();
	if (client_config_load(conf, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "missive: %s\n", err);
		return 2;
	}
	if ((r = kd_key_read_private(cfg.private_key, &key)) != 0 ||
	    (r = kd_fingerprint(key, fp)) != 0) {
		fprintf(stderr, "missive: your key %s: %s\n", cfg.private_key,
		    err_str(r));
		goto out;
	}
	if ((r = kd_key_read_public(cfg.server_key, &server)) != 0 ||
	    (r = kd_fingerprint(server, sfp)) != 0) {
		fprintf(stderr, "missive: server key %s: %s\n", cfg.server_key,
		    err_str(r));
		goto out;
	}
	printf("user %s\nyour key %s\nserver %s port %lld, pinned key %s\n",
	    cfg.user, fp, cfg.server_host, cfg.server_port, sfp);
	status = 0;
out:
	EVP_PKEY_free(key);
	EVP_PKEY_free(server);
	client_config_free(&cfg);
	return status;
}
