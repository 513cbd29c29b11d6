#include "client/app.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client/wording.h"
#include "common/err.h"
#include "common/secret.h"

int
app_load(struct app *a, const char *conf)
{
	EVP_PKEY *pub = NULL;
	char err[512];
	int r;

	if (client_config_load(conf, &a->cfg, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "missive: %s\n", err);
		return 1;
	}
	a->have_cfg = 1;
	if ((r = kd_key_read_public(a->cfg.public_key, &pub)) != 0 ||
	    (r = kd_fingerprint(pub, a->fp)) != 0) {
		(void)fprintf(stderr, "missive: your key %s: %s\n",
		    a->cfg.public_key, err_str(r));
		EVP_PKEY_free(pub);
		return 1;
	}
	EVP_PKEY_free(pub);
	/* A clear key loads now; an encrypted one waits for the password. */
	if ((r = kd_key_read_private(a->cfg.private_key, &a->key)) != 0 &&
	    r != E_KEY_LOCKED) {
		(void)fprintf(stderr, "missive: your key %s: %s\n",
		    a->cfg.private_key, err_str(r));
		return 1;
	}
	if ((r = kd_key_read_public(a->cfg.server_key, &a->server)) != 0 ||
	    (r = kd_fingerprint(a->server, a->sfp)) != 0) {
		(void)fprintf(stderr, "missive: server key %s: %s\n",
		    a->cfg.server_key, err_str(r));
		return 1;
	}
	return 0;
}

/*
 * Open the private key with the password.  A key that does not open with
 * it was encrypted with another one: the password is wrong, or it changed
 * after the folder was made; on a terminal, ask for the key's passphrase
 * once (docs/SECURITY.md, "The private key at rest").
 */
static int
app_key(struct app *a, int ask)
{
	const char *path = a->cfg.private_key;
	char *old = NULL;
	int r;

	if (a->key != NULL)
		return 0;
	r = kd_key_read_private_pass(path, a->password, strlen(a->password),
	    &a->key);
	if (r == E_KEY_LOCKED && ask && secret_prompt("Your key does not open "
	    "with this password. If the password changed since this folder "
	    "was made, type the old one (the key's passphrase): ", &old) == 0) {
		r = kd_key_read_private_pass(path, old, strlen(old), &a->key);
		secret_free(old);
	}
	if (r == 0 && (r = kd_fingerprint(a->key, a->fp)) == 0)
		return 0;
	if (r == E_KEY_LOCKED)
		(void)fprintf(stderr, "missive: your key %s does not open with "
		    "this password: %s\n", path, wording_key_locked());
	else
		(void)fprintf(stderr, "missive: your key %s: %s\n", path,
		    err_str(r));
	return 1;
}

int
app_password(struct app *a, const char *pwfile)
{
	char prompt[512];
	int r;

	(void)snprintf(prompt, sizeof(prompt), "Password for %s at %s: ",
	    a->cfg.user, a->cfg.server_host);
	if ((r = secret_password(pwfile, prompt, 0, &a->password)) == 0)
		return app_key(a, pwfile == NULL);
	if (pwfile == NULL)
		(void)fprintf(stderr, "missive: password: %s\n", r == E_IO ?
		    "no terminal to ask on (use --password-file FILE)" :
		    err_str(r));
	else
		(void)fprintf(stderr, "missive: password file %s: %s\n",
		    pwfile, r == E_KEY_PERM ? "group or others may read it "
		    "(chmod 600 it)" : err_str(r));
	return 1;
}

int
app_history(struct app *a, char *err, size_t errlen)
{
	return history_open(a->cfg.history, a->cfg.user, a->password,
	    &a->history, err, errlen);
}

int
app_session(struct app *a, session_event_fn *on_event, void *arg,
    struct session **s)
{
	char err[512], secret[SESSION_SECRET_SIZE];
	int r;

	err[0] = '\0';
	if ((r = session_login_secret(a->password, a->server, a->cfg.user,
	    secret)) == 0)
		r = session_new(&a->cfg, a->key, a->server, secret, on_event,
		    arg, s, err, sizeof(err));
	OPENSSL_cleanse(secret, sizeof(secret));
	secret_free(a->password);
	a->password = NULL;
	if (r == 0) {
		if (a->history != NULL)
			app_history_session(a, *s);
		return 0;
	}
	(void)fprintf(stderr, "missive: %s\n", r == E_PASSWORD ?
	    "the password must be 1 to 1024 bytes of UTF-8, one line" :
	    err[0] != '\0' ? err : err_str(r));
	return 1;
}

void
app_history_session(struct app *a, struct session *s)
{
	const uint8_t *keys;
	const char *cur;
	size_t len;
	int r;

	history_seen(a->history, s);
	session_ack_after_save(s);
	if ((keys = history_keys(a->history, &len)) != NULL &&
	    (r = session_peer_keys_take(s, keys, len)) != 0)
		(void)fprintf(stderr, "missive: the peers' sender keys kept in "
		    "the history do not load (%s): lines stored under them "
		    "may not open\n", err_str(r));
	a->keys_gen = session_peer_keys_gen(s);
	a->restoring = (cur = history_current(a->history)) != NULL;
	(void)snprintf(a->restore, sizeof(a->restore), "%s",
	    a->restoring ? cur : "");
}

/* Something not saved yet is in the history: the save wait starts, if
   it has not. */
