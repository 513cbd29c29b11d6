/*
 * missive-admin: manage user accounts in MariaDB.
 *
 *   missive-admin [-c server.conf] useradd [--password-file F] USER NICKNAME
 *   missive-admin [-c server.conf] passwd [--password-file F] USER
 *   missive-admin [-c server.conf] disable USER
 *   missive-admin [-c server.conf] enable USER
 *   missive-admin [-c server.conf] list
 *   missive-admin [-c server.conf] revoke FINGERPRINT
 *   missive-admin [-c server.conf] check-password [--password-file F] USER
 *   missive-admin hash-password [--password-file F]
 *
 * Exit status: 0 done, 1 refused or failed (the reason on stderr),
 * 2 usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "server/accounts.h"
#include "common/err.h"
#include "common/secret.h"
#include "server/admin.h"

#define PROG "missive-admin"

static void __attribute__((noreturn))
usage(void)
{
	(void)fprintf(stderr,
	    "usage: " PROG " [-c server.conf] useradd [--password-file F] USER NICKNAME\n"
	    "       " PROG " [-c server.conf] passwd [--password-file F] USER\n"
	    "       " PROG " [-c server.conf] disable|enable USER\n"
	    "       " PROG " [-c server.conf] list\n"
	    "       " PROG " [-c server.conf] revoke FINGERPRINT\n"
	    "       " PROG " [-c server.conf] check-password [--password-file F] USER\n"
	    "       " PROG " hash-password [--password-file F]\n"
	    "User names: 1-%d of a-z 0-9 . _ - (starting with a letter or digit).\n"
	    "Nicknames: 1-%d bytes of UTF-8 without control characters or '|'.\n",
	    NAME_USER_MAX, NAME_NICK_MAX);
	exit(2);
}

/*
 * Ask for (or read) a new password and hash it into phc.  New passwords
 * must be at least PASSWD_MIN_LEN bytes; with only_warn (hash-password, whose
 * output goes into SQL scripts such as the demo seed) a shorter one is
 * hashed after a warning.
 */
static int
new_password_hash(const char *file, int only_warn, char phc[PASSWD_PHC_MAX])
{
	char *pw = NULL;
	int r;

	if ((r = secret_password(file, "New password: ", 1, &pw)) != 0) {
		if (r == E_PASSWORD)
			(void)fprintf(stderr,
			    PROG ": the passwords do not match\n");
		else if (file != NULL)
			(void)fprintf(stderr, PROG ": password file %s: %s%s\n",
			    file, err_str(r), r == E_KEY_PERM ?
			    " (chmod 600 it)" : "");
		else
			(void)fprintf(stderr,
			    PROG ": cannot read a password from "
			    "the terminal (%s); use --password-file\n",
			    err_str(r));
		return r;
	}
	if (strlen(pw) < PASSWD_MIN_LEN) {
		(void)fprintf(stderr, PROG ": %s password needs at least %d "
		    "characters\n", only_warn ? "warning: a real" : "a",
		    PASSWD_MIN_LEN);
		r = only_warn ? 0 : E_PASSWORD;
	}
	if (r == 0 && (r = passwd_hash(pw, strlen(pw), phc)) != 0)
		(void)fprintf(stderr, PROG ": hashing failed: %s\n",
		    err_str(r));
	secret_free(pw);
	return r;
}

/* Print the outcome of an account statement for user; 0 or 1 for exit(). */
static int
report(int r, const char *user, const char *done)
{
	switch (r) {
	case 0:
		printf("%s: %s\n", user, done);
		return 0;
	case E_BAD_NAME:
		(void)fprintf(stderr,
		    PROG ": invalid user name '%s': use 1-%d of "
		    "a-z 0-9 . _ -, starting with a letter or digit\n", user,
		    NAME_USER_MAX);
		break;
	case E_BAD_NICK:
		(void)fprintf(stderr,
		    PROG ": invalid nickname: use 1-%d bytes of "
		    "UTF-8 without control characters or '|'\n", NAME_NICK_MAX);
		break;
	case E_EXISTS:
		(void)fprintf(stderr, PROG ": user '%s' already exists\n",
		    user);
		break;
	case E_NOT_FOUND:
		(void)fprintf(stderr, PROG ": no user '%s'\n", user);
		break;
	default:
		(void)fprintf(stderr, PROG ": %s: %s\n", user, err_str(r));
	}
	return 1;
}

static int
print_account(void *arg, const struct account *a)
{
	char created[32];
	struct tm tm;
	time_t t = (time_t)a->created_at;

	(void)arg;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(created, sizeof(created), "?");
	printf("%-16s %-20s %-8s %5lld %4lld  %s\n", a->name, a->nick,
	    a->disabled ? "disabled" : "active", a->failed_logins, a->nkeys,
	    created);
	return 0;
}

