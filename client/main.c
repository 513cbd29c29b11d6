/*
 * missive: the missive client, line mode (and, with --tui, the terminal
 * UI of client/tui.c).
 *
 *   missive [-c FOLDER/client.conf] [--password-file FILE]
 *           [--check | --tui | --export FILE | --export-text FILE |
 *            --import FILE]
 *
 * Loads the client folder (config, default ./client.conf; the user's key
 * pair; the pinned server key).  With --check, prints what it holds and
 * exits.  Otherwise asks for the password on the terminal without echo (or
 * reads it from FILE, which must not be readable by group or others;
 * standard input is never read for it) and opens the folder's history
 * (client/history.h; if it does not open, says why on standard error and
 * goes on without it).  --export, --export-text and --import work on the
 * history and exit (0, or 1 with the reason on standard error) without
 * connecting.  Otherwise it connects, logs in (into the room
 * "lobby"), and sends each line of standard input as a chat message to
 * the current room, end-to-end encrypted.  The current room is kept in
 * the history: after a restart it is the one current at the last save,
 * if the first login lists it among our rooms ("*** current room: #x";
 * standard input is read only once that is settled), else "lobby".
 * Commands:
 *
 *   /join ROOM        join a room (with or without '#'); it becomes current
 *   /leave [ROOM]     leave a room (default: the current one)
 *   /rooms            list the rooms
 *   /who [ROOM]       who is online, or in a room (offline members marked)
 *   /msg USER text    a private message
 *   /fingerprint [USER]  your key's fingerprint, or USER's keys
 *   /accept USER [FP] accept USER's key FP (a unique prefix will do) after
 *                     comparing it; without FP, USER's only key not
 *                     accepted (never for your own user)
 *   /verify USER [FP] mark USER's key FP verified (without FP: USER's
 *                     only key)
 *   /devices [CONV]   the devices of a conversation (default: the current
 *                     room), with their trust
 *   /resend CONV, /drop CONV  send or drop the lines held because CONV's
 *                     devices changed while disconnected
 *   /help             these commands
 *   TT or /quit       leave (so does the end of input, after queued lines)
 *   //text            send "/text"
 *
 * Standard output gets one line per event, flushed at once (it works in a
 * pipe): chat as "[HH:MM:SS] #room <nickname> text" or "[HH:MM:SS] @user
 * <nickname> text" for a private conversation (the time the sender signed,
 * in local time, with the date before it when it is not today, as for
 * lines stored while we were away; "[key not accepted]" after the nickname
 * when the sender's key changed and was not accepted), notices starting
 * with "*** " (after the lines stored while we were away: "*** N new lines
 * while you were away"), errors and warnings with "!!! ".  Control
 * characters from the network are shown as '?'.  When standard output is
 * not a terminal, the reason for an exit other than 0 also goes to
 * standard error.
 *
 * Exit status:
 *   0  clean quit
 *   1  other error (bad configuration, unreadable key, no password, ...)
 *   2  usage
 *   3  login refused (invalid user, password or key; account locked or
 *      disabled)
 *   4  untrusted server: it presented another key than the pinned one
 *   5  server unreachable: the first connection failed, or the connection
 *      was lost and reconnecting is disabled
 *   6  this client's key is not enrolled on the server
 *   7  this client folder logged in again elsewhere (1010|replaced)
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "client/app.h"
#include "client/cmd.h"
#include "client/config.h"
#include "client/session.h"
#include "client/tui.h"
#include "client/wording.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/proto.h"
#include "keydist/keys.h"


struct ui {
	struct session *s;
	const char *host;
	char room[64];                /* where plain lines go */
	struct buf who;               /* the who or room list being received */
	char *line;                   /* the input line being read */
	size_t linelen, linemax;
	int overlong;                 /* skipping the rest of a long line */
	int input_open;               /* still reading standard input */
	struct app *app;              /* folder, keys, history */
};

static void __attribute__((noreturn))
usage(void)
{
	(void)fprintf(stderr, "usage: missive [-c FOLDER/client.conf] "
	    "[--password-file FILE] [--check | --tui | --export FILE | "
	    "--export-text FILE | --import FILE]\n");
	exit(2);
}

