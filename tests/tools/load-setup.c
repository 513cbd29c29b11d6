/*
 * load-setup: the accounts and keys that tests/tools/load logs in.
 *
 *   load-setup [-c server.conf] -k KEYDIR -n N [-f FIRST] [-u PREFIX]
 *       [--argon2 min|default] --password-file F
 *
 * Makes sure KEYDIR holds the private keys 00001.key to N.key (making the
 * missing ones), then creates the accounts PREFIX00001 to PREFIX<N>
 * (nickname "Load 17") with the password in F and enrolls key i for
 * account i (with -f, only the accounts FIRST to N: a second run can add
 * accounts with other Argon2id parameters): the product's own queries (server/accounts.c), through the
 * admin account of server.conf as missive-admin and missive-keys use it,
 * in one transaction.
 *
 * Keys.  Making an RSA-3072 key costs about half a second of CPU here,
 * too slow for 2,000 accounts, and nothing cheaper is allowed: the server
 * refuses a key shorter than 3072 bits, and a key enrolled for two
 * accounts (client_keys.fingerprint is unique; sender keys are routed by
 * fingerprint).  So the missing keys are made from a pool of k random
 * 1536-bit primes, one key per pair: k(k-1)/2 keys for the price of k/2
 * ordinary ones.  They are valid RSA-3072 keys and cost the server and
 * the clients exactly what any other key costs, but anyone holding two of
 * them with a prime in common can factor both: for load tests only.
 * KEYDIR keeps them for the next run.
 *
 * Passwords.  Each account's login secret (keydist/login.h: bound to the
 * user and to this server's key, so derived again at every set-up, one
 * Argon2id run per account) is cached in KEYDIR/00001.login and so on,
 * where tests/tools/load reads it: the load itself derives nothing, so
 * its login figures measure the server.  With --argon2 min (the default)
 * the stored hash of the secret has the cheapest parameters the server
 * accepts from the database (m=8192 KiB, t=1, p=1, common/passwd.c)
 * rather than missive-admin's (m=19456, t=2, p=1): a login costs the
 * server about 4 ms of Argon2id instead of 35.
 *
 * Exit status: 0 done, 1 failed (the reason on stderr), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>

#include "common/err.h"
#include "common/file.h"
#include "common/passwd.h"
#include "common/secret.h"
#include "keydist/keys.h"
#include "server/accounts.h"
#include "server/admin.h"
#include "tests/tools/load.h"

#define PROG "load-setup"
#define RSA_E 65537
#define MIN_M_KIB 8192          /* the least common/passwd.c accepts */
#define MIN_T_COST 1

/* Primes and the next pair of them to make a key of. */
struct pool {
	BN_CTX *ctx;
	BIGNUM **prime;
	size_t n, i, j;
};

static void __attribute__((noreturn))
usage(void)
{
	(void)fprintf(stderr, "usage: " PROG " [-c server.conf] -k KEYDIR -n N "
	    "[-f FIRST] [-u PREFIX] [--argon2 min|default] --password-file F\n");
	exit(2);
}

/* A random prime of half the key size that e = 65537 can go with. */
static int
make_prime(BIGNUM *p, BN_CTX *ctx)
{
	BN_ULONG rem;

	do {
		if (BN_generate_prime_ex2(p, KD_RSA_BITS / 2, 0, NULL, NULL,
		    NULL, ctx) != 1 ||
		    (rem = BN_mod_word(p, RSA_E)) == (BN_ULONG)-1)
			return E_CRYPTO;
	} while (rem == 1);     /* e divides p - 1 */
	return 0;
}

static int
push_bns(OSSL_PARAM_BLD *bld, const char *const *names,
    BIGNUM *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (OSSL_PARAM_BLD_push_BN(bld, names[i], v[i]) != 1)
			return E_CRYPTO;
	return 0;
}

/*
 * The key from its parts.  Not run through EVP_PKEY_pairwise_check(): it
 * tests both primes again, a fifth of a second a key; a wrong key fails
 * its first handshake, loudly.
 */
