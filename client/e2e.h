/*
 * End-to-end state of the client core (docs/PROTOCOL.md section 8): the
 * conversations (rooms and private ones), the devices in each, our sender
 * key for each and the peers' sender keys we hold.  Sans I/O: sealing
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
#define E2E_SEEN_MAX 256        /* message ids remembered per conversation
                                   to drop a line sent again */

/* One device (logged-in connection) in a conversation, not ours. */
struct e2e_device {
	char user[NAME_USER_MAX + 1];
	char nick[NAME_NICK_MAX * 4 + 1];
	char fp[KD_FP_SIZE];
	EVP_PKEY *key;
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
	struct kd_sender_key own;
	int have_own;
	int changed;                  /* devices came or went since our
	                                 sender key went out */
	struct e2e_peer_key *peer;
	size_t npeer, cappeer;

	struct buf pending;           /* lines waiting for a device list:
	                                 mid || uint32 length || text, in
	                                 order */
	size_t npending;
	struct buf unconfirmed;       /* lines sent, not yet confirmed by the
	                                 server: uint64 mark || mid || uint32
	                                 length || text, in order */
	size_t nunconfirmed;
	uint8_t seen[E2E_SEEN_MAX][E2E_MID_LEN]; /* ids of lines received */
	size_t seen_next;             /* the slot to overwrite next */
};

struct e2e {
	EVP_PKEY *key;                /* our enrolled private key (own ref) */
	char user[NAME_USER_MAX + 1];
	char fp[KD_FP_SIZE];
	struct e2e_conv *convs;
	uint64_t ages;
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
 * The connection is gone: every conversation forgets its devices and
 * every key (a new connection starts with new keys).  Memberships and
 * pending lines stay.
 */
void e2e_reset(struct e2e *e);

/*
 * Add a device from the directory: spki is b64 DER and must have the
 * fingerprint fp (E_MALFORMED, E_KEY_MISMATCH, E_NOMEM).
 */
int e2e_device_add(struct e2e_conv *cv, const char *user, const char *nick,
    const char *fp, const char *spki) __attribute__((warn_unused_result));

/* A device left: remove one entry for (user, fp); when none is left, also
   forget that device's sender keys. */
void e2e_device_remove(struct e2e_conv *cv, const char *user,
    const char *fp);

/* A new device list is coming: forget the old one. */
void e2e_devices_clear(struct e2e_conv *cv);

/* 1 if user has a device in cv. */
int e2e_has_user(const struct e2e_conv *cv, const char *user);

/*
 * Encrypt text for cv and append the frames to out: first, if devices came
 * or went since our sender key went out (or we have none), a new sender
 * key and one 0015 per device, then the 0002.  max_frame bounds every frame.  E_TOO_LONG,
 * E_CRYPTO, E_NOMEM; on error nothing is appended.
 */
int e2e_seal(struct e2e *e, struct e2e_conv *cv,
    const uint8_t mid[E2E_MID_LEN], const char *text, size_t len,
    size_t max_frame, struct buf *out)
    __attribute__((warn_unused_result));

/*
 * A sender key from device (user, fp, spki b64) in cv (1015): check it
 * and keep it.  Errors of kd_sk_accept(), E_MALFORMED, E_KEY_MISMATCH
 * (spki is not fp), E_NOMEM.
 */
int e2e_accept(struct e2e *e, struct e2e_conv *cv, const char *user,
    const char *fp, const char *spki, const char *blob)
    __attribute__((warn_unused_result));

/*
 * Open a message (b64) from user in cv into out (cap bytes, NUL-ended):
 * the text of a chat line; *fp gets the sending device, mid its message
 * id.  E_NOT_FOUND (no
 * sender key with its id: sent before we joined, or never given to us),
 * E_SIG_INVALID (forged), E_REPLAY, E_MAC_INVALID, E_MALFORMED (bad
 * encoding, bad text, or a kind we do not know), E_TOO_LONG, E_DUPLICATE
 * (a line whose message id came before: sent again after a reconnect).
 */
int e2e_open(struct e2e_conv *cv, const char *user,
    const char *msg, char *out, size_t cap, const char **fp,
    uint8_t mid[E2E_MID_LEN]) __attribute__((warn_unused_result));

/* The largest chat text a 0002 can carry for this max_frame. */
size_t e2e_text_max(size_t max_frame);

#endif
