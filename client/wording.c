/* The front ends' words for logins, keys, devices and delivery
   (client/wording.h). */
#include "client/wording.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const login_reasons[] = {
	[PROTO_LOGIN_INVALID] = "the user name or password is wrong, or "
	    "this folder's key is not the account's",
	[PROTO_LOGIN_LOCKED] = "too many failed attempts: the account is "
	    "locked for a while; try again later",
	[PROTO_LOGIN_DISABLED] = "this account is disabled; ask the admin",
	[PROTO_LOGIN_UNAVAILABLE] = "the server cannot check accounts right "
	    "now; try again later",
	[PROTO_LOGIN_BUSY] = "the server is busy; try again later",
};

const char *
wording_login(enum proto_login l)
{
	if ((size_t)l >= sizeof(login_reasons) / sizeof(login_reasons[0]))
		return NULL;
	return login_reasons[l];
}

const char *
wording_login_code(const char *code)
{
	int l = proto_login_reason(code);

	return l < 0 ? NULL : wording_login((enum proto_login)l);
}

const char *
wording_key_locked(void)
{
	return "the password is wrong, or it changed since this folder was "
	    "made (then run: missive-keys passphrase FOLDER)";
}

/*
 * What to do about a key: in the GUI gui, in a terminal the command
 * ("type /verify bob SHA256:..."), written into buf.
 */
static const char *
action(char *buf, size_t cap, enum wording_ui ui, const char *command,
    const char *gui, const char *user, const char *fp)
{
	if (ui == WORDING_GUI)
		return gui;
	(void)snprintf(buf, cap, "type /%s %s %s", command, user, fp);
	return buf;
}

/* A conversation as the user names it: "#dev", "@bob". */
static const char *
conv_name(char *buf, size_t cap, const char *conv)
{
	(void)snprintf(buf, cap, "%s%s", conv[0] == '@' ? "" : "#", conv);
	return buf;
}

void
wording_key_pinned(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev)
{
	char buf[128];

	(void)snprintf(out, cap, "Pinned %s's key %s on first use: compare it "
	    "with %s (not through this chat), then %s.", ev->user,
	    ev->fingerprint, ev->user, action(buf, sizeof(buf), ui, "verify",
	    "click their name to verify it", ev->user, ev->fingerprint));
}

void
wording_key_changed(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev)
{
	char buf[128];

	(void)snprintf(out, cap, "WARNING: %s presented a key that is not "
	    "pinned: %s (pinned: %s). It may be a new device of %s, or someone "
	    "else. Nothing is sent to conversations with it until you compare "
	    "fingerprints with %s (not through this chat) and %s.", ev->user,
	    ev->fingerprint, ev->pinned, ev->user, ev->user, action(buf,
	    sizeof(buf), ui, "accept", "accept it", ev->user,
	    ev->fingerprint));
}

void
wording_new_device(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev)
{
	char buf[128];
	const char *what = action(buf, sizeof(buf), ui, "accept", "accept it",
	    ev->user, ev->fingerprint);

	(void)snprintf(out, cap, "WARNING: the server lists a device of your "
	    "own account (%s) that this folder does not know: %s. If you did "
	    "not set up a new device, someone may be trying to read your "
	    "messages. Nothing is sent to conversations with it until you "
	    "compare it with that device's fingerprint (/fingerprint there, "
	    "or missive-keys fingerprint on its user.pub) and %s.", ev->user,
	    ev->fingerprint, what);
}

void
wording_devices_changed(char *out, size_t cap,
    const struct session_event *ev)
{
	char conv[64];

	(void)snprintf(out, cap, "The devices of %s changed: %s.",
	    conv_name(conv, sizeof(conv), ev->room), ev->text);
}

void
wording_device_dropped(char *out, size_t cap,
    const struct session_event *ev)
{
	char conv[64];

	(void)snprintf(out, cap, "The server listed a device of %s (%s) in "
	    "%s: ignored, nothing is sent to it (only %s's devices and your "
	    "own belong there).", ev->user, ev->fingerprint,
	    conv_name(conv, sizeof(conv), ev->room), ev->room + 1);
}

