/*
 * envelope-tool: seal or open a keydist envelope through files, so that
 * integration tests can check it against the openssl command line.
 *
 *   envelope-tool seal RECIPIENT.pub SENDER.key TRANSCRIPT DIR
 *       writes DIR/key.bin (the session key), DIR/wrapped.bin, DIR/sig.bin
 *   envelope-tool open RECIPIENT.key SENDER.pub TRANSCRIPT DIR
 *       reads DIR/wrapped.bin and DIR/sig.bin, prints the key as hex
 *
 * Exit status 0, or 1 with the keydist error on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "keydist/envelope.h"

static size_t
read_all(const char *dir, const char *name, uint8_t *buf, size_t cap)
{
	char path[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s%s", dir, name ? "/" : "",
	    name ? name : "");
	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		exit(1);
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void
write_all(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(buf, 1, len, f) != len ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	static uint8_t transcript[65536];
	struct kd_envelope env;
	uint8_t key[KD_SESSION_KEY_LEN];
	EVP_PKEY *priv = NULL, *pub = NULL;
	size_t tlen, i;
	int seal, r;

	if (argc != 6 || (strcmp(argv[1], "seal") != 0 &&
	    strcmp(argv[1], "open") != 0)) {
		fprintf(stderr, "usage: envelope-tool seal|open KEY KEY "
		    "TRANSCRIPT DIR\n");
		return 2;
	}
	seal = strcmp(argv[1], "seal") == 0;
	tlen = read_all(argv[4], NULL, transcript, sizeof(transcript));
	if (seal)
		r = kd_key_read_public(argv[2], &pub);
	else
		r = kd_key_read_private(argv[2], &priv);
	if (r == 0 && seal)
		r = kd_key_read_private(argv[3], &priv);
	else if (r == 0)
		r = kd_key_read_public(argv[3], &pub);
	if (r != 0) {
		fprintf(stderr, "envelope-tool: keys: %s\n", err_str(r));
		return 1;
	}
	if (seal) {
		r = kd_envelope_seal(pub, priv, transcript, tlen, key, &env);
		if (r == 0) {
			write_all(argv[5], "key.bin", key, sizeof(key));
			write_all(argv[5], "wrapped.bin", env.wrapped,
			    env.wrapped_len);
			write_all(argv[5], "sig.bin", env.sig, env.sig_len);
		}
	} else {
		env.wrapped_len = read_all(argv[5], "wrapped.bin", env.wrapped,
		    sizeof(env.wrapped));
		env.sig_len = read_all(argv[5], "sig.bin", env.sig,
		    sizeof(env.sig));
		r = kd_envelope_open(priv, pub, transcript, tlen, &env, key);
		for (i = 0; r == 0 && i < sizeof(key); i++)
			printf("%02x", key[i]);
		if (r == 0)
			printf("\n");
	}
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	if (r != 0) {
		fprintf(stderr, "envelope-tool: %s\n", err_str(r));
		return 1;
	}
	return 0;
}
