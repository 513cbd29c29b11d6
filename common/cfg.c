#include "common/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/file.h"

/* What one cfg_load() carries from step to step. */
struct cfg_ctx {
	const char *file;		/* as the caller named it */
	const struct cfg_field *fields;
	size_t nfields;
	void *out;
	char *dir;			/* realpath of file's directory, made
					   for the first relative path */
	char *err;
	size_t errlen;
};

/*
 * What the lexical pass found: the first thing that stops us before
 * libconfig may see the text, and the first integer literal that libconfig
 * would silently get wrong.
 */
struct cfg_scan {
	unsigned int bad_line;		/* 0: nothing */
	const char *bad_what;
	unsigned int int_line;		/* 0: nothing */
	int int_fits64;			/* the literal would fit with an L */
	char int_tok[32];
};

void
cfg_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

/* The caller's field that f describes, typed as the table says. */
static long long *
field_int(void *out, const struct cfg_field *f)
{
	return (long long *)(void *)((char *)out + f->offset);
}

static int *
field_bool(void *out, const struct cfg_field *f)
{
	return (int *)(void *)((char *)out + f->offset);
}

static char **
field_str(void *out, const struct cfg_field *f)
{
	return (char **)(void *)((char *)out + f->offset);
}

static int
is_str_type(enum cfg_type t)
{
	return t == CFG_STRING || t == CFG_PATH;
}

void
cfg_free(const struct cfg_field *fields, size_t nfields, void *out)
{
	size_t i;

	for (i = 0; i < nfields; i++) {
		char **p;

		if (!is_str_type(fields[i].type))
			continue;
		p = field_str(out, &fields[i]);
		free(*p);
		*p = NULL;
	}
}

/*
 * Read the whole file into a NUL-terminated buffer.  Only a regular file
 * of at most CFG_FILE_MAX bytes is read (a FIFO would block, a directory
 * would make libconfig's scanner exit the process).
 */
static int
read_file(struct cfg_ctx *x, char **bufp, size_t *lenp)
{
	int r;

	r = file_read_all(x->file, CFG_FILE_MAX, bufp, lenp, NULL, x->err,
	    x->errlen);
	if (r == E_NOT_FOUND)
		return E_IO;
	if (r == E_TOO_LONG)
		return E_CONFIG;	/* too big is bad content */
	return r;
}

/*
 * tok[0..n) is a token that starts like a number.  If it is an integer
 * literal that libconfig 1.5 would store wrongly, remember the first one:
 * without an L suffix it keeps only the low 32 bits (5000000000 becomes
 * 705032704, 0xffffffff becomes -1); with one it saturates.
 */
static void
scan_int(struct cfg_scan *sc, const char *tok, size_t n, unsigned int line)
{
	char tmp[sizeof(sc->int_tok)], *ep;
	size_t k = 0, end = n, m;
	int is64 = 0, hex = 0, over;

	if (sc->int_line != 0)
		return;
	if (end >= 2 && tok[end - 1] == 'L') {
		is64 = 1;
		end--;
		if (end >= 2 && tok[end - 1] == 'L')
			end--;
	}
	if (tok[k] == '+' || tok[k] == '-')
		k++;
	if (end - k > 2 && tok[k] == '0' && (tok[k + 1] == 'x' ||
	    tok[k + 1] == 'X')) {
		hex = 1;
		k += 2;
	}
	if (k >= end)
		return;
	for (m = k; m < end; m++) {
		unsigned char ch = (unsigned char)tok[m];

		if (hex ? !isxdigit(ch) : !isdigit(ch))
			return;		/* a float, or not a number at all */
	}

	if (end >= sizeof(tmp)) {
		over = 1;		/* more digits than any 64-bit value */
		sc->int_fits64 = 0;
	} else {
		memcpy(tmp, tok, end);
		tmp[end] = '\0';
		errno = 0;
		if (hex) {
			unsigned long long u = strtoull(tmp, &ep, 16);

			sc->int_fits64 = errno != ERANGE && u <= LLONG_MAX;
			over = !sc->int_fits64 || (!is64 && u > INT_MAX);
		} else {
			long long v = strtoll(tmp, &ep, 10);

			sc->int_fits64 = errno != ERANGE;
			over = !sc->int_fits64 || (!is64 &&
			    (v < INT_MIN || v > INT_MAX));
		}
	}
	if (!over)
		return;
	sc->int_line = line;
	m = n < sizeof(sc->int_tok) ? n : sizeof(sc->int_tok) - 1;
	memcpy(sc->int_tok, tok, m);
	sc->int_tok[m] = '\0';
}

