#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/cfg.h"
#include "common/err.h"

int
file_read_all(const char *path, size_t max, char **out, size_t *len,
    struct stat *st_out, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0, want = 0;
	ssize_t n;
	int fd, r = E_IO;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		r = errno == ENOENT ? E_NOT_FOUND : E_IO;
		cfg_error(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return r;
	}
	if (fstat(fd, &st) == -1) {
		cfg_error(err, errlen, "%s: cannot stat: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_error(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		cfg_error(err, errlen, "%s: larger than %zu bytes", path, max);
		r = E_TOO_LONG;
		goto out;
	}
	want = (size_t)st.st_size;
	if ((buf = malloc(want + 1)) == NULL) {
		cfg_error(err, errlen, "%s: out of memory", path);
		r = E_NOMEM;
		goto out;
	}
	while (got < want) {
		if ((n = read(fd, buf + got, want - got)) == -1 &&
		    errno == EINTR)
			continue;
		if (n == -1) {
			cfg_error(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0) {
			cfg_error(err, errlen, "%s: cannot read: it got "
			    "shorter while read", path);
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	r = 0;
out:
	if (close(fd) == -1 && r == 0) {
		cfg_error(err, errlen, "%s: close: %s", path, strerror(errno));
		r = E_IO;
	}
	if (r != 0) {
		/* It may be a history export: plaintext messages. */
		OPENSSL_clear_free(buf, want + 1);
		return r;
	}
	*out = buf;
	*len = got;
	if (st_out != NULL)
		*st_out = st;
	return 0;
}

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

/*
 * Create tmp afresh, mode 0600, never through a symlink or into a file
 * someone else prepared.  Whatever is at tmp already (left by a crash, or
 * planted) is unlinked, not followed, and the create tried once more; a
 * second EEXIST means someone is racing us for the name: give up.
 */
static int
open_new(const char *tmp)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd;

	if ((fd = open(tmp, flags, 0600)) != -1 || errno != EEXIST)
		return fd;
	if (unlink(tmp) != 0)
		return -1;
	return open(tmp, flags, 0600);
}

int
file_replace(const char *path, const char *tmp, const void *data,
    size_t len)
{
	int fd, dfd = -1, r = 0, saved;

	if ((fd = open_new(tmp)) == -1)
		return E_IO;
	if (file_write_all(fd, data, len) != 0 || fsync(fd) != 0)
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
