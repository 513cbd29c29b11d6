/*
 * What the libFuzzer harnesses in tests/fuzz/ share (and gen-corpus.c,
 * which writes their seed corpora): fixed test keys, a scratch directory,
 * property checks that abort, a reader over the fuzz input.
 */
#ifndef MISSIVE_FUZZ_UTIL_H
#define MISSIVE_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* libFuzzer's entry points (declared for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * A property the harness checks: if it does not hold, say which and abort,
 * so that libFuzzer keeps the input as a crash.
 */
#define FUZZ_CHECK(cond) do {                                              \
	if (!(cond))                                                       \
		fuzz_fail(__FILE__, __LINE__, #cond);                      \
} while (0)

void fuzz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

/* malloc(n), at least 1 byte; aborts when out of memory. */
void *fuzz_malloc(size_t n);

/* Fixed RSA test keys (keys.c), PKCS#8 PEM. */
extern const char fuzz_key_server_pem[];
extern const char fuzz_key_alice_pem[];
extern const char fuzz_key_bob_pem[];

/* The record key and IV of fuzz_record (and of gen-corpus's records). */
extern const uint8_t fuzz_record_key[32];
extern const uint8_t fuzz_record_iv[12];

/* One of the keys above (aborts if it does not parse). */
EVP_PKEY *fuzz_key(const char *pem);

/* A scratch directory of this process, removed with its files at exit. */
const char *fuzz_tmpdir(void);

/* path = fuzz_tmpdir() "/" name, into out (aborts if it does not fit). */
void fuzz_tmppath(char *out, size_t cap, const char *name);

/* Replace the file at path by len bytes of data (aborts on error). */
void fuzz_write_file(const char *path, const void *data, size_t len);

/* Reading the fuzz input front to back; past its end every read is 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in);

#endif
