#include "tests/fuzz/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

static char tmpdir[256];

const uint8_t fuzz_record_key[32] = "missive fuzz record key 32 bytes";
const uint8_t fuzz_record_iv[12] = "fuzz iv 12 b";

void
fuzz_fail(const char *file, int line, const char *what)
{
	(void)fprintf(stderr, "%s:%d: fuzz property failed: %s\n", file, line, what);
	abort();
}

void *
fuzz_malloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		abort();
	return p;
}

EVP_PKEY *
fuzz_key(const char *pem)
{
	BIO *bio;
	EVP_PKEY *key;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		fuzz_fail(__FILE__, __LINE__, "BIO_new_mem_buf");
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL)
		fuzz_fail(__FILE__, __LINE__, "a test key does not parse");
	return key;
}

/* Remove the scratch directory and what the harness left in it. */
static void
tmpdir_remove(void)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	if (tmpdir[0] == '\0' || (d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", tmpdir,
		    de->d_name) < (int)sizeof(path))
			(void)unlink(path);
	}
	(void)closedir(d);
	(void)rmdir(tmpdir);
}

const char *
fuzz_tmpdir(void)
{
	const char *base = getenv("MISSIVE_FUZZ_TMPDIR");

	if (tmpdir[0] != '\0')
		return tmpdir;
	/* tmpfs if there is one: the harnesses write files on every run. */
	if (base == NULL || base[0] == '\0')
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	if (snprintf(tmpdir, sizeof(tmpdir), "%s/missive-fuzz.XXXXXX",
	    base) >= (int)sizeof(tmpdir) || mkdtemp(tmpdir) == NULL)
		fuzz_fail(__FILE__, __LINE__, "cannot make a scratch directory");
	if (atexit(tmpdir_remove) != 0)
		fuzz_fail(__FILE__, __LINE__, "atexit");
	return tmpdir;
}

void
fuzz_tmppath(char *out, size_t cap, const char *name)
{
	if (snprintf(out, cap, "%s/%s", fuzz_tmpdir(), name) >= (int)cap)
		fuzz_fail(__FILE__, __LINE__, "scratch path too long");
}

void
fuzz_write_file(const char *path, const void *data, size_t len)
{
	const uint8_t *p = data;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		fuzz_fail(__FILE__, __LINE__, "cannot create a scratch file");
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fuzz_fail(__FILE__, __LINE__, "cannot write a scratch file");
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0)
		fuzz_fail(__FILE__, __LINE__, "cannot close a scratch file");
}

uint8_t
fuzz_u8(struct fuzz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

uint16_t
fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);

	return (uint16_t)(hi << 8 | fuzz_u8(in));
}
