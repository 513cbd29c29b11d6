/*
 * The client's history: records in memory, sealed on disk with
 * AES-256-GCM, exported as JSON with an HMAC (client/history.h,
 * docs/HISTORY.md).
 */
#include "client/history.h"

#include <argon2.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "client/e2e.h"
#include "common/b64.h"
#include "common/be.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/file.h"
#include "common/text.h"
#include "keydist/aead.h"
#include "keydist/hkdf.h"
#include "keydist/random.h"

#define MAGIC "MSVHIST1"
#define MAGIC_LEN 8
#define SALT_LEN 16
#define NONCE_LEN KD_AEAD_IV_LEN
#define TAG_LEN KD_AEAD_TAG_LEN
#define KEY_LEN KD_AEAD_KEY_LEN
#define MAC_LEN 32
#define HEAD_FIXED (MAGIC_LEN + 3 * 4 + SALT_LEN + 1)
#define EXPORT_FORMAT "missive-history"
#define EXPORT_VERSION 1

/* Bounds on the Argon2id cost a file may ask for (a hostile file must
   not make us allocate gigabytes). */
#define KDF_T_MAX 8
#define KDF_M_MAX (256 * 1024)
#define KDF_P_MAX 16
#define TIME_MS_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

_Static_assert(HISTORY_ID_LEN == E2E_MID_LEN, "history ids are E2E ids");
_Static_assert(HISTORY_ID_LEN == SESSION_MID_LEN, "history ids are E2E ids");

struct kdf {
	uint32_t t, m, p;
};

static struct kdf kdf_default = { 2, 19456, 1 };

struct history {
	char *path;
	char user[NAME_USER_MAX + 1];
	struct kdf kdf;               /* of the file */
	uint8_t salt[SALT_LEN];       /* of the file */
	uint8_t file_key[KEY_LEN];
	uint8_t export_key[KEY_LEN];
	struct kdf export_kdf;        /* what export_key was made with */
	struct history_record **byt;  /* time order, then id */
	struct history_record **byid; /* id order */
	size_t n, cap;
	int dirty;
	struct stat seen;             /* the file as we last read or wrote
	                                 it (another client may write it) */
	int have_seen;
	uint8_t *keys;                /* history_set_keys(), sealed with the
	                                 records, never exported */
	size_t nkeys;
	char current[E2E_CONV_MAX + 1]; /* history_set_current(), sealed
	                                 like keys; "" if none */
};

/*
 * The one-line message in err.  It may quote a file (jansson's reasons
 * name what they found): control characters become '?', and so does
 * every non-ASCII byte when the text is not valid UTF-8.
 */
static void __attribute__((format(printf, 3, 4)))
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	size_t i, len;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	len = strlen(err);
	if (!utf8_valid((const uint8_t *)err, len))
		for (i = 0; i < len; i++)
			if ((unsigned char)err[i] >= 0x80)
				err[i] = '?';
	(void)text_sanitize(err, 0);
}

void
history_set_kdf(uint32_t t_cost, uint32_t m_kib, uint32_t lanes)
{
	kdf_default.t = t_cost;
	kdf_default.m = m_kib;
	kdf_default.p = lanes;
}

/* ---- records ---- */

static int
cmp_time(const struct history_record *a, const struct history_record *b)
{
	if (a->time_ms != b->time_ms)
		return a->time_ms < b->time_ms ? -1 : 1;
	return memcmp(a->id, b->id, HISTORY_ID_LEN);
}

static int
cmp_id(const struct history_record *a, const struct history_record *b)
{
	return memcmp(a->id, b->id, HISTORY_ID_LEN);
}

