/* The front ends' shared texts (client/wording.h). */
#include "client/wording.h"

#include <stdio.h>

#include "common/proto.h"

static const char *const login_reasons[] = {
	[PROTO_LOGIN_INVALID] = "Wrong user name or password (or this "
	    "folder's key is not the account's).",
	[PROTO_LOGIN_LOCKED] = "Too many failed attempts: the account is "
	    "locked for a while. Try again later.",
	[PROTO_LOGIN_DISABLED] = "This account is disabled. Ask the admin.",
	[PROTO_LOGIN_UNAVAILABLE] = "The server cannot check accounts right "
	    "now. Try again later.",
	[PROTO_LOGIN_BUSY] = "The server is busy. Try again later.",
};

const char *
wording_login_reason(const char *code)
{
	int l = proto_login_reason(code);

	return l < 0 || (size_t)l >= sizeof(login_reasons) /
	    sizeof(login_reasons[0]) ? NULL : login_reasons[l];
}

void
wording_server_key_mismatch(char out[WORDING_MAX],
    const struct session_event *ev)
{
	(void)snprintf(out, WORDING_MAX, "The server presented a different "
	    "key than the one pinned in this folder: someone may be "
	    "intercepting the connection, so missive refuses to log in. "
	    "Pinned: %s Presented: %s If the admin changed the server key on "
	    "purpose, replace server.pub in the folder after checking its "
	    "fingerprint with them.", ev->pinned, ev->fingerprint);
}

void
wording_peer_key_pinned(char out[WORDING_MAX], const struct session_event *ev)
{
	(void)snprintf(out, WORDING_MAX, "pinned %s's key %s (first seen; "
	    "compare it with %s, then /verify %s)", ev->user,
	    ev->fingerprint, ev->user, ev->user);
}

void
wording_peer_key_changed(char out[WORDING_MAX],
    const struct session_event *ev)
{
	(void)snprintf(out, WORDING_MAX, "WARNING: %s presented a key that "
	    "is not pinned: %s (pinned: %s). It may be a new device of %s, "
	    "or someone else. Nothing is sent to conversations with it until "
	    "you compare fingerprints with %s and accept it (/accept %s).",
	    ev->user, ev->fingerprint, ev->pinned, ev->user, ev->user,
	    ev->user);
}
