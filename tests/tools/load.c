/*
 * load: many missive clients in one process, for the load and hygiene
 * tests.  Every client is a client core (client/session.h) on its own TCP
 * connection: real handshakes, real logins, end-to-end encrypted chat.
 * This tool speaks no protocol of its own.
 *
 *   load -c CONF -k KEYDIR -K KNOWNDIR [-u PREFIX]
 *        [-n N] [-m M] [-g G] [-s SIZE] [--ramp R] [--timeout SECS]
 *        [--inject-faults]
 *   load -c CONF -k KEYDIR -K KNOWNDIR [-u PREFIX]
 *        [-n N] --cycles C [--parallel P] [--login-every L]
 *        [--abort-every A]
 *
 * CONF is any client folder's client.conf: the server, its pinned key,
 * max_frame, keepalive.  The clients are the accounts of
 * tests/tools/load.h (tests/tools/load-setup makes them): PREFIX00001
 * with the key KEYDIR/00001.key and so on, and the login secret
 * load-setup cached in KEYDIR/00001.login (no Argon2id here), each with
 * KNOWNDIR/<user> as its known_keys (use a fresh directory).
 *
 * Chat mode.  N clients (default 200) log in, at most R (default 8) at a
 * time.  Each leaves the lobby (where every member would hand every other
 * one its key: O(N^2) keys and RSA operations) and joins its room: account
 * i is in room "load<k>-<pid>", k = (i - 1) / G + 1 (the process id: the
 * memberships of an earlier run last), G members per room (default
 * 10; the last room may be smaller).  Once every room is complete, each
 * client sends M (default 20) numbered lines of SIZE bytes (default 64)
 * into its room, and every other member must get each exactly once, in
 * the sender's order.  The tool waits until all have arrived, or until
 * nothing has happened for SECS seconds (default 60), then quits every
 * client and counts what arrived until each connection was closed, so a
 * late duplicate counts too.  The last lines are
 *
 *   sent S, delivered D, lost L, duplicated U, reordered R
 *   time T s, X msgs/s sent, Y msgs/s delivered
 *
 * D counts receptions; the expected count is the sum over senders of
 * M x (members - 1).  A line is reordered if it arrives after a later one
 * of its sender.  T runs from the first send to the last delivery.
 * --inject-faults (M at least 5) checks the checker: account 1 leaves out
 * its line 1, sends line 2 twice and line 4 before line 3, which its G - 1
 * room mates must each count as lost, duplicated and reordered.
 *
 * Cycle mode (--cycles).  C connections one after the other, P (default
 * 50) at a time, over the N accounts in turn: each does a full handshake;
 * every L-th (default 1: all; 0: none) also logs in, is put in the lobby
 * and quits (0003, the server's goodbye).  Of the others, every A-th
 * (default 0: none) closes the connection as soon as its login request
 * is out, while the server is still checking the password; the rest quit
 * right after the handshake, before logging in.
 *
 * Exit status: 0 if every client logged in and nothing was lost,
 * duplicated or reordered (chat), or every cycle completed (cycles), and
 * nothing else went wrong (a refused login, a lost connection, an error
 * from the server or the client core, an unreadable message); 1
 * otherwise; 2 usage.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "client/config.h"
#include "client/session.h"
#include "common/err.h"
#include "common/proto.h"
#include "common/secret.h"
#include "common/text.h"
#include "keydist/keys.h"
#include "tests/tools/load.h"

#define PROG "load"
#define REPORT_MAX 5            /* problems of one kind printed in full */
#define SEND_BATCH 16           /* clients that send in one loop pass */
#define TICK_MS 100             /* longest poll: phases, stall check */
#define ROOM_MAX 32
#define TEXT_MIN 32             /* room for "load <i> <seq>" */
#define TEXT_MAX 4096

enum phase {
	PH_LOGIN,       /* logging in and joining the rooms */
	PH_SEND,        /* every room is complete: sending */
	PH_WAIT,        /* all sent: waiting for the deliveries */
	PH_QUIT,        /* quitting every client */
	PH_OVER,
};

/* What can go wrong, apart from lost, duplicated and reordered lines. */
enum problem {
	PB_ENDED,       /* a session ended by itself (refused login, ...) */
	PB_LOST,        /* a connection was lost */
	PB_SERVER,      /* 1009, or a 1010 we did not ask for */
	PB_CLIENT,      /* an error event of the client core */
	PB_UNREADABLE,  /* a message or sender key that did not open */
	PB_STRAY,       /* a line that is not one of ours, or misplaced */
	PB_KEY,         /* a peer key that is not the pinned one */
	PB_ROOM,        /* a member left a room during the run */
	PB_COUNT
};

