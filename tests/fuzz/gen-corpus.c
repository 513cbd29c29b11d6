/*
 * Write the fuzzers' seed corpora, tests/fuzz/corpus/<fuzzer>/<seed>:
 *
 *   make VARIANT=fuzz fuzzers && build/fuzz/fuzz/gen-corpus tests/fuzz/corpus
 *
 * The seeds are real messages: frames, records sealed with
 * fuzz_record_key, a handshake between the fixed test keys (keys.c), and
 * for the client bob's device list, sender keys and messages, sealed to
 * alice's test key.  Sender keys, envelopes and handshake nonces are
 * random, so every run writes different bytes: run it again only when a
 * format changes (the seeds must stay valid), and commit what it wrote.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/e2e.h"
#include "common/b64.h"
#include "common/be.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/proto.h"
#include "keydist/handshake.h"
#include "keydist/keys.h"
#include "keydist/random.h"
#include "keydist/record.h"
#include "keydist/senderkey.h"
#include "tests/fuzz/util.h"

#define SEED_LINE_MAX 16384
#define TS "2026-11-21T09:15:02.123Z"
/* Message ids (0002, 1002, 1020, 1021). */
#define MID "00112233445566778899aabbccddeeff"
#define MID2 "ffeeddccbbaa99887766554433221100"

/* The flags of fuzz_client_frames.c. */
#define F_LOGIN     0x01
#define F_REQUESTS  0x02
#define F_PEND_ROOM 0x04
#define F_PEND_BOB  0x08
#define F_QUIT      0x20
#define F_REENTER   0x80
/* The flags of fuzz_server_frames.c. */
#define S_LOBBY     0x01
#define S_ONE       0x02
#define S_SMALL     0x04
#define S_FULL      0x08

static const char *outdir;
static EVP_PKEY *server_key, *alice_key, *bob_key;
static char alice_fp[KD_FP_SIZE], bob_fp[KD_FP_SIZE];
static char bob_spki[B64_ENCODED_SIZE(KD_RSA_MAX_BYTES + 64)];

static void __attribute__((noreturn))
die(const char *what)
{
	(void)fprintf(stderr, "gen-corpus: %s\n", what);
	exit(1);
}

/* Write outdir/fuzzer/name. */
static void
seed(const char *fuzzer, const char *name, const void *data, size_t len)
{
	char path[1024];

	if (snprintf(path, sizeof(path), "%s/%s", outdir, fuzzer) >=
	    (int)sizeof(path))
		die("path too long");
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("cannot make a corpus directory");
	if (snprintf(path, sizeof(path), "%s/%s/%s", outdir, fuzzer, name) >=
	    (int)sizeof(path))
		die("path too long");
	fuzz_write_file(path, data, len);
}

static void
add(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) != 0)
		die("out of memory");
}

static void
add_byte(struct buf *b, uint8_t v)
{
	add(b, &v, 1);
}

/* Append one line (printf format) and its LF. */
static void __attribute__((format(printf, 2, 3)))
line(struct buf *b, const char *fmt, ...)
{
	static char l[SEED_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l, sizeof(l) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(l) - 1)
		die("line too long");
	l[n++] = '\n';
	add(b, l, (size_t)n);
}

static void
seed_buf(const char *fuzzer, const char *name, struct buf *b)
{
	seed(fuzzer, name, buf_data(b), buf_size(b));
	buf_free(b);
}

/* Base64 of bin, in a static buffer (one at a time). */
static const char *
b64(const uint8_t *bin, size_t len)
{
	static char s[B64_ENCODED_SIZE(SEED_LINE_MAX)];

	if (b64_encode(bin, len, s, sizeof(s), 1) < 0)
		die("b64");
	return s;
}