/*
 * Print network text with every control character (C0 but TAB, DEL, C1:
 * terminal escapes) as '?'.  The core hands over valid UTF-8 only.
 */
static void
put_net(FILE *f, const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i;

	for (i = 0; i < len; i++) {
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 &&
		    u[i + 1] < 0xa0) {
			i++;
			(void)fputc('?', f);
		} else if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
			(void)fputc('?', f);
		} else {
			(void)fputc(u[i], f);
		}
	}
}

static void
put_str(FILE *f, const char *s)
{
	put_net(f, s, strlen(s));
}

/* "#room" or "@user". */
static void
put_conv(FILE *f, const char *conv)
{
	if (conv[0] != '@')
		(void)fputc('#', f);
	put_str(f, conv);
}

/* A line of ours stored (✓) or fetched by every device (✓✓):
   "*** ✓ #room: text". */
static void
print_mark(const struct ui *ui, const struct session_event *ev)
{
	const struct history_record *r = NULL;
	const char *room = ev->room, *text = ev->text;

	/* A line of an earlier session: the history may know it. */
	if (room == NULL && ui->app->history != NULL &&
	    (r = history_find(ui->app->history, ev->mid)) != NULL) {
		room = r->conv;
		text = r->text;
	}
	(void)fputs(ev->kind == SESSION_EV_SENT ? "*** \u2713 " :
	    "*** \u2713\u2713 ", stdout);
	if (room == NULL) {
		(void)fputs("a line of an earlier session\n", stdout);
		return;
	}
	put_conv(stdout, room);
	(void)fputs(": ", stdout);
	put_str(stdout, text);
	putchar('\n');
}

/* The sender's signed time, dated when it is not today. */
static void
print_when(int64_t time_ms)
{
	char when[WORDING_WHEN_MAX];

	wording_when(time_ms, 1, when);
	printf("[%s] ", when);
}

static void
print_chat(const struct session_event *ev)
{
	print_when(ev->time_ms);
	put_conv(stdout, ev->room);
	(void)fputs(" <", stdout);
	put_str(stdout, ev->display);
	(void)fputs(ev->trust == SESSION_KEY_UNACCEPTED ?
	    "> [key not accepted] " : "> ", stdout);
	put_str(stdout, ev->text);
	putchar('\n');
}

static void
print_key_mismatch(FILE *f, const struct session_event *ev)
{
	char msg[WORDING_MAX];

	wording_key_mismatch(msg, sizeof(msg), WORDING_TERMINAL, ev);
	(void)fprintf(f, "!!! %s\n", msg);
}

static void
print_not_enrolled(FILE *f, const struct session_event *ev)
{
	char msg[WORDING_MAX];

	wording_not_enrolled(msg, sizeof(msg), ev, ev->text);
	(void)fputs("!!! ", f);
	put_str(f, msg);
	(void)fputc('\n', f);
}

/*
 * "*** Bob (bob) joined #dev, device SHA256:.." or "left #dev (quit),
 * device ..", with ", offline" after a device added offline (1003 ADD)
 * and ", still a member" after one that went offline.
 */
static void
print_presence(const struct session_event *ev)
{
	int join = ev->kind == SESSION_EV_JOIN;

	(void)fputs("*** ", stdout);
	put_str(stdout, ev->nickname);
	(void)fputs(" (", stdout);
	put_str(stdout, ev->user);
	(void)fputs(join ? ") joined " : ") left ", stdout);
	put_conv(stdout, ev->room);
	if (!join) {
		(void)fputs(" (", stdout);
		put_str(stdout, ev->code);
		(void)fputs(")", stdout);
	}
	(void)fputs(", device ", stdout);
	put_str(stdout, ev->fingerprint);
	if (ev->online == 0)
		(void)fputs(join ? ", offline" : ", still a member", stdout);
	putchar('\n');
}

