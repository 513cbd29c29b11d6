#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/err.h"

/* Remove one trailing "\n" (or "\r\n") and check for NUL and inner lines. */
static int
secret_finish(char *buf, size_t len)
{
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0)
		return E_MALFORMED;
	if (memchr(buf, '\0', len) != NULL || memchr(buf, '\n', len) != NULL)
		return E_MALFORMED;
	return 0;
}

int
secret_read_file(const char *path, char **out)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return E_IO;
	if (fstat(fd, &st) != 0) {
		r = E_IO;
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		r = E_KEY_PERM;
		goto out;
	}
	if ((buf = malloc(SECRET_MAX + 2)) == NULL) {
		r = E_NOMEM;
		goto out;
	}
	/* Read one byte more than allowed (plus a newline) to detect overlong files. */
	while (len < SECRET_MAX + 1) {
		n = read(fd, buf + len, SECRET_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = E_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len > SECRET_MAX && !(len == SECRET_MAX + 1 && buf[SECRET_MAX] == '\n')) {
		r = E_TOO_LONG;
		goto out;
	}
	if ((r = secret_finish(buf, len)) != 0)
		goto out;
	*out = buf;
	buf = NULL;
out:
	if (buf != NULL)
		OPENSSL_clear_free(buf, SECRET_MAX + 2);
	close(fd);
	return r;
}

int
secret_prompt(const char *prompt, char **out)
{
	struct termios saved, quiet;
	char *buf = NULL;
	FILE *tty;
	int r = E_IO;

	*out = NULL;
	if ((tty = fopen("/dev/tty", "r+e")) == NULL)
		return E_IO;
	if (tcgetattr(fileno(tty), &saved) != 0)
		goto out_close;
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (fputs(prompt, tty) == EOF || fflush(tty) != 0)
		goto out_close;
	if (tcsetattr(fileno(tty), TCSAFLUSH, &quiet) != 0)
		goto out_close;
	if ((buf = calloc(1, SECRET_MAX + 2)) == NULL) {
		r = E_NOMEM;
	} else if (fgets(buf, SECRET_MAX + 2, tty) == NULL) {
		r = E_IO;
	} else if (strlen(buf) > SECRET_MAX &&
	    buf[strlen(buf) - 1] != '\n') {
		r = E_TOO_LONG;
	} else {
		r = secret_finish(buf, strlen(buf));
	}
	(void)tcsetattr(fileno(tty), TCSAFLUSH, &saved);
	(void)fputc('\n', tty);
	if (r == 0) {
		*out = buf;
		buf = NULL;
	}
out_close:
	if (buf != NULL)
		OPENSSL_clear_free(buf, SECRET_MAX + 2);
	(void)fclose(tty);	/* nothing buffered: the prompt was flushed */
	return r;
}

int
secret_password(const char *file, const char *prompt, int confirm, char **out)
{
	char *again = NULL;
	int r;

	if (file != NULL)
		return secret_read_file(file, out);
	if ((r = secret_prompt(prompt, out)) != 0 || !confirm)
		return r;
	if ((r = secret_prompt("Retype: ", &again)) == 0 &&
	    strcmp(*out, again) != 0)
		r = E_PASSWORD;
	secret_free(again);
	if (r != 0) {
		secret_free(*out);
		*out = NULL;
	}
	return r;
}

/*
 * Returned secrets hold nothing secret after their NUL (at most the newline
 * that secret_finish() cut off), so wiping up to strlen() is enough.
 */
void
secret_free(char *s)
{
	if (s != NULL)
		OPENSSL_clear_free(s, strlen(s));
}
