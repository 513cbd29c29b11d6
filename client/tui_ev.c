/*
 * The terminal UI's logic: the core's events and the user's lines become
 * changes of the model (client/tui_int.h).  No curses here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cmd.h"
#include "client/tui_int.h"
#include "client/wording.h"
#include "common/err.h"
#include "common/proto.h"

static const char help1[] =
    "*** /join ROOM, /leave [ROOM], /rooms, /who [ROOM], /msg USER [text] "
    "(opens @USER), /close, /win N, /fingerprint [USER], /accept USER [FP], "
    "/verify USER [FP], /devices [CONV], /resend CONV, /drop CONV";
static const char help2[] =
    "*** /export FILE (JSON, importable), /export-text FILE, /import FILE, "
    "/quit (or TT), /help; //text sends /text";
static const char help3[] =
    "*** keys: PgUp/PgDn scroll, Ctrl-N/Ctrl-P or Alt-1..9 switch window, "
    "Up/Down earlier lines, Left/Right/Home/End/Ctrl-A/Ctrl-E/Ctrl-U/"
    "Ctrl-W edit, Ctrl-L redraw";

static struct tui_win *
status_win(struct tui *t)
{
	return t->win[0];
}

static struct tui_win *
cur_win(struct tui *t)
{
	return t->win[t->cur];
}

/* The window for conv, or the status window if it cannot be opened. */
static struct tui_win *
conv_win(struct tui *t, const char *conv)
{
	struct tui_win *w = tui_win_open(t, conv);

	return w != NULL ? w : status_win(t);
}

static void
on_chat(struct tui *t, const struct session_event *ev)
{
	struct tui_win *w = conv_win(t, ev->room);
	const char *mark = "";
	char when[TUI_CLOCK_MAX];

	if (ev->kind == SESSION_EV_CHAT) {
		if (ev->trust == SESSION_KEY_VERIFIED)
			mark = " \xe2\x9c\x93";
		else if (ev->trust == SESSION_KEY_UNACCEPTED)
			mark = " [key not accepted]";
		if (ev->trust != SESSION_KEY_VERIFIED &&
		    ev->trust != SESSION_KEY_OWN)
			tui_unverified_add(t, ev->user);
	}
	/* Lines stored while we were away: under a divider, once. */
	if (ev->kind == SESSION_EV_CHAT && ev->backlog && !w->away) {
		w->away = 1;
		tui_say(t, w, TA_NOTICE, "*** \xe2\x94\x80\xe2\x94\x80 new "
		    "since you were away \xe2\x94\x80\xe2\x94\x80");
	}
	tui_clock(ev->time_ms, when);
	if (ev->kind == SESSION_EV_SENT) {
		/* Shown once stored (1020): ✓; ✓✓ follows when delivered. */
		tui_say(t, w, TA_OWN, "%s <%s> %s \xe2\x9c\x93", when,
		    ev->nickname, ev->text);
		tui_line_mid(w, ev->mid);
		return;
	}
	tui_say(t, w, TA_CHAT, "%s <%s%s> %s", when, ev->display, mark,
	    ev->text);
}

static void
trust_seen(void *arg, const char *fp, enum session_trust trust)
{
	int *unverified = arg;

	(void)fp;
	if (trust == SESSION_KEY_SEEN || trust == SESSION_KEY_UNACCEPTED)
		*unverified = 1;
}

/* Name user on the status line if a key of theirs is not verified. */
static void
note_trust(struct tui *t, const char *user)
{
	int unverified = 0;

	(void)session_keys(t->s, user, trust_seen, &unverified);
	if (unverified)
		tui_unverified_add(t, user);
}

/* A who or rooms list grows by "a (b)". */
static void
list_add(struct tui *t, const char *a, const char *b)
{
	size_t add = strlen(a) + strlen(b) + 5;
	char *p;

	if ((p = realloc(t->list, t->listlen + add + 1)) == NULL)
		return;
	t->list = p;
	t->listlen += (size_t)snprintf(p + t->listlen, add + 1, "%s%s (%s)",
	    t->listlen > 0 ? ", " : "", a, b);
}

static void
list_end(struct tui *t, struct tui_win *w, const char *what,
    long long count)
{
	tui_say(t, w, TA_NOTICE, "*** %s (%lld): %s", what, count,
	    t->list != NULL ? t->list : "");
	free(t->list);
	t->list = NULL;
	t->listlen = 0;
}

