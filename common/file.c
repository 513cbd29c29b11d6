#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"

int
file_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, b, n)) == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return E_IO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Open the directory that holds path, for fsync(); -1 (errno). */
static int
open_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (slash == NULL)
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (slash - path >= (ptrdiff_t)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	(void)snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
	    (int)(slash - path), path);
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
file_replace(const char *path, const char *tmp, const void *data,
    size_t len)
{
	int fd, dfd = -1, r = 0, saved;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return E_IO;
	/* A temporary file left by a crash may have had another mode. */
	if (fchmod(fd, 0600) != 0 || file_write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0)
		r = E_IO;
	saved = errno;
	if (close(fd) != 0 && r == 0) {
		r = E_IO;
		saved = errno;
	}
	/* Open the directory first: after the rename nothing can be undone. */
	if (r == 0 && (dfd = open_dir_of(path)) == -1) {
		r = E_IO;
		saved = errno;
	}
	if (r == 0 && rename(tmp, path) != 0) {
		r = E_IO;
		saved = errno;
	}
	if (r != 0) {
		/* Nothing more to do if even this fails. */
		(void)unlink(tmp);
		if (dfd != -1)
			(void)close(dfd);
		errno = saved;
		return r;
	}
	if (fsync(dfd) != 0)
		r = FILE_UNSYNCED;
	if (close(dfd) != 0)
		r = FILE_UNSYNCED;
	return r;
}
