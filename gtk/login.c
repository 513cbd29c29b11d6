/*
 * The login window: the client folder (typed, chosen, remembered from the
 * last login, or given on the command line), the server address and user
 * name (both filled in from the folder's client.conf), the password, and a
 * line that says clearly why the last attempt failed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "gtk/gui.h"

#define REMEMBER_GROUP "login"
#define REMEMBER_KEY "folder"

/* ~/.config/missive/gtk.ini: the folder used last. */
static char *
remember_path(void)
{
	return g_build_filename(g_get_user_config_dir(), "missive", "gtk.ini",
	    NULL);
}

static char *
remembered_folder(void)
{
	GKeyFile *kf = g_key_file_new();
	char *path = remember_path(), *folder = NULL;

	if (g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
		folder = g_key_file_get_string(kf, REMEMBER_GROUP,
		    REMEMBER_KEY, NULL);
	g_key_file_free(kf);
	g_free(path);
	return folder;
}

static void
remember_folder(const char *folder)
{
	GKeyFile *kf = g_key_file_new();
	char *path = remember_path(), *dir = g_path_get_dirname(path);

	g_key_file_set_string(kf, REMEMBER_GROUP, REMEMBER_KEY, folder);
	/* Only a convenience: a failure costs the next login one click. */
	if (g_mkdir_with_parents(dir, 0700) != 0 ||
	    !g_key_file_save_to_file(kf, path, NULL))
		g_warning("cannot remember the folder in %s", path);
	g_key_file_free(kf);
	g_free(path);
	g_free(dir);
}

static void
show_error(struct gui *g, const char *why)
{
	gtk_label_set_text(GTK_LABEL(g->l_error), why != NULL ? why : "");
	gtk_widget_set_visible(g->l_error, why != NULL);
	if (why != NULL)
		gui_trace(g, "login-error: %s", why);
}

static void
set_busy(struct gui *g, int busy)
{
	gtk_widget_set_sensitive(g->l_button, !busy);
	gtk_widget_set_sensitive(g->l_folder, !busy);
	gtk_widget_set_sensitive(g->l_server, !busy);
	gtk_widget_set_sensitive(g->l_user, !busy);
	gtk_widget_set_sensitive(g->l_password, !busy);
	gtk_spinner_set_spinning(GTK_SPINNER(g->l_spinner), busy);
}

/*
 * Load the folder's client.conf into g->cfg; with fill, put its server and
 * user into the fields.  Returns 0, or -1 with the error shown.
 */
static int
folder_load(struct gui *g, int fill)
{
	const char *folder = gtk_editable_get_text(GTK_EDITABLE(g->l_folder));
	struct client_config cfg;
	char err[512], *file, *msg, *server;
	int r;

	if (folder[0] == '\0') {
		show_error(g, "Choose the client folder your admin gave you "
		    "(it holds client.conf).");
		return -1;
	}
	file = g_build_filename(folder, "client.conf", NULL);
	r = client_config_load(file, &cfg, err, sizeof(err));
	g_free(file);
	if (r != 0) {
		msg = g_strdup_printf("%s is not a usable client folder: %s",
		    folder, err);
		show_error(g, msg);
		g_free(msg);
		return -1;
	}
	if (g->cfg_loaded)
		client_config_free(&g->cfg);
	g->cfg = cfg;
	g->cfg_loaded = 1;
	if (fill) {
		server = g_strdup_printf(strchr(cfg.server_host, ':') != NULL ?
		    "[%s]:%lld" : "%s:%lld", cfg.server_host, cfg.server_port);
		gtk_editable_set_text(GTK_EDITABLE(g->l_server), server);
		gtk_editable_set_text(GTK_EDITABLE(g->l_user), cfg.user);
		show_error(g, NULL);
		gui_trace(g, "login-folder: %s for %s at %s", folder, cfg.user,
		    server);
		g_free(server);
	}
	return 0;
}

/*
 * "host", "host:port", "[v6]" or "[v6]:port" into the configuration.
 * Returns 0 or -1 (shown).
 */
static int
server_apply(struct gui *g, const char *text)
{
	char *host, *colon, *end;
	const char *port = NULL;
	long long p = g->cfg.server_port;

	host = g_strstrip(g_strdup(text));
	if (host[0] == '[' && (end = strchr(host, ']')) != NULL) {
		*end = '\0';
		memmove(host, host + 1, strlen(host + 1) + 1);
		if (end[1] == ':')
			port = end + 1;
	} else if ((colon = strchr(host, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		*colon = '\0';
		port = colon + 1;
	}
	if (port != NULL) {
		errno = 0;
		p = strtoll(port, &end, 10);
		if (errno != 0 || end == port || *end != '\0' || p < 1 ||
		    p > 65535)
			p = -1;
	}
	if (host[0] == '\0' || p < 0) {
		show_error(g, "The server address must be a host name or "
		    "address, optionally with :port (1 to 65535).");
		g_free(host);
		return -1;
	}
	/* The configuration's strings are libc's (client_config_free()). */
	free(g->cfg.server_host);
	g->cfg.server_host = strdup(host);
	g_free(host);
	if (g->cfg.server_host == NULL) {
		show_error(g, err_str(E_NOMEM));
		return -1;
	}
	g->cfg.server_port = p;
	return 0;
}

static void
do_login(struct gui *g)
{
	const char *user = gtk_editable_get_text(GTK_EDITABLE(g->l_user));
	char err[512], *msg;

	if (g->s != NULL)
		return;
	if (folder_load(g, 0) != 0 ||
	    server_apply(g, gtk_editable_get_text(GTK_EDITABLE(g->l_server)))
	    != 0)
		return;
	if (strcmp(user, g->cfg.user) != 0) {
		msg = g_strdup_printf("This client folder belongs to the user "
		    "%s. Log in as %s, or choose your own folder.",
		    g->cfg.user, g->cfg.user);
		show_error(g, msg);
		g_free(msg);
		return;
	}
	show_error(g, NULL);
	/*
	 * The core and the history (pump_start()) read the entry's own text:
	 * no copy is made here.  The core keeps a copy, the history only the
	 * keys derived from it; the entry's buffer (GtkPasswordEntry: secure
	 * memory, wiped on free) is emptied next.
	 */
	if (pump_start(g, gtk_editable_get_text(GTK_EDITABLE(g->l_password)),
	    err, sizeof(err)) != 0) {
		show_error(g, err);
		return;
	}
	gtk_editable_set_text(GTK_EDITABLE(g->l_password), "");
	if (g->s != NULL)
		set_busy(g, 1);
}

static void
on_login(GtkWidget *w, gpointer data)
{
	do_login(data);
}

static void
on_folder_activate(GtkEntry *e, gpointer data)
{
	struct gui *g = data;

	if (folder_load(g, 1) == 0)
		(void)gtk_widget_grab_focus(g->l_password);
}

static void
on_chosen(GtkNativeDialog *d, int response, gpointer data)
{
	struct gui *g = data;
	GFile *f;
	char *path;

	if (response == GTK_RESPONSE_ACCEPT &&
	    (f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d))) != NULL) {
		if ((path = g_file_get_path(f)) != NULL) {
			gtk_editable_set_text(GTK_EDITABLE(g->l_folder), path);
			if (folder_load(g, 1) == 0)
				(void)gtk_widget_grab_focus(g->l_password);
			g_free(path);
		}
		g_object_unref(f);
	}
	g_object_unref(d);
}

static void
on_choose(GtkWidget *w, gpointer data)
{
	struct gui *g = data;
	GtkFileChooserNative *d;

	d = gtk_file_chooser_native_new("Choose Your Client Folder",
	    GTK_WINDOW(g->login), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
	    "_Open", "_Cancel");
	(void)g_signal_connect(d, "response", G_CALLBACK(on_chosen), g);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static gboolean
on_login_close(GtkWindow *w, gpointer data)
{
	struct gui *g = data;

	/* Closed while connecting: give up the attempt. */
	if (g->s != NULL && !g->logged_in)
		pump_stop(g);
	return FALSE;
}

static void
on_login_destroy(GtkWidget *w, gpointer data)
{
	struct gui *g = data;

	g->login = NULL;
}

static GtkWidget *
field(GtkWidget *grid, int row, const char *label, GtkWidget *w)
{
	GtkWidget *l = gtk_label_new_with_mnemonic(label);

	gtk_label_set_mnemonic_widget(GTK_LABEL(l), w);
	gtk_widget_set_halign(l, GTK_ALIGN_END);
	gtk_widget_add_css_class(l, "dim-label");
	gtk_widget_set_hexpand(w, TRUE);
	gtk_grid_attach(GTK_GRID(grid), l, 0, row, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), w, 1, row, 1, 1);
	return w;
}

static GtkWidget *
login_form(struct gui *g)
{
	GtkWidget *box, *grid, *intro, *folder, *choose, *actions;

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 18);
	gtk_widget_set_margin_top(box, 24);
	gtk_widget_set_margin_bottom(box, 24);
	gtk_widget_set_margin_start(box, 24);
	gtk_widget_set_margin_end(box, 24);
	intro = gtk_label_new("Log in with the client folder your admin "
	    "gave you.");
	gtk_widget_set_halign(intro, GTK_ALIGN_START);
	gtk_box_append(GTK_BOX(box), intro);

	grid = gtk_grid_new();
	gtk_grid_set_row_spacing(GTK_GRID(grid), 12);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	folder = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	g->l_folder = gtk_entry_new();
	gtk_widget_set_hexpand(g->l_folder, TRUE);
	gtk_entry_set_placeholder_text(GTK_ENTRY(g->l_folder),
	    "Folder with client.conf");
	choose = gtk_button_new_with_mnemonic("_Choose…");
	gtk_box_append(GTK_BOX(folder), g->l_folder);
	gtk_box_append(GTK_BOX(folder), choose);
	(void)field(grid, 0, "Client _folder", folder);
	gtk_label_set_mnemonic_widget(GTK_LABEL(gtk_grid_get_child_at(
	    GTK_GRID(grid), 0, 0)), g->l_folder);
	g->l_server = field(grid, 1, "_Server", gtk_entry_new());
	gtk_entry_set_placeholder_text(GTK_ENTRY(g->l_server), "host:port");
	g->l_user = field(grid, 2, "_User name", gtk_entry_new());
	g->l_password = field(grid, 3, "_Password", gtk_password_entry_new());
	gtk_password_entry_set_show_peek_icon(
	    GTK_PASSWORD_ENTRY(g->l_password), TRUE);
	gtk_box_append(GTK_BOX(box), grid);

	g->l_error = gtk_label_new(NULL);
	gtk_label_set_wrap(GTK_LABEL(g->l_error), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(g->l_error), 50);
	gtk_label_set_xalign(GTK_LABEL(g->l_error), 0);
	gtk_label_set_selectable(GTK_LABEL(g->l_error), TRUE);
	gtk_widget_add_css_class(g->l_error, "error");
	gtk_widget_set_visible(g->l_error, FALSE);
	gtk_box_append(GTK_BOX(box), g->l_error);

	actions = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_widget_set_halign(actions, GTK_ALIGN_END);
	g->l_spinner = gtk_spinner_new();
	g->l_button = gtk_button_new_with_mnemonic("_Log In");
	gtk_widget_add_css_class(g->l_button, "suggested-action");
	gtk_box_append(GTK_BOX(actions), g->l_spinner);
	gtk_box_append(GTK_BOX(actions), g->l_button);
	gtk_box_append(GTK_BOX(box), actions);

	(void)g_signal_connect(choose, "clicked", G_CALLBACK(on_choose), g);
	(void)g_signal_connect(g->l_folder, "activate",
	    G_CALLBACK(on_folder_activate), g);
	(void)g_signal_connect(g->l_button, "clicked", G_CALLBACK(on_login),
	    g);
	(void)g_signal_connect(g->l_password, "activate",
	    G_CALLBACK(on_login), g);
	return box;
}