static void
gen_frame(void)
{
	static const struct {
		const char *name;
		uint8_t max, min;
		const char *line;
	} s[] = {
		{ "login", 2, 2, "0001|alice|pa|ss word" },
		{ "quit", 0, 0, "0003" },
		{ "who", 1, 0, "0004|dev" },
		{ "chat", 3, 3, "0002|lobby|" MID "|AQIDBAUGBwgJCgsMDQ4PEA==" },
		{ "delivery", 8, 8, "1002|7|" MID "|Bob|bob|SHA256:47DEQpj8HBSa"
		    "+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU|lobby|" TS "|AQID" },
		{ "error", 2, 2, "1009|state|log in first|really" },
		{ "bad-range", 17, 3, "0005|k1" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		add_byte(&b, s[i].max);
		add_byte(&b, s[i].min);
		add(&b, s[i].line, strlen(s[i].line));
		seed_buf("frame", s[i].name, &b);
	}
}

static void
gen_b64(void)
{
	static const char *const s[] = {
		"", "Zg==", "Zm8=", "Zm9v", "Zm9vYmFy",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "Zh==", "+/+/",
	};
	char name[16];
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		(void)snprintf(name, sizeof(name), "b64-%zu", i);
		seed("b64", name, s[i], strlen(s[i]));
	}
}

/* Append one record of text sealed with d. */
static void
add_record(struct buf *b, struct kd_record_dir *d, const char *text)
{
	uint8_t rec[1024];
	size_t n;

	if (kd_record_seal(d, (const uint8_t *)text, strlen(text), rec,
	    sizeof(rec), &n) != 0)
		die("kd_record_seal");
	add(b, rec, n);
}

static void
gen_record(void)
{
	static const uint8_t peek[] = { 2, 0, 0, 0x20, 0, 0, 0, 0, 0x20 };
	struct kd_record_dir d;
	struct buf b = BUF_INIT;
	const char *frames;

	/* Mode 0, interval 1 (a new key every record), max_plain 8192. */
	if (kd_record_init(&d, fuzz_record_key, fuzz_record_iv, 1, 1) != 0)
		die("kd_record_init");
	add_byte(&b, 0);
	add_byte(&b, 0);
	add_byte(&b, 2);
	add_record(&b, &d, "1006|k1\n");
	add_record(&b, &d, "1004|bob|Bob|online\n1014|1\n");
	add_record(&b, &d, "1001|OK|Alice\n");
	seed_buf("record", "open-rekey", &b);
	kd_record_clear(&d);
	/* Mode 0, the default interval, max_plain 65536; an empty line. */
	if (kd_record_init(&d, fuzz_record_key, fuzz_record_iv,
	    KD_RECORD_REKEY_DEFAULT, 1) != 0)
		die("kd_record_init");
	add_byte(&b, 0);
	add_byte(&b, 3);
	add_byte(&b, 3);
	add_record(&b, &d, "0005|k1\n");
	add_record(&b, &d, "0003\n\n");
	seed_buf("record", "open-empty-line", &b);
	kd_record_clear(&d);
	/* Mode 1: frames cut into records of at most 16 bytes. */
	frames = "0005|k1\n1004|bob|Bob|online\n1014|1\n";
	add_byte(&b, 1);
	add_byte(&b, 0);
	add_byte(&b, 0);
	add_byte(&b, 0x21);
	add(&b, frames, strlen(frames));
	seed_buf("record", "seal-small", &b);
	/* Mode 1, near the end of the sequence space. */
	frames = "0003\n";
	add_byte(&b, 1);
	add_byte(&b, 4);
	add_byte(&b, 2);
	add_byte(&b, 7);
	add(&b, frames, strlen(frames));
	seed_buf("record", "seal-seq-end", &b);
	seed("record", "peek", peek, sizeof(peek));
}

