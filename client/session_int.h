/*
 * Inside the client core: the session struct and what its files share,
 * declared below file by file:
 *
 *   client/session.c  the session's life (start, loss, reconnect, end),
 *                     timers, requests
 *   client/conn.c     connections, the handshake, records in and out
 *   client/frames.c   frames from the server once the handshake is done
 *   client/convs.c    rooms and private conversations: commands, frames
 *   client/outbox.c   chat lines waiting, unconfirmed, sent again
 *   client/inbox.c    rows received: their seq, acknowledgements, the
 *                     backlog
 *   client/peers.c    trust checks on peer keys, the key commands
 *   client/devset.c   each conversation's device set as last shown
 *
 * Front ends use client/session.h only.
 */
#ifndef MISSIVE_CLIENT_SESSION_INT_H
#define MISSIVE_CLIENT_SESSION_INT_H

#include <stddef.h>
#include <stdint.h>

#include "client/e2e.h"
#include "client/net.h"
#include "client/session.h"
#include "client/trust.h"
#include "common/buf.h"
#include "common/frame.h"
#include "common/proto.h"
#include "keydist/handshake.h"
#include "keydist/record.h"

#define CS_MSG_MAX 512                /* our own event texts */

/*
 * A session goes IDLE -> LOOKUP -> CONNECT -> HELLO -> FINISHED -> LOGIN
 * -> OPEN, and from any of LOOKUP..OPEN to WAIT when the connection or the
 * attempt is lost, then back to LOOKUP when the backoff has passed.  Quit
 * goes from OPEN to QUIT (0003 sent, waiting for the goodbye).  END is
 * final (s->end says why).  The connection's resources (fd, handshake,
 * records, buffers) exist in LOOKUP..QUIT, and after a loss or the end
 * until the call from the front end returns (see cs_enter() below).
 */
enum cs_state {
	ST_IDLE,        /* session_start() not called yet */
	ST_LOOKUP,      /* looking up the host name */
	ST_CONNECT,     /* TCP connect in progress */
	ST_HELLO,       /* ClientHello sent, waiting for ServerHello */
	ST_FINISHED,    /* KeyExchange and ClientFinished sent, waiting for
	                   ServerFinished (or 1199) */
	ST_LOGIN,       /* 0001 sent, waiting for 1001 */
	ST_OPEN,        /* logged in */
	ST_QUIT,        /* 0003 sent, waiting for 1010 or the close */
	ST_WAIT,        /* waiting to reconnect */
	ST_END,         /* over */
};

/*
 * Sets of states, one for each question asked about a state, so that each
 * is answered here only: cs_in(s, CS_STREAM) and so on.
 */
#define CS_IN(st) (1u << (st))
/* Logged in: the server's room and message frames may come. */
#define CS_LOGGED_IN (CS_IN(ST_OPEN) | CS_IN(ST_QUIT))
/* The handshake is done: records are keyed both ways. */
#define CS_SECURED (CS_IN(ST_LOGIN) | CS_LOGGED_IN)
/* The socket carries the handshake or records: read it, write to it. */
#define CS_STREAM (CS_IN(ST_HELLO) | CS_IN(ST_FINISHED) | CS_SECURED)
/* s->fd is the connection's socket. */
#define CS_SOCKET (CS_IN(ST_CONNECT) | CS_STREAM)
/* An attempt or a connection is under way: cs_lost() ends it. */
#define CS_CONNECTION (CS_IN(ST_LOOKUP) | CS_SOCKET)
/* Not logged in yet: the connect deadline runs. */
#define CS_ATTEMPT (CS_CONNECTION & ~CS_LOGGED_IN)
/* Quitting or over: nothing new is sent or queued. */
#define CS_CLOSING (CS_IN(ST_QUIT) | CS_IN(ST_END))

/* Where this connection is in the rows stored for us (1022). */
enum cs_backlog {
	CS_BACKLOG_NONE,              /* no 1022 yet: rows are live */
	CS_BACKLOG_ON,                /* rows up to backlog_last are stored */
	CS_BACKLOG_DONE,              /* all of them came: rows are live */
};

/* A line of ours the server stored (SESSION_EV_SENT). */
#define CS_SENT_RECENT 64
struct cs_sent {
	uint8_t mid[E2E_MID_LEN];
	char conv[E2E_CONV_MAX + 1];
	char *text;                   /* NULL: a free slot */
	size_t size;                  /* of text, with its NUL */
};

