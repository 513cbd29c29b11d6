/*
 * Small modal dialogs, GNOME style: a header bar with Cancel (or Close) on
 * the left and the one primary action on the right.  Each closes with the
 * main window.
 */
#include <string.h>

#include "common/err.h"
#include "gtk/gui.h"

static void
on_cancel(GtkWidget *w, gpointer data)
{
	gtk_window_destroy(GTK_WINDOW(data));
}

GtkWidget *
dialog_new(struct gui *g, GtkWindow *parent, const char *title,
    const char *primary, GtkWidget **content, GtkWidget **ok)
{
	GtkWidget *win, *bar, *cancel;

	win = gtk_window_new();
	gtk_window_set_title(GTK_WINDOW(win), title);
	gtk_window_set_modal(GTK_WINDOW(win), TRUE);
	if (parent != NULL)
		gtk_window_set_transient_for(GTK_WINDOW(win), parent);
	gtk_window_set_destroy_with_parent(GTK_WINDOW(win), TRUE);
	gtk_window_set_resizable(GTK_WINDOW(win), FALSE);
	bar = gtk_header_bar_new();
	gtk_header_bar_set_show_title_buttons(GTK_HEADER_BAR(bar), FALSE);
	cancel = gtk_button_new_with_mnemonic(primary != NULL ? "_Cancel" :
	    "_Close");
	(void)g_signal_connect(cancel, "clicked", G_CALLBACK(on_cancel), win);
	gtk_header_bar_pack_start(GTK_HEADER_BAR(bar), cancel);
	*ok = NULL;
	if (primary != NULL) {
		*ok = gtk_button_new_with_mnemonic(primary);
		gtk_widget_add_css_class(*ok, "suggested-action");
		gtk_header_bar_pack_end(GTK_HEADER_BAR(bar), *ok);
		gtk_window_set_default_widget(GTK_WINDOW(win), *ok);
	}
	gtk_window_set_titlebar(GTK_WINDOW(win), bar);
	*content = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	gtk_widget_set_margin_top(*content, 18);
	gtk_widget_set_margin_bottom(*content, 18);
	gtk_widget_set_margin_start(*content, 18);
	gtk_widget_set_margin_end(*content, 18);
	gtk_window_set_child(GTK_WINDOW(win), *content);
	/* Start on the primary button (Enter), not on a selectable label. */
	gtk_window_set_focus(GTK_WINDOW(win), *ok != NULL ? *ok : cancel);
	g_object_set_data(G_OBJECT(win), "cancel", cancel);
	return win;
}

static GtkWindow *
parent_of(struct gui *g)
{
	return GTK_WINDOW(g->win != NULL ? g->win : g->login);
}

static GtkWidget *
text_label(const char *text, int mono)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_label_set_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(l), 60);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	/* Fingerprints can be copied; prose is not selectable, so that it
	   does not take the focus (and show as selected) when a dialog opens. */
	if (mono) {
		gtk_label_set_selectable(GTK_LABEL(l), TRUE);
		gtk_widget_add_css_class(l, "monospace");
	}
	return l;
}

void
dialog_message(struct gui *g, const char *title, const char *body)
{
	GtkWidget *win, *content, *ok;

	win = dialog_new(g, parent_of(g), title, NULL, &content, &ok);
	gtk_box_append(GTK_BOX(content), text_label(body, 0));
	gtk_window_present(GTK_WINDOW(win));
	gui_trace(g, "dialog: %s: %s", title, body);
}

/* ---- a one-line prompt ---- */

struct prompt {
	struct gui *g;
	dialog_fn *fn;
	char *arg;
	GtkWidget *win, *entry;
};

static void
prompt_free(gpointer data)
{
	struct prompt *p = data;

	g_free(p->arg);
	g_free(p);
}

static void
on_prompt_ok(GtkWidget *w, gpointer data)
{
	struct prompt *p = data;
	char *text;

	text = g_strstrip(g_strdup(gtk_editable_get_text(
	    GTK_EDITABLE(p->entry))));
	/* fn may open another dialog: this one goes first. */
	gtk_widget_set_visible(p->win, FALSE);
	if (text[0] != '\0')
		p->fn(p->g, text, p->arg);
	g_free(text);
	gtk_window_destroy(GTK_WINDOW(p->win));
}

