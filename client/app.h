/*
 * What the terminal front ends (line mode and terminal UI, client/main.c)
 * share to start and to keep their history: load the client folder, ask
 * the password, open the history, make the session, save the history now
 * and then, and tell the session when it is saved (its rows are then
 * acknowledged to the server; the GUI goes through the same calls).
 * Errors go to standard error as "missive: ..." lines.
 */
#ifndef MISSIVE_CLIENT_APP_H
#define MISSIVE_CLIENT_APP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "client/config.h"
#include "client/e2e.h"
#include "client/history.h"
#include "client/session.h"
#include "keydist/keys.h"

/*
 * How long a new record waits before the history is written: APP_SAVE_MS
 * (SESSION_ACK_MS while rows wait for it to be acknowledged, none when
 * SESSION_ACK_ROWS do), or APP_SAVE_SLOWER times what the last save took
 * (at most APP_SAVE_MAX_MS).  A save rewrites the whole file: with a history of
 * many megabytes in a busy chat (or under valgrind) a fixed 2 s would
 * spend most of the client's time saving; this keeps saving under ~5%.
 */
#define APP_SAVE_MS 2000
#define APP_SAVE_SLOWER 20
#define APP_SAVE_MAX_MS 60000

struct app {
	struct client_config cfg;
	int have_cfg;
	EVP_PKEY *key;                /* the user's private key, once the
	                                 password is known */
	EVP_PKEY *server;             /* the pinned server key */
	char fp[KD_FP_SIZE];          /* of key */
	char sfp[KD_FP_SIZE];         /* of server */
	char *password;               /* until app_session(); wiped */
	struct history *history;      /* NULL: not kept this session */
	int64_t dirty_since;          /* session_clock_ms() of the first
	                                 unsaved record, or -1 */
	int64_t save_cost_ms;         /* what the last save took */
	int save_failed;              /* the last save failed: retry at the
	                                 slow pace, rows waiting or not */
	uint64_t keys_gen;            /* session_peer_keys_gen() of the peer
	                                 keys last put in the history */
	char restore[E2E_CONV_MAX + 1]; /* the conversation current at the
	                                 last save (app_restore()) */
	int restoring;                /* restore waits for the first login */
};

#define APP_INIT { .dirty_since = -1 }

/*
 * Load the folder's config (conf), its public key (for fp), its private
 * key if it is clear (an encrypted one waits for app_password(); either
 * is refused if group or others may read it) and the pinned server key.
 * 0 or 1 (reported).
 */
int app_load(struct app *a, const char *conf)
    __attribute__((warn_unused_result));

/*
 * Ask for the password (or read pwfile) and open the private key with it
 * (encrypted with the password, or clear; on a terminal a key encrypted
 * with an older password is asked for its passphrase).  0 or 1 (reported).
 */
int app_password(struct app *a, const char *pwfile)
    __attribute__((warn_unused_result));

/*
 * Open the folder's history with the password.  0, or the error of
 * history_open() with its message in err.
 */
int app_history(struct app *a, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Make the session; wipes the password.  0 or 1 (reported). */
int app_session(struct app *a, session_event_fn *on_event, void *arg,
    struct session **s) __attribute__((warn_unused_result));

/*
 * The history (open) is kept for session s: s drops the lines it holds
 * when they come again, takes back the peers' sender keys it holds, and
 * acknowledges rows once app_save() saved them (with the keys as they
 * stand, so that the rows after those still open after a restart).
 */
void app_history_session(struct app *a, struct session *s);

/*
 * Record a session event in the history (chat and our sent lines; others
 * are ignored).  0, or a negative E_* code.
 */
int app_record(struct app *a, const struct session_event *ev)
    __attribute__((warn_unused_result));

/*
 * Save the history if a record (or a change of the peers' sender keys of
 * s) has waited long enough (see APP_SAVE_MS; at once with force), with
 * the keys of s as they stand, then tell s (NULL: no session) that it is
 * saved.  0, or E_* with a message in err.
 */
int app_save(struct app *a, struct session *s, int64_t now_ms, int force,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * A history file operation of every front end: op 'e' exports JSON to
 * file, 't' plain text, 'i' imports (merges) file, *added getting how many
 * records were new.  Saves what is pending first.  0, or E_STATE (no
 * history this session) or the history module's error, with a message in
 * err (nothing changed on a failed import).
 */
int app_file(struct app *a, int op, const char *file, size_t *added,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * The conversation the front end shows is conv ("room" or "@user"): kept
 * in the history (no history: nothing), so that the next start can go
 * back to it; a change waits for the next save like a record.  A name the
 * core would not take is not kept.
 */
void app_set_current(struct app *a, const char *conv);

/*
 * Going back to the conversation current at the last save (read by
 * app_history_session()).  A room is ours again only once the server has
 * listed our rooms, at the first login: app_restore(), called with every
 * event, returns 0 until that login's SESSION_EV_BACKLOG_END (the rooms
 * come before it) and after it; at it, 1 with *conv the conversation to go
 * back to (a private one, or a room we are still in), or -1 with *conv
 * the room that is not ours any more (stay where the front end is).
 * *conv stays valid until app_free().  app_restoring() gives the
 * conversation still to settle, or NULL.
 */
int app_restore(struct app *a, const struct session *s,
    const struct session_event *ev, const char **conv);
const char *app_restoring(const struct app *a);

/* Milliseconds until app_save() has work (for s, or NULL), or -1. */
int64_t app_save_timeout(const struct app *a, const struct session *s,
    int64_t now_ms);

/* Free everything (the history is not saved). */
void app_free(struct app *a);

#endif