static int
cmd_hash_password(const char *file)
{
	char phc[PASSWD_PHC_MAX];

	if (new_password_hash(file, 1, phc) != 0)
		return 1;
	printf("%s\n", phc);
	return 0;
}

/*
 * Tell whether a password matches the stored hash (exit 0) or not (1),
 * without touching the failed-login counters: for admins helping a user.
 */
static int
cmd_check_password(struct db *db, const char *user, const char *file)
{
	struct account acc;
	char *pw = NULL;
	int r;

	if ((r = accounts_get(db, user, &acc)) != 0)
		return report(r, user, "");
	if ((r = secret_password(file, "Password: ", 0, &pw)) != 0) {
		(void)fprintf(stderr, PROG ": cannot read the password: %s\n",
		    err_str(r));
	} else if ((r = passwd_verify(acc.phc, pw, strlen(pw))) == 0) {
		printf("%s: password matches\n", user);
	} else {
		printf("%s: password does not match%s\n", user,
		    r == E_MALFORMED ? " (stored hash is not valid Argon2id)" :
		    "");
	}
	secret_free(pw);
	OPENSSL_cleanse(&acc, sizeof(acc));
	return r == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = NULL, *pwfile = NULL, *cmd;
	struct server_config cfg;
	struct db *db;
	char phc[PASSWD_PHC_MAX];
	int ch, r, status = 1;

	while ((ch = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		if (ch == 'c')
			conf = optarg;
		else
			usage();
	}
	if (optind >= argc)
		usage();
	cmd = argv[optind];
	/* Options may follow the command: "useradd --password-file F U N". */
	optind++;
	while ((ch = getopt_long(argc, argv, "+p:h", longopts, NULL)) != -1) {
		if (ch == 'p')
			pwfile = optarg;
		else
			usage();
	}
	argc -= optind;
	argv += optind;

	if (strcmp(cmd, "hash-password") == 0) {
		if (argc != 0)
			usage();
		return cmd_hash_password(pwfile);
	}
	if (!((strcmp(cmd, "useradd") == 0 && argc == 2) ||
	    (strcmp(cmd, "passwd") == 0 && argc == 1) ||
	    (strcmp(cmd, "disable") == 0 && argc == 1) ||
	    (strcmp(cmd, "enable") == 0 && argc == 1) ||
	    (strcmp(cmd, "check-password") == 0 && argc == 1) ||
	    (strcmp(cmd, "revoke") == 0 && argc == 1) ||
	    (strcmp(cmd, "list") == 0 && argc == 0)))
		usage();
	/* Check names before asking for a password or touching the DB. */
	if (argc > 0 && strcmp(cmd, "useradd") == 0 &&
	    ((r = name_check_user(argv[0])) != 0 ||
	    (r = name_check_nick(argv[1])) != 0))
		return report(r, argv[0], "");

	if (admin_open(PROG, admin_config_path(conf), &cfg, &db) != 0)
		return 1;
	if (strcmp(cmd, "list") == 0) {
		printf("%-16s %-20s %-8s %5s %4s  %s\n", "USER", "NICKNAME",
		    "STATE", "FAILS", "KEYS", "CREATED");
		r = accounts_list(db, print_account, NULL);
		status = r == 0 ? 0 : report(r, "list", "");
	} else if (strcmp(cmd, "disable") == 0 || strcmp(cmd, "enable") == 0) {
		int off = strcmp(cmd, "disable") == 0;

		r = accounts_set_disabled(db, argv[0], off);
		status = report(r, argv[0], off ? "disabled" : "enabled");
	} else if (strcmp(cmd, "check-password") == 0) {
		status = cmd_check_password(db, argv[0], pwfile);
	} else if (strcmp(cmd, "revoke") == 0) {
		r = accounts_revoke_key(db, argv[0]);
		if (r == E_NOT_FOUND) {
			(void)fprintf(stderr, PROG ": no enrolled key %s\n",
			    argv[0]);
			status = 1;
		} else
			status = report(r, argv[0], "revoked; refused from "
			    "the next connection");
	} else {
		int add = strcmp(cmd, "useradd") == 0;
		struct account acc;

		/* Refuse a duplicate or a missing user before asking. */
		r = accounts_get(db, argv[0], &acc);
		if (add && r == 0)
			status = report(E_EXISTS, argv[0], "");
		else if (r != 0 && !(add && r == E_NOT_FOUND))
			status = report(r, argv[0], "");
		else if (new_password_hash(pwfile, 0, phc) != 0)
			status = 1;
		else if (add)
			status = report(accounts_add(db, argv[0], argv[1], phc),
			    argv[0], "created");
		else
			status = report(accounts_set_password(db, argv[0], phc),
			    argv[0], "password changed");
		OPENSSL_cleanse(&acc, sizeof(acc));
	}
	db_close(db);
	server_config_free(&cfg);
	return status;
}
