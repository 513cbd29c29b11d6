/*
 * The client core: one missive session (docs/PROTOCOL.md), shared by every
 * front end (line mode, terminal UI, GUI).  It holds all protocol and
 * crypto logic and does no terminal I/O: it reports through one event
 * callback and is driven from the caller's poll() or GLib main loop.
 *
 *   s = session_new(...); session_start(s, now);
 *   loop:
 *       fd = session_fd(s), events = session_events(s)   (fd -1: none)
 *       timeout = session_timeout(s, now)                (-1: none)
 *       poll; then session_handle(s, revents, now) if fd had events,
 *       and session_tick(s, now) in every round
 *   until session_end(s) != SESSION_RUNNING; session_free(s).
 *
 * The fd changes from one connection to the next (and is an eventfd while
 * a host name is being looked up): ask again after every call.  Time is
 * the caller's, in milliseconds of a monotonic clock (session_clock_ms()).
 *
 * What the core does on its own: connect (10 s for lookup, connect,
 * handshake and login together), check the server's key against the pinned
 * one, log in with the stored password, answer the server's pings, ping a
 * server silent for keepalive_interval and drop one silent for twice that,
 * and after a lost connection reconnect with a backoff from reconnect_min_ms
 * doubling to reconnect_max_ms, logging in again.  It never reconnects after
 * a key mismatch, a refused key (1199), a login refused as invalid, locked
 * or disabled, or a quit; nor when reconnect_max_ms is 0, nor when the very
 * first attempt could not complete a handshake (a wrong host or port is
 * reported at once as unreachable).  A record that does not authenticate, a
 * malformed frame or an oversize record closes the connection, which then
 * counts as lost; a frame with an unknown opcode is ignored with an error
 * event.
 *
 * Chat lines and who requests made while not logged in are queued (at most
 * SESSION_QUEUE_LINES lines or SESSION_QUEUE_BYTES bytes) and sent in order
 * after the next login.  Nothing is dropped silently: a refused line is an
 * error event, and so are lines still queued when the session ends.
 */
#ifndef MISSIVE_CLIENT_SESSION_H
#define MISSIVE_CLIENT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "client/config.h"

#define SESSION_CONNECT_TIMEOUT_MS 10000  /* lookup + connect + handshake
                                             + login */
#define SESSION_QUIT_TIMEOUT_MS 3000      /* wait for the server's goodbye */
#define SESSION_QUEUE_LINES 1000
#define SESSION_QUEUE_BYTES (1024 * 1024)
#define SESSION_OUT_MAX (1024 * 1024)     /* unsent bytes while connected */

/* How a session ended (SESSION_RUNNING until then). */
enum session_end {
	SESSION_RUNNING,
	SESSION_QUIT,                 /* the user quit */
	SESSION_LOGIN_REFUSED,        /* 1001|ERR: invalid, locked, disabled
	                                 (or unavailable/busy with reconnecting
	                                 disabled) */
	SESSION_KEY_MISMATCH,         /* the server presented another key */
	SESSION_UNREACHABLE,          /* the first attempt failed, or the
	                                 connection was lost and reconnecting is
	                                 disabled */
	SESSION_NOT_ENROLLED,         /* 1199: the server refused our key */
	SESSION_FAILED,               /* anything else */
};

/*
 * Events.  The comment names the fields that are set; the others are NULL
 * or 0.  Strings are NUL-terminated, valid only during the callback, and
 * come from the network where marked (net): they are valid UTF-8 without
 * '|', but may hold control characters (TAB in chat text, anything in
 * nicknames of a misbehaving server): a front end must escape them.
 */
