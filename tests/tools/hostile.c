/*
 * hostile: a client that breaks the rules on purpose, for the hostile-input
 * tests.  It speaks the handshake and the record layer itself (keydist), so
 * that it can send what the client core never would.
 *
 *   hostile [-t SECS] [-s STAGE] [-w FILE] CLIENT_CONF script
 *       Connect to the server of CLIENT_CONF as its user and key, go as far
 *       as STAGE ("none": TCP only, "hello": ClientHello sent and ServerHello
 *       read, "full": handshake done, the default), then run stdin's lines:
 *         TEXT            one record whose plaintext is TEXT and a LF
 *         !raw TEXT       TEXT as raw bytes on the socket
 *         !replay         the last record's bytes again
 *         !half TEXT      the first half of a record holding TEXT
 *         !foreign TEXT   a record holding TEXT, sealed by a second session
 *                         of the same client (same sequence number)
 *         !sync           ping and print what arrives until the pong
 *         !await FRAME    print what arrives until FRAME (or a frame
 *                         starting with FRAME if it ends in '|')
 *         !close          print what arrives until the server closes
 *         !eof            shut down the sending side
 *       TEXT may use \n, \r, \0, \\ and \xHH.  Every frame received prints
 *       as "< FRAME" (escaped the same way); an end of the connection prints
 *       "closed", SECS (default 10) without an answer prints "timeout".
 *       -w FILE writes every byte sent to FILE (a capture).
 *
 *   hostile [-t SECS] CLIENT_CONF replay FILE
 *       Connect, send FILE's bytes, print each line received as "< LINE"
 *       until the server closes ("closed") or SECS pass ("timeout").
 *
 *   hostile [-t SECS] CLIENT_CONF flood N
 *       Open N connections that each send half a ClientHello and nothing
 *       more; print "flood: N opened" once they are all open (stdout is
 *       flushed), then wait until the server has closed every one of them,
 *       or SECS pass, and print "flood: C closed by the server, the last
 *       after S s, O still open".
 *
 *   hostile CLIENT_CONF secret PASSWORD
 *       Print the login secret that CLIENT_CONF's user sends for PASSWORD
 *       (keydist/login.h), for scripts that log in with a 0001 of their own.
 *   hostile [-t SECS] CLIENT_CONF handshakes N KIND
 *       N handshakes one after the other, of KIND: "valid" (the folder's
 *       own, which the server must finish), or one the server must refuse:
 *       "garbage" (the folder's enrolled key, a random signature),
 *       "huge-e" (the folder key's modulus with the public exponent n - 2,
 *       a random signature: each verification costs the server a full
 *       modular exponentiation) or "unenrolled" (a fresh key, correctly
 *       signed).  Prints "handshakes: N sent, C closed, R refused (1199),
 *       F finished, T timed out"; exit 0 if the server finished all valid
 *       ones and none of the others.
 *
 *   hostile [-t SECS] CLIENT_CONF integrity LISTENER_CONF PASSWORD PAYLOAD
 *       As OpenSSH's integrity test: log in as the listener (password
 *       PASSWORD), then for every byte offset of the sender's stream after
 *       the handshake (login, one chat line "0002|lobby|MID|PAYLOAD", a
 *       ping)
 *       run a fresh session with that byte flipped.  Every run must end
 *       with the server closing before the pong, and the listener must
 *       never receive anything but PAYLOAD.  Prints a summary; exit 0 only
 *       if nothing altered or unchecked got through.
 *
 * Exit status 0, 1 on a failed check or an error (on stderr), 2 on usage.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "client/config.h"
#include "client/session.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "keydist/channel.h"
#include "keydist/handshake.h"
#include "keydist/keys.h"
#include "keydist/random.h"
#include "keydist/record.h"

#define MAX_PLAIN 65536
#define LINE_MAX_IN 70000
/* The start of a ClientHello, for the flood's half hellos. */
#define HELLO_START "0100|" KD_HS_VERSION "|"

enum stage { STAGE_NONE, STAGE_HELLO, STAGE_FULL };

struct peer {
	int fd;
	struct kd_hs hs;
	struct kd_record_dir tx, rx;
	struct buf in;            /* bytes received, not yet consumed */
	struct buf last;          /* the last record sent, for !replay */
	struct buf plain;         /* the last record received, opened */
	char *cur;                /* its frames not yet taken */
	size_t left;
	FILE *capture;            /* every byte sent, or NULL */
};

