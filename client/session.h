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
 * one, log in with the stored login secret, answer the server's pings, ping a
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
 * Rows (chat lines and sender keys the server stored for this device,
 * docs/PROTOCOL.md 5.4) are acknowledged (0020) once handled: shown or
 * refused, and, when the front end keeps a history
 * (session_ack_after_save()), saved there (session_history_saved()).
 * Rows not acknowledged come again after the next login; a line seen
 * before is dropped.
 *
 * Chat lines and requests made while not logged in are queued (at most
 * SESSION_QUEUE_LINES lines or SESSION_QUEUE_BYTES bytes) and sent in order
 * after the next login (chat lines per conversation, once its devices are
 * known, and only if they are the devices known before: else they are
 * held, SESSION_EV_HELD, until session_resend() or session_drop()).  Every chat line is end-to-end encrypted: the core keeps the
 * conversations' devices and sender keys (client/e2e.h) and the pinned peer
 * keys (client/trust.h, the folder's known_keys).  Nothing is dropped
 * silently: a refused line is an error event (SESSION_EV_NOT_STORED when
 * the server would not store it), and so are lines still queued when the
 * session ends.
 */
#ifndef MISSIVE_CLIENT_SESSION_H
#define MISSIVE_CLIENT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "client/config.h"
#include "common/buf.h"

#define SESSION_CONNECT_TIMEOUT_MS 10000  /* lookup + connect + handshake
                                             + login */
#define SESSION_QUIT_TIMEOUT_MS 3000      /* wait for the server's goodbye */
#define SESSION_QUEUE_LINES 1000
#define SESSION_QUEUE_BYTES ((size_t)1024 * 1024)
#define SESSION_MID_LEN 16      /* an E2E message id (= E2E_MID_LEN) */
#define SESSION_SEEN_MAX 4096   /* message ids remembered (= E2E_SEEN_MAX) */
#define SESSION_OUT_MAX ((size_t)1024 * 1024) /* unsent bytes while connected */
#define SESSION_ACK_MS 200      /* rows handled wait at most this long for
                                   their acknowledgement (0020) ... */
#define SESSION_ACK_ROWS 256    /* ... or until this many are waiting */

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
	SESSION_REPLACED,             /* 1010|replaced: this device (its
	                                 folder) logged in again elsewhere */
	SESSION_FAILED,               /* anything else */
};