static const char *const problem_names[PB_COUNT] = {
	"sessions ended", "connections lost", "server errors",
	"client errors", "unreadable", "stray lines", "changed keys",
	"room departures",
};

/* What a cycle does after its handshake. */
enum cycle_kind {
	CY_HANDSHAKE,   /* quit before logging in */
	CY_LOGIN,       /* log in, quit */
	CY_ABORT,       /* send the login, close without waiting */
};

struct load;

struct client {
	struct load *ld;
	struct session *s;              /* NULL: free slot (cycle mode) */
	unsigned idx;                   /* account number, from 1 */
	char user[NAME_USER_MAX + 1];
	/* chat mode */
	char room[ROOM_MAX + 1];
	unsigned first, gsize;          /* the room's first account, size */
	int logged_in, left_lobby, in_room, ready, quitting;
	int saw_lobby;                  /* listed in the lobby at login */
	long long peers;                /* other members in the room */
	unsigned *hi;                   /* per sender in the room: highest
	                                   sequence number seen + 1 */
	uint8_t *seen;                  /* per sender: M bits */
	/* cycle mode */
	enum cycle_kind kind;
	int abort_now;                  /* CY_ABORT: the login is out */
};

struct load {
	/* options */
	const char *keydir, *knowndir, *prefix;
	unsigned n, m, g, size, ramp, timeout_s;
	int inject;                     /* --inject-faults */
	unsigned long cycles;
	unsigned parallel, login_every, abort_every;
	struct client_config tmpl;      /* CONF, loaded */
	char **secrets;                 /* [n]: account i's login secret */
	EVP_PKEY *server_key;
	EVP_PKEY **keys;                /* [n], account i's at i - 1 */

	struct client *cl;              /* [nslots] */
	size_t nslots;
	struct pollfd *pfd;             /* [nslots] */
	size_t *who;                    /* pfd[k] is cl[who[k]]'s */

	enum phase phase;
	int64_t t0, t_logged, t_ready, t_first_send, t_sent, t_last;
	int64_t progress_ms;            /* when something last happened */
	int stalled;                    /* gave up waiting */
	unsigned started, logged_in, ready, next_sender;
	unsigned long long sent, delivered, distinct, duplicated,
	    reordered, expected;
	unsigned long problems[PB_COUNT];
	/* cycle mode */
	unsigned long next_cycle, cycles_ok, cycles_failed, logins, aborts;
	unsigned long others;           /* cycles that did not log in */
};

static void __attribute__((noreturn))
usage(void)
{
	(void)fprintf(stderr,
	    "usage: " PROG " -c CONF -k KEYDIR -K KNOWNDIR "
	    "[-u PREFIX] [-n N]\n"
	    "            [-m M] [-g G] [-s SIZE] [--ramp R] "
	    "[--timeout SECS] [--inject-faults]\n"
	    "       " PROG " -c CONF -k KEYDIR -K KNOWNDIR "
	    "[-u PREFIX] [-n N]\n"
	    "            --cycles C [--parallel P] [--login-every L] "
	    "[--abort-every A]\n");
	exit(2);
}

static void
progress(struct load *ld)
{
	ld->progress_ms = session_clock_ms();
}

