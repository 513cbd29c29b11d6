#include "common/passwd.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <argon2.h>
#include <openssl/crypto.h>

#include "common/err.h"

/* What we accept from a stored hash: Argon2id v19, parameters in bounds. */
#define PHC_PREFIX "$argon2id$v=19$"
#define PHC_M_MIN 8192
#define PHC_M_MAX (1024UL * 1024)
#define PHC_T_MAX 16
#define PHC_P_MAX 8

int
passwd_hash(const char *password, size_t len, char out[PASSWD_PHC_MAX])
{
	unsigned char salt[PASSWD_SALT_LEN];
	ssize_t n;
	int r;

	do {
		n = getrandom(salt, sizeof(salt), 0);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(salt))
		return E_INTERNAL;
	r = argon2id_hash_encoded(PASSWD_T_COST, PASSWD_M_KIB,
	    PASSWD_PARALLELISM, password, len, salt, sizeof(salt),
	    PASSWD_HASH_LEN, out, PASSWD_PHC_MAX);
	return r == ARGON2_OK ? 0 : E_INTERNAL;
}

/*
 * "<key><digits><end>" at *s with a number of at most max: digits only (no
 * sign, no space, unlike %u, and no wrap-around past UINT_MAX).  Moves *s
 * past it; returns 0, or -1 if it is not there.
 */
static int
phc_param(const char **s, const char *key, char end, unsigned long max,
    unsigned long *out)
{
	const char *c = *s;
	size_t klen = strlen(key);
	unsigned long v = 0;

	if (strncmp(c, key, klen) != 0)
		return -1;
	c += klen;
	if (*c < '0' || *c > '9')
		return -1;
	for (; *c >= '0' && *c <= '9'; c++) {
		v = v * 10 + (unsigned long)(*c - '0');
		if (v > max)
			return -1;
	}
	if (*c != end)
		return -1;
	*out = v;
	*s = c + 1;
	return 0;
}

/* 1 if phc names Argon2id v19 with parameters inside our bounds. */
static int
phc_acceptable(const char *phc)
{
	const char *s = phc;
	unsigned long m, t, p;

	if (strlen(phc) >= PASSWD_PHC_MAX ||
	    strncmp(s, PHC_PREFIX, sizeof(PHC_PREFIX) - 1) != 0)
		return 0;
	s += sizeof(PHC_PREFIX) - 1;
	if (phc_param(&s, "m=", ',', PHC_M_MAX, &m) != 0 ||
	    phc_param(&s, "t=", ',', PHC_T_MAX, &t) != 0 ||
	    phc_param(&s, "p=", '$', PHC_P_MAX, &p) != 0)
		return 0;
	return m >= PHC_M_MIN && t >= 1 && p >= 1;
}

/* passwd_verify() without the warn_unused_result, for the dummy check. */
static int
verify_phc(const char *phc, const char *password, size_t len)
{
	int r;

	if (!phc_acceptable(phc))
		return E_MALFORMED;
	/* argon2_verify compares the hashes in constant time. */
	r = argon2id_verify(phc, password, len);
	if (r == ARGON2_OK)
		return 0;
	if (r == ARGON2_VERIFY_MISMATCH)
		return E_PASSWORD;
	return E_MALFORMED;
}

int
passwd_verify(const char *phc, const char *password, size_t len)
{
	return verify_phc(phc, password, len);
}

void
passwd_verify_dummy(const char *password, size_t len)
{
	/* A valid hash of a random password that was thrown away. */
	static const char dummy[] =
	    "$argon2id$v=19$m=19456,t=2,p=1$yxp6+BmW5NH5eO2mlJyDVw"
	    "$z4LorIw69Tff7hWu4IVL2dCJu5YtXOWEdFM6g2xLMLI";

	(void)verify_phc(dummy, password, len);
}
