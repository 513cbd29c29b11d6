/*
 * The message view: each conversation's lines in its own text buffer, the
 * one shown kept at its end.  Chat lines and notices come as they happen;
 * above them, dimmed, the conversation's past lines from the history (not
 * those this session showed live).  Every line shown also goes to the
 * trace (MISSIVE_GTK_TRACE).
 */
#include <stdarg.h>
#include <string.h>

#include "gtk/gui.h"

/* ---- lines in the message view ---- */

/* An own line's tick: each TICK_LEN characters but the last. */
#define TICK_PENDING " …"             /* typed, not yet stored */
#define TICK_STORED " ✓"              /* stored for every device */
#define TICK_REFUSED " ✗"             /* the server refused it */
#define TICK_DELIVERED " ✓✓"          /* every device fetched it */
#define TICK_LEN 2


static void
scroll_end(struct gui *g, struct conv *c)
{
	GtkTextIter end;

	if (c != g->cur)
		return;
	gtk_text_buffer_get_end_iter(c->buf, &end);
	gtk_text_view_scroll_to_mark(GTK_TEXT_VIEW(g->view),
	    gtk_text_buffer_get_mark(c->buf, "end"), 0, FALSE, 0, 1);
}

/* A new line at the end of c, unless the end starts one already. */
static void
newline(struct conv *c)
{
	GtkTextIter end;

	gtk_text_buffer_get_end_iter(c->buf, &end);
	if (!gtk_text_iter_starts_line(&end))
		gtk_text_buffer_insert(c->buf, &end, "\n", 1);
}

static void
insert(struct conv *c, const char *text, const char *tag)
{
	GtkTextIter end;

	gtk_text_buffer_get_end_iter(c->buf, &end);
	if (tag != NULL)
		gtk_text_buffer_insert_with_tags_by_name(c->buf, &end, text, -1,
		    tag, NULL);
	else
		gtk_text_buffer_insert(c->buf, &end, text, -1);
}

/* A line id as a hash key: hex. */
static char *
mid_key(const uint8_t *mid)
{
	GString *k = g_string_sized_new((gsize)HISTORY_ID_LEN * 2);
	size_t i;

	for (i = 0; i < HISTORY_ID_LEN; i++)
		g_string_append_printf(k, "%02x", mid[i]);
	return g_string_free(k, FALSE);
}

/* A chat line: time, nickname, the sender's key's trust, text; own_mid:
   our own line as typed, its tick pending (" …") under that id. */
void
view_line(struct gui *g, struct conv *c, int64_t ms, const char *nick,
    enum session_trust trust, const char *text, const uint8_t *own_mid)
{
	char t[WORDING_WHEN_MAX], *title = sidebar_title(c->name);
	const char *mark = "";
	GtkTextIter end;

	wording_when(ms, 1, t);
	newline(c);
	insert(c, t, "time");
	insert(c, "  ", NULL);
	insert(c, nick, trust == SESSION_KEY_OWN ? "self" : "nick");
	if (trust == SESSION_KEY_VERIFIED) {
		insert(c, " ✔", "verified");
		mark = " [verified]";
	} else if (trust == SESSION_KEY_UNACCEPTED) {
		insert(c, " ⚠ key not accepted", "warn");
		mark = " [key not accepted]";
	}
	insert(c, "  ", NULL);
	insert(c, text, NULL);
	if (own_mid != NULL) {
		/* Shown when typed: pending until the server stores it. */
		gtk_text_buffer_get_end_iter(c->buf, &end);
		g_hash_table_insert(c->pending, mid_key(own_mid),
		    gtk_text_buffer_create_mark(c->buf, NULL, &end, TRUE));
		insert(c, TICK_PENDING, "tick");
	}
	scroll_end(g, c);
	gui_trace(g, "%s <%s>%s %s", title, nick, mark, text);
	g_free(title);
}

/* The tick at mark m (old, in chars) becomes text. */
static void
tick_set(struct conv *c, GtkTextMark *m, int old, const char *text)
{
	GtkTextIter at, end;

	gtk_text_buffer_get_iter_at_mark(c->buf, &at, m);
	end = at;
	(void)gtk_text_iter_forward_chars(&end, old);
	gtk_text_buffer_delete(c->buf, &at, &end);
	gtk_text_buffer_insert_with_tags_by_name(c->buf, &at, text, -1,
	    "tick", NULL);
}

/* The pending tick at m becomes ✓ (then it waits for ✓✓ under key k,
   taken) or ✗ (k freed). */
