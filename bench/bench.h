/*
 * missive-bench: what the workloads (bench/missive-bench.c) and the
 * protocol adapters (bench/proto.c) share.  One bench connection speaks
 * one of five protocols: missive (handshake, login, room, records,
 * version 3: stored lines, acknowledged rows), Redis pub/sub (RESP),
 * Redis Streams (XADD, XREADGROUP, XACK: the durable peer), MQTT 3.1.1
 * at QoS 0, or the bare relay (bench/relay.c).  Every protocol carries
 * the same payload bytes.
 */
#ifndef MISSIVE_BENCH_H
#define MISSIVE_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "keydist/handshake.h"
#include "keydist/record.h"

#define BENCH_FRAME_MAX 65536           /* missive max_frame (default) */
#define BENCH_TOPIC "bench"

enum proto { P_MISSIVE, P_REDIS, P_MQTT, P_RELAY, P_STREAMS };

/* What a connection is for. */
enum role {
	R_SUB,          /* receives (Redis: a subscribed connection) */
	R_PUB,          /* sends only */
	R_BOTH,         /* sends and receives (not Redis) */
	R_HANDSHAKE,    /* missive: handshake, then close */
	R_LOGIN,        /* missive: handshake, login, quit */
	R_IDLE,         /* logged in (missive: out of the lobby), idle */
	R_ENROL,        /* a member that goes offline: missive, into the
	                   room and quit; Streams, its consumer group made */
};

enum bstate {
	BS_CONNECTING,
	BS_SETUP,       /* protocol set-up under way */
	BS_READY,
	BS_DONE,        /* finished its job (handshake, login): to close */
	BS_FAILED,
};

struct bench;

struct bconn {
	struct bench *b;
	int fd;
	enum role role;
	enum bstate state;
	int step;                       /* protocol's own sub-state */
	int epout;                      /* EPOLLOUT registered */
	unsigned member;                /* member number (payload id) */
	unsigned account;               /* missive account number */
	struct buf in, out, txplain;
	struct kd_hs *hs;               /* missive: during the handshake */
	struct kd_record_dir tx, rx;
	int keyed;                      /* tx, rx initialised */
	unsigned long long got;         /* deliveries counted */
	/* missive, version 3 */
	long long backlog;              /* 1022's last: rows up to it are
	                                   the backlog, not deliveries */
	long long seq;                  /* highest row received */
	long long acked;                /* highest 0020 sent */
	int in_lobby, in_room;          /* listed after login */
	int answers;                    /* 0011, 0012 not yet answered */
	unsigned long long backlog_got; /* rows of the backlog received */
	/* Streams: the XACK of the entries just read */
	struct buf ack;
	size_t nack;
};

struct bench {
	enum proto proto;
	const char *addr;
	int port;
	/* missive */
	EVP_PKEY *server_key;
	EVP_PKEY **keys;                /* [naccounts], account first + i */
	unsigned first, naccounts;
	const char *prefix;
	char **secrets;                 /* [naccounts]: login secrets, cached
	                                   by load-setup (keydist/login.h) */
	const char *room;               /* NULL: stay out of every room;
	                                   Streams: the stream's key */
	char mid_run[9];                /* 8 hex digits: this run's mids */
	unsigned batch;                 /* Streams: XREADGROUP's COUNT */
	/* counters */
	unsigned long long deliveries, sent;
	unsigned long long lines;       /* lines published in this run, never
	                                   reset: a mid of an earlier size
	                                   would be taken for a retry */
	unsigned long long stored;      /* 1020, XADD answered */
	unsigned long long refused;     /* 1021, an XADD error */
	int64_t t_stored;               /* when the last one was stored */
	unsigned long ready, done, failed;
	unsigned long errors;           /* error frames from the server */
	/* latency samples, in µs (latency mode) */
	uint32_t *lat;
	size_t nlat, caplat;
	int latency;                    /* payloads carry timestamps */
	int64_t *sent_at;               /* [lines]: send times (store_latency) */
	size_t cap_sent_at;
	int store_latency;              /* samples are send-to-stored */
	int keep_buffers;               /* no free and malloc of 64 KiB per
	                                   read (not for 10,000 clients) */
};

/* Monotonic clock in ns. */
int64_t bench_now_ns(void);

/* The payload of member m sent at time t: 16 hex digits of t, 4 digits
   of m, 'x' to size (all base64 characters, as missive wants). */
void bench_payload(char *buf, size_t size, int64_t t, unsigned m);

/* A payload arrived at c. */
void bench_deliver(struct bconn *c, const char *p, size_t n);

/* The sender's line number k is stored (1020, an XADD's answer). */
void bench_stored(struct bench *b, unsigned long long k);

/* Line k was sent now (store_latency): 0, or -1 out of memory. */
int bench_sent_at(struct bench *b, unsigned long long k);

/* Keep one latency sample in µs. */
void bench_sample(struct bench *b, int64_t ns);

/* Protocol adapters (bench/proto.c). */
int proto_start(struct bconn *c);
int proto_input(struct bconn *c);
int proto_publish(struct bconn *c, const char *payload, size_t n);
int proto_flush(struct bconn *c);
void proto_free(struct bconn *c);

#endif