/* How far a peer's key is trusted (docs/PROTOCOL.md section 8.4). */
enum session_trust {
	SESSION_KEY_UNACCEPTED,       /* changed: not pinned, not accepted */
	SESSION_KEY_SEEN,             /* pinned on first use or accepted */
	SESSION_KEY_VERIFIED,         /* fingerprint compared out of band */
	SESSION_KEY_OWN,              /* this device's own key */
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
	SESSION_EV_CHAT,              /* room (the conversation: "dev" or
	                                 "@bob"), nickname (the one the
	                                 sender signed), display (how to name
	                                 the sender), user, fingerprint (the
	                                 sending device), trust, timestamp
	                                 (the server's), time_ms (the
	                                 sender's, signed), text (decrypted),
	                                 mid (the E2E message id), backlog
	                                 (stored while we were away) */
	SESSION_EV_SENT,              /* room, user and nickname (ours), text,
	                                 time_ms (our clock), mid: a line of
	                                 ours the server has stored for every
	                                 device of the conversation (1020;
	                                 before the peers read it) */
	SESSION_EV_DELIVERED,         /* mid, and room and text if the line
	                                 was sent in this session (else
	                                 NULL): every device the line was
	                                 stored for has fetched it and
	                                 written it away (1024) */
	SESSION_EV_NOT_STORED,        /* room, code (net), reason (net: the
	                                 server's words), text, mid: a line of
	                                 ours the server refused to store
	                                 (1021); it is dropped, never sent
	                                 again */
	SESSION_EV_BACKLOG_END,       /* count: the rows stored while we were
	                                 away have come, with count lines
	                                 shown */
	SESSION_EV_UNREADABLE,        /* room, user, err, text: a message or
	                                 sender key that was refused (forged,
	                                 replayed, from a device that may not
	                                 speak there, or sent before we came),
	                                 or (err E_INCOMPLETE) messages of a
	                                 sender missing before one received */
	SESSION_EV_JOINED,            /* room, count: we are in the room, with
	                                 count other member connections */
	SESSION_EV_LEFT,              /* room: we left it */
	SESSION_EV_JOIN,              /* room, user, nickname, fingerprint
	                                 (net), online: a device is in a room,
	                                 online (1003 JOIN) or not (ADD) */
	SESSION_EV_LEAVE,             /* room, user, nickname, fingerprint,
	                                 code (net): the reason; online 0 if
	                                 the device stays in the room
	                                 (offline), -1 if it is out of it */
	SESSION_EV_WHO,               /* user, nickname (net), online: one
	                                 entry */
	SESSION_EV_WHO_END,           /* count */
	SESSION_EV_ROOM,              /* room, count: one room of the list */
	SESSION_EV_ROOMS_END,         /* count */
	SESSION_EV_KEY_PINNED,        /* user, fingerprint: first key seen
	                                 for user, pinned (trust on first use) */
	SESSION_EV_KEY_CHANGED,       /* user, fingerprint (new), pinned (one
	                                 pinned before): sending to
	                                 conversations with that device is
	                                 refused until session_accept_key() */
	SESSION_EV_NEW_DEVICE,        /* user (ours), fingerprint: the server
	                                 lists a key of our own account that
	                                 is not accepted (a new device, or a
	                                 ghost): sending to conversations
	                                 with it is refused until
	                                 session_accept_key() with its
	                                 fingerprint */
	SESSION_EV_DEVICES_CHANGED,   /* room, text ("+carol SHA256:..,
	                                 -bob SHA256:.."): a device list
	                                 differs from the one before (rooms:
	                                 after a reconnect; JOIN and LEAVE
	                                 say the rest) */
	SESSION_EV_DEVICE_DROPPED,    /* room, user, fingerprint: a device
	                                 the server listed in a private
	                                 conversation that belongs to
	                                 neither side; nothing is sent to
	                                 it */
	SESSION_EV_HELD,              /* room, count, text (as for
	                                 DEVICES_CHANGED): lines queued while
	                                 disconnected wait, because the
	                                 devices changed meanwhile, until
	                                 session_resend() or session_drop() */
	SESSION_EV_SERVER_ERROR,      /* code, text (net): 1009 */
	SESSION_EV_CLOSING,           /* code, text (net): 1010 */
	SESSION_EV_DISCONNECTED,      /* err, text (may quote the server):
	                                 why the connection (or the attempt)
	                                 ended */
	SESSION_EV_RECONNECTING,      /* delay_ms */
	SESSION_EV_ERROR,             /* err, text: a refused command, an
	                                 ignored frame, or queued lines that
	                                 will not be sent; for lines of a
	                                 conversation that waited (accepted
	                                 by session_send_chat(), never sent)
	                                 also room and count, and mid when
	                                 count is 1 */
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
	const char *display;          /* CHAT: the signed nickname, as
	                                 "Nick (user)" where it alone could
	                                 mislead (two users sign it, it is
	                                 another's user name, or the user
	                                 signed another before) */
	const char *code;             /* a reason or error code */
	const char *text;
	const char *timestamp;        /* ISO 8601 UTC, as the server sent it */
	int64_t time_ms;              /* the same, ms since the Unix epoch */
	long long count;
	long long delay_ms;
	const char *room;             /* a conversation: room or "@user" */
	enum session_trust trust;
	int err;                      /* E_* code (common/err.h) */
	enum session_end end;
	const uint8_t *mid;           /* SESSION_MID_LEN bytes */
	const char *reason;           /* NOT_STORED: the server's words */
	int online;                   /* 1 online, 0 offline (see above) */
	int backlog;                  /* CHAT: a row of the backlog */
};

/*
 * The callback may call the commands (session_send_chat() to
 * session_accept_key(), session_quit()) and the queries, not
 * session_free().  A connection lost or a session ended meanwhile (by a
 * frame, or by such a command) is closed and reported, from
 * SESSION_EV_DISCONNECTED on, when the call from the front end under way
 * returns, never in the middle of it.
 */