static struct client_config cfg;
static EVP_PKEY *own_key, *server_key;
static int timeout_ms = 10000;

static void die(const char *, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)fputs("hostile: ", stderr);
	(void)vfprintf(stderr, fmt, ap);
	(void)fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void
load_client(const char *conf, struct client_config *c, EVP_PKEY **key,
    EVP_PKEY **srv)
{
	char err[512];
	int r;

	if (client_config_load(conf, c, err, sizeof(err)) != 0)
		die("%s", err);
	if ((r = kd_key_read_private(c->private_key, key)) != 0)
		die("%s: %s", c->private_key, err_str(r));
	if (srv != NULL && (r = kd_key_read_public(c->server_key, srv)) != 0)
		die("%s: %s", c->server_key, err_str(r));
}

static int
tcp_connect(const struct client_config *c)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM }, *res;
	char port[16];
	int fd;

	(void)snprintf(port, sizeof(port), "%lld", c->server_port);
	if (getaddrinfo(c->server_host, port, &hints, &res) != 0)
		die("cannot resolve %s", c->server_host);
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0)
		die("connect to %s port %s: %s", c->server_host, port,
		    strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static void
send_all(struct peer *p, const void *data, size_t len)
{
	const char *d = data;
	ssize_t n;

	if (p->capture != NULL && fwrite(d, 1, len, p->capture) != len)
		die("capture: %s", strerror(errno));
	while (len > 0) {
		n = send(p->fd, d, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* The server may close first: later reads say so. */
			return;
		}
		d += n;
		len -= (size_t)n;
	}
}

/* Read more into p->in: 1 read, 0 closed, -1 timed out. */
static int
read_more(struct peer *p)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -1;
	if (buf_reserve(&p->in, 16384) != 0)
		die("out of memory");
	n = recv(p->fd, buf_tail(&p->in), 16384, 0);
	if (n <= 0)
		return 0;
	buf_commit(&p->in, (size_t)n);
	return 1;
}

/* The next line of the handshake into out (without LF): 1, 0, -1. */
static int
read_line(struct peer *p, char *out, size_t cap, size_t *len)
{
	const char *nl;
	int r;

	for (;;) {
		nl = buf_size(&p->in) == 0 ? NULL :
		    memchr(buf_data(&p->in), '\n', buf_size(&p->in));
		if (nl != NULL) {
			*len = (size_t)(nl - (const char *)buf_data(&p->in));
			if (*len >= cap)
				die("overlong line from the server");
			memcpy(out, buf_data(&p->in), *len);
			out[*len] = '\0';
			buf_consume(&p->in, *len + 1);
			return 1;
		}
		if ((r = read_more(p)) != 1)
			return r;
	}
}

/* Seal text (a LF is added) into out with d. */
static void
seal(struct kd_record_dir *d, const char *text, size_t len, struct buf *out)
{
	struct buf plain = BUF_INIT;
	int r;

	buf_truncate(out, 0);
	if (buf_append(&plain, text, len) != 0 ||
	    buf_append(&plain, "\n", 1) != 0)
		die("out of memory");
	if ((r = kd_chan_seal(d, &plain, out, MAX_PLAIN)) != 0)
		die("seal: %s", err_str(r));
	buf_free(&plain);
}

/* The next frame from the server: 1 with *f (NUL-ended), 0, -1. */
static int
next_frame(struct peer *p, char **f, size_t *flen)
{
	size_t len, reclen;
	char *frames;
	int r;

	for (;;) {
		if (p->left > 0 &&
		    kd_chan_next_frame(&p->cur, &p->left, f, flen) == 1) {
			(*f)[*flen] = '\0';
			return 1;
		}
		p->left = 0;
		r = kd_chan_open(&p->rx, &p->in, MAX_PLAIN, &frames, &len,
		    &reclen);
		if (r == 0) {
			buf_truncate(&p->plain, 0);
			if (buf_append(&p->plain, frames, len) != 0)
				die("out of memory");
			buf_consume(&p->in, reclen);
			p->cur = (char *)buf_data(&p->plain);
			p->left = len;
			continue;
		}
		if (r != E_INCOMPLETE)
			die("a record from the server failed: %s", err_str(r));
		if ((r = read_more(p)) != 1)
			return r;
	}
}

static void
print_escaped(const char *prefix, const char *s, size_t len)
{
	size_t i;

	(void)fputs(prefix, stdout);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\\')
			(void)fputs("\\\\", stdout);
		else if (ch < 0x20 || ch == 0x7f)
			(void)printf("\\x%02x", ch);
		else
			(void)putchar(ch);
	}
	(void)putchar('\n');
	(void)fflush(stdout);
}

