/*
 * The protocol's vocabulary (docs/PROTOCOL.md): every opcode in both
 * directions with its field counts, the close reasons of 1010, the
 * error codes of 1009 and the login results of 1001.  Server, client,
 * fuzzers and benchmarks all read these tables, so that a word or a
 * field count is written once.
 *
 * Opcodes 0001..0999 go from client to server, 1000..1999 from server to
 * client.
 */
#ifndef MISSIVE_PROTO_H
#define MISSIVE_PROTO_H

#include <stddef.h>

/* The room every connection is put in at login. */
#define PROTO_LOBBY "lobby"

enum proto_op {
	/* Client to server. */
	OP_LOGIN = 1,
	OP_CHAT = 2,
	OP_QUIT = 3,
	OP_WHO = 4,
	OP_PING = 5,
	OP_PONG = 6,
	OP_JOIN = 11,
	OP_LEAVE = 12,
	OP_ROOMS = 13,
	OP_DEVICES = 14,
	OP_SENDER_KEY = 15,
	OP_ACK = 20,                     /* cumulative: rows handled */
	OP_CLIENT_HELLO = 100,           /* handshake (keydist/handshake.h) */
	OP_KEY_EXCHANGE = 101,
	OP_CLIENT_FINISHED = 102,

	/* Server to client. */
	OP_LOGIN_RESULT = 1001,
	OP_DELIVERY = 1002,
	OP_PRESENCE = 1003,
	OP_WHO_ENTRY = 1004,
	OP_SERVER_PONG = 1005,
	OP_SERVER_PING = 1006,
	OP_ERROR = 1009,
	OP_CLOSING = 1010,
	OP_DEVICES_END = 1011,
	OP_DEVICE = 1012,
	OP_LEFT = 1013,
	OP_WHO_END = 1014,
	OP_SENDER_KEY_DELIVERY = 1015,
	OP_ROOM_ENTRY = 1016,
	OP_ROOMS_END = 1017,
	OP_STORED = 1020,                /* a line is committed */
	OP_NOT_STORED = 1021,            /* ... or refused */
	OP_BACKLOG = 1022,               /* the rows stored while away */
	OP_MISSED = 1023,                /* ... and those removed unread */
	OP_RECEIPT = 1024,               /* every device has a line (✓✓) */
	OP_SERVER_HELLO = 1100,          /* handshake */
	OP_SERVER_FINISHED = 1102,
	OP_REFUSED = 1199,
};

/* What an opcode's frame holds: between min and max fields. */
struct proto_op_spec {
	enum proto_op op;
	unsigned char min, max;
	const char *name;                /* for logs and tools */
};

extern const struct proto_op_spec proto_ops[];
extern const size_t proto_nops;

/* The spec of op, or NULL if the protocol has no such opcode. */
const struct proto_op_spec *proto_op_spec(unsigned op);

/* 1 if op goes from server to client, 0 if from client to server. */
int proto_op_from_server(unsigned op);

/*
 * The shortest message (0002) and sender-key blob (0015) there are, in
 * base64 characters (docs/PROTOCOL.md 5.4); the server relays neither
 * shorter (1009|text).  A message (8.2) is id 8, counter 8, a chat line
 * (kind 1, mid 16, time 8, nickname length 1, nickname of at least 1
 * byte, text of at least 1: 28) with its tag 16, and the signature 64:
 * 124 bytes.  A blob (8.1) is 2, wrapped, 2, sig, id 8, Ed25519 key 32,
 * sealed 48, where wrapped and sig are as long as the recipient's and the
 * sender's RSA modulus, at least 384 bytes (KD_RSA_MIN_BITS, 3072): 860.
 */
#define PROTO_MSG_MIN 168                /* b64 of 124 bytes */
#define PROTO_BLOB_MIN 1148              /* b64 of 860 bytes */

/* A ping token (0005, 0006, 1005, 1006): 1 to PROTO_TOKEN_MAX bytes of
   A-Z a-z 0-9. */
#define PROTO_TOKEN_MAX 32
int proto_token_valid(const char *t, size_t len);