struct session {
	session_event_fn *on_event;
	void *arg;
	EVP_PKEY *key;                /* our private key (own reference) */
	EVP_PKEY *server_key;         /* the pinned key (own reference) */
	char own_fp[KD_FP_SIZE];
	char pinned_fp[KD_FP_SIZE];
	char *host;
	char port[8];
	char *user;
	char nick[NAME_NICK_MAX + 1]; /* ours, from the last login (net) */
	char *secret;                 /* the login secret (keydist/login.h),
	                                 never the password: kept for
	                                 logging in again; wiped */
	size_t secret_len;
	size_t max_frame;
	int64_t reconnect_min_ms;
	int64_t reconnect_max_ms;     /* 0: never reconnect */
	int64_t keepalive_ms;         /* 0: no keepalive */

	enum cs_state state;
	enum session_end end;
	int quit_wanted;              /* quit once the queue has gone out */
	int handshaked;               /* a handshake has succeeded once: from
	                                 then on a lost connection is retried */

	/* What cs_leave() has left to do when the outermost call returns. */
	unsigned busy;                /* calls from the front end under way */
	int lost;                     /* report the loss (then reconnect or
	                                 end): lost_err, lost_why */
	int lost_err;
	char lost_why[CS_MSG_MAX];
	int ended;                    /* report the end (s->end): end_err,
	                                 end_why */
	int end_err;
	char end_why[CS_MSG_MAX];

	/* The current connection (or attempt). */
	struct net_lookup *lookup;
	struct addrinfo *addrs;       /* the lookup's result */
	struct addrinfo *next_addr;   /* the next one to try */
	char addr_text[NET_ADDR_TEXT_MAX];    /* the address being used */
	char connect_err[CS_MSG_MAX]; /* why the last address failed */
	int fd;
	struct kd_hs hs;
	struct kd_record_dir tx, rx;
	struct buf in;                /* bytes from the server */
	struct buf out;               /* bytes for the server */
	struct buf txplain;           /* frames to seal into the next record */

	struct buf queue;             /* frames waiting for the next login */
	size_t queued;                /* how many */

	struct e2e e2e;               /* conversations and their keys */
	struct trust *trust;          /* pinned peer keys (known_keys) */
	struct cs_warned *warned;     /* changed keys already reported
	                                 (client/peers.c) */
	size_t nwarned;
	struct cs_devset *devsets;    /* client/devset.c */
	char flushing[E2E_CONV_MAX + 1]; /* a waiting line of this
	                                 conversation is being sent ("" when
	                                 not): refusals name it and ... */
	uint8_t flushing_mid[E2E_MID_LEN]; /* ... the line */

	int64_t now;                  /* the caller's clock, last we heard */
	int64_t deadline;             /* LOOKUP..LOGIN: give up the attempt;
	                                 QUIT: stop waiting for goodbye */
	int64_t reconnect_at;         /* WAIT: next attempt */
	int64_t backoff_ms;           /* the next reconnect delay */
	int64_t last_rx;              /* last authenticated record */
	int ping_sent;                /* pinged since last_rx */
	unsigned ping_count;          /* makes the tokens */

	/* Rows received (client/inbox.c); seqs are the server's, per
	   device, kept across connections. */
	int ack_after_save;           /* the front end keeps a history: a row
	                                 is handled once it is saved */
	int64_t handled_seq;          /* every row up to it shown or refused */
	int64_t saved_seq;            /* ... and saved in the history */
	int64_t acked_seq;            /* the last 0020 sent */
	int64_t conn_seq;             /* the highest seq of this connection */
	int64_t ack_at;               /* when an 0020 is due, or 0 */
	enum cs_backlog backlog;
	int64_t backlog_last;         /* 1022's: rows up to it are stored */
	long long backlog_lines;      /* lines of the backlog shown */

	/* Our lines the server stored lately (client/outbox.c): what a
	   receipt (1024) names, a ring. */
	struct cs_sent sent[CS_SENT_RECENT];
	size_t sent_next;
};

/* A changed peer key reported once per session. */
struct cs_warned {
	char user[NAME_USER_MAX + 1];
	char fp[KD_FP_SIZE];
};

/* One device of a conversation's set: a user's key. */
struct cs_dev {
	char user[NAME_USER_MAX + 1];
	char fp[KD_FP_SIZE];
	int online;                   /* not part of what makes a change */
};

/* A conversation's device set as the user was last shown it. */
struct cs_devset {
	struct cs_devset *next;
	char conv[E2E_CONV_MAX + 1];
	struct cs_dev *dev;           /* sorted by user, then key */
	size_t ndev;
	int known;                    /* listed at least once */
	int offline;                  /* lines were queued (or put back)
	                                 while not logged in */
	int held;                     /* they wait for session_resend() or
	                                 session_drop() */
};

