#include "common/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "common/err.h"
#include "common/secret.h"

#define DB_MAX_BINDS 16
#define DB_CACHED 16                 /* statements kept prepared */

/*
 * A statement that runs again and again (the writer's, many per batch)
 * is prepared once per connection: each prepare and close is a round
 * trip of its own.  It is found by its text.
 */
struct db_cached {
	char *sql;
	MYSQL_STMT *stmt;
};

struct db {
	MYSQL *conn;
	struct db_cached cached[DB_CACHED];
	size_t ncached;
	char error[256];
};

/* Map a client or server error number to our codes. */
static int
db_code(unsigned int errnum)
{
	switch (errnum) {
	case ER_DUP_ENTRY:
		return E_EXISTS;
	case ER_RECORD_FILE_FULL:
	case ER_DISK_FULL:
		return E_DB_FULL;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return E_DB_CONFLICT;
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_UNKNOWN_HOST:
	case ER_SERVER_SHUTDOWN:
	case ER_CON_COUNT_ERROR:
		return E_DB_UNAVAILABLE;
	default:
		return E_DB;
	}
}

int
db_open(const struct db_params *p, struct db **out, char *err, size_t errlen)
{
	unsigned int timeout = p->timeout_s ? p->timeout_s : 5;
	char *password = NULL;
	struct db *db;
	int r;

	*out = NULL;
	if ((r = secret_read_file(p->password_file, &password)) != 0) {
		(void)snprintf(err, errlen, "database password file %s: %s",
		    p->password_file, err_str(r));
		return r;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->conn = mysql_init(NULL)) == NULL) {
		secret_free(password);
		free(db);
		(void)snprintf(err, errlen, "database: out of memory");
		return E_NOMEM;
	}
	if (mysql_optionsv(db->conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) != 0 ||
	    mysql_optionsv(db->conn, MYSQL_OPT_READ_TIMEOUT, &timeout) != 0 ||
	    mysql_optionsv(db->conn, MYSQL_OPT_WRITE_TIMEOUT, &timeout) != 0 ||
	    mysql_optionsv(db->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0) {
		(void)snprintf(err, errlen,
		    "database: cannot set connection options: %s",
		    mysql_error(db->conn));
		secret_free(password);
		db_close(db);
		return E_DB;
	}
	if (mysql_real_connect(db->conn, p->socket ? NULL : p->host, p->user,
	    password, p->name, p->socket ? 0 : p->port, p->socket, 0) == NULL) {
		r = db_code(mysql_errno(db->conn));
		(void)snprintf(err, errlen,
		    "cannot connect to MariaDB at %s %s "
		    "(database '%s', account '%s'): %s",
		    p->socket ? "socket" : "host",
		    p->socket ? p->socket : p->host, p->name, p->user,
		    mysql_error(db->conn));
		secret_free(password);
		db_close(db);
		return r;
	}
	secret_free(password);
	*out = db;
	return 0;
}

void
db_close(struct db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < db->ncached; i++) {
		mysql_stmt_close(db->cached[i].stmt);
		free(db->cached[i].sql);
	}
	mysql_close(db->conn);
	free(db);
}

int
db_ping(struct db *db)
{
	if (mysql_ping(db->conn) == 0)
		return 0;
	(void)snprintf(db->error, sizeof(db->error), "%s",
	    mysql_error(db->conn));
	return E_DB_UNAVAILABLE;
}

const char *
db_error(struct db *db)
{
	return db->error;
}

/* Remember the statement's error and map it. */
static int
stmt_fail(struct db *db, MYSQL_STMT *stmt)
{
	unsigned int errnum = stmt ? mysql_stmt_errno(stmt) :
	    mysql_errno(db->conn);

	(void)snprintf(db->error, sizeof(db->error), "%s",
	    stmt ? mysql_stmt_error(stmt) : mysql_error(db->conn));
	return db_code(errnum);
}

/* sql prepared: from the cache if use_cache and it is there (*cached
   then), else made now. */
