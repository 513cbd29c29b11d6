/*
 * The server's state shared by its parts: server/loop.c (epoll, accept,
 * tick, signals), server/conn.c (a connection's socket and buffers) and
 * server/protocol.c with its families (what the bytes mean: handshake,
 * login, rooms and messages).  Loop thread only.
 */
#ifndef MISSIVE_CONN_H
#define MISSIVE_CONN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/proto.h"
#include "common/text.h"
#include "keydist/handshake.h"
#include "keydist/record.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/enrolled.h"
#include "server/members.h"
#include "server/retention.h"
#include "server/rooms.h"
#include "server/store.h"
#include "server/throttle.h"
#include "server/users.h"

enum conn_state {
	CONN_HELLO,          /* waiting for ClientHello (plain line) */
	CONN_KEYX,           /* waiting for the KeyExchange record */
	CONN_KEYX_PENDING,   /* a worker opens the envelope; input paused */
	CONN_FINISHED,       /* waiting for ClientFinished */
	CONN_OPEN,           /* keys confirmed; not logged in */
	CONN_LOGIN_PENDING,  /* a worker checks the password */
	CONN_LOGIN_DELAYED,  /* a refusal waits for its delay (conn_delayed) */
	CONN_LOGGED_IN,
};

/* A login refusal to send at a later time. */
struct conn_delayed {
	uint64_t due_ms;             /* 0 = none */
	enum proto_login reason;
};

#define CONN_ADDR_MAX (INET6_ADDRSTRLEN + 8)     /* "[ip]:port" */

struct conn {
	struct server *srv;
	struct conn *prev, *next;            /* every connection */
	struct conn *dirty_next;             /* on the to-flush list */
	struct conn *dead_next;              /* on the to-close list */
	int fd;
	uint64_t id;                         /* for logs; never reused */
	char ip[INET6_ADDRSTRLEN];
	char prefix[THROTTLE_PREFIX_MAX];    /* what limits count (throttle.h) */
	char addr[CONN_ADDR_MAX];            /* ip:port */
	enum conn_state state;
	unsigned epoll_mask;                 /* events registered now */
	int dirty, dead, paused;
	unsigned jobs;                       /* worker jobs not yet done */

	struct kd_hs *hs;                    /* during the handshake only */
	struct worker_job *parked;           /* a KeyExchange of a key not in
	                                        the snapshot, waiting for the
	                                        refresh numbered parked_for */
	uint64_t parked_for;
	uint64_t admitted_gen;               /* refreshes started when its
	                                        handshake was checked */
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
	struct member *member;               /* its user's rooms */
	struct user_link by_user;            /* logged in: its user's others */

	/* Its device's inbox (server/inbox.c), once logged in. */
	long long dev;                       /* its key's client_keys.key_id */
	struct conn *dev_next;               /* online devices, same bucket */
	long long delivered;                 /* the highest seq sent to it */
	long long acked;                     /* ... and acknowledged by it */
	struct storage_item *ack_item;       /* its 0020 in the open batch */
	struct store_lost *keys_lost;        /* conversations whose sender
	                                        key was not stored (store.c) */
	int live;                            /* backlog done: rows go out as
	                                        they are committed */
	int reading;                         /* a backlog page is read */
	int read_waiting;                    /* ... once its output drains */
	int missed;                          /* rows came while not live */
	int backlog_told;                    /* 1022 sent */
	uint64_t read_retry_ms;              /* a failed read: retry then */

	/* Why it is being closed (set with dead). */
	enum proto_close close_reason;
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
	unsigned hs_jobs;                    /* handshake jobs not yet done */
	unsigned hs_jobs_max;                /* ... at most, so that a flood
	                                        leaves logins room */
	struct enrolled enrolled;            /* the snapshot (refresh.c) */
	int enrolled_loaded;                 /* at least one refresh worked */
	uint64_t refresh_gen;                /* refreshes started */
	int refresh_busy;                    /* one is running */
	uint64_t refresh_started_ms;
	uint64_t refusal_window_ms;          /* authenticated refusals of */
	unsigned refusals;                   /* unknown keys this second */
	struct throttle *login_fails;        /* "u:name", "k:fp" and "a:ip" */
	struct throttle *conn_rate;          /* "c:prefix" connections and
	                                        "r:prefix" refusals */
	struct conn *conns;                  /* every connection */
	struct conn *dirty;                  /* frames waiting to be sealed */
	struct conn *dead;                   /* to close after this pass */
	size_t nconns, nlogged;
	struct rooms rooms;                  /* durable: their clients are */
	struct members members;              /* ... the member users */
	struct users users;                  /* logged-in connections by user */
	struct conn **online;                /* devices by key id (inbox.c) */
	struct store store;                  /* the writer (store.c) */
	struct retention retention;          /* purges (retention.c) */
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
extern char server_tag_listen, server_tag_signal, server_tag_pool,
    server_tag_store;

/* ---- conn.c ---- */

/* A new connection on fd (accepted, admitted) from ip, addr ("ip:port");
   on failure fd is closed and the reason logged. */
void conn_open(struct server *s, int fd, const char *ip, const char *addr);

/*
 * Queue one frame (without LF) to be sealed into c's next record.  A
 * client whose queue passes limits.output_queue_max is dropped (slow).
 */
void conn_send(struct conn *c, const char *frame, size_t len);

/* The same for a frame in two parts (a stored row and its seq). */
void conn_send_parts(struct conn *c, const char *head, size_t hlen,
    const char *rest, size_t rlen);

/* Queue a plain handshake line (ServerHello) with its LF. */
void conn_send_plain(struct conn *c, const char *line, size_t len);

/*
 * Close c after this loop pass.  reason: for logs and for the leave
 * notice; notify: first send `1010|reason|detail` if c has keys.
 */
void conn_fail(struct conn *c, enum proto_close reason, int notify,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Stop (1) or resume (0) reading from c (while a worker has its state). */
void conn_pause(struct conn *c, int paused);

/* Read what c's socket has (within a budget) and hand it to
   protocol_input(). */
void conn_read(struct conn *c);

/* Seal the queued frames into records and write as much as the socket
   takes. */
void conn_flush(struct conn *c);

/* Queue and flush the 1010 notice if conn_fail() asked for it. */
void conn_send_notice(struct conn *c);

/* Send the closing notice, close the socket, leave the rooms (telling
   their members), unlink c from the server. */
void conn_close(struct conn *c);

/* Free c if it is closed, no worker job refers to it and it is not on
   the dirty list. */
void conn_release(struct conn *c);

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
