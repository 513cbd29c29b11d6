#include "keydist/random.h"

#include <errno.h>
#include <sys/random.h>

#include "common/err.h"

int
kd_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return E_INTERNAL;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
