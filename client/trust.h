/*
 * Pinned peer keys, like ssh's known_hosts (PROTOCOL.md section 8.4).
 *
 * The store is a text file, known_keys in the client folder, one line per
 * key:
 *
 *	user fingerprint seen|verified
 *
 * user is a valid user name (common/text.h), fingerprint is what
 * kd_fingerprint() makes ("SHA256:" and 43 characters of unpadded base64).
 * Fields are separated by spaces or tabs; blank lines and lines starting
 * with '#' are allowed when loading.  The client rewrites the whole file
 * on every change, with single spaces and in the order the keys were
 * first pinned, and without the comments and blank lines: the file is the
 * client's, not meant to be edited by hand.
 *
 * The first key seen for a user is pinned as "seen" (trust on first use);
 * the client core pins its own key as "verified" before anything else,
 * so that another key of its own user is never pinned on first use.
 * Any other key for that user is "changed" until accepted; a user may have
 * several accepted keys (one per device).  "verified" records that the
 * fingerprint was compared out of band.
 *
 * Every change is saved before it takes effect in memory: the file is
 * written to PATH.tmp (mode 0600), synced and renamed over PATH, then the
 * directory is synced.  If saving fails, PATH is left as it was and so is
 * the store in memory.  Only a failure to sync the directory comes too
 * late to undo: the change is then in the file and in memory, and E_IO
 * says that it may not survive a crash.
 */
#ifndef MISSIVE_CLIENT_TRUST_H
#define MISSIVE_CLIENT_TRUST_H

#include <stddef.h>

#define TRUST_MAX_KEYS	100000	/* keys in one store */
#define TRUST_LINE_MAX	256	/* bytes in one line, without its LF */

enum trust_level { TRUST_NONE, TRUST_SEEN, TRUST_VERIFIED };

enum trust_check_result {
	TRUST_PINNED_NOW,	/* first key for this user: pinned and saved */
	TRUST_OK,		/* pinned before (level tells seen/verified) */
	TRUST_CHANGED,		/* the user has other pinned keys, not
				   this one */
};

struct trust;

/*
 * Load the store at path into *out.  A missing file is an empty store; the
 * file is created (mode 0600) on the first save.  Returns 0, or E_CONFIG
 * for a malformed file ("PATH:LINE: why" in err: a bad user, fingerprint
 * or level, a missing or extra field, a line longer than TRUST_LINE_MAX,
 * a NUL byte, more than TRUST_MAX_KEYS keys), E_IO (with "PATH: why") or
 * E_NOMEM.  A key listed twice keeps the higher level.  err may be NULL
 * when errlen is 0.
 */
int trust_load(const char *path, struct trust **out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* Free the store; t may be NULL. */
void trust_free(struct trust *t);

/*
 * Look up user's key fp: *res tells whether it is pinned, *level its level
 * (TRUST_NONE when changed).  The first key for a user is pinned as
 * TRUST_SEEN and saved.  Returns 0; E_INVALID for a bad user name or
 * fingerprint; E_IO or E_NOMEM if the pin could not be saved, and then
 * nothing is pinned in memory either; E_TOO_LONG if the store already
 * holds TRUST_MAX_KEYS keys.  On these errors *res is not set and *level
 * is TRUST_NONE.  (E_IO from the directory sync alone is the exception
 * described above: the key is pinned, *res and *level say so.)
 */
int trust_check(struct trust *t, const char *user, const char *fp,
    enum trust_check_result *res, enum trust_level *level)
    __attribute__((warn_unused_result));

/*
 * Accept fp for user at level (TRUST_SEEN or TRUST_VERIFIED) and save.  A
 * level is never lowered: accepting a verified key as seen changes
 * nothing (and writes nothing).  Returns 0, E_INVALID (bad user, key or
 * level), E_IO, E_NOMEM, or E_TOO_LONG (the store is full); on error the
 * store is unchanged.
 */
int trust_accept(struct trust *t, const char *user, const char *fp,
    enum trust_level level) __attribute__((warn_unused_result));

/* The level of (user, fp), TRUST_NONE if not pinned; pins nothing. */
enum trust_level trust_level_of(const struct trust *t, const char *user,
    const char *fp);

/*
 * Call fn(arg, fp, level) for each pinned key of user, in file order;
 * returns how many keys user has (0 for a user with none).  fn may be
 * NULL, to count only.
 */
size_t trust_each(const struct trust *t, const char *user,
    void (*fn)(void *arg, const char *fp, enum trust_level level),
    void *arg);

#endif
