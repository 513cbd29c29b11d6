/*
 * The main window: the conversations (rooms and private ones, with unread
 * counts) on the left, the messages of the selected one in the middle with
 * the input box below, its members on the right.  This file assembles it
 * and is the glue: session events become lines (view.c), list rows
 * (sidebar.c) and dialogs; the menus and the input box become session
 * calls, each followed by pump_after().
 */
#include <stdarg.h>
#include <string.h>

#include "client/wording.h"
#include "common/err.h"
#include "gtk/gui.h"

static const char css[] =
    ".unread { background-color: #3584e4; "
    "color: #ffffff; border-radius: 9px; padding: 0 7px; "
    "font-weight: bold; }\n"
    ".members-title { font-weight: bold; padding: 6px 12px; }\n";

/* ---- commands ---- */

static void
ask_members(struct gui *g, const char *room)
{
	if (session_who(g->s, room) == 0)
		g_queue_push_tail(&g->who_pending, g_strdup(room));
}

static void
join_room(struct gui *g, const char *text, const char *arg)
{
	const char *room = text[0] == '#' ? text + 1 : text;
	int r;

	if (g->s == NULL || room[0] == '\0')
		return;
	if ((r = session_join(g->s, room)) != 0)
		dialog_message(g, "Cannot Join", r == E_MALFORMED ?
		    "A room name is 1 to 32 letters, digits, '-' or '_'." :
		    err_str(r));
	pump_after(g);
}

static void
open_private(struct gui *g, const char *text, const char *arg)
{
	char *name;

	if (g->s == NULL || text[0] == '\0')
		return;
	name = g_strconcat("@", text[0] == '@' ? text + 1 : text, NULL);
	chat_select(g, chat_conv(g, name, 1));
	g_free(name);
}

static void
leave_current(struct gui *g)
{
	int r;

	if (g->cur == NULL || g->s == NULL)
		return;
	if (g->cur->name[0] == '@') {
		sidebar_remove(g, g->cur);
		return;
	}
	if ((r = session_leave(g->s, g->cur->name)) != 0)
		dialog_message(g, "Cannot Leave", err_str(r));
	pump_after(g);
}

static void
who_online(struct gui *g)
{
	if (g->s == NULL)
		return;
	if (session_who(g->s, NULL) == 0)
		g_queue_push_tail(&g->who_pending, g_strdup(""));
	pump_after(g);
}

static void
list_rooms(struct gui *g)
{
	if (g->s == NULL)
		return;
	if (session_rooms(g->s) == 0)
		g->rooms_pending = 1;
	pump_after(g);
}

/* Send what the input box holds; a few line-mode commands work too. */
static void
send_input(struct gui *g)
{
	const char *text = gtk_editable_get_text(GTK_EDITABLE(g->entry));
	uint8_t mid[SESSION_MID_LEN];
	char *copy, *rest, *sp;

	if (text[0] == '\0' || g->s == NULL)
		return;
	if (text[0] == '/' && text[1] != '/') {
		copy = g_strdup(text + 1);
		rest = (sp = strchr(copy, ' ')) != NULL ? sp + 1 : "";
		if (sp != NULL)
			*sp = '\0';
		if (strcmp(copy, "join") == 0)
			join_room(g, rest, NULL);
		else if (strcmp(copy, "leave") == 0)
			leave_current(g);
		else if (strcmp(copy, "who") == 0)
			who_online(g);
		else if (strcmp(copy, "rooms") == 0)
			list_rooms(g);
		else if (strcmp(copy, "msg") == 0)
			open_private(g, rest, NULL);
		else if (strcmp(copy, "export") == 0 ||
		    strcmp(copy, "import") == 0)
			dialog_history(g, copy[0] == 'i');
		else
			dialog_message(g, "Unknown Command", "Commands: /join "
			    "ROOM, /leave, /who, /rooms, /msg USER, /export, "
			    "/import; the menus hold the rest. //text sends "
			    "/text.");
		g_free(copy);
		gtk_editable_set_text(GTK_EDITABLE(g->entry), "");
		return;
	}
	if (text[0] == '/')
		text++;
	if (g->cur == NULL) {
		dialog_message(g, "No Conversation", "Join a room or open a "
		    "private conversation first.");
		return;
	}
	if (session_send_chat_mid(g->s, g->cur->name, text, strlen(text),
	    mid) == 0) {
		view_line(g, g->cur, g_get_real_time() / 1000, g->nickname,
		    SESSION_KEY_OWN, text, mid);
		gtk_editable_set_text(GTK_EDITABLE(g->entry), "");
	}
	/* A refusal came as an error event, shown in the view. */
	pump_after(g);
}