/* Ask who is in room (NULL: online); the answer is matched in order. */
static int
ask_who(struct tui *t, const char *room)
{
	int r;

	if (t->nwho == TUI_WHO_QUEUE)
		return E_TOO_LONG;
	if ((r = session_who(t->s, room)) != 0)
		return r;
	(void)snprintf(t->who[t->nwho++], sizeof(t->who[0]), "%s",
	    room != NULL ? room : "");
	return 0;
}

/* The room window a who answer is for, or NULL (online list). */
static struct tui_win *
who_target(struct tui *t)
{
	if (t->nwho == 0 || t->who[0][0] == '\0')
		return NULL;
	return tui_win_find(t, t->who[0], NULL);
}

static void
on_who(struct tui *t, const struct session_event *ev)
{
	struct tui_win *w = who_target(t);
	char who[NAME_USER_MAX + 16];

	if (ev->kind == SESSION_EV_WHO) {
		if (w != NULL) {
			tui_member_add(w, ev->user, ev->nickname);
			note_trust(t, ev->user);
		}
		(void)snprintf(who, sizeof(who), "%s%s", ev->user, ev->online ?
		    "" : ", " PROTO_STATE_OFFLINE);
		list_add(t, ev->nickname, who);
		return;
	}
	list_end(t, w != NULL ? w : cur_win(t), "online", ev->count);
	if (t->nwho > 0) {
		memmove(t->who, t->who + 1, (t->nwho - 1) * sizeof(t->who[0]));
		t->nwho--;
	}
}

static void
on_joined(struct tui *t, const struct session_event *ev)
{
	struct tui_win *w = conv_win(t, ev->room);
	char msg[WORDING_MAX];
	size_t idx;

	wording_joined(msg, sizeof(msg), WORDING_TERMINAL, ev);
	tui_say(t, w, TA_NOTICE, "*** %s", msg);
	tui_members_clear(w);
	if (ask_who(t, ev->room) != 0)
		tui_say(t, w, TA_ERROR, "!!! the member list is not known");
	/* The room asked for, or the first one (from the status window). */
	if ((strcmp(t->want, ev->room) == 0 || t->cur == 0) &&
	    tui_win_find(t, ev->room, &idx) != NULL) {
		tui_win_show(t, idx);
		t->want[0] = '\0';
	}
}

/* Show conv's window, opened (with its history) if need be. */
static void
show_conv(struct tui *t, const char *conv)
{
	size_t idx;

	if (tui_win_open(t, conv) != NULL &&
	    tui_win_find(t, conv, &idx) != NULL)
		tui_win_show(t, idx);
}

/* At the first login's end of backlog: back to the conversation shown
   at the last save, if it is still ours. */
static void
on_restore(struct tui *t, const struct session_event *ev)
{
	const char *conv;

	if (app_restore(t->a, t->s, ev, &conv) > 0)
		show_conv(t, conv);
}

static void
on_presence(struct tui *t, const struct session_event *ev)
{
	struct tui_win *w = conv_win(t, ev->room);

	if (ev->kind == SESSION_EV_JOIN) {
		tui_member_add(w, ev->user, ev->nickname);
		note_trust(t, ev->user);
		tui_say(t, w, TA_NOTICE, "*** %s (%s) joined #%s, device %s%s",
		    ev->nickname, ev->user, ev->room, ev->fingerprint,
		    ev->online ? "" : ", offline");
	} else {
		/* Gone offline, still a member: the list keeps the user
		   (shown offline), and a user with devices left. */
		if (ev->online < 0 &&
		    tui_member_state(t, ev->room, ev->user) < 0)
			tui_member_remove(w, ev->user);
		tui_say(t, w, TA_NOTICE, "*** %s (%s) left #%s (%s), device "
		    "%s%s", ev->nickname, ev->user, ev->room, ev->code,
		    ev->fingerprint, ev->online < 0 ? "" : ", still a member");
	}
}

static void
on_left(struct tui *t, const struct session_event *ev)
{
	size_t idx;

	if (tui_win_find(t, ev->room, &idx) != NULL)
		tui_win_close(t, idx);
	tui_say(t, status_win(t), TA_NOTICE, "*** you left #%s", ev->room);
}

