#include "server/accounts.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/err.h"

/* The account columns, in the order account_from_row() reads them. */
#define ACCOUNT_COLUMNS                                                     \
	"u.user_id, u.user_name, u.user_nickname, u.user_password, "       \
	"u.disabled, u.failed_logins, "                                     \
	"COALESCE(UNIX_TIMESTAMP(u.locked_until), 0), "                     \
	"UNIX_TIMESTAMP(u.created_at), "                                    \
	"(SELECT COUNT(*) FROM client_keys k "                              \
	"  WHERE k.user_id = u.user_id AND k.revoked = 0)"

struct account_row {
	struct account acc;
	struct db_val cols[9];
};

static void
account_row_init(struct account_row *r)
{
	struct db_val cols[9] = {
		DB_OUT_INT(), DB_OUT_STR(r->acc.name), DB_OUT_STR(r->acc.nick),
		DB_OUT_STR(r->acc.phc), DB_OUT_INT(), DB_OUT_INT(),
		DB_OUT_INT(), DB_OUT_INT(), DB_OUT_INT(),
	};

	memset(&r->acc, 0, sizeof(r->acc));
	memcpy(r->cols, cols, sizeof(cols));
}

static void
account_from_row(struct account *a, const struct db_val *c)
{
	a->id = c[0].i;
	a->disabled = c[4].i != 0;
	a->failed_logins = c[5].i;
	a->locked_until = c[6].i;
	a->created_at = c[7].i;
	a->nkeys = c[8].i;
}

int
accounts_add(struct db *db, const char *name, const char *nick,
    const char *phc)
{
	struct db_val p[] = { DB_IN_STR(name), DB_IN_STR(phc), DB_IN_STR(nick) };
	int r;

	if ((r = name_check_user(name)) != 0 || (r = name_check_nick(nick)) != 0)
		return r;
	return db_exec(db, "INSERT INTO users (user_name, user_password, "
	    "user_nickname) VALUES (?, ?, ?)", p, 3, NULL);
}

/* Turn "no row changed" into E_NOT_FOUND. */
static int
exec_one(struct db *db, const char *sql, const struct db_val *p, size_t n)
{
	unsigned long long changed = 0;
	int r;

	if ((r = db_exec(db, sql, p, n, &changed)) != 0)
		return r;
	return changed == 0 ? E_NOT_FOUND : 0;
}

int
accounts_set_password(struct db *db, const char *name, const char *phc)
{
	struct db_val p[] = { DB_IN_STR(phc), DB_IN_STR(name) };

	if (name_check_user(name) != 0)
		return E_NOT_FOUND;
	return exec_one(db, "UPDATE users SET user_password = ?, "
	    "failed_logins = 0, locked_until = NULL WHERE user_name = ?", p, 2);
}

int
accounts_set_disabled(struct db *db, const char *name, int disabled)
{
	struct db_val p[] = { DB_IN_INT(disabled ? 1 : 0), DB_IN_STR(name) };
	struct account acc;
	int r;

	/* UPDATE reports 0 changed rows when the flag already had this value. */
	if ((r = accounts_get(db, name, &acc)) != 0)
		return r;
	return db_exec(db, "UPDATE users SET disabled = ? WHERE user_name = ?",
	    p, 2, NULL);
}

static int
get_one(void *arg, const struct db_val *cols)
{
	struct account_row *row = arg;

	account_from_row(&row->acc, cols);
	return 0;
}

int
accounts_get(struct db *db, const char *name, struct account *out)
{
	struct db_val p[] = { DB_IN_STR(name) };
	struct account_row *row;
	int r;

	if (name_check_user(name) != 0)
		return E_NOT_FOUND;
	if ((row = malloc(sizeof(*row))) == NULL)
		return E_NOMEM;
	account_row_init(row);
	r = db_query(db, "SELECT " ACCOUNT_COLUMNS " FROM users u "
	    "WHERE u.user_name = ?", p, 1, row->cols, 9, get_one, row);
	if (r == 0 && row->acc.id == 0)
		r = E_NOT_FOUND;
	if (r == 0)
		*out = row->acc;
	OPENSSL_cleanse(row, sizeof(*row));
	free(row);
	return r;
}

struct list_ctx {
	struct account_row row;
	int (*fn)(void *, const struct account *);
	void *arg;
};

static int
list_one(void *arg, const struct db_val *cols)
{
	struct list_ctx *ctx = arg;

	account_from_row(&ctx->row.acc, cols);
	return ctx->fn(ctx->arg, &ctx->row.acc);
}