/* Count a problem; print the first few of each kind. */
static void __attribute__((format(printf, 3, 4)))
problem(struct client *c, enum problem kind, const char *fmt, ...)
{
	va_list ap;

	if (c->ld->problems[kind]++ >= REPORT_MAX)
		return;
	(void)fprintf(stderr, PROG ": %s: ", c->user);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

static const char *
str(const char *s)
{
	return s != NULL ? s : "";
}

/* ---- chat mode: what arrives ---- */

static void
check_ready(struct client *c)
{
	if (c->ready || !c->logged_in || !c->left_lobby || !c->in_room ||
	    c->peers != (long long)c->gsize - 1)
		return;
	c->ready = 1;
	c->ld->ready++;
	progress(c->ld);
}

/* The sender's account number and the sequence number of a line. */
static int
parse_line(const char *text, unsigned *from, unsigned *seq)
{
	unsigned long a, b;
	char *end;

	if (strncmp(text, "load ", 5) != 0 || !isdigit((unsigned char)text[5]))
		return -1;
	errno = 0;
	a = strtoul(text + 5, &end, 10);
	if (errno != 0 || a > UINT_MAX || end[0] != ' ' ||
	    !isdigit((unsigned char)end[1]))
		return -1;
	b = strtoul(end + 1, &end, 10);
	if (errno != 0 || b > UINT_MAX)
		return -1;
	*from = (unsigned)a;
	*seq = (unsigned)b;
	return 0;
}

/* One chat line arrived at c: count it. */
static void
on_chat(struct client *c, const struct session_event *ev)
{
	struct load *ld = c->ld;
	char sender[NAME_USER_MAX + 1];
	unsigned from, seq, pos;
	size_t bit;

	if (parse_line(ev->text, &from, &seq) != 0 ||
	    from < c->first || from >= c->first + c->gsize ||
	    from == c->idx || seq >= ld->m ||
	    strcmp(ev->room, c->room) != 0 ||
	    load_user(sender, sizeof(sender), ld->prefix, from) != 0 ||
	    strcmp(ev->user, sender) != 0) {
		problem(c, PB_STRAY, "unexpected line in %s from %s: %.40s",
		    ev->room, ev->user, ev->text);
		return;
	}
	ld->delivered++;
	pos = from - c->first;
	bit = (size_t)pos * ld->m + seq;
	if (c->seen[bit / 8] & (1u << (bit % 8))) {
		ld->duplicated++;
		return;
	}
	c->seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
	ld->distinct++;
	if (seq + 1 < c->hi[pos])
		ld->reordered++;
	else
		c->hi[pos] = seq + 1;
	ld->t_last = session_clock_ms();
	progress(ld);
}

static void
on_joined(struct client *c, const struct session_event *ev)
{
	if (strcmp(ev->room, c->room) == 0) {
		/* Every member's device, online or not: what is sent to
		   one offline now waits in its inbox. */
		c->in_room = 1;
		c->peers = ev->count;
		check_ready(c);
		return;
	}
	if (strcmp(ev->room, PROTO_LOBBY) != 0)
		return;
	c->saw_lobby = 1;
	/* Out of the lobby, into our room; a refusal is an error event. */
	if (session_leave(c->s, PROTO_LOBBY) != 0 ||
	    session_join(c->s, c->room) != 0)
		return;
}

static void
on_presence(struct client *c, const struct session_event *ev)
{
	if (strcmp(ev->room, c->room) != 0)
		return;
	if (ev->kind == SESSION_EV_JOIN) {
		/* ADD (a device of a member, offline) changes nothing here. */
		c->peers += ev->online == 1;
		check_ready(c);
		return;
	}
	c->peers--;
	if (!c->quitting)
		problem(c, PB_ROOM, "%s left %s (%s)", ev->user, ev->room,
		    str(ev->code));
}

static void
chat_event(struct client *c, const struct session_event *ev)
{
	switch (ev->kind) {
	case SESSION_EV_LOGGED_IN:
		if (!c->logged_in) {
			c->logged_in = 1;
			c->ld->logged_in++;
			progress(c->ld);
		}
		break;
	case SESSION_EV_JOINED:
		on_joined(c, ev);
		break;
	case SESSION_EV_LEFT:
		if (strcmp(ev->room, PROTO_LOBBY) == 0)
			c->left_lobby = 1;
		check_ready(c);
		break;
	case SESSION_EV_BACKLOG_END:
		/* Every room of the account is listed by now: from an earlier
		   run it may be out of the lobby and in its room already. */
		if (!c->saw_lobby) {
			c->left_lobby = 1;
			if (!c->in_room && session_join(c->s, c->room) != 0)
				break;
			check_ready(c);
		}
		break;
	case SESSION_EV_JOIN:
	case SESSION_EV_LEAVE:
		on_presence(c, ev);
		break;
	case SESSION_EV_CHAT:
		on_chat(c, ev);
		break;
	default:
		break;
	}
}

/* ---- cycle mode ---- */

static void
cycle_event(struct client *c, const struct session_event *ev)
{
	switch (ev->kind) {
	case SESSION_EV_CONNECTED:
		/* Quitting before the login closes at once. */
		if (c->kind == CY_HANDSHAKE)
			session_quit(c->s, session_clock_ms());
		/* The core sends the login when this returns. */
		c->abort_now = c->kind == CY_ABORT;
		break;
	case SESSION_EV_JOINED:
		if (strcmp(ev->room, PROTO_LOBBY) == 0) {
			c->ld->logins++;
			session_quit(c->s, session_clock_ms());
		}
		break;
	default:
		break;
	}
}

/* ---- both ---- */

static void
on_event(void *arg, const struct session_event *ev)
{
	struct client *c = arg;

	switch (ev->kind) {
	case SESSION_EV_UNREADABLE:
		problem(c, PB_UNREADABLE, "%s", str(ev->text));
		return;
	case SESSION_EV_KEY_CHANGED:
		problem(c, PB_KEY, "%s presented %s, pinned %s", str(ev->user),
		    str(ev->fingerprint), str(ev->pinned));
		return;
	case SESSION_EV_SERVER_ERROR:
		problem(c, PB_SERVER, "server error %s: %s", str(ev->code),
		    str(ev->text));
		return;
	case SESSION_EV_CLOSING:
		/* Cycles log an account in again while its last connection
		   may still be open: the server keeps the newer (one
		   connection per device), as it should. */
		if (strcmp(str(ev->code), "quit") != 0 &&
		    !(c->ld->cycles > 0 && strcmp(str(ev->code),
		    proto_close_word(PROTO_CLOSE_REPLACED)) == 0))
			problem(c, PB_SERVER, "server closing: %s: %s",
			    str(ev->code), str(ev->text));
		return;
	case SESSION_EV_DISCONNECTED:
		problem(c, PB_LOST, "disconnected: %s", str(ev->text));
		return;
	case SESSION_EV_ERROR:
		problem(c, PB_CLIENT, "%s", str(ev->text));
		return;
	case SESSION_EV_FATAL:
		problem(c, PB_ENDED, "session over: %s", str(ev->text));
		return;
	default:
		break;
	}
	if (c->ld->cycles > 0)
		cycle_event(c, ev);
	else
		chat_event(c, ev);
}

/* Make account idx's session in slot c. */
static int
client_new(struct load *ld, struct client *c, unsigned idx)
{
	struct client_config cfg = ld->tmpl;
	char known[PATH_MAX], err[512];
	int r;

	c->ld = ld;
	c->idx = idx;
	if (load_user(c->user, sizeof(c->user), ld->prefix, idx) != 0 ||
	    (size_t)snprintf(known, sizeof(known), "%s/%s", ld->knowndir,
	    c->user) >= sizeof(known)) {
		(void)fprintf(stderr, PROG ": account %u: name too long\n", idx);
		return E_TOO_LONG;
	}
	cfg.user = c->user;
	cfg.known_keys = known;
	if ((r = session_new(&cfg, ld->keys[idx - 1], ld->server_key,
	    ld->secrets[idx - 1], on_event, c, &c->s, err, sizeof(err))) != 0)
		(void)fprintf(stderr, PROG ": %s: %s\n", c->user, err[0] != '\0' ?
		    err : err_str(r));
	return r;
}

/* Poll every live session once and run its timers. */
static int
pump(struct load *ld)
{
	struct client *c;
	int64_t now = session_clock_ms(), t, timeout = TICK_MS;
	size_t i, n = 0;
	int fd;

	for (i = 0; i < ld->nslots; i++) {
		c = &ld->cl[i];
		if (c->s == NULL || session_end(c->s) != SESSION_RUNNING)
			continue;
		if ((fd = session_fd(c->s)) >= 0) {
			ld->pfd[n] = (struct pollfd){ .fd = fd,
			    .events = session_events(c->s) };
			ld->who[n++] = i;
		}
		if ((t = session_timeout(c->s, now)) >= 0 && t < timeout)
			timeout = t;
	}
	if (poll(ld->pfd, (nfds_t)n, (int)timeout) < 0 && errno != EINTR) {
		(void)fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
		return -1;
	}
	now = session_clock_ms();
	for (i = 0; i < n; i++) {
		c = &ld->cl[ld->who[i]];
		if (ld->pfd[i].revents != 0 &&
		    session_end(c->s) == SESSION_RUNNING &&
		    session_fd(c->s) == ld->pfd[i].fd)
			session_handle(c->s, ld->pfd[i].revents, now);
	}
	for (i = 0; i < ld->nslots; i++) {
		c = &ld->cl[i];
		if (c->s != NULL && session_end(c->s) == SESSION_RUNNING)
			session_tick(c->s, session_clock_ms());
	}
	return 0;
}

static double
secs(int64_t from, int64_t to)
{
	return (double)(to - from) / 1000.0;
}

/* ---- chat mode: the run ---- */

/* Slots, rooms and counters for the chat. */
static int
chat_setup(struct load *ld)
{
	struct client *c;
	unsigned i, bytes;

	for (i = 0; i < ld->n; i++) {
		c = &ld->cl[i];
		c->first = i / ld->g * ld->g + 1;
		c->gsize = ld->n - (c->first - 1) < ld->g ?
		    ld->n - (c->first - 1) : ld->g;
		/* Rooms of this run only: memberships outlive a run. */
		(void)snprintf(c->room, sizeof(c->room), "load%u-%u",
		    i / ld->g + 1, (unsigned)getpid() % 100000u);
		bytes = (c->gsize * ld->m + 7) / 8;
		if ((c->hi = calloc(c->gsize, sizeof(*c->hi))) == NULL ||
		    (c->seen = calloc(bytes, 1)) == NULL)
			return E_NOMEM;
		ld->expected += (unsigned long long)(c->gsize - 1) * ld->m;
		if (client_new(ld, c, i + 1) != 0)
			return E_INVALID;
	}
	return 0;
}

/* Start more logins while fewer than ramp are under way. */
static void
start_logins(struct load *ld)
{
	unsigned ended = 0, i;

	for (i = 0; i < ld->started; i++)
		if (!ld->cl[i].logged_in &&
		    session_end(ld->cl[i].s) != SESSION_RUNNING)
			ended++;
	while (ld->started < ld->n &&
	    ld->started - ld->logged_in - ended < ld->ramp) {
		session_start(ld->cl[ld->started].s, session_clock_ms());
		ld->started++;
	}
}

/* "load <i> <seq> " padded with 'x' to size bytes. */
static size_t
make_line(char *buf, unsigned size, unsigned from, unsigned seq)
{
	int n = snprintf(buf, TEXT_MAX, "load %u %u ", from, seq);

	if (n < 0 || (unsigned)n >= size)
		return n < 0 ? 0 : (size_t)n;
	memset(buf + n, 'x', size - (unsigned)n);
	return size;
}

/*
 * Client c sends its M lines.  With --inject-faults, account 1 sends
 * these instead of its first five: line 1 left out, line 2 twice, line 4
 * before line 3.
 */
static void
send_lines(struct load *ld, struct client *c)
{
	static const unsigned faulty[] = { 0, 2, 2, 4, 3 };
	char text[TEXT_MAX + 1];
	unsigned k, seq, nfaulty = 0;
	size_t len;

	if (ld->inject && c->idx == 1)
		nfaulty = sizeof(faulty) / sizeof(faulty[0]);
	for (k = 0; k < ld->m; k++) {
		seq = k < nfaulty ? faulty[k] : k;
		len = make_line(text, ld->size, c->idx, seq);
		/* A refusal is an error event, counted there. */
		if (session_send_chat(c->s, c->room, text, len) == 0)
			ld->sent++;
	}
}

/* Each of the next few clients sends its lines. */
static void
send_some(struct load *ld)
{
	unsigned k;

	if (ld->next_sender == 0)
		ld->t_first_send = session_clock_ms();
	for (k = 0; k < SEND_BATCH && ld->next_sender < ld->n; k++)
		send_lines(ld, &ld->cl[ld->next_sender++]);
	progress(ld);
	if (ld->next_sender == ld->n) {
		ld->t_sent = session_clock_ms();
		ld->phase = PH_WAIT;
	}
}

static unsigned
running(const struct load *ld)
{
	unsigned i, n = 0;

	for (i = 0; i < ld->nslots; i++)
		if (ld->cl[i].s != NULL &&
		    session_end(ld->cl[i].s) == SESSION_RUNNING)
			n++;
	return n;
}

static void
quit_all(struct load *ld)
{
	unsigned i;

	for (i = 0; i < ld->nslots; i++) {
		ld->cl[i].quitting = 1;
		if (ld->cl[i].s != NULL)
			session_quit(ld->cl[i].s, session_clock_ms());
	}
	ld->phase = PH_QUIT;
	progress(ld);
}

/* Move to the next phase when this one is done (or stuck). */
static void
chat_step(struct load *ld)
{
	int64_t now = session_clock_ms();
	int stuck = now - ld->progress_ms > (int64_t)ld->timeout_s * 1000;

	switch (ld->phase) {
	case PH_LOGIN:
		if (ld->logged_in == ld->n && ld->t_logged == 0)
			ld->t_logged = now;
		if (ld->ready == ld->n) {
			ld->t_ready = now;
			ld->phase = PH_SEND;
		} else if (stuck || running(ld) < ld->n) {
			ld->stalled = stuck;
			quit_all(ld);
		} else {
			start_logins(ld);
		}
		break;
	case PH_SEND:
		send_some(ld);
		break;
	case PH_WAIT:
		if (ld->distinct == ld->expected || stuck) {
			ld->stalled = stuck;
			quit_all(ld);
		}
		break;
	case PH_QUIT:
		/* Every session ends within SESSION_QUIT_TIMEOUT_MS. */
		if (running(ld) == 0)
			ld->phase = PH_OVER;
		break;
	case PH_OVER:
		break;
	}
}

static void
print_problems(const struct load *ld)
{
	int i, any = 0;

	printf(PROG ": problems:");
	for (i = 0; i < PB_COUNT; i++) {
		if (ld->problems[i] == 0)
			continue;
		printf("%s %lu %s", any ? "," : "", ld->problems[i],
		    problem_names[i]);
		any = 1;
	}
	printf("%s\n", any ? "" : " none");
}

static unsigned long
problem_total(const struct load *ld)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < PB_COUNT; i++)
		n += ld->problems[i];
	return n;
}