typedef void session_event_fn(void *arg, const struct session_event *ev);

struct session;

/*
 * The login secret that the session sends instead of the password
 * (keydist/login.h): Argon2id of password (1 to 1024 bytes of UTF-8
 * without CR or LF, else E_PASSWORD), bound to the server key and user.
 * One Argon2id run (19 MiB, t=2): derive it once, not per session.
 * Returns 0, E_PASSWORD, E_INVALID (a bad user name) or E_CRYPTO.
 */
#define SESSION_SECRET_SIZE 45          /* KD_LOGIN_B64_LEN + NUL */
int session_login_secret(const char *password, EVP_PKEY *server_key,
    const char *user, char out[SESSION_SECRET_SIZE])
    __attribute__((warn_unused_result));

/*
 * Make a session from a loaded configuration, the user's private key, the
 * pinned server key and the login secret of session_login_secret() (for
 * that server key and cfg->user; else E_PASSWORD): the server never sees
 * the password.  The session copies what it needs from cfg and secret,
 * and takes its own references to the keys; the caller may
 * free all of them.  It loads the pinned peer keys from cfg->known_keys,
 * and pins this device's own key there as verified if it is not yet.
 * Nothing happens before session_start().  Returns 0, E_PASSWORD,
 * E_INVALID, E_CRYPTO, E_NOMEM, or E_CONFIG / E_IO with a one-line message
 * in err (a bad or unreadable known_keys file).
 */