int
accounts_list(struct db *db, int (*fn)(void *arg, const struct account *),
    void *arg)
{
	struct list_ctx *ctx;
	int r;

	if ((ctx = malloc(sizeof(*ctx))) == NULL)
		return E_NOMEM;
	account_row_init(&ctx->row);
	ctx->fn = fn;
	ctx->arg = arg;
	r = db_query(db, "SELECT " ACCOUNT_COLUMNS " FROM users u "
	    "ORDER BY u.user_name", NULL, 0, ctx->row.cols, 9, list_one, ctx);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
	free(ctx);
	return r;
}

int
accounts_enroll_key(struct db *db, const char *name, const char *device,
    EVP_PKEY *key)
{
	char fp[KD_FP_SIZE], *pem = NULL;
	size_t pemlen;
	struct account acc;
	int r;

	/* Device labels follow the user-name rules. */
	if (name_check_user(device) != 0)
		return E_INVALID;
	/* The handshake refuses any other key: never enrol one. */
	if ((r = kd_key_check(key)) != 0)
		return r;
	if ((r = accounts_get(db, name, &acc)) != 0)
		return r;
	if ((r = kd_fingerprint(key, fp)) != 0 ||
	    (r = kd_key_to_pem(key, &pem, &pemlen)) != 0)
		return r;
	{
		struct db_val p[] = { DB_IN_INT(acc.id), DB_IN_STR(device),
			DB_IN_STR(pem), DB_IN_STR(fp) };

		r = db_exec(db, "INSERT INTO client_keys (user_id, device, "
		    "public_key_pem, fingerprint) VALUES (?, ?, ?, ?)", p, 4,
		    NULL);
	}
	free(pem);
	return r;
}

struct owner_ctx {
	char *name;
	int found;
};

static int
owner_one(void *arg, const struct db_val *cols)
{
	struct owner_ctx *ctx = arg;

	memcpy(ctx->name, cols[0].buf, cols[0].len + 1);
	ctx->found = 1;
	return 0;
}

int
accounts_key_owner(struct db *db, const char *fingerprint, char *name)
{
	char buf[NAME_USER_MAX + 1];
	struct db_val p[] = { DB_IN_STR(fingerprint) };
	struct db_val cols[] = { DB_OUT_STR(buf) };
	struct owner_ctx ctx = { name, 0 };
	int r;

	r = db_query(db, "SELECT u.user_name FROM client_keys k "
	    "JOIN users u ON u.user_id = k.user_id "
	    "WHERE k.fingerprint = ? AND k.revoked = 0", p, 1, cols, 1,
	    owner_one, &ctx);
	if (r == 0 && !ctx.found)
		r = E_NOT_FOUND;
	return r;
}

struct keys_ctx {
	int (*fn)(void *, const struct account_key *);
	void *arg;
};

static int
keys_one(void *arg, const struct db_val *cols)
{
	struct keys_ctx *ctx = arg;
	struct account_key row = {
		.key_id = cols[0].i, .fp = cols[1].buf, .owner = cols[2].buf,
		.nick = cols[3].buf, .disabled = cols[4].i != 0,
		.pem = cols[5].buf, .pem_len = cols[5].len,
	};

	return ctx->fn(ctx->arg, &row);
}

int
accounts_enrolled_keys(struct db *db, int (*fn)(void *arg,
    const struct account_key *row), void *arg)
{
	char fp[KD_FP_SIZE + 16], owner[NAME_USER_MAX + 1];
	char nick[NAME_NICK_MAX * 4 + 1], pem[KD_RSA_MAX_BYTES * 3 + 256];
	struct db_val cols[] = { DB_OUT_INT(), DB_OUT_STR(fp),
		DB_OUT_STR(owner), DB_OUT_STR(nick), DB_OUT_INT(),
		DB_OUT_STR(pem) };
	struct keys_ctx ctx = { fn, arg };

	return db_query(db, "SELECT k.key_id, k.fingerprint, u.user_name, "
	    "u.user_nickname, u.disabled, k.public_key_pem "
	    "FROM client_keys k JOIN users u ON u.user_id = k.user_id "
	    "WHERE k.revoked = 0", NULL, 0, cols, 6, keys_one, &ctx);
}

static int
row_found(void *arg, const struct db_val *cols)
{
	*(int *)arg = 1;
	return 0;
}

int
accounts_revoke_key(struct db *db, const char *fingerprint)
{
	struct db_val p[] = { DB_IN_STR(fingerprint) };
	struct db_val cols[] = { DB_OUT_INT() };
	int found = 0, r;

	/* Look first: UPDATE counts 0 rows for a key revoked already. */
	if ((r = db_query(db, "SELECT key_id FROM client_keys "
	    "WHERE fingerprint = ?", p, 1, cols, 1, row_found, &found)) != 0)
		return r;
	if (!found)
		return E_NOT_FOUND;
	return db_exec(db, "UPDATE client_keys SET revoked = 1 "
	    "WHERE fingerprint = ?", p, 1, NULL);
}