/* Lines sender pos of c's room never brought to c; *first the first. */
static unsigned
missing(const struct load *ld, const struct client *c, unsigned pos,
    unsigned *first)
{
	unsigned seq, n = 0;
	size_t bit;

	for (seq = 0; seq < ld->m; seq++) {
		bit = (size_t)pos * ld->m + seq;
		if (c->seen[bit / 8] & (1u << (bit % 8)))
			continue;
		if (n++ == 0)
			*first = seq;
	}
	return n;
}

/* Say who missed what from whom, for the first few pairs. */
static void
print_missing(const struct load *ld)
{
	const struct client *c;
	unsigned i, pos, n, first = 0, shown = 0;

	for (i = 0; i < ld->n && shown < REPORT_MAX; i++) {
		c = &ld->cl[i];
		for (pos = 0; pos < c->gsize && shown < REPORT_MAX; pos++) {
			if (c->first + pos == c->idx ||
			    (n = missing(ld, c, pos, &first)) == 0)
				continue;
			printf(PROG ": %s is missing %u of the %u lines of "
			    "account %u, the first being line %u\n", c->user,
			    n, ld->m, c->first + pos, first);
			shown++;
		}
	}
}

static int
chat_report(const struct load *ld)
{
	unsigned long long lost = ld->expected - ld->distinct;
	double t = ld->t_last > ld->t_first_send ?
	    secs(ld->t_first_send, ld->t_last) : 0;
	int ok;

	printf(PROG ": %u clients in %u rooms of %u, %u lines of %u bytes "
	    "each\n", ld->n, (ld->n + ld->g - 1) / ld->g, ld->g, ld->m,
	    ld->size);
	printf(PROG ": logged in %u of %u", ld->logged_in, ld->n);
	if (ld->t_logged > ld->t0)
		printf(" in %.1f s (%.0f/s)", secs(ld->t0, ld->t_logged),
		    ld->n / secs(ld->t0, ld->t_logged));
	if (ld->t_ready != 0)
		printf("; every room complete after %.1f s",
		    secs(ld->t0, ld->t_ready));
	printf("\n");
	if (ld->t_sent != 0)
		printf(PROG ": sent in %.1f s; %llu of %llu expected deliveries"
		    "%s\n", secs(ld->t_first_send, ld->t_sent), ld->distinct,
		    ld->expected, ld->stalled ? " (gave up waiting)" : "");
	if (ld->t_sent != 0 && lost > 0)
		print_missing(ld);
	print_problems(ld);
	ok = ld->logged_in == ld->n && ld->t_sent != 0 && lost == 0 &&
	    ld->duplicated == 0 && ld->reordered == 0 &&
	    problem_total(ld) == 0;
	printf(PROG ": %s\n", ok ? "OK" : "FAILED");
	printf("sent %llu, delivered %llu, lost %llu, duplicated %llu, "
	    "reordered %llu\n", ld->sent, ld->delivered, lost,
	    ld->duplicated, ld->reordered);
	printf("time %.2f s, %.0f msgs/s sent, %.0f msgs/s delivered\n", t,
	    t > 0 ? (double)ld->sent / t : 0,
	    t > 0 ? (double)ld->delivered / t : 0);
	return ok ? 0 : 1;
}

