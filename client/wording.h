/*
 * What the three front ends (line mode, TUI, GUI) say about the same
 * events, written once so that they cannot drift: the login refusals
 * and the key warnings.  Each front end adds only its own prefix ("!!!",
 * a colour, a dialog).
 */
#ifndef MISSIVE_WORDING_H
#define MISSIVE_WORDING_H

#include <stddef.h>

#include "client/session.h"

/* Enough for any text below with its fingerprints and names. */
#define WORDING_MAX 1024

/* What a 1001 refusal reason means to the user; NULL for a reason this
   client does not know (show the word itself). */
const char *wording_login_reason(const char *code);

/* The server's key is not the pinned one (SESSION_EV_KEY_MISMATCH). */
void wording_server_key_mismatch(char out[WORDING_MAX],
    const struct session_event *ev);

/* A peer's key seen for the first time (SESSION_EV_KEY_PINNED). */
void wording_peer_key_pinned(char out[WORDING_MAX],
    const struct session_event *ev);

/* A peer presented a key that is not its pinned one
   (SESSION_EV_KEY_CHANGED). */
void wording_peer_key_changed(char out[WORDING_MAX],
    const struct session_event *ev);

#endif