static void
save_wait_start(struct app *a)
{
	if (a->dirty_since < 0)
		a->dirty_since = session_clock_ms();
}

void
app_set_current(struct app *a, const char *conv)
{
	if (a->history != NULL &&
	    history_set_current(a->history, conv) == 0 &&
	    history_dirty(a->history))
		save_wait_start(a);
}

int
app_restore(struct app *a, const struct session *s,
    const struct session_event *ev, const char **conv)
{
	if (ev->kind != SESSION_EV_BACKLOG_END || !a->restoring)
		return 0;
	a->restoring = 0;
	*conv = a->restore;
	return a->restore[0] == '@' || session_in_room(s, a->restore) ? 1 :
	    -1;
}

const char *
app_restoring(const struct app *a)
{
	return a->restoring ? a->restore : NULL;
}

int
app_record(struct app *a, const struct session_event *ev)
{
	int r;

	if (a->history == NULL)
		return 0;
	if ((r = history_add_event(a->history, ev)) == 1)
		save_wait_start(a);
	return r < 0 ? r : 0;
}

/*
 * How long a new record waits before the next save (app.h): less while
 * rows of s wait for it to be acknowledged (unless saving fails).
 */
static int64_t
save_wait_ms(const struct app *a, const struct session *s)
{
	size_t rows = s != NULL ? session_unsaved(s) : 0;
	int64_t w = a->save_cost_ms * APP_SAVE_SLOWER, least = APP_SAVE_MS;

	if (rows > 0 && !a->save_failed)
		least = rows >= SESSION_ACK_ROWS ? 0 : SESSION_ACK_MS;
	if (w > APP_SAVE_MAX_MS)
		w = APP_SAVE_MAX_MS;
	return w > least ? w : least;
}

/* The peer keys of s changed since they were last put in the history. */
static int
keys_changed(const struct app *a, const struct session *s)
{
	return s != NULL && session_peer_keys_gen(s) != a->keys_gen;
}

/* Put the peer keys of s in the history, for the save about to be made. */
static int
keys_put(struct app *a, const struct session *s, char *err, size_t errlen)
{
	struct buf state = BUF_INIT;
	uint64_t gen = session_peer_keys_gen(s);
	int r;

	if ((r = session_peer_keys_put(s, &state)) == 0 &&
	    (r = history_set_keys(a->history, buf_data(&state),
	    buf_size(&state))) == 0)
		a->keys_gen = gen;
	else
		(void)snprintf(err, errlen, "history not saved: the peers' "
		    "sender keys: %s", err_str(r));
	buf_free(&state);
	return r;
}

int
app_save(struct app *a, struct session *s, int64_t now_ms, int force,
    char *err, size_t errlen)
{
	int64_t t0;
	int r;

	if (a->history == NULL)
		return 0;
	if (!history_dirty(a->history) && !keys_changed(a, s)) {
		/* Rows handled without a record nor a new key (refused,
		   dropped), or saved by an export: on disk as far as they
		   go. */
		if (s != NULL && session_unsaved(s) > 0)
			session_history_saved(s);
		return 0;
	}
	/* A 1015 row adds no record: its key waits for a save all the same
	   before the row is acknowledged. */
	if (a->dirty_since < 0)
		a->dirty_since = now_ms;
	if (!force && now_ms - a->dirty_since < save_wait_ms(a, s))
		return 0;
	if (keys_changed(a, s) && (r = keys_put(a, s, err, errlen)) != 0)
		return r;
	t0 = session_clock_ms();
	r = history_save(a->history, err, errlen);
	a->save_cost_ms = session_clock_ms() - t0;
	a->save_failed = r != 0;
	/* A failed save is tried again after another wait; after one that
	   worked, the next record starts the wait anew. */
	a->dirty_since = r != 0 ? now_ms : -1;
	if (r == 0 && s != NULL)
		session_history_saved(s);
	return r;
}

int
app_file(struct app *a, int op, const char *file, size_t *added, char *err,
    size_t errlen)
{
	int r;

	*added = 0;
	if (a->history == NULL) {
		(void)snprintf(err, errlen, "no history this session (it did "
		    "not open)");
		return E_STATE;
	}
	if ((r = app_save(a, NULL, session_clock_ms(), 1, err, errlen)) != 0)
		return r;
	if (op == 'i')
		return history_import(a->history, file, added, err, errlen);
	if (op == 't')
		return history_export_text(a->history, file, err, errlen);
	return history_export_json(a->history, file, err, errlen);
}

int64_t
app_save_timeout(const struct app *a, const struct session *s,
    int64_t now_ms)
{
	int64_t left;

	if (a->history == NULL)
		return -1;
	if (!history_dirty(a->history) && !keys_changed(a, s))
		return s != NULL && session_unsaved(s) > 0 ? 0 : -1;
	/* app_save() starts the wait. */
	if (a->dirty_since < 0)
		return keys_changed(a, s) ? 0 : -1;
	left = a->dirty_since + save_wait_ms(a, s) - now_ms;
	return left > 0 ? left : 0;
}

void
app_free(struct app *a)
{
	history_close(a->history);
	a->history = NULL;
	secret_free(a->password);
	a->password = NULL;
	EVP_PKEY_free(a->key);
	EVP_PKEY_free(a->server);
	a->key = a->server = NULL;
	a->restoring = 0;
	if (a->have_cfg)
		client_config_free(&a->cfg);
	a->have_cfg = 0;
}