static int
key_from_parts(BIGNUM *const *v, EVP_PKEY **out)
{
	static const char *const names[] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int r = E_CRYPTO;

	*out = NULL;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return E_NOMEM;
	if (push_bns(bld, names, v, 8) == 0 &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) != NULL &&
	    EVP_PKEY_fromdata_init(pctx) == 1 &&
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_KEYPAIR, params) == 1)
		r = kd_key_check(*out);
	if (r != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

/* The RSA key with primes p and q: n, e, d, p, q, d mod p-1, d mod q-1,
   q^-1 mod p. */
static int
key_from_primes(const BIGNUM *p, const BIGNUM *q, BN_CTX *ctx,
    EVP_PKEY **out)
{
	BIGNUM *v[8], *p1, *q1, *phi;
	size_t i;
	int r = E_NOMEM;

	BN_CTX_start(ctx);
	for (i = 0; i < 8; i++)
		v[i] = BN_CTX_get(ctx);
	p1 = BN_CTX_get(ctx);
	q1 = BN_CTX_get(ctx);
	if ((phi = BN_CTX_get(ctx)) == NULL)
		goto out;
	r = E_CRYPTO;
	if (BN_mul(v[0], p, q, ctx) == 1 && BN_set_word(v[1], RSA_E) == 1 &&
	    BN_sub(p1, p, BN_value_one()) == 1 &&
	    BN_sub(q1, q, BN_value_one()) == 1 &&
	    BN_mul(phi, p1, q1, ctx) == 1 &&
	    BN_mod_inverse(v[2], v[1], phi, ctx) != NULL &&
	    BN_copy(v[3], p) != NULL && BN_copy(v[4], q) != NULL &&
	    BN_mod(v[5], v[2], p1, ctx) == 1 &&
	    BN_mod(v[6], v[2], q1, ctx) == 1 &&
	    BN_mod_inverse(v[7], q, p, ctx) != NULL)
		r = key_from_parts(v, out);
out:
	BN_CTX_end(ctx);
	return r;
}

static void
pool_free(struct pool *pl)
{
	size_t i;

	for (i = 0; i < pl->n; i++)
		BN_clear_free(pl->prime[i]);
	free(pl->prime);
	BN_CTX_free(pl->ctx);
	memset(pl, 0, sizeof(*pl));
}

/* Enough primes for nkeys keys. */
static int
pool_make(struct pool *pl, size_t nkeys)
{
	size_t i, k = 2;
	int r;

	memset(pl, 0, sizeof(*pl));
	while (k * (k - 1) / 2 < nkeys)
		k++;
	pl->j = 1;
	if ((pl->ctx = BN_CTX_new()) == NULL ||
	    /* An array of BIGNUM pointers. */
	    (pl->prime = calloc(k, sizeof(*pl->prime))) == NULL) /* NOLINT(bugprone-sizeof-expression) */
		return E_NOMEM;
	for (i = 0; i < k; i++) {
		if ((pl->prime[i] = BN_new()) == NULL)
			return E_NOMEM;
		pl->n = i + 1;
		if ((r = make_prime(pl->prime[i], pl->ctx)) != 0)
			return r;
	}
	return 0;
}

/* The key of the next pair (i, j), i < j. */
static int
pool_next(struct pool *pl, EVP_PKEY **out)
{
	int r;

	if (pl->j >= pl->n)
		return E_INTERNAL;
	r = key_from_primes(pl->prime[pl->i], pl->prime[pl->j], pl->ctx, out);
	if (++pl->i == pl->j) {
		pl->i = 0;
		pl->j++;
	}
	return r;
}

/* Write key to path through path.tmp: a cut-short run leaves no half key. */
static int
save_key(EVP_PKEY *key, const char *path)
{
	char tmp[PATH_MAX];
	int r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return E_TOO_LONG;
	if (unlink(tmp) != 0 && errno != ENOENT)
		return E_IO;
	if ((r = kd_key_write_private(key, tmp)) != 0)
		return r;
	if (rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return E_IO;
	}
	return 0;
}

/* Make the keys 1..n missing from dir; *made tells how many. */
static int
ensure_keys(const char *dir, unsigned n, unsigned *made)
{
	char path[PATH_MAX];
	struct pool pl;
	EVP_PKEY *key;
	unsigned i, missing = 0;
	int r;

	*made = 0;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		(void)fprintf(stderr, PROG ": %s: %s\n", dir, strerror(errno));
		return E_IO;
	}
	for (i = 1; i <= n; i++) {
		if (load_key_path(path, sizeof(path), dir, i) != 0)
			return E_TOO_LONG;
		if (access(path, F_OK) != 0)
			missing++;
	}
	if (missing == 0)
		return 0;
	if ((r = pool_make(&pl, missing)) != 0) {
		(void)fprintf(stderr, PROG ": primes: %s\n", err_str(r));
		pool_free(&pl);
		return r;
	}
	for (i = 1; i <= n && r == 0; i++) {
		(void)load_key_path(path, sizeof(path), dir, i);
		if (access(path, F_OK) == 0)
			continue;
		if ((r = pool_next(&pl, &key)) == 0) {
			r = save_key(key, path);
			EVP_PKEY_free(key);
		}
		if (r != 0)
			(void)fprintf(stderr, PROG ": key %s: %s\n", path,
			    err_str(r));
		else
			(*made)++;
	}
	pool_free(&pl);
	return r;
}

/*
 * Account user's login secret for pw into secret (the server key is in
 * cfg) and its hash with the chosen parameters into phc.
 */
static int
hash_secret(const struct server_config *cfg, const char *user,
    const char *pw, int minimal, char secret[KD_LOGIN_B64_LEN + 1],
    char phc[PASSWD_PHC_MAX])
{
	unsigned char salt[PASSWD_SALT_LEN];
	int r;

	if ((r = admin_login_secret(PROG, cfg, user, pw, secret)) != 0)
		return r;
	if (!minimal) {
		r = passwd_hash(secret, KD_LOGIN_B64_LEN, phc);
	} else if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt)) {
		r = E_INTERNAL;
	} else {
		r = argon2id_hash_encoded(MIN_T_COST, MIN_M_KIB, 1, secret,
		    KD_LOGIN_B64_LEN, salt, sizeof(salt), PASSWD_HASH_LEN, phc,
		    PASSWD_PHC_MAX) == ARGON2_OK ? 0 : E_INTERNAL;
	}
	if (r != 0)
		(void)fprintf(stderr, PROG ": hashing the login secret: %s\n",
		    err_str(r));
	return r;
}

