#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

static FILE *log_stream;
static char *log_path;
static int log_quiet;
/* Set while writes fail, so that a full disk is reported once, not per line. */
static int log_failing;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int
log_open(const char *path, int quiet)
{
	log_close();
	log_quiet = quiet;
	if (path == NULL)
		return 0;
	if ((log_path = strdup(path)) == NULL)
		return E_NOMEM;
	if ((log_stream = fopen(path, "ae")) == NULL) {
		free(log_path);
		log_path = NULL;
		return E_IO;
	}
	/* Only a hint: log_msg() flushes every line anyway. */
	(void)setvbuf(log_stream, NULL, _IOLBF, 0);
	return 0;
}

int
log_reopen(void)
{
	FILE *f;

	if (log_path == NULL)
		return 0;
	if ((f = fopen(log_path, "ae")) == NULL) {
		log_error("log: cannot reopen %s, keeping the old file", log_path);
		return E_IO;
	}
	(void)setvbuf(f, NULL, _IOLBF, 0);
	/* Every line was flushed when written: closing loses nothing. */
	(void)fclose(log_stream);
	log_stream = f;
	log_failing = 0;
	return 0;
}

void
log_close(void)
{
	if (log_stream != NULL)
		(void)fclose(log_stream);	/* flushed line by line */
	log_stream = NULL;
	free(log_path);
	log_path = NULL;
}

void
log_timestamp(char out[32])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
		out[0] = '\0';
	else
		(void)snprintf(out + 19, 32 - 19, ".%03uZ",
		    (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	FILE *f = log_stream != NULL ? log_stream : stderr;
	char ts[32];
	va_list ap;
	int bad;

	if (log_quiet && level > LOG_WARN)
		return;
	log_timestamp(ts);
	va_start(ap, fmt);
	bad = fprintf(f, "%s %s ", ts, level_names[level]) < 0;
	bad |= vfprintf(f, fmt, ap) < 0;
	bad |= fputc('\n', f) == EOF;
	bad |= fflush(f) != 0;
	va_end(ap);
	if (bad && !log_failing && f != stderr)
		(void)fprintf(stderr, "%s error log: writing %s failed (%s); "
		    "continuing without it until it works again\n", ts,
		    log_path, strerror(errno));
	if (bad)
		clearerr(f);
	else if (log_failing && f != stderr) {
		/* Say where the gap is, in the log and where we said it. */
		(void)fprintf(stderr, "%s info log: writing %s works again\n",
		    ts, log_path);
		if (fprintf(f, "%s warn log: lines were lost before this one "
		    "(writing failed)\n", ts) < 0 || fflush(f) != 0)
			bad = 1;
	}
	log_failing = bad;
}
