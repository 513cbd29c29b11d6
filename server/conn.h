/*
 * The server's state shared by its two halves: server/loop.c (epoll,
 * sockets, buffers, timers, signals) and server/protocol.c (what the bytes
 * mean: handshake, login, chat, presence).  Loop thread only.
 */
#ifndef MISSIVE_CONN_H
#define MISSIVE_CONN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/text.h"
#include "keydist/handshake.h"
#include "keydist/record.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/rooms.h"

enum conn_state {
	CONN_HELLO,          /* waiting for ClientHello (plain line) */
	CONN_KEYX,           /* waiting for the KeyExchange record */
	CONN_KEYX_PENDING,   /* a worker opens the envelope; input paused */
	CONN_FINISHED,       /* waiting for ClientFinished */
	CONN_OPEN,           /* keys confirmed; not logged in */
	CONN_LOGIN_PENDING,  /* a worker checks the password */
	CONN_LOGGED_IN,
};

/* A notice ready to send at a later time (a delayed login answer). */
struct conn_delayed {
	uint64_t due_ms;             /* 0 = none */
	char frame[64];
};

struct conn {
	struct server *srv;
	struct conn *prev, *next;            /* every connection */
	struct conn *dirty_next;             /* on the to-flush list */
	struct conn *dead_next;              /* on the to-close list */
	int fd;
	uint64_t id;                         /* for logs; never reused */
	char ip[INET6_ADDRSTRLEN];
	char addr[INET6_ADDRSTRLEN + 8];     /* ip:port */
	enum conn_state state;
	unsigned epoll_mask;                 /* events registered now */
	int dirty, dead, paused;
	unsigned jobs;                       /* worker jobs not yet done */

	struct kd_hs *hs;                    /* during the handshake only */
	int owner_r;                         /* key owner lookup result */
	char owner[NAME_USER_MAX + 1];       /* user the key is enrolled for */
	char key_fp[KD_FP_SIZE];             /* the client key's fingerprint */
	char *spki;                          /* b64(its DER SPKI), for peers */
	struct kd_record_dir rx, tx;
	struct buf in;                       /* received, not yet used */
	struct buf pend;                     /* frames to seal this pass */
	struct buf out;                      /* bytes to write */

	uint64_t accepted_ms, last_rx_ms;
	int ping_out;                        /* a 1006 is unanswered */
	unsigned login_tries;
	struct conn_delayed delayed;
	char user[NAME_USER_MAX + 1];
	char nick[NAME_NICK_MAX * 4 + 1];
	struct room_client rooms;            /* the rooms it is in */

	/* Why it is being closed (set with dead). */
	char close_reason[16];
	char close_detail[128];
	int notify;                          /* send 1010 before closing */
};

struct worker_pool;
struct throttle;

struct server {
	const struct server_config *cfg;
	EVP_PKEY *key;
	unsigned char *key_spki;      /* key's DER SPKI, made once */
	size_t key_spki_len;
	struct auth_settings auth;
	int epfd, lfd, sigfd;
	struct worker_pool *pool;
	struct throttle *login_fails;        /* "u:name" and "a:ip" */
	struct throttle *conn_rate;          /* per ip */
	struct conn *conns;                  /* every connection */
	struct conn *dirty;                  /* frames waiting to be sealed */
	struct conn *dead;                   /* to close after this pass */
	size_t nconns, nlogged;
	struct rooms rooms;
	uint64_t next_id;
	uint64_t now_ms;                     /* monotonic, once per pass */
	int spare_fd;                        /* given up to refuse at EMFILE */
	int fds_exhausted;                   /* logged once per episode */
	int accept_paused;                   /* out of memory for sockets */
	uint64_t accept_resume_ms;
	uint64_t next_delayed_ms;            /* earliest delayed answer, 0 */
	int db_down;                         /* logged once per outage */
	int stopping;
};

/* epoll_event.data.ptr of the fds that are not connections (loop.c). */
extern char server_tag_listen, server_tag_signal, server_tag_pool;

/* ---- loop.c, for protocol.c ---- */

/*
 * Queue one frame (without LF) to be sealed into c's next record.  A
 * client whose queue passes limits.output_queue_max is dropped (slow).
 */
void conn_send(struct conn *c, const char *frame, size_t len);

/* Queue a plain handshake line (ServerHello) with its LF. */
void conn_send_plain(struct conn *c, const char *line, size_t len);

/*
 * Close c after this loop pass.  reason: the word for logs and for the
 * leave notice; notify: first send `1010|reason|detail` if c has keys.
 */
void conn_fail(struct conn *c, const char *reason, int notify,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Free c if it is closed, no worker job refers to it and it is not on
   the dirty list. */
void conn_release(struct conn *c);

/* Stop (1) or resume (0) reading from c (while a worker has its state). */
void conn_pause(struct conn *c, int paused);

/* ---- protocol.c, for loop.c ---- */

/* Use the bytes in c->in (called after each read). */
void protocol_input(struct conn *c);

/* Once a second: timeouts and keepalive pings; delayed answers when due. */
void protocol_tick(struct conn *c, uint64_t now_ms);

/* Send the delayed answers that are due (server->next_delayed_ms). */
void protocol_due(struct server *s);

/* c is being closed: if it was logged in, leave its rooms and tell
   their members. */
void protocol_leave(struct conn *c);

/* Free what the protocol part of c holds (hs, keys, spki). */
void protocol_free(struct conn *c);

#endif
