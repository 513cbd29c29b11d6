/*
 * The protocol's families, for server/protocol.c's table and input loop:
 * the handshake (server/handshake.c) with the snapshot of enrolled keys it
 * checks first (server/refresh.c), login (server/login.c), rooms and
 * private conversations (server/relay.c), messages and sender keys
 * (server/messages.c); acknowledgements are server/inbox.h's.
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

/* A refresh of the snapshot has ended (checked: it worked) after c
   parked its KeyExchange: go on with it, or refuse the key. */
void handshake_resume(struct conn *c, int checked);

/* Free the KeyExchange c parked, if any (c is going). */
void handshake_free_parked(struct conn *c);

/* ---- refresh.c: the snapshot of enrolled keys ---- */

/*
 * Start a refresh of s->enrolled on a worker unless one runs: on the
 * tick (urgent 0: once a second), or for a key it does not know (urgent
 * 1: at once, if the last one started REFRESH_MIN_GAP_MS ago).  When it
 * ends, the sessions of keys revoked (or accounts disabled) since are
 * closed (1010|revoked) and the parked handshakes go on.
 */
void refresh_start(struct server *s, int urgent);

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

/* The room named by f that c's user is in, or NULL (*why says why). */
struct room *relay_my_room(struct conn *c, const struct frame_field *f,
    const char **why);

/* c's user joins the room name[0..len) (0011): durable, its member list
   to every connection of the user. */
void relay_join(struct conn *c, const char *name, size_t len);

/* The key directory was refreshed (s->enrolled is the new one): devices
   enrolled since are ADDed to their users' rooms, those revoked or of
   accounts disabled LEAVE them (revoked), for the members online. */
void relay_directory_changed(struct server *s, const struct enrolled *old);

/* A new account, already put in the lobby in the database (refresh.c):
   there in memory too, told to the lobby and to its connections. */
void relay_newcomer(struct server *s, const char *user);

/* c has logged in as c->user (its device in the online index): index it
   by user, tell its rooms and send their lists (0), or E_NOMEM. */
int relay_online(struct conn *c) __attribute__((warn_unused_result));

/* c, logged in, is going: offline in its user's rooms (telling the
   members why), out of the indexes.  Its user stays a member. */
void relay_offline(struct conn *c, enum proto_close why);

/* ---- messages.c ---- */
void on_chat(struct conn *c, const struct frame *f);
void on_sender_key(struct conn *c, const struct frame *f);

#endif
