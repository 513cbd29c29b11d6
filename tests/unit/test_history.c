/*
 * Unit tests for client/history: the sealed file (with the peers' keys
 * and current conversation fields; a file of the first version), JSON
 * export and import.
 * Every test works in its own directory made with mkdtemp under $TMPDIR
 * (or /tmp), with a cheap Argon2id setting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <argon2.h>

#include "client/history.h"
#include "common/err.h"
#include "common/file.h"
#include "keydist/aead.h"
#include "keydist/hkdf.h"

#include "tests/unit/util.h"

struct fx {
	char dir[PATH_MAX];
	char file[PATH_MAX + 16];     /* the history */
	char other[PATH_MAX + 16];    /* a second device's history */
	char json[PATH_MAX + 16];     /* an export */
	char text[PATH_MAX + 16];
	char err[512];
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	if (make_tmpdir(fx->dir, sizeof(fx->dir), "test_history") != 0) {
		free(fx);
		return -1;
	}
	(void)snprintf(fx->file, sizeof(fx->file), "%s/history", fx->dir);
	(void)snprintf(fx->other, sizeof(fx->other), "%s/other", fx->dir);
	(void)snprintf(fx->json, sizeof(fx->json), "%s/export.json", fx->dir);
	(void)snprintf(fx->text, sizeof(fx->text), "%s/export.txt", fx->dir);
	history_set_kdf(1, 64, 1);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	const char *files[] = { fx->file, fx->other, fx->json, fx->text };
	size_t i;
	int r;

	/* Only these files are made (mkstemp's are renamed or removed). */
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		(void)unlink(files[i]);
	r = rmdir(fx->dir);
	free(fx);
	return r;
}

/* Record i: two conversations, both directions, a TAB and non-ASCII. */
static struct history_record
rec(int i)
{
	static char text[8][64];
	struct history_record r;

	memset(&r, 0, sizeof(r));
	r.id[0] = (uint8_t)i;
	r.id[15] = 0xa5;
	r.conv = i % 2 ? "dev" : "@bob";
	r.sender = i % 3 ? "bob" : "alice";
	r.nickname = i % 3 ? "Bob \xc3\xa9" : "Alice";
	r.time_ms = 1714564800000LL + 1000LL * (8 - i) + i;
	(void)snprintf(text[i % 8], sizeof(text[0]), "line %d\t\"q\" \\ "
	    "\xe2\x82\xac", i);
	r.text = text[i % 8];
	r.verified = i % 2;
	r.outgoing = i % 3 == 0;
	return r;
}

static struct history *
open_ok(struct fx *fx, const char *path, const char *user, const char *pw)
{
	struct history *h = NULL;

	assert_int_equal(history_open(path, user, pw, &h, fx->err,
	    sizeof(fx->err)), 0);
	assert_non_null(h);
	return h;
}

static void
add_n(struct history *h, int n)
{
	struct history_record r;
	int i;

	for (i = 0; i < n; i++) {
		r = rec(i);
		assert_int_equal(history_add(h, &r), 1);
	}
}

static void
assert_same(const struct history_record *a, const struct history_record *b)
{
	assert_memory_equal(a->id, b->id, HISTORY_ID_LEN);
	assert_string_equal(a->conv, b->conv);
	assert_string_equal(a->sender, b->sender);
	assert_string_equal(a->nickname, b->nickname);
	assert_int_equal(a->time_ms, b->time_ms);
	assert_string_equal(a->text, b->text);
	assert_int_equal(a->verified, b->verified);
	assert_int_equal(a->outgoing, b->outgoing);
}

static void
assert_same_all(const struct history *a, const struct history *b)
{
	size_t i;

	assert_int_equal(history_count(a), history_count(b));
	for (i = 0; i < history_count(a); i++)
		assert_same(history_get(a, i), history_get(b, i));
}

/* The whole file into a malloc'd buffer. */
static char *
slurp(const char *path, size_t *len)
{
	char *p;

	assert_int_equal(file_read_all(path, HISTORY_FILE_MAX, &p, len, NULL,
	    NULL, 0), 0);
	return p;
}

