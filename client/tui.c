/*
 * The terminal UI (missive --tui): ncursesw drawing, the keyboard, and the
 * poll loop around the client core.
 *
 * The screen is drawn from the model (client/tui_int.h) after every round
 * of the loop that changed it, the input line last with the cursor in it:
 * an incoming message only changes the model, so it cannot garble a line
 * being typed.  Layout, top to bottom: the window bar (numbers, names,
 * unread counts), the messages (with the member list on the right in a
 * room when the terminal is wide enough), the status line, the input line.
 */
/* A feature test macro (not ours to name): wcwidth(), and ncurses' wide
   characters. */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _XOPEN_SOURCE 700
#define NCURSES_WIDECHAR 1

#include <curses.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include <openssl/crypto.h>

#include "client/cmd.h"
#include "client/tui.h"
#include "client/tui_int.h"

#define MEMBERS_W 22            /* member list width, with its border */
#define MEMBERS_MIN_COLS 60     /* narrower: no member list */
#define KEY_CTRL(c) ((c) & 0x1f)

enum {
	PAIR_BAR = 1,
	PAIR_NOTICE,
	PAIR_ERROR,
	PAIR_OWN,
	PAIR_OLD,
};

/* ---- drawing ---- */

static int
line_attr(enum tui_attr a)
{
	switch (a) {
	case TA_OWN:
		return COLOR_PAIR(PAIR_OWN);
	case TA_NOTICE:
		return COLOR_PAIR(PAIR_NOTICE);
	case TA_ERROR:
		return COLOR_PAIR(PAIR_ERROR) | A_BOLD;
	case TA_OLD:
		return COLOR_PAIR(PAIR_OLD) | A_DIM;
	default:
		return A_NORMAL;
	}
}

static int
wc_width(wchar_t c)
{
	int w = wcwidth(c);

	return w < 0 ? 1 : w;
}

/* Screen rows text takes at width cols. */
static int
rows_of(const wchar_t *text, int cols)
{
	int rows = 1, x = 0, w;

	for (; *text != L'\0'; text++) {
		w = wc_width(*text);
		if (x + w > cols) {
			rows++;
			x = 0;
		}
		x += w;
	}
	return rows;
}

/*
 * Draw text from screen row y on, wrapped at cols, skipping its first
 * skip rows and stopping before row ymax.
 */
static void
draw_wrapped(const wchar_t *text, int y, int ymax, int cols, int skip,
    int attr)
{
	int row = 0, x = 0, w;

	attron(attr);
	for (; *text != L'\0'; text++) {
		w = wc_width(*text);
		if (x + w > cols) {
			row++;
			x = 0;
		}
		if (row >= skip && y + row - skip < ymax) {
			if (w > 0)
				(void)mvaddnwstr(y + row - skip, x, text, 1);
		}
		x += w;
	}
	attroff(attr);
}

/* Keep the scrollback offset of w within its lines (height rows shown). */
static void
clamp_scroll(struct tui_win *w, int height, int cols)
{
	size_t total = 0, i;

	for (i = 0; i < w->n; i++)
		total += (size_t)rows_of(w->lines[i].text, cols);
	if (total <= (size_t)height)
		w->scroll = 0;
	else if (w->scroll > total - (size_t)height)
		w->scroll = total - (size_t)height;
}

/* The messages of the shown window, bottom up, in rows top..bottom-1. */
static void
draw_lines(struct tui *t, int top, int bottom, int cols)
{
	struct tui_win *w = t->win[t->cur];
	int y = bottom, rows, skip, i;

	clamp_scroll(w, bottom - top, cols);
	skip = (int)w->scroll;
	for (i = (int)w->n - 1; i >= 0 && y > top; i--) {
		rows = rows_of(w->lines[i].text, cols);
		if (skip >= rows) {
			skip -= rows;
			continue;
		}
		rows -= skip;
		skip = 0;
		y -= rows;
		draw_wrapped(w->lines[i].text, y < top ? top : y, bottom, cols,
		    y < top ? top - y : 0, line_attr(w->lines[i].attr));
	}
}