/* Where rec goes in v (n entries) by cmp; *found if an equal one is there. */
static size_t
locate(struct history_record *const *v, size_t n,
    const struct history_record *rec,
    int (*cmp)(const struct history_record *, const struct history_record *),
    int *found)
{
	size_t lo = 0, hi = n, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = cmp(v[mid], rec)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
record_free(struct history_record *r)
{
	size_t size;

	if (r == NULL)
		return;
	size = sizeof(*r) + strlen(r->conv) + strlen(r->sender) +
	    strlen(r->nickname) + strlen(r->text) + 4;
	OPENSSL_clear_free(r, size);
}

static int
record_ok(const struct history_record *r)
{
	if (r->conv == NULL || r->sender == NULL || r->nickname == NULL ||
	    r->text == NULL)
		return 0;
	return r->time_ms >= 0 && r->time_ms <= TIME_MS_MAX &&
	    e2e_conv_name_ok(r->conv) && name_check_user(r->sender) == 0 &&
	    r->nickname[0] != '\0' && r->text[0] != '\0' &&
	    utf8_valid((const uint8_t *)r->nickname, strlen(r->nickname)) &&
	    utf8_valid((const uint8_t *)r->text, strlen(r->text));
}

/* One allocation: the record, then its four strings. */
static struct history_record *
record_copy(const struct history_record *src)
{
	const char *from[4] = { src->conv, src->sender, src->nickname,
	    src->text };
	size_t len[4], size = sizeof(*src), i;
	struct history_record *r;
	char *p, *to[4];

	for (i = 0; i < 4; i++)
		size += (len[i] = strlen(from[i])) + 1;
	if ((r = malloc(size)) == NULL)
		return NULL;
	*r = *src;
	p = (char *)(r + 1);
	for (i = 0; i < 4; i++) {
		memcpy(p, from[i], len[i] + 1);
		to[i] = p;
		p += len[i] + 1;
	}
	r->conv = to[0];
	r->sender = to[1];
	r->nickname = to[2];
	r->text = to[3];
	r->verified = src->verified != 0;
	r->outgoing = src->outgoing != 0;
	return r;
}

static int
grow(struct history *h)
{
	struct history_record **t, **i;
	size_t cap;

	if (h->n < h->cap)
		return 0;
	if (h->n >= HISTORY_MAX_RECORDS)
		return E_TOO_LONG;
	cap = h->cap == 0 ? 64 : h->cap * 2;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant */
	if ((t = reallocarray(h->byt, cap, sizeof(*t))) == NULL)
		return E_NOMEM;
	h->byt = t;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant */
	if ((i = reallocarray(h->byid, cap, sizeof(*i))) == NULL)
		return E_NOMEM;
	h->byid = i;
	h->cap = cap;
	return 0;
}

static void
insert_at(struct history_record **v, size_t n, size_t at,
    struct history_record *r)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant */
	memmove(v + at + 1, v + at, (n - at) * sizeof(*v));
	v[at] = r;
}

static void
remove_at(struct history_record **v, size_t n, size_t at)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant */
	memmove(v + at, v + at + 1, (n - at - 1) * sizeof(*v));
}

int
history_add(struct history *h, const struct history_record *rec)
{
	struct history_record *r;
	size_t at_id, at_t;
	int found, e;

	if (!record_ok(rec))
		return E_MALFORMED;
	at_id = locate(h->byid, h->n, rec, cmp_id, &found);
	if (found)
		return 0;
	if ((e = grow(h)) != 0)
		return e;
	if ((r = record_copy(rec)) == NULL)
		return E_NOMEM;
	at_t = locate(h->byt, h->n, r, cmp_time, &found);
	insert_at(h->byid, h->n, at_id, r);
	insert_at(h->byt, h->n, at_t, r);
	h->n++;
	h->dirty = 1;
	return 1;
}

/* Take the record with rec's id out again (an import that failed). */
static void
history_remove(struct history *h, const struct history_record *rec)
{
	struct history_record *r;
	size_t at;
	int found;

	at = locate(h->byid, h->n, rec, cmp_id, &found);
	if (!found)
		return;
	r = h->byid[at];
	remove_at(h->byid, h->n, at);
	at = locate(h->byt, h->n, r, cmp_time, &found);
	remove_at(h->byt, h->n, at);
	h->n--;
	record_free(r);
}

int
history_add_event(struct history *h, const struct session_event *ev)
{
	struct history_record r;

	if ((ev->kind != SESSION_EV_CHAT && ev->kind != SESSION_EV_SENT) ||
	    ev->mid == NULL)
		return 0;
	memset(&r, 0, sizeof(r));
	memcpy(r.id, ev->mid, HISTORY_ID_LEN);
	r.conv = ev->room;
	r.sender = ev->user;
	r.nickname = ev->nickname != NULL && ev->nickname[0] != '\0' ?
	    ev->nickname : ev->user;
	r.time_ms = ev->time_ms;
	r.text = ev->text;
	r.verified = ev->kind == SESSION_EV_CHAT &&
	    ev->trust == SESSION_KEY_VERIFIED;
	r.outgoing = ev->kind == SESSION_EV_SENT;
	return history_add(h, &r);
}

size_t
history_count(const struct history *h)
{
	return h->n;
}

void
history_seen(const struct history *h, struct session *s)
{
	size_t i = h->n > SESSION_SEEN_MAX ? h->n - SESSION_SEEN_MAX : 0;

	for (; i < h->n; i++)
		session_seen(s, h->byt[i]->id, h->byt[i]->time_ms);
}

