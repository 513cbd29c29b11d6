#include "server/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "keydist/keys.h"

const char *
admin_config_path(const char *given)
{
	const char *env;

	if (given != NULL)
		return given;
	if ((env = getenv("MISSIVE_SERVER_CONF")) != NULL && *env != '\0')
		return env;
	return MISSIVE_SYSCONFDIR "/server.conf";
}

void
admin_db_params(const struct server_config *cfg, const char *user,
    const char *password_file, struct db_params *p)
{
	memset(p, 0, sizeof(*p));
	p->socket = cfg->db_socket;
	p->host = cfg->db_host;
	p->port = (unsigned)cfg->db_port;
	p->name = cfg->db_name;
	p->user = user;
	p->password_file = password_file;
}

int
admin_open(const char *prog, const char *path, struct server_config *cfg,
    struct db **db)
{
	struct db_params p;
	char err[512];
	int r;

	*db = NULL;
	if ((r = server_config_load(path, cfg, err, sizeof(err))) != 0) {
		(void)fprintf(stderr, "%s: %s\n", prog, err);
		return r;
	}
	admin_db_params(cfg, cfg->db_admin_user, cfg->db_admin_password_file, &p);
	if ((r = db_open(&p, db, err, sizeof(err))) != 0) {
		(void)fprintf(stderr, "%s: %s\n", prog, err);
		server_config_free(cfg);
	}
	return r;
}

int
admin_login_secret(const char *prog, const struct server_config *cfg,
    const char *user, const char *password, char out[KD_LOGIN_B64_LEN + 1])
{
	char fp[KD_FP_SIZE];
	EVP_PKEY *key = NULL;
	int r;

	if ((r = kd_key_read_public(cfg->public_key, &key)) != 0 ||
	    (r = kd_fingerprint(key, fp)) != 0) {
		(void)fprintf(stderr, "%s: the server key %s: %s (make it "
		    "first: missive-keys server-init)\n", prog, cfg->public_key,
		    err_str(r));
		EVP_PKEY_free(key);
		return r;
	}
	EVP_PKEY_free(key);
	if ((r = kd_login_secret(password, strlen(password), fp, user,
	    out)) != 0)
		(void)fprintf(stderr, "%s: deriving the login secret: %s\n",
		    prog, err_str(r));
	return r;
}
