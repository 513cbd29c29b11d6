/*
 * The two side lists of the main window: on the left the conversations,
 * each row with its unread count, the one selected being the one shown;
 * on the right the members of the shown one, each with the trust of its
 * keys, a click comparing them (dialog_keys()).
 */
#include <string.h>

#include "gtk/gui.h"

/* ---- conversations ---- */

/* "#room" or "@user", as the conversation list and trace show it. */
char *
sidebar_title(const char *name)
{
	return name[0] == '@' ? g_strdup(name) : g_strconcat("#", name, NULL);
}

static void
badge_update(struct conv *c)
{
	char n[16];

	(void)g_snprintf(n, sizeof(n), "%d", c->unread);
	gtk_label_set_text(GTK_LABEL(c->badge), n);
	gtk_widget_set_visible(c->badge, c->unread > 0);
}

/* A line came to c: unread unless shown in the active window. */
void
sidebar_unread(struct gui *g, struct conv *c)
{
	if (c != g->cur || !gtk_window_is_active(GTK_WINDOW(g->win))) {
		c->unread++;
		badge_update(c);
		gui_trace(g, "unread: %s %d", c->name, c->unread);
	}
}

/* c is shown: no line of it is unread. */
void
sidebar_read(struct conv *c)
{
	c->unread = 0;
	badge_update(c);
}

static void
member_free(gpointer p)
{
	struct member *m = p;

	g_free(m->nickname);
	g_free(m);
}

struct conv *
chat_conv(struct gui *g, const char *name, int create)
{
	struct conv *c;
	GtkWidget *box;
	char *title;
	guint i;

	for (i = 0; i < g->convs->len; i++) {
		c = g_ptr_array_index(g->convs, i);
		if (strcmp(c->name, name) == 0)
			return c;
	}
	if (!create)
		return NULL;
	c = g_new0(struct conv, 1);
	c->name = g_strdup(name);
	c->members = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    member_free);
	view_buffer_new(g, c);
	title = sidebar_title(name);
	c->label = gtk_label_new(title);
	g_free(title);
	gtk_label_set_xalign(GTK_LABEL(c->label), 0);
	gtk_label_set_ellipsize(GTK_LABEL(c->label), PANGO_ELLIPSIZE_END);
	gtk_widget_set_hexpand(c->label, TRUE);
	c->badge = gtk_label_new(NULL);
	gtk_widget_add_css_class(c->badge, "unread");
	box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	gtk_widget_set_margin_top(box, 6);
	gtk_widget_set_margin_bottom(box, 6);
	gtk_box_append(GTK_BOX(box), c->label);
	gtk_box_append(GTK_BOX(box), c->badge);
	c->row = gtk_list_box_row_new();
	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(c->row), box);
	g_object_set_data(G_OBJECT(c->row), "conv", c);
	gtk_list_box_append(GTK_LIST_BOX(g->conv_list), c->row);
	badge_update(c);
	g_ptr_array_add(g->convs, c);
	return c;
}

static void
conv_free(struct conv *c)
{
	view_buffer_free(c);
	g_hash_table_destroy(c->members);
	g_free(c->name);
	g_free(c);
}

void
sidebar_remove(struct gui *g, struct conv *c)
{
	if (g->cur == c)
		g->cur = NULL;
	gtk_list_box_remove(GTK_LIST_BOX(g->conv_list), c->row);
	(void)g_ptr_array_remove(g->convs, c);
	conv_free(c);
	if (g->cur == NULL && g->convs->len > 0)
		chat_select(g, g_ptr_array_index(g->convs, 0));
	else if (g->cur == NULL)
		chat_refresh_members(g);
}

void
chat_select(struct gui *g, struct conv *c)
{
	char *title = sidebar_title(c->name);

	gui_trace(g, "shown: %s", title);
	g_free(title);
	if (gtk_list_box_get_selected_row(GTK_LIST_BOX(g->conv_list)) !=
	    GTK_LIST_BOX_ROW(c->row))
		gtk_list_box_select_row(GTK_LIST_BOX(g->conv_list),
		    GTK_LIST_BOX_ROW(c->row));
	g->cur = c;
	/* A restart comes back to it (client/app.h). */
	app_set_current(&g->a, c->name);
	view_show(g, c);
	sidebar_read(c);
	chat_refresh_members(g);
	(void)gtk_widget_grab_focus(g->entry);
}

static void
on_row_selected(GtkListBox *box, GtkListBoxRow *row, gpointer data)
{
	struct gui *g = data;
	struct conv *c;

	if (row == NULL ||
	    (c = g_object_get_data(G_OBJECT(row), "conv")) == NULL ||
	    c == g->cur)
		return;
	chat_select(g, c);
}

/* ---- members ---- */

struct trust_sum {
	int keys, unaccepted, verified;
};

static void
trust_add(void *arg, const char *fp, enum session_trust t)
{
	struct trust_sum *sum = arg;

	sum->keys++;
	if (t == SESSION_KEY_UNACCEPTED)
		sum->unaccepted++;
	else if (t == SESSION_KEY_VERIFIED || t == SESSION_KEY_OWN)
		sum->verified++;
}