void
dialog_prompt(struct gui *g, const char *title, const char *label,
    const char *primary, dialog_fn *fn, const char *arg)
{
	struct prompt *p = g_new0(struct prompt, 1);
	GtkWidget *content, *ok, *l;

	p->g = g;
	p->fn = fn;
	p->arg = g_strdup(arg);
	p->win = dialog_new(g, parent_of(g), title, primary, &content, &ok);
	g_object_set_data_full(G_OBJECT(p->win), "prompt", p, prompt_free);
	l = gtk_label_new_with_mnemonic(label);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	p->entry = gtk_entry_new();
	gtk_entry_set_activates_default(GTK_ENTRY(p->entry), TRUE);
	gtk_label_set_mnemonic_widget(GTK_LABEL(l), p->entry);
	gtk_box_append(GTK_BOX(content), l);
	gtk_box_append(GTK_BOX(content), p->entry);
	(void)g_signal_connect(ok, "clicked", G_CALLBACK(on_prompt_ok), p);
	gtk_window_present(GTK_WINDOW(p->win));
}

/* ---- keys: compare, verify, accept ---- */

static const char *
trust_word(enum session_trust t)
{
	switch (t) {
	case SESSION_KEY_OWN:
		return "this device";
	case SESSION_KEY_VERIFIED:
		return "verified ✔";
	case SESSION_KEY_SEEN:
		return "pinned, not verified";
	default:
		return "CHANGED, not accepted ⚠";
	}
}

static void
key_line(void *arg, const char *fp, enum session_trust t)
{
	GString *s = arg;

	g_string_append_printf(s, "%s\n    %s\n", fp, trust_word(t));
}

/* Accept or verify the one key the dialog showed: its full fingerprint. */
static void
accept_key(struct gui *g, const char *user, const char *fp, int verified)
{
	char *msg;
	int n;

	if (g->s == NULL)
		return;
	if ((n = session_accept_key(g->s, user, fp, verified, NULL)) < 0) {
		msg = g_strdup_printf("Could not %s the key %s of %s: %s.",
		    verified ? "verify" : "accept", fp, user, err_str(n));
		dialog_message(g, "Key Not Saved", msg);
		g_free(msg);
		return;
	}
	chat_notice(g, NULL, "%s %s's key %s", verified ? "Verified" :
	    "Accepted", user, fp);
	chat_refresh_members(g);
	pump_after(g);
}

static void
on_key_button(GtkWidget *win, int verified)
{
	struct gui *g = g_object_get_data(G_OBJECT(win), "gui");

	accept_key(g, g_object_get_data(G_OBJECT(win), "user"),
	    g_object_get_data(G_OBJECT(win), "fp"), verified);
	gtk_window_destroy(GTK_WINDOW(win));
}

static void
on_verify(GtkWidget *w, gpointer data)
{
	on_key_button(data, 1);
}

static void
on_accept(GtkWidget *w, gpointer data)
{
	on_key_button(data, 0);
}

/* The first key of a user that is not verified: the one to verify. */
static void
first_unverified(void *arg, const char *fp, enum session_trust t)
{
	char *out = arg;

	if (out[0] == '\0' && (t == SESSION_KEY_SEEN ||
	    t == SESSION_KEY_UNACCEPTED))
		(void)g_strlcpy(out, fp, SESSION_FP_SIZE);
}