static void
on_send(GtkWidget *w, gpointer data)
{
	send_input(data);
}

/* ---- events ---- */

static void
who_end(struct gui *g)
{
	char *room = g_queue_pop_head(&g->who_pending), *tab;
	struct conv *c;
	guint i;

	if (room != NULL && room[0] != '\0' &&
	    (c = chat_conv(g, room, 0)) != NULL) {
		g_hash_table_remove_all(c->members);
		for (i = 0; i < g->who_acc->len; i++) {
			tab = strchr(g_ptr_array_index(g->who_acc, i), '\t');
			*tab = '\0';
			sidebar_member_add(g, c, g_ptr_array_index(g->who_acc, i),
			    tab + 1);
			*tab = '\t';
		}
		if (c == g->cur)
			chat_refresh_members(g);
	} else if (room != NULL) {
		dialog_list(g, "Who Is Online", g->who_acc, open_private,
		    "Message");
	}
	g_free(room);
	g_ptr_array_set_size(g->who_acc, 0);
}

static void
notify(struct gui *g, const struct session_event *ev, const char *nick,
    const char *text)
{
	GNotification *n;
	char *title, *conv;

	if (gtk_window_is_active(GTK_WINDOW(g->win)))
		return;
	conv = sidebar_title(ev->room);
	title = ev->room[0] == '@' ? g_strdup(nick) :
	    g_strdup_printf("%s in %s", nick, conv);
	n = g_notification_new(title);
	g_notification_set_body(n, text);
	g_application_send_notification(G_APPLICATION(g->app),
	    "missive-message", n);
	gui_trace(g, "notification: %s: %s", title, text);
	g_object_unref(n);
	g_free(title);
	g_free(conv);
}

static void
on_chat(struct gui *g, const struct session_event *ev)
{
	struct conv *c = chat_conv(g, ev->room, 1);
	char *nick = gui_clean(ev->display), *text = gui_clean(ev->text);

	view_mark_live(c, ev->mid);
	/* Lines stored while we were away: under a divider, once. */
	if (ev->backlog && !c->away) {
		c->away = 1;
		chat_notice(g, c, "── new since you were away ──");
	}
	view_line(g, c, ev->time_ms, nick, ev->trust, text, NULL);
	sidebar_unread(g, c);
	notify(g, ev, nick, text);
	if (g->cur == NULL)
		chat_select(g, c);
	g_free(nick);
	g_free(text);
}

static void
on_presence(struct gui *g, const struct session_event *ev)
{
	struct conv *c = chat_conv(g, ev->room, 0);
	char *nick = gui_clean(ev->nickname), *code;

	if (c == NULL) {
		g_free(nick);
		return;
	}
	if (ev->kind == SESSION_EV_JOIN) {
		sidebar_member_add(g, c, ev->user, ev->nickname);
		chat_notice(g, c, "%s (%s) joined%s", nick, ev->user,
		    ev->online ? "" : ", on a device that is offline");
	} else if (ev->online < 0) {
		sidebar_member_remove(g, c, ev->user);
		code = gui_clean(ev->code);
		chat_notice(g, c, "%s (%s) left (%s)", nick, ev->user, code);
		g_free(code);
	} else {
		/* Offline, still a member: its lines are stored for it. */
		code = gui_clean(ev->code);
		chat_notice(g, c, "%s (%s) went offline (%s), still a member",
		    nick, ev->user, code);
		g_free(code);
	}
	if (c == g->cur)
		chat_refresh_members(g);
	g_free(nick);
}