static void
login_create(struct gui *g)
{
	GtkWidget *header;
	char *folder;

	g->login = gtk_application_window_new(g->app);
	gtk_window_set_title(GTK_WINDOW(g->login), "Log In — missive");
	gtk_window_set_resizable(GTK_WINDOW(g->login), FALSE);
	header = gtk_header_bar_new();
	gtk_window_set_titlebar(GTK_WINDOW(g->login), header);
	gtk_window_set_child(GTK_WINDOW(g->login), login_form(g));
	gtk_window_set_default_widget(GTK_WINDOW(g->login), g->l_button);
	(void)g_signal_connect(g->login, "close-request",
	    G_CALLBACK(on_login_close), g);
	(void)g_signal_connect(g->login, "destroy",
	    G_CALLBACK(on_login_destroy), g);

	folder = g->start_folder != NULL ? g_strdup(g->start_folder) :
	    remembered_folder();
	if (folder == NULL &&
	    g_file_test("client.conf", G_FILE_TEST_IS_REGULAR))
		folder = g_get_current_dir();
	if (folder != NULL) {
		gtk_editable_set_text(GTK_EDITABLE(g->l_folder), folder);
		g_free(folder);
		if (folder_load(g, 1) == 0)
			(void)gtk_widget_grab_focus(g->l_password);
	} else {
		(void)gtk_widget_grab_focus(g->l_folder);
	}
}

void
login_show(struct gui *g)
{
	if (g->login == NULL)
		login_create(g);
	gtk_window_present(GTK_WINDOW(g->login));
	gui_trace(g, "login-window: shown");
}

/* The session ended before or after login: why (NULL: a plain logout). */
void
login_failed(struct gui *g, const char *why)
{
	login_show(g);
	set_busy(g, 0);
	show_error(g, why);
	(void)gtk_widget_grab_focus(g->l_password);
}

/* Logged in: hide the window (kept for a logout), remember the folder. */
void
login_done(struct gui *g)
{
	const char *folder = gtk_editable_get_text(GTK_EDITABLE(g->l_folder));
	char *abs = g_canonicalize_filename(folder, NULL);

	remember_folder(abs);
	g_free(abs);
	set_busy(g, 0);
	gtk_widget_set_visible(g->login, FALSE);
}