static int
hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' :
	    tolower((unsigned char)c) - 'a' + 10;
}

/* A decimal number from 1 to max, or die. */
static int
number(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		die("not a number from 1 to %ld: %s", max, s);
	return (int)v;
}

/* Decode \n \r \0 \\ \xHH in place; returns the new length. */
static size_t
unescape(char *s, size_t len)
{
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i < len; i++) {
		if (s[i] != '\\' || i + 1 == len) {
			s[o++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case 'n': s[o++] = '\n'; break;
		case 'r': s[o++] = '\r'; break;
		case '0': s[o++] = '\0'; break;
		case 'x':
			if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				die("bad \\x escape");
			v = (unsigned)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			s[o++] = (char)v;
			i += 2;
			break;
		default: s[o++] = s[i]; break;
		}
	}
	return o;
}

static void
peer_open(struct peer *p, const struct client_config *c, EVP_PKEY *key)
{
	memset(p, 0, sizeof(*p));
	p->fd = tcp_connect(c);
	kd_hs_client_init(&p->hs, key, server_key);
}

static void
peer_close(struct peer *p)
{
	if (p->fd >= 0)
		(void)close(p->fd);
	p->fd = -1;
	kd_hs_clear(&p->hs);
	kd_record_clear(&p->tx);
	kd_record_clear(&p->rx);
	buf_free(&p->in);
	buf_free(&p->last);
	buf_free(&p->plain);
}

/* ClientHello out, ServerHello in: 0, or die. */
static void
hello(struct peer *p)
{
	char line[KD_HS_LINE_MAX + 2];
	size_t len;
	int r;

	if ((r = kd_hs_client_hello(&p->hs, line, sizeof(line), &len)) != 0)
		die("hello: %s", err_str(r));
	line[len] = '\n';
	send_all(p, line, len + 1);
	if (read_line(p, line, sizeof(line), &len) != 1)
		die("no ServerHello");
	/* Kept for handshake_finish(), which parses it. */
	if (buf_append(&p->last, line, len) != 0)
		die("out of memory");
}

/* KeyExchange and ClientFinished out, ServerFinished in. */
static void
handshake_finish(struct peer *p)
{
	char kx[KD_HS_LINE_MAX + 1], fin[256], *f;
	struct kd_record_dir hsdir;
	struct buf rec = BUF_INIT;
	size_t kxlen, finlen, flen;
	int r;

	r = kd_hs_client_keyx(&p->hs, (const char *)buf_data(&p->last),
	    buf_size(&p->last), kx, sizeof(kx), &kxlen, fin, sizeof(fin),
	    &finlen);
	if (r != 0)
		die("ServerHello: %s", err_str(r));
	memset(&hsdir, 0, sizeof(hsdir));
	if (kd_record_init(&hsdir, p->hs.hs_c2s.key, p->hs.hs_c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 1) != 0 ||
	    kd_record_init(&p->tx, p->hs.c2s.key, p->hs.c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 1) != 0 ||
	    kd_record_init(&p->rx, p->hs.s2c.key, p->hs.s2c.iv,
	    KD_RECORD_REKEY_DEFAULT, 0) != 0)
		die("record init failed");
	seal(&hsdir, kx, kxlen, &rec);
	send_all(p, buf_data(&rec), buf_size(&rec));
	kd_record_clear(&hsdir);
	seal(&p->tx, fin, finlen, &rec);
	send_all(p, buf_data(&rec), buf_size(&rec));
	if (next_frame(p, &f, &flen) != 1)
		die("no ServerFinished");
	if ((r = kd_hs_client_finish(&p->hs, f, flen)) != 0)
		die("ServerFinished: %s (%s)", err_str(r), f);
	buf_free(&rec);
	buf_truncate(&p->last, 0);
}

static void
handshake(struct peer *p)
{
	hello(p);
	handshake_finish(p);
}

/* f is until, or starts with it if until ends in '|'. */
static int
frame_matches(const char *f, const char *until)
{
	size_t n = strlen(until);

	if (n > 0 && until[n - 1] == '|')
		return strncmp(f, until, n) == 0;
	return strcmp(f, until) == 0;
}

/*
 * Print frames until one that matches until (NULL: until the end).
 * Returns 1 if it came, 0 if the server closed, -1 on a timeout.
 */
