/*
 * The terminal UI's model without curses: windows, lines, members
 * (client/tui_int.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client/history.h"
#include "client/tui_int.h"
#include "common/text.h"

void
tui_clock(int64_t ms, char out[TUI_CLOCK_MAX])
{
	char when[WORDING_WHEN_MAX];

	wording_when(ms, 0, when);
	(void)snprintf(out, TUI_CLOCK_MAX, "[%s]", when);
}

/*
 * UTF-8 to wide characters (the locale is UTF-8, or the bytes that do not
 * convert become '?'); TAB becomes a space.
 */
static wchar_t *
widen(const char *s)
{
	size_t len = strlen(s), i = 0, n;
	mbstate_t st;
	wchar_t *w, *o;

	if ((w = calloc(len + 1, sizeof(*w))) == NULL)
		return NULL;
	memset(&st, 0, sizeof(st));
	for (o = w; i < len; o++) {
		n = mbrtowc(o, s + i, len - i, &st);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof(st));
			*o = L'?';
			n = 1;
		}
		if (*o == L'\t')
			*o = L' ';
		i += n;
	}
	*o = L'\0';
	return w;
}

static void
line_free(struct tui_line *l)
{
	if (l->text != NULL)
		OPENSSL_clear_free(l->text, (wcslen(l->text) + 1) *
		    sizeof(wchar_t));
	l->text = NULL;
}

/* Append text (owned) to w, dropping the oldest line when full. */
static void
win_append(struct tui_win *w, wchar_t *text, enum tui_attr attr)
{
	if (w->n == TUI_SCROLLBACK) {
		line_free(&w->lines[0]);
		memmove(w->lines, w->lines + 1, (w->n - 1) * sizeof(*w->lines));
		w->n--;
	}
	memset(&w->lines[w->n], 0, sizeof(w->lines[w->n]));
	w->lines[w->n].text = text;
	w->lines[w->n].attr = attr;
	w->n++;
}

void
tui_line_mid(struct tui_win *w, const uint8_t *mid)
{
	if (w->n > 0 && w->lines[w->n - 1].attr == TA_OWN && mid != NULL)
		memcpy(w->lines[w->n - 1].mid, mid, SESSION_MID_LEN);
}

/* Line l of ours gets its second tick (it ends with the first). */
static void
line_tick(struct tui_line *l)
{
	size_t len = wcslen(l->text);
	wchar_t *text;

	if (len == 0 || l->text[len - 1] != L'\u2713' ||
	    (len > 1 && l->text[len - 2] == L'\u2713') ||
	    (text = calloc(len + 2, sizeof(*text))) == NULL)
		return;
	wmemcpy(text, l->text, len);
	text[len] = L'\u2713';
	line_free(l);
	l->text = text;
}

void
tui_delivered(struct tui *t, const uint8_t *mid)
{
	struct tui_line *l;
	size_t i, j;

	for (i = 0; i < t->nwin; i++) {
		for (j = t->win[i]->n; j > 0; j--) {
			l = &t->win[i]->lines[j - 1];
			if (l->attr == TA_OWN &&
			    memcmp(l->mid, mid, SESSION_MID_LEN) == 0) {
				line_tick(l);
				t->redraw = 1;
				return;
			}
		}
	}
}

void
tui_say(struct tui *t, struct tui_win *w, enum tui_attr attr,
    const char *fmt, ...)
{
	char buf[8192];
	wchar_t *text;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)text_sanitize(buf, 1);
	text = widen(buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (text == NULL)
		return;
	win_append(w, text, attr);
	if (t->win[t->cur] != w && (attr == TA_CHAT || attr == TA_ERROR))
		w->unread++;
	t->redraw = 1;
}

/* The last TUI_HISTORY_LINES history records of w's conversation. */
static void
win_history(struct tui *t, struct tui_win *w)
{
	const struct history_record *r;
	size_t i, n, start, shown = 0;
	char when[TUI_CLOCK_MAX];

	if (t->a->history == NULL)
		return;
	start = n = history_count(t->a->history);
	for (i = n; i > 0 && shown < TUI_HISTORY_LINES; i--) {
		if (strcmp(history_get(t->a->history, i - 1)->conv,
		    w->name) == 0) {
			shown++;
			start = i - 1;
		}
	}
	for (i = start; i < n; i++) {
		r = history_get(t->a->history, i);
		if (strcmp(r->conv, w->name) != 0)
			continue;
		tui_clock(r->time_ms, when);
		tui_say(t, w, TA_OLD, "%s <%s%s> %s", when, r->nickname,
		    r->verified ? " \xe2\x9c\x93" : "", r->text);
	}
	if (shown > 0)
		tui_say(t, w, TA_NOTICE, "*** %zu earlier message%s from the "
		    "history", shown, shown == 1 ? "" : "s");
	w->unread = 0;
}

struct tui_win *
tui_win_find(struct tui *t, const char *conv, size_t *idx)
{
	size_t i;

	for (i = 0; i < t->nwin; i++) {
		if (strcmp(t->win[i]->name, conv) == 0) {
			if (idx != NULL)
				*idx = i;
			return t->win[i];
		}
	}
	return NULL;
}