static int
is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '*';
}

/*
 * A lexical pass over the raw text.  It knows just enough of libconfig's
 * grammar (strings with escapes, three comment styles, names, numbers) to
 * find NUL bytes (libconfig would stop reading there), @include (it would
 * read a file relative to the working directory, outside our checks) and
 * integer literals libconfig would truncate (see scan_int).  Malformed
 * text is left for libconfig to report.
 */
static void
scan_text(const char *buf, size_t len, struct cfg_scan *sc)
{
	unsigned int line = 1;
	size_t i = 0, j;

	memset(sc, 0, sizeof(*sc));
	while (i < len) {
		char c = buf[i];
		char next = '\0';

		if (i + 1 < len)
			next = buf[i + 1];

		if (c == '\0') {
			sc->bad_line = line;
			sc->bad_what = "NUL byte in file";
			return;
		} else if (c == '\n') {
			line++;
			i++;
		} else if (c == '#' || (c == '/' && next == '/')) {
			while (i < len && buf[i] != '\n' && buf[i] != '\0')
				i++;
		} else if (c == '/' && next == '*') {
			for (i += 2; i < len; i++) {
				if (buf[i] == '*' && i + 1 < len &&
				    buf[i + 1] == '/') {
					i += 2;
					break;
				}
				if (buf[i] == '\0')
					break;
				if (buf[i] == '\n')
					line++;
			}
		} else if (c == '"') {
			for (i++; i < len && buf[i] != '"' && buf[i] != '\0';
			    i++) {
				if (buf[i] == '\\' && i + 1 < len &&
				    buf[i + 1] != '\0')
					i++;
				if (buf[i] == '\n')
					line++;
			}
			if (i < len && buf[i] == '"')
				i++;
		} else if (c == '@') {
			if (strncmp(buf + i + 1, "include", 7) == 0) {
				sc->bad_line = line;
				sc->bad_what = "@include is not supported";
				return;
			}
			i++;
		} else if (isalpha((unsigned char)c) || c == '*') {
			while (i < len && is_name_char(buf[i]))
				i++;
		} else if (isdigit((unsigned char)c) || ((c == '-' ||
		    c == '+' || c == '.') && (isdigit((unsigned char)next) ||
		    next == '.'))) {
			for (j = i + 1; j < len; j++) {
				char p = buf[j - 1], d = buf[j];

				if (!isalnum((unsigned char)d) && d != '.' &&
				    !((d == '+' || d == '-') &&
				    (p == 'e' || p == 'E')))
					break;
			}
			scan_int(sc, buf + i, j - i, line);
			i = j;
		} else {
			i++;
		}
	}
}

static const struct cfg_field *
find_field(const struct cfg_ctx *x, const char *path)
{
	size_t i;

	for (i = 0; i < x->nfields; i++)
		if (strcmp(x->fields[i].path, path) == 0)
			return &x->fields[i];
	return NULL;
}

/* 1 if some field lives inside the group at path. */
static int
group_known(const struct cfg_ctx *x, const char *path)
{
	size_t i, n = strlen(path);

	for (i = 0; i < x->nfields; i++)
		if (strncmp(x->fields[i].path, path, n) == 0 &&
		    x->fields[i].path[n] == '.')
			return 1;
	return 0;
}

/*
 * Refuse anything in group (whose dotted path is prefix, "" at the root)
 * that the table does not name: an unknown name, a group where the table
 * has a value, or a value (scalar, array or list) where it has a group.
 * It recurses only into a group the table knows, so it goes no deeper than
 * the table's longest path, whatever the file holds.
 */
