#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t
clock_ms(void)
{
	struct timespec ts;

	/* Cannot fail with a valid clock and pointer. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
clock_wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_parse_iso(const char *t)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	struct tm tm;
	time_t secs;
	int v[7], i, k = 0;

	if (strlen(t) != sizeof(pattern) - 1)
		return -1;
	memset(v, 0, sizeof(v));
	for (i = 0; pattern[i] != '\0'; i++) {
		if (pattern[i] != 'd') {
			if (t[i] != pattern[i])
				return -1;
			k++;
			continue;
		}
		if (t[i] < '0' || t[i] > '9')
			return -1;
		v[k] = v[k] * 10 + (t[i] - '0');
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	if ((secs = timegm(&tm)) == (time_t)-1 || secs < 0)
		return -1;
	return (int64_t)secs * 1000 + v[6];
}

int
clock_format_iso(int64_t ms, char out[CLOCK_ISO_SIZE])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || gmtime_r(&secs, &tm) == NULL ||
	    strftime(out, CLOCK_ISO_SIZE, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
		return -1;
	(void)snprintf(out + 19, CLOCK_ISO_SIZE - 19, ".%03dZ",
	    (int)(ms % 1000));
	return 0;
}