static void
on_key_event(struct tui *t, const struct session_event *ev)
{
	char msg[WORDING_MAX];

	tui_unverified_add(t, ev->user);
	if (ev->kind == SESSION_EV_KEY_PINNED) {
		wording_key_pinned(msg, sizeof(msg), WORDING_TERMINAL, ev);
		tui_say(t, cur_win(t), TA_NOTICE, "*** %s", msg);
		return;
	}
	if (ev->kind == SESSION_EV_NEW_DEVICE)
		wording_new_device(msg, sizeof(msg), WORDING_TERMINAL, ev);
	else
		wording_key_changed(msg, sizeof(msg), WORDING_TERMINAL, ev);
	tui_say(t, cur_win(t), TA_ERROR, "!!! %s", msg);
}

/* What changed in a conversation's devices, in its window. */
static void
on_devices(struct tui *t, const struct session_event *ev)
{
	struct tui_win *w = conv_win(t, ev->room);
	char msg[WORDING_MAX];

	if (ev->kind == SESSION_EV_DEVICES_CHANGED) {
		wording_devices_changed(msg, sizeof(msg), ev);
		tui_say(t, w, TA_NOTICE, "*** %s", msg);
		return;
	}
	if (ev->kind == SESSION_EV_DEVICE_DROPPED)
		wording_device_dropped(msg, sizeof(msg), ev);
	else
		wording_held(msg, sizeof(msg), WORDING_TERMINAL, ev);
	tui_say(t, w, TA_ERROR, "!!! %s", msg);
}

static void
on_connection(struct tui *t, const struct session_event *ev)
{
	struct tui_win *st = status_win(t);
	char msg[WORDING_MAX];
	const char *why;
	size_t i;

	switch (ev->kind) {
	case SESSION_EV_CONNECTING:
		(void)snprintf(t->conn, sizeof(t->conn), "connecting");
		tui_say(t, st, TA_NOTICE, "*** connecting to %s port %s",
		    ev->host, ev->port);
		break;
	case SESSION_EV_CONNECTED:
		(void)snprintf(t->server_fp, sizeof(t->server_fp), "%s",
		    ev->fingerprint);
		tui_say(t, st, TA_NOTICE, "*** connected, server key %s "
		    "(pinned)", ev->fingerprint);
		break;
	case SESSION_EV_LOGGED_IN:
		/* A new backlog may come: each window's divider again. */
		for (i = 0; i < t->nwin; i++)
			t->win[i]->away = 0;
		(void)snprintf(t->conn, sizeof(t->conn), "connected");
		tui_say(t, st, TA_NOTICE, "*** logged in as %s", ev->nickname);
		break;
	case SESSION_EV_LOGIN_FAILED:
		why = wording_login_code(ev->code);
		tui_say(t, st, TA_ERROR, "!!! login refused: %s",
		    why != NULL ? why : ev->code);
		break;
	case SESSION_EV_KEY_MISMATCH:
		t->key_mismatch = 1;
		wording_key_mismatch(msg, sizeof(msg), WORDING_TERMINAL, ev);
		tui_say(t, st, TA_ERROR, "!!! %s", msg);
		break;
	case SESSION_EV_NOT_ENROLLED:
		wording_not_enrolled(msg, sizeof(msg), ev, ev->text);
		tui_say(t, st, TA_ERROR, "!!! %s", msg);
		break;
	case SESSION_EV_DISCONNECTED:
		/* Requests in flight are not answered on the next connection. */
		t->nwho = 0;
		free(t->list);
		t->list = NULL;
		t->listlen = 0;
		(void)snprintf(t->conn, sizeof(t->conn), "disconnected");
		tui_say(t, st, TA_NOTICE, "*** disconnected: %s", ev->text);
		break;
	case SESSION_EV_RECONNECTING:
		(void)snprintf(t->conn, sizeof(t->conn), "reconnecting in "
		    "%lld ms", ev->delay_ms);
		break;
	default:
		break;
	}
	t->redraw = 1;
}