/* The members, those whose devices are all offline dimmed "(off)". */
static void
draw_members(const struct tui *t, struct tui_win *w, int top, int bottom)
{
	int x = COLS - MEMBERS_W, y, off;
	size_t i;

	for (y = top; y < bottom; y++)
		(void)mvaddch(y, x, ACS_VLINE);
	(void)mvprintw(top, x + 2, "%zu member%s", w->nmem,
	    w->nmem == 1 ? "" : "s");
	for (i = 0; i < w->nmem && top + 1 + (int)i < bottom; i++) {
		off = tui_member_state(t, w->name, w->mem[i].user) == 0;
		if (off)
			attron(A_DIM);
		(void)mvprintw(top + 1 + (int)i, x + 2, "%.*s%s",
		    MEMBERS_W - (off ? 9 : 3), w->mem[i].nick,
		    off ? " (off)" : "");
		if (off)
			attroff(A_DIM);
	}
}

static void
draw_bar(struct tui *t)
{
	struct tui_win *w;
	size_t i;

	attron(COLOR_PAIR(PAIR_BAR));
	(void)mvhline(0, 0, ' ', COLS);
	(void)move(0, 0);
	for (i = 0; i < t->nwin; i++) {
		w = t->win[i];
		if (i == t->cur)
			attron(A_BOLD);
		(void)printw("%s%zu:%s%s", i > 0 ? " " : "", i + 1,
		    w->name[0] == '\0' ? "status" : w->name[0] == '@' ? "" :
		    "#", w->name);
		if (w->unread > 0)
			(void)printw("(%d)", w->unread);
		if (i == t->cur)
			attroff(A_BOLD);
	}
	attroff(COLOR_PAIR(PAIR_BAR));
}

static void
draw_status(struct tui *t, int y)
{
	size_t i;

	attron(COLOR_PAIR(PAIR_BAR));
	(void)mvhline(y, 0, ' ', COLS);
	(void)mvprintw(y, 0, "[%s@%s] [%s] ", t->a->cfg.user,
	    t->a->cfg.server_host, t->conn);
	if (t->key_mismatch)
		(void)printw("[SERVER KEY MISMATCH] ");
	else if (t->server_fp[0] != '\0')
		(void)printw("[server key pinned %.19s...] ", t->server_fp);
	if (t->nunverified > 0) {
		(void)printw("[unverified:");
		for (i = 0; i < t->nunverified; i++)
			(void)printw(" %s", t->unverified[i]);
		(void)printw("]");
	}
	if (t->win[t->cur]->scroll > 0)
		(void)printw(" [scrolled: PgDn]");
	attroff(COLOR_PAIR(PAIR_BAR));
}

/* The input line; leaves the cursor at the editing position. */
static void
draw_input(struct tui *t, int y)
{
	struct tui_win *w = t->win[t->cur];
	char prompt[E2E_CONV_MAX + 16];
	int plen, avail, width = 0;
	size_t start = 0, i;

	(void)snprintf(prompt, sizeof(prompt), "[%s%s] ",
	    w->name[0] == '\0' ? "status" : w->name[0] == '@' ? "" : "#",
	    w->name);
	(void)mvaddstr(y, 0, prompt);
	plen = (int)strlen(prompt);
	avail = COLS - plen - 1;
	if (avail < 1)
		return;
	/* Scroll the line so that the cursor shows. */
	for (i = t->pos; i > 0 && width + wc_width(t->input[i - 1]) <= avail;
	    i--)
		width += wc_width(t->input[i - 1]);
	start = i;
	/* As much of the rest as fits. */
	for (width = 0; i < t->len && width + wc_width(t->input[i]) <= avail;
	    i++)
		width += wc_width(t->input[i]);
	(void)addnwstr(t->input + start, (int)(i - start));
	(void)clrtoeol();
	width = 0;
	for (i = start; i < t->pos; i++)
		width += wc_width(t->input[i]);
	(void)move(y, plen + width);
}

static void
draw(struct tui *t)
{
	int cols = COLS, bottom = LINES - 2;
	struct tui_win *w = t->win[t->cur];

	(void)erase();
	if (LINES < 4 || COLS < 10) {
		(void)mvaddstr(0, 0, "terminal too small");
		(void)refresh();
		return;
	}
	draw_bar(t);
	if (w->name[0] != '\0' && w->name[0] != '@' &&
	    COLS >= MEMBERS_MIN_COLS) {
		cols = COLS - MEMBERS_W;
		draw_members(t, w, 1, bottom);
	}
	draw_lines(t, 1, bottom, cols);
	draw_status(t, bottom);
	draw_input(t, bottom + 1);
	(void)refresh();
	t->redraw = 0;
}

/* ---- the keyboard ---- */