const struct history_record *
history_find(const struct history *h, const uint8_t id[HISTORY_ID_LEN])
{
	struct history_record key;
	size_t at;
	int found;

	memset(&key, 0, sizeof(key));
	memcpy(key.id, id, HISTORY_ID_LEN);
	at = locate(h->byid, h->n, &key, cmp_id, &found);
	return found ? h->byid[at] : NULL;
}

const struct history_record *
history_get(const struct history *h, size_t i)
{
	return i < h->n ? h->byt[i] : NULL;
}

int
history_set_keys(struct history *h, const uint8_t *keys, size_t len)
{
	uint8_t *copy = NULL;

	if (len > 0 && (copy = malloc(len)) == NULL)
		return E_NOMEM;
	if (len > 0)
		memcpy(copy, keys, len);
	if (h->keys != NULL)
		OPENSSL_clear_free(h->keys, h->nkeys);
	h->keys = copy;
	h->nkeys = len;
	h->dirty = 1;
	return 0;
}

const uint8_t *
history_keys(const struct history *h, size_t *len)
{
	*len = h->nkeys;
	return h->keys;
}

int
history_set_current(struct history *h, const char *conv)
{
	if (!e2e_conv_name_ok(conv))
		return E_MALFORMED;
	if (strcmp(h->current, conv) != 0) {
		(void)snprintf(h->current, sizeof(h->current), "%s", conv);
		h->dirty = 1;
	}
	return 0;
}

const char *
history_current(const struct history *h)
{
	return h->current[0] != '\0' ? h->current : NULL;
}

int
history_dirty(const struct history *h)
{
	return h->dirty;
}

void
history_close(struct history *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		record_free(h->byt[i]);
	free(h->byt);
	free(h->byid);
	free(h->path);
	if (h->keys != NULL)
		OPENSSL_clear_free(h->keys, h->nkeys);
	OPENSSL_clear_free(h, sizeof(*h));
}

/* ---- JSON ---- */

static void
hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = OPENSSL_hexchar2int((unsigned char)s[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0 || (s[2 * i] >= 'A' && s[2 * i] <= 'F') ||
		    (s[2 * i + 1] >= 'A' && s[2 * i + 1] <= 'F'))
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static json_t *
record_json(const struct history_record *r)
{
	char id[2 * HISTORY_ID_LEN + 1], t[CLOCK_ISO_SIZE];

	hex(r->id, HISTORY_ID_LEN, id);
	if (clock_format_iso(r->time_ms, t) != 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b}",
	    "id", id, "conv", r->conv, "sender", r->sender,
	    "nickname", r->nickname, "time", t, "text", r->text,
	    "verified", r->verified, "outgoing", r->outgoing);
}