static void
gen_handshake(void)
{
	static char msg[5][KD_HS_LINE_MAX + 1];
	size_t len[5], i;
	struct kd_hs c, s;
	struct buf b = BUF_INIT;
	char name[16];

	kd_hs_client_init(&c, alice_key, server_key);
	kd_hs_server_init(&s, server_key, NULL, 0);
	if (kd_hs_client_hello(&c, msg[0], sizeof(msg[0]), &len[0]) != 0 ||
	    kd_hs_server_hello(&s, msg[0], len[0], msg[1], sizeof(msg[1]),
	    &len[1]) != 0 ||
	    kd_hs_client_keyx(&c, msg[1], len[1], msg[2], sizeof(msg[2]),
	    &len[2], msg[3], sizeof(msg[3]), &len[3]) != 0 ||
	    kd_hs_server_keyx(&s, msg[2], len[2]) != 0 ||
	    kd_hs_server_finish(&s, msg[3], len[3], msg[4], sizeof(msg[4]),
	    &len[4]) != 0 ||
	    kd_hs_client_finish(&c, msg[4], len[4]) != 0)
		die("handshake");
	kd_hs_clear(&c);
	kd_hs_clear(&s);
	for (i = 0; i < 5; i++) {
		/* The message as such (from this run: valid in form only). */
		add_byte(&b, (uint8_t)i);
		add(&b, msg[i], len[i]);
		(void)snprintf(name, sizeof(name), "raw-%zu", i);
		seed_buf("handshake", name, &b);
		/* The fuzzer's own real message, unedited. */
		add_byte(&b, (uint8_t)(0x80 | i));
		add(&b, "\0\0\0\0", 4);
		(void)snprintf(name, sizeof(name), "real-%zu", i);
		seed_buf("handshake", name, &b);
	}
	/* An edit: the version field of ServerHello becomes "2". */
	add_byte(&b, 0x81);
	add(&b, "\0\5\0\1" "2", 5);
	seed_buf("handshake", "edit-version", &b);
}

static void
gen_config(void)
{
	static const char server_min[] =
	    "database: {\n"
	    "\tsocket = \"/run/mysqld/mysqld.sock\";\n"
	    "\tpassword_file = \"db-missived.pass\";\n"
	    "\tadmin_password_file = \"db-admin.pass\";\n"
	    "};\n";
	static const char server_full[] =
	    "listen: { address = \"0.0.0.0\"; port = 7777; };\n"
	    "keys: { private = \"server.key\"; public = \"/etc/server.pub\"; };\n"
	    "database: {\n"
	    "\thost = \"localhost\"; port = 3306; name = \"missive\";\n"
	    "\tuser = \"missived\"; password_file = \"db-missived.pass\";\n"
	    "\tadmin_user = \"missive_admin\";\n"
	    "\tadmin_password_file = \"db-admin.pass\";\n"
	    "};\n"
	    "workers = 0;\n"
	    "limits: {\n"
	    "\tmax_clients = 10000; max_frame = 65536;\n"
	    "\thandshake_timeout = 10; idle_timeout = 90;\n"
	    "\tkeepalive_interval = 30; conn_rate_per_addr = 60;\n"
	    "\toutput_queue_max = 1048576L; max_rooms_per_client = 16;\n"
	    "\tmax_room_members = 10000; max_rooms = 1000;\n"
	    "};\n"
	    "login: { fail_delay_ms = 500; lock_after = 5; lock_seconds = 300; };\n"
	    "log: { file = \"missived.log\"; quiet = false; };\n";
	static const char client_min[] =
	    "user = \"alice\";\n"
	    "server: { host = \"chat.example.org\"; };\n";
	static const char client_full[] =
	    "# A client folder.\n"
	    "user = \"alice\";\n"
	    "server: { host = \"chat.example.org\"; port = 7777; };\n"
	    "keys: { private = \"user.key\"; public = \"user.pub\";\n"
	    "\tserver = \"server.pub\"; };\n"
	    "known_keys = \"known_keys\";\n"
	    "reconnect: { min_ms = 500; max_ms = 30000; };\n"
	    "keepalive_interval = 30;\n"
	    "max_frame = 65536;\n";
	static const char bad[] =
	    "user = \"Alice\";\n"
	    "limits: { max_frame = 4294967296; };\n"
	    "@include \"other.conf\"\n";

	seed("config", "server-min.conf", server_min, sizeof(server_min) - 1);
	seed("config", "server-full.conf", server_full,
	    sizeof(server_full) - 1);
	seed("config", "client-min.conf", client_min, sizeof(client_min) - 1);
	seed("config", "client-full.conf", client_full,
	    sizeof(client_full) - 1);
	seed("config", "bad.conf", bad, sizeof(bad) - 1);
}