/* A list ("a (b), c (d, note)"), printed at its end. */
static void
list_add(struct ui *ui, const char *a, const char *b, const char *note)
{
	const char *sep = buf_size(&ui->who) > 0 ? ", " : "";

	if (buf_append(&ui->who, sep, strlen(sep)) != 0 ||
	    buf_append(&ui->who, a, strlen(a)) != 0 ||
	    buf_append(&ui->who, " (", 2) != 0 ||
	    buf_append(&ui->who, b, strlen(b)) != 0 ||
	    (note != NULL && (buf_append(&ui->who, ", ", 2) != 0 ||
	    buf_append(&ui->who, note, strlen(note)) != 0)) ||
	    buf_append(&ui->who, ")", 1) != 0)
		printf("!!! out of memory: the list is incomplete\n");
}

static void
list_print(struct ui *ui, const char *what, long long count)
{
	printf("*** %s (%lld): ", what, count);
	put_net(stdout, (const char *)buf_data(&ui->who), buf_size(&ui->who));
	putchar('\n');
	buf_free(&ui->who);
}

/* Plain lines go to room from now on, and a restart comes back to it. */
static void
set_room(struct ui *ui, const char *room)
{
	(void)snprintf(ui->room, sizeof(ui->room), "%s", room);
	app_set_current(ui->app, room);
}

/*
 * A room other than the lobby (current at the last save): until the
 * first login has listed our rooms, no line is read (it could be for
 * that room).  Private conversations are never current in the line mode.
 */
static int
restorable(const char *conv)
{
	return conv != NULL && conv[0] != '@' && strcmp(conv, PROTO_LOBBY) != 0;
}

/* At the first login's end of backlog: back to that room if still ours. */
static void
restore_room(struct ui *ui, const struct session_event *ev)
{
	const char *conv;
	int r;

	if ((r = app_restore(ui->app, ui->s, ev, &conv)) == 0 ||
	    !restorable(conv))
		return;
	(void)fputs(r > 0 ? "*** current room: " : "*** you are no longer in ",
	    stdout);
	put_conv(stdout, conv);
	if (r < 0)
		(void)fputs(": lines go to #" PROTO_LOBBY, stdout);
	putchar('\n');
	set_room(ui, r > 0 ? conv : PROTO_LOBBY);
}

static void
print_key(void *arg, const char *fp, enum session_trust t)
{
	printf("***   %s  %s\n", fp, cmd_trust_word(t));
	(void)arg;
}

