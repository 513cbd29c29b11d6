/*
 * The session driven from the GLib main loop.  The core wants one fd
 * polled (it changes from one connection to the next) and one timer: after
 * every call into the core, pump_after() asks both again and moves the
 * GLib sources to match; when the session has ended it frees it and goes
 * back to the login window with the reason.  The history (client/app.h)
 * lives as long as the session: opened with the login's password, fed the
 * session's chat events, saved on the same timer at most APP_SAVE_MS after
 * a new record, and at the end.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <openssl/crypto.h>

#include "common/err.h"
#include "client/wording.h"
#include "gtk/gui.h"
#include "keydist/keys.h"

static void pump_arm(struct gui *g);

static void
set_reason(struct gui *g, char *why)
{
	g_free(g->l_reason);
	g->l_reason = why;
}

/* Events before the main window opens: the login window's status. */
static void
login_event(struct gui *g, const struct session_event *ev)
{
	char msg[WORDING_MAX];
	const char *why;
	char *t;

	switch (ev->kind) {
	case SESSION_EV_KEY_MISMATCH:
		wording_key_mismatch(msg, sizeof(msg), WORDING_GUI, ev);
		set_reason(g, g_strdup(msg));
		break;
	case SESSION_EV_NOT_ENROLLED:
		t = gui_clean(ev->text);
		wording_not_enrolled(msg, sizeof(msg), ev, t);
		set_reason(g, g_strdup(msg));
		g_free(t);
		break;
	case SESSION_EV_LOGIN_FAILED:
		if ((why = wording_login_code(ev->code)) != NULL) {
			set_reason(g, g_strdup_printf("Login refused: %s.",
			    why));
		} else {
			t = gui_clean(ev->code);
			set_reason(g, g_strdup_printf("Login refused (%s).",
			    t));
			g_free(t);
		}
		break;
	case SESSION_EV_FATAL:
		if (ev->end == SESSION_UNREACHABLE) {
			t = gui_clean(ev->text);
			set_reason(g, g_strdup_printf("Cannot reach the server "
			    "%s port %lld: %s. Check the server address and "
			    "that the server is running.", g->cfg.server_host,
			    g->cfg.server_port, t));
			g_free(t);
		} else if (g->l_reason == NULL) {
			set_reason(g, gui_clean(ev->text));
		}
		break;
	default:
		break;
	}
}

/* Keep a chat or sent line (after it is shown: the view's first load of
   a conversation from the history must not hold it yet). */
static void
record(struct gui *g, const struct session_event *ev)
{
	int r;

	if ((r = app_record(&g->a, ev)) != 0 && g->win != NULL)
		chat_notice(g, ev->room != NULL ? chat_conv(g, ev->room, 0) :
		    NULL, "⚠ this message is not kept in the history: %s",
		    err_str(r));
}

/* Save the history if a record has waited APP_SAVE_MS, or now (force). */
static void
history_tick(struct gui *g, int force)
{
	char err[512];

	if (app_save(&g->a, g->s, session_clock_ms(), force, err,
	    sizeof(err)) == 0)
		return;
	if (g->win != NULL)
		chat_info(g, 1, "The history was not saved: %s", err);
	else
		(void)fprintf(stderr, "missive-gtk: the history was not saved: "
		    "%s\n", err);
}

/* Open the folder's history with the password (only its keys are kept). */
static void
history_start(struct gui *g, const char *password)
{
	char err[512];

	g_free(g->history_err);
	g->history_err = NULL;
	g->a.dirty_since = -1;
	if (history_open(g->cfg.history, g->cfg.user, password, &g->a.history,
	    err, sizeof(err)) != 0)
		g->history_err = g_strdup_printf("The history did not open: %s. "
		    "This session's messages are not kept.", err);
	else
		app_history_session(&g->a, g->s);
}

static void
on_event(void *arg, const struct session_event *ev)
{
	struct gui *g = arg;

	if (ev->kind == SESSION_EV_LOGGED_IN && g->win == NULL) {
		g->logged_in = 1;
		g_free(g->nickname);
		g->nickname = gui_clean(ev->nickname);
		set_reason(g, NULL);
		if (g->login != NULL)
			login_done(g);
		chat_open(g);
	}
	if (g->win != NULL)
		chat_event(g, ev);
	record(g, ev);
	/* Keep why the session may end, for the login window. */
	login_event(g, ev);
}

