#include "client/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cfg.h"
#include "common/err.h"
#include "common/file.h"
#include "common/text.h"
#include "keydist/keys.h"

#define NONE		SIZE_MAX
/* save(): the file was replaced, but the directory could not be synced. */
#define SAVE_UNSYNCED	1

struct trust_key {
	char user[NAME_USER_MAX + 1];
	char fp[KD_FP_SIZE];
	enum trust_level level;
	size_t next;		/* next key of the same user, or NONE */
};

/* A slot of the user index: first and last key of a user; NONE if free. */
struct trust_user {
	size_t first, last;
};

struct trust {
	char *path, *tmp;
	struct trust_key *keys;		/* in file order */
	size_t nkeys, capkeys;
	struct trust_user *users;	/* open addressing, a power of 2 slots,
					   at most half of them used */
	size_t nusers, capusers;
};

static const char *
level_name(enum trust_level level)
{
	return level == TRUST_VERIFIED ? "verified" : "seen";
}

/* FNV-1a. */
static size_t
user_hash(const char *user)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *user != '\0'; user++)
		h = (h ^ (unsigned char)*user) * 0x100000001b3ULL;
	return (size_t)h;
}

/* The slot of user in users[0..cap), or the free slot where it goes. */
static size_t
user_slot(const struct trust_key *keys, const struct trust_user *users,
    size_t cap, const char *user)
{
	size_t i = user_hash(user) & (cap - 1);

	while (users[i].first != NONE &&
	    strcmp(keys[users[i].first].user, user) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static const struct trust_user *
find_user(const struct trust *t, const char *user)
{
	const struct trust_user *u;

	if (t->capusers == 0)
		return NULL;
	u = &t->users[user_slot(t->keys, t->users, t->capusers, user)];
	return u->first == NONE ? NULL : u;
}

/* The index of (user, fp) in keys, or NONE. */
static size_t
find_key(const struct trust *t, const char *user, const char *fp)
{
	const struct trust_user *u;
	size_t i;

	if ((u = find_user(t, user)) == NULL)
		return NONE;
	for (i = u->first; i != NONE; i = t->keys[i].next)
		if (strcmp(t->keys[i].fp, fp) == 0)
			return i;
	return NONE;
}

/*
 * Room for one more key (at keys[nkeys]) and one more user, so that
 * commit_key() cannot fail.  E_TOO_LONG when the store is full, E_NOMEM.
 */
static int
reserve(struct trust *t)
{
	struct trust_key *k;
	struct trust_user *u;
	size_t cap, i;

	if (t->nkeys == TRUST_MAX_KEYS)
		return E_TOO_LONG;
	if (t->nkeys == t->capkeys) {
		cap = t->capkeys != 0 ? t->capkeys * 2 : 16;
		if (cap > TRUST_MAX_KEYS)
			cap = TRUST_MAX_KEYS;
		if ((k = realloc(t->keys, cap * sizeof(*k))) == NULL)
			return E_NOMEM;
		t->keys = k;
		t->capkeys = cap;
	}
	if ((t->nusers + 1) * 2 > t->capusers) {
		cap = t->capusers != 0 ? t->capusers * 2 : 16;
		if ((u = calloc(cap, sizeof(*u))) == NULL)
			return E_NOMEM;
		for (i = 0; i < cap; i++)
			u[i].first = NONE;
		for (i = 0; i < t->capusers; i++) {
			if (t->users[i].first != NONE)
				u[user_slot(t->keys, u, cap,
				    t->keys[t->users[i].first].user)] =
				    t->users[i];
		}
		free(t->users);
		t->users = u;
		t->capusers = cap;
	}
	return 0;
}

/* Fill keys[nkeys] (after reserve(); user and fp already checked). */
static void
fill_key(struct trust *t, const char *user, const char *fp,
    enum trust_level level)
{
	struct trust_key *k = &t->keys[t->nkeys];

	memcpy(k->user, user, strlen(user) + 1);
	memcpy(k->fp, fp, KD_FP_SIZE);
	k->level = level;
	k->next = NONE;
}

/* Make keys[nkeys], filled by fill_key(), part of the store. */
static void
commit_key(struct trust *t)
{
	struct trust_user *u;

	u = &t->users[user_slot(t->keys, t->users, t->capusers,
	    t->keys[t->nkeys].user)];
	if (u->first == NONE) {
		u->first = t->nkeys;
		t->nusers++;
	} else
		t->keys[u->last].next = t->nkeys;
	u->last = t->nkeys;
	t->nkeys++;
}

/*
 * Write keys[0..n) to the file, keys[change] at level instead of its own
 * (change NONE: no change).  Returns 0; SAVE_UNSYNCED when the file was
 * replaced but the directory could not be synced; E_IO, E_NOMEM or
 * E_INTERNAL with the file untouched and no temporary file left.
 */
static int
save(const struct trust *t, size_t n, size_t change, enum trust_level level)
{
	struct buf b = BUF_INIT;
	char line[TRUST_LINE_MAX + 2];
	size_t i;
	int len, r = 0;

	for (i = 0; i < n && r == 0; i++) {
		len = snprintf(line, sizeof(line), "%s %s %s\n",
		    t->keys[i].user, t->keys[i].fp,
		    level_name(i == change ? level : t->keys[i].level));
		if (len < 0 || (size_t)len >= sizeof(line))
			r = E_INTERNAL;
		else
			r = buf_append(&b, line, (size_t)len);
	}
	if (r == 0)
		r = file_replace(t->path, t->tmp, buf_data(&b), buf_size(&b));
	if (r == FILE_UNSYNCED)
		r = SAVE_UNSYNCED;
	buf_free(&b);
	return r;
}

/* Add (user, fp) at level and save it; the result is save()'s. */
static int
add_key(struct trust *t, const char *user, const char *fp,
    enum trust_level level)
{
	int r;

	if ((r = reserve(t)) != 0)
		return r;
	fill_key(t, user, fp, level);
	if ((r = save(t, t->nkeys + 1, NONE, TRUST_NONE)) < 0)
		return r;
	commit_key(t);
	return r;
}

static int __attribute__((format(printf, 5, 6)))
bad_line(const struct trust *t, size_t lineno, char *err, size_t errlen,
    const char *fmt, ...)
{
	char why[TRUST_LINE_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	cfg_error(err, errlen, "%s:%zu: %s", t->path, lineno, why);
	return E_CONFIG;
}

/* The next field of *s (separated by spaces or tabs), or NULL. */
static char *
next_field(char **s)
{
	char *f = *s + strspn(*s, " \t");

	if (*f == '\0')
		return NULL;
	*s = f + strcspn(f, " \t");
	if (**s != '\0')
		*(*s)++ = '\0';
	return f;
}

static int
load_line(struct trust *t, char *line, size_t lineno, char *err,
    size_t errlen)
{
	char *s = line, *user, *fp, *lv;
	enum trust_level level;
	size_t i;
	int r;

	if ((user = next_field(&s)) == NULL || user[0] == '#')
		return 0;
	if (name_check_user(user) != 0)
		return bad_line(t, lineno, err, errlen,
		    "'%s' is not a valid user name", user);
	if ((fp = next_field(&s)) == NULL)
		return bad_line(t, lineno, err, errlen,
		    "missing fingerprint after '%s'", user);
	if (!kd_fp_valid(fp, strlen(fp)))
		return bad_line(t, lineno, err, errlen,
		    "'%s' is not a fingerprint (SHA256: and 43 base64 "
		    "characters)", fp);
	if ((lv = next_field(&s)) == NULL)
		return bad_line(t, lineno, err, errlen,
		    "missing level (seen or verified)");
	if (strcmp(lv, "seen") == 0)
		level = TRUST_SEEN;
	else if (strcmp(lv, "verified") == 0)
		level = TRUST_VERIFIED;
	else
		return bad_line(t, lineno, err, errlen,
		    "level '%s' is neither seen nor verified", lv);
	if (next_field(&s) != NULL)
		return bad_line(t, lineno, err, errlen,
		    "unexpected text after the level");

	if ((i = find_key(t, user, fp)) != NONE) {
		/* Found: keys != NULL (the analyser loses it in find_key). */
		/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
		if (t->keys[i].level < level)
			t->keys[i].level = level;
		return 0;
	}
	if ((r = reserve(t)) == E_TOO_LONG)
		return bad_line(t, lineno, err, errlen,
		    "more than %d keys", TRUST_MAX_KEYS);
	if (r != 0) {
		cfg_error(err, errlen, "%s: out of memory", t->path);
		return r;
	}
	fill_key(t, user, fp, level);
	commit_key(t);
	return 0;
}

static int
load_file(struct trust *t, FILE *f, char *err, size_t errlen)
{
	char line[TRUST_LINE_MAX + 1];
	size_t len = 0, lineno = 1;
	int c, r;

	while ((c = getc(f)) != EOF) {
		if (c == '\n') {
			line[len] = '\0';
			if ((r = load_line(t, line, lineno, err, errlen)) != 0)
				return r;
			len = 0;
			lineno++;
		} else if (c == '\0')
			return bad_line(t, lineno, err, errlen,
			    "NUL byte in the line");
		else if (len == TRUST_LINE_MAX)
			return bad_line(t, lineno, err, errlen,
			    "line longer than %d bytes", TRUST_LINE_MAX);
		else
			line[len++] = (char)c;
	}
	if (ferror(f)) {
		cfg_error(err, errlen, "%s: %s", t->path, strerror(errno));
		return E_IO;
	}
	/* A last line without its LF, as an editor may leave it. */
	if (len > 0) {
		line[len] = '\0';
		return load_line(t, line, lineno, err, errlen);
	}
	return 0;
}

/* path, and path.tmp to write it through. */
static int
set_paths(struct trust *t, const char *path)
{
	size_t n = strlen(path) + sizeof(".tmp");

	if ((t->path = strdup(path)) == NULL ||
	    (t->tmp = malloc(n)) == NULL)
		return E_NOMEM;
	if (snprintf(t->tmp, n, "%s.tmp", path) != (int)n - 1)
		return E_INTERNAL;
	return 0;
}

int
trust_load(const char *path, struct trust **out, char *err, size_t errlen)
{
	struct trust *t;
	FILE *f;
	int r;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		cfg_error(err, errlen, "%s: out of memory", path);
		return E_NOMEM;
	}
	if ((r = set_paths(t, path)) != 0) {
		cfg_error(err, errlen, "%s: %s", path, err_str(r));
		trust_free(t);
		return r;
	}
	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT) {
			cfg_error(err, errlen, "%s: %s", path,
			    strerror(errno));
			trust_free(t);
			return E_IO;
		}
	} else {
		r = load_file(t, f, err, errlen);
		if (fclose(f) != 0 && r == 0) {
			cfg_error(err, errlen, "%s: %s", path,
			    strerror(errno));
			r = E_IO;
		}
		if (r != 0) {
			trust_free(t);
			return r;
		}
	}
	*out = t;
	return 0;
}

