/*
 * Fuzz the client core's handling of frames from the server once the
 * handshake is done: cs_frame() (client/frames.c) and through it the
 * handlers of client/rooms.c and client/e2e.c (device lists, presence,
 * sender keys, end-to-end messages, the pinned keys of client/trust.c).
 *
 * Every run makes a new session for "alice" (fixed test keys, the server
 * key pinned, a known_keys file that pins bob's key and gives carol the
 * server's key, so that bob's key under carol's name is a changed key),
 * puts it in the state right after the handshake (or after the login),
 * with records keyed and a socket that a drain reads, and feeds it frames.
 *
 * Input: byte 0 is a set of flags (F_* below) that set the session up
 * (requests queued, chat lines waiting for a device list, a quit, and a
 * callback that sends and accepts keys from inside the events); the rest
 * is frames, one per line, handed to cs_frame() in order until one of them
 * ends the connection, as the client's dispatch does.  The seeds
 * (tests/fuzz/gen-corpus.c) hold valid device lists, sender keys and
 * messages from bob, sealed with the same fixed keys.
 *
 * Checked: every string an event carries is readable (ASan), and the
 * fields each event kind promises are there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/session_int.h"
#include "common/err.h"
#include "tests/fuzz/util.h"

#define F_LOGIN     0x01  /* start in ST_LOGIN (0001 sent), else ST_OPEN */
#define F_REQUESTS  0x02  /* /rooms, /who and /join dev before the frames */
#define F_PEND_ROOM 0x04  /* a chat line waits for the lobby's devices */
#define F_PEND_BOB  0x08  /* a chat line waits for @bob's devices */
#define F_SMALL     0x10  /* max_frame 8192, else 65536 */
#define F_QUIT      0x20  /* the user quits before the frames */
#define F_NO_RECONN 0x40  /* reconnect_max_ms 0: a lost connection ends it */
#define F_REENTER   0x80  /* the callback sends and accepts keys */

static const uint8_t rec_key[KD_AEAD_KEY_LEN] = "missive fuzz client frames key!";
static const uint8_t rec_iv[KD_AEAD_IV_LEN] = "client iv 12";

static EVP_PKEY *alice_key, *server_key;
static char known_keys[512], preset[256];
static int sv[2];                     /* the session's end, the drain's */
static struct session *cur;           /* for the reentrant callback */
static int reenter;
static int trace;                     /* MISSIVE_FUZZ_TRACE: print events */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char bob_fp[KD_FP_SIZE], server_fp[KD_FP_SIZE];
	EVP_PKEY *bob_key;
	int i;

	(void)argc;
	(void)argv;
	alice_key = fuzz_key(fuzz_key_alice_pem);
	server_key = fuzz_key(fuzz_key_server_pem);
	bob_key = fuzz_key(fuzz_key_bob_pem);
	FUZZ_CHECK(kd_fingerprint(bob_key, bob_fp) == 0);
	FUZZ_CHECK(kd_fingerprint(server_key, server_fp) == 0);
	EVP_PKEY_free(bob_key);
	FUZZ_CHECK(snprintf(preset, sizeof(preset), "bob %s seen\n"
	    "carol %s verified\n", bob_fp, server_fp) < (int)sizeof(preset));
	fuzz_tmppath(known_keys, sizeof(known_keys), "known_keys");
	trace = getenv("MISSIVE_FUZZ_TRACE") != NULL;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv) == 0);
	for (i = 0; i < 2; i++)
		FUZZ_CHECK(fcntl(sv[i], F_SETFL, O_NONBLOCK) == 0);
	return 0;
}

static void
check_str(const char *s)
{
	/* strlen reads it all: ASan reports a string that died. */
	if (s != NULL)
		FUZZ_CHECK(strlen(s) < SIZE_MAX);
}