/* Bob's sender key for conversation bound, sent to alice. */
static void
bob_sender_key(struct kd_sender_key *sk, const char *bound, char *blob,
    size_t cap)
{
	uint8_t bin[KD_SKD_MAX];
	size_t n;

	if (kd_sk_generate(sk) != 0 ||
	    kd_sk_distribute(sk, bob_key, alice_key, bound, "bob", alice_fp,
	    bin, sizeof(bin), &n) != 0)
		die("sender key");
	(void)snprintf(blob, cap, "%s", b64(bin, n));
}

/*
 * The chat line of PROTOCOL.md 8.2 in plain (256 bytes): kind || mid ||
 * uint64 time || uint8 len(nick) || nick || text, dated now (a run an
 * hour later finds it stale); returns its length.
 */
static size_t
chat_line(uint8_t plain[256], const char *nick, const char *text)
{
	size_t nlen = strlen(nick), len = strlen(text);

	if (E2E_HEAD_LEN + nlen + len > 256)
		die("chat line");
	plain[0] = E2E_KIND_TEXT;
	if (kd_random(plain + 1, E2E_MID_LEN) != 0)
		die("kd_random");
	be64_store(plain + 1 + E2E_MID_LEN, (uint64_t)clock_wall_ms());
	plain[E2E_HEAD_LEN - 1] = (uint8_t)nlen;
	memcpy(plain + E2E_HEAD_LEN, nick, nlen);
	memcpy(plain + E2E_HEAD_LEN + nlen, text, len);
	return E2E_HEAD_LEN + nlen + len;
}

/* The message id of bob_message()'s last line, in hex (1002's mid). */
static char bob_mid[E2E_MID_HEX_SIZE];

/* A message from bob under sk, in a static buffer (base64). */
static const char *
bob_message(struct kd_sender_key *sk, const char *bound, const char *text)
{
	uint8_t plain[256], msg[256 + KD_SK_OVERHEAD];
	size_t len = chat_line(plain, "Bob", text), n, i;

	for (i = 0; i < E2E_MID_LEN; i++)
		(void)snprintf(bob_mid + 2 * i, 3, "%02x", plain[1 + i]);
	if (kd_sk_seal(sk, bound, "bob", plain, len, msg, sizeof(msg),
	    &n) != 0)
		die("kd_sk_seal");
	return b64(msg, n);
}

/* Chat lines as they are inside a message, decrypted. */
static void
gen_e2e_line(void)
{
	uint8_t plain[256];

	seed("e2e_line", "line", plain, chat_line(plain, "Bob",
	    "hello\tthere"));
	seed("e2e_line", "empty-text", plain, chat_line(plain, "Bob", ""));
	seed("e2e_line", "unicode", plain, chat_line(plain,
	    "B\xc3\xb6" "b \xe2\x9c\x93", "gr\xc3\xbc\xc3\x9f" "e"));
}

/* One key of a peer state (docs/HISTORY.md) into b. */
static void
state_key(struct buf *b, const char *conv, const char *user, const char *fp,
    uint64_t age, const struct kd_sender_key *sk)
{
	const char *name[3] = { conv, user, fp };
	struct buf key = BUF_INIT;
	uint8_t n[8];
	size_t i;

	for (i = 0; i < 3; i++) {
		add_byte(b, (uint8_t)strlen(name[i]));
		add(b, name[i], strlen(name[i]));
	}
	be64_store(n, age);
	add(b, n, 8);
	if (kd_sk_peer_save(sk, &key) != 0)
		die("kd_sk_peer_save");
	be16_store(n, (uint16_t)buf_size(&key));
	add(b, n, 2);
	add(b, buf_data(&key), buf_size(&key));
	buf_free(&key);
}