static void
tick_answered(struct gui *g, struct conv *c, char *k, GtkTextMark *m,
    int stored)
{
	char *title;

	tick_set(c, m, TICK_LEN, stored ? TICK_STORED : TICK_REFUSED);
	if (stored) {
		g_hash_table_insert(c->ticks, k, m);
	} else {
		gtk_text_buffer_delete_mark(c->buf, m);
		g_free(k);
	}
	title = sidebar_title(c->name);
	gui_trace(g, "tick: %s%s", title, stored ? TICK_STORED :
	    TICK_REFUSED);
	g_free(title);
}

/* Own line mid of c is stored (1020: ✓) or will never be (1021, or
   refused before it was sent: ✗). */
void
view_stored(struct gui *g, struct conv *c, const uint8_t *mid, int stored)
{
	char *k = mid_key(mid);
	gpointer key, m;

	if (!g_hash_table_steal_extended(c->pending, k, &key, &m)) {
		g_free(k);
		return;
	}
	g_free(key);
	tick_answered(g, c, k, m, stored);
}

/* Every own line of c not yet stored was dropped (✗). */
void
view_refused_all(struct gui *g, struct conv *c)
{
	GHashTableIter it;
	gpointer k, m;

	g_hash_table_iter_init(&it, c->pending);
	while (g_hash_table_iter_next(&it, &k, &m)) {
		g_hash_table_iter_steal(&it);
		tick_answered(g, c, k, m, 0);
	}
}

/* Own line mid, in whichever conversation, reached every device: ✓✓. */
void
view_delivered(struct gui *g, const uint8_t *mid, const char *text)
{
	char *k = mid_key(mid), *title, *t;
	struct conv *c;
	GtkTextMark *m;
	guint i;

	for (i = 0; i < g->convs->len; i++) {
		c = g_ptr_array_index(g->convs, i);
		if ((m = g_hash_table_lookup(c->ticks, k)) == NULL)
			continue;
		tick_set(c, m, TICK_LEN, TICK_DELIVERED);
		(void)g_hash_table_remove(c->ticks, k);
		gtk_text_buffer_delete_mark(c->buf, m);
		title = sidebar_title(c->name);
		t = gui_clean(text != NULL ? text : "");
		gui_trace(g, "tick: %s%s %s", title, TICK_DELIVERED, t);
		g_free(t);
		g_free(title);
		break;
	}
	g_free(k);
}

void
chat_notice(struct gui *g, struct conv *c, const char *fmt, ...)
{
	va_list ap;
	char t[WORDING_WHEN_MAX], *text, *title;

	if (c == NULL && (c = g->cur) == NULL)
		return;
	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	wording_when(0, 1, t);
	newline(c);
	insert(c, t, "time");
	insert(c, "  ", NULL);
	insert(c, text, "notice");
	scroll_end(g, c);
	title = sidebar_title(c->name);
	gui_trace(g, "%s *** %s", title, text);
	g_free(title);
	g_free(text);
}

/* c's lines in the view, at their end (c is the one shown). */
void
view_show(struct gui *g, struct conv *c)
{
	gtk_text_view_set_buffer(GTK_TEXT_VIEW(g->view), c->buf);
	scroll_end(g, c);
}

/* ---- past messages, from the history ---- */

#define CHAT_PAST 200                 /* the most shown a conversation */

/* A chat line of this session, by its id: not shown again as past. */
void
view_mark_live(struct conv *c, const uint8_t *mid)
{
	if (mid != NULL)
		(void)g_hash_table_add(c->live, mid_key(mid));
}

static int
is_live(struct conv *c, const uint8_t *mid)
{
	char *k = mid_key(mid);
	int live = g_hash_table_contains(c->live, k);

	g_free(k);
	return live;
}

/* Text at the end of the past lines, dimmed. */
static void
past_insert(struct conv *c, const char *text, const char *tag)
{
	GtkTextIter at;

	gtk_text_buffer_get_iter_at_mark(c->buf, &at, c->past);
	gtk_text_buffer_insert_with_tags_by_name(c->buf, &at, text, -1,
	    "past", tag, NULL);
	gtk_text_buffer_move_mark(c->buf, c->past, &at);
}

