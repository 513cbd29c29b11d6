/*
 * Fuzz the history import (client/history.c) on files a user may be handed.
 * The first input byte picks the mode:
 *
 *   even  the rest is the export file, as is: almost always refused at
 *         the envelope or the MAC;
 *   odd   the rest is the "messages" value (any JSON); the harness wraps
 *         it into an export and MACs it itself, from docs/HISTORY.md (a
 *         second reading of the format), so that the records are parsed.
 *
 * The history imported into holds one record beforehand, saved.  Checked:
 * a refused import returns one of the documented errors, adds nothing and
 * leaves the file byte for byte as it was; a correctly MACed export is
 * never refused for its MAC; after an accepted import, importing again
 * adds nothing, and an export of the result imports whole into an empty
 * history.
 */
#include <argon2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "client/history.h"
#include "common/err.h"
#include "common/file.h"
#include "keydist/hkdf.h"
#include "tests/fuzz/util.h"

#define USER "alice"
#define PASSWORD "fuzz password"
#define KDF_T 1
#define KDF_M 8
#define KDF_P 1

static char hist_path[512], other_path[512], in_path[512], out_path[512];
static uint8_t export_key[32];

/* The export key as docs/HISTORY.md gives it. */
static void
derive_export_key(void)
{
	static const char label[] = "missive history export v1";
	uint8_t salt[32], raw[32];
	unsigned int len = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	FUZZ_CHECK(md != NULL);
	FUZZ_CHECK(EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, label, sizeof(label)) == 1 &&
	    EVP_DigestUpdate(md, USER, strlen(USER)) == 1 &&
	    EVP_DigestFinal_ex(md, salt, &len) == 1);
	EVP_MD_CTX_free(md);
	FUZZ_CHECK(argon2id_hash_raw(KDF_T, KDF_M, KDF_P, PASSWORD,
	    strlen(PASSWORD), salt, sizeof(salt), raw, sizeof(raw)) ==
	    ARGON2_OK);
	FUZZ_CHECK(kd_hkdf_sha256(NULL, 0, raw, sizeof(raw),
	    (const uint8_t *)label, strlen(label), export_key,
	    sizeof(export_key)) == 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	history_set_kdf(KDF_T, KDF_M, KDF_P);
	fuzz_tmppath(hist_path, sizeof(hist_path), "history");
	fuzz_tmppath(other_path, sizeof(other_path), "other");
	fuzz_tmppath(in_path, sizeof(in_path), "in.json");
	fuzz_tmppath(out_path, sizeof(out_path), "out.json");
	derive_export_key();
	return 0;
}

/* The file at path, whole (malloc'd; *len bytes). */
static char *
slurp(const char *path, size_t *len)
{
	char *p;

	FUZZ_CHECK(file_read_all(path, HISTORY_FILE_MAX, &p, len, NULL, NULL,
	    0) == 0);
	return p;
}

/* A new history at path, with one record saved (unless empty). */
static struct history *
fresh(const char *path, int empty)
{
	static const uint8_t id[HISTORY_ID_LEN] = { 0x5a };
	struct history_record r = { .conv = "dev", .sender = "bob",
	    .nickname = "Bob", .time_ms = 1000, .text = "before" };
	struct history *h = NULL;
	char err[256];

	(void)unlink(path);
	FUZZ_CHECK(history_open(path, USER, PASSWORD, &h, err,
	    sizeof(err)) == 0);
	if (!empty) {
		memcpy(r.id, id, sizeof(id));
		FUZZ_CHECK(history_add(h, &r) == 1);
		FUZZ_CHECK(history_save(h, err, sizeof(err)) == 0);
	}
	return h;
}

/* Wrap messages into an export MACed as docs/HISTORY.md says. */
static int
wrap(const uint8_t *data, size_t size)
{
	uint8_t mac[32];
	char hex[65], *canon, *text;
	json_t *msgs, *doc;
	json_error_t je;
	size_t i, n = 0;

	if ((msgs = json_loadb((const char *)data, size,
	    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je)) == NULL)
		return -1;
	doc = json_pack("{s:s, s:i, s:s, s:{s:s, s:i, s:i, s:i}, s:o}",
	    "format", "missive-history", "version", 1, "user", USER,
	    "kdf", "alg", "argon2id", "t", KDF_T, "m", KDF_M, "p", KDF_P,
	    "messages", msgs);
	FUZZ_CHECK(doc != NULL);
	FUZZ_CHECK((canon = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) !=
	    NULL);
	FUZZ_CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, export_key,
	    sizeof(export_key), (const unsigned char *)canon, strlen(canon),
	    mac, sizeof(mac), &n) != NULL && n == sizeof(mac));
	free(canon);
	for (i = 0; i < sizeof(mac); i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	FUZZ_CHECK(json_object_set_new(doc, "mac", json_string(hex)) == 0);
	FUZZ_CHECK((text = json_dumps(doc, JSON_INDENT(1))) != NULL);
	fuzz_write_file(in_path, text, strlen(text));
	free(text);
	json_decref(doc);
	return 0;
}

/* An accepted import: again adds nothing; an export of it imports whole. */
static void
check_accepted(struct history *h)
{
	struct history *g;
	char err[256];
	size_t added = 1;

	FUZZ_CHECK(history_import(h, in_path, &added, err, sizeof(err)) == 0);
	FUZZ_CHECK(added == 0);
	FUZZ_CHECK(history_export_json(h, out_path, err, sizeof(err)) == 0);
	g = fresh(other_path, 1);
	FUZZ_CHECK(history_import(g, out_path, &added, err, sizeof(err)) == 0);
	FUZZ_CHECK(added == history_count(h));
	history_close(g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct history *h;
	char err[256], *before, *after;
	size_t added = 99, blen, alen;
	int r, mode;

	if (size == 0)
		return 0;
	mode = data[0] & 1;
	if (mode == 0)
		fuzz_write_file(in_path, data + 1, size - 1);
	else if (wrap(data + 1, size - 1) != 0)
		return 0;
	h = fresh(hist_path, 0);
	before = slurp(hist_path, &blen);
	err[0] = '\0';
	r = history_import(h, in_path, &added, err, sizeof(err));
	if (r != 0) {
		FUZZ_CHECK(r == E_MALFORMED || r == E_MAC_INVALID ||
		    r == E_KEY_MISMATCH || r == E_TOO_LONG || r == E_NOMEM);
		FUZZ_CHECK(mode == 0 || r != E_MAC_INVALID);
		FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
		FUZZ_CHECK(added == 0 && history_count(h) == 1);
		after = slurp(hist_path, &alen);
		FUZZ_CHECK(alen == blen && memcmp(before, after, blen) == 0);
		free(after);
	} else {
		FUZZ_CHECK(history_count(h) == 1 + added);
		check_accepted(h);
	}
	free(before);
	history_close(h);
	return 0;
}
