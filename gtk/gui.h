/*
 * missive-gtk: the GTK 4 front end.  A thin layer over the client core
 * (client/session.h): it owns windows and widgets, turns session events
 * into what they show, and turns clicks and typing into session calls.  No
 * protocol or crypto code lives here.
 *
 *   main.c    the application, command line, trace hook
 *   login.c   the login window (folder, server, user, password)
 *   pump.c    the session driven from the GLib main loop, and the
 *             history (client/app.h) kept with it
 *   chat.c    the main window: its assembly, menus and input box, and
 *             the session events dispatched to what shows them
 *   view.c    its message view: each conversation's lines, the past
 *             ones from the history
 *   sidebar.c its side lists: the conversations (unread counts), the
 *             members of the one shown
 *   dialogs.c small modal dialogs: prompts, notices, fingerprints,
 *             history export and import
 */
#ifndef MISSIVE_GTK_GUI_H
#define MISSIVE_GTK_GUI_H

#include <stdio.h>

#include <gtk/gtk.h>

#include "client/app.h"
#include "client/config.h"
#include "client/session.h"
#include "client/wording.h"

/* One conversation: a room ("dev") or a private one ("@user2"). */
struct conv {
	char *name;                   /* as the core names it */
	GtkTextBuffer *buf;           /* its messages */
	int unread;                   /* lines since it was last shown */
	GtkWidget *row;               /* its row in the conversation list */
	GtkWidget *label, *badge;     /* name, unread count */
	GHashTable *members;          /* user -> struct member (rooms) */
	GHashTable *live;             /* ids (hex) of the chat lines shown
	                                 live: not repeated from the history */
	GtkTextMark *past;            /* end of the lines from the history,
	                                 at the top of buf */
	GHashTable *pending;          /* mid (hex) -> GtkTextMark * at the
	                                 " …" of an own line not yet stored */
	GHashTable *ticks;            /* mid (hex) -> GtkTextMark * at the
	                                 " ✓" of an own line stored */
	int away;                     /* the "new since you were away"
	                                 divider is shown (this login) */
};

/* A user in a room: shown once, however many devices it has there
   (their states are the core's: session_devices()). */
struct member {
	char *nickname;
};

struct gui {
	GtkApplication *app;
	FILE *trace;                  /* MISSIVE_GTK_TRACE: displayed lines */
	char *start_folder;           /* -c or the remembered folder */

	/* Login window. */
	GtkWidget *login;
	GtkWidget *l_folder, *l_server, *l_user, *l_password;
	GtkWidget *l_button, *l_spinner, *l_error;
	char *l_reason;               /* why the last session failed */

	/* Session (pump.c). */
	struct client_config cfg;
	int cfg_loaded;
	struct session *s;
	guint fd_src, timer_src;
	int fd;
	short events;
	int logged_in;
	int closing;                  /* the main window asked to quit */
	int logging_out;              /* back to the login window after */
	char *nickname;

	/* History (client/app.h): only a.history, a.dirty_since and the
	   current conversation (app_set_current(), app_restore()) are
	   used; the folder's configuration is cfg above. */
	struct app a;
	char *history_err;            /* why it did not open, or NULL */

	/* Main window (chat.c, view.c, sidebar.c). */
	GtkWidget *win, *subtitle, *conv_list, *view, *members, *entry;
	GtkWidget *member_title;
	GtkWidget *info, *info_label; /* the info bar above the messages */
	GtkTextTagTable *tags;
	GPtrArray *convs;             /* struct conv * */
	struct conv *cur;             /* the one shown */
	GQueue who_pending;           /* char *: room, or "" for online */
	GPtrArray *who_acc;           /* char *: "user\tnickname" */
	int rooms_pending;            /* a room list was asked for */
	GPtrArray *rooms_acc;         /* char *: "room\tcount" */
};

/* main.c */
void gui_trace(struct gui *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *gui_clean(const char *net);

/* login.c */
void login_show(struct gui *g);
void login_failed(struct gui *g, const char *why);
void login_done(struct gui *g);

/* pump.c */
int pump_start(struct gui *g, const char *password, char *err,
    size_t errlen);
void pump_after(struct gui *g);
void pump_stop(struct gui *g);

/* chat.c */
void chat_open(struct gui *g);
void chat_close(struct gui *g);
void chat_quit(struct gui *g);
void chat_event(struct gui *g, const struct session_event *ev);
void chat_status(struct gui *g, const char *status);
void chat_info(struct gui *g, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* view.c; view_* for chat.c and sidebar.c only */
void chat_notice(struct gui *g, struct conv *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void chat_past_refresh(struct gui *g);
void view_tags(struct gui *g);
void view_buffer_new(struct gui *g, struct conv *c);
void view_buffer_free(struct conv *c);
void view_show(struct gui *g, struct conv *c);
void view_line(struct gui *g, struct conv *c, int64_t ms, const char *nick,
    enum session_trust trust, const char *text, const uint8_t *own_mid);
void view_mark_live(struct conv *c, const uint8_t *mid);
void view_stored(struct gui *g, struct conv *c, const uint8_t *mid,
    int stored);
void view_refused_all(struct gui *g, struct conv *c);
void view_delivered(struct gui *g, const uint8_t *mid, const char *text);

/* sidebar.c; sidebar_* for chat.c and view.c only */
struct conv *chat_conv(struct gui *g, const char *name, int create);
void chat_select(struct gui *g, struct conv *c);
void chat_refresh_members(struct gui *g);
void sidebar_new(struct gui *g);
void sidebar_close(struct gui *g);
char *sidebar_title(const char *name);
void sidebar_unread(struct gui *g, struct conv *c);
void sidebar_read(struct conv *c);
void sidebar_remove(struct gui *g, struct conv *c);
void sidebar_member_add(struct gui *g, struct conv *c, const char *user,
    const char *nick);
void sidebar_member_remove(struct gui *g, struct conv *c, const char *user);

/* dialogs.c */
typedef void dialog_fn(struct gui *g, const char *text, const char *arg);
GtkWidget *dialog_new(struct gui *g, GtkWindow *parent, const char *title,
    const char *primary, GtkWidget **content, GtkWidget **ok);
void dialog_message(struct gui *g, const char *title, const char *body);
void dialog_prompt(struct gui *g, const char *title, const char *label,
    const char *primary, dialog_fn *fn, const char *arg);
void dialog_keys(struct gui *g, const char *user);
void dialog_key_changed(struct gui *g, const struct session_event *ev);
void dialog_devices(struct gui *g, const char *conv);
void dialog_held(struct gui *g, const struct session_event *ev);
void dialog_list(struct gui *g, const char *title, GPtrArray *rows,
    dialog_fn *on_pick, const char *pick_label);
void dialog_history(struct gui *g, int import);

#endif