int session_new(const struct client_config *cfg, EVP_PKEY *key,
    EVP_PKEY *server_key, const char *secret, session_event_fn *on_event,
    void *arg, struct session **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

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
 * Send len bytes of text to conversation conv ("room" or "@user"),
 * end-to-end encrypted (docs/PROTOCOL.md section 8).  The text must be 1
 * to session_text_max() bytes of UTF-8 without control characters other
 * than TAB; a room must be one we are in (or joining).  When the room's
 * device list is not known yet (not logged in, joining, or asking a private
 * conversation's devices) the line waits, in order, and goes out once it
 * is.  Returns 0, or on refusal (also reported by an SESSION_EV_ERROR
 * event with the reason): E_MALFORMED (bad text or conversation),
 * E_TOO_LONG (too long, or too many lines waiting), E_STATE (not in that
 * room, quitting or ended), E_UNTRUSTED (a device in the conversation has a
 * changed key not yet accepted), E_NOT_FOUND (the user of a private
 * conversation does not exist or has no device), E_NOMEM.  A waiting line
 * that is refused later is reported by an SESSION_EV_ERROR event (one the
 * server does not store by SESSION_EV_NOT_STORED).
 */
int session_send_chat(struct session *s, const char *conv, const char *text,
    size_t len) __attribute__((warn_unused_result));

/*
 * session_send_chat(), and on success the line's id in mid
 * (SESSION_MID_LEN bytes; NULL: not wanted): the mid of its later
 * SESSION_EV_SENT, NOT_STORED, DELIVERED or ERROR event, for a front end
 * that shows a line as it is typed.
 */
int session_send_chat_mid(struct session *s, const char *conv,
    const char *text, size_t len, uint8_t *mid)
    __attribute__((warn_unused_result));

/* The longest chat text, in bytes. */
size_t session_text_max(const struct session *s);

/* Join a room (again after every reconnect, until left); E_MALFORMED. */
int session_join(struct session *s, const char *room)
    __attribute__((warn_unused_result));

/* Leave a room; E_STATE if we are not in it. */
int session_leave(struct session *s, const char *room)
    __attribute__((warn_unused_result));

/* 1 if we are in room (or joining it). */
int session_in_room(const struct session *s, const char *room);

/* Ask for the list of rooms. */
int session_rooms(struct session *s) __attribute__((warn_unused_result));

/* Ask who is online (room NULL) or in a room (queued if not logged in). */
int session_who(struct session *s, const char *room)
    __attribute__((warn_unused_result));

#define SESSION_FP_SIZE 51      /* a fingerprint and its NUL
                                   (= KD_FP_SIZE) */

/*
 * Accept one key of user at SESSION_KEY_SEEN, or with verified mark it
 * SESSION_KEY_VERIFIED; saved in the folder's known_keys.  fp names the
 * key: a fingerprint, or a prefix of one (with or without "SHA256:") that
 * only one key of user has, among those pinned and those seen since we
 * logged in.  fp NULL or "" is a shortcut that needs no comparison
 * typed twice: to accept, user's only key not accepted; to verify,
 * user's only key.  It is refused for our own user: a device of our own
 * account is accepted by its fingerprint only.  The key's full
 * fingerprint goes to which (SESSION_FP_SIZE bytes; may be NULL).
 * Returns 1 if the key changed level, 0 if it was there already, or (an
 * error event says why) E_NOT_FOUND (no such key), E_INVALID (the
 * prefix or the shortcut fits several keys; the shortcut for our own
 * user), E_MALFORMED (bad user name), E_IO, E_NOMEM.
 */
int session_accept_key(struct session *s, const char *user, const char *fp,
    int verified, char *which) __attribute__((warn_unused_result));

/*
 * Call fn for each device of conversation conv ("room" or "@user") as
 * last listed (kept across reconnects): this device first, then one call
 * per other (user, key), online (1) or not (0; its rows are stored).
 * Returns how many, 0 for a conversation whose devices were never listed.
 */
size_t session_devices(const struct session *s, const char *conv,
    void (*fn)(void *arg, const char *user, const char *fingerprint,
    enum session_trust trust, int online), void *arg);

/*
 * How many devices user has in conv as last listed (our own user counts
 * this device), and in *online how many of them are logged in now.
 */
size_t session_user_devices(const struct session *s, const char *conv,
    const char *user, size_t *online);

/*
 * The lines of conv held by SESSION_EV_HELD: send them (to the devices
 * now listed; a private conversation's are asked again first), or drop
 * them (reported as not sent).  Returns how many lines, or E_STATE (none
 * held in conv).
 */
int session_resend(struct session *s, const char *conv)
    __attribute__((warn_unused_result));
int session_drop(struct session *s, const char *conv)
    __attribute__((warn_unused_result));

/*
 * Call fn for each key we know for user: pinned ones and those seen but not
 * accepted; for our own user also this device's key.  Returns how many.
 */
size_t session_keys(const struct session *s, const char *user,
    void (*fn)(void *arg, const char *fingerprint, enum session_trust trust),
    void *arg);

/*
 * A message id shown before (kept by the front end, e.g. in its history),
 * of a line sent at time_ms: a line with it is dropped as shown already
 * (docs/PROTOCOL.md 8.2, replays).  The newest SESSION_SEEN_MAX are kept.
 */
void session_seen(struct session *s, const uint8_t mid[SESSION_MID_LEN],
    int64_t time_ms);

/*
 * The front end keeps a history: rows are acknowledged only once it has
 * saved what their events gave it.  Call once, before session_start().
 */
void session_ack_after_save(struct session *s);

/*
 * The history now holds, on disk, every event reported so far: the rows
 * handled up to now are acknowledged (0020).
 */
void session_history_saved(struct session *s);

/*
 * How many rows are handled but wait for session_history_saved(): the
 * front end saves soon (SESSION_ACK_MS, at once when SESSION_ACK_ROWS).
 */
size_t session_unsaved(const struct session *s);

/*
 * The peers' sender keys, which a history keeps so that the rows after the
 * ones acknowledged still open after a restart (client/e2e.h): a number
 * that changes whenever they do; the keys appended to out (E_NOMEM); the
 * keys put back, before session_start() (errors of e2e_peer_state_take()).
 */
uint64_t session_peer_keys_gen(const struct session *s);
int session_peer_keys_put(const struct session *s, struct buf *out)
    __attribute__((warn_unused_result));
int session_peer_keys_take(struct session *s, const uint8_t *state,
    size_t len) __attribute__((warn_unused_result));

/* This device's key fingerprint. */
const char *session_fingerprint(const struct session *s);

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
