/*
 * missive-keys: key distribution.
 *
 *   missive-keys server-init DIR
 *       Create the server's key pair: DIR/server.key (0600), DIR/server.pub.
 *   missive-keys [-c server.conf] client [--host H] [--port P] [--device D]
 *           [--password-file F | --no-passphrase] USER DIR
 *       Create a self-contained client folder DIR for USER: client.conf,
 *       user.key (0600), user.pub, server.pub (the pinned server key) and
 *       known_keys (0600) with the folder's own key, verified, and enroll
 *       user.pub for USER in MariaDB.  user.key is encrypted
 *       with USER's password (asked, or read from F, and checked against
 *       the account), which the client asks for anyway; with
 *       --no-passphrase it is written clear (for unattended bots).
 *   missive-keys passphrase [--old-password-file F] [--password-file F |
 *           --no-passphrase] DIR
 *       Encrypt DIR/user.key anew with the user's current password (after
 *       a missive-admin passwd: asked twice, or read from F), or write it
 *       clear; its current passphrase is asked (or read from
 *       --old-password-file) unless the key is clear.
 *   missive-keys fingerprint FILE
 *       Print the SSH-style fingerprint of a public or private key file.
 *
 * Exit status: 0 done, 1 refused or failed (reason on stderr), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "common/err.h"
#include "common/passwd.h"
#include "common/secret.h"
#include "keydist/keys.h"
#include "server/accounts.h"
#include "server/admin.h"
#include "tools/subcommand.h"

#define PROG "missive-keys"

/* The files of a client folder, relative to it. */
static const char *const client_files[] = {
	"client.conf", "user.key", "user.pub", "server.pub", "known_keys",
};

/* The command line's options: -c before the command, the others after it. */
static struct {
	const char *config;
	const char *host;	/* NULL: the server's listen address */
	long long port;		/* 0: the server's listen port */
	const char *device;
	const char *password_file;
	const char *old_password_file;
	int no_passphrase;	/* user.key written clear */
} opt = { .device = "default" };

static void usage(void) __attribute__((noreturn));

/* path = dir + "/" + name, or exit on overflow (paths come from the admin). */
static void
join(char *path, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(path, len, "%s/%s", dir, name) >= len) {
		(void)fprintf(stderr, PROG ": path too long: %s/%s\n", dir,
		    name);
		exit(1);
	}
}

/* Make dir (mode 0700 unless it exists already and is empty). */
static int
make_dir(const char *dir)
{
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno == EEXIST && rmdir(dir) == 0 && mkdir(dir, 0700) == 0)
		return 0;
	(void)fprintf(stderr, PROG ": cannot create %s: %s\n", dir,
	    errno == ENOTEMPTY || errno == EEXIST ?
	    "it exists and is not empty (refusing to overwrite keys)" :
	    strerror(errno));
	return E_IO;
}

static int
cmd_server_init(int argc, char *argv[])
{
	char priv[4096], pub[4096], fp[KD_FP_SIZE];
	const char *dir;
	EVP_PKEY *key = NULL;
	int r;

	if (argc != 1)
		usage();
	dir = argv[0];
	join(priv, sizeof(priv), dir, "server.key");
	join(pub, sizeof(pub), dir, "server.pub");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		(void)fprintf(stderr, PROG ": cannot create %s: %s\n", dir,
		    strerror(errno));
		return 1;
	}
	if (access(priv, F_OK) == 0 || access(pub, F_OK) == 0) {
		(void)fprintf(stderr, PROG ": %s already holds a server key; "
		    "refusing to replace it (every client folder pins it)\n", dir);
		return 1;
	}
	if ((r = kd_key_generate(KD_RSA_BITS, &key)) != 0 ||
	    (r = kd_key_write_private(key, priv)) != 0 ||
	    (r = kd_key_write_public(key, pub)) != 0 ||
	    (r = kd_fingerprint(key, fp)) != 0) {
		(void)fprintf(stderr, PROG ": server key in %s: %s\n", dir,
		    err_str(r));
		unlink(priv);
		EVP_PKEY_free(key);
		return 1;
	}
	printf("server key: %s (RSA-%d)\n  private: %s\n  public:  %s\n", fp,
	    KD_RSA_BITS, priv, pub);
	EVP_PKEY_free(key);
	return 0;
}

