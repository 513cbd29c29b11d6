#include "keydist/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/err.h"

int
kd_key_generate(int bits, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx;
	int r = E_CRYPTO;

	*out = NULL;
	if (bits < KD_RSA_MIN_BITS || bits > KD_RSA_MAX_BITS)
		return E_INVALID;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL)
		return E_CRYPTO;
	if (EVP_PKEY_keygen_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) == 1 &&
	    EVP_PKEY_generate(ctx, out) == 1)
		r = 0;
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* Create path as a new file of exactly mode, as a stdio stream. */
static int
create_file(const char *path, mode_t mode, FILE **out)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd < 0)
		return errno == EEXIST ? E_EXISTS : E_IO;
	/* The umask may have narrowed the mode; make it exactly what we want. */
	if (fchmod(fd, mode) != 0 || (*out = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(path);
		return E_IO;
	}
	return 0;
}

/*
 * PKCS#8 encrypted with PBES2: scrypt (N 2^14, r 8: 16 MiB, the most that
 * OpenSSL's readers allow by default, so that `openssl pkey` still opens
 * it; p 2 doubles the work; a 16-byte salt) and AES-256-CBC.
 */
#define KEY_SCRYPT_N 16384
#define KEY_SCRYPT_R 8
#define KEY_SCRYPT_P 2
#define KEY_SALT_LEN 16         /* random, for each file */

static int
write_encrypted(FILE *f, EVP_PKEY *key, const char *pass, size_t len)
{
	PKCS8_PRIV_KEY_INFO *p8;
	X509_ALGOR *pbe;
	X509_SIG *sealed = NULL;
	int ok = 0;

	if (len == 0 || len > INT_MAX ||
	    (p8 = EVP_PKEY2PKCS8(key)) == NULL)
		return 0;
	/* A NULL salt: OpenSSL draws KEY_SALT_LEN random bytes. */
	pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, KEY_SALT_LEN,
	    NULL, KEY_SCRYPT_N, KEY_SCRYPT_R, KEY_SCRYPT_P);
	if (pbe != NULL &&
	    (sealed = PKCS8_set0_pbe(pass, (int)len, p8, pbe)) == NULL)
		X509_ALGOR_free(pbe);
	if (sealed != NULL)
		ok = PEM_write_PKCS8(f, sealed);
	X509_SIG_free(sealed);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return ok;
}

/* A private key is encrypted with pass when pass is not NULL. */
static int
write_key(EVP_PKEY *key, const char *path, int private, const char *pass,
    size_t passlen)
{
	FILE *f;
	int r, ok;

	if ((r = create_file(path, private ? 0600 : 0644, &f)) != 0)
		return r;
	if (private && pass != NULL)
		ok = write_encrypted(f, key, pass, passlen);
	else if (private)
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_PUBKEY(f, key);
	if (fclose(f) != 0)
		ok = 0;
	if (ok != 1) {
		unlink(path);
		return E_IO;
	}
	return 0;
}

int
kd_key_write_private(EVP_PKEY *key, const char *path)
{
	return write_key(key, path, 1, NULL, 0);
}

int
kd_key_write_private_pass(EVP_PKEY *key, const char *path, const char *pass,
    size_t len)
{
	return write_key(key, path, 1, pass, len);
}

int
kd_key_write_public(EVP_PKEY *key, const char *path)
{
	return write_key(key, path, 0, NULL, 0);
}

int
kd_key_check(EVP_PKEY *key)
{
	BIGNUM *e = NULL;
	int bits, r;

	if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
		return E_KEY_TYPE;
	bits = EVP_PKEY_get_bits(key);
	if (bits < KD_RSA_MIN_BITS || bits > KD_RSA_MAX_BITS)
		return E_KEY_TYPE;
	/*
	 * A huge public exponent makes every verification with the key a
	 * full modular exponentiation (100 times the work): a peer could make
	 * the server pay that per handshake for a garbage signature.
	 */
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		return E_KEY_TYPE;
	r = BN_is_word(e, KD_RSA_EXPONENT) ? 0 : E_KEY_TYPE;
	BN_free(e);
	return r;
}