static void
on_joined(struct gui *g, const struct session_event *ev)
{
	int fresh = chat_conv(g, ev->room, 0) == NULL;
	struct conv *c = chat_conv(g, ev->room, 1);
	char msg[WORDING_MAX];

	/* The member list says who of them is online. */
	wording_joined(msg, sizeof(msg), WORDING_GUI, ev);
	chat_notice(g, c, "%s", msg);
	if (fresh || g->cur == NULL)
		chat_select(g, c);
	ask_members(g, ev->room);
}

static void
on_list(struct gui *g, const struct session_event *ev)
{
	char *nick;

	switch (ev->kind) {
	case SESSION_EV_WHO:
		nick = gui_clean(ev->nickname);
		g_ptr_array_add(g->who_acc, g_strdup_printf("%s\t%s",
		    ev->user, nick));
		g_free(nick);
		break;
	case SESSION_EV_WHO_END:
		who_end(g);
		break;
	case SESSION_EV_ROOM:
		g_ptr_array_add(g->rooms_acc, g_strdup_printf("%s\t%lld "
		    "member%s", ev->room, ev->count, ev->count == 1 ? "" :
		    "s"));
		break;
	default:
		if (g->rooms_pending)
			dialog_list(g, "Rooms", g->rooms_acc, join_room,
			    "Join");
		g->rooms_pending = 0;
		g_ptr_array_set_size(g->rooms_acc, 0);
		break;
	}
}

static void
left(struct gui *g, const char *room)
{
	struct conv *c = chat_conv(g, room, 0);

	if (c != NULL)
		sidebar_remove(g, c);
}

void
chat_status(struct gui *g, const char *status)
{
	char *s = g_strdup_printf("%s (%s) at %s — %s", g->nickname,
	    g->cfg.user, g->cfg.server_host, status);

	gtk_label_set_text(GTK_LABEL(g->subtitle), s);
	g_free(s);
}

/* What went wrong, in the conversation shown. */
static void
warn(struct gui *g, const struct session_event *ev, const char *what)
{
	char *text = gui_clean(ev->text != NULL ? ev->text : "");

	chat_notice(g, ev->room != NULL ? chat_conv(g, ev->room, 0) : NULL,
	    "⚠ %s%s", what, text);
	g_free(text);
}

