#include "server/auth.h"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/passwd.h"
#include "keydist/login.h"
#include "server/accounts.h"

/* After a connection attempt that took this long to fail (a host that
   does not answer), jobs do not try again before DB_RETRY_MS: each try
   would hold a worker that long.  One refused at once (MariaDB not up on
   its socket yet) is tried again by the next job, so that the first
   logins after MariaDB is back are not refused. */
#define DB_SLOW_FAIL_MS 100
#define DB_RETRY_MS 1000
/* A connection unused for longer is checked before a job uses it. */
#define DB_IDLE_CHECK_MS 1000

struct auth_ctx {
	const struct auth_settings *set;
	struct db *db;               /* NULL while the database is away */
	uint64_t retry_ms;           /* no new attempt before this */
	uint64_t used_ms;            /* when a job last took db */
};

void *
auth_thread_init(void *arg)
{
	struct auth_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	ctx->set = arg;
	return ctx;
}

void
auth_thread_fini(void *wctx)
{
	struct auth_ctx *ctx = wctx;

	db_close(ctx->db);
	free(ctx);
}

/*
 * This thread's connection, (re)opened if it is time to try.  One that sat
 * idle is pinged first: after MariaDB restarts, every thread still holds a
 * connection to the old server, and without the check the first job of
 * each (a login, a handshake) would fail with "unavailable" although the
 * database is back.
 */
static struct db *
auth_db(struct auth_ctx *ctx)
{
	uint64_t now = clock_ms();
	char err[256];

	if (ctx->db != NULL && now - ctx->used_ms > DB_IDLE_CHECK_MS &&
	    db_ping(ctx->db) != 0) {
		db_close(ctx->db);
		ctx->db = NULL;
	}
	if (ctx->db == NULL) {
		if (now < ctx->retry_ms)
			return NULL;
		if (db_open(&ctx->set->db, &ctx->db, err, sizeof(err)) != 0) {
			if (clock_ms() - now >= DB_SLOW_FAIL_MS)
				ctx->retry_ms = now + DB_RETRY_MS;
			return NULL;
		}
	}
	ctx->used_ms = now;
	return ctx->db;
}

/*
 * After a failed statement: drop the connection, so the next job opens a
 * fresh one (a restarted MariaDB, a timed-out session), and report the
 * database as unavailable.
 */
static int
auth_db_failed(struct auth_ctx *ctx)
{
	db_close(ctx->db);
	ctx->db = NULL;
	return E_DB_UNAVAILABLE;
}

struct db *
auth_thread_db(void *wctx)
{
	return auth_db(wctx);
}

int
auth_thread_db_failed(void *wctx)
{
	return auth_db_failed(wctx);
}

int
auth_handshake(void *wctx, struct kd_hs *hs, const char *kx, size_t len,
    int *owner_r, char owner[NAME_USER_MAX + 1])
{
	struct auth_ctx *ctx = wctx;
	struct db *db;
	int r;

	*owner_r = E_DB_UNAVAILABLE;
	owner[0] = '\0';
	if ((r = kd_hs_server_keyx(hs, kx, len)) != 0)
		return r;
	if ((db = auth_db(ctx)) == NULL)
		return 0;
	r = accounts_key_owner(db, hs->peer_fp, owner);
	if (r != 0 && r != E_NOT_FOUND)
		r = auth_db_failed(ctx);
	*owner_r = r;
	return 0;
}

int
auth_enrolled(void *wctx, struct enrolled *out)
{
	struct auth_ctx *ctx = wctx;
	struct db *db;
	int r;

	if ((db = auth_db(ctx)) == NULL)
		return E_DB_UNAVAILABLE;
	if ((r = enrolled_load(db, out)) != 0 && r != E_NOMEM)
		r = auth_db_failed(ctx);
	return r;
}

/* The row a login needs: the account, if this key is enrolled for it. */
struct login_row {
	int found;
	long long uid;
	int disabled, locked;
	char phc[256];
	char nick[NAME_NICK_MAX * 4 + 1];
};