static int
print_until(struct peer *p, const char *until)
{
	char *f;
	size_t flen;
	int r;

	while ((r = next_frame(p, &f, &flen)) == 1) {
		print_escaped("< ", f, flen);
		if (until != NULL && frame_matches(f, until))
			break;
	}
	if (r != 1)
		(void)puts(r == 0 ? "closed" : "timeout");
	(void)fflush(stdout);
	return r;
}

/* Before the handshake is done, what comes back is plain lines. */
static int
print_lines(struct peer *p)
{
	char line[KD_HS_LINE_MAX + 2];
	size_t len;
	int r;

	while ((r = read_line(p, line, sizeof(line), &len)) == 1)
		print_escaped("< ", line, len);
	(void)puts(r == 0 ? "closed" : "timeout");
	(void)fflush(stdout);
	return r;
}

static void
send_record(struct peer *p, struct kd_record_dir *d, const char *text,
    size_t len, int half)
{
	seal(d, text, len, &p->last);
	send_all(p, buf_data(&p->last), half ? buf_size(&p->last) / 2 :
	    buf_size(&p->last));
}

/* A record sealed by another session of the same client, with its seq. */
static void
send_foreign(struct peer *p, const char *text, size_t len)
{
	struct peer other;

	peer_open(&other, &cfg, own_key);
	handshake(&other);
	/* Both sessions are at the same seq: only the keys differ. */
	while (other.tx.seq < p->tx.seq) {
		seal(&other.tx, "0005|skip", 9, &other.last);
		send_all(&other, buf_data(&other.last),
		    buf_size(&other.last));
	}
	seal(&other.tx, text, len, &p->last);
	send_all(p, buf_data(&p->last), buf_size(&p->last));
	peer_close(&other);
}

static void
run_line(struct peer *p, char *line, size_t len, enum stage stage,
    unsigned *nsync)
{
	char ping[32];

	if (strncmp(line, "!raw ", 5) == 0) {
		len = unescape(line + 5, len - 5);
		send_all(p, line + 5, len);
	} else if (strcmp(line, "!replay") == 0) {
		send_all(p, buf_data(&p->last), buf_size(&p->last));
	} else if (strncmp(line, "!half ", 6) == 0) {
		send_record(p, &p->tx, line + 6, unescape(line + 6, len - 6),
		    1);
	} else if (strncmp(line, "!foreign ", 9) == 0) {
		send_foreign(p, line + 9, unescape(line + 9, len - 9));
	} else if (strcmp(line, "!sync") == 0) {
		(void)snprintf(ping, sizeof(ping), "0005|sync%u", ++*nsync);
		send_record(p, &p->tx, ping, strlen(ping), 0);
		ping[0] = '1';
		print_until(p, ping);
	} else if (strncmp(line, "!await ", 7) == 0) {
		print_until(p, line + 7);
	} else if (strcmp(line, "!close") == 0) {
		if (stage == STAGE_FULL)
			print_until(p, NULL);
		else
			print_lines(p);
	} else if (strcmp(line, "!eof") == 0) {
		if (shutdown(p->fd, SHUT_WR) != 0)
			die("shutdown: %s", strerror(errno));
	} else if (line[0] == '!') {
		die("unknown directive %s", line);
	} else {
		send_record(p, &p->tx, line, unescape(line, len), 0);
	}
}

static int
cmd_script(enum stage stage, const char *capture)
{
	static char line[LINE_MAX_IN];
	struct peer p;
	unsigned nsync = 0;
	size_t len;

	peer_open(&p, &cfg, own_key);
	if (capture != NULL && (p.capture = fopen(capture, "wb")) == NULL)
		die("%s: %s", capture, strerror(errno));
	if (stage >= STAGE_HELLO)
		hello(&p);
	if (stage == STAGE_FULL) {
		handshake_finish(&p);
		(void)puts("handshake ok");
		(void)fflush(stdout);
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		run_line(&p, line, len, stage, &nsync);
	}
	if (p.capture != NULL && fclose(p.capture) != 0)
		die("capture: %s", strerror(errno));
	p.capture = NULL;
	peer_close(&p);
	return 0;
}

static int
cmd_replay(const char *file)
{
	static char data[1 << 20];
	struct peer p;
	size_t n;
	FILE *f;

	if ((f = fopen(file, "rb")) == NULL)
		die("%s: %s", file, strerror(errno));
	n = fread(data, 1, sizeof(data), f);
	(void)fclose(f);
	peer_open(&p, &cfg, own_key);
	send_all(&p, data, n);
	print_lines(&p);
	peer_close(&p);
	return 0;
}

