/*
 * The words every front end (line mode, terminal UI, GUI) shows for what
 * the core reports about logins, keys, devices and delivery, written once
 * so that they say the same thing.  The terminal front ends name
 * commands ("type /accept bob"), the GUI what to click: enum wording_ui
 * picks which.
 *
 * The texts are sentences without a prefix ("!!! ", "*** "): each front
 * end adds its own.  Strings from the network are put in as they are: a
 * front end escapes the result as it escapes any network text.
 */
#ifndef MISSIVE_CLIENT_WORDING_H
#define MISSIVE_CLIENT_WORDING_H

#include <stddef.h>
#include <stdint.h>

#include "client/session.h"
#include "common/proto.h"

/* Room for any text of this file but wording_not_enrolled()'s quote. */
#define WORDING_MAX 1024

enum wording_ui {
	WORDING_TERMINAL,             /* line mode and terminal UI */
	WORDING_GUI,
};

/*
 * Why a login was refused, as a clause to follow "login refused: ", or
 * NULL for PROTO_LOGIN_OK and a code the protocol does not have.
 */
const char *wording_login(enum proto_login l);

/*
 * Why the folder's key does not open with the password typed
 * (E_KEY_LOCKED), as a clause to follow "... does not open with this
 * password: ".
 */
const char *wording_key_locked(void);

/* The same for the code of SESSION_EV_LOGIN_FAILED ("invalid", ...). */
const char *wording_login_code(const char *code);

/*
 * SESSION_EV_KEY_PINNED (user, fingerprint) and SESSION_EV_KEY_CHANGED
 * (user, fingerprint, pinned): what happened and what to do about it,
 * into out (cap bytes, cut short if need be).
 */
void wording_key_pinned(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev);
void wording_key_changed(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev);

/*
 * SESSION_EV_NEW_DEVICE (user, fingerprint): a key of our own account the
 * folder does not know.
 */
void wording_new_device(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev);

/* SESSION_EV_DEVICES_CHANGED (room, text): what came and went. */
void wording_devices_changed(char *out, size_t cap,
    const struct session_event *ev);

/* SESSION_EV_DEVICE_DROPPED (room, user, fingerprint). */
void wording_device_dropped(char *out, size_t cap,
    const struct session_event *ev);

/* SESSION_EV_HELD (room, count, text): lines waiting for the user. */
void wording_held(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev);

/*
 * SESSION_EV_NOT_STORED (room, code, reason, text): a line of ours the
 * server refused to store, what the code means, and the line.
 */
void wording_not_stored(char *out, size_t cap,
    const struct session_event *ev);

/*
 * SESSION_EV_JOINED (room, count): "you are in #room with N other
 * devices", counting the devices listed, offline ones too (capitalised
 * for the GUI).
 */
void wording_joined(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev);

/* SESSION_EV_BACKLOG_END (count > 0): "N new lines while you were away". */
void wording_backlog(char *out, size_t cap, const struct session_event *ev);

/*
 * SESSION_EV_KEY_MISMATCH (pinned, fingerprint): the server presented
 * another key.  The terminals get one line, the GUI the fingerprints on
 * lines of their own.
 */
void wording_key_mismatch(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev);

/*
 * SESSION_EV_NOT_ENROLLED (fingerprint): the server refused our key, for
 * the reason why (its text, escaped or cleaned by the caller if need be).
 */
void wording_not_enrolled(char *out, size_t cap,
    const struct session_event *ev, const char *why);

/* Room for wording_when()'s text: "YYYY-MM-DD HH:MM:SS" and its NUL. */
#define WORDING_WHEN_MAX 32

/*
 * A time (ms since the epoch; 0 for now) in local time: "HH:MM:SS", or
 * "HH:MM" without seconds, preceded by "YYYY-MM-DD " when it is not today
 * (a line stored while we were away, an old line of the history).
 */
void wording_when(int64_t time_ms, int seconds, char out[WORDING_WHEN_MAX]);

#endif
