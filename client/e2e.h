/*
 * End-to-end state of the client core (docs/PROTOCOL.md section 8): the
 * conversations (rooms and private ones), the devices in each, our sender
 * key for each and the peers' sender keys we hold (which a history keeps
 * across a restart: e2e_peer_state_put(), _take()).  Sans I/O: sealing
 * appends frames to a buffer, opening takes the fields of a frame.  Whether
 * a peer key is trusted is the caller's business (client/trust.h); this
 * module only checks that a key matches its fingerprint.
 */
#ifndef MISSIVE_CLIENT_E2E_H
#define MISSIVE_CLIENT_E2E_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/text.h"
#include "keydist/keys.h"
#include "keydist/senderkey.h"

#define E2E_CONV_MAX (1 + NAME_USER_MAX)        /* "room" or "@user" */
#define E2E_BOUND_MAX (2 * NAME_USER_MAX + 2)   /* "@alice,bob" */
#define E2E_PEER_KEYS_MAX 4     /* sender keys kept per peer device */
#define E2E_KIND_TEXT 0x01      /* plaintext kind byte: a chat line */
#define E2E_MID_LEN 16          /* a chat line's random message id */
#define E2E_SEEN_MAX 4096       /* message ids remembered (all
                                   conversations) to drop a line sent
                                   again or replayed */
#define E2E_RETIRED_MAX 1024    /* peer sender keys remembered after they
                                   are dropped, to refuse them again */
#define E2E_KEY_MESSAGES 100    /* our sender key is replaced after this
                                   many messages ... */
#define E2E_KEY_AGE_MS (7LL * 24 * 3600 * 1000) /* ... or this age */
#define E2E_AHEAD_MS (10LL * 60 * 1000) /* a line dated later than this
                                   after our clock is refused */
#define E2E_BEHIND_MS (60LL * 60 * 1000) /* so is one dated this long
                                   before it */
#define E2E_BACKLOG_MS (30LL * 24 * 3600 * 1000) /* ... or this long, for a
                                   line of the backlog (stored while we were
                                   away) */
/* The plaintext's head: kind, mid, uint64 time, uint8 len(nickname). */
#define E2E_HEAD_LEN (1 + E2E_MID_LEN + 8 + 1)

/* One device (an enrolled key) in a conversation, not ours. */
struct e2e_device {
	char user[NAME_USER_MAX + 1];
	char nick[NAME_NICK_MAX * 4 + 1];
	char fp[KD_FP_SIZE];
	EVP_PKEY *key;
	int online;                   /* logged in now (else its rows are
	                                 stored for it) */
};

/* A sender key of a peer device. */
struct e2e_peer_key {
	char user[NAME_USER_MAX + 1];
	char fp[KD_FP_SIZE];
	uint64_t age;                 /* to evict the oldest */
	struct kd_sender_key sk;
};

struct e2e_conv {
	struct e2e_conv *next;
	char name[E2E_CONV_MAX + 1];  /* as the user sees it: "dev", "@bob" */
	char bound[E2E_BOUND_MAX + 1];/* as bound into the crypto */
	int member;                   /* room: we are in it, or want to be
	                                 (joined again after a reconnect) */
	int ready;                    /* the device list is current: room
	                                 joined, or 0014 answered */
	int listing;                  /* 1012 frames are arriving */
	int asking;                   /* private: 0014 sent, no answer yet */

	struct e2e_device *dev;
	size_t ndev, capdev;
	struct e2e *owner;
	struct kd_sender_key own;
	int have_own;
	int64_t own_made_ms;          /* when our sender key was made */
	struct kd_sender_key fresh;   /* a new sender key whose frames are
	                                 not queued yet (e2e_commit()) */
	int have_fresh;
	int64_t fresh_made_ms;
	int changed;                  /* devices came or went since our
	                                 sender key went out */
	struct e2e_peer_key *peer;
	size_t npeer, cappeer;

	struct buf pending;           /* lines waiting for a device list:
	                                 mid || uint32 length || text, in
	                                 order */
	size_t npending;
	struct buf unconfirmed;       /* lines sent, not yet confirmed by the
	                                 server (1020): as pending, in order */
	size_t nunconfirmed;
};

/* A line received: its id and the sender's time, to drop it again. */
struct e2e_seen {
	uint8_t mid[E2E_MID_LEN];
	int64_t time_ms;
};

/* A peer sender key dropped: never taken again, its messages replays. */
struct e2e_retired {
	char user[NAME_USER_MAX + 1];
	uint8_t id[KD_SK_ID_LEN];
	uint64_t next;                /* counters below were reached */
};

