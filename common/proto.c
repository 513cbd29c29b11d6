/* The protocol's tables (common/proto.h, docs/PROTOCOL.md section 6). */
#include "common/proto.h"

#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const struct proto_op_spec proto_ops[] = {
	{ OP_LOGIN, 2, 2, "login" },
	{ OP_CHAT, 3, 3, "chat" },
	{ OP_QUIT, 0, 0, "quit" },
	{ OP_WHO, 0, 1, "who" },
	{ OP_PING, 1, 1, "ping" },
	{ OP_PONG, 1, 1, "pong" },
	{ OP_JOIN, 1, 1, "join" },
	{ OP_LEAVE, 1, 1, "leave" },
	{ OP_ROOMS, 0, 0, "rooms" },
	{ OP_DEVICES, 1, 1, "devices" },
	{ OP_SENDER_KEY, 3, 3, "sender key" },
	{ OP_ACK, 1, 1, "acknowledgement" },
	{ OP_CLIENT_HELLO, 3, 3, "ClientHello" },
	{ OP_KEY_EXCHANGE, 3, 3, "KeyExchange" },
	{ OP_CLIENT_FINISHED, 1, 1, "ClientFinished" },

	{ OP_LOGIN_RESULT, 2, 2, "login result" },
	{ OP_DELIVERY, 8, 8, "chat delivery" },
	{ OP_PRESENCE, 6, 6, "presence" },
	{ OP_WHO_ENTRY, 3, 3, "who entry" },
	{ OP_SERVER_PONG, 1, 1, "pong" },
	{ OP_SERVER_PING, 1, 1, "ping" },
	{ OP_ERROR, 2, 2, "error" },
	{ OP_CLOSING, 2, 2, "closing" },
	{ OP_DEVICES_END, 2, 2, "end of devices" },
	{ OP_DEVICE, 6, 6, "device" },
	{ OP_LEFT, 1, 1, "left" },
	{ OP_WHO_END, 1, 1, "end of who" },
	{ OP_SENDER_KEY_DELIVERY, 7, 7, "sender key delivery" },
	{ OP_ROOM_ENTRY, 2, 2, "room entry" },
	{ OP_ROOMS_END, 1, 1, "end of rooms" },
	{ OP_STORED, 1, 1, "stored" },
	{ OP_NOT_STORED, 3, 3, "not stored" },
	{ OP_BACKLOG, 1, 1, "backlog" },
	{ OP_MISSED, 1, 1, "missed" },
	{ OP_RECEIPT, 2, 2, "receipt" },
	{ OP_SERVER_HELLO, 4, 4, "ServerHello" },
	{ OP_SERVER_FINISHED, 1, 1, "ServerFinished" },
	{ OP_REFUSED, 2, 2, "refused" },
};

const size_t proto_nops = N_OF(proto_ops);

const struct proto_op_spec *
proto_op_spec(unsigned op)
{
	size_t i;

	for (i = 0; i < proto_nops; i++)
		if ((unsigned)proto_ops[i].op == op)
			return &proto_ops[i];
	return NULL;
}

int
proto_op_from_server(unsigned op)
{
	return op >= 1000;
}

int
proto_token_valid(const char *t, size_t len)
{
	size_t i;

	if (len == 0 || len > PROTO_TOKEN_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= '0' && t[i] <= '9')))
			return 0;
	return 1;
}

static const struct {
	const char *word;
	int normal;                      /* see proto_close_normal() */
	int leave;                       /* its own word in 1003|LEAVE */
} closes[] = {
	[PROTO_CLOSE_QUIT] = { "quit", 1, 1 },
	[PROTO_CLOSE_CLOSED] = { "closed", 1, 1 },
	[PROTO_CLOSE_TIMEOUT] = { "timeout", 1, 1 },
	[PROTO_CLOSE_SHUTDOWN] = { "shutdown", 1, 1 },
	[PROTO_CLOSE_SLOW] = { "slow", 0, 1 },
	[PROTO_CLOSE_LOGIN] = { "login", 0, 0 },
	[PROTO_CLOSE_PROTOCOL] = { "protocol", 0, 0 },
	[PROTO_CLOSE_HANDSHAKE] = { "handshake", 0, 0 },
	[PROTO_CLOSE_NOT_ENROLLED] = { "not_enrolled", 0, 0 },
	[PROTO_CLOSE_BUSY] = { "busy", 0, 0 },
	[PROTO_CLOSE_REVOKED] = { "revoked", 0, 1 },
	[PROTO_CLOSE_REPLACED] = { "replaced", 1, 1 },
	[PROTO_CLOSE_ERROR] = { "error", 0, 1 },
};

const char *
proto_close_word(enum proto_close r)
{
	return (size_t)r < N_OF(closes) ? closes[r].word : "error";
}

int
proto_close_normal(enum proto_close r)
{
	return (size_t)r < N_OF(closes) && closes[r].normal;
}

const char *
proto_close_leave_word(enum proto_close r)
{
	return (size_t)r < N_OF(closes) && closes[r].leave ? closes[r].word :
	    "error";
}

int
proto_leave_stays(const char *reason)
{
	return strcmp(reason, PROTO_LEAVE_LEFT) != 0 &&
	    strcmp(reason, PROTO_LEAVE_REVOKED) != 0;
}

static const char *const errors[] = {
	[PROTO_ERR_MALFORMED] = "malformed",
	[PROTO_ERR_OPCODE] = "opcode",
	[PROTO_ERR_STATE] = "state",
	[PROTO_ERR_TEXT] = "text",
	[PROTO_ERR_ROOM] = "room",
	[PROTO_ERR_USER] = "user",
	[PROTO_ERR_UNAVAILABLE] = "unavailable",
	[PROTO_ERR_FULL] = "full",
	[PROTO_ERR_BUSY] = "busy",
};

const char *
proto_error_word(enum proto_error e)
{
	return (size_t)e < N_OF(errors) ? errors[e] : "malformed";
}

static const char *const logins[] = {
	[PROTO_LOGIN_OK] = "OK",
	[PROTO_LOGIN_INVALID] = "invalid",
	[PROTO_LOGIN_LOCKED] = "locked",
	[PROTO_LOGIN_DISABLED] = "disabled",
	[PROTO_LOGIN_UNAVAILABLE] = "unavailable",
	[PROTO_LOGIN_BUSY] = "busy",
};

const char *
proto_login_word(enum proto_login l)
{
	return (size_t)l < N_OF(logins) ? logins[l] : "invalid";
}

int
proto_login_reason(const char *w)
{
	size_t i;

	for (i = PROTO_LOGIN_OK + 1; i < N_OF(logins); i++)
		if (strcmp(w, logins[i]) == 0)
			return (int)i;
	return -1;
}

int
proto_login_transient(enum proto_login l)
{
	return l == PROTO_LOGIN_UNAVAILABLE || l == PROTO_LOGIN_BUSY;
}
