/*
 * memgrep: search a live process's memory for strings, so that tests can
 * check that a secret (a password, a key, a plaintext) is not left behind.
 *
 *   memgrep PID STRING...
 *
 * Reads every readable mapping of /proc/PID/maps through /proc/PID/mem
 * and prints "found STRING" or "absent STRING" for each STRING, in order;
 * a summary goes to stderr.  Mappings larger than 1 GiB are skipped (the
 * AddressSanitizer shadow is terabytes of reserved address space), and so
 * are mappings that cannot be read (or read to the end), such as [vvar];
 * the summary counts both.  Reading another process's memory needs the
 * right to ptrace it.
 *
 * Exit status: 0 if every string is absent, 1 if any is found, 2 on a
 * usage error or if the maps cannot be read or nothing could be read.
 */
#define _GNU_SOURCE		/* memmem */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK		((size_t)1024 * 1024)
#define MAPPING_MAX	(1024UL * 1024 * 1024)

struct scan {
	int mem;			/* /proc/PID/mem */
	char **needle;
	size_t *len;
	int *found;
	size_t n, longest;
	uint8_t *buf;			/* CHUNK + longest - 1 bytes */
	unsigned long long scanned;
	size_t mappings, unreadable, large;
};

static void
search(struct scan *s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!s->found[i] && memmem(p, n, s->needle[i], s->len[i]) !=
		    NULL)
			s->found[i] = 1;
}

/*
 * Read [start, end) in chunks; each chunk is searched together with the
 * last longest - 1 bytes of the one before, so that a match across the
 * border is found.
 */
static void
scan_mapping(struct scan *s, unsigned long start, unsigned long end)
{
	unsigned long off = start;
	size_t keep = 0, have, want;
	ssize_t got;

	while (off < end) {
		want = end - off < CHUNK ? end - off : CHUNK;
		got = pread(s->mem, s->buf + keep, want, (off_t)off);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0) {
			s->unreadable++;
			return;
		}
		have = keep + (size_t)got;
		search(s, s->buf, have);
		s->scanned += (unsigned long long)got;
		off += (unsigned long)got;
		keep = have < s->longest - 1 ? have : s->longest - 1;
		memmove(s->buf, s->buf + have - keep, keep);
	}
	s->mappings++;
}

static int
parse_pid(const char *arg, long *pid)
{
	char *end;

	errno = 0;
	*pid = strtol(arg, &end, 10);
	return errno == 0 && end != arg && *end == '\0' && *pid > 0 &&
	    *pid <= INT_MAX ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct scan s = { .mem = -1 };
	char maps_path[64], mem_path[64], *line = NULL, perms[5];
	unsigned long start, end;
	size_t i, linecap = 0;
	FILE *maps = NULL;
	long pid;
	int any = 0, rc = 2;

	if (argc < 3 || parse_pid(argv[1], &pid) != 0) {
		(void)fprintf(stderr, "usage: memgrep PID STRING...\n");
		return 2;
	}
	s.needle = argv + 2;
	s.n = (size_t)argc - 2;
	if ((s.len = calloc(s.n, sizeof(*s.len))) == NULL ||
	    (s.found = calloc(s.n, sizeof(*s.found))) == NULL) {
		perror("memgrep");
		goto out;
	}
	for (i = 0; i < s.n; i++) {
		if ((s.len[i] = strlen(s.needle[i])) == 0) {
			(void)fprintf(stderr,
			    "memgrep: an empty string is always "
			    "found\n");
			goto out;
		}
		if (s.len[i] > s.longest)
			s.longest = s.len[i];
	}
	if ((s.buf = malloc(CHUNK + s.longest - 1)) == NULL) {
		perror("memgrep");
		goto out;
	}

	(void)snprintf(maps_path, sizeof(maps_path), "/proc/%ld/maps", pid);
	(void)snprintf(mem_path, sizeof(mem_path), "/proc/%ld/mem", pid);
	if ((maps = fopen(maps_path, "re")) == NULL) {
		perror(maps_path);
		goto out;
	}
	if ((s.mem = open(mem_path, O_RDONLY | O_CLOEXEC)) == -1) {
		perror(mem_path);
		goto out;
	}
	/* "START-END PERMS OFFSET DEV INODE [PATH]", addresses in hex. */
	while (getline(&line, &linecap, maps) != -1) {
		/* The kernel's hex addresses: sscanf cannot meet a bad one. */
		/* NOLINTNEXTLINE(cert-err34-c) */
		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3 ||
		    end < start) {
			(void)fprintf(stderr, "memgrep: %s: cannot parse: %s",
			    maps_path, line);
			goto out;
		}
		if (perms[0] != 'r')
			continue;
		if (end - start > MAPPING_MAX) {
			s.large++;
			continue;
		}
		scan_mapping(&s, start, end);
	}
	if (ferror(maps)) {
		perror(maps_path);
		goto out;
	}

	(void)fprintf(stderr,
	    "memgrep: %ld: %llu bytes scanned in %zu mappings; "
	    "%zu unreadable, %zu larger than 1 GiB skipped\n", pid, s.scanned,
	    s.mappings, s.unreadable, s.large);
	if (s.scanned == 0) {
		(void)fprintf(stderr, "memgrep: nothing could be read\n");
		goto out;
	}
	for (i = 0; i < s.n; i++) {
		printf("%s %s\n", s.found[i] ? "found" : "absent",
		    s.needle[i]);
		any |= s.found[i];
	}
	if (fflush(stdout) != 0)
		perror("memgrep");
	else
		rc = any ? 1 : 0;
 out:
	/* Freed for LeakSanitizer, whose report would replace the status. */
	if (maps != NULL)
		(void)fclose(maps);
	if (s.mem != -1)
		(void)close(s.mem);
	free(line);
	free(s.buf);
	free(s.found);
	free(s.len);
	return rc;
}