static void
on_event(void *arg, const struct session_event *ev)
{
	struct ui *ui = arg;
	char msg[WORDING_MAX];
	const char *why;

	if (app_record(ui->app, ev) != 0)
		printf("!!! out of memory: a message is not kept in the "
		    "history\n");
	switch (ev->kind) {
	case SESSION_EV_CONNECTING:
		printf("*** connecting to %s port %s\n", ev->host, ev->port);
		break;
	case SESSION_EV_CONNECTED:
		printf("*** connected to %s, server key %s\n", ui->host,
		    ev->fingerprint);
		break;
	case SESSION_EV_KEY_MISMATCH:
		print_key_mismatch(stdout, ev);
		if (!isatty(STDOUT_FILENO))
			print_key_mismatch(stderr, ev);
		break;
	case SESSION_EV_NOT_ENROLLED:
		print_not_enrolled(stdout, ev);
		if (!isatty(STDOUT_FILENO))
			print_not_enrolled(stderr, ev);
		break;
	case SESSION_EV_LOGGED_IN:
		(void)fputs("*** logged in as ", stdout);
		put_str(stdout, ev->nickname);
		putchar('\n');
		break;
	case SESSION_EV_LOGIN_FAILED:
		(void)fputs("!!! login refused: ", stdout);
		if ((why = wording_login_code(ev->code)) != NULL)
			(void)fputs(why, stdout);
		else
			put_str(stdout, ev->code);
		putchar('\n');
		break;
	case SESSION_EV_CHAT:
		print_chat(ev);
		break;
	case SESSION_EV_UNREADABLE:
		(void)fputs("!!! ", stdout);
		put_str(stdout, ev->text);
		putchar('\n');
		break;
	case SESSION_EV_JOINED:
		wording_joined(msg, sizeof(msg), WORDING_TERMINAL, ev);
		printf("*** %s\n", msg);
		break;
	case SESSION_EV_LEFT:
		(void)fputs("*** you left ", stdout);
		put_conv(stdout, ev->room);
		putchar('\n');
		if (strcmp(ev->room, ui->room) == 0)
			set_room(ui, PROTO_LOBBY);
		break;
	case SESSION_EV_JOIN:
	case SESSION_EV_LEAVE:
		print_presence(ev);
		break;
	case SESSION_EV_WHO:
		list_add(ui, ev->nickname, ev->user, ev->online ? NULL :
		    PROTO_STATE_OFFLINE);
		break;
	case SESSION_EV_WHO_END:
		list_print(ui, "online", ev->count);
		break;
	case SESSION_EV_ROOM: {
		char members[24];

		(void)snprintf(members, sizeof(members), "%lld", ev->count);
		list_add(ui, ev->room, members, NULL);
		break;
	}
	case SESSION_EV_ROOMS_END:
		list_print(ui, "rooms", ev->count);
		break;
	case SESSION_EV_KEY_PINNED:
		wording_key_pinned(msg, sizeof(msg), WORDING_TERMINAL, ev);
		printf("*** %s\n", msg);
		break;
	case SESSION_EV_KEY_CHANGED:
		wording_key_changed(msg, sizeof(msg), WORDING_TERMINAL, ev);
		printf("!!! %s\n", msg);
		break;
	case SESSION_EV_NEW_DEVICE:
		wording_new_device(msg, sizeof(msg), WORDING_TERMINAL, ev);
		printf("!!! %s\n", msg);
		break;
	case SESSION_EV_DEVICES_CHANGED:
		wording_devices_changed(msg, sizeof(msg), ev);
		printf("*** %s\n", msg);
		break;
	case SESSION_EV_DEVICE_DROPPED:
		wording_device_dropped(msg, sizeof(msg), ev);
		(void)fputs("!!! ", stdout);
		put_str(stdout, msg);
		putchar('\n');
		break;
	case SESSION_EV_HELD:
		wording_held(msg, sizeof(msg), WORDING_TERMINAL, ev);
		printf("!!! %s\n", msg);
		break;
	case SESSION_EV_SERVER_ERROR:
		(void)fputs("!!! server error (", stdout);
		put_str(stdout, ev->code);
		(void)fputs("): ", stdout);
		put_str(stdout, ev->text);
		putchar('\n');
		break;
	case SESSION_EV_CLOSING:
		if (strcmp(ev->code, proto_close_word(PROTO_CLOSE_QUIT)) == 0)
			break;
		(void)fputs("*** the server is closing the connection (",
		    stdout);
		put_str(stdout, ev->code);
		(void)fputs("): ", stdout);
		put_str(stdout, ev->text);
		putchar('\n');
		break;
	case SESSION_EV_DISCONNECTED:
		(void)fputs("*** disconnected: ", stdout);
		put_str(stdout, ev->text);
		putchar('\n');
		break;
	case SESSION_EV_RECONNECTING:
		printf("*** reconnecting in %lld ms\n", ev->delay_ms);
		break;
	case SESSION_EV_ERROR:
		(void)fputs("!!! ", stdout);
		put_str(stdout, ev->text);
		putchar('\n');
		break;
	case SESSION_EV_NOT_STORED:
		wording_not_stored(msg, sizeof(msg), ev);
		(void)fputs("!!! ", stdout);
		put_str(stdout, msg);
		putchar('\n');
		break;
	case SESSION_EV_BACKLOG_END:
		if (ev->count > 0) {
			wording_backlog(msg, sizeof(msg), ev);
			printf("*** %s\n", msg);
		}
		restore_room(ui, ev);
		break;
	case SESSION_EV_SENT:
	case SESSION_EV_DELIVERED:
		print_mark(ui, ev);
		break;
	case SESSION_EV_DONE:
		break;
	case SESSION_EV_FATAL:
		/* These had their own message just before, on both streams. */
		if (ev->end == SESSION_KEY_MISMATCH ||
		    ev->end == SESSION_NOT_ENROLLED)
			break;
		if (ev->end != SESSION_LOGIN_REFUSED) {
			(void)fputs("!!! ", stdout);
			put_str(stdout, ev->text);
			putchar('\n');
		}
		if (!isatty(STDOUT_FILENO)) {
			(void)fputs("missive: ", stderr);
			put_str(stderr, ev->text);
			(void)fputc('\n', stderr);
		}
		break;
	}
}