static int
login_row_fill(void *arg, const struct db_val *c)
{
	struct login_row *row = arg;

	row->found = 1;
	row->uid = c[0].i;
	memcpy(row->phc, c[1].buf, c[1].len + 1);
	memcpy(row->nick, c[2].buf, c[2].len + 1);
	row->disabled = c[3].i != 0;
	row->locked = c[4].i != 0;
	return 0;
}

static int
login_lookup(struct db *db, const char *user, const char *fp,
    struct login_row *row)
{
	struct db_val p[] = { DB_IN_STR(user), DB_IN_STR(fp) };
	struct db_val cols[] = {
		DB_OUT_INT(), DB_OUT_STR(row->phc), DB_OUT_STR(row->nick),
		DB_OUT_INT(), DB_OUT_INT(),
	};

	return db_query(db, "SELECT u.user_id, u.user_password, "
	    "u.user_nickname, u.disabled, "
	    "(u.locked_until IS NOT NULL AND u.locked_until > UTC_TIMESTAMP(3)) "
	    "FROM users u JOIN client_keys k ON k.user_id = u.user_id "
	    "WHERE u.user_name = ? AND k.fingerprint = ? AND k.revoked = 0",
	    p, 2, cols, 5, login_row_fill, row);
}

/*
 * Count a failure.  locked_until is assigned first: MariaDB evaluates SET
 * from left to right, and it must see the count before this failure.
 */
static int
login_count_failure(struct auth_ctx *ctx, struct db *db, long long uid)
{
	struct db_val p[] = {
		DB_IN_INT(ctx->set->lock_after), DB_IN_INT(ctx->set->lock_seconds),
		DB_IN_INT(uid),
	};

	return db_exec(db, "UPDATE users SET "
	    "locked_until = IF(failed_logins + 1 >= ?, "
	    "  UTC_TIMESTAMP(3) + INTERVAL ? SECOND, locked_until), "
	    "failed_logins = failed_logins + 1, "
	    "last_failed_at = UTC_TIMESTAMP(3) WHERE user_id = ?", p, 3, NULL);
}

static int
login_count_success(struct db *db, long long uid)
{
	struct db_val p[] = { DB_IN_INT(uid) };

	return db_exec(db, "UPDATE users SET failed_logins = 0, "
	    "locked_until = NULL, last_login_at = UTC_TIMESTAMP(3) "
	    "WHERE user_id = ?", p, 1, NULL);
}

enum proto_login
auth_login(void *wctx, const char *user, const char *password, size_t pwlen,
    const char *fp, char nick[NAME_NICK_MAX * 4 + 1])
{
	struct auth_ctx *ctx = wctx;
	struct login_row row;
	enum proto_login res;
	struct db *db;
	int r;

	memset(&row, 0, sizeof(row));
	nick[0] = '\0';
	/* Version 2 clients send a login secret, never the password. */
	if (name_check_user(user) != 0 ||
	    !kd_login_secret_valid(password, pwlen)) {
		passwd_verify_dummy(password, pwlen);
		return PROTO_LOGIN_INVALID;
	}
	if ((db = auth_db(ctx)) == NULL)
		return PROTO_LOGIN_UNAVAILABLE;
	if (login_lookup(db, user, fp, &row) != 0) {
		auth_db_failed(ctx);
		return PROTO_LOGIN_UNAVAILABLE;
	}
	if (!row.found) {
		/* No such user, or the key is not theirs: same time, same word. */
		passwd_verify_dummy(password, pwlen);
		return PROTO_LOGIN_INVALID;
	}
	if (row.locked)
		return PROTO_LOGIN_LOCKED;
	r = passwd_verify(row.phc, password, pwlen);
	if (r != 0) {
		res = PROTO_LOGIN_INVALID;
		r = login_count_failure(ctx, db, row.uid);
	} else if (row.disabled) {
		res = PROTO_LOGIN_DISABLED;
	} else {
		res = PROTO_LOGIN_OK;
		memcpy(nick, row.nick, sizeof(row.nick));
		r = login_count_success(db, row.uid);
	}
	if (r != 0) {
		auth_db_failed(ctx);
		res = PROTO_LOGIN_UNAVAILABLE;
	}
	return res;
}