void
chat_event(struct gui *g, const struct session_event *ev)
{
	char msg[WORDING_MAX];
	const char *conv;
	struct conv *c;
	char *t;
	guint i;

	switch (ev->kind) {
	case SESSION_EV_CONNECTING:
		chat_status(g, "connecting…");
		break;
	case SESSION_EV_CONNECTED:
		chat_status(g, "connected, server key pinned");
		break;
	case SESSION_EV_LOGGED_IN:
		chat_status(g, "online");
		/* A new backlog may come: each divider again. */
		for (i = 0; i < g->convs->len; i++)
			((struct conv *)g_ptr_array_index(g->convs, i))->away = 0;
		break;
	case SESSION_EV_CHAT:
		on_chat(g, ev);
		break;
	case SESSION_EV_SENT:
		/* Shown when typed (send_input()), pending under its id. */
		if ((c = chat_conv(g, ev->room, 0)) != NULL) {
			view_mark_live(c, ev->mid);
			view_stored(g, c, ev->mid, 1);
		}
		break;
	case SESSION_EV_DELIVERED:
		view_delivered(g, ev->mid, ev->text);
		break;
	case SESSION_EV_UNREADABLE:
		warn(g, ev, "");
		break;
	case SESSION_EV_JOINED:
		on_joined(g, ev);
		break;
	case SESSION_EV_BACKLOG_END:
		/* The first login's: back to the conversation shown at the
		   last save, if it is still ours. */
		if (app_restore(&g->a, g->s, ev, &conv) > 0)
			chat_select(g, chat_conv(g, conv, 1));
		break;
	case SESSION_EV_LEFT:
		left(g, ev->room);
		break;
	case SESSION_EV_JOIN:
	case SESSION_EV_LEAVE:
		on_presence(g, ev);
		break;
	case SESSION_EV_WHO:
	case SESSION_EV_WHO_END:
	case SESSION_EV_ROOM:
	case SESSION_EV_ROOMS_END:
		on_list(g, ev);
		break;
	case SESSION_EV_KEY_PINNED:
		wording_key_pinned(msg, sizeof(msg), WORDING_GUI, ev);
		chat_notice(g, NULL, "%s", msg);
		chat_refresh_members(g);
		break;
	case SESSION_EV_KEY_CHANGED:
	case SESSION_EV_NEW_DEVICE:
		if (ev->kind == SESSION_EV_NEW_DEVICE)
			wording_new_device(msg, sizeof(msg), WORDING_GUI, ev);
		else
			wording_key_changed(msg, sizeof(msg), WORDING_GUI, ev);
		chat_notice(g, NULL, "⚠ %s", msg);
		chat_refresh_members(g);
		dialog_key_changed(g, ev);
		break;
	case SESSION_EV_DEVICES_CHANGED:
		wording_devices_changed(msg, sizeof(msg), ev);
		chat_notice(g, chat_conv(g, ev->room, 0), "%s", msg);
		break;
	case SESSION_EV_DEVICE_DROPPED:
		wording_device_dropped(msg, sizeof(msg), ev);
		chat_notice(g, chat_conv(g, ev->room, 0), "⚠ %s", msg);
		break;
	case SESSION_EV_HELD:
		wording_held(msg, sizeof(msg), WORDING_GUI, ev);
		chat_notice(g, chat_conv(g, ev->room, 0), "⚠ %s", msg);
		dialog_held(g, ev);
		break;
	case SESSION_EV_NOT_STORED:
		if ((c = chat_conv(g, ev->room, 0)) != NULL && ev->mid != NULL)
			view_stored(g, c, ev->mid, 0);
		wording_not_stored(msg, sizeof(msg), ev);
		t = gui_clean(msg);
		chat_notice(g, chat_conv(g, ev->room, 0), "⚠ %s", t);
		g_free(t);
		break;
	case SESSION_EV_SERVER_ERROR:
		warn(g, ev, "server: ");
		break;
	case SESSION_EV_ERROR:
		/* Lines shown as typed that waited and will not be sent. */
		if (ev->count > 0 && ev->room != NULL &&
		    (c = chat_conv(g, ev->room, 0)) != NULL) {
			if (ev->mid != NULL)
				view_stored(g, c, ev->mid, 0);
			else
				view_refused_all(g, c);
		}
		warn(g, ev, "");
		break;
	case SESSION_EV_CLOSING:
		if (strcmp(ev->code, "quit") != 0)
			warn(g, ev, "the server is closing the connection: ");
		break;
	case SESSION_EV_DISCONNECTED:
		t = gui_clean(ev->text);
		chat_status(g, "disconnected");
		chat_notice(g, NULL, "Disconnected: %s", t);
		g_free(t);
		/* Lists asked for on that connection will not come. */
		g_queue_clear_full(&g->who_pending, g_free);
		g_ptr_array_set_size(g->who_acc, 0);
		g->rooms_pending = 0;
		break;
	case SESSION_EV_RECONNECTING:
		t = g_strdup_printf("reconnecting in %lld s…",
		    (ev->delay_ms + 999) / 1000);
		chat_status(g, t);
		g_free(t);
		break;
	default:
		break;
	}
}

/* ---- the window ---- */

static gboolean
pump_idle(gpointer data)
{
	pump_after(data);
	return G_SOURCE_REMOVE;
}

static gboolean
on_close(GtkWindow *w, gpointer data)
{
	struct gui *g = data;

	if (g->s == NULL)
		return FALSE;
	/* Say goodbye first; the window goes when the session has ended. */
	g->closing = 1;
	session_quit(g->s, session_clock_ms());
	(void)g_idle_add(pump_idle, g);
	return TRUE;
}

/* Quit from the main window: after the goodbye (Ctrl+Q, main.c). */
void
chat_quit(struct gui *g)
{
	(void)on_close(GTK_WINDOW(g->win), g);
}

static void
on_active(GObject *o, GParamSpec *p, gpointer data)
{
	struct gui *g = data;

	if (g->cur != NULL && gtk_window_is_active(GTK_WINDOW(g->win)))
		sidebar_read(g->cur);
}