/* NOLINTBEGIN(misc-no-recursion): bounded by the table, see above */
static int
walk(struct cfg_ctx *x, const config_setting_t *group, const char *prefix)
{
	char path[CFG_PATH_MAX];
	int i, n, len, r;

	n = config_setting_length(group);
	for (i = 0; i < n; i++) {
		const config_setting_t *s;
		const char *name;
		int known;

		s = config_setting_get_elem(group, (unsigned int)i);
		if (s == NULL)
			continue;
		name = config_setting_name(s);
		if (name == NULL)
			name = "?";
		len = snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] != '\0' ? "." : "", name);
		if (len < 0 || (size_t)len >= sizeof(path))
			known = 0;	/* longer than any path in a table */
		else if (config_setting_is_group(s))
			known = group_known(x, path);
		else
			known = find_field(x, path) != NULL;
		if (!known) {
			cfg_error(x->err, x->errlen,
			    "%s:%u: unknown setting '%s'", x->file,
			    config_setting_source_line(s), path);
			return E_CONFIG;
		}
		if (config_setting_is_group(s) &&
		    (r = walk(x, s, path)) != 0)
			return r;
	}
	return 0;
}
/* NOLINTEND(misc-no-recursion) */

/* Make x->dir: the absolute, symlink-free directory of the config file. */
static int
make_dir(struct cfg_ctx *x)
{
	char *d, *slash;

	if ((d = strdup(x->file)) == NULL) {
		cfg_error(x->err, x->errlen, "%s: out of memory", x->file);
		return E_NOMEM;
	}
	if ((slash = strrchr(d, '/')) == NULL) {
		free(d);
		d = strdup(".");
	} else if (slash == d) {
		slash[1] = '\0';	/* "/x.conf" → "/" */
	} else {
		*slash = '\0';
	}
	if (d == NULL) {
		cfg_error(x->err, x->errlen, "%s: out of memory", x->file);
		return E_NOMEM;
	}
	if ((x->dir = realpath(d, NULL)) == NULL) {
		int e = errno;

		cfg_error(x->err, x->errlen,
		    "%s: cannot resolve directory '%s': %s", x->file, d,
		    strerror(e));
		free(d);
		return e == ENOMEM ? E_NOMEM : E_IO;
	}
	free(d);
	return 0;
}

/* Store a copy of v in field f; a relative PATH is made absolute. */
static int
set_string(struct cfg_ctx *x, const struct cfg_field *f, const char *v)
{
	char **dst = field_str(x->out, f), *p;
	size_t dl, vl;
	int r;

	if (f->type == CFG_PATH && v[0] != '/') {
		if (x->dir == NULL && (r = make_dir(x)) != 0)
			return r;
		dl = strlen(x->dir);
		vl = strlen(v);
		if ((p = malloc(dl + 1 + vl + 1)) == NULL)
			goto nomem;
		memcpy(p, x->dir, dl);
		if (dl == 0 || x->dir[dl - 1] != '/')
			p[dl++] = '/';
		memcpy(p + dl, v, vl + 1);
	} else if ((p = strdup(v)) == NULL) {
		goto nomem;
	}
	*dst = p;
	return 0;
nomem:
	cfg_error(x->err, x->errlen, "%s: out of memory", x->file);
	return E_NOMEM;
}

/* Apply f's default: the field was not in the file. */
static int
set_default(struct cfg_ctx *x, const struct cfg_field *f)
{
	switch (f->type) {
	case CFG_INT:
		*field_int(x->out, f) = f->def_int;
		return 0;
	case CFG_BOOL:
		*field_bool(x->out, f) = f->def_int != 0;
		return 0;
	case CFG_STRING:
	case CFG_PATH:
		if (f->def_str == NULL)
			return 0;
		return set_string(x, f, f->def_str);
	}
	return E_INVALID;
}

/* Check a STRING or PATH setting (type, length, bytes); store it. */
static int
load_string(struct cfg_ctx *x, const struct cfg_field *f,
    const config_setting_t *s)
{
	unsigned int line = config_setting_source_line(s);
	const char *v = NULL;
	size_t i, len;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	if (v == NULL) {
		cfg_error(x->err, x->errlen, "%s:%u: '%s' must be a string",
		    x->file, line, f->path);
		return E_CONFIG;
	}
	len = strlen(v);
	if ((long long)len < f->min || (long long)len > f->max) {
		cfg_error(x->err, x->errlen,
		    "%s:%u: '%s' must be between %lld and %lld bytes long "
		    "(got %zu)", x->file, line, f->path, f->min, f->max, len);
		return E_CONFIG;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c == 0x7f) {
			cfg_error(x->err, x->errlen,
			    "%s:%u: '%s' contains a control character "
			    "(byte %zu)", x->file, line, f->path, i + 1);
			return E_CONFIG;
		}
	}
	return set_string(x, f, v);
}

