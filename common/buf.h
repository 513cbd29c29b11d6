/*
 * A growable byte queue: append at the end, consume from the front.  Used
 * for every connection's input and output.  Storage is allocated on first
 * use and can be given back when the queue is empty, so an idle connection
 * holds no buffer memory.
 */
#ifndef MISSIVE_BUF_H
#define MISSIVE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p;     /* storage, NULL until first use */
	size_t off;     /* first unconsumed byte */
	size_t len;     /* end of the data */
	size_t cap;     /* size of p */
};

#define BUF_INIT { NULL, 0, 0, 0 }

/* The unconsumed bytes. */
static inline uint8_t *
buf_data(const struct buf *b)
{
	return b->p + b->off;
}

static inline size_t
buf_size(const struct buf *b)
{
	return b->len - b->off;
}

/*
 * Make room for n more bytes after the data (moving the data to the front
 * or growing the storage).  E_NOMEM.  buf_tail() then points at the room.
 */
int buf_reserve(struct buf *b, size_t n) __attribute__((warn_unused_result));

static inline uint8_t *
buf_tail(const struct buf *b)
{
	return b->p + b->len;
}

/* Count n bytes written at buf_tail() (after buf_reserve()) as data. */
void buf_commit(struct buf *b, size_t n);

/* Append n bytes.  E_NOMEM. */
int buf_append(struct buf *b, const void *data, size_t n)
    __attribute__((warn_unused_result));

/* Drop n bytes from the front (n <= buf_size()). */
void buf_consume(struct buf *b, size_t n);

/* Drop what follows the first size bytes (undo appends; wiped). */
void buf_truncate(struct buf *b, size_t size);

/* Free the storage if the queue is empty (idle connections hold none). */
void buf_shrink(struct buf *b);

/* Wipe and free the storage (it may have held plaintext). */
void buf_free(struct buf *b);

#endif