/* What each kind of event promises (client/session.h). */
static void
on_event(void *arg, const struct session_event *ev)
{
	struct session *s = cur;

	(void)arg;
	check_str(ev->host);
	check_str(ev->port);
	check_str(ev->fingerprint);
	check_str(ev->pinned);
	check_str(ev->user);
	check_str(ev->nickname);
	check_str(ev->code);
	check_str(ev->text);
	check_str(ev->timestamp);
	check_str(ev->room);
	if (trace)
		(void)fprintf(stderr, "event %d err %d room %s user %s text %s\n",
		    (int)ev->kind, ev->err, ev->room ? ev->room : "-",
		    ev->user ? ev->user : "-", ev->text ? ev->text : "-");
	switch (ev->kind) {
	case SESSION_EV_CHAT:
		FUZZ_CHECK(ev->room != NULL && ev->nickname != NULL &&
		    ev->user != NULL && ev->fingerprint != NULL &&
		    ev->timestamp != NULL && ev->text != NULL &&
		    ev->time_ms >= 0);
		break;
	case SESSION_EV_UNREADABLE:
		FUZZ_CHECK(ev->room != NULL && ev->user != NULL &&
		    ev->text != NULL && ev->err != 0);
		break;
	case SESSION_EV_JOIN:
	case SESSION_EV_LEAVE:
		FUZZ_CHECK(ev->room != NULL && ev->user != NULL &&
		    ev->nickname != NULL && ev->fingerprint != NULL);
		break;
	case SESSION_EV_KEY_PINNED:
		FUZZ_CHECK(ev->user != NULL && ev->fingerprint != NULL);
		break;
	case SESSION_EV_KEY_CHANGED:
		FUZZ_CHECK(ev->user != NULL && ev->fingerprint != NULL &&
		    ev->pinned != NULL);
		if (reenter)
			(void)session_accept_key(s, ev->user, 0);
		break;
	case SESSION_EV_LOGGED_IN:
		FUZZ_CHECK(ev->nickname != NULL);
		if (reenter)
			(void)session_send_chat(s, "lobby", "hi", 2);
		break;
	case SESSION_EV_JOINED:
		FUZZ_CHECK(ev->room != NULL);
		if (reenter) {
			(void)session_send_chat(s, ev->room, "hello", 5);
			(void)session_leave(s, ev->room);
		}
		break;
	case SESSION_EV_DISCONNECTED:
	case SESSION_EV_ERROR:
	case SESSION_EV_FATAL:
		FUZZ_CHECK(ev->text != NULL);
		break;
	default:
		break;
	}
}

/* A session just past the handshake (or the login), as conn.c leaves it. */
static struct session *
make_session(uint8_t flags)
{
	struct client_config cfg = {
		.server_host = "fuzz.invalid", .server_port = 7777,
		.user = "alice", .known_keys = known_keys,
		.reconnect_min_ms = 10,
		.reconnect_max_ms = (flags & F_NO_RECONN) ? 0 : 1000,
		.keepalive_interval = 30,
		.max_frame = (flags & F_SMALL) ? FRAME_MAX_FRAME_MIN : 65536,
	};
	struct session *s = NULL;
	char err[256];

	fuzz_write_file(known_keys, preset, strlen(preset));
	FUZZ_CHECK(session_new(&cfg, alice_key, server_key, "secret",
	    on_event, NULL, &s, err, sizeof(err)) == 0);
	s->state = (flags & F_LOGIN) ? ST_LOGIN : ST_OPEN;
	s->handshaked = 1;
	s->now = 1000000;
	s->last_rx = s->now;
	FUZZ_CHECK((s->fd = fcntl(sv[0], F_DUPFD_CLOEXEC, 0)) >= 0);
	FUZZ_CHECK(kd_record_init(&s->tx, rec_key, rec_iv,
	    KD_RECORD_REKEY_DEFAULT, 1) == 0);
	FUZZ_CHECK(kd_record_init(&s->rx, rec_key, rec_iv,
	    KD_RECORD_REKEY_DEFAULT, 0) == 0);
	return s;
}

/* What the user does before the frames come. */
static void
commands(struct session *s, uint8_t flags)
{
	if (flags & F_REQUESTS) {
		(void)session_rooms(s);
		(void)session_who(s, NULL);
		(void)session_join(s, "dev");
	}
	if (flags & F_PEND_ROOM)
		(void)session_send_chat(s, "lobby", "waiting", 7);
	if (flags & F_PEND_BOB)
		(void)session_send_chat(s, "@bob", "psst", 4);
	if (flags & F_QUIT)
		session_quit(s, s->now);
}

/* Read and drop what the session sent. */
static void
drain(void)
{
	char buf[65536];
	ssize_t n;

	do
		n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	while (n > 0 || (n < 0 && errno == EINTR));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	const uint8_t *p = in.p, *nl;
	size_t left = in.left, len;
	struct session *s;
	unsigned gen;
	char *f;

	reenter = (flags & F_REENTER) != 0;
	cur = s = make_session(flags);
	commands(s, flags);
	gen = s->gen;
	while (left > 0 && s->gen == gen) {
		nl = memchr(p, '\n', left);
		len = nl != NULL ? (size_t)(nl - p) : left;
		/* cs_frame() may write where the LF was: a copy with room. */
		if (len > 0) {
			if ((f = malloc(len + 1)) == NULL)
				abort();
			memcpy(f, p, len);
			f[len] = '\n';
			cs_frame(s, f, len);
			free(f);
		}
		p += len + (nl != NULL);
		left -= len + (nl != NULL);
	}
	session_free(s);
	cur = NULL;
	drain();
	return 0;
}