static json_t *
records_json(const struct history *h)
{
	json_t *a, *o;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < h->n; i++) {
		if ((o = record_json(h->byt[i])) == NULL ||
		    json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/*
 * The sealed file's plaintext: {"messages": [...], "keys": b64,
 * "current": conv} (keys and current only when set); a file of the first
 * version holds the bare array.
 */
static json_t *
file_json(const struct history *h)
{
	json_t *doc, *a;
	char *b64 = NULL;
	size_t cap = B64_ENCODED_SIZE(h->nkeys);
	long n;

	if ((a = records_json(h)) == NULL ||
	    (doc = json_pack("{s:o}", "messages", a)) == NULL)
		return NULL;
	if (h->current[0] != '\0' && json_object_set_new(doc, "current",
	    json_string(h->current)) != 0) {
		json_decref(doc);
		return NULL;
	}
	if (h->nkeys == 0)
		return doc;
	if ((b64 = malloc(cap)) == NULL ||
	    (n = b64_encode(h->keys, h->nkeys, b64, cap, 1)) < 0 ||
	    json_object_set_new(doc, "keys", json_stringn(b64,
	    (size_t)n)) != 0) {
		json_decref(doc);
		doc = NULL;
	}
	if (b64 != NULL)
		OPENSSL_clear_free(b64, cap);
	return doc;
}

/*
 * The records (*msgs), keys (*keys, b64 or NULL) and current conversation
 * (*current, NULL if none) of the plaintext.  A current conversation that
 * is not a string or not a valid name is ignored: it only saves a click.
 */
static int
file_parse(json_t *doc, json_t **msgs, const char **keys,
    const char **current)
{
	json_t *cur = NULL;

	*keys = *current = NULL;
	if (json_is_array(doc)) {
		*msgs = doc;
		return 0;
	}
	if (json_unpack(doc, "{s:o, s?:s, s?:o !}", "messages", msgs, "keys",
	    keys, "current", &cur) != 0)
		return E_MALFORMED;
	if (json_is_string(cur) && e2e_conv_name_ok(json_string_value(cur)))
		*current = json_string_value(cur);
	return 0;
}

/* Replace h's keys with the b64 text keys. */
static int
keys_decode(struct history *h, const char *keys)
{
	size_t len = strlen(keys), cap = B64_DECODED_MAX(len);
	uint8_t *bin;
	long n;

	if ((bin = malloc(cap)) == NULL)
		return E_NOMEM;
	if ((n = b64_decode(keys, len, bin, cap)) <= 0) {
		OPENSSL_clear_free(bin, cap);
		return E_MALFORMED;
	}
	if (h->keys != NULL)
		OPENSSL_clear_free(h->keys, h->nkeys);
	h->keys = bin;
	h->nkeys = (size_t)n;
	return 0;
}

static int
record_parse(json_t *o, struct history_record *r)
{
	const char *id, *t;
	json_error_t e;

	memset(r, 0, sizeof(*r));
	if (json_unpack_ex(o, &e, JSON_STRICT,
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "id", &id,
	    "conv", &r->conv, "sender", &r->sender, "nickname", &r->nickname,
	    "time", &t, "text", &r->text, "verified", &r->verified,
	    "outgoing", &r->outgoing) != 0 ||
	    unhex(id, r->id, HISTORY_ID_LEN) != 0 ||
	    (r->time_ms = clock_parse_iso(t)) < 0 || !record_ok(r))
		return E_MALFORMED;
	return 0;
}

/*
 * Check every record of the array a, then add those not in h (and not
 * twice in a); the added ones are listed in *fresh (owned by h; *nfresh
 * of them) so that a caller can take them out again.
 */
static int
records_merge(struct history *h, json_t *a, struct history_record ***fresh,
    size_t *nfresh, char *err, size_t errlen)
{
	struct history_record r, **list;
	size_t i, at;
	int e, found;

	*fresh = NULL;
	*nfresh = 0;
	if (!json_is_array(a) || json_array_size(a) > HISTORY_MAX_RECORDS) {
		say(err, errlen, "the message list is missing or too long");
		return E_MALFORMED;
	}
	for (i = 0; i < json_array_size(a); i++) {
		if (record_parse(json_array_get(a, i), &r) != 0) {
			say(err, errlen, "message %zu is malformed", i + 1);
			return E_MALFORMED;
		}
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant */
	if ((list = calloc(json_array_size(a) + 1, sizeof(*list))) == NULL)
		return E_NOMEM;
	*fresh = list;
	for (i = 0; i < json_array_size(a); i++) {
		(void)record_parse(json_array_get(a, i), &r);
		if ((e = history_add(h, &r)) < 0) {
			say(err, errlen, "%s", err_str(e));
			return e;
		}
		if (e == 1) {
			at = locate(h->byid, h->n, &r, cmp_id, &found);
			list[(*nfresh)++] = h->byid[at];
		}
	}
	return 0;
}

static void
merge_undo(struct history *h, struct history_record **fresh, size_t n)
{
	struct history_record key;

	memset(&key, 0, sizeof(key));
	/* Each entry is freed by history_remove(): copy its id first. */
	while (n-- > 0) {
		memcpy(key.id, fresh[n]->id, HISTORY_ID_LEN);
		history_remove(h, &key);
	}
}

/* ---- keys ---- */

static int
argon2_key(const char *password, const uint8_t *salt, size_t saltlen,
    const struct kdf *k, const char *info, uint8_t out[KEY_LEN])
{
	uint8_t raw[KEY_LEN];
	int r;

	if (argon2id_hash_raw(k->t, k->m, k->p, password, strlen(password),
	    salt, saltlen, raw, sizeof(raw)) != ARGON2_OK)
		return E_CRYPTO;
	r = kd_hkdf_sha256(NULL, 0, raw, sizeof(raw), (const uint8_t *)info,
	    strlen(info), out, KEY_LEN);
	OPENSSL_cleanse(raw, sizeof(raw));
	return r;
}

/* The export key: the same for every device of the user (salt: the
   user name, hashed with a label). */
static int
export_key(struct history *h, const char *password)
{
	static const char label[] = "missive history export v1";
	uint8_t salt[32];
	EVP_MD_CTX *md;
	unsigned int len = 0;
	int ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return E_NOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, label, sizeof(label)) == 1 &&
	    EVP_DigestUpdate(md, h->user, strlen(h->user)) == 1 &&
	    EVP_DigestFinal_ex(md, salt, &len) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return E_CRYPTO;
	h->export_kdf = kdf_default;
	return argon2_key(password, salt, sizeof(salt), &h->export_kdf, label,
	    h->export_key);
}

static int
hmac(const uint8_t key[KEY_LEN], const char *data, size_t len,
    uint8_t out[MAC_LEN])
{
	size_t outlen = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, KEY_LEN,
	    (const unsigned char *)data, len, out, MAC_LEN, &outlen) == NULL ||
	    outlen != MAC_LEN)
		return E_CRYPTO;
	return 0;
}