/* Copy the server public key file into the folder, checking it parses. */
static int
copy_server_key(const char *from, const char *to, char fp[KD_FP_SIZE])
{
	EVP_PKEY *key;
	int r;

	if ((r = kd_key_read_public(from, &key)) != 0) {
		(void)fprintf(stderr, PROG ": server public key %s: %s\n", from,
		    err_str(r));
		return r;
	}
	if ((r = kd_fingerprint(key, fp)) != 0 ||
	    (r = kd_key_write_public(key, to)) != 0)
		(void)fprintf(stderr, PROG ": %s: %s\n", to, err_str(r));
	EVP_PKEY_free(key);
	return r;
}

/* Host names go into client.conf between quotes: keep them plain. */
static int
host_ok(const char *h)
{
	size_t n = strlen(h);

	return n > 0 && n < 256 && strspn(h, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == n;
}

static int
write_client_conf(const char *path, const char *user, const char *host,
    long long port)
{
	FILE *f;
	int ok;

	if ((f = fopen(path, "wx")) == NULL) {
		(void)fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return E_IO;
	}
	ok = fprintf(f,
	    "# missive client folder of user '%s', made by missive-keys.\n"
	    "# Paths are relative to this folder: copy the whole folder to\n"
	    "# any machine and run:  missive -c <folder>/client.conf\n"
	    "# Every setting is described in conf/client.conf of the sources.\n"
	    "\n"
	    "user = \"%s\";\n"
	    "\n"
	    "server = {\n"
	    "  host = \"%s\";\n"
	    "  port = %lld;\n"
	    "};\n"
	    "\n"
	    "keys = {\n"
	    "  private = \"user.key\";   # this user's private key (mode 0600)\n"
	    "  public = \"user.pub\";    # enrolled on the server\n"
	    "  server = \"server.pub\";  # the pinned server key\n"
	    "};\n", user, user, host, port) > 0;
	if (fclose(f) != 0 || !ok) {
		(void)fprintf(stderr, PROG ": writing %s failed\n", path);
		return E_IO;
	}
	return 0;
}

/*
 * known_keys (client/trust.h) with the folder's own key, verified: any
 * other key of USER the server lists is then a new device to accept.
 */
static int
write_known_keys(const char *path, const char *user, const char *fp)
{
	FILE *f;
	int fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		(void)fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return E_IO;
	}
	ok = fprintf(f, "%s %s verified\n", user, fp) > 0;
	if (fclose(f) != 0 || !ok) {
		(void)fprintf(stderr, PROG ": writing %s failed\n", path);
		return E_IO;
	}
	return 0;
}