/* 1 if the n bytes of needle occur in p[0..len). */
static int
contains(const char *p, size_t len, const char *needle, size_t n)
{
	size_t i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(p + i, needle, n) == 0)
			return 1;
	return 0;
}

static void
test_order_and_duplicates(void **state)
{
	struct fx *fx = *state;
	struct history *h = open_ok(fx, fx->file, "alice", "pw");
	struct history_record r = rec(3), bad = rec(4);
	size_t i;

	assert_int_equal(history_count(h), 0);
	assert_false(history_dirty(h));
	add_n(h, 8);
	assert_true(history_dirty(h));
	assert_int_equal(history_add(h, &r), 0);
	assert_int_equal(history_count(h), 8);
	for (i = 1; i < 8; i++)
		assert_true(history_get(h, i - 1)->time_ms <=
		    history_get(h, i)->time_ms);
	assert_null(history_get(h, 8));
	bad.conv = "no room!";
	assert_int_equal(history_add(h, &bad), E_MALFORMED);
	bad = rec(5);
	bad.text = "\xff";
	assert_int_equal(history_add(h, &bad), E_MALFORMED);
	bad = rec(6);
	bad.sender = NULL;
	assert_int_equal(history_add(h, &bad), E_MALFORMED);
	bad = rec(6);
	bad.time_ms = -1;
	assert_int_equal(history_add(h, &bad), E_MALFORMED);
	bad.time_ms = 253402300800000LL;
	assert_int_equal(history_add(h, &bad), E_MALFORMED);
	history_close(h);
}

static void
test_event(void **state)
{
	struct fx *fx = *state;
	struct history *h = open_ok(fx, fx->file, "alice", "pw");
	static const uint8_t mid[SESSION_MID_LEN] = { 1, 2, 3 };
	static const uint8_t mid2[SESSION_MID_LEN] = { 9, 2, 3 };
	static const uint8_t mid3[SESSION_MID_LEN] = { 7, 2, 3 };
	struct session_event ev = { .kind = SESSION_EV_CHAT, .room = "dev",
	    .user = "bob", .nickname = "Bob", .text = "hi", .time_ms = 5,
	    .trust = SESSION_KEY_VERIFIED, .mid = mid };

	assert_int_equal(history_add_event(h, &ev), 1);
	assert_int_equal(history_add_event(h, &ev), 0);
	ev.kind = SESSION_EV_SENT;
	ev.mid = mid2;
	ev.user = "alice";
	ev.nickname = "";
	assert_int_equal(history_add_event(h, &ev), 1);
	ev.kind = SESSION_EV_JOIN;
	assert_int_equal(history_add_event(h, &ev), 0);
	/* A line of ours the server did not store is not kept as sent. */
	ev.kind = SESSION_EV_NOT_STORED;
	ev.mid = mid3;
	ev.code = "full";
	assert_int_equal(history_add_event(h, &ev), 0);
	/* A line of the backlog is kept like any other. */
	ev.kind = SESSION_EV_CHAT;
	ev.user = "bob";
	ev.backlog = 1;
	ev.time_ms = 6;
	assert_int_equal(history_add_event(h, &ev), 1);
	assert_int_equal(history_count(h), 3);
	assert_true(history_get(h, 0)->verified);
	assert_false(history_get(h, 0)->outgoing);
	assert_string_equal(history_get(h, 1)->nickname, "alice");
	assert_true(history_get(h, 1)->outgoing);
	assert_false(history_get(h, 1)->verified);
	history_close(h);
}