static int
stmt_get(struct db *db, const char *sql, size_t nparams, int use_cache,
    MYSQL_STMT **out, int *cached)
{
	MYSQL_STMT *stmt;
	size_t i;
	int r;

	*out = NULL;
	*cached = 0;
	for (i = 0; use_cache && i < db->ncached; i++)
		if (strcmp(db->cached[i].sql, sql) == 0) {
			*out = db->cached[i].stmt;
			*cached = 1;
			return 0;
		}
	if (nparams > DB_MAX_BINDS)
		return E_INVALID;
	if ((stmt = mysql_stmt_init(db->conn)) == NULL)
		return stmt_fail(db, NULL);
	if (mysql_stmt_prepare(stmt, sql, strlen(sql)) != 0) {
		r = stmt_fail(db, stmt);
		mysql_stmt_close(stmt);
		return r;
	}
	if (mysql_stmt_param_count(stmt) != nparams) {
		(void)snprintf(db->error, sizeof(db->error), "parameter count");
		mysql_stmt_close(stmt);
		return E_INTERNAL;
	}
	*out = stmt;
	return 0;
}

/* Done with a statement of stmt_get(.., use_cache = 1, ..): keep it
   prepared (it ran, and there is room), or close it.  One that failed
   goes: the failure may have been the connection's. */
static void
stmt_put(struct db *db, const char *sql, MYSQL_STMT *stmt, int cached,
    int ok)
{
	size_t i;

	if (cached && ok)
		return;
	if (cached) {
		for (i = 0; db->cached[i].stmt != stmt; i++)
			;
		free(db->cached[i].sql);
		db->cached[i] = db->cached[--db->ncached];
	} else if (ok && db->ncached < DB_CACHED &&
	    (db->cached[db->ncached].sql = strdup(sql)) != NULL) {
		db->cached[db->ncached++].stmt = stmt;
		return;
	}
	mysql_stmt_close(stmt);
}

/* Bind params to stmt and run it once. */
static int
stmt_run(struct db *db, MYSQL_STMT *stmt, const struct db_val *params,
    size_t nparams)
{
	MYSQL_BIND bind[DB_MAX_BINDS];
	unsigned int single = 0;
	size_t i;

	memset(bind, 0, sizeof(bind));
	for (i = 0; i < nparams; i++) {
		if (params[i].type == DB_INT) {
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = (void *)&params[i].i;
		} else if (params[i].str == NULL) {
			bind[i].buffer_type = MYSQL_TYPE_NULL;
		} else {
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			bind[i].buffer = (void *)params[i].str;
			bind[i].buffer_length = params[i].len;
		}
	}
	/* A cached statement may have run with arrays (db_exec_rows). */
	if (mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &single) != 0 ||
	    (nparams > 0 && mysql_stmt_bind_param(stmt, bind) != 0) ||
	    mysql_stmt_execute(stmt) != 0)
		return stmt_fail(db, stmt);
	return 0;
}

int
db_exec_id(struct db *db, const char *sql, const struct db_val *params,
    size_t nparams, unsigned long long *affected, unsigned long long *id)
{
	MYSQL_STMT *stmt;
	int cached, r;

	if ((r = stmt_get(db, sql, nparams, 1, &stmt, &cached)) != 0)
		return r;
	if ((r = stmt_run(db, stmt, params, nparams)) == 0) {
		if (affected != NULL)
			*affected = (unsigned long long)
			    mysql_stmt_affected_rows(stmt);
		if (id != NULL)
			*id = (unsigned long long)mysql_stmt_insert_id(stmt);
	}
	stmt_put(db, sql, stmt, cached, r == 0);
	return r;
}

int
db_exec(struct db *db, const char *sql, const struct db_val *params,
    size_t nparams, unsigned long long *affected)
{
	return db_exec_id(db, sql, params, nparams, affected, NULL);
}