/* The first nickname a user signed, to tell when one could mislead. */
struct e2e_nick {
	char user[NAME_USER_MAX + 1];
	char nick[NAME_NICK_MAX + 1];
};

#define E2E_NICKS_MAX 256       /* users whose first nickname is kept */

/* What e2e_open() learnt of a line besides its text. */
struct e2e_line {
	const char *fp;               /* the sending device */
	uint8_t mid[E2E_MID_LEN];
	int64_t time_ms;              /* the sender's clock (signed) */
	char nick[NAME_NICK_MAX + 1]; /* the nickname the sender signed */
	uint64_t gap;                 /* messages of this sender key not
	                                 (yet) received before this one */
};

struct e2e {
	EVP_PKEY *key;                /* our enrolled private key (own ref) */
	char user[NAME_USER_MAX + 1];
	char fp[KD_FP_SIZE];
	struct e2e_conv *convs;
	uint64_t ages;
	struct e2e_seen seen[E2E_SEEN_MAX]; /* across leaves and reconnects */
	size_t seen_next;             /* the slot to overwrite next */
	struct e2e_retired retired[E2E_RETIRED_MAX];
	size_t retired_next;
	struct e2e_nick nicks[E2E_NICKS_MAX];
	size_t nicks_next;
	uint64_t peer_gen;            /* goes up whenever a peer sender key
	                                 is taken, dropped or moves on */
};

/* Set up e for user with its private key (a reference is taken). */
int e2e_init(struct e2e *e, EVP_PKEY *key, const char *user)
    __attribute__((warn_unused_result));

/* Wipe every key and free every conversation. */
void e2e_fini(struct e2e *e);

/*
 * The conversation called name ("room" or "@user"); made if create (NULL
 * on E_NOMEM or a bad name: check with e2e_conv_name_ok()).
 */
struct e2e_conv *e2e_conv(struct e2e *e, const char *name, int create);

/* 1 if name is a room name or "@" and a user name. */
int e2e_conv_name_ok(const char *name);

/* Forget conversation cv: wipe its keys, free it. */
void e2e_conv_drop(struct e2e *e, struct e2e_conv *cv);

/*
 * The connection is gone: every conversation forgets its devices and our
 * sender keys (a new connection starts with new ones).  The peers' sender
 * keys stay: rows stored under them may come after the next login.
 * Memberships and pending lines stay.
 */
void e2e_reset(struct e2e *e);

/*
 * Add a device from the directory, online or not: spki is b64 DER and
 * must have the fingerprint fp (E_MALFORMED, E_KEY_MISMATCH, E_NOMEM).
 * A device already there gets the nickname and state.
 */
int e2e_device_add(struct e2e_conv *cv, const char *user, const char *nick,
    const char *fp, const char *spki, int online)
    __attribute__((warn_unused_result));

/* A device went offline: it stays in cv. */
void e2e_device_offline(struct e2e_conv *cv, const char *user,
    const char *fp);

/* A device is out of cv (its user left, its key was revoked): remove it
   and forget its sender keys. */
void e2e_device_remove(struct e2e_conv *cv, const char *user,
    const char *fp);

/* A new device list is coming: forget the old one. */
void e2e_devices_clear(struct e2e_conv *cv);

/* 1 if user has a device in cv. */
int e2e_has_user(const struct e2e_conv *cv, const char *user);

/* 1 if device (user, fp) is in cv. */
int e2e_has_device(const struct e2e_conv *cv, const char *user,
    const char *fp);

/*
 * Encrypt text for cv, signed as from our nickname nick at wall-clock
 * time now_ms, and append the frames to out: first, if devices came or
 * went since our sender key went out, or it has sealed E2E_KEY_MESSAGES
 * messages or is E2E_KEY_AGE_MS old (or we have none), a new sender key
 * and one 0015 per device (online or not), then the 0002 with mid.
 * max_frame bounds every frame.  A new key is used at once but kept only
 * by e2e_commit(), once the caller has queued the frames: a send that
 * fails later leaves no key counted as given to devices that never got
 * it.  E_TOO_LONG, E_CRYPTO,
 * E_NOMEM; on error nothing is appended.
 */
int e2e_seal(struct e2e *e, struct e2e_conv *cv,
    const uint8_t mid[E2E_MID_LEN], const char *nick, int64_t now_ms,
    const char *text, size_t len, size_t max_frame, struct buf *out)
    __attribute__((warn_unused_result));

/* The frames of the last e2e_seal() on cv are queued: keep its key. */
void e2e_commit(struct e2e_conv *cv);

/*
 * A sender key from device (user, fp, spki b64) in cv (1015): check it
 * and keep it.  The same key again (a resent distribution) changes
 * nothing: its counter stays.  Errors of kd_sk_accept(), E_MALFORMED,
 * E_KEY_MISMATCH (spki is not fp), E_EXISTS (other key material under the
 * id of a key we hold), E_REPLAY (a key we dropped before), E_NOMEM.
 */