/* Cache secret for load (mode 0600, as secret_read_file() wants it). */
static int
save_secret(const char *dir, unsigned i, const char *secret)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int r;

	if (load_secret_path(path, sizeof(path), dir, i) != 0 ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return E_TOO_LONG;
	r = file_replace(path, tmp, secret, strlen(secret));
	if (r != 0 && r != FILE_UNSYNCED) {
		(void)fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return E_IO;
	}
	return 0;
}

/* Account i with key i and password pw. */
static int
add_one(struct db *db, const struct server_config *cfg, const char *dir,
    const char *prefix, unsigned i, const char *pw, int minimal)
{
	char user[NAME_USER_MAX + 1], nick[32], path[PATH_MAX];
	char secret[KD_LOGIN_B64_LEN + 1], phc[PASSWD_PHC_MAX];
	EVP_PKEY *key;
	int r;

	if (load_user(user, sizeof(user), prefix, i) != 0 ||
	    load_key_path(path, sizeof(path), dir, i) != 0)
		return E_TOO_LONG;
	(void)snprintf(nick, sizeof(nick), "Load %u", i);
	if ((r = hash_secret(cfg, user, pw, minimal, secret, phc)) != 0 ||
	    (r = save_secret(dir, i, secret)) != 0)
		goto out;
	if ((r = kd_key_read_private(path, &key)) != 0) {
		(void)fprintf(stderr, PROG ": %s: %s\n", path, err_str(r));
		goto out;
	}
	if ((r = accounts_add(db, user, nick, phc)) == 0)
		r = accounts_enroll_key(db, user, "load", key);
	EVP_PKEY_free(key);
	if (r != 0)
		(void)fprintf(stderr, PROG ": account %s: %s\n", user, r == E_EXISTS ?
		    "it exists, or its key is enrolled for another account "
		    "(use a fresh database)" : db_error(db));
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(phc, sizeof(phc));
	return r;
}

static int
add_accounts(const char *conf, const char *dir, const char *prefix,
    unsigned first, unsigned n, const char *pwfile, int minimal)
{
	struct server_config cfg;
	struct db *db;
	char *pw;
	unsigned i;
	int r;

	if ((r = secret_read_file(pwfile, &pw)) != 0) {
		(void)fprintf(stderr, PROG ": password file %s: %s\n", pwfile,
		    err_str(r));
		return r;
	}
	if (admin_open(PROG, admin_config_path(conf), &cfg, &db) != 0) {
		secret_free(pw);
		return E_DB;
	}
	/* One commit, not one per row: 2 x N log flushes would dominate. */
	if ((r = db_exec(db, "START TRANSACTION", NULL, 0, NULL)) != 0)
		(void)fprintf(stderr, PROG ": %s\n", db_error(db));
	for (i = first; i <= n && r == 0; i++)
		r = add_one(db, &cfg, dir, prefix, i, pw, minimal);
	if (r == 0 && (r = db_exec(db, "COMMIT", NULL, 0, NULL)) != 0)
		(void)fprintf(stderr, PROG ": commit: %s\n", db_error(db));
	/* Without a commit, closing the connection rolls back. */
	db_close(db);
	server_config_free(&cfg);
	secret_free(pw);
	return r;
}

static unsigned
number(const char *s, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 1 || v > max)
		usage();
	return (unsigned)v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "argon2", required_argument, NULL, 'a' },
		{ "password-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = NULL, *dir = NULL, *prefix = LOAD_PREFIX;
	const char *pwfile = NULL;
	unsigned n = 0, first = 1, made;
	int ch, minimal = 1;

	while ((ch = getopt_long(argc, argv, "c:k:n:f:u:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'k':
			dir = optarg;
			break;
		case 'n':
			n = number(optarg, LOAD_MAX);
			break;
		case 'f':
			first = number(optarg, LOAD_MAX);
			break;
		case 'u':
			prefix = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "min") != 0 &&
			    strcmp(optarg, "default") != 0)
				usage();
			minimal = strcmp(optarg, "min") == 0;
			break;
		case 'p':
			pwfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || dir == NULL || n == 0 || first > n ||
	    pwfile == NULL ||
	    strlen(prefix) > LOAD_PREFIX_MAX)
		usage();
	if (ensure_keys(dir, n, &made) != 0 ||
	    add_accounts(conf, dir, prefix, first, n, pwfile, minimal) != 0)
		return 1;
	printf(PROG ": %u accounts %s%05u..%s%05u, Argon2id %s; keys in %s "
	    "(%u made now, from a shared prime pool; %u cached)\n",
	    n - first + 1, prefix, first, prefix, n, minimal ? "m=8192,t=1,p=1 (the least the server "
	    "accepts)" : "m=19456,t=2,p=1 (missive-admin's)", dir, made,
	    n - made);
	return 0;
}