void
trust_free(struct trust *t)
{
	if (t == NULL)
		return;
	free(t->path);
	free(t->tmp);
	free(t->keys);
	free(t->users);
	free(t);
}

int
trust_check(struct trust *t, const char *user, const char *fp,
    enum trust_check_result *res, enum trust_level *level)
{
	size_t i;
	int r;

	*level = TRUST_NONE;
	if (name_check_user(user) != 0 || !kd_fp_valid(fp, strlen(fp)))
		return E_INVALID;
	if ((i = find_key(t, user, fp)) != NONE) {
		*res = TRUST_OK;
		*level = t->keys[i].level;
		return 0;
	}
	if (find_user(t, user) != NULL) {
		*res = TRUST_CHANGED;
		return 0;
	}
	if ((r = add_key(t, user, fp, TRUST_SEEN)) < 0)
		return r;
	*res = TRUST_PINNED_NOW;
	*level = TRUST_SEEN;
	return r == SAVE_UNSYNCED ? E_IO : 0;
}

int
trust_accept(struct trust *t, const char *user, const char *fp,
    enum trust_level level)
{
	size_t i;
	int r;

	if (name_check_user(user) != 0 || !kd_fp_valid(fp, strlen(fp)) ||
	    (level != TRUST_SEEN && level != TRUST_VERIFIED))
		return E_INVALID;
	if ((i = find_key(t, user, fp)) == NONE) {
		if ((r = add_key(t, user, fp, level)) < 0)
			return r;
	} else if (t->keys[i].level >= level)
		return 0;
	else {
		if ((r = save(t, t->nkeys, i, level)) < 0)
			return r;
		t->keys[i].level = level;
	}
	return r == SAVE_UNSYNCED ? E_IO : 0;
}

enum trust_level
trust_level_of(const struct trust *t, const char *user, const char *fp)
{
	size_t i = find_key(t, user, fp);

	return i == NONE ? TRUST_NONE : t->keys[i].level;
}

size_t
trust_each(const struct trust *t, const char *user,
    void (*fn)(void *arg, const char *fp, enum trust_level level), void *arg)
{
	const struct trust_user *u;
	size_t i, n = 0;

	if ((u = find_user(t, user)) == NULL)
		return 0;
	for (i = u->first; i != NONE; i = t->keys[i].next, n++)
		if (fn != NULL)
			fn(arg, t->keys[i].fp, t->keys[i].level);
	return n;
}