/* Keep *out only if it is an acceptable key. */
static int
accept_key(EVP_PKEY **out)
{
	int r;

	if (*out == NULL)
		return E_KEY_FILE;
	if ((r = kd_key_check(*out)) != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return r;
}

/* What OpenSSL's PEM reader asks for, and whether it asked. */
struct passphrase {
	const char *pass;             /* NULL: none given */
	size_t len;
	int asked;                    /* the file is encrypted */
};

static int
give_passphrase(char *buf, int size, int rwflag, void *arg)
{
	struct passphrase *p = arg;

	(void)rwflag;
	p->asked = 1;
	/* No passphrase: fail, rather than OpenSSL's prompt on the tty. */
	if (p->pass == NULL || p->len > (size_t)size)
		return -1;
	memcpy(buf, p->pass, p->len);
	return (int)p->len;
}

int
kd_key_read_private_pass(const char *path, const char *pass, size_t len,
    EVP_PKEY **out)
{
	struct passphrase p = { .pass = pass, .len = len };
	struct stat st;
	FILE *f;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return E_KEY_FILE;
	if (fstat(fd, &st) != 0 || (f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return E_KEY_FILE;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		(void)fclose(f);
		return E_KEY_PERM;
	}
	*out = PEM_read_PrivateKey(f, NULL, give_passphrase, &p);
	(void)fclose(f);	/* read only: nothing to lose */
	if (*out == NULL && p.asked)
		return E_KEY_LOCKED;
	return accept_key(out);
}

int
kd_key_read_private(const char *path, EVP_PKEY **out)
{
	return kd_key_read_private_pass(path, NULL, 0, out);
}

int
kd_key_read_public(const char *path, EVP_PKEY **out)
{
	FILE *f;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return E_KEY_FILE;
	*out = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	(void)fclose(f);	/* read only */
	return accept_key(out);
}

int
kd_key_from_pem(const char *pem, size_t len, EVP_PKEY **out)
{
	BIO *bio;

	*out = NULL;
	if (len == 0 || len > KD_PEM_MAX)
		return E_TOO_LONG;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return E_NOMEM;
	*out = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return accept_key(out);
}

int
kd_key_to_pem(EVP_PKEY *key, char **pem, size_t *len)
{
	BIO *bio;
	char *data;
	long n;
	int r = E_CRYPTO;

	*pem = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return E_NOMEM;
	if (PEM_write_bio_PUBKEY(bio, key) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0) {
		if ((*pem = malloc((size_t)n + 1)) == NULL) {
			r = E_NOMEM;
		} else {
			memcpy(*pem, data, (size_t)n);
			(*pem)[n] = '\0';
			*len = (size_t)n;
			r = 0;
		}
	}
	BIO_free(bio);
	return r;
}

int
kd_key_to_der(EVP_PKEY *key, unsigned char **der, size_t *len)
{
	int n;

	*der = NULL;
	if ((n = i2d_PUBKEY(key, der)) <= 0)
		return E_CRYPTO;
	*len = (size_t)n;
	return 0;
}

int
kd_key_from_der(const unsigned char *der, size_t len, EVP_PKEY **out)
{
	const unsigned char *p = der;

	*out = NULL;
	if (len == 0 || len > KD_PEM_MAX)
		return E_TOO_LONG;
	*out = d2i_PUBKEY(NULL, &p, (long)len);
	/* Trailing bytes after the key are not a key. */
	if (*out != NULL && p != der + len) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return *out == NULL ? E_MALFORMED : accept_key(out);
}

int
kd_key_equal(EVP_PKEY *a, EVP_PKEY *b)
{
	return a != NULL && b != NULL && EVP_PKEY_eq(a, b) == 1;
}

int
kd_fingerprint_der(const unsigned char *der, size_t len, char out[KD_FP_SIZE])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		return E_CRYPTO;
	memcpy(out, "SHA256:", 7);
	if (b64_encode(md, sizeof(md), out + 7, KD_FP_SIZE - 7, 0) != 43)
		return E_INTERNAL;
	return 0;
}

int
kd_fp_valid(const char *fp, size_t len)
{
	size_t i;
	int v = 0;

	if (len != KD_FP_SIZE - 1 || memcmp(fp, "SHA256:", 7) != 0)
		return 0;
	for (i = 7; i < len; i++)
		if ((v = b64_value(fp[i])) < 0)
			return 0;
	/*
	 * 43 characters carry 258 bits, so the last one's low 2 bits are 0:
	 * no second spelling of the same fingerprint.
	 */
	return (v & 3) == 0;
}

int
kd_fingerprint(EVP_PKEY *key, char out[KD_FP_SIZE])
{
	unsigned char *der = NULL;
	size_t len;
	int r;

	if ((r = kd_key_to_der(key, &der, &len)) != 0)
		return r;
	r = kd_fingerprint_der(der, len, out);
	OPENSSL_free(der);
	return r;
}
