/*
 * Password hashing with Argon2id (libargon2), stored as PHC strings:
 * $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
 *
 * The parameters are at least OWASP's minimum (m=19456 KiB, t=2, p=1).
 * Verification refuses stored hashes whose parameters are outside sane
 * bounds, so that a tampered database row cannot make the server spend
 * gigabytes on one login.
 */
#ifndef MISSIVE_PASSWD_H
#define MISSIVE_PASSWD_H

#include <stddef.h>

#define PASSWD_M_KIB 19456
#define PASSWD_T_COST 2
#define PASSWD_PARALLELISM 1
#define PASSWD_SALT_LEN 16
#define PASSWD_HASH_LEN 32
#define PASSWD_PHC_MAX 128
/* New passwords set through the admin tool must be this long. */
#define PASSWD_MIN_LEN 8

/* Hash password into out as a PHC string with a fresh random salt. */
int passwd_hash(const char *password, size_t len, char out[PASSWD_PHC_MAX])
    __attribute__((warn_unused_result));

/*
 * Check password against a stored PHC string in constant time.
 * Returns 0 on a match, E_PASSWORD on a mismatch, E_MALFORMED if the
 * stored string is not an acceptable Argon2id hash.
 */
int passwd_verify(const char *phc, const char *password, size_t len)
    __attribute__((warn_unused_result));

/*
 * Spend the time of one verification and fail: used when the account does
 * not exist, so that timing does not tell whether it does.
 */
void passwd_verify_dummy(const char *password, size_t len);

#endif