static void
act_join(GSimpleAction *a, GVariant *v, gpointer data)
{
	dialog_prompt(data, "Join or Create a Room", "Room name", "_Join",
	    join_room, NULL);
}

static void
act_message(GSimpleAction *a, GVariant *v, gpointer data)
{
	dialog_prompt(data, "New Private Conversation", "User name",
	    "_Open", open_private, NULL);
}

static void
act_leave(GSimpleAction *a, GVariant *v, gpointer data)
{
	leave_current(data);
}

static void
act_who(GSimpleAction *a, GVariant *v, gpointer data)
{
	who_online(data);
}

static void
act_rooms(GSimpleAction *a, GVariant *v, gpointer data)
{
	list_rooms(data);
}

static void
act_fingerprint(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;

	if (g->s != NULL)
		dialog_keys(g, g->cfg.user);
}

static void
act_devices(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;

	if (g->cur != NULL)
		dialog_devices(g, g->cur->name);
}

static void
act_export(GSimpleAction *a, GVariant *v, gpointer data)
{
	dialog_history(data, 0);
}

static void
act_import(GSimpleAction *a, GVariant *v, gpointer data)
{
	dialog_history(data, 1);
}

static void
act_logout(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;

	if (g->s == NULL)
		return;
	g->logging_out = 1;
	session_quit(g->s, session_clock_ms());
	(void)g_idle_add(pump_idle, g);
}

static GMenuModel *
primary_menu(void)
{
	GMenu *menu = g_menu_new(), *s1 = g_menu_new(), *s2 = g_menu_new(),
	    *s3 = g_menu_new();

	g_menu_append(s1, "Browse _Rooms", "win.rooms");
	g_menu_append(s1, "_Who Is Online", "win.who");
	g_menu_append(s1, "_Leave Conversation", "win.leave");
	g_menu_append(s1, "_Devices in This Conversation", "win.devices");
	g_menu_append(s2, "Your _Key Fingerprint", "win.fingerprint");
	g_menu_append(s2, "_Export History…", "win.export");
	g_menu_append(s2, "_Import History…", "win.import");
	g_menu_append(s3, "Log _Out", "win.logout");
	g_menu_append(s3, "_Quit", "app.quit");
	g_menu_append_section(menu, NULL, G_MENU_MODEL(s1));
	g_menu_append_section(menu, NULL, G_MENU_MODEL(s2));
	g_menu_append_section(menu, NULL, G_MENU_MODEL(s3));
	g_object_unref(s1);
	g_object_unref(s2);
	g_object_unref(s3);
	return G_MENU_MODEL(menu);
}

static GMenuModel *
new_menu(void)
{
	GMenu *menu = g_menu_new();

	g_menu_append(menu, "_Join or Create Room…", "win.join");
	g_menu_append(menu, "New _Private Conversation…", "win.message");
	return G_MENU_MODEL(menu);
}

static GtkWidget *
header(struct gui *g)
{
	GtkWidget *bar = gtk_header_bar_new(), *titles, *title, *b;
	GMenuModel *m;

	titles = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_widget_set_valign(titles, GTK_ALIGN_CENTER);
	title = gtk_label_new("missive");
	gtk_widget_add_css_class(title, "title");
	g->subtitle = gtk_label_new(NULL);
	gtk_widget_add_css_class(g->subtitle, "subtitle");
	gtk_box_append(GTK_BOX(titles), title);
	gtk_box_append(GTK_BOX(titles), g->subtitle);
	gtk_header_bar_set_title_widget(GTK_HEADER_BAR(bar), titles);

	b = gtk_menu_button_new();
	gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(b), "list-add-symbolic");
	gtk_widget_set_tooltip_text(b, "New conversation");
	m = new_menu();
	gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(b), m);
	g_object_unref(m);
	gtk_header_bar_pack_start(GTK_HEADER_BAR(bar), b);

	b = gtk_menu_button_new();
	gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(b), "open-menu-symbolic");
	gtk_widget_set_tooltip_text(b, "Main menu");
	m = primary_menu();
	gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(b), m);
	/* F10 opens it (GNOME HIG). */
	gtk_menu_button_set_primary(GTK_MENU_BUTTON(b), TRUE);
	g_object_unref(m);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(bar), b);

	b = gtk_button_new_from_icon_name("system-users-symbolic");
	gtk_widget_set_tooltip_text(b, "Who is online");
	gtk_actionable_set_action_name(GTK_ACTIONABLE(b), "win.who");
	gtk_header_bar_pack_end(GTK_HEADER_BAR(bar), b);
	return bar;
}