static void
on_end(struct tui *t, const struct session_event *ev)
{
	struct tui_win *st = status_win(t);

	switch (ev->kind) {
	case SESSION_EV_SERVER_ERROR:
		tui_say(t, cur_win(t), TA_ERROR, "!!! server error (%s): %s",
		    ev->code, ev->text);
		break;
	case SESSION_EV_CLOSING:
		if (strcmp(ev->code, proto_close_word(PROTO_CLOSE_QUIT)) != 0)
			tui_say(t, st, TA_NOTICE, "*** the server is closing "
			    "the connection (%s): %s", ev->code, ev->text);
		break;
	case SESSION_EV_FATAL:
		(void)snprintf(t->conn, sizeof(t->conn), "ended");
		tui_say(t, st, TA_ERROR, "!!! %s", ev->text);
		tui_win_show(t, 0);
		break;
	default:
		break;
	}
}

void
tui_on_event(void *arg, const struct session_event *ev)
{
	struct tui *t = arg;
	char msg[WORDING_MAX];

	if (app_record(t->a, ev) != 0)
		tui_say(t, status_win(t), TA_ERROR, "!!! out of memory: a "
		    "message is not kept in the history");
	switch (ev->kind) {
	case SESSION_EV_CHAT:
	case SESSION_EV_SENT:
		on_chat(t, ev);
		break;
	case SESSION_EV_DELIVERED:
		tui_delivered(t, ev->mid);
		break;
	case SESSION_EV_UNREADABLE:
		tui_say(t, conv_win(t, ev->room), TA_ERROR, "!!! %s",
		    ev->text);
		break;
	case SESSION_EV_NOT_STORED:
		wording_not_stored(msg, sizeof(msg), ev);
		tui_say(t, conv_win(t, ev->room), TA_ERROR, "!!! %s", msg);
		break;
	case SESSION_EV_BACKLOG_END:
		if (ev->count > 0) {
			wording_backlog(msg, sizeof(msg), ev);
			tui_say(t, status_win(t), TA_NOTICE, "*** %s", msg);
		}
		on_restore(t, ev);
		break;
	case SESSION_EV_JOINED:
		on_joined(t, ev);
		break;
	case SESSION_EV_LEFT:
		on_left(t, ev);
		break;
	case SESSION_EV_JOIN:
	case SESSION_EV_LEAVE:
		on_presence(t, ev);
		break;
	case SESSION_EV_WHO:
	case SESSION_EV_WHO_END:
		on_who(t, ev);
		break;
	case SESSION_EV_ROOM: {
		char members[24];

		(void)snprintf(members, sizeof(members), "%lld", ev->count);
		list_add(t, ev->room, members);
		break;
	}
	case SESSION_EV_ROOMS_END:
		list_end(t, cur_win(t), "rooms", ev->count);
		break;
	case SESSION_EV_KEY_PINNED:
	case SESSION_EV_KEY_CHANGED:
	case SESSION_EV_NEW_DEVICE:
		on_key_event(t, ev);
		break;
	case SESSION_EV_DEVICES_CHANGED:
	case SESSION_EV_DEVICE_DROPPED:
	case SESSION_EV_HELD:
		on_devices(t, ev);
		break;
	case SESSION_EV_ERROR:
		tui_say(t, cur_win(t), TA_ERROR, "!!! %s", ev->text);
		break;
	case SESSION_EV_SERVER_ERROR:
	case SESSION_EV_CLOSING:
	case SESSION_EV_FATAL:
		on_end(t, ev);
		break;
	case SESSION_EV_DONE:
		break;
	default:
		on_connection(t, ev);
		break;
	}
}

/* ---- commands ---- */

static void
print_key(void *arg, const char *fp, enum session_trust trust)
{
	struct tui *t = arg;

	tui_say(t, cur_win(t), TA_NOTICE, "***   %s  %s", fp,
	    cmd_trust_word(trust));
}

static int
cmd_fingerprint(struct tui *t, const char *user)
{
	if (user[0] == '\0') {
		tui_say(t, cur_win(t), TA_NOTICE, "*** your key: %s",
		    session_fingerprint(t->s));
		return 0;
	}
	tui_say(t, cur_win(t), TA_NOTICE, "*** keys of %s:", user);
	if (session_keys(t->s, user, print_key, t) == 0)
		tui_say(t, cur_win(t), TA_NOTICE, "***   none seen yet");
	return 0;
}