/* The peers' keys a history keeps: one key moved on, with keys skipped,
   in a room; two of one device in a private conversation. */
static void
gen_peer_state(void)
{
	struct kd_sender_key sk[3];
	struct buf b = BUF_INIT;
	uint8_t head[5] = { 1 };
	size_t i;

	for (i = 0; i < 3; i++)
		if (kd_sk_generate(&sk[i]) != 0)
			die("kd_sk_generate");
	sk[0].next = 7;
	if ((sk[0].skipped = calloc(KD_SK_SKIP_MAX,
	    sizeof(*sk[0].skipped))) == NULL)
		die("out of memory");
	sk[0].skipped[0].counter = 2;
	sk[0].skipped[1].counter = 5;
	sk[0].nskipped = 2;
	be32_store(head + 1, 3);
	add(&b, head, sizeof(head));
	state_key(&b, "dev", "bob", bob_fp, 1, &sk[0]);
	state_key(&b, "@bob", "bob", bob_fp, 2, &sk[1]);
	state_key(&b, "@bob", "bob", bob_fp, 3, &sk[2]);
	seed_buf("peer_state", "three", &b);
	be32_store(head + 1, 0);
	add(&b, head, sizeof(head));
	seed_buf("peer_state", "none", &b);
	for (i = 0; i < 3; i++)
		kd_sk_clear(&sk[i]);
}