/* Check and store one field from the parsed file, or its default. */
static int
load_field(struct cfg_ctx *x, const config_t *c, const struct cfg_field *f)
{
	const config_setting_t *s;
	unsigned int line;
	long long v;
	int t;

	if ((s = config_lookup(c, f->path)) == NULL) {
		if (!f->required)
			return set_default(x, f);
		cfg_error(x->err, x->errlen,
		    "%s: missing required setting '%s'%s%s%s", x->file,
		    f->path, f->help != NULL ? " (" : "",
		    f->help != NULL ? f->help : "", f->help != NULL ? ")" : "");
		return E_CONFIG;
	}
	line = config_setting_source_line(s);
	t = config_setting_type(s);
	switch (f->type) {
	case CFG_INT:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
			cfg_error(x->err, x->errlen,
			    "%s:%u: '%s' must be an integer", x->file, line,
			    f->path);
			return E_CONFIG;
		}
		v = config_setting_get_int64(s);
		if (v < f->min || v > f->max) {
			cfg_error(x->err, x->errlen,
			    "%s:%u: '%s' must be between %lld and %lld "
			    "(got %lld)", x->file, line, f->path, f->min,
			    f->max, v);
			return E_CONFIG;
		}
		*field_int(x->out, f) = v;
		return 0;
	case CFG_BOOL:
		if (t != CONFIG_TYPE_BOOL) {
			cfg_error(x->err, x->errlen,
			    "%s:%u: '%s' must be true or false", x->file, line,
			    f->path);
			return E_CONFIG;
		}
		*field_bool(x->out, f) = config_setting_get_bool(s) != 0;
		return 0;
	case CFG_STRING:
	case CFG_PATH:
		return load_string(x, f, s);
	}
	return E_INVALID;
}

int
cfg_load(const char *file, const struct cfg_field *fields, size_t nfields,
    void *out, cfg_check_fn *check, char *err, size_t errlen)
{
	struct cfg_ctx x = {
		.file = file, .fields = fields, .nfields = nfields,
		.out = out, .err = err, .errlen = errlen,
	};
	struct cfg_scan sc;
	config_t c;
	char *buf = NULL;
	size_t len, i;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	for (i = 0; i < nfields; i++)
		if (is_str_type(fields[i].type))
			*field_str(out, &fields[i]) = NULL;
	for (i = 0; i < nfields; i++) {
		if (strlen(fields[i].path) >= CFG_PATH_MAX) {
			cfg_error(err, errlen, "%s: internal: setting path "
			    "'%s' too long", file, fields[i].path);
			return E_INVALID;
		}
	}

	config_init(&c);
	if ((r = read_file(&x, &buf, &len)) != 0)
		goto out;
	scan_text(buf, len, &sc);
	if (sc.bad_line != 0) {
		cfg_error(err, errlen, "%s:%u: %s", file, sc.bad_line,
		    sc.bad_what);
		r = E_CONFIG;
		goto out;
	}
	if (config_read_string(&c, buf) != CONFIG_TRUE) {
		cfg_error(err, errlen, "%s:%d: syntax error: %s", file,
		    config_error_line(&c), config_error_text(&c) != NULL ?
		    config_error_text(&c) : "unknown");
		r = E_CONFIG;
		goto out;
	}
	if (sc.int_line != 0) {
		if (sc.int_fits64)
			cfg_error(err, errlen, "%s:%u: integer %s does not fit "
			    "in a 32-bit int: write it as %sL", file,
			    sc.int_line, sc.int_tok, sc.int_tok);
		else
			cfg_error(err, errlen, "%s:%u: integer %s is out of "
			    "range", file, sc.int_line, sc.int_tok);
		r = E_CONFIG;
		goto out;
	}
	if ((r = walk(&x, config_root_setting(&c), "")) != 0)
		goto out;
	for (i = 0; i < nfields; i++)
		if ((r = load_field(&x, &c, &fields[i])) != 0)
			goto out;
	if (check != NULL)
		r = check(file, out, err, errlen);
out:
	config_destroy(&c);
	free(buf);
	free(x.dir);
	if (r != 0)
		cfg_free(fields, nfields, out);
	return r;
}
