/*
 * Fuzz the client core's handling of what the server sends once the
 * handshake is done: records read from the socket (client/conn.c:
 * cs_read(), process_input(), dispatch(), the 1199 refusal), cs_frame()
 * (client/frames.c) and through it the handlers of client/convs.c,
 * client/outbox.c, client/peers.c and client/e2e.c (device lists,
 * presence, sender keys, end-to-end messages, confirmations, the pinned
 * keys of client/trust.c).
 *
 * Every run makes a new session for "alice" (fixed test keys, the server
 * key pinned, a known_keys file that pins bob's key and gives carol the
 * server's key, so that bob's key under carol's name is a changed key),
 * puts it in the state the flags say, with records keyed and a socket
 * whose other end this harness holds, and sends it the frames.
 *
 * Input: byte 0 is a set of flags (F_* below) that set the session up
 * (the state, requests queued, chat lines waiting for a device list, a
 * callback that sends and accepts keys from inside the events); the rest
 * is frames, one per line.  Lines up to a blank line go in one record,
 * sealed with the session's receiving key and written to the socket; the
 * session reads them as poll() would make it.  The seeds
 * (tests/fuzz/gen-corpus.c) hold valid device lists, sender keys and
 * messages from bob, sealed with the same fixed keys.
 *
 * Checked: every string an event carries is readable (ASan), and the
 * fields each event kind promises are there.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/session_int.h"
#include "common/err.h"
#include "common/proto.h"
#include "tests/fuzz/util.h"

/*
 * F_LOGIN and F_QUIT together pick the state: ST_OPEN (neither), ST_LOGIN
 * (0001 sent), ST_OPEN and the user quits, or ST_FINISHED (our Finished
 * sent, waiting for 1102 or 1199; no handshake to finish it with).
 */
#define F_LOGIN     0x01
#define F_REQUESTS  0x02  /* /rooms, /who and /join dev before the frames */
#define F_PEND_ROOM 0x04  /* a chat line waits for the lobby's devices */
#define F_PEND_BOB  0x08  /* a chat line waits for @bob's devices */
#define F_SMALL     0x10  /* max_frame 8192, else 65536 */
#define F_QUIT      0x20
#define F_NO_RECONN 0x40  /* reconnect_max_ms 0: a lost connection ends it */
#define F_REENTER   0x80  /* the callback sends and accepts keys */
#define F_STATE     (F_LOGIN | F_QUIT)

static const uint8_t rec_key[KD_AEAD_KEY_LEN] = "missive fuzz client frames key!";
static const uint8_t rec_iv[KD_AEAD_IV_LEN] = "client iv 12";

static EVP_PKEY *alice_key, *server_key;
static char known_keys[512], preset[256];
static char login_secret[SESSION_SECRET_SIZE];  /* derived once */
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
	FUZZ_CHECK(session_login_secret("secret", server_key, "alice",
	    login_secret) == 0);
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
		if (reenter) {
			/* May lose the connection, then forget the room. */
			(void)session_send_chat(s, PROTO_LOBBY, "hi", 2);
			(void)session_leave(s, PROTO_LOBBY);
		}
		break;
	case SESSION_EV_KEY_CHANGED:
	case SESSION_EV_NEW_DEVICE:
		FUZZ_CHECK(ev->user != NULL && ev->fingerprint != NULL &&
		    ev->pinned != NULL);
		if (reenter)
			(void)session_accept_key(s, ev->user, ev->fingerprint,
			    0, NULL);
		break;
	case SESSION_EV_DEVICES_CHANGED:
	case SESSION_EV_HELD:
		FUZZ_CHECK(ev->room != NULL && ev->text != NULL);
		if (reenter)
			(void)session_resend(s, ev->room);
		break;
	case SESSION_EV_DEVICE_DROPPED:
		FUZZ_CHECK(ev->room != NULL && ev->user != NULL &&
		    ev->fingerprint != NULL);
		break;
	case SESSION_EV_LOGGED_IN:
		FUZZ_CHECK(ev->nickname != NULL);
		if (reenter)
			(void)session_send_chat(s, PROTO_LOBBY, "hi", 2);
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
	FUZZ_CHECK(session_new(&cfg, alice_key, server_key, login_secret,
	    on_event, NULL, &s, err, sizeof(err)) == 0);
	switch (flags & F_STATE) {
	case F_LOGIN:
		s->state = ST_LOGIN;
		break;
	case F_STATE:
		s->state = ST_FINISHED;
		break;
	default:
		s->state = ST_OPEN;
		break;
	}
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
		(void)session_send_chat(s, PROTO_LOBBY, "waiting", 7);
	if (flags & F_PEND_BOB)
		(void)session_send_chat(s, "@bob", "psst", 4);
	if ((flags & F_STATE) == F_QUIT)
		session_quit(s, s->now);
}

/* Read and drop what is waiting on fd. */
static void
drain(int fd)
{
	char buf[65536];
	ssize_t n;

	do
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	while (n > 0 || (n < 0 && errno == EINTR));
}

/* Seal plain[0..len) into a record for the session; write it to it. */
static void
send_record(struct kd_record_dir *tx, const uint8_t *plain, size_t len)
{
	size_t cap = len + KD_RECORD_OVERHEAD, n, off = 0;
	uint8_t *rec;
	ssize_t w;

	if ((rec = malloc(cap)) == NULL)
		abort();
	FUZZ_CHECK(kd_record_seal(tx, plain, len, rec, cap, &n) == 0);
	while (off < n) {
		w = send(sv[1], rec + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		FUZZ_CHECK(w > 0);
		off += (size_t)w;
	}
	free(rec);
}

/* Let the session read while it is connected and bytes are waiting. */
static void
deliver(struct session *s)
{
	int waiting;

	while (cs_in(s, CS_STREAM) && ioctl(sv[0], FIONREAD, &waiting) == 0 &&
	    waiting > 0)
		session_handle(s, POLLIN, s->now);
}

/* The end of the record starting at p: after the LF before a blank line. */
static const uint8_t *
record_end(const uint8_t *p, const uint8_t *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\n' && p[1] == '\n')
			return p + 1;
	return end;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	const uint8_t *p = in.p, *end;
	struct kd_record_dir tx;
	struct session *s;

	reenter = (flags & F_REENTER) != 0;
	cur = s = make_session(flags);
	FUZZ_CHECK(kd_record_init(&tx, rec_key, rec_iv,
	    KD_RECORD_REKEY_DEFAULT, 1) == 0);
	commands(s, flags);
	/* One record per run of lines, until the connection is lost or
	   closed; a blank line starts the next. */
	while (p < in.p + in.left && cs_in(s, CS_STREAM)) {
		end = record_end(p, in.p + in.left);
		send_record(&tx, p, (size_t)(end - p));
		deliver(s);
		p = end;
		while (p < in.p + in.left && *p == '\n')
			p++;
	}
	session_free(s);
	cur = NULL;
	kd_record_clear(&tx);
	drain(sv[0]);
	drain(sv[1]);
	return 0;
}