void
wording_held(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev)
{
	char conv[64], what[160];

	(void)conv_name(conv, sizeof(conv), ev->room);
	if (ui == WORDING_GUI)
		(void)snprintf(what, sizeof(what), "send them or drop them");
	else
		(void)snprintf(what, sizeof(what), "/resend %s or /drop %s",
		    conv, conv);
	(void)snprintf(out, cap, "%lld line%s to %s not sent: the devices "
	    "changed while you were disconnected (%s); %s.", ev->count,
	    ev->count == 1 ? "" : "s", conv, ev->text, what);
}

void
wording_key_mismatch(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev)
{
	const char *sep = ui == WORDING_GUI ? "\n" : " ";

	(void)snprintf(out, cap, "The server presented a different key than "
	    "the one pinned in this folder: someone may be intercepting the "
	    "connection, so missive refuses to connect.%sPinned: %s%s"
	    "Presented: %s%sIf the admin changed the server key on purpose, "
	    "replace server.pub in the folder after checking its fingerprint "
	    "with them.", sep, ev->pinned, sep, ev->fingerprint, sep);
}

void
wording_not_enrolled(char *out, size_t cap, const struct session_event *ev,
    const char *why)
{
	(void)snprintf(out, cap, "The server does not accept this folder's key "
	    "(%s): %s. Ask the admin to enroll this key for your account.",
	    ev->fingerprint, why);
}

/* What 1021's code says about a line the server did not store. */
static const char *const not_stored[] = {
	[PROTO_ERR_TEXT] = "the server found the message implausible",
	[PROTO_ERR_ROOM] = "you are not in that room",
	[PROTO_ERR_USER] = "no such user, or that user has no device",
	[PROTO_ERR_UNAVAILABLE] = "the server's database is down",
	[PROTO_ERR_FULL] = "the server's storage is full",
	[PROTO_ERR_BUSY] = "the server is busy",
};

void
wording_not_stored(char *out, size_t cap, const struct session_event *ev)
{
	const char *why = NULL;
	char conv[64];
	size_t i;

	for (i = 0; i < sizeof(not_stored) / sizeof(not_stored[0]); i++)
		if (not_stored[i] != NULL &&
		    strcmp(ev->code, proto_error_word((enum proto_error)i)) == 0)
			why = not_stored[i];
	(void)snprintf(out, cap, "Your line to %s was not stored, so nobody "
	    "gets it (%s: %s; the server says: %s). Send it again later: \"%s\"",
	    conv_name(conv, sizeof(conv), ev->room), ev->code,
	    why != NULL ? why : "the server refused it", ev->reason,
	    ev->text);
}

void
wording_joined(char *out, size_t cap, enum wording_ui ui,
    const struct session_event *ev)
{
	(void)snprintf(out, cap, "%cou are in #%s with %lld other device%s",
	    ui == WORDING_GUI ? 'Y' : 'y', ev->room, ev->count,
	    ev->count == 1 ? "" : "s");
}

void
wording_backlog(char *out, size_t cap, const struct session_event *ev)
{
	(void)snprintf(out, cap, "%lld new line%s while you were away",
	    ev->count, ev->count == 1 ? "" : "s");
}

void
wording_when(int64_t time_ms, int seconds, char out[WORDING_WHEN_MAX])
{
	time_t now = time(NULL), t = time_ms > 0 ? (time_t)(time_ms / 1000) :
	    now;
	struct tm tm, today;
	int same_day;

	if (localtime_r(&t, &tm) == NULL || localtime_r(&now, &today) == NULL) {
		(void)snprintf(out, WORDING_WHEN_MAX, "%s",
		    seconds ? "??:??:??" : "??:??");
		return;
	}
	same_day = tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday;
	if (strftime(out, WORDING_WHEN_MAX, same_day ?
	    (seconds ? "%H:%M:%S" : "%H:%M") :
	    (seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M"), &tm) == 0)
		(void)snprintf(out, WORDING_WHEN_MAX, "??:??");
}
