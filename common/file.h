/*
 * Files read whole (configuration, the history and its exports) and
 * written whole and crash-safely (known_keys, the history).
 */
#ifndef MISSIVE_FILE_H
#define MISSIVE_FILE_H

#include <stddef.h>
#include <sys/stat.h>

#define FILE_UNSYNCED 1         /* replaced, but the directory not synced */

/*
 * Read the whole of path, a regular file of at most max bytes, into a
 * fresh buffer with a NUL after its *len bytes: *out, for the caller to
 * free.  The open does not wait (O_NONBLOCK: a FIFO would block) and only
 * a regular file is read (a directory or device is refused); read() is
 * retried after EINTR, and a file that shrinks while read is an error.
 * *st gets the file's fstat() unless st is NULL.
 *
 * Errors: E_NOT_FOUND (no such file), E_TOO_LONG (larger than max),
 * E_NOMEM, E_IO (cannot open, stat, read or close it, or not a regular
 * file); *out is then NULL and whatever was read is wiped.  err (unless
 * NULL or errlen 0) gets one line that names path and what went wrong:
 * "PATH: cannot open: No such file or directory".
 */
int file_read_all(const char *path, size_t max, char **out, size_t *len,
    struct stat *st, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Write all n bytes to fd (again after EINTR).  0 or E_IO (errno). */
int file_write_all(int fd, const void *p, size_t n)
    __attribute__((warn_unused_result));

/*
 * Replace path with len bytes of data: write them to tmp (created anew
 * with O_EXCL | O_NOFOLLOW, mode 0600: anything already there, a leftover
 * of a crash or a planted symlink, is unlinked first), fsync it, rename it over path, fsync path's
 * directory.  Returns 0; FILE_UNSYNCED when path was replaced but its
 * directory could not be synced; E_IO (errno says why) with path
 * untouched and tmp removed.
 */
int file_replace(const char *path, const char *tmp, const void *data,
    size_t len) __attribute__((warn_unused_result));

#endif
