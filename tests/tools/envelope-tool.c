/*
 * envelope-tool: seal or open a keydist envelope through files, so that
 * integration tests can check it against the openssl command line.
 *
 * seal and open use the handshake's label (keydist/envelope.h).
 *
 *   envelope-tool seal RECIPIENT.pub SENDER.key TRANSCRIPT DIR
 *       writes DIR/key.bin (the session key), DIR/wrapped.bin, DIR/sig.bin
 *   envelope-tool open RECIPIENT.key SENDER.pub TRANSCRIPT DIR
 *       reads DIR/wrapped.bin and DIR/sig.bin, prints the key as hex
 *   envelope-tool sender-key RECIPIENT.pub SENDER.key ROOM SENDER DIR
 *       makes a sender key and distributes it from SENDER to RECIPIENT as
 *       the client core does (keydist/senderkey.c), and writes the parts
 *       of the blob: DIR/wrapped.bin, sig.bin, id.bin, edpub.bin, sealed.bin
 *
 * Exit status 0, or 1 with the keydist error on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "common/err.h"
#include "keydist/envelope.h"
#include "keydist/keys.h"
#include "keydist/senderkey.h"

static size_t
read_all(const char *dir, const char *name, uint8_t *buf, size_t cap)
{
	char path[4096];
	size_t n;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir,
	    name ? "/" : "", name ? name : "") >= sizeof(path) ||
	    (f = fopen(path, "rb")) == NULL) {
		perror(path);
		exit(1);
	}
	n = fread(buf, 1, cap, f);
	(void)fclose(f);	/* read only */
	return n;
}

static void
write_all(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path) || (f = fopen(path, "wb")) == NULL ||
	    fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* The next len bytes of the blob at *p. */
static const uint8_t *
part(const uint8_t **p, const uint8_t *end, size_t len)
{
	const uint8_t *q = *p;

	if (len > (size_t)(end - q)) {
		(void)fprintf(stderr, "envelope-tool: short blob\n");
		exit(1);
	}
	*p += len;
	return q;
}

/* The next uint16_be(len) || bytes of the blob; *len gets the length. */
static const uint8_t *
part16(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *q = part(p, end, 2);

	*len = be16_load(q);
	return part(p, end, *len);
}

static int
sender_key(char **argv)
{
	struct kd_sender_key sk = { 0 };
	EVP_PKEY *to = NULL, *from = NULL;
	uint8_t blob[KD_SKD_MAX];
	const uint8_t *p = blob, *end, *q;
	char fp[KD_FP_SIZE];
	size_t len, n;
	int r;

	if ((r = kd_key_read_public(argv[2], &to)) != 0 ||
	    (r = kd_key_read_private(argv[3], &from)) != 0 ||
	    (r = kd_fingerprint(to, fp)) != 0 ||
	    (r = kd_sk_generate(&sk)) != 0 ||
	    (r = kd_sk_distribute(&sk, from, to, argv[4], argv[5], fp, blob,
	    sizeof(blob), &len)) != 0) {
		(void)fprintf(stderr, "envelope-tool: %s\n", err_str(r));
		return 1;
	}
	end = blob + len;
	q = part16(&p, end, &n);
	write_all(argv[6], "wrapped.bin", q, n);
	q = part16(&p, end, &n);
	write_all(argv[6], "sig.bin", q, n);
	write_all(argv[6], "id.bin", part(&p, end, KD_SK_ID_LEN), KD_SK_ID_LEN);
	write_all(argv[6], "edpub.bin", part(&p, end, KD_ED25519_LEN),
	    KD_ED25519_LEN);
	write_all(argv[6], "sealed.bin", p, (size_t)(end - p));
	kd_sk_clear(&sk);
	EVP_PKEY_free(to);
	EVP_PKEY_free(from);
	return 0;
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

	if (argc == 7 && strcmp(argv[1], "sender-key") == 0)
		return sender_key(argv);
	if (argc != 6 || (strcmp(argv[1], "seal") != 0 &&
	    strcmp(argv[1], "open") != 0)) {
		(void)fprintf(stderr, "usage: envelope-tool seal|open KEY KEY "
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
		(void)fprintf(stderr, "envelope-tool: keys: %s\n", err_str(r));
		return 1;
	}
	if (seal) {
		r = kd_envelope_seal(KD_ENV_HANDSHAKE, pub, priv, transcript,
		    tlen, key, &env);
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
		r = kd_envelope_open(KD_ENV_HANDSHAKE, priv, pub, transcript,
		    tlen, &env, key);
		for (i = 0; r == 0 && i < sizeof(key); i++)
			printf("%02x", key[i]);
		if (r == 0)
			printf("\n");
	}
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	if (r != 0) {
		(void)fprintf(stderr, "envelope-tool: %s\n", err_str(r));
		return 1;
	}
	return 0;
}