/* The keys of user, to compare with what user sees as their own. */
void
dialog_keys(struct gui *g, const char *user)
{
	GtkWidget *win, *content, *ok, *box;
	GString *keys = g_string_new(NULL);
	char *title, *text, fp[SESSION_FP_SIZE] = "";
	int own = strcmp(user, g->cfg.user) == 0;

	if (g->s == NULL)
		return;
	if (session_keys(g->s, user, key_line, keys) == 0)
		g_string_append(keys, "(no key seen yet)\n");
	(void)session_keys(g->s, user, first_unverified, fp);
	/* The button verifies the one key it names, nothing else. */
	own = own || fp[0] == '\0';
	title = g_strdup_printf("Keys of %s", user);
	win = dialog_new(g, parent_of(g), title, own ? NULL :
	    "Mark _Verified", &content, &ok);
	g_free(title);
	g_object_set_data(G_OBJECT(win), "gui", g);
	g_object_set_data_full(G_OBJECT(win), "user", g_strdup(user),
	    g_free);
	g_object_set_data_full(G_OBJECT(win), "fp", g_strdup(fp), g_free);
	if (own)
		text = g_strdup_printf("The keys of %s. Others compare these "
		    "with what their client shows.", user);
	else
		text = g_strdup_printf("Compare the fingerprint %s with the "
		    "one %s reads to you from their own client (in person or "
		    "by phone, not through this chat). Only if they match, "
		    "mark it verified: messages from that device then show ✔.",
		    fp, user);
	gtk_box_append(GTK_BOX(content), text_label(text, 0));
	g_free(text);
	gtk_box_append(GTK_BOX(content), text_label(keys->str, 1));
	if (!own) {
		box = text_label("Your own key, which they compare:", 0);
		gtk_box_append(GTK_BOX(content), box);
		gtk_box_append(GTK_BOX(content),
		    text_label(session_fingerprint(g->s), 1));
		(void)g_signal_connect(ok, "clicked", G_CALLBACK(on_verify),
		    win);
	}
	gui_trace(g, "dialog: keys of %s", user);
	g_string_free(keys, TRUE);
	gtk_window_present(GTK_WINDOW(win));
}

/* A peer presented a key that is not pinned: accept it or not. */
void
dialog_key_changed(struct gui *g, const struct session_event *ev)
{
	GtkWidget *win, *content, *ok;
	char *text;

	win = dialog_new(g, parent_of(g), "Changed Key", "_Accept Key",
	    &content, &ok);
	gtk_widget_remove_css_class(ok, "suggested-action");
	gtk_widget_add_css_class(ok, "destructive-action");
	/* Accepting must be deliberate (a click or Alt+A), never a stray
	   Enter. */
	gtk_window_set_default_widget(GTK_WINDOW(win), NULL);
	gtk_window_set_focus(GTK_WINDOW(win),
	    g_object_get_data(G_OBJECT(win), "cancel"));
	g_object_set_data(G_OBJECT(win), "gui", g);
	g_object_set_data_full(G_OBJECT(win), "user", g_strdup(ev->user),
	    g_free);
	g_object_set_data_full(G_OBJECT(win), "fp", g_strdup(ev->fingerprint),
	    g_free);
	text = g_strdup_printf("%s presented a key that is not the one pinned "
	    "for them. It may be a new device of %s, or someone else. Nothing "
	    "is sent to conversations with it until you accept it. Compare "
	    "the new fingerprint with %s first (not through this chat).",
	    ev->user, ev->user, ev->user);
	gtk_box_append(GTK_BOX(content), text_label(text, 0));
	g_free(text);
	text = g_strdup_printf("New:     %s\nPinned:  %s", ev->fingerprint,
	    ev->pinned != NULL ? ev->pinned : "-");
	gtk_box_append(GTK_BOX(content), text_label(text, 1));
	g_free(text);
	(void)g_signal_connect(ok, "clicked", G_CALLBACK(on_accept), win);
	gui_trace(g, "dialog: changed key of %s", ev->user);
	gtk_window_present(GTK_WINDOW(win));
}

/* ---- a conversation's devices; lines held when they changed ---- */

static void
device_line(void *arg, const char *user, const char *fp,
    enum session_trust t, int online)
{
	g_string_append_printf(arg, "%s  %s\n    %s%s\n", user, fp,
	    trust_word(t), online ? "" : ", offline");
}