int e2e_accept(struct e2e *e, struct e2e_conv *cv, const char *user,
    const char *fp, const char *spki, const char *blob)
    __attribute__((warn_unused_result));

/*
 * Open a message (b64) from user in cv, received at wall-clock time
 * now_ms, into out (cap bytes, NUL-ended): the text of a chat line; line
 * gets the rest.  behind_ms is how old its signed time may be
 * (E2E_BEHIND_MS, or E2E_BACKLOG_MS for a stored row); outer_mid, if not
 * NULL, is the id the server labelled it with, which must be the one
 * inside (else E_INVALID, and the line's id is not remembered).
 * E_NOT_FOUND (no sender key with its id: sent before we joined, or
 * never given to us), E_SIG_INVALID (forged), E_REPLAY (a
 * counter opened before, or a key dropped before), E_MAC_INVALID,
 * E_MALFORMED (bad encoding, text or nickname, or a kind we do not
 * know), E_TOO_LONG, E_DUPLICATE (a line whose message id came before:
 * sent again after a reconnect, or replayed), E_STATE (dated more than
 * E2E_AHEAD_MS after now_ms or behind_ms before it).
 */
int e2e_open(struct e2e_conv *cv, const char *user, const char *msg,
    int64_t now_ms, int64_t behind_ms, const uint8_t *outer_mid, char *out,
    size_t cap, struct e2e_line *line) __attribute__((warn_unused_result));

/*
 * 1 if user's signed nickname nick could mislead: another user signed it
 * too, or it is another user's name (ours included), or user signed
 * another one first (this session); the front ends then add the user
 * name.  Remembers the first nickname of each user.
 */
int e2e_nick_misleads(struct e2e *e, const char *user, const char *nick);

/* Remember a message id seen elsewhere (the history), sent at time_ms. */
void e2e_seen_add(struct e2e *e, const uint8_t mid[E2E_MID_LEN],
    int64_t time_ms);

/* 1 if a line with this message id was received lately (or seen in the
   history). */
int e2e_seen_has(const struct e2e *e, const uint8_t mid[E2E_MID_LEN]);

/*
 * The peers' sender keys of every conversation as they stand, appended to
 * out, so that a restarted client still opens the rows that come after
 * the ones it acknowledged (docs/SECURITY.md): version 1,
 *
 *   0x01 || uint32_be(count) || count * (m(conversation) || m(user) ||
 *   m(fp) || uint64_be(age) || uint16_be(len) || kd_sk_peer_save())
 *
 * with m(s) = uint8(len(s)) || s.  E_NOMEM (out as it was).
 */
int e2e_peer_state_put(const struct e2e *e, struct buf *out)
    __attribute__((warn_unused_result));

/*
 * Take back the keys e2e_peer_state_put() wrote (len bytes at state),
 * making the conversations they belong to.  Each key is checked as one
 * arriving in a 1015 is (a valid conversation and user, not a key
 * dropped before nor other material under the id of one held, at most
 * E2E_PEER_KEYS_MAX per device, the oldest retired).  E_MALFORMED,
 * E_EXISTS, E_REPLAY, E_NOMEM: the keys before the bad one are kept.
 */
int e2e_peer_state_take(struct e2e *e, const uint8_t *state, size_t len)
    __attribute__((warn_unused_result));

/* A message id as 0002's and 1002's field: PROTO_MID_HEX lowercase hex
   digits and a NUL. */
#define E2E_MID_HEX_SIZE (2 * E2E_MID_LEN + 1)
void e2e_mid_hex(const uint8_t mid[E2E_MID_LEN],
    char out[E2E_MID_HEX_SIZE]);

/* The message id written as hex (exactly PROTO_MID_HEX lowercase hex
   digits): 0, or E_MALFORMED. */
int e2e_mid_parse(const char *hex, uint8_t mid[E2E_MID_LEN])
    __attribute__((warn_unused_result));

/*
 * The plaintext of a chat line (plain, n bytes: kind || mid || uint64
 * time || uint8 len(nickname) || nickname || text) into line's mid,
 * time_ms and nick and the text into out (cap bytes, NUL-ended).
 * E_MALFORMED: another kind, a bad length, nickname or text, or a text
 * that does not fit.
 */
int e2e_parse_line(const uint8_t *plain, size_t n, char *out, size_t cap,
    struct e2e_line *line) __attribute__((warn_unused_result));

/* The largest chat text a 0002 can carry for this max_frame. */
size_t e2e_text_max(size_t max_frame);

#endif
