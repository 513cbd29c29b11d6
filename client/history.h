/*
 * The client's message history, kept on disk encrypted at rest and shared
 * by every front end (line mode, terminal UI, GUI).  No terminal or
 * network I/O: a front end feeds it the chat events of the session
 * (history_add_event()) and saves it when it likes (history_save()).
 *
 * The file (the folder's "history" setting) is one AES-256-GCM sealed
 * document (docs/HISTORY.md):
 *
 *   "MSVHIST1" | u32 t_cost | u32 m_kib | u32 lanes | salt[16] |
 *   u8 userlen | user | nonce[12] | ciphertext | tag[16]
 *
 * big-endian, the whole header authenticated as additional data.  The key
 * comes from the user's password with Argon2id (t_cost, m_kib, lanes and
 * the random salt of the header), then HKDF-SHA256: docs/SECURITY.md says
 * why the password rather than the client key.  The plaintext is JSON,
 * {"messages": the same array as an export's, "keys": base64 of the
 * peers' sender keys (history_set_keys()), "current": the conversation
 * shown last (history_set_current())}; a file of the first version holds
 * the bare array, and still opens.  Every save writes a new nonce
 * to a temporary file, fsyncs it and renames it over the old one.
 *
 * Exports are JSON (docs/HISTORY.md) with an HMAC-SHA256 over their
 * canonical form, keyed from the user's password with Argon2id and a salt
 * made of the user name, so any device of the same user can check and
 * import them, and nobody without the password can alter one unnoticed.
 * Plain-text exports are for reading only.
 *
 * Records are kept in time order (then by id); a message id is unique:
 * adding or importing one already there does nothing.
 */
#ifndef MISSIVE_CLIENT_HISTORY_H
#define MISSIVE_CLIENT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "client/session.h"

#define HISTORY_ID_LEN 16             /* the E2E message id */
#define HISTORY_MAX_RECORDS 1000000   /* per file, and per import */
#define HISTORY_FILE_MAX ((size_t)256 * 1024 * 1024) /* bytes, either file */

/* One message, as stored and exported. */
struct history_record {
	uint8_t id[HISTORY_ID_LEN];   /* E2E message id (PROTOCOL.md 8) */
	const char *conv;             /* conversation: "room" or "@user" */
	const char *sender;           /* the sender's user name */
	const char *nickname;         /* the sender's nickname then */
	int64_t time_ms;              /* ms since the Unix epoch, UTC */
	const char *text;             /* UTF-8, may hold TAB */
	int verified;                 /* the sending key was verified */
	int outgoing;                 /* sent by this user */
};

struct history;

/*
 * Open the history at path for user with the user's password (copied
 * nowhere; only the derived keys are kept).  A missing file gives an empty
 * history (created by the first history_save()).  Returns 0, or with a
 * one-line message in err: E_MALFORMED (not a history file, or a damaged
 * one), E_KEY_MISMATCH (the history of another user), E_MAC_INVALID
 * (tampered with, or sealed with another password), E_IO, E_TOO_LONG,
 * E_CRYPTO, E_NOMEM.  On error *out is NULL and the file is untouched.
 */
int history_open(const char *path, const char *user, const char *password,
    struct history **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Wipe the keys and every record, free h (NULL is fine).  Does not save. */
void history_close(struct history *h);

/*
 * Add a copy of rec.  Returns 1 if added, 0 if a record with its id is
 * there already (nothing changes), E_MALFORMED (a string is missing, or is
 * not UTF-8, or the conversation or sender is not a valid name), E_NOMEM.
 */
int history_add(struct history *h, const struct history_record *rec)
    __attribute__((warn_unused_result));

/*
 * Add what a session event carries: SESSION_EV_CHAT (received) and
 * SESSION_EV_SENT (ours, confirmed); other kinds are ignored (0).
 * Returns as history_add().
 */
int history_add_event(struct history *h, const struct session_event *ev)
    __attribute__((warn_unused_result));

/* How many records; record i (0 .. count-1) in time order, valid until the
   next change of h. */
size_t history_count(const struct history *h);
const struct history_record *history_get(const struct history *h, size_t i);

/* The record with message id id, or NULL; valid until the next change. */
const struct history_record *history_find(const struct history *h,
    const uint8_t id[HISTORY_ID_LEN]);

/*
 * Tell s the message ids of the newest records (at most SESSION_SEEN_MAX),
 * so that a line shown in an earlier session and replayed is dropped.
 */
void history_seen(const struct history *h, struct session *s);

/*
 * The peers' sender keys the client keeps with its records (an opaque
 * blob, client/e2e.h): sealed in the file with them, never exported nor
 * taken from an import.  history_set_keys() copies len bytes (0: none)
 * and marks h changed (E_NOMEM); history_keys() gives them (NULL and 0 if
 * none), valid until the next history_set_keys().
 */
int history_set_keys(struct history *h, const uint8_t *keys, size_t len)
    __attribute__((warn_unused_result));
const uint8_t *history_keys(const struct history *h, size_t *len);

/*
 * The conversation the front end showed last ("room" or "@user"), so that
 * a restart goes back to it: sealed like the keys, never exported nor
 * taken from an import (nor from another client's save, unless h has
 * none); a file whose value is not a valid name opens without one.
 * history_set_current() marks h changed if conv differs (E_MALFORMED: not
 * a valid name, nothing kept); history_current() gives it, or NULL if
 * none was set or read.
 */
int history_set_current(struct history *h, const char *conv)
    __attribute__((warn_unused_result));
const char *history_current(const struct history *h);

/* 1 if records were added (or keys or the current conversation set)
   since the last save (or open). */
int history_dirty(const struct history *h);

/*
 * Seal and write the history atomically (temporary file, fsync, rename,
 * fsync of the directory), mode 0600.  If another client (or an import by
 * `missive --import`) wrote the file since h read or wrote it, its records
 * are merged in first, so none is lost.  Returns 0, or with a message in
 * err and the file as it was: E_IO, E_CRYPTO, E_NOMEM, E_EXISTS (the file
 * was made anew by another client under another key: not overwritten),
 * or an error of history_open() for a file that no longer opens.
 */
int history_save(struct history *h, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Write every record to path (atomically, mode 0600) as JSON with its
 * HMAC (docs/HISTORY.md).  Returns 0 or E_IO / E_NOMEM with a message.
 */
int history_export_json(const struct history *h, const char *path,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Write every record to path as plain text for reading, one line each:
 * "YYYY-MM-DD HH:MM:SS #room <nickname> text" (local time; " [verified]"
 * after the nickname when so; control characters shown as '?').  Not
 * importable.  Returns 0 or E_IO / E_NOMEM with a message.
 */
int history_export_text(const struct history *h, const char *path,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Merge the JSON export at path into h and save h: records whose id is
 * there already are skipped.  *added gets how many were new.  The export
 * must be of this user, unaltered (its HMAC checks out with this user's
 * password) and well-formed throughout; otherwise nothing changes and the
 * return is E_MALFORMED (not an export, or damaged), E_KEY_MISMATCH (made
 * by another user), E_MAC_INVALID (altered, or made with another
 * password), E_IO, E_TOO_LONG, E_NOMEM, with a one-line message in err.
 * A failed save after a good merge returns its error and leaves h as it
 * was before the import.
 */
int history_import(struct history *h, const char *path, size_t *added,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * The Argon2id cost used for new history files and for export keys;
 * tests may lower it (t_cost >= 1, m_kib >= 8 * lanes).  Exports made with
 * one setting import only with the same.
 */
void history_set_kdf(uint32_t t_cost, uint32_t m_kib, uint32_t lanes);

#endif
