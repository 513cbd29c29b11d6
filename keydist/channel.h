/*
 * Frames over records (docs/PROTOCOL.md section 4): the piece of the
 * record layer that client and server share.  A record's plaintext is one
 * or more whole frames, each ending in LF, at most max_plain bytes.
 */
#ifndef MISSIVE_CHANNEL_H
#define MISSIVE_CHANNEL_H

#include <stddef.h>

#include "common/buf.h"
#include "keydist/record.h"

/*
 * Seal everything in plain (whole LF-terminated frames) into as few records
 * of at most max_plain plaintext bytes as the frame boundaries allow, and
 * append them to out; plain is emptied.  E_TOO_LONG if one frame is longer
 * than max_plain, E_MALFORMED if plain does not end in LF, E_NOMEM, or a
 * kd_record_seal() error (the direction is then dead).
 */
int kd_chan_seal(struct kd_record_dir *tx, struct buf *plain,
    struct buf *out, size_t max_plain) __attribute__((warn_unused_result));

/*
 * Open the record at the front of in, in place.  E_INCOMPLETE: wait for
 * more bytes (nothing changed).  On 0, *frames and *len are its plaintext
 * inside in: walk it with kd_chan_next_frame(), then buf_consume(in,
 * *reclen).  E_MALFORMED if the plaintext is empty or does not end in LF;
 * any kd_record_peek()/kd_record_open() error: close the connection.
 */
int kd_chan_open(struct kd_record_dir *rx, struct buf *in, size_t max_plain,
    char **frames, size_t *len, size_t *reclen)
    __attribute__((warn_unused_result));

/*
 * Take the next frame from *p, which holds *left bytes of whole frames:
 * returns 1 with *frame and *framelen (without the LF) and advances, 0 when
 * nothing is left, E_MALFORMED for an empty line.
 */
int kd_chan_next_frame(char **p, size_t *left, char **frame,
    size_t *framelen) __attribute__((warn_unused_result));

#endif