static void
gen_client_frames(void)
{
	static char blob[B64_ENCODED_SIZE(KD_SKD_MAX)];
	struct kd_sender_key sk;
	struct buf b = BUF_INIT;
	const char *msg;

	/* Logging in, with requests and a chat line waiting. */
	add_byte(&b, F_LOGIN | F_REQUESTS | F_PEND_ROOM);
	line(&b, "1001|OK|Alice");
	line(&b, "1012|lobby|bob|Bob|%s|%s|online", bob_fp, bob_spki);
	line(&b, "1011|lobby|1");
	line(&b, "1022|0");
	line(&b, "1016|lobby|2");
	line(&b, "1017|1");
	line(&b, "1004|bob|Bob|offline");
	line(&b, "1014|1");
	line(&b, "1012|dev|bob|Bob|%s|%s|offline", bob_fp, bob_spki);
	line(&b, "1011|dev|1");
	seed_buf("client_frames", "login", &b);
	add_byte(&b, F_LOGIN);
	line(&b, "1001|ERR|invalid");
	seed_buf("client_frames", "login-refused", &b);
	add_byte(&b, F_LOGIN | F_REQUESTS);
	line(&b, "1001|ERR|busy");
	seed_buf("client_frames", "login-busy", &b);

	/* The lobby: bob's device, a backlog of his sender key and a line,
	   a line live, the line again (seen), acknowledgements of ours. */
	bob_sender_key(&sk, "lobby", blob, sizeof(blob));
	add_byte(&b, F_PEND_ROOM);
	line(&b, "1012|lobby|bob|Bob|%s|%s|online", bob_fp, bob_spki);
	line(&b, "1011|lobby|1");
	line(&b, "1022|2");
	line(&b, "1015|1|lobby|bob|Bob|%s|%s|%s", bob_fp, bob_spki, blob);
	msg = bob_message(&sk, "lobby", "hello alice");
	line(&b, "1002|2|%s|Bob|bob|%s|lobby|" TS "|%s", bob_mid, bob_fp,
	    msg);
	line(&b, "1002|2|%s|Bob|bob|%s|lobby|" TS "|%s", bob_mid, bob_fp,
	    msg);
	msg = bob_message(&sk, "lobby", "how are you?\tfine");
	line(&b, "1002|3|%s|Bob|bob|%s|lobby|" TS "|%s", bob_mid, bob_fp,
	    msg);
	line(&b, "1020|%s", bob_mid);
	line(&b, "1021|%s|full|disk full", bob_mid);
	line(&b, "1003|LEAVE|lobby|bob|Bob|%s|quit", bob_fp);
	line(&b, "1003|ADD|lobby|bob|Bob|%s|%s", bob_fp, bob_spki);
	line(&b, "1003|LEAVE|lobby|bob|Bob|%s|left", bob_fp);
	seed_buf("client_frames", "lobby-e2e", &b);
	kd_sk_clear(&sk);

	/* A private conversation from bob ("@alice" is "@bob" to us). */
	bob_sender_key(&sk, "@alice,bob", blob, sizeof(blob));
	add_byte(&b, F_PEND_BOB);
	line(&b, "1012|@bob|bob|Bob|%s|%s|offline", bob_fp, bob_spki);
	line(&b, "1011|@bob|1");
	line(&b, "1015|1|@alice|bob|Bob|%s|%s|%s", bob_fp, bob_spki, blob);
	msg = bob_message(&sk, "@alice,bob", "psst");
	line(&b, "1002|2|%s|Bob|bob|%s|@alice|" TS "|%s", bob_mid, bob_fp,
	    msg);
	seed_buf("client_frames", "private-e2e", &b);
	kd_sk_clear(&sk);

	/* Keys: carol shows bob's key (changed), dave is new (pinned). */
	add_byte(&b, F_REENTER | F_PEND_ROOM);
	line(&b, "1012|lobby|carol|Carol|%s|%s|online", bob_fp, bob_spki);
	line(&b, "1012|lobby|dave|Dave|%s|%s|offline", bob_fp, bob_spki);
	line(&b, "1011|lobby|2");
	line(&b, "1003|JOIN|lobby|erin|Erin|%s|%s", bob_fp, bob_spki);
	line(&b, "1003|ADD|lobby|erin|Erin|%s|%s", bob_fp, bob_spki);
	line(&b, "1003|LEAVE|lobby|dave|Dave|%s|left", bob_fp);
	line(&b, "1013|lobby");
	seed_buf("client_frames", "keys", &b);

	/* Pings, errors, the unknown, the end. */
	add_byte(&b, 0);
	line(&b, "1006|k1");
	line(&b, "1005|k2");
	line(&b, "1009|state|log in first");
	line(&b, "4242|from|the|future");
	line(&b, "1013|dev");
	line(&b, "1010|shutdown|the server is going down");
	seed_buf("client_frames", "misc", &b);
	add_byte(&b, F_QUIT);
	line(&b, "1010|quit|goodbye");
	seed_buf("client_frames", "quit", &b);
	add_byte(&b, 0);
	line(&b, "1100|1|x|y|z");
	seed_buf("client_frames", "out-of-turn", &b);

	/* Records: a blank line ends one; the last lacks its LF. */
	add_byte(&b, F_LOGIN);
	line(&b, "1001|OK|Alice");
	line(&b, "%s", "");
	line(&b, "1006|k1");
	line(&b, "1004|bob|Bob|online");
	line(&b, "%s", "");
	add(&b, "1014|1", 6);
	seed_buf("client_frames", "records", &b);

	/* Right after our Finished: the server refuses the key. */
	add_byte(&b, F_LOGIN | F_QUIT);
	line(&b, "1199|not_enrolled|ask the admin to enroll your key");
	seed_buf("client_frames", "refused", &b);
	add_byte(&b, F_LOGIN | F_QUIT);
	line(&b, "1199|banned|go away");
	seed_buf("client_frames", "refused-other", &b);
}