/* Why the server closes a connection: 1010's first field, and the log's. */
enum proto_close {
	PROTO_CLOSE_QUIT,                /* the client sent 0003 */
	PROTO_CLOSE_CLOSED,              /* the client went without 0003 */
	PROTO_CLOSE_TIMEOUT,             /* idle, or no login in time */
	PROTO_CLOSE_SHUTDOWN,            /* the server is stopping */
	PROTO_CLOSE_SLOW,                /* its output queue overflowed */
	PROTO_CLOSE_LOGIN,               /* too many failed logins */
	PROTO_CLOSE_PROTOCOL,            /* a record or frame broke the rules */
	PROTO_CLOSE_HANDSHAKE,           /* the handshake failed */
	PROTO_CLOSE_NOT_ENROLLED,        /* 1199: the client key is unknown */
	PROTO_CLOSE_BUSY,                /* the server cannot take it now */
	PROTO_CLOSE_REVOKED,             /* its key revoked, its account
	                                    disabled: do not come back */
	PROTO_CLOSE_REPLACED,            /* the same device logged in again */
	PROTO_CLOSE_ERROR,               /* anything else on our side */
};

/* The reason's word ("quit", "slow", ...). */
const char *proto_close_word(enum proto_close r);

/* 1 for the ways clients end every day (quit, closed, timeout, shutdown),
   which the server logs as information, not as a warning. */
int proto_close_normal(enum proto_close r);

/* The reason a room's members read in `1003|LEAVE` when a connection ends
   this way: quit, closed, timeout, slow, shutdown, or error. */
const char *proto_close_leave_word(enum proto_close r);

/* 1003's first field, and what its reason says (docs/PROTOCOL.md 5.2):
   JOIN, a device is in the room and online; ADD, in the room and
   offline; LEAVE, gone offline (it stays in the room) or, for the
   reasons "left" and "revoked", out of the room. */
#define PROTO_PRESENCE_JOIN "JOIN"
#define PROTO_PRESENCE_ADD "ADD"
#define PROTO_PRESENCE_LEAVE "LEAVE"
#define PROTO_LEAVE_LEFT "left"          /* its user left the room */
#define PROTO_LEAVE_REVOKED "revoked"    /* its key or account ended */

/* 1 if a device that LEAVEs for reason stays in the room (offline). */
int proto_leave_stays(const char *reason);

/* 1012's and 1004's last field. */
#define PROTO_STATE_ONLINE "online"
#define PROTO_STATE_OFFLINE "offline"

/* 0002's, 1002's, 1020's and 1021's mid: the 16-byte message id in
   lowercase hex. */
#define PROTO_MID_HEX 32

/* 1009's first field, and 1021's second: why a frame (or the line of a
   0002) was refused; the connection stays. */
enum proto_error {
	PROTO_ERR_MALFORMED,             /* bad frame or field */
	PROTO_ERR_OPCODE,                /* unknown opcode */
	PROTO_ERR_STATE,                 /* not allowed now */
	PROTO_ERR_TEXT,                  /* a message or blob not plausible */
	PROTO_ERR_ROOM,                  /* section 5.2 */
	PROTO_ERR_USER,                  /* no such user (or no device) */
	PROTO_ERR_UNAVAILABLE,           /* the database is down */
	PROTO_ERR_FULL,                  /* storage refused the rows */
	PROTO_ERR_BUSY,
};

const char *proto_error_word(enum proto_error e);

/* 1001's outcome: OK, or the reason after ERR. */
enum proto_login {
	PROTO_LOGIN_OK,
	PROTO_LOGIN_INVALID,             /* user, password or key wrong */
	PROTO_LOGIN_LOCKED,
	PROTO_LOGIN_DISABLED,
	PROTO_LOGIN_UNAVAILABLE,         /* the account database is down */
	PROTO_LOGIN_BUSY,                /* the server is overloaded */
};

/* 1001's first field when the login is refused (then the reason). */
#define PROTO_LOGIN_REFUSED "ERR"

/* "OK" for PROTO_LOGIN_OK, else the reason's word. */
const char *proto_login_word(enum proto_login l);

/* The reason whose word is w (never PROTO_LOGIN_OK); -1 if none. */
int proto_login_reason(const char *w);

/* 1 if l is worth trying again later by itself (unavailable, busy). */
int proto_login_transient(enum proto_login l);

#endif