/* ---- integrity: one flipped byte at every offset ---- */

struct listener {
	struct peer p;
	const char *user;
	const char *payload;
	unsigned nsync, intact, altered;
	long long backlog;           /* rows up to it came before the runs */
};

/*
 * Sync the listener with the server's writer and check every delivery
 * that came meanwhile: a line of its own to itself is stored after every
 * line the sender's run stored, so its 1020 comes after their 1002s.
 */
static void
listener_collect(struct listener *l)
{
	struct frame fr;
	char line[1024], stored[64], *f;
	size_t flen;

	l->nsync++;
	(void)snprintf(line, sizeof(line), "0002|@%s|%032x|%s", l->user,
	    l->nsync, l->payload);
	send_record(&l->p, &l->p.tx, line, strlen(line), 0);
	(void)snprintf(stored, sizeof(stored), "1020|%032x", l->nsync);
	for (;;) {
		if (next_frame(&l->p, &f, &flen) != 1)
			die("the listener lost its connection");
		if (strcmp(f, stored) == 0)
			break;
		if (strncmp(f, "1002|", 5) != 0)
			continue;
		if (frame_parse(f, flen, 8, 8, &fr) == 0 &&
		    strtoll(fr.field[0].p, NULL, 10) <= l->backlog)
			continue;
		if (frame_parse(f, flen, 8, 8, &fr) == 0 &&
		    frame_field_is(&fr.field[7], l->payload))
			l->intact++;
		else {
			print_escaped("altered: ", f, flen);
			l->altered++;
		}
	}
}

/* What a client sends for password (keydist/login.h), in a static buffer. */
static const char *
login_secret(const char *password, const char *user)
{
	static char secret[SESSION_SECRET_SIZE];
	int r;

	if ((r = session_login_secret(password, server_key, user,
	    secret)) != 0)
		die("login secret: %s", err_str(r));
	return secret;
}

/*
 * The sender's records after the handshake, sealed with p's keys, into
 * out; *login_len is the size of the first one, the login.
 */
static void
sender_stream(struct peer *p, const char *password, const char *payload,
    unsigned run, struct buf *out, size_t *login_len)
{
	struct buf rec = BUF_INIT;
	char text[3][1024];
	int n[3], i;

	n[0] = snprintf(text[0], sizeof(text[0]), "0001|%s|%s", cfg.user,
	    login_secret(password, cfg.user));
	/* A mid of its own per run: a stored one would not be again. */
	n[1] = snprintf(text[1], sizeof(text[1]), "0002|lobby|%032x|%s", run,
	    payload);
	n[2] = snprintf(text[2], sizeof(text[2]), "0005|end");
	for (i = 0; i < 3; i++) {
		seal(&p->tx, text[i], (size_t)n[i], &rec);
		if (buf_append(out, buf_data(&rec), buf_size(&rec)) != 0)
			die("out of memory");
		if (i == 0)
			*login_len = buf_size(&rec);
	}
	buf_free(&rec);
}

/*
 * Wait for frames; 1 as soon as one matches until, 0 when the server has
 * closed without it (or on a timeout).
 */
static int
await_frame(struct peer *p, const char *until)
{
	char *f;
	size_t flen;
	int found = 0;

	while (!found && next_frame(p, &f, &flen) == 1)
		found = frame_matches(f, until);
	return found;
}

/* Wait for 1022|last (the rows stored before this login end at last). */
static int
await_backlog(struct peer *p, long long *last)
{
	char *f;
	size_t flen;

	while (next_frame(p, &f, &flen) == 1)
		if (strncmp(f, "1022|", 5) == 0) {
			*last = strtoll(f + 5, NULL, 10);
			return 1;
		}
	return 0;
}

/*
 * One sender session with the byte at offset flipped (offset SIZE_MAX:
 * none).  The login goes first and the rest after its answer, as a client
 * does.  Returns 1 if the pong came back (the server took every record).
 */