static void
past_line(struct gui *g, struct conv *c, const struct history_record *r)
{
	GDateTime *dt;
	char *when, *nick = gui_clean(r->nickname), *text = gui_clean(r->text);
	char *title = sidebar_title(c->name);

	dt = g_date_time_new_from_unix_local(r->time_ms / 1000);
	when = dt != NULL ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : NULL;
	past_insert(c, when != NULL ? when : "(no time)", "time");
	past_insert(c, "  ", NULL);
	past_insert(c, nick, r->outgoing ? "self" : "nick");
	if (r->verified)
		past_insert(c, " ✔", "verified");
	past_insert(c, "  ", NULL);
	past_insert(c, text, NULL);
	past_insert(c, "\n", NULL);
	gui_trace(g, "%s (past) <%s>%s %s", title, nick, r->verified ?
	    " [verified]" : "", text);
	if (dt != NULL)
		g_date_time_unref(dt);
	g_free(when);
	g_free(nick);
	g_free(text);
	g_free(title);
}

/*
 * (Re)load the past lines of c: the last CHAT_PAST records of its
 * conversation in the history that this session has not shown live.
 */
static void
past_load(struct gui *g, struct conv *c)
{
	const struct history *h = g->a.history;
	const struct history_record *r;
	GtkTextIter start, at;
	size_t i, n, first, shown = 0;
	char *note;

	gtk_text_buffer_get_start_iter(c->buf, &start);
	gtk_text_buffer_get_iter_at_mark(c->buf, &at, c->past);
	gtk_text_buffer_delete(c->buf, &start, &at);
	if (h == NULL)
		return;
	first = n = history_count(h);
	for (i = n; i > 0 && shown < CHAT_PAST; i--) {
		r = history_get(h, i - 1);
		if (strcmp(r->conv, c->name) == 0 && !is_live(c, r->id)) {
			shown++;
			first = i - 1;
		}
	}
	for (i = first; i < n; i++) {
		r = history_get(h, i);
		if (strcmp(r->conv, c->name) == 0 && !is_live(c, r->id))
			past_line(g, c, r);
	}
	if (shown == 0)
		return;
	note = g_strdup_printf("%zu earlier message%s from the history\n",
	    shown, shown == 1 ? "" : "s");
	past_insert(c, note, "notice");
	g_free(note);
}

/* After an import: every open conversation's past lines again. */
void
chat_past_refresh(struct gui *g)
{
	guint i;

	for (i = 0; i < g->convs->len; i++)
		past_load(g, g_ptr_array_index(g->convs, i));
	if (g->cur != NULL)
		scroll_end(g, g->cur);
}

/* ---- tags and buffers ---- */

/* The tags the lines are drawn with, shared by every buffer. */
void
view_tags(struct gui *g)
{
	static const struct {
		const char *name, *prop, *value;
	} t[] = {
		{ "time", "foreground", "#77767b" },
		{ "nick", "weight", NULL },
		{ "self", "foreground", "#1c71d8" },
		{ "verified", "foreground", "#26a269" },
		{ "warn", "foreground", "#c01c28" },
		{ "notice", "foreground", "#77767b" },
		{ "tick", "foreground", "#26a269" },
		/* Last: over the others' colours. */
		{ "past", "foreground", "#9a9996" },
	};
	GtkTextTag *tag;
	size_t i;

	g->tags = gtk_text_tag_table_new();
	for (i = 0; i < G_N_ELEMENTS(t); i++) {
		tag = gtk_text_tag_new(t[i].name);
		if (t[i].value != NULL)
			g_object_set(tag, t[i].prop, t[i].value, NULL);
		if (strcmp(t[i].name, "nick") == 0 ||
		    strcmp(t[i].name, "self") == 0)
			g_object_set(tag, "weight", PANGO_WEIGHT_BOLD, NULL);
		if (strcmp(t[i].name, "notice") == 0)
			g_object_set(tag, "style", PANGO_STYLE_ITALIC, NULL);
		(void)gtk_text_tag_table_add(g->tags, tag);
		g_object_unref(tag);
	}
}

/* c's messages: an empty buffer, then its past lines from the history. */
void
view_buffer_new(struct gui *g, struct conv *c)
{
	GtkTextIter end;

	c->buf = gtk_text_buffer_new(g->tags);
	gtk_text_buffer_get_end_iter(c->buf, &end);
	(void)gtk_text_buffer_create_mark(c->buf, "end", &end, FALSE);
	c->past = gtk_text_buffer_create_mark(c->buf, "past", &end, TRUE);
	c->live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	c->ticks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	c->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	past_load(g, c);
}

void
view_buffer_free(struct conv *c)
{
	/* The marks go with the buffer. */
	g_hash_table_destroy(c->pending);
	g_hash_table_destroy(c->ticks);
	g_object_unref(c->buf);
	g_hash_table_destroy(c->live);
}
