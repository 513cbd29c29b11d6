/* Files written whole and crash-safely (known_keys, the history). */
#ifndef MISSIVE_FILE_H
#define MISSIVE_FILE_H

#include <stddef.h>

#define FILE_UNSYNCED 1         /* replaced, but the directory not synced */

/* Write all n bytes to fd (again after EINTR).  0 or E_IO (errno). */
int file_write_all(int fd, const void *p, size_t n)
    __attribute__((warn_unused_result));

/*
 * Replace path with len bytes of data: write them to tmp (created or
 * truncated, mode 0600), fsync it, rename it over path, fsync path's
 * directory.  Returns 0; FILE_UNSYNCED when path was replaced but its
 * directory could not be synced; E_IO (errno says why) with path
 * untouched and tmp removed.
 */
int file_replace(const char *path, const char *tmp, const void *data,
    size_t len) __attribute__((warn_unused_result));

#endif