static int
integrity_run(const char *password, const char *payload, size_t offset,
    size_t *stream_len)
{
	static unsigned run;
	struct buf wire = BUF_INIT;
	struct peer p;
	size_t login_len = 0;
	int pong = 0;

	peer_open(&p, &cfg, own_key);
	handshake(&p);
	sender_stream(&p, password, payload, ++run, &wire, &login_len);
	*stream_len = buf_size(&wire);
	if (offset < buf_size(&wire)) {
		uint8_t *bytes = buf_data(&wire);

		bytes[offset] ^= 0xff;
	}
	send_all(&p, buf_data(&wire), login_len);
	/* A flipped length may leave the server waiting: end the stream. */
	if (offset < login_len && shutdown(p.fd, SHUT_WR) != 0)
		die("shutdown: %s", strerror(errno));
	if (await_frame(&p, "1001|OK|")) {
		send_all(&p, buf_data(&wire) + login_len,
		    buf_size(&wire) - login_len);
		if (shutdown(p.fd, SHUT_WR) != 0)
			die("shutdown: %s", strerror(errno));
		pong = await_frame(&p, "1005|end");
		/* Then the server closes: wait for it. */
		(void)await_frame(&p, "\n");
	}
	buf_free(&wire);
	peer_close(&p);
	return pong;
}