static int
chat_run(struct load *ld)
{
	int r;

	if ((r = chat_setup(ld)) != 0) {
		if (r == E_NOMEM)
			(void)fprintf(stderr, PROG ": %s\n", err_str(r));
		return 1;
	}
	ld->t0 = session_clock_ms();
	progress(ld);
	while (ld->phase != PH_OVER) {
		chat_step(ld);
		if (ld->phase != PH_OVER && pump(ld) != 0)
			return 1;
	}
	return chat_report(ld);
}

/* ---- cycle mode: the run ---- */

/* What the next cycle does. */
static enum cycle_kind
cycle_kind(struct load *ld)
{
	if (ld->login_every > 0 && ld->next_cycle % ld->login_every == 0)
		return CY_LOGIN;
	if (ld->abort_every > 0 && ld->others++ % ld->abort_every == 0)
		return CY_ABORT;
	return CY_HANDSHAKE;
}

/* Free the slots whose session is over (or is to be cut short); start new
   cycles in free ones. */
static int
cycle_refill(struct load *ld)
{
	struct client *c;
	size_t i;

	for (i = 0; i < ld->nslots; i++) {
		c = &ld->cl[i];
		if (c->s != NULL && (c->abort_now ||
		    session_end(c->s) != SESSION_RUNNING)) {
			if (c->abort_now ||
			    session_end(c->s) == SESSION_QUIT)
				ld->cycles_ok++;
			else
				ld->cycles_failed++;
			ld->aborts += c->abort_now;
			/* Closes the connection, if it is still open. */
			session_free(c->s);
			c->s = NULL;
			c->abort_now = 0;
			progress(ld);
		}
		if (c->s != NULL || ld->next_cycle == ld->cycles)
			continue;
		c->kind = cycle_kind(ld);
		if (client_new(ld, c, (unsigned)(ld->next_cycle % ld->n) +
		    1) != 0)
			return -1;
		ld->next_cycle++;
		session_start(c->s, session_clock_ms());
	}
	return 0;
}