int
db_exec_rows(struct db *db, const char *sql, long long *const *col,
    size_t ncols, size_t nrows)
{
	MYSQL_BIND bind[DB_MAX_BINDS];
	unsigned int rows = (unsigned int)nrows;
	MYSQL_STMT *stmt;
	size_t j;
	int cached, r;

	if (ncols == 0 || ncols > DB_MAX_BINDS || nrows > 0xFFFFFFFFu)
		return E_INVALID;
	if (nrows == 0)
		return 0;
	if ((r = stmt_get(db, sql, ncols, 1, &stmt, &cached)) != 0)
		return r;
	memset(bind, 0, sizeof(bind));
	for (j = 0; j < ncols; j++) {
		bind[j].buffer_type = MYSQL_TYPE_LONGLONG;
		bind[j].buffer = col[j];
	}
	/* Column-wise arrays: the default bind type. */
	if (mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &rows) != 0 ||
	    mysql_stmt_bind_param(stmt, bind) != 0 ||
	    mysql_stmt_execute(stmt) != 0)
		r = stmt_fail(db, stmt);
	stmt_put(db, sql, stmt, cached, r == 0);
	return r;
}

int
db_begin(struct db *db)
{
	return mysql_autocommit(db->conn, 0) != 0 ? stmt_fail(db, NULL) : 0;
}

int
db_commit(struct db *db)
{
	int r = 0;

	if (mysql_commit(db->conn) != 0)
		r = stmt_fail(db, NULL);
	if (mysql_autocommit(db->conn, 1) != 0 && r == 0)
		r = stmt_fail(db, NULL);
	return r;
}

void
db_rollback(struct db *db)
{
	/* A connection lost meanwhile rolled back by itself. */
	(void)mysql_rollback(db->conn);
	(void)mysql_autocommit(db->conn, 1);
}

int
db_query(struct db *db, const char *sql, const struct db_val *params,
    size_t nparams, struct db_val *cols, size_t ncols,
    int (*row)(void *arg, const struct db_val *cols), void *arg)
{
	MYSQL_BIND bind[DB_MAX_BINDS];
	unsigned long lengths[DB_MAX_BINDS];
	my_bool nulls[DB_MAX_BINDS];
	MYSQL_STMT *stmt;
	size_t i;
	int r, f;

	if (ncols > DB_MAX_BINDS)
		return E_INVALID;
	/* Not cached: its result is read row by row, and may be left
	   half read. */
	if ((r = stmt_get(db, sql, nparams, 0, &stmt, &f)) != 0)
		return r;
	if ((r = stmt_run(db, stmt, params, nparams)) != 0)
		goto out;
	if (mysql_stmt_field_count(stmt) != ncols) {
		(void)snprintf(db->error, sizeof(db->error), "column count");
		r = E_INTERNAL;
		goto out;
	}
	memset(bind, 0, sizeof(bind));
	for (i = 0; i < ncols; i++) {
		bind[i].length = &lengths[i];
		bind[i].is_null = &nulls[i];
		if (cols[i].type == DB_INT) {
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = &cols[i].i;
		} else {
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			bind[i].buffer = cols[i].buf;
			bind[i].buffer_length = cols[i].cap;
		}
	}
	if (mysql_stmt_bind_result(stmt, bind) != 0) {
		r = stmt_fail(db, stmt);
		goto out;
	}
	while ((f = mysql_stmt_fetch(stmt)) == 0 || f == MYSQL_DATA_TRUNCATED) {
		for (i = 0; i < ncols; i++) {
			cols[i].is_null = nulls[i];
			if (cols[i].type == DB_INT)
				continue;
			/* A string must fit with its NUL: never cut silently. */
			if (lengths[i] >= cols[i].cap) {
				(void)snprintf(db->error, sizeof(db->error),
				    "column %zu longer than %zu bytes", i,
				    cols[i].cap - 1);
				r = E_TOO_LONG;
				goto out;
			}
			cols[i].len = nulls[i] ? 0 : lengths[i];
			cols[i].buf[cols[i].len] = '\0';
		}
		if ((r = row(arg, cols)) != 0)
			goto out;
	}
	if (f != MYSQL_NO_DATA)
		r = stmt_fail(db, stmt);
out:
	mysql_stmt_close(stmt);
	return r;
}