static GtkWidget *
member_row(struct gui *g, const char *user, const char *nick, int online)
{
	struct trust_sum sum = { 0 };
	GtkWidget *box, *l, *mark, *row;
	char *text;

	(void)session_keys(g->s, user, trust_add, &sum);
	box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	gtk_widget_set_margin_top(box, 4);
	gtk_widget_set_margin_bottom(box, 4);
	/* Offline members stay listed, greyed: their lines are stored. */
	text = online ? g_markup_printf_escaped("%s <span alpha=\"60%%\">%s"
	    "</span>", nick, user) : g_markup_printf_escaped("<span alpha="
	    "\"50%%\">%s %s (offline)</span>", nick, user);
	l = gtk_label_new(NULL);
	gtk_label_set_markup(GTK_LABEL(l), text);
	g_free(text);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
	gtk_widget_set_hexpand(l, TRUE);
	gtk_box_append(GTK_BOX(box), l);
	if (sum.unaccepted > 0) {
		mark = gtk_label_new("⚠");
		gtk_widget_set_tooltip_text(mark, "Changed key, not accepted");
		gtk_widget_add_css_class(mark, "error");
		gtk_box_append(GTK_BOX(box), mark);
	} else if (sum.keys > 0 && sum.verified == sum.keys) {
		mark = gtk_label_new("✔");
		gtk_widget_set_tooltip_text(mark, "Verified");
		gtk_widget_add_css_class(mark, "success");
		gtk_box_append(GTK_BOX(box), mark);
	}
	row = gtk_list_box_row_new();
	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
	gtk_widget_set_tooltip_text(row, online ? "Compare and verify this "
	    "user's key" : "Offline: what is said here is kept for them. "
	    "Compare and verify this user's key");
	g_object_set_data_full(G_OBJECT(row), "user", g_strdup(user), g_free);
	return row;
}

static gint
by_nick(gconstpointer a, gconstpointer b, gpointer data)
{
	GHashTable *h = data;
	const struct member *ma = g_hash_table_lookup(h, *(char *const *)a);
	const struct member *mb = g_hash_table_lookup(h, *(char *const *)b);

	return g_utf8_collate(ma->nickname, mb->nickname);
}

/* A member's row, its line in the trace ("Bob, Carol (offline)"). */
static void
member_append(struct gui *g, GString *names, const char *user,
    const char *nick)
{
	size_t online;

	(void)session_user_devices(g->s, g->cur->name, user, &online);
	gtk_list_box_append(GTK_LIST_BOX(g->members), member_row(g, user,
	    nick, online > 0));
	g_string_append_printf(names, "%s%s%s", names->len > 0 ? ", " : "",
	    nick, online > 0 ? "" : " (offline)");
}

void
chat_refresh_members(struct gui *g)
{
	GtkWidget *child;
	GPtrArray *users;
	GString *names;
	struct member *m;
	char *title, *conv;
	guint i;

	while ((child = gtk_widget_get_first_child(g->members)) != NULL)
		gtk_list_box_remove(GTK_LIST_BOX(g->members), child);
	if (g->cur == NULL || g->s == NULL) {
		gtk_label_set_text(GTK_LABEL(g->member_title), "Members");
		return;
	}
	names = g_string_new(NULL);
	if (g->cur->name[0] == '@') {
		gtk_label_set_text(GTK_LABEL(g->member_title), "Private");
		member_append(g, names, g->cur->name + 1, g->cur->name + 1);
	} else {
		users = g_ptr_array_new();
		{
			GHashTableIter it;
			gpointer k, v;

			g_hash_table_iter_init(&it, g->cur->members);
			while (g_hash_table_iter_next(&it, &k, &v))
				g_ptr_array_add(users, k);
		}
		g_ptr_array_sort_with_data(users, by_nick, g->cur->members);
		for (i = 0; i < users->len; i++) {
			m = g_hash_table_lookup(g->cur->members,
			    g_ptr_array_index(users, i));
			member_append(g, names, g_ptr_array_index(users, i),
			    m->nickname);
		}
		title = g_strdup_printf("Members (%u)", users->len);
		gtk_label_set_text(GTK_LABEL(g->member_title), title);
		g_free(title);
		g_ptr_array_free(users, TRUE);
	}
	conv = sidebar_title(g->cur->name);
	gui_trace(g, "members: %s %s", conv, names->str);
	g_free(conv);
	(void)g_string_free(names, TRUE);
}

static void
on_member_activated(GtkListBox *box, GtkListBoxRow *row, gpointer data)
{
	const char *user = g_object_get_data(G_OBJECT(row), "user");

	if (user != NULL)
		dialog_keys(data, user);
}

void
sidebar_member_add(struct gui *g, struct conv *c, const char *user,
    const char *nick)
{
	struct member *m;

	if (g_hash_table_contains(c->members, user))
		return;
	m = g_new0(struct member, 1);
	m->nickname = gui_clean(nick);
	g_hash_table_insert(c->members, gui_clean(user), m);
}

/* A device of user left c for good: user goes with its last one. */
void
sidebar_member_remove(struct gui *g, struct conv *c, const char *user)
{
	size_t online;

	if (session_user_devices(g->s, c->name, user, &online) == 0)
		(void)g_hash_table_remove(c->members, user);
}

/* ---- the lists ---- */

/* Both lists, empty, with their handlers; chat_open() places them. */
void
sidebar_new(struct gui *g)
{
	g->conv_list = gtk_list_box_new();
	g->members = gtk_list_box_new();
	gtk_list_box_set_activate_on_single_click(GTK_LIST_BOX(g->members),
	    FALSE);
	g->member_title = gtk_label_new("Members");
	(void)g_signal_connect(g->conv_list, "row-selected",
	    G_CALLBACK(on_row_selected), g);
	(void)g_signal_connect(g->members, "row-activated",
	    G_CALLBACK(on_member_activated), g);
}

/* The window is going: every conversation freed. */
void
sidebar_close(struct gui *g)
{
	guint i;

	/* The rows point at the conversations about to be freed. */
	(void)g_signal_handlers_disconnect_by_data(g->conv_list, g);
	for (i = 0; i < g->convs->len; i++)
		conv_free(g_ptr_array_index(g->convs, i));
	g_ptr_array_set_size(g->convs, 0);
	g->cur = NULL;
}