static int
cycle_run(struct load *ld)
{
	int64_t now;
	double t;

	ld->t0 = session_clock_ms();
	progress(ld);
	for (;;) {
		if (cycle_refill(ld) != 0)
			return 1;
		if (ld->cycles_ok + ld->cycles_failed == ld->cycles)
			break;
		now = session_clock_ms();
		if (now - ld->progress_ms > (int64_t)ld->timeout_s * 1000) {
			(void)fprintf(stderr, PROG ": nothing happened for %u s\n",
			    ld->timeout_s);
			return 1;
		}
		if (pump(ld) != 0)
			return 1;
	}
	t = secs(ld->t0, session_clock_ms());
	print_problems(ld);
	printf("cycles %lu (%lu logged in, %lu closed during the login), %u at "
	    "a time: %lu completed, %lu failed, in %.1f s (%.0f cycles/s)\n",
	    ld->cycles, ld->logins, ld->aborts, ld->parallel, ld->cycles_ok,
	    ld->cycles_failed, t, t > 0 ? (double)ld->cycles / t : 0);
	return ld->cycles_failed == 0 && problem_total(ld) == 0 ? 0 : 1;
}

/* ---- set-up ---- */

static unsigned long
number(const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min || v > max)
		usage();
	return v;
}

/* One fd per client, and some to spare. */
static void
raise_nofile(size_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ?
	    want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		(void)fprintf(stderr, PROG ": cannot raise the fd limit to %zu: %s\n",
		    want, strerror(errno));
}

