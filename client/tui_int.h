/*
 * The terminal UI's model, shared by its files: windows (one per room and
 * private conversation, plus a status window), their lines and members,
 * the input line.  client/tui_win.c keeps the model without curses;
 * client/tui.c draws it and reads the keyboard; client/tui_ev.c turns the
 * core's events and the user's commands into changes of the model.
 */
#ifndef MISSIVE_CLIENT_TUI_INT_H
#define MISSIVE_CLIENT_TUI_INT_H

#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "client/app.h"
#include "client/e2e.h"
#include "client/session.h"
#include "client/wording.h"

#define TUI_SCROLLBACK 2000     /* lines kept per window */
#define TUI_INPUT_MAX 2048      /* characters on the input line */
#define TUI_RECALL 100          /* input lines kept for Up/Down */
#define TUI_HISTORY_LINES 200   /* history lines shown in a new window */
#define TUI_WHO_QUEUE 16        /* /who requests awaiting their answer */
#define TUI_UNVERIFIED 16       /* users named on the status line */

enum tui_attr {
	TA_CHAT,                      /* someone's message */
	TA_OWN,                       /* ours */
	TA_NOTICE,                    /* "***" */
	TA_ERROR,                     /* "!!!" */
	TA_OLD,                       /* from the history */
};

struct tui_line {
	wchar_t *text;                /* safe to print: no control chars */
	enum tui_attr attr;
	uint8_t mid[SESSION_MID_LEN]; /* TA_OWN: the line's message id, to
	                                 add its ✓✓ when delivered */
};

struct tui_member {
	char user[NAME_USER_MAX + 1];
	char *nick;                   /* sanitized; shown once, however
	                                 many devices (session_devices()
	                                 says which are online) */
};

struct tui_win {
	char name[E2E_CONV_MAX + 1];  /* "" (status), "dev", "@bob" */
	struct tui_line *lines;       /* oldest first, at most
	                                 TUI_SCROLLBACK */
	size_t n;
	size_t scroll;                /* screen rows above the bottom */
	int unread;                   /* messages and errors since it was
	                                 last shown */
	struct tui_member *mem;
	size_t nmem;
	int away;                     /* the "new since you were away"
	                                 divider is shown (this login) */
};

struct tui {
	struct app *a;
	struct session *s;
	struct tui_win **win;         /* win[0]: status */
	size_t nwin;
	size_t cur;                   /* the window shown */
	char want[E2E_CONV_MAX + 1];  /* show this room once joined */

	wchar_t input[TUI_INPUT_MAX + 1];
	size_t len, pos;              /* input length, cursor */
	wchar_t *recall[TUI_RECALL];  /* earlier input, oldest first */
	size_t nrecall, rpos;         /* rpos == nrecall: the new line */
	int esc;                      /* ESC came: Alt-digit next? */

	char conn[96];                /* connected, reconnecting, ... */
	char server_fp[KD_FP_SIZE];   /* the pinned key presented, or "" */
	int key_mismatch;
	char unverified[TUI_UNVERIFIED][NAME_USER_MAX + 1];
	size_t nunverified;
	char who[TUI_WHO_QUEUE][E2E_CONV_MAX + 1]; /* "" = online */
	size_t nwho;
	char *list;                   /* a who or rooms list being received */
	size_t listlen;
	int redraw;                   /* the model changed */
	int done;                     /* leave the loop */
};

/* ---- client/tui_win.c ---- */

/* The window of conv ("" status), or NULL. */
struct tui_win *tui_win_find(struct tui *t, const char *conv, size_t *idx);

/* The window of conv, opened (with its history) if need be; NULL on
   E_NOMEM. */
struct tui_win *tui_win_open(struct tui *t, const char *conv);

/* Close window idx (not the status window). */
void tui_win_close(struct tui *t, size_t idx);

/* Show window idx: its unread count goes to 0. */
void tui_win_show(struct tui *t, size_t idx);

/* Add a line to w (printf-style, UTF-8, control characters shown as
   '?'); a message or error counts as unread unless w is shown. */
void tui_say(struct tui *t, struct tui_win *w, enum tui_attr attr,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The last line of w, of ours, has message id mid. */
void tui_line_mid(struct tui_win *w, const uint8_t *mid);

/* Own line mid (in any window) is delivered: "✓" becomes "✓✓". */
void tui_delivered(struct tui *t, const uint8_t *mid);

/* Members of a room window. */
void tui_member_add(struct tui_win *w, const char *user, const char *nick);
void tui_member_remove(struct tui_win *w, const char *user);
void tui_members_clear(struct tui_win *w);

/* user's devices in conv: 1 one is online, 0 all offline, -1 none. */
int tui_member_state(const struct tui *t, const char *conv,
    const char *user);

/* Users with keys not verified, for the status line. */
void tui_unverified_add(struct tui *t, const char *user);
void tui_unverified_remove(struct tui *t, const char *user);

/* Keep a line typed for Up/Down. */
void tui_recall_add(struct tui *t, const wchar_t *line, size_t len);

/* Free every window and recalled line. */
void tui_model_free(struct tui *t);

/* "[HH:MM]" of a time in ms since the epoch, local, dated when it is
   not today ("[YYYY-MM-DD HH:MM]"). */
#define TUI_CLOCK_MAX (WORDING_WHEN_MAX + 2)
void tui_clock(int64_t ms, char out[TUI_CLOCK_MAX]);

/* ---- client/tui_ev.c ---- */

/* The session's event callback. */
void tui_on_event(void *arg, const struct session_event *ev);

/* One line the user typed (UTF-8, NUL-terminated, modifiable). */
void tui_input_line(struct tui *t, char *line);

#endif