struct tui_win *
tui_win_open(struct tui *t, const char *conv)
{
	struct tui_win *w, **v;

	if ((w = tui_win_find(t, conv, NULL)) != NULL)
		return w;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant */
	if ((v = reallocarray(t->win, t->nwin + 1, sizeof(*v))) == NULL)
		return NULL;
	t->win = v;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->lines = calloc(TUI_SCROLLBACK, sizeof(*w->lines))) == NULL) {
		free(w);
		return NULL;
	}
	(void)snprintf(w->name, sizeof(w->name), "%s", conv);
	t->win[t->nwin++] = w;
	win_history(t, w);
	t->redraw = 1;
	return w;
}

static void
win_free(struct tui_win *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		line_free(&w->lines[i]);
	free(w->lines);
	tui_members_clear(w);
	free(w);
}

void
tui_win_close(struct tui *t, size_t idx)
{
	size_t after = t->nwin - idx - 1;

	if (idx == 0 || idx >= t->nwin)
		return;
	win_free(t->win[idx]);
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant */
	memmove(t->win + idx, t->win + idx + 1, after * sizeof(*t->win));
	t->nwin--;
	if (t->cur >= idx && t->cur > 0)
		t->cur--;
	tui_win_show(t, t->cur);
}

void
tui_win_show(struct tui *t, size_t idx)
{
	if (idx >= t->nwin)
		return;
	t->cur = idx;
	t->win[idx]->unread = 0;
	t->redraw = 1;
	/* A restart comes back to the conversation (not to status). */
	if (t->win[idx]->name[0] != '\0')
		app_set_current(t->a, t->win[idx]->name);
}

static struct tui_member *
member_find(struct tui_win *w, const char *user)
{
	size_t i;

	for (i = 0; i < w->nmem; i++)
		if (strcmp(w->mem[i].user, user) == 0)
			return &w->mem[i];
	return NULL;
}

void
tui_member_add(struct tui_win *w, const char *user, const char *nick)
{
	struct tui_member *m, *v;

	if (member_find(w, user) != NULL)
		return;
	if ((v = reallocarray(w->mem, w->nmem + 1, sizeof(*v))) == NULL)
		return;
	w->mem = v;
	m = &w->mem[w->nmem];
	if ((m->nick = strdup(nick)) == NULL)
		return;
	(void)text_sanitize(m->nick, 0);
	(void)snprintf(m->user, sizeof(m->user), "%s", user);
	w->nmem++;
}

void
tui_member_remove(struct tui_win *w, const char *user)
{
	struct tui_member *m = member_find(w, user);

	if (m == NULL)
		return;
	free(m->nick);
	*m = w->mem[--w->nmem];
}

int
tui_member_state(const struct tui *t, const char *conv, const char *user)
{
	size_t online;

	if (session_user_devices(t->s, conv, user, &online) == 0)
		return -1;
	return online > 0;
}

void
tui_members_clear(struct tui_win *w)
{
	size_t i;

	for (i = 0; i < w->nmem; i++)
		free(w->mem[i].nick);
	free(w->mem);
	w->mem = NULL;
	w->nmem = 0;
}

void
tui_unverified_add(struct tui *t, const char *user)
{
	size_t i;

	for (i = 0; i < t->nunverified; i++)
		if (strcmp(t->unverified[i], user) == 0)
			return;
	if (t->nunverified == TUI_UNVERIFIED)
		return;
	(void)snprintf(t->unverified[t->nunverified++],
	    sizeof(t->unverified[0]), "%s", user);
	t->redraw = 1;
}

void
tui_unverified_remove(struct tui *t, const char *user)
{
	size_t i;

	for (i = 0; i < t->nunverified; i++) {
		if (strcmp(t->unverified[i], user) == 0) {
			memcpy(t->unverified[i], t->unverified[--t->nunverified],
			    sizeof(t->unverified[0]));
			t->redraw = 1;
			return;
		}
	}
}

void
tui_recall_add(struct tui *t, const wchar_t *line, size_t len)
{
	wchar_t *copy;

	if (len == 0 || (copy = calloc(len + 1, sizeof(*copy))) == NULL)
		return;
	wmemcpy(copy, line, len);
	if (t->nrecall == TUI_RECALL) {
		OPENSSL_clear_free(t->recall[0], (wcslen(t->recall[0]) + 1) *
		    sizeof(wchar_t));
		memmove(t->recall, t->recall + 1,
		    (TUI_RECALL - 1) * sizeof(*t->recall));
		t->nrecall--;
	}
	t->recall[t->nrecall++] = copy;
	t->rpos = t->nrecall;
}

void
tui_model_free(struct tui *t)
{
	size_t i;

	for (i = 0; i < t->nwin; i++)
		win_free(t->win[i]);
	free(t->win);
	t->win = NULL;
	t->nwin = 0;
	for (i = 0; i < t->nrecall; i++)
		OPENSSL_clear_free(t->recall[i], (wcslen(t->recall[i]) + 1) *
		    sizeof(wchar_t));
	t->nrecall = 0;
	free(t->list);
	t->list = NULL;
	OPENSSL_cleanse(t->input, sizeof(t->input));
}
