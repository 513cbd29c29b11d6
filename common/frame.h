/*
 * Text frames: OPCODE|field|field...  A frame is one line; the '\n' that
 * ends it on the wire is not part of what these functions see.  The opcode
 * is exactly four ASCII digits.  Fields are separated by '|'; a field that
 * may itself contain '|' (chat text) can only be the last one, and the
 * parser is told how many fields the opcode has, so the last absorbs the
 * rest of the line.  Binary fields are standard base64 (common/b64.h).
 *
 * Parsed fields point into the caller's line: they are valid while it is.
 */
#ifndef MISSIVE_FRAME_H
#define MISSIVE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_OPCODE_LEN 4
#define FRAME_MAX_FIELDS 16
/* The smallest max_frame either side may configure. */
#define FRAME_MAX_FRAME_MIN 8192
/* The largest. */
#define FRAME_MAX_FRAME_MAX 16777216
/*
 * Room a chat delivery needs around its message: "1002|" nickname (at most
 * 256 bytes) "|" user (32) "|" fingerprint (50) "|" conversation (33) "|"
 * timestamp (24) "|" ... LF is 406 bytes; rounded up.  A chat message
 * (base64) is at most max_frame - FRAME_CHAT_OVERHEAD bytes, so that its
 * delivery still fits in max_frame (docs/PROTOCOL.md section 5.4).
 */
#define FRAME_CHAT_OVERHEAD 512

struct frame_field {
	const char *p;
	size_t len;
};

struct frame {
	unsigned opcode;                           /* 0..9999 */
	size_t nfields;                            /* fields after the opcode */
	struct frame_field field[FRAME_MAX_FIELDS];
};

/*
 * Read the opcode of line[0..len): 0 and *opcode, or E_MALFORMED if the
 * line does not start with four digits followed by '|' or its end.
 */
int frame_opcode(const char *line, size_t len, unsigned *opcode)
    __attribute__((warn_unused_result));

/*
 * Split line[0..len) into the opcode and between min and max fields; the
 * max-th field takes the rest of the line, '|' included.  E_MALFORMED for
 * a bad opcode, too few fields, a NUL, '\r' or '\n' anywhere in the line.
 */
int frame_parse(const char *line, size_t len, size_t min, size_t max,
    struct frame *f) __attribute__((warn_unused_result));

/*
 * Build "OPCODE|f0|f1..." into out (NUL-terminated, no '\n').  Fields may
 * not contain '\n', '\r' or NUL, and only the last may contain '|'
 * (E_MALFORMED otherwise).  E_TOO_LONG if it does not fit in cap.
 * *len gets the length without the NUL.
 */
int frame_build(char *out, size_t cap, size_t *len, unsigned opcode,
    const struct frame_field *fields, size_t nfields)
    __attribute__((warn_unused_result));

/* The room frame_build() needs for these fields: the frame and its NUL
   (or, on the wire, its LF). */
size_t frame_build_size(const struct frame_field *fields, size_t nfields);

struct buf;

/* Append the frame of frame_build() and its LF to b. */
int frame_put(struct buf *b, unsigned opcode,
    const struct frame_field *fields, size_t nfields)
    __attribute__((warn_unused_result));

/* Decode a base64 field into exactly want bytes (E_MALFORMED otherwise). */
int frame_field_b64(const struct frame_field *f, uint8_t *out, size_t want)
    __attribute__((warn_unused_result));

/*
 * Decode a base64 field of at most cap bytes; *len gets the size.
 * E_MALFORMED or E_TOO_LONG.
 */
int frame_field_b64_var(const struct frame_field *f, uint8_t *out,
    size_t cap, size_t *len) __attribute__((warn_unused_result));

/* 1 if field f equals the NUL-terminated s, else 0. */
int frame_field_is(const struct frame_field *f, const char *s);

#endif