void
dialog_devices(struct gui *g, const char *conv)
{
	GString *devs = g_string_new(NULL);
	char *title;

	if (g->s == NULL || conv == NULL)
		return;
	if (session_devices(g->s, conv, device_line, devs) == 0)
		g_string_append(devs, "(not listed yet)\n");
	title = g_strdup_printf("Devices in %s%s", conv[0] == '@' ? "" : "#",
	    conv);
	dialog_message(g, title, devs->str);
	g_free(title);
	g_string_free(devs, TRUE);
}

static void
on_resend(GtkWidget *w, gpointer data)
{
	GtkWidget *win = data;
	struct gui *g = g_object_get_data(G_OBJECT(win), "gui");

	if (g->s != NULL &&
	    session_resend(g->s, g_object_get_data(G_OBJECT(win), "conv")) >=
	    0)
		pump_after(g);
	gtk_window_destroy(GTK_WINDOW(win));
}

static void
on_drop(GtkWidget *w, gpointer data)
{
	GtkWidget *win = data;
	struct gui *g = g_object_get_data(G_OBJECT(win), "gui");

	if (g->s != NULL &&
	    session_drop(g->s, g_object_get_data(G_OBJECT(win), "conv")) >= 0)
		pump_after(g);
	gtk_window_destroy(GTK_WINDOW(win));
}

/* Lines queued while disconnected wait: the devices changed. */
void
dialog_held(struct gui *g, const struct session_event *ev)
{
	GtkWidget *win, *content, *ok, *drop;
	char msg[WORDING_MAX], *text;

	win = dialog_new(g, parent_of(g), "Devices Changed", "_Send Them",
	    &content, &ok);
	gtk_window_set_default_widget(GTK_WINDOW(win), NULL);
	g_object_set_data(G_OBJECT(win), "gui", g);
	g_object_set_data_full(G_OBJECT(win), "conv", g_strdup(ev->room),
	    g_free);
	wording_held(msg, sizeof(msg), WORDING_GUI, ev);
	text = gui_clean(msg);
	gtk_box_append(GTK_BOX(content), text_label(text, 0));
	g_free(text);
	drop = gtk_button_new_with_mnemonic("_Drop Them");
	gtk_box_append(GTK_BOX(content), drop);
	(void)g_signal_connect(ok, "clicked", G_CALLBACK(on_resend), win);
	(void)g_signal_connect(drop, "clicked", G_CALLBACK(on_drop), win);
	gui_trace(g, "dialog: lines held for %s", ev->room);
	gtk_window_present(GTK_WINDOW(win));
}

/* ---- a list to pick from: who is online, rooms ---- */

struct pick {
	struct gui *g;
	dialog_fn *fn;
	GtkWidget *win;
	char *value;
};

static void
pick_free(gpointer data, GClosure *c)
{
	struct pick *p = data;

	g_free(p->value);
	g_free(p);
}

static void
on_pick(GtkWidget *w, gpointer data)
{
	struct pick *p = data;
	struct gui *g = p->g;
	dialog_fn *fn = p->fn;
	char *value = g_strdup(p->value);

	/* Destroying the window frees p. */
	gtk_window_destroy(GTK_WINDOW(p->win));
	fn(g, value, NULL);
	g_free(value);
}

