/*
 * User accounts and their enrolled client keys in MariaDB: the queries the
 * admin tools and the server run.  Names and nicknames are validated here
 * (common/text.h) before any statement runs.
 */
#ifndef MISSIVE_ACCOUNTS_H
#define MISSIVE_ACCOUNTS_H

#include "common/db.h"
#include "common/passwd.h"
#include "common/text.h"
#include "keydist/keys.h"

struct account {
	long long id;
	char name[NAME_USER_MAX + 1];
	char nick[NAME_NICK_MAX * 4 + 1]; /* VARCHAR(64) of utf8mb4 */
	char phc[256];
	int disabled;
	long long failed_logins;
	long long locked_until;           /* Unix time, 0 = not locked */
	long long created_at;             /* Unix time */
	long long nkeys;                  /* enrolled, not revoked keys */
};

/* Create an account.  E_BAD_NAME, E_BAD_NICK, E_EXISTS, E_DB... */
int accounts_add(struct db *db, const char *name, const char *nick,
    const char *phc) __attribute__((warn_unused_result));

/* Replace the password hash and clear failed-login state.  E_NOT_FOUND. */
int accounts_set_password(struct db *db, const char *name, const char *phc)
    __attribute__((warn_unused_result));

/* Disable (1) or enable (0) an account.  E_NOT_FOUND. */
int accounts_set_disabled(struct db *db, const char *name, int disabled)
    __attribute__((warn_unused_result));

/* Look up one account (E_NOT_FOUND). */
int accounts_get(struct db *db, const char *name, struct account *out)
    __attribute__((warn_unused_result));

/* Call fn for every account, ordered by name. */
int accounts_list(struct db *db, int (*fn)(void *arg, const struct account *),
    void *arg) __attribute__((warn_unused_result));

/*
 * Enroll a client public key for name under a device label (same rules
 * as user names).  The key's fingerprint is computed here.  E_NOT_FOUND (no such user), E_EXISTS (the
 * key is enrolled already, or the device label is taken).
 */
int accounts_enroll_key(struct db *db, const char *name, const char *device,
    EVP_PKEY *key) __attribute__((warn_unused_result));

/*
 * The user a key (by fingerprint) is enrolled for, if not revoked:
 * E_NOT_FOUND otherwise.  name holds NAME_USER_MAX + 1 bytes.
 */
int accounts_key_owner(struct db *db, const char *fingerprint, char *name)
    __attribute__((warn_unused_result));

/* One enrolled key with what the server's key directory needs. */
struct account_key {
	long long key_id;
	const char *fp, *owner, *nick;
	const char *pem;             /* public_key_pem */
	size_t pem_len;
	int disabled;                /* the owner's account */
};

/*
 * Call fn for every enrolled key that is not revoked.  fn's non-zero
 * return stops the query and is returned.
 */
int accounts_enrolled_keys(struct db *db, int (*fn)(void *arg,
    const struct account_key *row), void *arg)
    __attribute__((warn_unused_result));

/*
 * Revoke the enrolled key with this fingerprint: it is refused at the next
 * handshake.  E_NOT_FOUND if no such key is enrolled (revoked or not).
 */
int accounts_revoke_key(struct db *db, const char *fingerprint)
    __attribute__((warn_unused_result));

#endif
