/*
 * The protocol's families, for server/protocol.c's table and input loop:
 * the handshake (server/handshake.c), login (server/login.c), and rooms,
 * private conversations, messages and sender keys (server/relay.c).
 * Loop thread only.
 */
#ifndef MISSIVE_HANDLERS_H
#define MISSIVE_HANDLERS_H

#include "common/frame.h"
#include "server/conn.h"

/* ---- handshake.c: each uses c->in; 1 when it must wait for more bytes,
   a worker, or the connection failed ---- */
int on_client_hello(struct conn *c);
int on_key_exchange(struct conn *c);
int on_client_finished(struct conn *c);

/* ---- login.c ---- */

/* At most this many 0001 on one connection; the last failure closes it. */
#define LOGIN_TRIES_MAX 3

void on_login(struct conn *c, const struct frame *f);

/* Send the refusal that waited for its delay (c->delayed), now due. */
void login_refusal_due(struct conn *c);

/* ---- relay.c ---- */
void on_join(struct conn *c, const struct frame *f);
void on_part(struct conn *c, const struct frame *f);
void on_list_rooms(struct conn *c, const struct frame *f);
void on_who(struct conn *c, const struct frame *f);
void on_devices(struct conn *c, const struct frame *f);
void on_chat(struct conn *c, const struct frame *f);
void on_sender_key(struct conn *c, const struct frame *f);

/* c has logged in as c->user: index it (0), or E_NOMEM. */
int relay_online(struct conn *c) __attribute__((warn_unused_result));

/* c, logged in, is going: out of every room (telling the members why)
   and out of the index. */
void relay_offline(struct conn *c, enum proto_close why);

#endif