/* ---- files ---- */

/* At most HISTORY_FILE_MAX bytes of path (common/file.h); E_NOT_FOUND
   if missing. */
static int
read_all(const char *path, uint8_t **out, size_t *len, struct stat *st)
{
	char *p;
	int r;

	r = file_read_all(path, HISTORY_FILE_MAX, &p, len, st, NULL, 0);
	*out = (uint8_t *)p;
	return r;
}

/* Replace path with data (common/file.h), through path.tmp. */
static int
write_atomic(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	char tmp[4096];
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		say(err, errlen, "%s: path too long", path);
		return E_IO;
	}
	/* FILE_UNSYNCED: written, only the rename may not last a crash. */
	if ((r = file_replace(path, tmp, data, len)) == FILE_UNSYNCED)
		return 0;
	if (r != 0)
		say(err, errlen, "%s: %s", path, strerror(errno));
	return r;
}

/* The header (magic to user); returns its length. */
static size_t
header_put(const struct history *h, uint8_t *p)
{
	size_t ulen = strlen(h->user);

	memcpy(p, MAGIC, MAGIC_LEN);
	be32_store(p + MAGIC_LEN, h->kdf.t);
	be32_store(p + MAGIC_LEN + 4, h->kdf.m);
	be32_store(p + MAGIC_LEN + 8, h->kdf.p);
	memcpy(p + MAGIC_LEN + 12, h->salt, SALT_LEN);
	p[HEAD_FIXED - 1] = (uint8_t)ulen;
	memcpy(p + HEAD_FIXED, h->user, ulen);
	return HEAD_FIXED + ulen;
}

/* Parse the header of a history file of len bytes; *head: its length. */
static int
header_get(const struct history *h, const uint8_t *p, size_t len,
    size_t *head, struct kdf *k, uint8_t salt[SALT_LEN], char *err,
    size_t errlen)
{
	char user[NAME_USER_MAX + 1];
	size_t ulen;

	if (len < HEAD_FIXED || memcmp(p, MAGIC, MAGIC_LEN) != 0) {
		say(err, errlen, "%s is not a missive history file", h->path);
		return E_MALFORMED;
	}
	k->t = be32_load(p + MAGIC_LEN);
	k->m = be32_load(p + MAGIC_LEN + 4);
	k->p = be32_load(p + MAGIC_LEN + 8);
	memcpy(salt, p + MAGIC_LEN + 12, SALT_LEN);
	ulen = p[HEAD_FIXED - 1];
	if (k->t < 1 || k->t > KDF_T_MAX || k->p < 1 || k->p > KDF_P_MAX ||
	    k->m < 8 * k->p || k->m > KDF_M_MAX || ulen < 1 || ulen > NAME_USER_MAX ||
	    len < HEAD_FIXED + ulen + NONCE_LEN + TAG_LEN) {
		say(err, errlen, "history %s is damaged (bad header)", h->path);
		return E_MALFORMED;
	}
	memcpy(user, p + HEAD_FIXED, ulen);
	user[ulen] = '\0';
	if (strcmp(user, h->user) != 0) {
		say(err, errlen, "history %s belongs to another user, not to "
		    "%s", h->path, h->user);
		return E_KEY_MISMATCH;
	}
	*head = HEAD_FIXED + ulen;
	return 0;
}

/*
 * Open the sealed file (len bytes, header of head bytes) with h's file key
 * and merge its records into h, and take its keys and current
 * conversation if ours (the file we open; another client's save keeps
 * ours, and gives only a current conversation to an h that has none); on
 * error h is as it was.
 */
