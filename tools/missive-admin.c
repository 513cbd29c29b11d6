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
 *   missive-admin [-c server.conf] hash-password [--password-file F] USER
 *
 * Passwords never reach the server: clients send a login secret derived
 * from the password, the user name and the server key (keydist/login.h),
 * and the accounts store an Argon2id hash of that secret.  So every
 * command that sets or checks a password derives the same secret, with
 * the server key named by server.conf.
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
#include "tools/subcommand.h"

#define PROG "missive-admin"

/* The command line's options: -c before the command, --password-file after. */
static struct {
	const char *config;
	const char *password_file;
} opt;

/*
 * The admin connection to MariaDB, opened by the commands that use it once
 * their operands are checked, closed by main.
 */
static struct server_config config;
static int have_config;
static struct db *db;

static void usage(void) __attribute__((noreturn));

/* Open the admin connection: 0, or 1 (the reason on stderr). */
static int
open_database(void)
{
	if (admin_open(PROG, admin_config_path(opt.config), &config, &db) != 0)
		return 1;
	have_config = 1;
	return 0;
}

/* The config alone (hash-password needs the server key, not the DB). */
static int
load_config(void)
{
	char err[512];

	if (server_config_load(admin_config_path(opt.config), &config, err,
	    sizeof(err)) != 0) {
		(void)fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	have_config = 1;
	return 0;
}

/* The Argon2id hash of user's login secret for password into phc. */
static int
login_hash(const char *user, const char *password, char phc[PASSWD_PHC_MAX])
{
	char secret[KD_LOGIN_B64_LEN + 1];
	int r;

	if ((r = admin_login_secret(PROG, &config, user, password,
	    secret)) != 0)
		return r;
	if ((r = passwd_hash(secret, KD_LOGIN_B64_LEN, phc)) != 0)
		(void)fprintf(stderr, PROG ": hashing failed: %s\n",
		    err_str(r));
	OPENSSL_cleanse(secret, sizeof(secret));
	return r;
}

/*
 * Ask for (or read) a new password of user and hash its login secret into
 * phc.  New passwords
 * must be at least PASSWD_MIN_LEN bytes; with only_warn (hash-password, whose
 * output goes into SQL scripts such as the demo seed) a shorter one is
 * hashed after a warning.
 */
static int
new_password_hash(const char *file, int only_warn, const char *user,
    char phc[PASSWD_PHC_MAX])
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
	if (r == 0)
		r = login_hash(user, pw, phc);
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

/*
 * useradd (exists 0) and passwd (exists 1): refuse a duplicate or a missing
 * user before asking for the new password, then hash it into phc.  0, or 1
 * (the reason on stderr).
 */
static int
new_account_password(const char *user, int exists, char phc[PASSWD_PHC_MAX])
{
	struct account acc;
	int r, status = 0;

	r = accounts_get(db, user, &acc);
	if (!exists && r == 0)
		status = report(E_EXISTS, user, "");
	else if (r != 0 && (exists || r != E_NOT_FOUND))
		status = report(r, user, "");
	else if (new_password_hash(opt.password_file, 0, user, phc) != 0)
		status = 1;
	OPENSSL_cleanse(&acc, sizeof(acc));
	return status;
}

static int
cmd_useradd(int argc, char *argv[])
{
	char phc[PASSWD_PHC_MAX];
	int r;

	if (argc != 2)
		usage();
	/* Check names before asking for a password or touching the DB. */
	if ((r = name_check_user(argv[0])) != 0 ||
	    (r = name_check_nick(argv[1])) != 0)
		return report(r, argv[0], "");
	if (open_database() != 0 || new_account_password(argv[0], 0, phc) != 0)
		return 1;
	return report(accounts_add(db, argv[0], argv[1], phc), argv[0],
	    "created");
}

static int
cmd_passwd(int argc, char *argv[])
{
	char phc[PASSWD_PHC_MAX];

	if (argc != 1)
		usage();
	if (open_database() != 0 || new_account_password(argv[0], 1, phc) != 0)
		return 1;
	return report(accounts_set_password(db, argv[0], phc), argv[0],
	    "password changed");
}

static int
set_disabled(int argc, char *argv[], int off)
{
	if (argc != 1)
		usage();
	if (open_database() != 0)
		return 1;
	return report(accounts_set_disabled(db, argv[0], off), argv[0],
	    off ? "disabled" : "enabled");
}

static int
cmd_disable(int argc, char *argv[])
{
	return set_disabled(argc, argv, 1);
}

static int
cmd_enable(int argc, char *argv[])
{
	return set_disabled(argc, argv, 0);
}

static int
cmd_list(int argc, char *argv[])
{
	int r;

	if (argc != 0)
		usage();
	if (open_database() != 0)
		return 1;
	printf("%-16s %-20s %-8s %5s %4s  %s\n", "USER", "NICKNAME", "STATE",
	    "FAILS", "KEYS", "CREATED");
	r = accounts_list(db, print_account, NULL);
	return r == 0 ? 0 : report(r, "list", "");
}

static int
cmd_revoke(int argc, char *argv[])
{
	int r;

	if (argc != 1)
		usage();
	if (open_database() != 0)
		return 1;
	if ((r = accounts_revoke_key(db, argv[0])) == E_NOT_FOUND) {
		(void)fprintf(stderr, PROG ": no enrolled key %s\n", argv[0]);
		return 1;
	}
	return report(r, argv[0], "revoked; refused from the next connection");
}

/*
 * Tell whether a password matches the stored hash (exit 0) or not (1),
 * without touching the failed-login counters: for admins helping a user.
 */
static int
cmd_check_password(int argc, char *argv[])
{
	char secret[KD_LOGIN_B64_LEN + 1];
	struct account acc;
	char *pw = NULL;
	int r;

	if (argc != 1)
		usage();
	if (open_database() != 0)
		return 1;
	if ((r = accounts_get(db, argv[0], &acc)) != 0)
		return report(r, argv[0], "");
	if ((r = secret_password(opt.password_file, "Password: ", 0,
	    &pw)) != 0) {
		(void)fprintf(stderr, PROG ": cannot read the password: %s\n",
		    err_str(r));
	} else if ((r = admin_login_secret(PROG, &config, argv[0], pw,
	    secret)) != 0) {
		/* reported */
	} else if ((r = passwd_verify(acc.phc, secret,
	    KD_LOGIN_B64_LEN)) == 0) {
		printf("%s: password matches\n", argv[0]);
	} else {
		printf("%s: password does not match%s\n", argv[0],
		    r == E_MALFORMED ? " (stored hash is not valid Argon2id)" :
		    "");
	}
	secret_free(pw);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(&acc, sizeof(acc));
	return r == 0 ? 0 : 1;
}

static int
cmd_hash_password(int argc, char *argv[])
{
	char phc[PASSWD_PHC_MAX];

	if (argc != 1)
		usage();
	if (name_check_user(argv[0]) != 0)
		return report(E_BAD_NAME, argv[0], "");
	if (load_config() != 0 ||
	    new_password_hash(opt.password_file, 1, argv[0], phc) != 0)
		return 1;
	printf("%s\n", phc);
	return 0;
}

static const struct subcommand subcommands[] = {
	{ "useradd", cmd_useradd, "[--password-file F] USER NICKNAME",
	    "create an account (the password asked twice, or read from F)" },
	{ "passwd", cmd_passwd, "[--password-file F] USER",
	    "set a new password and clear the failed logins" },
	{ "disable", cmd_disable, "USER", "refuse the user's logins" },
	{ "enable", cmd_enable, "USER", "accept the user's logins again" },
	{ "list", cmd_list, "", "print every account" },
	{ "revoke", cmd_revoke, "FINGERPRINT",
	    "refuse an enrolled key from the next connection on" },
	{ "check-password", cmd_check_password, "[--password-file F] USER",
	    "tell whether a password matches (exit 0) or not (exit 1)" },
	{ "hash-password", cmd_hash_password, "[--password-file F] USER",
	    "print the hash of USER's new password, for SQL scripts" },
};
#define NSUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void
usage(void)
{
	subcommand_usage(stderr, PROG, "[-c server.conf] COMMAND",
	    subcommands, NSUBCOMMANDS);
	(void)fprintf(stderr,
	    "A password file F must be mode 0600.\n"
	    "User names: 1-%d of a-z 0-9 . _ - (starting with a letter or digit).\n"
	    "Nicknames: 1-%d bytes of UTF-8 without control characters or '|'.\n",
	    NAME_USER_MAX, NAME_NICK_MAX);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct subcommand *cmd;
	const char *name;
	int ch, status;

	if ((name = subcommand_start(argc, argv, longopts, &opt.config)) == NULL)
		usage();
	/* Options may follow the command: "useradd --password-file F U N". */
	while ((ch = getopt_long(argc, argv, "+p:h", longopts, NULL)) != -1) {
		if (ch == 'p')
			opt.password_file = optarg;
		else
			usage();
	}
	if ((cmd = subcommand_find(subcommands, NSUBCOMMANDS, name)) == NULL)
		usage();
	status = cmd->fn(argc - optind, argv + optind);
	db_close(db);
	if (have_config)
		server_config_free(&config);
	return status;
}