enum session_event_kind {
	SESSION_EV_CONNECTING,        /* host, port: an attempt starts */
	SESSION_EV_CONNECTED,         /* fingerprint: handshake done, the
	                                 server holds the pinned key */
	SESSION_EV_KEY_MISMATCH,      /* pinned, fingerprint (presented) */
	SESSION_EV_NOT_ENROLLED,      /* fingerprint (our key), code, text
	                                 (net): the server refused our key */
	SESSION_EV_LOGGED_IN,         /* nickname (net) */
	SESSION_EV_LOGIN_FAILED,      /* code (net): invalid, locked,
	                                 disabled, unavailable or busy */
	SESSION_EV_CHAT,              /* nickname, timestamp, text (net),
	                                 time_ms */
	SESSION_EV_JOIN,              /* user, nickname (net) */
	SESSION_EV_LEAVE,             /* user, nickname, code (net): the
	                                 reason */
	SESSION_EV_WHO,               /* user, nickname (net): one entry */
	SESSION_EV_WHO_END,           /* count */
	SESSION_EV_SERVER_ERROR,      /* code, text (net): 1009 */
	SESSION_EV_CLOSING,           /* code, text (net): 1010 */
	SESSION_EV_DISCONNECTED,      /* err, text (may quote the server):
	                                 why the connection (or the attempt)
	                                 ended */
	SESSION_EV_RECONNECTING,      /* delay_ms */
	SESSION_EV_ERROR,             /* err, text: a refused command, an
	                                 ignored frame, or queued lines that
	                                 will not be sent */
	SESSION_EV_DONE,              /* end: the session ended after a quit */
	SESSION_EV_FATAL,             /* end, err, text (may quote the
	                                 server): the session ended and will
	                                 not reconnect */
};

struct session_event {
	enum session_event_kind kind;
	const char *host;             /* server host name, as configured */
	const char *port;
	const char *fingerprint;      /* SSH-style (keydist/keys.h) */
	const char *pinned;           /* the pinned server key's */
	const char *user;
	const char *nickname;
	const char *code;             /* a reason or error code */
	const char *text;
	const char *timestamp;        /* ISO 8601 UTC, as the server sent it */
	int64_t time_ms;              /* the same, ms since the Unix epoch */
	long long count;
	long long delay_ms;
	int err;                      /* E_* code (common/err.h) */
	enum session_end end;
};

/*
 * The callback may call session_send_chat(), session_who() and
 * session_quit(), nothing else of this API (no session_free()).
 */
typedef void session_event_fn(void *arg, const struct session_event *ev);

struct session;

/*
 * Make a session from a loaded configuration, the user's private key, the
 * pinned server key and the password (1 to 1024 bytes of UTF-8 without
 * CR or LF, else E_PASSWORD).  The session copies what it needs from cfg
 * and password, and takes its own references to the keys; the caller may
 * free all of them.  Nothing happens before session_start().  Returns 0,
 * E_PASSWORD, E_INVALID, E_CRYPTO or E_NOMEM.
 */
int session_new(const struct client_config *cfg, EVP_PKEY *key,
    EVP_PKEY *server_key, const char *password, session_event_fn *on_event,
    void *arg, struct session **out) __attribute__((warn_unused_result));

/* Close the connection, wipe every secret (the password too) and free. */
void session_free(struct session *s);

/* Start the first connection attempt (once). */
void session_start(struct session *s, int64_t now_ms);

/* The fd to poll, or -1 (waiting for a timer, or ended). */
int session_fd(const struct session *s);

/* The poll events wanted on session_fd(): POLLIN, plus POLLOUT while
   connecting or while output is pending. */
short session_events(const struct session *s);

/* Handle what poll() reported on session_fd(). */
void session_handle(struct session *s, short revents, int64_t now_ms);

/* Run the timers that are due. */
void session_tick(struct session *s, int64_t now_ms);

/* Milliseconds until the next timer is due (0: now), or -1 if none. */
int64_t session_timeout(const struct session *s, int64_t now_ms);

/*
 * Send len bytes of text as a chat line (queued if not logged in).  The
 * text must be 1 to max_frame - FRAME_CHAT_OVERHEAD bytes of UTF-8 without control
 * characters other than TAB.  Returns 0, or on refusal (also reported by
 * an SESSION_EV_ERROR event with the reason): E_MALFORMED (bad text),
 * E_TOO_LONG (too long, or the queue is full), E_STATE (quitting or
 * ended), E_NOMEM.
 */
int session_send_chat(struct session *s, const char *text, size_t len)
    __attribute__((warn_unused_result));

/* Ask who is online (queued if not logged in); errors as above. */
int session_who(struct session *s) __attribute__((warn_unused_result));

/*
 * Leave cleanly: send quit (after any queued lines, once logged in) and
 * end with SESSION_EV_DONE when the server has said goodbye or closed.
 */
void session_quit(struct session *s, int64_t now_ms);

/*
 * Check chat text without sending it: 0, or E_MALFORMED / E_TOO_LONG with
 * a reason in *why (a static string).
 */
int session_check_text(const struct session *s, const char *text,
    size_t len, const char **why) __attribute__((warn_unused_result));

/* SESSION_RUNNING, or how the session ended. */
enum session_end session_end(const struct session *s);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t session_clock_ms(void);

#endif