static int
cmd_accept(struct tui *t, char *rest, int verified)
{
	const char *verb = verified ? "verify" : "accept";
	char *user = cmd_word(&rest), *fp = cmd_word(&rest);
	char which[SESSION_FP_SIZE] = "";
	int n, unverified = 0;

	if (user[0] == '\0') {
		tui_say(t, cur_win(t), TA_ERROR, "!!! usage: /%s USER "
		    "[FINGERPRINT]", verb);
		return E_INVALID;
	}
	if ((n = session_accept_key(t->s, user, fp, verified, which)) < 0)
		return n;
	(void)session_keys(t->s, user, trust_seen, &unverified);
	if (!unverified)
		tui_unverified_remove(t, user);
	if (which[0] == '\0')
		tui_say(t, cur_win(t), TA_NOTICE, "*** nothing to %s for %s",
		    verb, user);
	else
		tui_say(t, cur_win(t), TA_NOTICE, "*** %s's key %s %s", user,
		    which, n == 0 ? "was so already" : verified ? "verified" :
		    "accepted");
	return 0;
}

static void
print_device(void *arg, const char *user, const char *fp,
    enum session_trust trust, int online)
{
	struct tui *t = arg;

	tui_say(t, cur_win(t), TA_NOTICE, "***   %s %s  %s%s", user, fp,
	    cmd_trust_word(trust), online ? "" : ", offline");
}

static int
cmd_devices(struct tui *t, const char *conv)
{
	if (conv[0] == '\0')
		conv = cur_win(t)->name;
	tui_say(t, cur_win(t), TA_NOTICE, "*** devices of %s%s:",
	    conv[0] == '@' ? "" : "#", conv);
	if (session_devices(t->s, conv, print_device, t) == 0)
		tui_say(t, cur_win(t), TA_NOTICE, "***   not listed yet");
	return 0;
}

/* /resend CONV or /drop CONV (default: the current window's). */
static int
cmd_held(struct tui *t, const char *conv, int send)
{
	int n;

	if (conv[0] == '\0')
		conv = cur_win(t)->name;
	n = send ? session_resend(t->s, conv) : session_drop(t->s, conv);
	if (n >= 0)
		tui_say(t, cur_win(t), TA_NOTICE, "*** %d line%s to %s%s %s",
		    n, n == 1 ? "" : "s", conv[0] == '@' ? "" : "#", conv,
		    send ? "sent again" : "dropped");
	return n < 0 ? n : 0;
}

/* /msg USER [text]: open the conversation, send text if there is any. */
static int
cmd_msg(struct tui *t, const char *user, const char *text)
{
	char conv[E2E_CONV_MAX + 2];

	if (user[0] == '\0') {
		tui_say(t, cur_win(t), TA_ERROR, "!!! usage: /msg USER [text]");
		return E_INVALID;
	}
	(void)snprintf(conv, sizeof(conv), "@%s", user[0] == '@' ? user + 1 :
	    user);
	if (!e2e_conv_name_ok(conv)) {
		tui_say(t, cur_win(t), TA_ERROR, "!!! not a user name: %s",
		    user);
		return E_INVALID;
	}
	show_conv(t, conv);
	if (text[0] == '\0')
		return 0;
	return session_send_chat(t->s, conv, text, strlen(text));
}

/* /export, /export-text, /import FILE. */
static int
cmd_history(struct tui *t, const char *name, const char *file)
{
	struct history *h = t->a->history;
	char err[512];
	size_t added = 0;
	int r, op;

	if (file[0] == '\0') {
		tui_say(t, cur_win(t), TA_ERROR, "!!! usage: /%s FILE", name);
		return E_INVALID;
	}
	if (h == NULL) {
		tui_say(t, cur_win(t), TA_ERROR, "!!! no history this session "
		    "(it did not open: see the status window)");
		return E_STATE;
	}
	op = strcmp(name, "import") == 0 ? 'i' : strcmp(name, "export") == 0 ?
	    'e' : 't';
	if ((r = app_file(t->a, op, file, &added, err, sizeof(err))) != 0)
		tui_say(t, cur_win(t), TA_ERROR, "!!! %s", err);
	else if (op == 'i')
		tui_say(t, cur_win(t), TA_NOTICE, "*** imported %zu new "
		    "message%s from %s", added, added == 1 ? "" : "s", file);
	else
		tui_say(t, cur_win(t), TA_NOTICE, "*** exported %zu message%s "
		    "to %s", history_count(h), history_count(h) == 1 ? "" :
		    "s", file);
	return r;
}

