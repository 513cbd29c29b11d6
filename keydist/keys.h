/*
 * Long-term RSA keys: generation, PEM files, fingerprints.
 *
 * Private keys are PKCS#8 PEM files of mode 0600, encrypted with a
 * passphrase (PBES2: scrypt and AES-256-CBC) or clear; public keys are
 * SubjectPublicKeyInfo PEM.  All are what `openssl pkey` reads.
 * Fingerprints are SSH-style: "SHA256:" and the unpadded base64 of the
 * SHA-256 of the key's DER SubjectPublicKeyInfo, so that
 *   openssl pkey -pubin -in K.pub -outform DER | openssl dgst -sha256 -binary | base64
 * shows the same value (with '=' padding).
 */
#ifndef MISSIVE_KEYS_H
#define MISSIVE_KEYS_H

#include <stddef.h>

#include <openssl/evp.h>

#define KD_RSA_BITS 3072         /* size of the keys we generate */
#define KD_RSA_MIN_BITS 3072     /* smallest key we accept from anyone */
#define KD_RSA_MAX_BITS 8192     /* largest: bounds buffer sizes */
#define KD_RSA_MAX_BYTES (KD_RSA_MAX_BITS / 8)
#define KD_RSA_EXPONENT 65537    /* the only public exponent we accept */
#define KD_FP_SIZE 51            /* "SHA256:" + 43 base64 chars + NUL */
#define KD_PEM_MAX 16384         /* bound on a public key PEM we parse */

/* Generate a fresh RSA key of bits (KD_RSA_MIN_BITS..KD_RSA_MAX_BITS). */
int kd_key_generate(int bits, EVP_PKEY **out) __attribute__((warn_unused_result));

/*
 * Write the private key as PKCS#8 PEM to a new file of mode 0600
 * (E_EXISTS if path exists: keys are never overwritten).
 */
int kd_key_write_private(EVP_PKEY *key, const char *path)
    __attribute__((warn_unused_result));
/*
 * The same, encrypted with the passphrase pass[0..len) (1 to INT_MAX
 * bytes): PKCS#8 EncryptedPrivateKeyInfo, PBES2 with scrypt (N 16384, r 8,
 * p 2) and AES-256-CBC, which `openssl pkey -passin` opens.
 */
int kd_key_write_private_pass(EVP_PKEY *key, const char *path,
    const char *pass, size_t len) __attribute__((warn_unused_result));
/* Write the public key as SPKI PEM to a new file of mode 0644. */
int kd_key_write_public(EVP_PKEY *key, const char *path)
    __attribute__((warn_unused_result));

/*
 * Read a private key.  Refuses a file that group or others may access
 * (E_KEY_PERM, as ssh does) and a key that is not acceptable RSA
 * (E_KEY_TYPE).
 */
int kd_key_read_private(const char *path, EVP_PKEY **out)
    __attribute__((warn_unused_result));
/*
 * The same for a key that may be encrypted: opened with pass[0..len)
 * (NULL: a clear key only).  E_KEY_LOCKED if the file is encrypted and
 * pass is missing or does not open it.
 */
int kd_key_read_private_pass(const char *path, const char *pass, size_t len,
    EVP_PKEY **out) __attribute__((warn_unused_result));
/* Read a public key (a private key file is refused). */
int kd_key_read_public(const char *path, EVP_PKEY **out)
    __attribute__((warn_unused_result));

/* Parse / produce SPKI PEM in memory.  *pem from kd_key_to_pem is for free(). */
int kd_key_from_pem(const char *pem, size_t len, EVP_PKEY **out)
    __attribute__((warn_unused_result));
int kd_key_to_pem(EVP_PKEY *key, char **pem, size_t *len)
    __attribute__((warn_unused_result));

/* The key's public part as DER SPKI.  *der is for OPENSSL_free(). */
int kd_key_to_der(EVP_PKEY *key, unsigned char **der, size_t *len)
    __attribute__((warn_unused_result));
/* Parse DER SPKI (as received on the wire) into an acceptable RSA key. */
int kd_key_from_der(const unsigned char *der, size_t len, EVP_PKEY **out)
    __attribute__((warn_unused_result));

/*
 * 0 if key is RSA with KD_RSA_MIN_BITS..KD_RSA_MAX_BITS and the public
 * exponent KD_RSA_EXPONENT, else E_KEY_TYPE.
 */
int kd_key_check(EVP_PKEY *key) __attribute__((warn_unused_result));

/* 1 if both keys have the same public part, else 0. */
int kd_key_equal(EVP_PKEY *a, EVP_PKEY *b);

/* SSH-style fingerprint of the public part. */
int kd_fingerprint(EVP_PKEY *key, char out[KD_FP_SIZE])
    __attribute__((warn_unused_result));
/* The same from the key's DER SPKI, without OpenSSL's encoder. */
int kd_fingerprint_der(const unsigned char *der, size_t len,
    char out[KD_FP_SIZE]) __attribute__((warn_unused_result));

/*
 * 1 if fp[0..len) is a fingerprint as kd_fingerprint() writes them:
 * "SHA256:" and the unpadded base64 of 32 bytes, in its one spelling.
 */
int kd_fp_valid(const char *fp, size_t len);

#endif