static void
test_file_round_trip(void **state)
{
	struct fx *fx = *state;
	struct history *h = open_ok(fx, fx->file, "alice", "pw"), *g;
	struct stat st;
	char *raw;
	size_t len;

	add_n(h, 8);
	assert_int_equal(history_save(h, fx->err, sizeof(fx->err)), 0);
	assert_false(history_dirty(h));
	assert_int_equal(stat(fx->file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Encrypted: no text in the clear. */
	raw = slurp(fx->file, &len);
	assert_false(contains(raw, len, "line 3", 6));
	assert_false(contains(raw, len, "Bob", 3));
	free(raw);
	g = open_ok(fx, fx->file, "alice", "pw");
	assert_same_all(h, g);
	history_close(g);
	history_close(h);
}

static void
test_file_refused(void **state)
{
	struct fx *fx = *state;
	struct history *h = open_ok(fx, fx->file, "alice", "pw");
	char *raw;
	size_t len, i;

	add_n(h, 3);
	assert_int_equal(history_save(h, fx->err, sizeof(fx->err)), 0);
	history_close(h);
	h = NULL;
	assert_int_equal(history_open(fx->file, "alice", "other", &h, fx->err,
	    sizeof(fx->err)), E_MAC_INVALID);
	assert_null(h);
	assert_non_null(strstr(fx->err, "another password"));
	assert_int_equal(history_open(fx->file, "bob", "pw", &h, fx->err,
	    sizeof(fx->err)), E_KEY_MISMATCH);
	assert_non_null(strstr(fx->err, "another user"));
	/* Every byte flipped in turn: never opens, never crashes. */
	raw = slurp(fx->file, &len);
	for (i = 0; i < len; i += 7) {
		raw[i] ^= 0x20;
		write_file(fx->other, raw, len);
		raw[i] ^= 0x20;
		assert_true(history_open(fx->other, "alice", "pw", &h, fx->err,
		    sizeof(fx->err)) < 0);
		assert_null(h);
	}
	write_file(fx->other, raw, len - 1);
	assert_int_equal(history_open(fx->other, "alice", "pw", &h, fx->err,
	    sizeof(fx->err)), E_MAC_INVALID);
	write_file(fx->other, "{\"format\": 1}", 13);
	assert_int_equal(history_open(fx->other, "alice", "pw", &h, fx->err,
	    sizeof(fx->err)), E_MALFORMED);
	assert_non_null(strstr(fx->err, "not a missive history file"));
	free(raw);
}

/* Two clients on one folder (or --import while a client runs): a save
   merges what the other wrote since, never drops it. */
static void
test_two_writers(void **state)
{
	struct fx *fx = *state;
	struct history *h0 = open_ok(fx, fx->file, "alice", "pw"), *h1, *h2;
	struct history_record r;

	assert_int_equal(history_save(h0, fx->err, sizeof(fx->err)), 0);
	history_close(h0);
	h1 = open_ok(fx, fx->file, "alice", "pw");
	h2 = open_ok(fx, fx->file, "alice", "pw");
	r = rec(0);
	assert_int_equal(history_add(h1, &r), 1);
	assert_int_equal(history_save(h1, fx->err, sizeof(fx->err)), 0);
	r = rec(1);
	assert_int_equal(history_add(h2, &r), 1);
	assert_int_equal(history_save(h2, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(history_count(h2), 2);
	h0 = open_ok(fx, fx->file, "alice", "pw");
	assert_same_all(h0, h2);
	history_close(h0);
	/* Made anew by a client that found no file: another salt, another
	   key.  Not overwritten. */
	assert_int_equal(unlink(fx->file), 0);
	h0 = open_ok(fx, fx->file, "alice", "pw");
	r = rec(2);
	assert_int_equal(history_add(h0, &r), 1);
	assert_int_equal(history_save(h0, fx->err, sizeof(fx->err)), 0);
	history_close(h0);
	r = rec(3);
	assert_int_equal(history_add(h1, &r), 1);
	assert_int_equal(history_save(h1, fx->err, sizeof(fx->err)),
	    E_EXISTS);
	assert_non_null(strstr(fx->err, "another key"));
	assert_true(history_dirty(h1));
	h0 = open_ok(fx, fx->file, "alice", "pw");
	assert_int_equal(history_count(h0), 1);
	history_close(h0);
	history_close(h1);
	history_close(h2);
}

/*
 * A history file of the first version (its plaintext the bare message
 * array), made by the code before the keys field with history_set_kdf(1,
 * 64, 1): alice's, password "pw", one record from bob in dev.
 */
static const char old_file[] =
	"4d53564849535431000000010000004000000001c1df887ef9c0e32f60cab631"
	"d2c3fb4b05616c696365ff92d694968fcdef528bb8391ee3357a6394486ce983"
	"5e5fe7420d9aafce578b9838a40180fb95aef5c4f1030868d99555d592dc0cef"
	"97e7fb01f593e10196d0708f8ca7e9870894d9acea6d62affa22619dc7cd2042"
	"425d4f4a8ec58f76b90483a0e22bb630b930aaf95b8baddb880c9ae1fa974f05"
	"fac01e345a374c7434c6fb5d84c8e2025aebc5757699c7097ed0c6d203eb451e"
	"ab05b3bba9c67021d0455dd62b21928fbf462d7b08537592a975c91c52b1f827"
	"1fa3f2c792c39bba0d448af79a0ba69a8ddc0840c3";

/* The peers' keys: sealed with the records, kept across save and open,
   never in an export, not taken from an import; an old file opens. */
static void
test_keys_field(void **state)
{
	static const uint8_t keys[] = "peer sender keys, opaque here";
	struct fx *fx = *state;
	struct history *h, *g;
	uint8_t file[sizeof(old_file) / 2];
	size_t len, added;
	const uint8_t *got;
	char *raw;
	FILE *f;

	assert_int_equal(unhex(old_file, file), sizeof(file));
	assert_non_null(f = fopen(fx->file, "wb"));
	assert_int_equal(fwrite(file, 1, sizeof(file), f), sizeof(file));
	assert_int_equal(fclose(f), 0);
	h = open_ok(fx, fx->file, "alice", "pw");
	assert_int_equal(history_count(h), 1);
	assert_string_equal(history_get(h, 0)->text, "old format");
	assert_null(history_keys(h, &len));
	assert_int_equal(len, 0);
	assert_null(history_current(h));
	assert_false(history_dirty(h));
	/* Setting keys is a change to save. */
	assert_int_equal(history_set_keys(h, keys, sizeof(keys)), 0);
	assert_true(history_dirty(h));
	assert_int_equal(history_save(h, fx->err, sizeof(fx->err)), 0);
	raw = slurp(fx->file, &len);
	assert_false(contains(raw, len, "keys", 4));
	free(raw);
	g = open_ok(fx, fx->file, "alice", "pw");
	assert_non_null(got = history_keys(g, &len));
	assert_int_equal(len, sizeof(keys));
	assert_memory_equal(got, keys, sizeof(keys));
	assert_same_all(h, g);
	/* A file with keys but no current conversation opens without one. */
	assert_null(history_current(g));
	history_close(g);
	/* Exports leave them out. */
	assert_int_equal(history_export_json(h, fx->json, fx->err,
	    sizeof(fx->err)), 0);
	raw = slurp(fx->json, &len);
	assert_false(contains(raw, len, "keys", 4));
	free(raw);
	assert_int_equal(history_export_text(h, fx->text, fx->err,
	    sizeof(fx->err)), 0);
	raw = slurp(fx->text, &len);
	assert_false(contains(raw, len, "keys", 4));
	free(raw);
	/* An import brings records, never keys; the keys there stay. */
	g = open_ok(fx, fx->other, "alice", "pw");
	assert_int_equal(history_set_keys(g, keys, 4), 0);
	assert_int_equal(history_import(g, fx->json, &added, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(added, 1);
	history_close(g);
	g = open_ok(fx, fx->other, "alice", "pw");
	assert_non_null(got = history_keys(g, &len));
	assert_int_equal(len, 4);
	assert_memory_equal(got, keys, 4);
	history_close(g);
	history_close(h);
}

/*
 * Replace the plaintext of alice's sealed file (password "pw", the test's
 * Argon2id cost) with plain, sealed as history.c does: the only way to
 * make a file with values history_save() would never write.
 */
static void
reseal(struct fx *fx, const char *plain)
{
	static const char info[] = "missive history file v1";
	size_t len, head = 37 + 5, plen = strlen(plain);
	uint8_t raw[32], key[KD_AEAD_KEY_LEN], *out;
	char *file = slurp(fx->file, &len);

	assert_true(len >= head + KD_AEAD_IV_LEN + KD_AEAD_TAG_LEN);
	assert_int_equal(argon2id_hash_raw(1, 64, 1, "pw", 2, file + 20, 16,
	    raw, sizeof(raw)), ARGON2_OK);
	assert_int_equal(kd_hkdf_sha256(NULL, 0, raw, sizeof(raw),
	    (const uint8_t *)info, strlen(info), key, sizeof(key)), 0);
	assert_non_null(out = malloc(head + KD_AEAD_IV_LEN + plen +
	    KD_AEAD_TAG_LEN));
	memcpy(out, file, head + KD_AEAD_IV_LEN);
	assert_int_equal(kd_aead_seal(key, out + head, out,
	    head + KD_AEAD_IV_LEN, (const uint8_t *)plain, plen,
	    out + head + KD_AEAD_IV_LEN), 0);
	write_file(fx->file, (const char *)out, head + KD_AEAD_IV_LEN +
	    plen + KD_AEAD_TAG_LEN);
	free(out);
	free(file);
}

/* The current conversation: kept across save and open, only valid names,
   never in an export nor taken from an import. */
static void
test_current_field(void **state)
{
	struct fx *fx = *state;
	struct history *h = open_ok(fx, fx->file, "alice", "pw"), *g;
	size_t len, added;
	char *raw;

	assert_null(history_current(h));
	assert_int_equal(history_set_current(h, "@bob"), 0);
	assert_true(history_dirty(h));
	assert_int_equal(history_set_current(h, "no room!"), E_MALFORMED);
	assert_int_equal(history_set_current(h, "@"), E_MALFORMED);
	assert_int_equal(history_set_current(h, ""), E_MALFORMED);
	assert_string_equal(history_current(h), "@bob");
	add_n(h, 3);
	assert_int_equal(history_save(h, fx->err, sizeof(fx->err)), 0);
	/* The same again is no change. */
	assert_int_equal(history_set_current(h, "@bob"), 0);
	assert_false(history_dirty(h));
	g = open_ok(fx, fx->file, "alice", "pw");
	assert_string_equal(history_current(g), "@bob");
	assert_same_all(h, g);
	history_close(g);
	assert_int_equal(history_set_current(h, "dev"), 0);
	assert_true(history_dirty(h));
	assert_int_equal(history_save(h, fx->err, sizeof(fx->err)), 0);
	g = open_ok(fx, fx->file, "alice", "pw");
	assert_string_equal(history_current(g), "dev");
	/* Another client's save keeps ours. */
	assert_int_equal(history_set_current(g, "ops"), 0);
	assert_int_equal(history_save(g, fx->err, sizeof(fx->err)), 0);
	history_close(g);
	assert_int_equal(history_set_current(h, "@carol"), 0);
	assert_int_equal(history_save(h, fx->err, sizeof(fx->err)), 0);
	g = open_ok(fx, fx->file, "alice", "pw");
	assert_string_equal(history_current(g), "@carol");
	history_close(g);
	/* Exports leave it out; an import does not bring it. */
	assert_int_equal(history_export_json(h, fx->json, fx->err,
	    sizeof(fx->err)), 0);
	raw = slurp(fx->json, &len);
	assert_false(contains(raw, len, "current", 7));
	assert_false(contains(raw, len, "carol", 5));
	free(raw);
	g = open_ok(fx, fx->other, "alice", "pw");
	assert_int_equal(history_import(g, fx->json, &added, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(added, 3);
	assert_null(history_current(g));
	history_close(g);
	g = open_ok(fx, fx->other, "alice", "pw");
	assert_null(history_current(g));
	history_close(g);
	history_close(h);
}

/* A current conversation that is not a valid name is ignored: the file
   opens all the same, without one. */
static void
test_current_bad(void **state)
{
	static const char *const bad[] = {
		"\"no room!\"", "\"@\"", "\"\"", "5", "null", "[\"dev\"]",
		"\"#dev\"", "\"Dev\"",
		"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",   /* 33 characters */
	};
	struct fx *fx = *state;
	struct history *h = open_ok(fx, fx->file, "alice", "pw");
	char plain[256];
	size_t i;

	assert_int_equal(history_save(h, fx->err, sizeof(fx->err)), 0);
	history_close(h);
	/* The helper itself: a good value is read. */
	reseal(fx, "{\"messages\":[],\"current\":\"@bob\"}");
	h = open_ok(fx, fx->file, "alice", "pw");
	assert_string_equal(history_current(h), "@bob");
	history_close(h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(plain, sizeof(plain), "{\"messages\":[],"
		    "\"current\":%s}", bad[i]);
		reseal(fx, plain);
		h = open_ok(fx, fx->file, "alice", "pw");
		assert_null(history_current(h));
		assert_false(history_dirty(h));
		history_close(h);
	}
	/* Members still may not appear twice, nor unknown ones at all. */
	reseal(fx, "{\"messages\":[],\"current\":\"dev\",\"current\":\"ops\"}");
	h = NULL;
	assert_int_equal(history_open(fx->file, "alice", "pw", &h, fx->err,
	    sizeof(fx->err)), E_MALFORMED);
	assert_null(h);
	reseal(fx, "{\"messages\":[],\"current\":\"dev\",\"room\":\"ops\"}");
	assert_int_equal(history_open(fx->file, "alice", "pw", &h, fx->err,
	    sizeof(fx->err)), E_MALFORMED);
	assert_null(h);
}

static void
test_export_round_trip(void **state)
{
	struct fx *fx = *state;
	struct history *h = open_ok(fx, fx->file, "alice", "pw"), *g;
	size_t added = 99, len;
	char *json;

	add_n(h, 8);
	assert_int_equal(history_export_json(h, fx->json, fx->err,
	    sizeof(fx->err)), 0);
	json = slurp(fx->json, &len);
	assert_non_null(strstr(json, "\"format\": \"missive-history\""));
	assert_non_null(strstr(json, "\"mac\": \""));
	free(json);
	/* Another device of alice: a new history, the same password. */
	g = open_ok(fx, fx->other, "alice", "pw");
	assert_int_equal(history_import(g, fx->json, &added, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(added, 8);
	assert_same_all(h, g);
	/* Twice: nothing new, and the saved file holds the same. */
	assert_int_equal(history_import(g, fx->json, &added, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(added, 0);
	history_close(g);
	g = open_ok(fx, fx->other, "alice", "pw");
	assert_same_all(h, g);
	history_close(g);
	history_close(h);
}

static void
test_import_merges(void **state)
{
	struct fx *fx = *state;
	struct history *h = open_ok(fx, fx->file, "alice", "pw"), *g;
	struct history_record r;
	size_t added = 0;
	int i;

	add_n(h, 5);
	assert_int_equal(history_export_json(h, fx->json, fx->err,
	    sizeof(fx->err)), 0);
	g = open_ok(fx, fx->other, "alice", "pw");
	for (i = 3; i < 8; i++) {
		r = rec(i);
		assert_int_equal(history_add(g, &r), 1);
	}
	assert_int_equal(history_import(g, fx->json, &added, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(added, 3);
	assert_int_equal(history_count(g), 8);
	history_close(g);
	history_close(h);
}

/* An import that fails must leave both the history and its file as
   they were. */
static void
import_refused(struct fx *fx, int want, const char *why)
{
	struct history *g = open_ok(fx, fx->other, "alice", "pw");
	struct history_record r = rec(7);
	size_t added = 99, before, after;
	char *file0, *file1;

	assert_int_equal(history_add(g, &r), 1);
	assert_int_equal(history_save(g, fx->err, sizeof(fx->err)), 0);
	file0 = slurp(fx->other, &before);
	assert_int_equal(history_import(g, fx->json, &added, fx->err,
	    sizeof(fx->err)), want);
	assert_non_null(strstr(fx->err, why));
	assert_int_equal(added, 0);
	assert_int_equal(history_count(g), 1);
	assert_false(history_dirty(g));
	file1 = slurp(fx->other, &after);
	assert_int_equal(before, after);
	assert_memory_equal(file0, file1, before);
	free(file0);
	free(file1);
	history_close(g);
	assert_int_equal(unlink(fx->other), 0);
}

/* A refused export whose reason quotes it: one line, no escapes. */
static void
import_quoting(struct fx *fx, const char *text)
{
	write_file(fx->json, text, strlen(text));
	import_refused(fx, E_MALFORMED, "not a missive history export");
	assert_null(strchr(fx->err, '\n'));
	assert_null(strchr(fx->err, '\x1b'));
}

static void
test_import_refused(void **state)
{
	struct fx *fx = *state;
	struct history *h = open_ok(fx, fx->file, "alice", "pw"), *b;
	char *json, *p;
	size_t len;

	add_n(h, 4);
	assert_int_equal(history_export_json(h, fx->json, fx->err,
	    sizeof(fx->err)), 0);
	json = slurp(fx->json, &len);
	/* One changed letter of a message. */
	assert_non_null(p = strstr(json, "line 2"));
	p[5] = '9';
	write_file(fx->json, json, len);
	import_refused(fx, E_MAC_INVALID, "altered");
	p[5] = '2';
	/* A changed flag. */
	assert_non_null(p = strstr(json, "\"verified\": false"));
	memcpy(p + 12, "true ", 5);
	write_file(fx->json, json, len);
	import_refused(fx, E_MAC_INVALID, "altered");
	/* Cut short; not JSON at all; JSON but not an export. */
	write_file(fx->json, json, len / 2);
	import_refused(fx, E_MALFORMED, "not a missive history export");
	write_file(fx->json, "hello", 5);
	import_refused(fx, E_MALFORMED, "not a missive history export");
	write_file(fx->json, "{\"a\": 1}", 8);
	import_refused(fx, E_MALFORMED, "not a missive history export");
	/* What jansson quotes of a file reaches the message escaped. */
	import_quoting(fx, "{\"x\\u00\n\x1b[2J\xff\": 1}");
	import_quoting(fx, "{\"format\": \"missive-history\", \"version\": 1, "
	    "\"user\": \"alice\", \"kdf\": {\"alg\": \"argon2id\", \"t\": 1, "
	    "\"m\": 64, \"p\": 1}, \"messages\": [], \"mac\": \"00\", "
	    "\"a\\nb\\u001b[2J\": 1}");
	free(json);
	/* Another user's export. */
	b = open_ok(fx, fx->text, "bob", "pw");
	add_n(b, 2);
	assert_int_equal(history_export_json(b, fx->json, fx->err,
	    sizeof(fx->err)), 0);
	import_refused(fx, E_KEY_MISMATCH, "another user");
	history_close(b);
	history_close(h);
	/* alice's export, made with another password. */
	h = open_ok(fx, fx->file, "alice", "not pw");
	add_n(h, 2);
	assert_int_equal(history_export_json(h, fx->json, fx->err,
	    sizeof(fx->err)), 0);
	import_refused(fx, E_MAC_INVALID, "another password");
	history_close(h);
}

static void
test_export_text(void **state)
{
	struct fx *fx = *state;
	struct history *h = open_ok(fx, fx->file, "alice", "pw");
	struct history_record r = rec(1);
	size_t len;
	char *text;

	r.nickname = "Ev\x1b[2Jil";
	assert_int_equal(history_add(h, &r), 1);
	add_n(h, 1);
	assert_int_equal(history_export_text(h, fx->text, fx->err,
	    sizeof(fx->err)), 0);
	text = slurp(fx->text, &len);
	assert_non_null(strstr(text, " #dev <Ev?[2Jil> [verified] line 1\t"));
	assert_non_null(strstr(text, " @bob <Alice> line 0\t"));
	assert_null(strchr(text, '\x1b'));
	free(text);
	history_close(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_order_and_duplicates),
		T(test_event),
		T(test_file_round_trip),
		T(test_file_refused),
		T(test_two_writers),
		T(test_keys_field),
		T(test_current_field),
		T(test_current_bad),
		T(test_export_round_trip),
		T(test_import_merges),
		T(test_import_refused),
		T(test_export_text),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