static int
cmd_join(struct tui *t, const char *room)
{
	size_t idx;
	int r;

	if (tui_win_find(t, room, &idx) != NULL && room[0] != '\0' &&
	    session_in_room(t->s, room)) {
		tui_win_show(t, idx);
		return 0;
	}
	if ((r = session_join(t->s, room)) == 0)
		(void)snprintf(t->want, sizeof(t->want), "%s", room);
	return r;
}

static int
cmd_win(struct tui *t, const char *arg)
{
	long n = strtol(arg, NULL, 10);

	if (n < 1 || (size_t)n > t->nwin) {
		tui_say(t, cur_win(t), TA_ERROR, "!!! no window %s", arg);
		return E_INVALID;
	}
	tui_win_show(t, (size_t)n - 1);
	return 0;
}

/* Commands that only read the session or change the screen. */
static int
command_view(struct tui *t, const char *name, char *rest)
{
	if (strcmp(name, "help") == 0) {
		tui_say(t, cur_win(t), TA_NOTICE, "%s", help1);
		tui_say(t, cur_win(t), TA_NOTICE, "%s", help2);
		tui_say(t, cur_win(t), TA_NOTICE, "%s", help3);
		return 0;
	}
	if (strcmp(name, "close") == 0) {
		if (t->cur == 0 || (cur_win(t)->name[0] != '@' &&
		    session_in_room(t->s, cur_win(t)->name))) {
			tui_say(t, cur_win(t), TA_ERROR, "!!! /close closes a "
			    "private conversation; /leave leaves a room");
			return E_INVALID;
		}
		tui_win_close(t, t->cur);
		return 0;
	}
	if (strcmp(name, "win") == 0)
		return cmd_win(t, cmd_word(&rest));
	if (strcmp(name, "fingerprint") == 0)
		return cmd_fingerprint(t, cmd_word(&rest));
	if (strcmp(name, "devices") == 0)
		return cmd_devices(t, cmd_room_arg(&rest));
	if (strcmp(name, "resend") == 0 || strcmp(name, "drop") == 0)
		return cmd_held(t, cmd_room_arg(&rest), name[0] == 'r');
	tui_say(t, cur_win(t), TA_ERROR, "!!! unknown command /%s (/help)",
	    name);
	return E_INVALID;
}

static int
command(struct tui *t, char *line)
{
	char *rest = line + 1, *name = cmd_word(&rest), *arg;
	const char *room = cur_win(t)->name;

	if (strcmp(name, "quit") == 0) {
		session_quit(t->s, session_clock_ms());
		return 0;
	}
	if (strcmp(name, "join") == 0)
		return cmd_join(t, cmd_room_arg(&rest));
	if (strcmp(name, "leave") == 0) {
		arg = cmd_room_arg(&rest);
		return session_leave(t->s, arg[0] != '\0' ? arg : room);
	}
	if (strcmp(name, "rooms") == 0)
		return session_rooms(t->s);
	if (strcmp(name, "who") == 0) {
		arg = cmd_room_arg(&rest);
		return ask_who(t, arg[0] != '\0' ? arg : NULL);
	}
	if (strcmp(name, "msg") == 0 || strcmp(name, "query") == 0) {
		arg = cmd_word(&rest);
		return cmd_msg(t, arg, rest);
	}
	if (strcmp(name, "accept") == 0 || strcmp(name, "verify") == 0)
		return cmd_accept(t, rest, name[0] == 'v');
	if (strcmp(name, "export") == 0 || strcmp(name, "export-text") == 0 ||
	    strcmp(name, "import") == 0)
		return cmd_history(t, name, cmd_word(&rest));
	return command_view(t, name, rest);
}

void
tui_input_line(struct tui *t, char *line)
{
	const char *conv = cur_win(t)->name;

	if (line[0] == '\0')
		return;
	if (strcmp(line, "TT") == 0) {
		session_quit(t->s, session_clock_ms());
		return;
	}
	if (line[0] == '/' && line[1] != '/') {
		(void)command(t, line);
		return;
	}
	if (line[0] == '/')
		line++;
	if (conv[0] == '\0') {
		tui_say(t, cur_win(t), TA_ERROR, "!!! this is the status "
		    "window: /join a room or /msg a user first (/help)");
		return;
	}
	/* A refusal comes back as an SESSION_EV_ERROR event. */
	if (session_send_chat(t->s, conv, line, strlen(line)) != 0)
		t->redraw = 1;
}
