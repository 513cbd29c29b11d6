/*
 * A schema-driven configuration loader on top of libconfig.
 *
 * The caller describes every setting it accepts in a table of struct
 * cfg_field and gets its own struct filled in: values from the file,
 * defaults for what the file leaves out.  The file may hold nothing that
 * the table does not name, so a misspelt setting is an error instead of a
 * silently ignored line.  Every message names the file and, where a
 * setting is at fault, its line:
 *
 *	server.conf:12: 'listen.port' must be between 1 and 65535 (got 70000)
 *
 * Checks, in this order; the first failure is the one reported:
 *   1. the file is a readable regular file of at most CFG_FILE_MAX bytes,
 *      without NUL bytes or @include directives;
 *   2. libconfig parses it ("FILE:LINE: syntax error: ...");
 *   3. no integer literal overflows (libconfig 1.5 silently truncates a
 *      literal without an L suffix to 32 bits; we refuse it instead);
 *   4. every setting in the file is in the table, groups where the table
 *      has groups and values where it has values;
 *   5. each field in table order: type, range, missing required.
 */
#ifndef MISSIVE_CFG_H
#define MISSIVE_CFG_H

#include <stddef.h>

/* Longest dotted path a table may use, with its NUL. */
#define CFG_PATH_MAX 128
/* Largest configuration file accepted, in bytes. */
#define CFG_FILE_MAX (1 << 20)

enum cfg_type {
	CFG_INT,	/* libconfig int or int64 → long long */
	CFG_BOOL,	/* true or false only → int (0 or 1) */
	CFG_STRING,	/* string without control characters → char * */
	CFG_PATH	/* as CFG_STRING; relative paths are resolved against
			   the (absolute) directory of the config file */
};

struct cfg_field {
	const char *path;	/* dotted path, e.g. "limits.max_frame" */
	enum cfg_type type;
	int required;		/* missing → error; else the default applies */
	long long min, max;	/* INT: inclusive value range;
				   STRING/PATH: inclusive byte length range */
	long long def_int;	/* default for INT and BOOL */
	const char *def_str;	/* default for STRING/PATH; NULL leaves the
				   field NULL.  A relative PATH default is
				   resolved like a value from the file. */
	size_t offset;		/* offsetof() the target in the caller's
				   struct: long long for INT, int for BOOL,
				   char * (malloc'd) for STRING/PATH */
	const char *help;	/* one line, appended to "missing" messages */
};

/*
 * Load file according to fields[0..nfields) into out.  Every field of out
 * named by the table is overwritten (previous strings are not freed).
 * Returns 0, or E_CONFIG (bad content), E_IO (cannot read the file or
 * resolve its directory), E_NOMEM, or E_INVALID (the table itself is
 * bad: a path longer than CFG_PATH_MAX).  On error err holds one line
 * describing the first problem, and every string field of out is NULL.
 * err may be NULL when errlen is 0.
 *
 * check (may be NULL) runs after every field loaded, for rules that relate
 * several settings; it returns 0 or E_CONFIG with its message in err, and
 * its failure frees the strings like any other.
 */
typedef int cfg_check_fn(const char *file, const void *out, char *err,
    size_t errlen);
int cfg_load(const char *file, const struct cfg_field *fields, size_t nfields,
    void *out, cfg_check_fn *check, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Free every string field of out named by the table and set it to NULL. */
void cfg_free(const struct cfg_field *fields, size_t nfields, void *out);

/*
 * Format a message into err (when errlen > 0), truncating if needed.  For
 * the callers' own checks after cfg_load, so that every message is built
 * the same way.
 */
void cfg_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