static const char help[] =
    "*** commands: /join ROOM, /leave [ROOM], /rooms, /who [ROOM], "
    "/msg USER text, /fingerprint [USER], /accept USER [FP], "
    "/verify USER [FP], /devices [CONV], /resend CONV, /drop CONV, "
    "/quit (or TT), /help; //text sends /text\n";

static int
cmd_fingerprint(struct ui *ui, const char *user)
{
	if (user[0] == '\0') {
		printf("*** your key: %s\n", session_fingerprint(ui->s));
		return 0;
	}
	printf("*** keys of %s:\n", user);
	if (session_keys(ui->s, user, print_key, NULL) == 0)
		printf("***   none seen yet\n");
	return 0;
}

static int
cmd_accept(struct ui *ui, char *rest, int verified)
{
	char *user = cmd_word(&rest), *fp = cmd_word(&rest);
	char which[SESSION_FP_SIZE] = "";
	int n;

	if (user[0] == '\0') {
		printf("!!! usage: /%s USER [FINGERPRINT]\n", verified ?
		    "verify" : "accept");
		return E_INVALID;
	}
	if ((n = session_accept_key(ui->s, user, fp, verified, which)) < 0)
		return n;
	if (which[0] == '\0')
		printf("*** nothing to %s for %s\n", verified ? "verify" :
		    "accept", user);
	else
		printf("*** %s's key %s %s\n", user, which, n == 0 ?
		    "was so already" : verified ? "verified" : "accepted");
	return 0;
}

static void
print_device(void *arg, const char *user, const char *fp,
    enum session_trust t, int online)
{
	(void)arg;
	printf("***   %s %s  %s%s\n", user, fp, cmd_trust_word(t),
	    online ? "" : ", offline");
}

static int
cmd_devices(struct ui *ui, const char *conv)
{
	if (conv[0] == '\0')
		conv = ui->room;
	(void)fputs("*** devices of ", stdout);
	put_conv(stdout, conv);
	(void)fputs(":\n", stdout);
	if (session_devices(ui->s, conv, print_device, NULL) == 0)
		printf("***   not listed yet\n");
	return 0;
}

/* /resend CONV or /drop CONV. */
static int
cmd_held(struct ui *ui, const char *conv, int send)
{
	int n;

	if (conv[0] == '\0') {
		printf("!!! usage: /%s CONV\n", send ? "resend" : "drop");
		return E_INVALID;
	}
	n = send ? session_resend(ui->s, conv) : session_drop(ui->s, conv);
	if (n < 0)
		return n;
	printf("*** %d line%s to ", n, n == 1 ? "" : "s");
	put_conv(stdout, conv);
	printf(" %s\n", send ? "sent again" : "dropped");
	return 0;
}

/* A line starting with one '/' (NUL-terminated at len). */
static int
command(struct ui *ui, char *line, size_t len)
{
	char *rest = line + 1, *name, *arg, conv[64];
	int r;

	line[len] = '\0';
	name = cmd_word(&rest);
	if (strcmp(name, "who") == 0) {
		arg = cmd_room_arg(&rest);
		return session_who(ui->s, arg[0] != '\0' ? arg : NULL);
	}
	if (strcmp(name, "rooms") == 0)
		return session_rooms(ui->s);
	if (strcmp(name, "join") == 0) {
		arg = cmd_room_arg(&rest);
		if ((r = session_join(ui->s, arg)) == 0)
			set_room(ui, arg);
		return r;
	}
	if (strcmp(name, "leave") == 0) {
		arg = cmd_room_arg(&rest);
		return session_leave(ui->s, arg[0] != '\0' ? arg : ui->room);
	}
	if (strcmp(name, "msg") == 0) {
		arg = cmd_word(&rest);
		if (arg[0] == '\0' || rest[0] == '\0') {
			printf("!!! usage: /msg USER text\n");
			return E_INVALID;
		}
		(void)snprintf(conv, sizeof(conv), "@%s", arg);
		return session_send_chat(ui->s, conv, rest, strlen(rest));
	}
	if (strcmp(name, "fingerprint") == 0)
		return cmd_fingerprint(ui, cmd_word(&rest));
	if (strcmp(name, "accept") == 0 || strcmp(name, "verify") == 0)
		return cmd_accept(ui, rest, name[0] == 'v');
	if (strcmp(name, "devices") == 0)
		return cmd_devices(ui, cmd_room_arg(&rest));
	if (strcmp(name, "resend") == 0 || strcmp(name, "drop") == 0)
		return cmd_held(ui, cmd_room_arg(&rest), name[0] == 'r');
	if (strcmp(name, "help") == 0) {
		(void)fputs(help, stdout);
		return 0;
	}
	(void)fputs("!!! unknown command /", stdout);
	put_str(stdout, name);
	putchar('\n');
	(void)fputs(help, stdout);
	return E_INVALID;
}