/* The input line, as UTF-8, to the core; the line is then cleared. */
static void
submit(struct tui *t)
{
	size_t cap = t->len * MB_LEN_MAX + 1, n;
	char *line;

	tui_recall_add(t, t->input, t->len);
	t->input[t->len] = L'\0';
	if ((line = calloc(1, cap)) == NULL)
		return;
	n = wcstombs(line, t->input, cap);
	t->len = t->pos = 0;
	OPENSSL_cleanse(t->input, sizeof(t->input));
	if (n != (size_t)-1)
		tui_input_line(t, line);
	OPENSSL_clear_free(line, cap);
}

static void
recall(struct tui *t, int dir)
{
	const wchar_t *r;

	if ((dir < 0 && t->rpos == 0) || (dir > 0 && t->rpos >= t->nrecall))
		return;
	t->rpos = dir < 0 ? t->rpos - 1 : t->rpos + 1;
	r = t->rpos < t->nrecall ? t->recall[t->rpos] : L"";
	t->len = t->pos = wcslen(r);
	wmemcpy(t->input, r, t->len);
}

static void
insert_char(struct tui *t, wchar_t c)
{
	if (t->len >= TUI_INPUT_MAX || c < L' ' || c == 0x7f ||
	    (c >= 0x80 && c < 0xa0))
		return;
	wmemmove(t->input + t->pos + 1, t->input + t->pos, t->len - t->pos);
	t->input[t->pos++] = c;
	t->len++;
}

static void
delete_at(struct tui *t, size_t at, size_t n)
{
	wmemmove(t->input + at, t->input + at + n, t->len - at - n);
	t->len -= n;
	t->pos = at;
}

/* Ctrl-W: the word before the cursor. */
static void
delete_word(struct tui *t)
{
	size_t i = t->pos;

	while (i > 0 && t->input[i - 1] == L' ')
		i--;
	while (i > 0 && t->input[i - 1] != L' ')
		i--;
	delete_at(t, i, t->pos - i);
}

static void
scroll_page(struct tui *t, int dir)
{
	struct tui_win *w = t->win[t->cur];
	size_t page = LINES > 6 ? (size_t)LINES - 5 : 1;

	if (dir < 0)
		w->scroll += page;
	else
		w->scroll = w->scroll > page ? w->scroll - page : 0;
}

/* Keys with a name (KEY_*), and control characters. */
static void
key_code(struct tui *t, wint_t k)
{
	switch (k) {
	case KEY_ENTER: case L'\r': case L'\n':
		submit(t);
		break;
	case KEY_BACKSPACE: case 0x7f: case KEY_CTRL('H'):
		if (t->pos > 0)
			delete_at(t, t->pos - 1, 1);
		break;
	case KEY_DC: case KEY_CTRL('D'):
		if (t->pos < t->len)
			delete_at(t, t->pos, 1);
		break;
	case KEY_LEFT: case KEY_CTRL('B'):
		t->pos -= t->pos > 0;
		break;
	case KEY_RIGHT: case KEY_CTRL('F'):
		t->pos += t->pos < t->len;
		break;
	case KEY_HOME: case KEY_CTRL('A'):
		t->pos = 0;
		break;
	case KEY_END: case KEY_CTRL('E'):
		t->pos = t->len;
		break;
	case KEY_CTRL('U'):
		delete_at(t, 0, t->pos);
		break;
	case KEY_CTRL('W'):
		delete_word(t);
		break;
	case KEY_UP:
		recall(t, -1);
		break;
	case KEY_DOWN:
		recall(t, 1);
		break;
	case KEY_PPAGE:
		scroll_page(t, -1);
		break;
	case KEY_NPAGE:
		scroll_page(t, 1);
		break;
	case KEY_CTRL('N'):
		tui_win_show(t, (t->cur + 1) % t->nwin);
		break;
	case KEY_CTRL('P'):
		tui_win_show(t, (t->cur + t->nwin - 1) % t->nwin);
		break;
	case KEY_CTRL('L'):
		(void)clearok(curscr, TRUE);
		break;
	default:
		break;
	}
}

/* Read every key waiting.  Alt-digit arrives as ESC then the digit. */
static void
keyboard(struct tui *t)
{
	wint_t k;
	int r;

	while ((r = get_wch(&k)) != ERR) {
		t->redraw = 1;
		if (r == KEY_CODE_YES || k < L' ' || k == 0x7f) {
			t->esc = k == 0x1b;
			if (!t->esc)
				key_code(t, k);
			continue;
		}
		if (t->esc && k >= L'1' && k <= L'9')
			tui_win_show(t, (size_t)(k - L'1'));
		else
			insert_char(t, (wchar_t)k);
		t->esc = 0;
	}
}