static GtkWidget *
scrolled(GtkWidget *child)
{
	GtkWidget *sw = gtk_scrolled_window_new();

	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw),
	    GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), child);
	gtk_widget_set_vexpand(sw, TRUE);
	return sw;
}

static void
on_info_close(GtkInfoBar *bar, int response, gpointer data)
{
	gtk_widget_set_visible(GTK_WIDGET(bar), FALSE);
}

/* A message in the bar above the view, until closed or replaced. */
void
chat_info(struct gui *g, int error, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	gui_trace(g, "info%s: %s", error ? "-error" : "", text);
	if (g->info != NULL) {
		gtk_label_set_text(GTK_LABEL(g->info_label), text);
		gtk_info_bar_set_message_type(GTK_INFO_BAR(g->info), error ?
		    GTK_MESSAGE_ERROR : GTK_MESSAGE_INFO);
		gtk_widget_set_visible(g->info, TRUE);
	}
	g_free(text);
}

static GtkWidget *
center(struct gui *g)
{
	GtkWidget *box, *input, *send;

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	g->info = gtk_info_bar_new();
	g->info_label = gtk_label_new(NULL);
	gtk_label_set_wrap(GTK_LABEL(g->info_label), TRUE);
	gtk_label_set_xalign(GTK_LABEL(g->info_label), 0);
	gtk_label_set_selectable(GTK_LABEL(g->info_label), TRUE);
	gtk_widget_set_hexpand(g->info_label, TRUE);
	gtk_info_bar_add_child(GTK_INFO_BAR(g->info), g->info_label);
	gtk_info_bar_set_show_close_button(GTK_INFO_BAR(g->info), TRUE);
	gtk_widget_set_visible(g->info, FALSE);
	(void)g_signal_connect(g->info, "response", G_CALLBACK(on_info_close),
	    NULL);
	gtk_box_append(GTK_BOX(box), g->info);
	g->view = gtk_text_view_new();
	gtk_text_view_set_editable(GTK_TEXT_VIEW(g->view), FALSE);
	gtk_text_view_set_cursor_visible(GTK_TEXT_VIEW(g->view), FALSE);
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(g->view),
	    GTK_WRAP_WORD_CHAR);
	gtk_text_view_set_left_margin(GTK_TEXT_VIEW(g->view), 12);
	gtk_text_view_set_right_margin(GTK_TEXT_VIEW(g->view), 12);
	gtk_text_view_set_top_margin(GTK_TEXT_VIEW(g->view), 12);
	gtk_text_view_set_bottom_margin(GTK_TEXT_VIEW(g->view), 12);
	gtk_text_view_set_pixels_below_lines(GTK_TEXT_VIEW(g->view), 6);
	gtk_box_append(GTK_BOX(box), scrolled(g->view));

	input = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	gtk_widget_set_margin_top(input, 6);
	gtk_widget_set_margin_bottom(input, 6);
	gtk_widget_set_margin_start(input, 6);
	gtk_widget_set_margin_end(input, 6);
	g->entry = gtk_entry_new();
	gtk_widget_set_hexpand(g->entry, TRUE);
	gtk_entry_set_placeholder_text(GTK_ENTRY(g->entry),
	    "Message (end-to-end encrypted)");
	gtk_entry_set_max_length(GTK_ENTRY(g->entry),
	    (int)MIN(session_text_max(g->s), 65535));
	send = gtk_button_new_with_mnemonic("_Send");
	gtk_widget_add_css_class(send, "suggested-action");
	gtk_box_append(GTK_BOX(input), g->entry);
	gtk_box_append(GTK_BOX(input), send);
	gtk_box_append(GTK_BOX(box), input);
	(void)g_signal_connect(g->entry, "activate", G_CALLBACK(on_send), g);
	(void)g_signal_connect(send, "clicked", G_CALLBACK(on_send), g);
	return box;
}

