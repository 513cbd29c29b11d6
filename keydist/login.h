/*
 * The login secret (docs/PROTOCOL.md section 5, version 2): what a client
 * sends in 0001 instead of the password, so that the server never sees
 * the password itself.
 *
 *   salt   = SHA-256("missive login v2\n" || m(server_fp) || m(user))
 *   secret = Argon2id(password, salt, t=2, m=19456 KiB, p=1, 32 bytes)
 *
 * with m(x) = uint32_be(len(x)) || x and server_fp the pinned server
 * key's SSH-style fingerprint; the secret travels as b64(secret), 44
 * characters.  The salt binds the secret to the server and the user: a
 * secret logged by one server, or for one user, is worth nothing for
 * another, and it tells nothing about the password but through an
 * Argon2id guess per password.  The admin tools derive the same secret
 * and store an Argon2id hash of it (common/passwd.h).
 */
#ifndef MISSIVE_LOGIN_H
#define MISSIVE_LOGIN_H

#include <stddef.h>

#define KD_LOGIN_T_COST 2
#define KD_LOGIN_M_KIB 19456
#define KD_LOGIN_LANES 1
#define KD_LOGIN_LEN 32                  /* the secret, in bytes */
#define KD_LOGIN_B64_LEN 44              /* as sent, in characters */

/*
 * The login secret of user for password at the server whose key has the
 * fingerprint server_fp, as b64 into out (NUL-terminated).  0, E_INVALID
 * (an empty or overlong password) or E_CRYPTO.
 */
int kd_login_secret(const char *password, size_t len, const char *server_fp,
    const char *user, char out[KD_LOGIN_B64_LEN + 1])
    __attribute__((warn_unused_result));

/* 1 if s[0..len) has the shape of a login secret (b64 of 32 bytes). */
int kd_login_secret_valid(const char *s, size_t len);

#endif