static void
gen_server_frames(void)
{
	/* The shortest message and blob the relay takes (zero bytes). */
	static char msg[PROTO_MSG_MIN + 1], blob[PROTO_BLOB_MIN + 1];
	struct buf b = BUF_INIT;

	memset(msg, 'A', PROTO_MSG_MIN);
	memset(blob, 'A', PROTO_BLOB_MIN);
	/* Rooms, lists, chat and sender keys to a room and to bob. */
	add_byte(&b, S_LOBBY);
	line(&b, "0011|dev");
	line(&b, "0004");
	line(&b, "0004|dev");
	line(&b, "0013");
	line(&b, "0014|bob");
	line(&b, "0002|dev|" MID "|%s", msg);
	line(&b, "0002|@bob|" MID2 "|%s", msg);
	line(&b, "0002|dev|" MID "|%s", msg);
	line(&b, "0020|0");
	line(&b, "0020|1");
	line(&b, "0015|lobby|%s|%s", bob_fp, blob);
	line(&b, "0015|@bob|%s|%s", bob_fp, blob);
	line(&b, "0015|@alice|%s|%s", alice_fp, blob);
	line(&b, "0012|dev");
	line(&b, "0005|k1");
	line(&b, "0006|k2");
	seed_buf("server_frames", "rooms-chat", &b);
	/* The same in one record, then a goodbye. */
	add_byte(&b, S_LOBBY | S_ONE);
	line(&b, "0011|dev");
	line(&b, "0002|dev|" MID "|%s", msg);
	line(&b, "0003");
	line(&b, "0002|lobby|" MID2 "|%s", msg);
	seed_buf("server_frames", "quit", &b);
	/* Refusals. */
	add_byte(&b, 0);
	line(&b, "0001|alice|secret");
	line(&b, "9999|what");
	line(&b, "0002|nowhere|" MID "|AAAA");
	line(&b, "0002|@bob|" MID "|QR==");
	line(&b, "0002|@carol|" MID "|%s", msg);
	line(&b, "0002|lobby|NOTHEX|%s", msg);
	line(&b, "0020|x");
	line(&b, "0011|Not A Room");
	line(&b, "0012|dev");
	line(&b, "0015|lobby|SHA256:x|AAAA");
	line(&b, "0005|bad token!");
	seed_buf("server_frames", "refused", &b);
	/* Limits: rooms of two, four rooms per connection, five in all. */
	add_byte(&b, S_FULL | S_SMALL);
	line(&b, "0011|lobby");
	line(&b, "0011|dev");
	line(&b, "0011|a");
	line(&b, "0011|b");
	line(&b, "0011|c");
	line(&b, "0011|d");
	line(&b, "0012|dev");
	line(&b, "0011|d");
	line(&b, "0013");
	seed_buf("server_frames", "limits", &b);
}

int
main(int argc, char **argv)
{
	unsigned char *der = NULL;
	size_t len;

	if (argc != 2) {
		(void)fprintf(stderr, "usage: gen-corpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		die("cannot make the corpus directory");
	server_key = fuzz_key(fuzz_key_server_pem);
	alice_key = fuzz_key(fuzz_key_alice_pem);
	bob_key = fuzz_key(fuzz_key_bob_pem);
	if (kd_fingerprint(alice_key, alice_fp) != 0 ||
	    kd_fingerprint(bob_key, bob_fp) != 0 ||
	    kd_key_to_der(bob_key, &der, &len) != 0)
		die("keys");
	(void)snprintf(bob_spki, sizeof(bob_spki), "%s", b64(der, len));
	OPENSSL_free(der);
	gen_frame();
	gen_b64();
	gen_record();
	gen_handshake();
	gen_config();
	gen_client_frames();
	gen_e2e_line();
	gen_peer_state();
	gen_server_frames();
	EVP_PKEY_free(server_key);
	EVP_PKEY_free(alice_key);
	EVP_PKEY_free(bob_key);
	return 0;
}