/* The config, server key and every account's key and login secret. */
static int
load_inputs(struct load *ld, const char *conf)
{
	char err[512], path[PATH_MAX];
	unsigned i;
	int r;

	if (client_config_load(conf, &ld->tmpl, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	if ((r = kd_key_read_public(ld->tmpl.server_key,
	    &ld->server_key)) != 0) {
		(void)fprintf(stderr, PROG ": %s: %s\n", ld->tmpl.server_key,
		    err_str(r));
		return -1;
	}
	if (mkdir(ld->knowndir, 0700) != 0 && errno != EEXIST) {
		(void)fprintf(stderr, PROG ": %s: %s\n", ld->knowndir,
		    strerror(errno));
		return -1;
	}
	/* An array of key pointers. */
	if ((ld->keys = calloc(ld->n, sizeof(*ld->keys))) == NULL || /* NOLINT(bugprone-sizeof-expression) */
	    (ld->secrets = calloc(ld->n, sizeof(*ld->secrets))) == NULL) { /* NOLINT(bugprone-sizeof-expression) */
		(void)fprintf(stderr, PROG ": %s\n", err_str(E_NOMEM));
		return -1;
	}
	for (i = 0; i < ld->n; i++) {
		if (load_key_path(path, sizeof(path), ld->keydir, i + 1) != 0) {
			(void)fprintf(stderr, PROG ": %s: path too long\n",
			    ld->keydir);
			return -1;
		}
		if ((r = kd_key_read_private(path, &ld->keys[i])) != 0 ||
		    (r = load_secret_path(path, sizeof(path), ld->keydir,
		    i + 1)) != 0 ||
		    (r = secret_read_file(path, &ld->secrets[i])) != 0) {
			(void)fprintf(stderr, PROG ": %s: %s (load-setup makes it)\n",
			    path, err_str(r));
			return -1;
		}
	}
	return 0;
}

static int
alloc_slots(struct load *ld)
{
	ld->nslots = ld->cycles > 0 ? ld->parallel : ld->n;
	if ((ld->cl = calloc(ld->nslots, sizeof(*ld->cl))) == NULL ||
	    (ld->pfd = calloc(ld->nslots, sizeof(*ld->pfd))) == NULL ||
	    (ld->who = calloc(ld->nslots, sizeof(*ld->who))) == NULL) {
		(void)fprintf(stderr, PROG ": %s\n", err_str(E_NOMEM));
		return -1;
	}
	raise_nofile(ld->nslots + 64);
	return 0;
}

static void
load_free(struct load *ld)
{
	size_t i;

	for (i = 0; ld->cl != NULL && i < ld->nslots; i++) {
		session_free(ld->cl[i].s);
		free(ld->cl[i].hi);
		free(ld->cl[i].seen);
	}
	for (i = 0; ld->keys != NULL && i < ld->n; i++)
		EVP_PKEY_free(ld->keys[i]);
	for (i = 0; ld->secrets != NULL && i < ld->n; i++)
		secret_free(ld->secrets[i]);
	free(ld->keys);
	free(ld->secrets);
	free(ld->cl);
	free(ld->pfd);
	free(ld->who);
	EVP_PKEY_free(ld->server_key);
	client_config_free(&ld->tmpl);
}

static void
parse_options(struct load *ld, int argc, char **argv, const char **conf)
{
	static const struct option longopts[] = {
		{ "ramp", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "cycles", required_argument, NULL, 'C' },
		{ "parallel", required_argument, NULL, 'P' },
		{ "login-every", required_argument, NULL, 'L' },
		{ "abort-every", required_argument, NULL, 'A' },
		{ "inject-faults", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:k:K:u:n:m:g:s:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			*conf = optarg;
			break;
		case 'k':
			ld->keydir = optarg;
			break;
		case 'K':
			ld->knowndir = optarg;
			break;
		case 'u':
			ld->prefix = optarg;
			break;
		case 'n':
			ld->n = number(optarg, 1, LOAD_MAX);
			break;
		case 'm':
			ld->m = number(optarg, 1, 1000000);
			break;
		case 'g':
			ld->g = number(optarg, 2, 10000);
			break;
		case 's':
			ld->size = number(optarg, TEXT_MIN, TEXT_MAX);
			break;
		case 'r':
			ld->ramp = number(optarg, 1, 100000);
			break;
		case 't':
			ld->timeout_s = number(optarg, 1, 86400);
			break;
		case 'C':
			ld->cycles = number(optarg, 1, 100000000);
			break;
		case 'P':
			ld->parallel = number(optarg, 1, 100000);
			break;
		case 'L':
			ld->login_every = number(optarg, 0, 1000000);
			break;
		case 'A':
			ld->abort_every = number(optarg, 0, 1000000);
			break;
		case 'F':
			ld->inject = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || *conf == NULL || ld->keydir == NULL ||
	    ld->knowndir == NULL ||
	    strlen(ld->prefix) > LOAD_PREFIX_MAX || (ld->inject && ld->m < 5))
		usage();
}

int
main(int argc, char **argv)
{
	struct load ld = { .prefix = LOAD_PREFIX, .n = 200, .m = 20,
	    .g = 10, .size = 64, .ramp = 8, .timeout_s = 60,
	    .parallel = 50, .login_every = 1 };
	const char *conf = NULL;
	int status = 1;

	parse_options(&ld, argc, argv, &conf);
	if (load_inputs(&ld, conf) == 0 && alloc_slots(&ld) == 0)
		status = ld.cycles > 0 ? cycle_run(&ld) : chat_run(&ld);
	load_free(&ld);
	return status;
}
