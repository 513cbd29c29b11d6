/*
 * MariaDB access through prepared statements only.  A statement's
 * parameters and result columns are described by small arrays of db_val,
 * so no caller builds SQL text from data.
 */
#ifndef MISSIVE_DB_H
#define MISSIVE_DB_H

#include <stddef.h>

struct db;

/* Where and as whom to connect; socket or host (socket wins). */
struct db_params {
	const char *socket;
	const char *host;
	unsigned port;
	const char *name;            /* database */
	const char *user;
	const char *password_file;   /* mode 0600, see secret_read_file() */
	unsigned timeout_s;          /* connect/read/write timeout, 0 = 5 s */
};

enum db_type { DB_INT, DB_STR };

/*
 * A parameter (input) or a result column (output).
 * Input:  DB_INT uses i; DB_STR uses str/len (str NULL = SQL NULL).
 * Output: DB_INT fills i; DB_STR fills buf (cap bytes, NUL-terminated) and
 *         len; is_null is set for SQL NULL.  A value longer than cap-1 is
 *         an error (E_TOO_LONG), never silently cut.
 */
struct db_val {
	enum db_type type;
	long long i;
	const char *str;
	size_t len;
	char *buf;
	size_t cap;
	char is_null;
};

#define DB_IN_INT(v) { .type = DB_INT, .i = (v) }
#define DB_IN_STR(s) { .type = DB_STR, .str = (s), .len = strlen(s) }
#define DB_OUT_INT() { .type = DB_INT }
#define DB_OUT_STR(b) { .type = DB_STR, .buf = (b), .cap = sizeof(b) }

/*
 * Connect.  On failure *out is NULL and err holds a message for the admin
 * (which database, which account, what the server said); the return is
 * E_DB_UNAVAILABLE if the server could not be reached, E_KEY_PERM or
 * E_IO for the password file, else E_DB.
 */
int db_open(const struct db_params *p, struct db **out, char *err,
    size_t errlen) __attribute__((warn_unused_result));
void db_close(struct db *db);

/*
 * Check that the connection still reaches the server (one round trip):
 * 0, or E_DB_UNAVAILABLE for a connection the server has dropped (it was
 * restarted, or closed an idle session).
 */
int db_ping(struct db *db) __attribute__((warn_unused_result));

/* The last error text of this connection (for logs; never holds secrets). */
const char *db_error(struct db *db);

/*
 * Run a statement that returns no rows.  *affected (if not NULL) gets the
 * number of rows changed.  Returns 0, E_EXISTS for a duplicate key,
 * E_DB_UNAVAILABLE if the connection is lost, E_DB_FULL when the server
 * has no space left (a table or its disk is full), E_DB_CONFLICT when
 * InnoDB rolled the transaction back for a deadlock or a lock wait (run
 * it again), or E_DB.
 */
int db_exec(struct db *db, const char *sql, const struct db_val *params,
    size_t nparams, unsigned long long *affected)
    __attribute__((warn_unused_result));

/*
 * Run a query; for each row, fill cols and call row(arg, cols).  A non-zero
 * return from row stops the fetch and is returned.  Returns 0 after the
 * last row, or an error as db_exec().
 */
int db_query(struct db *db, const char *sql, const struct db_val *params,
    size_t nparams, struct db_val *cols, size_t ncols,
    int (*row)(void *arg, const struct db_val *cols), void *arg)
    __attribute__((warn_unused_result));

/*
 * As db_exec(), and *id gets the statement's insert id: the new
 * AUTO_INCREMENT value, or the value an UPDATE gave LAST_INSERT_ID(expr)
 * (0 when it set none).
 */
int db_exec_id(struct db *db, const char *sql, const struct db_val *params,
    size_t nparams, unsigned long long *affected, unsigned long long *id)
    __attribute__((warn_unused_result));

/*
 * Run an INSERT (or UPDATE) whose ? are all integers once per row, in
 * one round trip (MariaDB's array binding): col[j][i] is parameter j of
 * row i, ncols <= 16.  Returns as db_exec().
 */
int db_exec_rows(struct db *db, const char *sql, long long *const *col,
    size_t ncols, size_t nrows) __attribute__((warn_unused_result));

/* Transactions: autocommit off until db_commit() or db_rollback(). */
int db_begin(struct db *db) __attribute__((warn_unused_result));
int db_commit(struct db *db) __attribute__((warn_unused_result));
void db_rollback(struct db *db);

/* The schema version this build needs (the highest migration in
   sql/migrations, applied by scripts/db.sh). */
#define MISSIVE_SCHEMA_VERSION 3

#endif