/*
 * One line typed by the user (without its LF).  Returns 0, or the error an
 * event has already reported.
 */
static int
input_line(struct ui *ui, char *p, size_t len)
{
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;
	if ((len == 2 && memcmp(p, "TT", 2) == 0) ||
	    (len == 5 && memcmp(p, "/quit", 5) == 0)) {
		ui->input_open = 0;
		session_quit(ui->s, session_clock_ms());
		return 0;
	}
	if (p[0] == '/' && (len < 2 || p[1] != '/'))
		return command(ui, p, len);
	if (p[0] == '/') {
		p++;
		len--;
	}
	return session_send_chat(ui->s, ui->room, p, len);
}

/* Read what standard input has; lines go out as they complete. */
static void
input_read(struct ui *ui)
{
	char chunk[4096], *nl;
	size_t off = 0, n, take;
	ssize_t got;

	got = read(STDIN_FILENO, chunk, sizeof(chunk));
	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got <= 0) {
		if (got < 0)
			printf("!!! cannot read standard input: %s\n",
			    strerror(errno));
		/* A last line without LF still counts. */
		if (ui->linelen > 0 && !ui->overlong)
			(void)input_line(ui, ui->line, ui->linelen);
		ui->linelen = 0;
		ui->input_open = 0;
		session_quit(ui->s, session_clock_ms());
		return;
	}
	while (off < (size_t)got && ui->input_open) {
		n = (size_t)got - off;
		nl = memchr(chunk + off, '\n', n);
		take = nl != NULL ? (size_t)(nl - (chunk + off)) : n;
		if (!ui->overlong && ui->linelen + take > ui->linemax) {
			ui->overlong = 1;
			printf("!!! line longer than %zu bytes: not sent\n",
			    ui->linemax);
		}
		if (!ui->overlong) {
			memcpy(ui->line + ui->linelen, chunk + off, take);
			ui->linelen += take;
		}
		off += take;
		if (nl == NULL)
			break;
		off++;
		if (!ui->overlong)
			(void)input_line(ui, ui->line, ui->linelen);
		ui->linelen = 0;
		ui->overlong = 0;
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
}

/* The sooner of the session's timers and the history's. */
static int64_t
poll_timeout(const struct ui *ui)
{
	int64_t now = session_clock_ms(), t, h;

	t = session_timeout(ui->s, now);
	h = app_save_timeout(ui->app, ui->s, now);
	return t < 0 || (h >= 0 && h < t) ? h : t;
}

static void
save_history(struct ui *ui)
{
	char err[512];

	if (app_save(ui->app, ui->s, session_clock_ms(), 0, err,
	    sizeof(err)) != 0)
		printf("!!! %s\n", err);
}

/* Drive the session until it ends. */
static int
run(struct ui *ui)
{
	struct pollfd pfd[2];
	int64_t now, timeout;
	int n, in, sx, fd;

	session_start(ui->s, session_clock_ms());
	while (session_end(ui->s) == SESSION_RUNNING) {
		n = 0;
		in = sx = -1;
		if (ui->input_open &&
		    !restorable(app_restoring(ui->app))) {
			pfd[n].fd = STDIN_FILENO;
			pfd[n].events = POLLIN;
			in = n++;
		}
		if ((fd = session_fd(ui->s)) >= 0) {
			pfd[n].fd = fd;
			pfd[n].events = session_events(ui->s);
			sx = n++;
		}
		timeout = poll_timeout(ui);
		if (poll(pfd, (nfds_t)n, timeout > INT_MAX ? INT_MAX :
		    (int)timeout) < 0) {
			if (errno == EINTR)
				continue;
			printf("!!! poll: %s\n", strerror(errno));
			return 1;
		}
		now = session_clock_ms();
		if (sx >= 0 && pfd[sx].revents != 0)
			session_handle(ui->s, pfd[sx].revents, now);
		if (in >= 0 && pfd[in].revents != 0 &&
		    session_end(ui->s) == SESSION_RUNNING)
			input_read(ui);
		session_tick(ui->s, session_clock_ms());
		save_history(ui);
	}
	return cmd_exit_status(session_end(ui->s));
}