static int
unseal_records(struct history *h, const uint8_t *file, size_t len,
    size_t head, int ours, char *err, size_t errlen)
{
	struct history_record **fresh = NULL;
	size_t clen = len - head - NONCE_LEN - TAG_LEN, nfresh = 0;
	const char *keys, *current;
	uint8_t *plain;
	json_error_t je;
	json_t *doc = NULL, *a;
	int r;

	if ((plain = malloc(clen + 1)) == NULL) {
		say(err, errlen, "history %s: %s", h->path, err_str(E_NOMEM));
		return E_NOMEM;
	}
	if ((r = kd_aead_open(h->file_key, file + head, file, head + NONCE_LEN,
	    file + head + NONCE_LEN, clen + TAG_LEN, plain)) != 0) {
		if (r == E_MAC_INVALID)
			say(err, errlen, "history %s does not open: it was "
			    "altered, or sealed with another password", h->path);
		else
			say(err, errlen, "history %s: %s", h->path, err_str(r));
		goto out;
	}
	r = E_MALFORMED;
	if ((doc = json_loadb((const char *)plain, clen,
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		say(err, errlen, "history %s is damaged (%s)", h->path, je.text);
		goto out;
	}
	if (file_parse(doc, &a, &keys, &current) != 0) {
		say(err, errlen, "history %s is damaged (not a message list)",
		    h->path);
		goto out;
	}
	if ((r = records_merge(h, a, &fresh, &nfresh, err, errlen)) == 0 &&
	    ours && keys != NULL &&
	    (r = keys_decode(h, keys)) != 0)
		say(err, errlen, "history %s: its keys: %s", h->path,
		    err_str(r));
	if (r != 0)
		merge_undo(h, fresh, nfresh);
	else if (current != NULL && (ours || h->current[0] == '\0'))
		(void)snprintf(h->current, sizeof(h->current), "%s", current);
out:
	OPENSSL_clear_free(plain, clen + 1);
	free(fresh);
	json_decref(doc);
	return r;
}

/* Open the sealed file (len bytes) into h's records. */
static int
history_unseal(struct history *h, const char *password, uint8_t *file,
    size_t len, char *err, size_t errlen)
{
	size_t head;
	int r;

	if ((r = header_get(h, file, len, &head, &h->kdf, h->salt, err,
	    errlen)) != 0)
		return r;
	if ((r = argon2_key(password, h->salt, SALT_LEN, &h->kdf,
	    "missive history file v1", h->file_key)) != 0) {
		say(err, errlen, "history %s: %s", h->path, err_str(r));
		return r;
	}
	r = unseal_records(h, file, len, head, 1, err, errlen);
	h->dirty = 0;
	return r;
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Before a save: if another client (or `missive --import`) has written
 * the file since we read or wrote it, merge its records first, so that
 * the save loses none.  A file sealed under another salt (made by a client
 * that found no file either) cannot be opened without the password: it is
 * not overwritten (E_EXISTS).
 */
static int
history_reload(struct history *h, char *err, size_t errlen)
{
	uint8_t *file = NULL, salt[SALT_LEN];
	struct stat st;
	struct kdf k;
	size_t len = 0, head;
	int r;

	if (stat(h->path, &st) != 0 || (h->have_seen &&
	    same_file(&st, &h->seen)))
		return 0;
	if ((r = read_all(h->path, &file, &len, &st)) != 0) {
		say(err, errlen, "history %s: %s", h->path, err_str(r));
		return r == E_NOT_FOUND ? 0 : r;
	}
	if ((r = header_get(h, file, len, &head, &k, salt, err, errlen)) == 0 &&
	    (memcmp(salt, h->salt, SALT_LEN) != 0 || k.t != h->kdf.t ||
	    k.m != h->kdf.m || k.p != h->kdf.p)) {
		say(err, errlen, "history %s was written by another client "
		    "under another key: not overwritten (this session's "
		    "messages are kept in memory: /export them)", h->path);
		r = E_EXISTS;
	}
	if (r == 0)
		r = unseal_records(h, file, len, head, 0, err, errlen);
	OPENSSL_clear_free(file, len + 1);
	return r;
}

int
history_save(struct history *h, char *err, size_t errlen)
{
	uint8_t *file = NULL;
	size_t head, plen, size = 0;
	json_t *a = NULL;
	char *plain = NULL;
	int r;

	if ((r = history_reload(h, err, errlen)) != 0)
		return r;
	r = E_NOMEM;
	if ((a = file_json(h)) == NULL ||
	    (plain = json_dumps(a, JSON_COMPACT)) == NULL)
		goto out;
	plen = strlen(plain);
	size = HEAD_FIXED + NAME_USER_MAX + NONCE_LEN + plen + TAG_LEN;
	if ((file = malloc(size)) == NULL)
		goto out;
	head = header_put(h, file);
	if ((r = kd_random(file + head, NONCE_LEN)) != 0 ||
	    (r = kd_aead_seal(h->file_key, file + head, file,
	    head + NONCE_LEN, (const uint8_t *)plain, plen,
	    file + head + NONCE_LEN)) != 0)
		goto out;
	size = head + NONCE_LEN + plen + TAG_LEN;
	if ((r = write_atomic(h->path, file, size, err, errlen)) != 0)
		goto out;
	h->dirty = 0;
	h->have_seen = stat(h->path, &h->seen) == 0;
out:
	if (r != 0 && r != E_IO)
		say(err, errlen, "history %s: %s", h->path, err_str(r));
	if (plain != NULL)
		OPENSSL_clear_free(plain, strlen(plain));
	free(file);
	json_decref(a);
	return r;
}

/* A new, empty history with a random salt. */
static int
history_fresh(struct history *h, const char *password)
{
	int r;

	h->kdf = kdf_default;
	if ((r = kd_random(h->salt, SALT_LEN)) != 0)
		return r;
	return argon2_key(password, h->salt, SALT_LEN, &h->kdf,
	    "missive history file v1", h->file_key);
}

int
history_open(const char *path, const char *user, const char *password,
    struct history **out, char *err, size_t errlen)
{
	struct history *h;
	uint8_t *file = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (name_check_user(user) != 0)
		return E_INVALID;
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->path = strdup(path)) == NULL) {
		free(h);
		say(err, errlen, "%s", err_str(E_NOMEM));
		return E_NOMEM;
	}
	(void)snprintf(h->user, sizeof(h->user), "%s", user);
	r = read_all(path, &file, &len, &h->seen);
	h->have_seen = r == 0;
	if (r == E_NOT_FOUND)
		r = history_fresh(h, password);
	else if (r == 0)
		r = history_unseal(h, password, file, len, err, errlen);
	else
		say(err, errlen, "history %s: %s", path, err_str(r));
	if (r == 0 && (r = export_key(h, password)) != 0)
		say(err, errlen, "history: %s", err_str(r));
	if (file != NULL)
		OPENSSL_clear_free(file, len + 1);
	if (r != 0) {
		history_close(h);
		return r;
	}
	*out = h;
	return 0;
}

/* ---- export and import ---- */

/* The canonical form of an export without its "mac": what is MACed. */
static int
export_mac(const struct history *h, json_t *doc, uint8_t mac[MAC_LEN])
{
	char *canon;
	int r;

	if ((canon = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return E_NOMEM;
	r = hmac(h->export_key, canon, strlen(canon), mac);
	OPENSSL_clear_free(canon, strlen(canon));
	return r;
}

int
history_export_json(const struct history *h, const char *path, char *err,
    size_t errlen)
{
	uint8_t mac[MAC_LEN];
	char machex[2 * MAC_LEN + 1], *text = NULL;
	json_t *doc = NULL, *a;
	int r = E_NOMEM;

	if ((a = records_json(h)) == NULL)
		goto fail;
	doc = json_pack("{s:s, s:i, s:s, s:{s:s, s:i, s:i, s:i}, s:o}",
	    "format", EXPORT_FORMAT, "version", EXPORT_VERSION,
	    "user", h->user, "kdf", "alg", "argon2id",
	    "t", (int)h->export_kdf.t, "m", (int)h->export_kdf.m,
	    "p", (int)h->export_kdf.p, "messages", a);
	if (doc == NULL)
		goto fail;
	if ((r = export_mac(h, doc, mac)) != 0)
		goto out;
	hex(mac, MAC_LEN, machex);
	r = E_NOMEM;
	if (json_object_set_new(doc, "mac", json_string(machex)) != 0 ||
	    (text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) ==
	    NULL)
		goto out;
	r = write_atomic(path, text, strlen(text), err, errlen);
out:
	if (text != NULL)
		OPENSSL_clear_free(text, strlen(text));
	json_decref(doc);
	if (r != 0 && r != E_IO)
		say(err, errlen, "export %s: %s", path, err_str(r));
	return r;
fail:
	say(err, errlen, "export %s: %s", path, err_str(r));
	return r;
}

/* One line of a plain-text export. */
static int
text_line(FILE *f, const struct history_record *r)
{
	time_t secs = (time_t)(r->time_ms / 1000);
	char when[32], *nick, *text;
	struct tm tm;
	int ok;

	if (localtime_r(&secs, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		(void)snprintf(when, sizeof(when), "(unknown time)");
	nick = strdup(r->nickname);
	text = strdup(r->text);
	ok = nick != NULL && text != NULL;
	if (ok) {
		(void)text_sanitize(nick, 0);
		(void)text_sanitize(text, 1);
		ok = fprintf(f, "%s %s%s <%s>%s %s\n", when,
		    r->conv[0] == '@' ? "" : "#", r->conv, nick,
		    r->verified ? " [verified]" : "", text) > 0;
	}
	free(nick);
	if (text != NULL)
		OPENSSL_clear_free(text, strlen(text));
	return ok ? 0 : -1;
}

int
history_export_text(const struct history *h, const char *path, char *err,
    size_t errlen)
{
	char *data = NULL;
	size_t size = 0, i;
	FILE *f;
	int r = 0;

	if ((f = open_memstream(&data, &size)) == NULL) {
		say(err, errlen, "export %s: %s", path, err_str(E_NOMEM));
		return E_NOMEM;
	}
	for (i = 0; i < h->n && r == 0; i++)
		r = text_line(f, h->byt[i]);
	if (fclose(f) != 0 || r != 0 || data == NULL) {
		free(data);
		say(err, errlen, "export %s: %s", path, err_str(E_NOMEM));
		return E_NOMEM;
	}
	r = write_atomic(path, data, size, err, errlen);
	OPENSSL_clear_free(data, size);
	return r;
}

/* Check an export's envelope and HMAC; *msgs: its message array. */
static int
import_check(const struct history *h, json_t *doc, json_t **msgs,
    const char *path, char *err, size_t errlen)
{
	const char *format, *user, *alg, *machex;
	uint8_t mac[MAC_LEN], want[MAC_LEN];
	json_int_t version;
	int t, m, p;
	json_error_t je;

	if (json_unpack_ex(doc, &je, JSON_STRICT,
	    "{s:s, s:I, s:s, s:{s:s, s:i, s:i, s:i}, s:o, s:s}",
	    "format", &format, "version", &version, "user", &user,
	    "kdf", "alg", &alg, "t", &t, "m", &m, "p", &p,
	    "messages", msgs, "mac", &machex) != 0 ||
	    strcmp(format, EXPORT_FORMAT) != 0) {
		say(err, errlen, "%s is not a missive history export (%s)",
		    path, je.text);
		return E_MALFORMED;
	}
	if (version != EXPORT_VERSION || strcmp(alg, "argon2id") != 0) {
		say(err, errlen, "%s: export version %lld is not supported",
		    path, (long long)version);
		return E_MALFORMED;
	}
	if (strcmp(user, h->user) != 0) {
		say(err, errlen, "%s is an export of another user's history, "
		    "not %s's: refused", path, h->user);
		return E_KEY_MISMATCH;
	}
	if ((uint32_t)t != h->export_kdf.t || (uint32_t)m != h->export_kdf.m ||
	    (uint32_t)p != h->export_kdf.p || unhex(machex, want, MAC_LEN) != 0) {
		say(err, errlen, "%s: the export's integrity check cannot be "
		    "verified here (other key settings, or a damaged MAC)",
		    path);
		return E_MALFORMED;
	}
	if (json_object_del(doc, "mac") != 0 ||
	    export_mac(h, doc, mac) != 0) {
		say(err, errlen, "%s: %s", path, err_str(E_NOMEM));
		return E_NOMEM;
	}
	if (CRYPTO_memcmp(mac, want, MAC_LEN) != 0) {
		say(err, errlen, "%s was altered, or exported with another "
		    "password: its integrity check fails; nothing imported",
		    path);
		return E_MAC_INVALID;
	}
	return 0;
}

int
history_import(struct history *h, const char *path, size_t *added,
    char *err, size_t errlen)
{
	struct history_record **fresh = NULL;
	size_t len = 0, nfresh = 0;
	uint8_t *data = NULL;
	json_t *doc = NULL, *msgs = NULL;
	json_error_t je;
	int r, was_dirty = h->dirty;

	*added = 0;
	if ((r = read_all(path, &data, &len, NULL)) != 0) {
		say(err, errlen, "%s: %s", path, r == E_NOT_FOUND ?
		    "no such file" : err_str(r));
		return r == E_NOT_FOUND ? E_IO : r;
	}
	if ((doc = json_loadb((const char *)data, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		say(err, errlen, "%s is not a missive history export (line %d:"
		    " %s)", path, je.line, je.text);
		r = E_MALFORMED;
		goto out;
	}
	if ((r = import_check(h, doc, &msgs, path, err, errlen)) != 0)
		goto out;
	if ((r = records_merge(h, msgs, &fresh, &nfresh, err, errlen)) != 0 ||
	    (nfresh > 0 && (r = history_save(h, err, errlen)) != 0)) {
		merge_undo(h, fresh, nfresh);
		h->dirty = was_dirty;
		goto out;
	}
	*added = nfresh;
out:
	free(fresh);
	json_decref(doc);
	OPENSSL_clear_free(data, len + 1);
	return r;
}