/* 1 if the session is in one of the states of set (CS_*). */
static inline int
cs_in(const struct session *s, unsigned set)
{
	return (set & CS_IN(s->state)) != 0;
}

/* ---- client/session.c ---- */

/*
 * Closing late.  The event callback may call commands, and a command may
 * lose the connection or end the session; so may a frame, halfway through
 * a record.  cs_lost(), cs_fatal() and cs_finish() therefore only change
 * the state (every check from then on sees it, nothing more is sent) and
 * note the rest: the connection is closed, its buffers freed and the loss
 * or end reported when the outermost call from the front end returns.  So
 * no code ever returns into freed or reset state; what it may need to ask
 * after an event is only the state.
 *
 * Every public entry point that may report anything (and so run the
 * callback, which may call more of them) starts with cs_enter() and
 * returns through cs_leave(s, its result); only the outermost settles.
 */
void cs_enter(struct session *s);
int cs_leave(struct session *s, int r);

/* Report one event. */
void cs_emit(struct session *s, const struct session_event *ev);

/*
 * The connection or attempt ended (why: printf format): WAIT now; when the
 * call returns, close and report it, then reconnect later, or end the
 * session if that is not allowed.  Nothing if no attempt or connection is
 * under way (the first loss is the one reported).
 */
void cs_lost(struct session *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * End the session for good: END now, report first (if not NULL) at once;
 * when the call returns, close and report SESSION_EV_FATAL with the
 * message.  Commands are refused from then on, also from the callbacks of
 * these events.
 */
void cs_fatal(struct session *s, enum session_end end, int err,
    const struct session_event *first, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* End the session after a quit: END now, SESSION_EV_DONE when the call
   returns. */
void cs_finish(struct session *s);

/* Send 0003 and wait for the server's goodbye. */
void cs_send_quit(struct session *s);

/* After a quit asked for while lines were waiting: quit once they are
   gone. */
void cs_quit_if_drained(struct session *s);

/* Report a refused command as an error event; returns err.  While a
   waiting line is sent (s->flushing) the event names it: room, mid. */
int cs_refuse(struct session *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Report n waiting lines of cv dropped, never sent; returns err. */
int cs_refuse_lines(struct session *s, const struct e2e_conv *cv, size_t n,
    int err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Refuse a line or request while quitting or over: E_STATE, else 0. */
int cs_refuse_closing(struct session *s);

/* Send a frame now if logged in, else queue it for the next login. */
int cs_send_or_queue(struct session *s, unsigned opcode,
    const struct frame_field *f, size_t n)
    __attribute__((warn_unused_result));

/* ---- client/conn.c ---- */

/* Start a connection attempt (LOOKUP). */
void cs_attempt(struct session *s);

/* LOOKUP: the lookup's fd is readable. */
void cs_lookup_ready(struct session *s);

/* CONNECT: the socket is writable (or failed). */
void cs_connect_ready(struct session *s);

/* Read what the socket has and handle it. */
void cs_read(struct session *s);

/* Send what the socket takes of s->out; the rest waits for POLLOUT. */
void cs_write(struct session *s);

/* Seal s->txplain into a record and send what the socket takes. */
void cs_flush(struct session *s);

/* ---- client/frames.c ---- */

/*
 * Handle one frame (without its LF; f[len] is the LF and may be
 * overwritten) from the server in LOGIN, OPEN or QUIT.
 */
void cs_frame(struct session *s, char *f, size_t len);

/* A decimal count field: 0 and *v, or -1. */
int cs_parse_count(const char *t, long long *v);

/* ---- client/convs.c ---- */

/* Logged in: join our rooms again, ask for the devices of private
   conversations with lines waiting. */
void cs_rooms_login(struct session *s);

/* Frames about rooms and end-to-end messages (1002 and 1015 are rows:
   client/inbox.c). */
void cs_on_devices_end(struct session *s, char **f, size_t n);
void cs_on_device(struct session *s, char **f, size_t n);
void cs_on_who(struct session *s, char **f, size_t n);
void cs_on_presence(struct session *s, char **f, size_t n);
void cs_on_left(struct session *s, char **f, size_t n);
void cs_on_room(struct session *s, char **f, size_t n);
void cs_on_rooms_end(struct session *s, char **f, size_t n);

/* Ask the server for the devices of a private conversation (0014). */
void cs_ask_devices(struct session *s, struct e2e_conv *cv);

/*
 * One row without its seq: 1002's mid, nickname, user, fp, conv,
 * timestamp, message; 1015's conv, user, nickname, fp, spki, blob.
 * backlog: stored while we were away (docs/PROTOCOL.md 8, backlog
 * rows).  Returns 1 if a line was shown, 0 if the row was handled
 * otherwise (refused, dropped), -1 if it broke the protocol (the
 * connection is lost).
 */
int cs_chat_row(struct session *s, char **f, int backlog);
int cs_sender_key_row(struct session *s, char **f, int backlog);

/* ---- client/inbox.c ---- */

/* 1002 and 1015: the row's seq, then the row. */
void cs_on_chat(struct session *s, char **f, size_t n);
void cs_on_receipt(struct session *s, char **f, size_t n);
void cs_on_sender_key(struct session *s, char **f, size_t n);

/* 1022|last: the backlog follows. */
void cs_on_backlog(struct session *s, char **f, size_t n);

/* Logged in: a new connection, no backlog yet. */
void cs_inbox_login(struct session *s);

/* OPEN: send the acknowledgement if it is due (or, with now, at once). */
void cs_ack_tick(struct session *s, int now);

/* When the acknowledgement is due, or -1. */
int64_t cs_ack_due(const struct session *s);

/* ---- client/outbox.c ---- */

/*
 * Encrypt and send one line (its message id mid) to cv, whose devices
 * are known, and keep it until the server confirms it.  0, or the
 * refusal, reported.
 */
int cs_send_line(struct session *s, struct e2e_conv *cv,
    const uint8_t mid[E2E_MID_LEN], const char *text, size_t len);

/* Queue one line in cv until its devices are known.  0, or the refusal
   (too many lines waiting, E_NOMEM), reported. */
int cs_queue_line(struct session *s, struct e2e_conv *cv,
    const uint8_t mid[E2E_MID_LEN], const char *text, size_t len);

/* Logged in and the devices of the conversation called name known: send
   the lines waiting in it, in order. */
void cs_flush_pending(struct session *s, const char *name);

/* Forget the lines waiting in cv and the unconfirmed ones, saying why
   (when why is not NULL); returns how many were waiting. */
size_t cs_drop_pending(struct session *s, struct e2e_conv *cv,
    const char *why);

/* Forget every chat line waiting in a conversation (reporting them);
   returns how many. */
size_t cs_pending_drop_all(struct session *s);

/* Chat lines waiting in conversations. */
size_t cs_pending_count(const struct session *s);

/* 1020|mid: the line is stored, confirmed.  1021|mid|code|message: it is
   not, and dropped (reported). */
void cs_on_stored(struct session *s, char **f, size_t n);
void cs_on_not_stored(struct session *s, char **f, size_t n);

/* Every device has fetched our line mid (1024): SESSION_EV_DELIVERED,
   with its conversation and text if it was sent in this session. */
void cs_delivered(struct session *s, const uint8_t mid[E2E_MID_LEN]);

/* Wipe and free the ring of lines stored lately. */
void cs_sent_free(struct session *s);

/*
 * The connection is gone: put the lines the server has not confirmed back
 * in front of their conversation's queue, to go out again (with the same
 * message ids) after the next login, if its devices are still the same
 * (every queue left is marked so).  Returns how many.
 */
size_t cs_requeue_unconfirmed(struct session *s);

/* ---- client/peers.c ---- */

/* How far the key fp of user's device is trusted. */
enum session_trust cs_trust_of(const struct session *s, const char *user,
    const char *fp);

/*
 * A peer device's key from the directory: pin it if it is the first for
 * its user, report it once if it is not the pinned one.
 */
void cs_check_peer(struct session *s, const char *user, const char *fp);

/* 0 if every device of cv has an accepted key, else E_UNTRUSTED (the
   refusal naming the first that has not, reported). */
int cs_check_devices(struct session *s, const struct e2e_conv *cv);

/* ---- client/devset.c ---- */

/* The set of conv; made (empty, not known) if create; NULL if not, or on
   E_NOMEM. */
struct cs_devset *cs_devset_of(struct session *s, const char *conv,
    int create);

/*
 * cv's devices are current (a list ended, or one came or went): remember
 * them as its set.  Returns 1 if a set known before differs, with what
 * came and went in diff ("+carol SHA256:.., -bob SHA256:.."); 0 if not;
 * E_NOMEM (the set stays as it was).
 */
int cs_devset_update(struct session *s, const struct e2e_conv *cv,
    char *diff, size_t cap);

/* Forget the set of conv (we left it). */
void cs_devset_forget(struct session *s, const char *conv);

/* Forget every set. */
void cs_devset_free_all(struct session *s);

/* 1 if lines of conv are held (SESSION_EV_HELD). */
int cs_devset_held(struct session *s, const char *conv);

#endif