/* --export, --export-text, --import: no connection. */
static int
history_command(struct app *a, int op, const char *file)
{
	char err[512];
	size_t added = 0;

	if (app_file(a, op, file, &added, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "missive: %s\n", err);
		return 1;
	}
	if (op == 'i')
		printf("imported %zu new message%s from %s (%zu in the history)"
		    "\n", added, added == 1 ? "" : "s", file,
		    history_count(a->history));
	else
		printf("exported %zu message%s to %s\n",
		    history_count(a->history),
		    history_count(a->history) == 1 ? "" : "s", file);
	return 0;
}

/* The line mode. */
static int
line_mode(struct app *a)
{
	struct ui ui = { .who = BUF_INIT, .input_open = 1, .room = PROTO_LOBBY,
	    .app = a };
	int status = 1;

	if (app_session(a, on_event, &ui, &ui.s) != 0)
		return 1;
	ui.host = a->cfg.server_host;
	ui.linemax = (size_t)a->cfg.max_frame;
	/*
	 * Zeroed, so that no path reads it undefined (clang's analyser
	 * cannot follow linelen through the session's callbacks).
	 */
	if ((ui.line = calloc(1, ui.linemax + 1)) == NULL) {
		(void)fprintf(stderr, "missive: %s\n", err_str(E_NOMEM));
		goto out;
	}
	/* One line per event, even into a pipe. */
	if (setvbuf(stdout, NULL, _IOLBF, 0) != 0) {
		(void)fprintf(stderr, "missive: cannot set line buffering\n");
		goto out;
	}
	status = run(&ui);
out:
	session_free(ui.s);
	buf_free(&ui.who);
	if (ui.line != NULL)
		OPENSSL_clear_free(ui.line, ui.linemax + 1);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'k' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "tui", no_argument, NULL, 'u' },
		{ "export", required_argument, NULL, 'e' },
		{ "export-text", required_argument, NULL, 't' },
		{ "import", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = "client.conf", *pwfile = NULL, *file = NULL;
	struct app a = APP_INIT;
	char err[512];
	int ch, check = 0, tui = 0, op = 0, status = 1;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch == 'c')
			conf = optarg;
		else if (ch == 'k')
			check = 1;
		else if (ch == 'p')
			pwfile = optarg;
		else if (ch == 'u')
			tui = 1;
		else if ((ch == 'e' || ch == 't' || ch == 'i') && op == 0) {
			op = ch;
			file = optarg;
		} else
			usage();
	}
	if (optind != argc || (tui && (op != 0 || check)))
		usage();
	if (app_load(&a, conf) != 0)
		goto out;
	if (check) {
		/* app_load() opens a clear key only. */
		printf("user %s\nyour key %s (%s)\nserver %s port %lld, pinned "
		    "key %s\n", a.cfg.user, a.fp, a.key != NULL ? "user.key is "
		    "not encrypted" : "user.key is encrypted with your password",
		    a.cfg.server_host, a.cfg.server_port, a.sfp);
		status = 0;
		goto out;
	}
	if (app_password(&a, pwfile) != 0)
		goto out;
	if (app_history(&a, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "missive: %s%s\n", err, op != 0 ? "" :
		    "; this session's messages are not kept");
		if (op != 0)
			goto out;
	}
	if (op != 0)
		status = history_command(&a, op, file);
	else if (tui)
		status = tui_main(&a);
	else
		status = line_mode(&a);
	if (app_save(&a, NULL, 0, 1, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "missive: %s\n", err);
		if (status == 0)
			status = 1;
	}
out:
	app_free(&a);
	return status;
}