static GtkWidget *
side_pane(GtkWidget *list, GtkWidget *title)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);

	gtk_widget_add_css_class(list, "navigation-sidebar");
	if (title != NULL) {
		gtk_label_set_xalign(GTK_LABEL(title), 0);
		gtk_widget_add_css_class(title, "members-title");
		gtk_box_append(GTK_BOX(box), title);
	}
	gtk_box_append(GTK_BOX(box), scrolled(list));
	gtk_widget_set_size_request(box, 170, -1);
	return box;
}

static void
actions(struct gui *g)
{
	static const GActionEntry entries[] = {
		{ .name = "join", .activate = act_join },
		{ .name = "message", .activate = act_message },
		{ .name = "leave", .activate = act_leave },
		{ .name = "who", .activate = act_who },
		{ .name = "rooms", .activate = act_rooms },
		{ .name = "fingerprint", .activate = act_fingerprint },
		{ .name = "devices", .activate = act_devices },
		{ .name = "export", .activate = act_export },
		{ .name = "import", .activate = act_import },
		{ .name = "logout", .activate = act_logout },
	};

	g_action_map_add_action_entries(G_ACTION_MAP(g->win), entries,
	    G_N_ELEMENTS(entries), g);

}

void
chat_open(struct gui *g)
{
	GtkCssProvider *p;
	GtkWidget *outer, *inner;

	p = gtk_css_provider_new();
	gtk_css_provider_load_from_data(p, css, -1);
	gtk_style_context_add_provider_for_display(gdk_display_get_default(),
	    GTK_STYLE_PROVIDER(p), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(p);
	view_tags(g);

	g->win = gtk_application_window_new(g->app);
	gtk_window_set_title(GTK_WINDOW(g->win), "missive");
	gtk_window_set_default_size(GTK_WINDOW(g->win), 900, 560);
	gtk_window_set_titlebar(GTK_WINDOW(g->win), header(g));
	actions(g);

	sidebar_new(g);
	inner = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_paned_set_start_child(GTK_PANED(inner), center(g));
	gtk_paned_set_end_child(GTK_PANED(inner),
	    side_pane(g->members, g->member_title));
	gtk_paned_set_resize_end_child(GTK_PANED(inner), FALSE);
	gtk_paned_set_shrink_end_child(GTK_PANED(inner), FALSE);
	outer = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_paned_set_start_child(GTK_PANED(outer),
	    side_pane(g->conv_list, NULL));
	gtk_paned_set_end_child(GTK_PANED(outer), inner);
	gtk_paned_set_resize_start_child(GTK_PANED(outer), FALSE);
	gtk_paned_set_shrink_start_child(GTK_PANED(outer), FALSE);
	gtk_window_set_child(GTK_WINDOW(g->win), outer);

	(void)g_signal_connect(g->win, "close-request", G_CALLBACK(on_close),
	    g);
	(void)g_signal_connect(g->win, "notify::is-active",
	    G_CALLBACK(on_active), g);
	chat_status(g, "online");
	gtk_window_present(GTK_WINDOW(g->win));
	(void)gtk_widget_grab_focus(g->entry);
	gui_trace(g, "chat-window: shown");
	if (g->history_err != NULL)
		chat_info(g, 1, "%s", g->history_err);
}

/* The session has ended: drop the window and every conversation. */
void
chat_close(struct gui *g)
{
	if (g->win == NULL)
		return;
	sidebar_close(g);
	g_queue_clear_full(&g->who_pending, g_free);
	g_ptr_array_set_size(g->who_acc, 0);
	g_ptr_array_set_size(g->rooms_acc, 0);
	g->rooms_pending = 0;
	gtk_window_destroy(GTK_WINDOW(g->win));
	g->win = NULL;
	g->info = g->info_label = NULL;
	g_object_unref(g->tags);
	g->tags = NULL;
}
