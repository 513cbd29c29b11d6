/*
 * One list of error codes for the whole tree, in the style of OpenSSH's
 * ssherr.h.  Functions that can fail return 0 on success or one of these
 * negative codes; err_str() names each one for logs and messages.
 */
#ifndef MISSIVE_ERR_H
#define MISSIVE_ERR_H

#define ERR_LIST(X)                                                           \
	X(E_OK, 0, "success")                                               \
	X(E_INTERNAL, -1, "internal error")                                 \
	X(E_NOMEM, -2, "out of memory")                                     \
	X(E_INVALID, -3, "invalid argument")                                \
	X(E_INCOMPLETE, -4, "incomplete input, more bytes needed")          \
	X(E_MALFORMED, -5, "malformed input")                               \
	X(E_TOO_LONG, -6, "input exceeds the configured limit")             \
	X(E_IO, -7, "input/output error")                                   \
	X(E_CRYPTO, -8, "cryptographic library error")                      \
	X(E_KEY_TYPE, -9, "key is not RSA of an accepted size, e = 65537")  \
	X(E_SIG_INVALID, -10, "signature does not verify")                  \
	X(E_UNWRAP, -11, "envelope does not open with this key")            \
	X(E_KEY_LENGTH, -12, "envelope holds a key of the wrong length")    \
	X(E_MAC_INVALID, -13, "message authentication failed")              \
	X(E_KEY_FILE, -14, "cannot read or parse key file")                 \
	X(E_KEY_PERM, -15, "private key file is readable by others")        \
	X(E_EXISTS, -16, "already exists")                                  \
	X(E_NOT_FOUND, -17, "not found")                                    \
	X(E_DB_UNAVAILABLE, -18, "database unavailable")                    \
	X(E_DB, -19, "database error")                                      \
	X(E_BAD_NAME, -20, "invalid user name")                             \
	X(E_BAD_NICK, -21, "invalid nickname")                              \
	X(E_CONFIG, -22, "configuration error")                             \
	X(E_PASSWORD, -23, "password rejected")                             \
	X(E_CLOSED, -24, "connection closed")                               \
	X(E_STATE, -25, "message not allowed in this state")                \
	X(E_SEQ_EXHAUSTED, -26, "record sequence space exhausted")          \
	X(E_KEY_MISMATCH, -27, "key differs from the pinned key")           \
	X(E_REPLAY, -28, "message replayed or out of order")             \
	X(E_UNTRUSTED, -29, "a peer key changed and is not accepted")      \
	X(E_DUPLICATE, -30, "message already received")                    \
	X(E_KEY_LOCKED, -41, "private key does not open with this passphrase") \
	X(E_DB_FULL, -42, "the database is out of space")                   \
	X(E_DB_CONFLICT, -43, "the transaction met another; try it again")

enum err_code {
#define ERR_ENUM(name, value, text) name = (value),
	ERR_LIST(ERR_ENUM)
#undef ERR_ENUM
};

/* A static, human-readable description of an error code. */
const char *err_str(int code);

#endif