static void
remove_folder(const char *dir)
{
	char path[4096];
	size_t i;

	for (i = 0; i < sizeof(client_files) / sizeof(client_files[0]); i++) {
		join(path, sizeof(path), dir, client_files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/*
 * The passphrase of user.key: user's password (asked, or from the
 * --password-file), checked against the account's hash, so that the
 * password the client asks for opens the key.  NULL with --no-passphrase.
 * 0, or 1 (the reason on stderr).
 */
static int
key_passphrase(const struct server_config *cfg, const char *user,
    const struct account *acc, char **pw)
{
	char secret[KD_LOGIN_B64_LEN + 1], prompt[128];
	int r;

	*pw = NULL;
	if (opt.no_passphrase)
		return 0;
	(void)snprintf(prompt, sizeof(prompt), "Password of %s (it encrypts "
	    "user.key): ", user);
	if ((r = secret_password(opt.password_file, prompt, 0, pw)) != 0) {
		(void)fprintf(stderr, PROG ": the password of %s: %s%s\n", user,
		    err_str(r), opt.password_file == NULL ? " (use "
		    "--password-file F, or --no-passphrase for a clear key)" :
		    "");
		return 1;
	}
	r = admin_login_secret(PROG, cfg, user, *pw, secret);
	if (r == 0 && passwd_verify(acc->phc, secret, KD_LOGIN_B64_LEN) != 0) {
		(void)fprintf(stderr, PROG ": that is not the password of %s "
		    "(set it with missive-admin passwd)\n", user);
		r = E_PASSWORD;
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	if (r == 0)
		return 0;
	secret_free(*pw);
	*pw = NULL;
	return 1;
}

static int
make_client_folder(const char *user, const char *dir)
{
	char path[4096], fp[KD_FP_SIZE], server_fp[KD_FP_SIZE];
	const char *host = opt.host, *device = opt.device;
	long long port = opt.port;
	struct server_config cfg;
	struct account acc;
	EVP_PKEY *key = NULL;
	struct db *db;
	char *pw = NULL;
	int r, status = 1;

	if (name_check_user(device) != 0) {
		(void)fprintf(stderr,
		    PROG ": invalid device label '%s' (same rules "
		    "as user names)\n", device);
		return 1;
	}
	if (admin_open(PROG, admin_config_path(opt.config), &cfg, &db) != 0)
		return 1;
	if (host == NULL)
		host = cfg.listen_address;
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
		(void)fprintf(stderr,
		    PROG ": the server listens on %s; pass --host "
		    "with the address clients should dial\n", host);
		goto out;
	}
	if (!host_ok(host)) {
		(void)fprintf(stderr, PROG ": invalid host '%s'\n", host);
		goto out;
	}
	if (port == 0)
		port = cfg.listen_port;
	if ((r = accounts_get(db, user, &acc)) != 0) {
		(void)fprintf(stderr, PROG ": %s: %s\n", user,
		    r == E_NOT_FOUND ?
		    "no such user (create it with missive-admin useradd)" :
		    err_str(r));
		goto out;
	}
	if (key_passphrase(&cfg, user, &acc, &pw) != 0)
		goto out;
	if ((r = kd_key_generate(KD_RSA_BITS, &key)) != 0) {
		(void)fprintf(stderr, PROG ": key generation: %s\n",
		    err_str(r));
		goto out;
	}
	if (make_dir(dir) != 0)
		goto out;
	join(path, sizeof(path), dir, "server.pub");
	if (copy_server_key(cfg.public_key, path, server_fp) != 0)
		goto fail;
	join(path, sizeof(path), dir, "user.key");
	r = pw != NULL ? kd_key_write_private_pass(key, path, pw, strlen(pw)) :
	    kd_key_write_private(key, path);
	if (r == 0) {
		join(path, sizeof(path), dir, "user.pub");
		r = kd_key_write_public(key, path);
	}
	if (r != 0 || (r = kd_fingerprint(key, fp)) != 0) {
		(void)fprintf(stderr, PROG ": %s: %s\n", path, err_str(r));
		goto fail;
	}
	join(path, sizeof(path), dir, "known_keys");
	if (write_known_keys(path, user, fp) != 0)
		goto fail;
	join(path, sizeof(path), dir, "client.conf");
	if (write_client_conf(path, user, host, port) != 0)
		goto fail;
	/* Enroll last: a folder that is not complete is never enrolled. */
	if ((r = accounts_enroll_key(db, user, device, key)) != 0) {
		(void)fprintf(stderr, PROG ": enrolling the key of %s: %s\n",
		    user, r == E_EXISTS ? "this user already has a key for "
		    "device label (use --device to name another device)" :
		    err_str(r));
		goto fail;
	}
	printf("client folder %s for %s (device %s)\n"
	    "  user key:          %s\n"
	    "  pinned server key: %s\n"
	    "  server:            %s port %lld\n"
	    "  user.key:          %s\n"
	    "connect with:  missive -c %s/client.conf\n", dir, user, device, fp,
	    server_fp, host, port, pw != NULL ? "encrypted with the password" :
	    "not encrypted (--no-passphrase)", dir);
	status = 0;
	goto out;
fail:
	remove_folder(dir);
out:
	secret_free(pw);
	OPENSSL_cleanse(&acc, sizeof(acc));
	EVP_PKEY_free(key);
	db_close(db);
	server_config_free(&cfg);
	return status;
}

static int
cmd_client(int argc, char *argv[])
{
	if (argc != 2)
		usage();
	return make_client_folder(argv[0], argv[1]);
}

/* OpenSSL's passphrase callback that gives none (and asks nobody). */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/* Open dir's user.key: clear, or with its passphrase (asked or read). */
static int
open_folder_key(const char *path, EVP_PKEY **key)
{
	char *old = NULL;
	int r;

	if ((r = kd_key_read_private(path, key)) == E_KEY_LOCKED) {
		if ((r = secret_password(opt.old_password_file, "Current "
		    "passphrase of user.key (the password when it was set): ",
		    0, &old)) == 0)
			r = kd_key_read_private_pass(path, old, strlen(old), key);
		secret_free(old);
	}
	if (r != 0)
		(void)fprintf(stderr, PROG ": %s: %s\n", path, err_str(r));
	return r;
}

static int
cmd_passphrase(int argc, char *argv[])
{
	char path[4096], tmp[4096];
	EVP_PKEY *key = NULL;
	char *pw = NULL;
	int r;

	if (argc != 1)
		usage();
	join(path, sizeof(path), argv[0], "user.key");
	join(tmp, sizeof(tmp), argv[0], "user.key.new");
	if (open_folder_key(path, &key) != 0)
		return 1;
	if (!opt.no_passphrase && (r = secret_password(opt.password_file,
	    "New passphrase (the account's password): ", 1, &pw)) != 0) {
		(void)fprintf(stderr, PROG ": the new passphrase: %s\n",
		    r == E_PASSWORD ? "the two do not match" : err_str(r));
		EVP_PKEY_free(key);
		return 1;
	}
	/* Written aside first: a failure leaves the old key in place. */
	r = pw != NULL ? kd_key_write_private_pass(key, tmp, pw, strlen(pw)) :
	    kd_key_write_private(key, tmp);
	if (r == 0 && rename(tmp, path) != 0) {
		r = E_IO;
		unlink(tmp);
	}
	if (r != 0)
		(void)fprintf(stderr, PROG ": %s: %s\n", tmp, err_str(r));
	else
		printf("%s: %s\n", path, pw != NULL ? "encrypted with the new "
		    "passphrase" : "written clear (--no-passphrase)");
	secret_free(pw);
	EVP_PKEY_free(key);
	return r == 0 ? 0 : 1;
}

static int
cmd_fingerprint(int argc, char *argv[])
{
	char fp[KD_FP_SIZE];
	const char *file;
	EVP_PKEY *key = NULL;
	FILE *f;
	int r;

	if (argc != 1)
		usage();
	file = argv[0];
	/* Accept a public key, or a private key (whose public part we print). */
	if ((r = kd_key_read_public(file, &key)) == E_KEY_FILE &&
	    (f = fopen(file, "re")) != NULL) {
		/* An encrypted key is not opened: its .pub has the same. */
		key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
		(void)fclose(f);	/* read only */
		r = key == NULL ? E_KEY_FILE : kd_key_check(key);
	}
	if (r == 0)
		r = kd_fingerprint(key, fp);
	if (r != 0) {
		(void)fprintf(stderr, PROG ": %s: %s\n", file, err_str(r));
		EVP_PKEY_free(key);
		return 1;
	}
	printf("%d %s %s (RSA)\n", EVP_PKEY_get_bits(key), fp, file);
	EVP_PKEY_free(key);
	return 0;
}

static const struct subcommand subcommands[] = {
	{ "server-init", cmd_server_init, "DIR",
	    "create the server's key pair in DIR: server.key, server.pub" },
	{ "client", cmd_client, "[--host H] [--port P] [--device D] "
	    "[--password-file F | --no-passphrase] USER DIR",
	    "create the client folder DIR of USER and enroll its key" },
	{ "passphrase", cmd_passphrase, "[--old-password-file F] "
	    "[--password-file F | --no-passphrase] DIR",
	    "encrypt DIR/user.key with a new password (or write it clear)" },
	{ "fingerprint", cmd_fingerprint, "FILE",
	    "print the fingerprint of a public or private key file" },
};
#define NSUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void
usage(void)
{
	subcommand_usage(stderr, PROG, "[-c server.conf] COMMAND",
	    subcommands, NSUBCOMMANDS);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'P' },
		{ "device", required_argument, NULL, 'D' },
		{ "password-file", required_argument, NULL, 'W' },
		{ "no-passphrase", no_argument, NULL, 'N' },
		{ "old-password-file", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct subcommand *cmd;
	const char *name;
	char *end;
	int ch;

	if ((name = subcommand_start(argc, argv, longopts, &opt.config)) == NULL)
		usage();
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			opt.host = optarg;
			break;
		case 'P':
			errno = 0;
			opt.port = strtoll(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || opt.port < 1 ||
			    opt.port > 65535) {
				(void)fprintf(stderr, PROG ": bad port '%s'\n",
				    optarg);
				return 2;
			}
			break;
		case 'D':
			opt.device = optarg;
			break;
		case 'W':
			opt.password_file = optarg;
			break;
		case 'N':
			opt.no_passphrase = 1;
			break;
		case 'O':
			opt.old_password_file = optarg;
			break;
		default:
			usage();
		}
	}
	if ((cmd = subcommand_find(subcommands, NSUBCOMMANDS, name)) == NULL)
		usage();
	return cmd->fn(argc - optind, argv + optind);
}