/* rows: "value\tdescription"; each gets a button that calls fn(value). */
void
dialog_list(struct gui *g, const char *title, GPtrArray *rows,
    dialog_fn *fn, const char *pick_label)
{
	GtkWidget *win, *content, *ok, *list, *row, *l, *b;
	struct pick *p;
	char **f;
	guint i;

	win = dialog_new(g, parent_of(g), title, NULL, &content, &ok);
	list = gtk_list_box_new();
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(list),
	    GTK_SELECTION_NONE);
	gtk_widget_add_css_class(list, "boxed-list");
	for (i = 0; i < rows->len; i++) {
		f = g_strsplit(g_ptr_array_index(rows, i), "\t", 2);
		row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
		gtk_widget_set_margin_start(row, 12);
		gtk_widget_set_margin_end(row, 6);
		gtk_widget_set_margin_top(row, 6);
		gtk_widget_set_margin_bottom(row, 6);
		l = gtk_label_new(NULL);
		{
			char *m = g_markup_printf_escaped("<b>%s</b>  %s",
			    f[0], f[1] != NULL ? f[1] : "");

			gtk_label_set_markup(GTK_LABEL(l), m);
			g_free(m);
		}
		gtk_label_set_xalign(GTK_LABEL(l), 0);
		gtk_widget_set_hexpand(l, TRUE);
		b = gtk_button_new_with_label(pick_label);
		p = g_new0(struct pick, 1);
		p->g = g;
		p->fn = fn;
		p->win = win;
		p->value = g_strdup(f[0]);
		(void)g_signal_connect_data(b, "clicked", G_CALLBACK(on_pick),
		    p, pick_free, 0);
		gtk_box_append(GTK_BOX(row), l);
		gtk_box_append(GTK_BOX(row), b);
		gtk_list_box_append(GTK_LIST_BOX(list), row);
		gui_trace(g, "list: %s: %s", title, f[0]);
		g_strfreev(f);
	}
	if (rows->len == 0)
		gtk_box_append(GTK_BOX(content), text_label("(none)", 0));
	else
		gtk_box_append(GTK_BOX(content), list);
	gtk_window_set_default_size(GTK_WINDOW(win), 360, -1);
	gtk_window_present(GTK_WINDOW(win));
}

/* ---- history export and import ---- */

/* Export to, or import from, path; the outcome in the info bar. */
static void
history_file(struct gui *g, int import, const char *path)
{
	char err[512], *body;
	size_t added = 0, n;
	int op = import ? 'i' : g_str_has_suffix(path, ".txt") ? 't' : 'e';

	if (app_file(&g->a, op, path, &added, err, sizeof(err)) != 0) {
		/* The module's message names the file. */
		body = g_strdup_printf(import ? "Nothing was imported: %s." :
		    "The history was not exported: %s.", err);
		dialog_message(g, import ? "Import Failed" : "Export Failed",
		    body);
		g_free(body);
		return;
	}
	n = history_count(g->a.history);
	if (import) {
		chat_past_refresh(g);
		chat_info(g, 0, "Imported %zu new message%s from %s (%zu in "
		    "the history).", added, added == 1 ? "" : "s", path, n);
	} else {
		chat_info(g, 0, "Exported %zu message%s to %s%s.", n, n == 1 ?
		    "" : "s", path, op == 't' ? " as plain text (for reading; "
		    "it cannot be imported)" : "");
	}
}

static void
on_history_file(GtkNativeDialog *d, int response, gpointer data)
{
	struct gui *g = data;
	int import = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(d),
	    "import"));
	GFile *f;
	char *path;

	gui_trace(g, "file-chooser: %s", response == GTK_RESPONSE_ACCEPT ?
	    "accepted" : "cancelled");
	if (response == GTK_RESPONSE_ACCEPT && g->win != NULL &&
	    (f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d))) != NULL) {
		if ((path = g_file_get_path(f)) != NULL)
			history_file(g, import, path);
		g_free(path);
		g_object_unref(f);
	}
	g_object_unref(d);
}

/*
 * Export History… (a file to save: JSON that any device of this user can
 * import, or plain text for reading when the name ends in .txt) and
 * Import History… (an export to merge).
 */
void
dialog_history(struct gui *g, int import)
{
	const char *title = import ? "Import History" : "Export History";
	GtkFileChooserNative *d;

	if (g->a.history == NULL) {
		dialog_message(g, title, "There is no history this session: "
		    "it did not open (the reason is shown above the "
		    "messages).");
		return;
	}
	d = gtk_file_chooser_native_new(title, GTK_WINDOW(g->win), import ?
	    GTK_FILE_CHOOSER_ACTION_OPEN : GTK_FILE_CHOOSER_ACTION_SAVE,
	    import ? "_Import" : "_Export", "_Cancel");
	gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
	if (!import)
		gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d),
		    "missive-history.json");
	g_object_set_data(G_OBJECT(d), "import", GINT_TO_POINTER(import));
	(void)g_signal_connect(d, "response", G_CALLBACK(on_history_file), g);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
	gui_trace(g, "dialog: %s", title);
}
