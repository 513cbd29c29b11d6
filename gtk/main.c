/*
 * missive-gtk: the missive client, GTK 4.
 *
 *   missive-gtk [-c FOLDER/client.conf | FOLDER]
 *
 * Opens the login window with the client folder given (else the one used
 * last, else the current directory if it holds a client.conf).  See
 * README.md ("The GTK client") for a user's guide.
 *
 * MISSIVE_GTK_TRACE=FILE appends every line the message view shows, and
 * the login window's errors, to FILE (for tests: it observes, it never
 * drives).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtk/gui.h"

void
gui_trace(struct gui *g, const char *fmt, ...)
{
	va_list ap;

	if (g->trace == NULL)
		return;
	va_start(ap, fmt);
	(void)vfprintf(g->trace, fmt, ap);
	va_end(ap);
	(void)fputc('\n', g->trace);
	(void)fflush(g->trace);
}

/*
 * A copy of network text fit to show: every control character (C0 but
 * TAB, DEL, C1) becomes U+FFFD.  The core hands over valid UTF-8 only.
 */
char *
gui_clean(const char *net)
{
	GString *out = g_string_sized_new(strlen(net));
	const char *p;
	gunichar c;

	for (p = net; *p != '\0'; p = g_utf8_next_char(p)) {
		c = g_utf8_get_char(p);
		if ((c < 0x20 && c != '\t') || (c >= 0x7f && c < 0xa0))
			c = 0xfffd;
		(void)g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

/* Ctrl+Q in either window: leave cleanly, then the windows go. */
static void
act_quit(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;

	if (g->win != NULL) {
		chat_quit(g);
		return;
	}
	if (g->s != NULL)
		pump_stop(g);
	if (g->login != NULL)
		gtk_window_destroy(GTK_WINDOW(g->login));
}

static void
on_startup(GApplication *app, gpointer data)
{
	static const GActionEntry entries[] = {
		{ .name = "quit", .activate = act_quit },
	};
	static const char *const quit[] = { "<Control>q", NULL };

	g_action_map_add_action_entries(G_ACTION_MAP(app), entries,
	    G_N_ELEMENTS(entries), data);
	gtk_application_set_accels_for_action(GTK_APPLICATION(app),
	    "app.quit", quit);
}

static void
on_activate(GApplication *app, gpointer data)
{
	struct gui *g = data;

	if (g->login != NULL || g->win != NULL) {
		gtk_window_present(GTK_WINDOW(g->win != NULL ? g->win :
		    g->login));
		return;
	}
	login_show(g);
}

/* -c FILE or a folder: the folder. */
static char *
folder_arg(const char *arg)
{
	if (g_file_test(arg, G_FILE_TEST_IS_DIR))
		return g_canonicalize_filename(arg, NULL);
	return g_path_get_dirname(arg);
}

static void __attribute__((noreturn))
usage(void)
{
	(void)fprintf(stderr,
	    "usage: missive-gtk [-c FOLDER/client.conf | FOLDER]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct gui g = { .fd = -1, .a = APP_INIT };
	const char *trace;
	char *fake[] = { argv[0], NULL };
	int status;

	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		g.start_folder = folder_arg(argv[2]);
	else if (argc == 2 && argv[1][0] != '-')
		g.start_folder = folder_arg(argv[1]);
	else if (argc != 1)
		usage();
	if ((trace = getenv("MISSIVE_GTK_TRACE")) != NULL &&
	    trace[0] != '\0' && (g.trace = fopen(trace, "ae")) == NULL) {
		(void)fprintf(stderr, "missive-gtk: %s: cannot open\n", trace);
		return 1;
	}
	g.convs = g_ptr_array_new();
	g.who_acc = g_ptr_array_new_with_free_func(g_free);
	g.rooms_acc = g_ptr_array_new_with_free_func(g_free);
	g_queue_init(&g.who_pending);
	/* Several clients (folders) may run at once: no single instance. */
	g.app = gtk_application_new("org.missive.Gtk",
	    G_APPLICATION_NON_UNIQUE);
	(void)g_signal_connect(g.app, "startup", G_CALLBACK(on_startup), &g);
	(void)g_signal_connect(g.app, "activate", G_CALLBACK(on_activate),
	    &g);
	/* Our arguments are parsed above; GApplication sees none. */
	status = g_application_run(G_APPLICATION(g.app), 1, fake);
	pump_stop(&g);
	g_object_unref(g.app);
	g_ptr_array_free(g.convs, TRUE);
	g_ptr_array_free(g.who_acc, TRUE);
	g_ptr_array_free(g.rooms_acc, TRUE);
	g_queue_clear_full(&g.who_pending, g_free);
	if (g.cfg_loaded)
		client_config_free(&g.cfg);
	g_free(g.start_folder);
	g_free(g.l_reason);
	g_free(g.nickname);
	g_free(g.history_err);
	if (g.trace != NULL)
		(void)fclose(g.trace);
	return status;
}