int
pump_start(struct gui *g, const char *password, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL, *server = NULL;
	char secret[SESSION_SECRET_SIZE];
	int r;

	/* The key is encrypted with the password (or clear, for bots). */
	r = kd_key_read_private_pass(g->cfg.private_key, password,
	    strlen(password), &key);
	if (r == E_KEY_LOCKED) {
		(void)snprintf(err, errlen, "This folder's key does not open "
		    "with this password: %s.", wording_key_locked());
		goto out;
	}
	if (r != 0) {
		(void)snprintf(err, errlen, "This folder's key %s cannot be "
		    "read: %s.", g->cfg.private_key, err_str(r));
		goto out;
	}
	if ((r = kd_key_read_public(g->cfg.server_key, &server)) != 0) {
		(void)snprintf(err, errlen, "The pinned server key %s cannot "
		    "be read: %s.", g->cfg.server_key, err_str(r));
		goto out;
	}
	err[0] = '\0';
	if ((r = session_login_secret(password, server, g->cfg.user,
	    secret)) == 0)
		r = session_new(&g->cfg, key, server, secret, on_event, g,
		    &g->s, err, errlen);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (r != 0) {
		if (r == E_PASSWORD)
			(void)snprintf(err, errlen, "The password must be 1 to "
			    "1024 characters on one line.");
		else if (err[0] == '\0')
			(void)snprintf(err, errlen, "%s", err_str(r));
		goto out;
	}
	history_start(g, password);
	set_reason(g, NULL);
	g->logged_in = g->closing = g->logging_out = 0;
	session_start(g->s, session_clock_ms());
	pump_after(g);
out:
	EVP_PKEY_free(key);
	EVP_PKEY_free(server);
	return r;
}

static gboolean
on_fd(gint fd, GIOCondition cond, gpointer data)
{
	struct gui *g = data;
	short rev = 0;

	if (cond & G_IO_IN)
		rev |= POLLIN;
	if (cond & G_IO_OUT)
		rev |= POLLOUT;
	if (cond & G_IO_ERR)
		rev |= POLLERR;
	if (cond & G_IO_HUP)
		rev |= POLLHUP;
	session_handle(g->s, rev, session_clock_ms());
	session_tick(g->s, session_clock_ms());
	pump_after(g);
	/* pump_after() removed this source if the fd changed. */
	return G_SOURCE_CONTINUE;
}

static gboolean
on_timer(gpointer data)
{
	struct gui *g = data;

	g->timer_src = 0;
	session_tick(g->s, session_clock_ms());
	pump_after(g);
	return G_SOURCE_REMOVE;
}

/* Match the GLib sources to what the core wants now. */
static void
pump_arm(struct gui *g)
{
	int fd = session_fd(g->s);
	short events = 0;
	int64_t now = session_clock_ms(), t, h;
	GIOCondition cond = 0;

	/* The sooner of the session's timers and the history's. */
	t = session_timeout(g->s, now);
	h = app_save_timeout(&g->a, g->s, now);
	if (t < 0 || (h >= 0 && h < t))
		t = h;
	if (fd >= 0)
		events = session_events(g->s);
	if (g->fd_src != 0 && (fd != g->fd || events != g->events)) {
		g_source_remove(g->fd_src);
		g->fd_src = 0;
	}
	if (fd >= 0 && g->fd_src == 0) {
		if (events & POLLIN)
			cond |= G_IO_IN;
		if (events & POLLOUT)
			cond |= G_IO_OUT;
		g->fd_src = g_unix_fd_add(fd, cond | G_IO_ERR | G_IO_HUP,
		    on_fd, g);
	}
	g->fd = fd;
	g->events = events;
	if (g->timer_src != 0) {
		g_source_remove(g->timer_src);
		g->timer_src = 0;
	}
	if (t >= 0)
		g->timer_src = g_timeout_add(t > G_MAXUINT ? G_MAXUINT :
		    (guint)t, on_timer, g);
}

/*
 * Remove the sources, free the session (never from its callback), save
 * and close the history.
 */
void
pump_stop(struct gui *g)
{
	if (g->fd_src != 0)
		g_source_remove(g->fd_src);
	if (g->timer_src != 0)
		g_source_remove(g->timer_src);
	g->fd_src = g->timer_src = 0;
	g->fd = -1;
	session_free(g->s);
	g->s = NULL;
	history_tick(g, 1);
	app_free(&g->a);
	g->a.dirty_since = -1;
}

/* After every call into the core. */
void
pump_after(struct gui *g)
{
	enum session_end end;
	char *why;

	if (g->s == NULL)
		return;
	if ((end = session_end(g->s)) == SESSION_RUNNING) {
		history_tick(g, 0);
		pump_arm(g);
		return;
	}
	pump_stop(g);
	why = g->l_reason;
	g->l_reason = NULL;
	if (g->win != NULL) {
		chat_close(g);
		if (g->closing) {
			if (g->login != NULL)
				gtk_window_destroy(GTK_WINDOW(g->login));
			g_free(why);
			return;
		}
		if (end == SESSION_QUIT) {
			g_free(why);
			why = NULL;
		}
	}
	login_failed(g, why != NULL ? why : end == SESSION_QUIT ? NULL :
	    "The session ended.");
	g_free(why);
}
