#ifndef MISSIVE_HKDF_H
#define MISSIVE_HKDF_H

#include <stddef.h>
#include <stdint.h>

/*
 * HKDF-SHA256 (RFC 5869), extract then expand, through OpenSSL's EVP_KDF.
 * salt may be NULL/0 (a zero salt of hash length, as the RFC says).
 * outlen at most 255 * 32.
 */
int kd_hkdf_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen) __attribute__((warn_unused_result));

#endif