/* ---- the loop ---- */

static int
poll_ms(struct tui *t)
{
	int64_t now = session_clock_ms(), a, b;

	a = session_timeout(t->s, now);
	b = app_save_timeout(t->a, t->s, now);
	if (a < 0 || (b >= 0 && b < a))
		a = b;
	return a < 0 || a > INT_MAX ? -1 : (int)a;
}

static void
save(struct tui *t, int force)
{
	char err[512];

	if (app_save(t->a, t->s, session_clock_ms(), force, err,
	    sizeof(err)) != 0)
		tui_say(t, t->win[0], TA_ERROR, "!!! %s", err);
}

static int
loop(struct tui *t)
{
	struct pollfd pfd[2];
	int n, fd;

	session_start(t->s, session_clock_ms());
	while (session_end(t->s) == SESSION_RUNNING) {
		if (t->redraw)
			draw(t);
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		n = 1;
		if ((fd = session_fd(t->s)) >= 0) {
			pfd[1].fd = fd;
			pfd[1].events = session_events(t->s);
			n = 2;
		}
		pfd[1].revents = 0;
		/* EINTR (SIGWINCH): get_wch() then returns KEY_RESIZE. */
		if (poll(pfd, (nfds_t)n, poll_ms(t)) < 0 && errno != EINTR)
			return -1;
		if (n == 2 && pfd[1].revents != 0)
			session_handle(t->s, pfd[1].revents, session_clock_ms());
		if (session_end(t->s) == SESSION_RUNNING)
			keyboard(t);
		session_tick(t->s, session_clock_ms());
		save(t, 0);
	}
	return 0;
}

static void
colors(void)
{
	if (!has_colors() || start_color() == ERR)
		return;
	(void)use_default_colors();
	(void)init_pair(PAIR_BAR, COLOR_WHITE, COLOR_BLUE);
	(void)init_pair(PAIR_NOTICE, COLOR_CYAN, -1);
	(void)init_pair(PAIR_ERROR, COLOR_RED, -1);
	(void)init_pair(PAIR_OWN, COLOR_GREEN, -1);
	(void)init_pair(PAIR_OLD, -1, -1);
}

static int
screen_start(void)
{
	if (setlocale(LC_ALL, "") == NULL)
		(void)fprintf(stderr, "missive: warning: the locale is not "
		    "set; non-ASCII text may not show\n");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		(void)fprintf(stderr, "missive: --tui needs a terminal\n");
		return -1;
	}
	if (initscr() == NULL)
		return -1;
	(void)cbreak();
	(void)noecho();
	(void)nonl();
	(void)keypad(stdscr, TRUE);
	(void)nodelay(stdscr, TRUE);
	(void)set_escdelay(25);
	colors();
	return 0;
}

/* After an end other than a quit: show why until a key is pressed. */
static void
show_end(struct tui *t)
{
	wint_t k;

	tui_say(t, t->win[0], TA_NOTICE, "*** the session ended: press a "
	    "key to leave");
	tui_win_show(t, 0);
	draw(t);
	(void)nodelay(stdscr, FALSE);
	(void)get_wch(&k);
}

int
tui_main(struct app *a)
{
	struct tui t;
	int status;

	memset(&t, 0, sizeof(t));
	t.a = a;
	(void)snprintf(t.conn, sizeof(t.conn), "starting");
	if (tui_win_open(&t, "") == NULL)
		return 1;
	if (a->history == NULL)
		tui_say(&t, t.win[0], TA_ERROR, "!!! the history did not open:"
		    " this session's messages are not kept");
	if (app_session(a, tui_on_event, &t, &t.s) != 0 ||
	    screen_start() != 0) {
		session_free(t.s);
		tui_model_free(&t);
		return 1;
	}
	tui_say(&t, t.win[0], TA_NOTICE, "*** missive: /help lists the "
	    "commands and keys");
	t.redraw = 1;
	status = loop(&t) != 0 ? 1 : cmd_exit_status(session_end(t.s));
	save(&t, 1);
	if (status != 0)
		show_end(&t);
	(void)endwin();
	if (status != 0 && t.win[0]->n > 0)
		(void)fprintf(stderr, "missive: the session ended (%d)\n",
		    status);
	session_free(t.s);
	tui_model_free(&t);
	return status;
}