static int
cmd_integrity(const char *lconf, const char *password, const char *payload)
{
	struct client_config lcfg;
	struct listener l = { .payload = payload };
	EVP_PKEY *lkey;
	char login[512];
	size_t len, off, undetected = 0, expect_intact = 0;
	int n;

	memset(&lcfg, 0, sizeof(lcfg));
	load_client(lconf, &lcfg, &lkey, NULL);
	l.user = lcfg.user;
	peer_open(&l.p, &lcfg, lkey);
	handshake(&l.p);
	n = snprintf(login, sizeof(login), "0001|%s|%s", lcfg.user,
	    login_secret(password, lcfg.user));
	send_record(&l.p, &l.p.tx, login, (size_t)n, 0);
	if (!await_frame(&l.p, "1001|OK|"))
		die("the listener cannot log in");
	if (!await_backlog(&l.p, &l.backlog))
		die("the listener got no 1022");
	/* An untouched run first: the stream works and arrives. */
	if (!integrity_run(password, payload, SIZE_MAX, &len))
		die("the untouched stream got no pong");
	listener_collect(&l);
	if (l.intact != 1 || l.altered != 0)
		die("the untouched stream was not delivered once");
	l.intact = 0;
	for (off = 0; off < len; off++) {
		size_t len2;

		if (integrity_run(password, payload, off, &len2)) {
			(void)printf("undetected: offset %zu\n", off);
			undetected++;
		}
		if (len2 != len)
			die("the stream length changed");
		listener_collect(&l);
	}
	/* The chat record ends where the ping's record begins. */
	expect_intact = 4 + 8 + 1 + KD_AEAD_TAG_LEN;
	(void)printf("integrity: %zu offsets, %zu undetected, %u altered, "
	    "%u delivered intact (the flip was in the ping record)\n", len,
	    undetected, l.altered, l.intact);
	peer_close(&l.p);
	EVP_PKEY_free(lkey);
	client_config_free(&lcfg);
	return undetected == 0 && l.altered == 0 &&
	    l.intact == expect_intact ? 0 : 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmd_flood(int n)
{
	struct pollfd *pfd;
	double start, last = 0;
	char junk[256];
	int i, open_left, closed = 0;

	if (n < 1 || (pfd = calloc((size_t)n, sizeof(*pfd))) == NULL)
		die("flood: bad count or out of memory");
	start = now_s();
	open_left = n;
	for (i = 0; i < n; i++) {
		pfd[i].fd = tcp_connect(&cfg);
		pfd[i].events = POLLIN;
		/* Never sent in full: the server must time it out. */
		if (send(pfd[i].fd, HELLO_START, sizeof(HELLO_START) - 1,
		    MSG_NOSIGNAL) < 0) {
			(void)close(pfd[i].fd);     /* refused at once */
			pfd[i].fd = -1;
			open_left--;
			closed++;
		}
	}
	(void)printf("flood: %d opened\n", n);
	(void)fflush(stdout);
	while (open_left > 0 && now_s() - start < timeout_ms / 1000.0) {
		if (poll(pfd, (nfds_t)n, 100) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			if (recv(pfd[i].fd, junk, sizeof(junk), 0) > 0)
				continue;
			(void)close(pfd[i].fd);
			pfd[i].fd = -1;
			open_left--;
			closed++;
			last = now_s() - start;
		}
	}
	(void)printf("flood: %d closed by the server, the last after %.1f s, %d "
	    "still open\n", closed, last, open_left);
	for (i = 0; i < n; i++)
		if (pfd[i].fd >= 0)
			(void)close(pfd[i].fd);
	free(pfd);
	return open_left == 0 ? 0 : 1;
}

enum hs_kind { HS_VALID, HS_GARBAGE, HS_HUGE_E, HS_UNENROLLED };

/* key's modulus with the public exponent n - 2 (odd, below n). */
static EVP_PKEY *
huge_e_key(EVP_PKEY *key)
{
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *out = NULL;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    (e = BN_dup(n)) == NULL || BN_sub_word(e, 2) != 1 ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		die("cannot make the huge-e key");
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	return out;
}

/*
 * kx (a KeyExchange line, cap bytes) with the client key spki and a
 * random signature of the same length in place of its own.
 */
static size_t
forge_keyx(char *kx, size_t len, size_t cap, const uint8_t *spki,
    size_t spkilen)
{
	uint8_t sig[KD_RSA_MAX_BYTES], wrapped[KD_RSA_MAX_BYTES];
	struct frame_field out[3];
	struct frame f;
	char *b64[3];
	long n;
	size_t i, siglen, wlen;

	if (frame_parse(kx, len, 3, 3, &f) != 0 ||
	    (n = b64_decode(f.field[1].p, f.field[1].len, wrapped,
	    sizeof(wrapped))) < 0)
		die("cannot parse our own KeyExchange");
	/* The signature is as long as the wrapped key: one modulus. */
	siglen = wlen = (size_t)n;
	if (kd_random(sig, siglen) != 0)
		die("random signature");
	b64[0] = malloc(B64_ENCODED_SIZE(spkilen));
	b64[1] = malloc(B64_ENCODED_SIZE(wlen));
	b64[2] = malloc(B64_ENCODED_SIZE(siglen));
	if (b64[0] == NULL || b64[1] == NULL || b64[2] == NULL ||
	    b64_encode(spki, spkilen, b64[0], B64_ENCODED_SIZE(spkilen), 1) < 0 ||
	    b64_encode(wrapped, wlen, b64[1], B64_ENCODED_SIZE(wlen), 1) < 0 ||
	    b64_encode(sig, siglen, b64[2], B64_ENCODED_SIZE(siglen), 1) < 0)
		die("out of memory");
	for (i = 0; i < 3; i++) {
		out[i].p = b64[i];
		out[i].len = strlen(b64[i]);
	}
	if (frame_build(kx, cap, &len, OP_KEY_EXCHANGE, out, 3) != 0)
		die("forged KeyExchange too long");
	for (i = 0; i < 3; i++)
		free(b64[i]);
	return len;
}

/*
 * One handshake of kind with key (the forged client key for HS_HUGE_E):
 * 'c' the server closed, 'r' it sent 1199, 'f' it sent 1102, 't' timeout.
 */
static int
hs_attempt(enum hs_kind kind, EVP_PKEY *key, const uint8_t *spki,
    size_t spkilen)
{
	char kx[KD_HS_LINE_MAX + 1], fin[256], *f;
	struct kd_record_dir hsdir;
	struct buf rec = BUF_INIT;
	size_t kxlen, finlen, flen;
	struct peer p;
	int r, outcome;

	peer_open(&p, &cfg, kind == HS_UNENROLLED ? key : own_key);
	hello(&p);
	if (kd_hs_client_keyx(&p.hs, (const char *)buf_data(&p.last),
	    buf_size(&p.last), kx, sizeof(kx), &kxlen, fin, sizeof(fin),
	    &finlen) != 0)
		die("ServerHello refused");
	if (kind == HS_GARBAGE || kind == HS_HUGE_E)
		kxlen = forge_keyx(kx, kxlen, sizeof(kx), spki, spkilen);
	memset(&hsdir, 0, sizeof(hsdir));
	if (kd_record_init(&hsdir, p.hs.hs_c2s.key, p.hs.hs_c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 1) != 0 ||
	    kd_record_init(&p.tx, p.hs.c2s.key, p.hs.c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 1) != 0 ||
	    kd_record_init(&p.rx, p.hs.s2c.key, p.hs.s2c.iv,
	    KD_RECORD_REKEY_DEFAULT, 0) != 0)
		die("record init failed");
	seal(&hsdir, kx, kxlen, &rec);
	send_all(&p, buf_data(&rec), buf_size(&rec));
	kd_record_clear(&hsdir);
	seal(&p.tx, fin, finlen, &rec);
	send_all(&p, buf_data(&rec), buf_size(&rec));
	buf_free(&rec);
	r = next_frame(&p, &f, &flen);
	if (r == 0)
		outcome = 'c';
	else if (r < 0)
		outcome = 't';
	else
		outcome = strncmp(f, "1199|", 5) == 0 ? 'r' : 'f';
	peer_close(&p);
	return outcome;
}

static int
cmd_handshakes(int n, const char *kindname)
{
	EVP_PKEY *key = NULL;
	unsigned char *spki = NULL;
	size_t spkilen = 0;
	enum hs_kind kind;
	int i, closed = 0, refused = 0, finished = 0, timeouts = 0;

	if (strcmp(kindname, "valid") == 0)
		kind = HS_VALID;
	else if (strcmp(kindname, "garbage") == 0)
		kind = HS_GARBAGE;
	else if (strcmp(kindname, "huge-e") == 0)
		kind = HS_HUGE_E;
	else if (strcmp(kindname, "unenrolled") == 0)
		kind = HS_UNENROLLED;
	else
		die("handshakes: KIND is valid, garbage, huge-e or unenrolled");
	if (kind == HS_HUGE_E)
		key = huge_e_key(own_key);
	else if (kind == HS_UNENROLLED && kd_key_generate(KD_RSA_BITS,
	    &key) != 0)
		die("cannot make a key");
	if (kd_key_to_der(key != NULL ? key : own_key, &spki, &spkilen) != 0)
		die("cannot encode the key");
	for (i = 0; i < n; i++) {
		switch (hs_attempt(kind, key, spki, spkilen)) {
		case 'c': closed++; break;
		case 'r': refused++; break;
		case 'f': finished++; break;
		default: timeouts++; break;
		}
	}
	(void)printf("handshakes: %d sent, %d closed, %d refused (1199), %d "
	    "finished, %d timed out\n", n, closed, refused, finished, timeouts);
	OPENSSL_free(spki);
	EVP_PKEY_free(key);
	if (kind == HS_VALID)
		return finished == n ? 0 : 1;
	return finished == 0 && timeouts == 0 ? 0 : 1;
}

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	(void)fputs("usage: hostile [-t SECS] [-s none|hello|full] [-w FILE] "
	    "CLIENT_CONF script\n"
	    "       hostile [-t SECS] CLIENT_CONF replay FILE\n"
	    "       hostile [-t SECS] CLIENT_CONF flood N\n"
	    "       hostile CLIENT_CONF secret PASSWORD\n"
	    "       hostile [-t SECS] CLIENT_CONF handshakes N "
	    "valid|garbage|huge-e|unenrolled\n"
	    "       hostile [-t SECS] CLIENT_CONF integrity LISTENER_CONF "
	    "PASSWORD PAYLOAD\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	enum stage stage = STAGE_FULL;
	const char *capture = NULL, *mode;
	int opt, r;

	while ((opt = getopt(argc, argv, "t:s:w:")) != -1) {
		switch (opt) {
		case 't':
			timeout_ms = number(optarg, 3600) * 1000;
			break;
		case 's':
			if (strcmp(optarg, "none") == 0)
				stage = STAGE_NONE;
			else if (strcmp(optarg, "hello") == 0)
				stage = STAGE_HELLO;
			else if (strcmp(optarg, "full") == 0)
				stage = STAGE_FULL;
			else
				usage();
			break;
		case 'w':
			capture = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 2)
		usage();
	load_client(argv[optind], &cfg, &own_key, &server_key);
	mode = argv[optind + 1];
	if (strcmp(mode, "script") == 0 && argc - optind == 2)
		r = cmd_script(stage, capture);
	else if (strcmp(mode, "replay") == 0 && argc - optind == 3)
		r = cmd_replay(argv[optind + 2]);
	else if (strcmp(mode, "flood") == 0 && argc - optind == 3)
		r = cmd_flood(number(argv[optind + 2], 100000));
	else if (strcmp(mode, "secret") == 0 && argc - optind == 3)
		r = printf("%s\n", login_secret(argv[optind + 2], cfg.user)) < 0;
	else if (strcmp(mode, "handshakes") == 0 && argc - optind == 4)
		r = cmd_handshakes(number(argv[optind + 2], 100000),
		    argv[optind + 3]);
	else if (strcmp(mode, "integrity") == 0 && argc - optind == 5)
		r = cmd_integrity(argv[optind + 2], argv[optind + 3],
		    argv[optind + 4]);
	else
		usage();
	EVP_PKEY_free(own_key);
	EVP_PKEY_free(server_key);
	client_config_free(&cfg);
	return r;
}
