#include "common/passwd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <argon2.h>
#include <openssl/crypto.h>

#include "common/err.h"

/* Bounds on the parameters we accept from a stored hash. */
#define PHC_M_MIN 8192
#define PHC_M_MAX (1024 * 1024)
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

/* 1 if phc names Argon2id v19 with parameters inside our bounds. */
static int
phc_acceptable(const char *phc)
{
	unsigned m, t, p;
	int used = 0;

	if (strlen(phc) >= PASSWD_PHC_MAX)
		return 0;
	if (sscanf(phc, "$argon2id$v=19$m=%u,t=%u,p=%u$%n", &m, &t, &p,
	    &used) != 3 || used == 0)
		return 0;
	return m >= PHC_M_MIN && m <= PHC_M_MAX && t >= 1 &&
	    t <= PHC_T_MAX && p >= 1 && p <= PHC_P_MAX;
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
